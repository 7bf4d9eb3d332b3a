#![allow(clippy::unwrap_used)]

mod common;

use birdproto::limit::{Limit, LimitAction};
use birdproto::{PState, ProtoRegistry};
use common::*;

fn run(action: LimitAction) -> (birdproto::ProtoHandle, birdtable::Table, birdloop::ThreadGroup) {
    let g = group();
    let t = table(&g, "master4");
    let reg = ProtoRegistry::new(&g);
    let mut cfg = manual_cfg("m1", &t, PState::Up, PState::Down);
    cfg.channels[0].import_limit = Some(Limit::new(2, action));
    let h = reg.spawn(cfg);
    settle(&g);
    push_routes(&h, 1, 3);
    settle(&g);
    (h, t, g)
}

#[test]
fn import_limit_warn() {
    let (h, t, g) = run(LimitAction::Warn);
    let s = h.state().unwrap();
    assert_eq!(s.state, PState::Up);
    assert_eq!(table_routes(&t), 3);
    let l = s.channels[0].import_limit.unwrap();
    assert!(l.hit);
    assert_eq!(l.limit, Limit::new(2, LimitAction::Warn));
    // Withdrawing below the limit ends the episode.
    h.exec(|_, ctx| {
        ctx.withdraw(0, net("10.1.0.0/24"));
        ctx.withdraw(0, net("10.1.1.0/24"));
        ctx.announce_state();
    });
    settle(&g);
    let s = h.state().unwrap();
    assert!(!s.channels[0].import_limit.unwrap().hit);
    assert_eq!(s.channels[0].counters.routes().imported, 1);
}

#[test]
fn import_limit_block() {
    let (h, t, g) = run(LimitAction::Block);
    let s = h.state().unwrap();
    assert_eq!(s.state, PState::Up);
    assert_eq!(table_routes(&t), 2);
    let st = s.channels[0].counters.stats().import_updates;
    assert_eq!((st.received, st.accepted, st.limit), (3, 2, 1));
    // Replacing a route already there is never blocked.
    push_routes(&h, 1, 2);
    settle(&g);
    let st = h.state().unwrap().channels[0].counters.stats().import_updates;
    assert_eq!((st.received, st.limit, st.ignored), (5, 1, 2));
}

#[test]
fn import_limit_disable() {
    let (h, t, _g) = run(LimitAction::Disable);
    let s = h.state().unwrap();
    assert_eq!(
        (s.state, s.disabled, s.message.as_deref()),
        (PState::Down, true, Some("Import limit exceeded"))
    );
    assert_eq!(table_routes(&t), 0);
}

#[test]
fn import_limit_restart() {
    // Within 5 s of creation the restart is refused and the protocol disabled instead.
    let (h, _t, _g) = run(LimitAction::Restart);
    let s = h.state().unwrap();
    assert_eq!(
        (s.state, s.disabled, s.message.as_deref()),
        (PState::Down, true, Some("Too frequent restarts"))
    );
}

#[test]
fn receive_limit_counts_filtered_routes() {
    let g = group();
    let t = table(&g, "master4");
    let reg = ProtoRegistry::new(&g);
    let mut cfg = manual_cfg("m1", &t, PState::Up, PState::Down);
    cfg.channels[0].receive_limit = Some(Limit::new(2, LimitAction::Block));
    cfg.channels[0].keep_filtered = true;
    cfg.channels[0].import_filter = birdproto::filter::reject_all();
    let h = reg.spawn(cfg);
    settle(&g);
    push_routes(&h, 1, 3);
    settle(&g);
    let c = h.state().unwrap().channels[0].counters.clone();
    assert_eq!(c.routes().filtered, 2);
    assert_eq!(c.routes().imported, 0);
    let st = c.stats().import_updates;
    // As in BIRD (the receive limit is checked by the table, after the import filter): the third route is
    // counted as filtered, then blocked by the limit.
    assert_eq!((st.received, st.filtered, st.rx_limit), (3, 3, 1));
    assert_eq!(table_routes(&t), 2, "kept as filtered");
    assert!(t.best(&net("10.1.0.0/24")).is_none(), "filtered routes are never best");
}
