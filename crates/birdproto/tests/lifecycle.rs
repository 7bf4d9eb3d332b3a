mod common;

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
    assert_eq!(s.state, PState::Up);
    assert_eq!(s.state_name(), "up");
    assert_eq!(s.table, "master4");
    assert_eq!(table_routes(&t), 3);
    let c = &s.channels[0];
    assert_eq!(c.counters.routes().imported, 3);
    assert_eq!(c.counters.stats().import_updates.accepted, 3);
    h.disable(None);
    settle(&g);
    assert_eq!(h.state().unwrap().state, PState::Down);
    assert_eq!(table_routes(&t), 0);
}

