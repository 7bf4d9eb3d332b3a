#![allow(dead_code)]

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use birdevent::{Callback, Event, EventList};
use birdloop::{Clock, ThreadGroup, Time};
use birdnet::{Net, NetType};
use birdproto::static_proto::{ConnectedIfaces, StaticConfig, StaticDest, StaticHop, StaticRoute};
use birdproto::{ChannelConfig, ProtoConfig};
use birdtable::attrs::Iface;
use birdtable::{Table, TableConfig};

pub fn group() -> ThreadGroup {
    ThreadGroup::deterministic("test", Clock::virtual_at(Time::from_nanos(1_000_000_000))).unwrap()
}

pub fn table(g: &ThreadGroup, name: &str) -> Table {
    Table::new(TableConfig::new(name, NetType::Ipv4), g)
}

pub fn net(s: &str) -> Net {
    s.parse().unwrap()
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn ifaces() -> Arc<ConnectedIfaces> {
    Arc::new(ConnectedIfaces(vec![
        (Iface::new("vethA", 2), vec![net("192.0.2.0/24")]),
        (Iface::new("vethB", 3), vec!["2001:db8:1::/64".parse().unwrap()]),
    ]))
}

pub fn static_routes(n: usize) -> Vec<StaticRoute> {
    (0..n)
        .map(|i| {
            StaticRoute::new(
                net(&format!("10.{i}.0.0/16")),
                StaticDest::Via(vec![StaticHop::via(ip("192.0.2.254"))]),
            )
        })
        .collect()
}

pub fn static_cfg(name: &str, t: &Table, routes: Vec<StaticRoute>) -> ProtoConfig {
    let kind = Arc::new(StaticConfig { routes, resolver: ifaces() });
    ProtoConfig::new(name, kind, vec![ChannelConfig::new("ipv4", t, 200)])
}

/// Run until idle, moving virtual time forward so settle timers fire.
pub fn settle(g: &ThreadGroup) {
    // The deterministic group does not run RCU-deferred drops by itself (the table retires routes through
    // RCU, and a protocol's source is released only when the last of them is dropped): let a grace period
    // pass and run them between steps, as worker threads do before they sleep.
    for _ in 0..20 {
        g.advance(Duration::from_millis(150));
        birdrcu::synchronize();
        birdrcu::flush();
    }
}

/// A callback counting its activations; nobody runs its list, so call [`Fired::count`] to run it.
pub fn counter_cb() -> (Callback, Fired) {
    let n = Arc::new(AtomicUsize::new(0));
    let m = n.clone();
    let list = EventList::new("count");
    let cb = Callback::new(
        Event::new("count", move || {
            m.fetch_add(1, Ordering::SeqCst);
        }),
        list.clone(),
    );
    (cb, Fired(list, n))
}

pub struct Fired(Arc<EventList>, Arc<AtomicUsize>);

impl Fired {
    pub fn count(&self) -> usize {
        self.0.run(100);
        self.1.load(Ordering::SeqCst)
    }
}

pub fn table_routes(t: &Table) -> usize {
    t.stats().routes as usize
}

/// A protocol driven by the test: `start`/`shutdown` return what it is told, routes come through `exec`.
pub struct Manual {
    pub start_to: birdproto::PState,
    pub stop_to: birdproto::PState,
}

#[derive(Clone, Copy)]
pub struct ManualKind {
    pub start_to: birdproto::PState,
    pub stop_to: birdproto::PState,
}

impl birdproto::ProtoKind for ManualKind {
    fn type_name(&self) -> &'static str {
        "Manual"
    }
    fn create(&self, _: &ProtoConfig) -> Box<dyn birdproto::Protocol> {
        Box::new(Manual { start_to: self.start_to, stop_to: self.stop_to })
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl birdproto::Protocol for Manual {
    fn start(&mut self, _: &mut birdproto::ProtoCtx<'_>) -> birdproto::PState {
        self.start_to
    }
    fn shutdown(&mut self, _: &mut birdproto::ProtoCtx<'_>) -> birdproto::PState {
        self.stop_to
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

pub fn manual_cfg(
    name: &str,
    t: &Table,
    start_to: birdproto::PState,
    stop_to: birdproto::PState,
) -> ProtoConfig {
    ProtoConfig::new(
        name,
        Arc::new(ManualKind { start_to, stop_to }),
        vec![ChannelConfig::new("ipv4", t, 100)],
    )
}

/// Import `n` blackhole routes `10.<base>.<i>.0/24` through channel 0 of a `Manual` protocol.
pub fn push_routes(h: &birdproto::ProtoHandle, base: u8, n: u8) {
    h.exec(move |_, ctx| {
        for i in 0..n {
            let a = birdtable::attrs::AttrSet::new(
                birdtable::attrs::RouteSource::Static,
                birdtable::attrs::Dest::Blackhole,
            )
            .intern();
            ctx.import(0, net(&format!("10.{base}.{i}.0/24")), a);
        }
    });
}
