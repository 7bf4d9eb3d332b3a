#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use birdevent::{Callback, Event, EventList};
use birdproto::limit::{Limit, LimitAction};
use birdproto::published::StateUpdate;
use birdproto::{PState, ProtoRegistry};
use common::*;

#[test]
fn static_up_and_down() {
    let g = group();
    let t = table(&g, "master4");
    let reg = ProtoRegistry::new(&g);
    let h = reg.spawn(static_cfg("static1", &t, static_routes(3)));
    settle(&g);
    let s = h.state().unwrap();
    assert_eq!((s.state, s.state_name(), s.proto, s.table.as_str()), (PState::Up, "up", "Static", "master4"));
    assert_eq!(table_routes(&t), 3);
    let c = &s.channels[0];
    assert_eq!((c.state.name(), c.table.as_str(), c.preference), ("UP", "master4", 200));
    assert_eq!((c.input_filter.as_str(), c.output_filter.as_str()), ("ACCEPT", "REJECT"));
    assert_eq!(c.counters.routes().imported, 3);
    assert_eq!(c.counters.stats().import_updates.accepted, 3);
    assert_eq!(h.preferred_routes(&t), 3);
    h.disable(Some("maintenance".into()));
    settle(&g);
    let s = h.state().unwrap();
    assert_eq!((s.state, s.disabled, s.message.as_deref()), (PState::Down, true, Some("maintenance")));
    assert_eq!(s.channels[0].state.name(), "DOWN");
    assert_eq!(table_routes(&t), 0);
    h.enable();
    settle(&g);
    assert_eq!(h.state().unwrap().state, PState::Up);
    assert_eq!(table_routes(&t), 3);
}

fn collect_journal(reg: &ProtoRegistry) -> (birdevent::journal::Recipient<StateUpdate>, Arc<EventList>) {
    let l = EventList::new("sub");
    (reg.states().subscribe(Callback::new(Event::new("sub", || {}), l.clone())), l)
}

fn drain(r: &mut birdevent::journal::Recipient<StateUpdate>, out: &mut Vec<PState>) {
    while let Some(it) = r.get() {
        if let Some(n) = &it.new {
            if out.last() != Some(&n.state) {
                out.push(n.state);
            }
        }
        it.release();
    }
}

#[test]
fn shutdown_during_start_waits_for_the_protocol_and_the_flush() {
    let g = group();
    let t = table(&g, "master4");
    let reg = ProtoRegistry::new(&g);
    let (mut rec, _l) = collect_journal(&reg);
    let h = reg.spawn(manual_cfg("m1", &t, PState::Start, PState::Stop));
    settle(&g);
    assert_eq!(h.state().unwrap().state, PState::Start);
    push_routes(&h, 1, 4); // imports are allowed while starting
    settle(&g);
    assert_eq!(table_routes(&t), 4);
    let (done, fired) = counter_cb();
    h.shutdown(done);
    settle(&g);
    // The protocol has not finished stopping yet.
    assert_eq!(h.state().unwrap().state, PState::Stop);
    assert_eq!(fired.count(), 0);
    assert_eq!(table_routes(&t), 4);
    h.exec(|_, ctx| ctx.notify_state(PState::Down));
    settle(&g);
    assert_eq!(fired.count(), 1);
    assert!(h.state().is_none());
    assert_eq!(table_routes(&t), 0);
    let mut seen = Vec::new();
    drain(&mut rec, &mut seen);
    assert_eq!(seen, [PState::Down, PState::Start, PState::Stop, PState::Flush, PState::Down]);
    // The id is free again once the subscriber passed the removal.
    reg.states().announce();
    assert_eq!(reg.states().register(), h.id());
}

#[test]
fn illegal_notifications_are_ignored() {
    let g = group();
    let t = table(&g, "master4");
    let reg = ProtoRegistry::new(&g);
    let h = reg.spawn(manual_cfg("m1", &t, PState::Up, PState::Down));
    settle(&g);
    h.exec(|_, ctx| ctx.notify_state(PState::Down)); // Down is only accepted from Stop
    settle(&g);
    assert_eq!(h.state().unwrap().state, PState::Up);
    h.exec(|_, ctx| ctx.notify_state(PState::Start)); // half-restart: channels paused, back to START
    settle(&g);
    let s = h.state().unwrap();
    assert_eq!((s.state, s.channels[0].state.name()), (PState::Start, "START"));
    h.exec(|_, ctx| ctx.notify_state(PState::Up));
    settle(&g);
    assert_eq!(h.state().unwrap().state, PState::Up);
}

#[test]
fn restart_limit_disables_after_too_frequent_restarts() {
    let g = group();
    let t = table(&g, "master4");
    let reg = ProtoRegistry::new(&g);
    let mut cfg = manual_cfg("m1", &t, PState::Up, PState::Down);
    cfg.channels[0].import_limit = Some(Limit::new(2, LimitAction::Restart));
    let h = reg.spawn(cfg);
    settle(&g); // 3 s of virtual time
    let created = h.state().unwrap().last_restart;
    g.advance(Duration::from_secs(3)); // 6 s after creation: a restart is allowed
    push_routes(&h, 1, 3);
    settle(&g);
    let s = h.state().unwrap();
    assert_eq!((s.state, s.disabled), (PState::Up, false));
    assert_eq!(s.message.as_deref(), None, "a successful restart clears the message");
    assert!(s.last_restart.saturating_since(created) >= Duration::from_secs(6));
    assert_eq!(table_routes(&t), 0, "the restart flushed the routes");
    // 3 s later: closer than the 5 s restart time limit.
    push_routes(&h, 2, 3);
    settle(&g);
    let s = h.state().unwrap();
    assert_eq!((s.state, s.disabled), (PState::Down, true));
    assert_eq!(s.message.as_deref(), Some("Too frequent restarts"));
    assert_eq!(table_routes(&t), 0);
}

#[test]
fn restart_storm_of_a_static_protocol() {
    // A static protocol whose routes exceed its import limit restarts on every start. With a short restart
    // time limit it keeps restarting (each cycle takes at least 150 ms of virtual time here); with 5 s, the next
    // automatic restart disables it.
    let g = group();
    let t = table(&g, "master4");
    let reg = ProtoRegistry::new(&g);
    let mut cfg = static_cfg("static1", &t, static_routes(3));
    cfg.channels[0].import_limit = Some(Limit::new(2, LimitAction::Restart));
    cfg.restart_time_limit = Duration::from_millis(100);
    cfg.disabled = true;
    let h = reg.spawn(cfg.clone());
    settle(&g);
    h.enable();
    let mut restarts = Vec::new();
    for _ in 0..10 {
        settle_short(&g);
        let s = h.state().unwrap();
        assert!(!s.disabled);
        if restarts.last() != Some(&s.last_restart) {
            restarts.push(s.last_restart);
        }
    }
    assert!(restarts.len() >= 5, "keeps restarting: {restarts:?}");
    cfg.restart_time_limit = Duration::from_secs(5);
    cfg.disabled = false;
    assert_eq!(h.reconfigure(cfg).unwrap(), birdproto::Reconfigured::Applied);
    settle(&g);
    let s = h.state().unwrap();
    assert_eq!(
        (s.state, s.disabled, s.message.as_deref()),
        (PState::Down, true, Some("Too frequent restarts"))
    );
    assert_eq!(table_routes(&t), 0);
}

#[test]
fn state_read_from_another_thread() {
    let g = group();
    let t = table(&g, "master4");
    let reg = ProtoRegistry::new(&g);
    let (mut rec, _l) = collect_journal(&reg);
    let h = reg.spawn(static_cfg("static1", &t, static_routes(2)));
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let (h, stop, seen) = (h.clone(), stop.clone(), seen.clone());
        std::thread::spawn(move || {
            let mut last = 0;
            while !stop.load(Ordering::Relaxed) {
                if let Some(s) = h.state() {
                    assert!(s.version >= last, "versions never go back");
                    assert_eq!(&*s.name, "static1");
                    if s.version > last {
                        last = s.version;
                        seen.lock().unwrap().push(s.state);
                    }
                }
            }
        })
    };
    for _ in 0..50 {
        h.disable(None);
        g.run_until_idle();
        settle_short(&g);
        h.enable();
        g.run_until_idle();
        settle_short(&g);
    }
    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    assert!(seen.lock().unwrap().len() > 1);
    let mut states = Vec::new();
    drain(&mut rec, &mut states);
    assert!(states.len() >= 5 * 50);
    for w in states.windows(2) {
        assert!(w[0].can_go(w[1]), "illegal order {:?} -> {:?}", w[0], w[1]);
    }
}

fn settle_short(g: &birdloop::ThreadGroup) {
    g.advance(Duration::from_millis(150));
    birdrcu::synchronize();
    birdrcu::flush();
    g.advance(Duration::from_millis(150));
}
