#![allow(clippy::unwrap_used)]

mod common;

use birdproto::filter::accept_all;
use birdproto::pipe::{PipeConfig, DEFAULT_MAX_GENERATION};
use birdproto::{PState, ProtoRegistry};
use common::*;

#[test]
fn pipe_chain_teardown_releases_everything() {
    let g = group();
    let (a, b, c) = (table(&g, "ta"), table(&g, "tb"), table(&g, "tc"));
    let reg = ProtoRegistry::new(&g);
    let st = reg.spawn(static_cfg("static1", &a, static_routes(50)));
    let ab =
        reg.spawn(PipeConfig::proto_config("ab", &a, &b, accept_all(), accept_all(), DEFAULT_MAX_GENERATION));
    let bc =
        reg.spawn(PipeConfig::proto_config("bc", &b, &c, accept_all(), accept_all(), DEFAULT_MAX_GENERATION));
    settle(&g);
    for t in [&a, &b, &c] {
        assert_eq!(table_routes(t), 50, "table {}", t.name());
    }
    let s = ab.state().unwrap();
    assert_eq!((s.table.as_str(), s.info.as_str()), ("---", "ta <=> tb"));
    assert_eq!(s.channels[0].peer_table.as_deref(), Some("tb"));
    // Piped copies keep the source and count generations.
    let r = c.best(&net("10.7.0.0/16")).unwrap();
    assert_eq!(r.generation(), 2);
    assert_eq!(r.src().source().name(), "static1");
    assert_eq!(r.pref(), 200);
    drop(r); // a route handle held here would (rightly) keep static1 from reaching DOWN

    // Remove the first protocol while routes still flow: re-announce half of them by reloading, and
    // shut down in the same step.
    let mut moved = static_routes(50).split_off(25);
    moved.extend((0..25).map(|i| {
        birdproto::static_proto::StaticRoute::new(
            net(&format!("172.16.{i}.0/24")),
            birdproto::static_proto::StaticDest::Blackhole,
        )
    }));
    let new_cfg = static_cfg("static1", &a, moved);
    assert_eq!(st.reconfigure(new_cfg).unwrap(), birdproto::Reconfigured::Applied);
    st.reload(birdproto::ReloadDir::In);
    let (done, n) = counter_cb();
    assert!(reg.remove("static1", done));
    let (done_ab, n_ab) = counter_cb();
    let (done_bc, n_bc) = counter_cb();
    g.run_until_idle();
    settle(&g);
    assert_eq!(n.count(), 1, "static1 reached DOWN and was removed");
    assert!(st.state().is_none());
    for t in [&a, &b, &c] {
        assert_eq!(table_routes(t), 0, "table {}", t.name());
    }
    ab.shutdown(done_ab);
    bc.shutdown(done_bc);
    settle(&g);
    assert_eq!((n_ab.count(), n_bc.count()), (1, 1));
    assert!(reg.states().get(ab.id()).is_none());
    for t in [&a, &b, &c] {
        assert_eq!((t.importers(), t.route_ids_in_use(), t.indexed_nets()), (0, 0, 0), "table {}", t.name());
    }
}

#[test]
fn pipe_loop_is_cut() {
    // Two pipes between the same tables form a loop: routes must not bounce forever.
    let g = group();
    let (a, b) = (table(&g, "ta"), table(&g, "tb"));
    let reg = ProtoRegistry::new(&g);
    let _st = reg.spawn(static_cfg("static1", &a, static_routes(5)));
    let _p1 =
        reg.spawn(PipeConfig::proto_config("p1", &a, &b, accept_all(), accept_all(), DEFAULT_MAX_GENERATION));
    let _p2 =
        reg.spawn(PipeConfig::proto_config("p2", &b, &a, accept_all(), accept_all(), DEFAULT_MAX_GENERATION));
    settle(&g);
    assert_eq!(table_routes(&a), 5);
    assert_eq!(table_routes(&b), 5);
    reg.find("static1").unwrap().disable(None);
    settle(&g);
    assert_eq!(reg.find("static1").unwrap().state().unwrap().state, PState::Down);
    assert_eq!((table_routes(&a), table_routes(&b)), (0, 0));
}
