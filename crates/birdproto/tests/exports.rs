//! Channel exports: the accepted/rejected marks, export limits, `reload out`, refeeds on export-filter
//! changes through reconfiguration, and merged (ECMP) exports.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use birdnet::Net;
use birdproto::filter::{accept_all, reject_all, FnFilter, Verdict};
use birdproto::limit::{Limit, LimitAction};
use birdproto::{ChannelConfig, PState, ProtoConfig, ProtoCtx, ProtoHandle, ProtoRegistry, Reconfigured};
use birdtable::attrs::{AttrSet, Dest, Iface, NextHop, RouteSource};
use birdtable::{ExportMode, ImportHandle, Route, RouteClass, RouteSrc, Source, Table};
use common::*;

/// What the exporting protocol was told.
#[derive(Default)]
struct Rec {
    view: BTreeMap<Net, Route>,
    announces: usize,
    withdraws: usize,
    /// Withdrawals of nets the protocol did not have (must never happen).
    bogus: usize,
}

#[derive(Clone)]
struct RecorderKind(Arc<Mutex<Rec>>);

struct Recorder(Arc<Mutex<Rec>>);

impl birdproto::ProtoKind for RecorderKind {
    fn type_name(&self) -> &'static str {
        "Recorder"
    }
    fn create(&self, _: &ProtoConfig) -> Box<dyn birdproto::Protocol> {
        Box::new(Recorder(self.0.clone()))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl birdproto::Protocol for Recorder {
    fn start(&mut self, _: &mut ProtoCtx<'_>) -> PState {
        PState::Up
    }
    fn rt_notify(
        &mut self,
        _: &mut ProtoCtx<'_>,
        _: usize,
        net: Net,
        new: Option<&Route>,
        old: Option<&Route>,
    ) {
        let mut r = self.0.lock().unwrap();
        match new {
            Some(n) => {
                r.announces += 1;
                r.view.insert(net, n.clone());
            }
            None => {
                r.withdraws += 1;
                if r.view.remove(&net).is_none() || old.is_none() {
                    r.bogus += 1;
                }
            }
        }
    }
    fn reconfigure(&mut self, _: &mut ProtoCtx<'_>, _: &ProtoConfig) -> Reconfigured {
        Reconfigured::Same
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

fn n(i: u32) -> Net {
    Net::new_masked(std::net::Ipv4Addr::from(0x0a00_0000 + (i << 8)).into(), 24).unwrap()
}

fn blackhole() -> birdtable::attrs::Attrs {
    AttrSet::new(RouteSource::Static, Dest::Blackhole).intern()
}

struct Fixture {
    g: birdloop::ThreadGroup,
    t: Table,
    imp: ImportHandle,
    src: RouteSrc,
    rec: Arc<Mutex<Rec>>,
    reg: ProtoRegistry,
}

fn fixture(routes: u32) -> Fixture {
    let g = group();
    let t = table(&g, "master4");
    let imp = t.add_importer("feeder");
    let src = RouteSrc::new(&Source::new("feeder", Arc::new(birdtable::PlainClass)), 0);
    for i in 0..routes {
        imp.import(n(i), Route::new(src.clone(), blackhole(), 100));
    }
    let reg = ProtoRegistry::new(&g);
    Fixture { g, t, imp, src, rec: Arc::new(Mutex::new(Rec::default())), reg }
}

fn exporter_cfg(f: &Fixture, ch: ChannelConfig) -> ProtoConfig {
    ProtoConfig::new("out1", Arc::new(RecorderKind(f.rec.clone())), vec![ch])
}

fn channel(f: &Fixture) -> ChannelConfig {
    ChannelConfig { export_filter: accept_all(), ..ChannelConfig::new("ipv4", &f.t, 100) }
}

fn exported(h: &ProtoHandle) -> u64 {
    h.state().unwrap().channels[0].counters.routes().exported
}

fn view_len(f: &Fixture) -> usize {
    let r = f.rec.lock().unwrap();
    assert_eq!(r.bogus, 0, "withdrawal of something the protocol did not have");
    r.view.len()
}

#[test]
fn export_limit_block_counts_exactly_and_reload_out_refills() {
    let f = fixture(5);
    let mut ch = channel(&f);
    ch.export_limit = Some(Limit::new(3, LimitAction::Block));
    let h = f.reg.spawn(exporter_cfg(&f, ch));
    settle(&f.g);
    assert_eq!((view_len(&f), exported(&h)), (3, 3));
    let s = h.state().unwrap();
    assert!(s.channels[0].export_limit.unwrap().hit);
    let st = s.channels[0].counters.stats().export_updates;
    assert_eq!((st.received, st.accepted, st.limit), (5, 3, 2));

    // Withdrawing an exported route frees a slot; a withdrawal of a blocked route changes nothing.
    let have: Vec<Net> = f.rec.lock().unwrap().view.keys().copied().collect();
    let blocked: Vec<Net> = (0..5).map(n).filter(|x| !have.contains(x)).collect();
    f.imp.withdraw(have[0], &f.src);
    f.imp.withdraw(blocked[0], &f.src);
    settle(&f.g);
    assert_eq!((view_len(&f), exported(&h)), (2, 2));
    // The same withdrawal again (a duplicate) is a no-op for the limit's count.
    f.imp.withdraw(have[0], &f.src);
    settle(&f.g);
    assert_eq!(exported(&h), 2);

    // `reload out` offers every route again: the remaining blocked one fills the slot.
    h.reload(birdproto::ReloadDir::Out);
    settle(&f.g);
    assert_eq!((view_len(&f), exported(&h)), (3, 3));
    let r = f.rec.lock().unwrap();
    assert!(r.view.contains_key(&blocked[1]));
    assert_eq!(r.withdraws, 1);
}

#[test]
fn export_limit_restart_and_disable() {
    // `restart` restarts, hits the limit again at once and is disabled by the restart gate.
    for (action, msg) in
        [(LimitAction::Disable, "Export limit exceeded"), (LimitAction::Restart, "Too frequent restarts")]
    {
        let f = fixture(4);
        let mut ch = channel(&f);
        ch.export_limit = Some(Limit::new(2, action));
        let h = f.reg.spawn(exporter_cfg(&f, ch));
        settle(&f.g);
        let s = h.state().unwrap();
        assert_eq!(
            (s.state, s.disabled, s.message.as_deref()),
            (PState::Down, true, Some(msg)),
            "{action:?}"
        );
        assert!(view_len(&f) <= 2, "never more than the limit exported");
    }
}

#[test]
fn reload_out_during_withdrawals_keeps_the_view_exact() {
    let f = fixture(300);
    let h = f.reg.spawn(exporter_cfg(&f, channel(&f)));
    settle(&f.g);
    assert_eq!((view_len(&f), exported(&h)), (300, 300));
    // Withdraw half while the refeed runs: none of them may linger in the protocol.
    h.reload(birdproto::ReloadDir::Out);
    for i in 0..150 {
        f.imp.withdraw(n(i * 2), &f.src);
    }
    settle(&f.g);
    assert_eq!((view_len(&f), exported(&h)), (150, 150));
    assert_eq!(f.rec.lock().unwrap().withdraws, 150);
    assert!(f.rec.lock().unwrap().view.keys().all(|x| !(0..150).any(|i| *x == n(i * 2))));
}

#[test]
fn export_filter_change_refeeds_through_reconfigure() {
    let f = fixture(10);
    let even = |name: &str| {
        FnFilter::new(name.to_owned(), |r| {
            let Net::Ip4(p) = r.net() else { return Verdict::Reject };
            if (u32::from(p.addr()) >> 8) % 2 == 0 {
                Verdict::Accept
            } else {
                Verdict::Reject
            }
        })
    };
    let mut ch = channel(&f);
    ch.export_filter = even("even");
    let h = f.reg.spawn(exporter_cfg(&f, ch.clone()));
    settle(&f.g);
    assert_eq!((view_len(&f), exported(&h)), (5, 5));

    // Everything.
    let mut all = ch.clone();
    all.export_filter = accept_all();
    assert_eq!(h.reconfigure(exporter_cfg(&f, all)).unwrap(), Reconfigured::Applied);
    settle(&f.g);
    assert_eq!((view_len(&f), exported(&h)), (10, 10));

    // Back to even: the odd ones are withdrawn.
    assert_eq!(h.reconfigure(exporter_cfg(&f, ch.clone())).unwrap(), Reconfigured::Applied);
    settle(&f.g);
    assert_eq!((view_len(&f), exported(&h)), (5, 5));
    assert_eq!(f.rec.lock().unwrap().withdraws, 5);

    // `none`: everything is withdrawn and the channel unsubscribes.
    let mut none = ch;
    none.export_filter = reject_all();
    assert_eq!(h.reconfigure(exporter_cfg(&f, none)).unwrap(), Reconfigured::Applied);
    settle(&f.g);
    assert_eq!((view_len(&f), exported(&h)), (0, 0));
    assert_eq!(f.t.subscriptions(), 0);
    // New routes are not exported any more.
    f.imp.import(n(50), Route::new(f.src.clone(), blackhole(), 100));
    settle(&f.g);
    assert_eq!(view_len(&f), 0);
}

struct Ecmp;

impl RouteClass for Ecmp {
    fn name(&self) -> &'static str {
        "ecmp"
    }
    fn mergeable(&self, _: &Route, _: &Route) -> bool {
        true
    }
}

#[test]
fn merged_channels_get_the_ecmp_set_as_one_route() {
    let f = fixture(0);
    let class: Arc<dyn RouteClass> = Arc::new(Ecmp);
    let (s1, s2) = (Source::new("e1", class.clone()), Source::new("e2", class));
    let (a, b) = (RouteSrc::new(&s1, 0), RouteSrc::new(&s2, 0));
    let via = |ip: &str| {
        AttrSet::new(RouteSource::Static, Dest::one(NextHop::via(ip.parse().unwrap(), Iface::new("eth0", 2))))
            .intern()
    };
    f.imp.import(n(1), Route::new(a.clone(), via("192.0.2.1"), 100));
    let h = f.reg.spawn(exporter_cfg(&f, channel(&f).merge_paths(None)));
    settle(&f.g);
    let hops = |f: &Fixture| f.rec.lock().unwrap().view.get(&n(1)).map(|r| r.attrs().dest.next_hops().len());
    assert_eq!(hops(&f), Some(1));
    // A second equal path: the protocol gets one route with both next hops.
    f.imp.import(n(1), Route::new(b.clone(), via("192.0.2.2"), 100));
    settle(&f.g);
    assert_eq!(hops(&f), Some(2));
    assert_eq!(exported(&h), 1);
    // The best path goes: one next hop again, still one exported route.
    f.imp.withdraw(n(1), &a);
    settle(&f.g);
    assert_eq!(hops(&f), Some(1));
    assert_eq!(exported(&h), 1);
    f.imp.withdraw(n(1), &b);
    settle(&f.g);
    assert_eq!((hops(&f), exported(&h)), (None, 0));
    assert_eq!(f.rec.lock().unwrap().bogus, 0);
}

#[test]
fn merge_limit_caps_the_paths() {
    let f = fixture(0);
    let class: Arc<dyn RouteClass> = Arc::new(Ecmp);
    for i in 0..4u32 {
        let s = RouteSrc::new(&Source::new(format!("e{i}"), class.clone()), 0);
        let a = AttrSet::new(
            RouteSource::Static,
            Dest::one(NextHop::via(format!("192.0.2.{}", i + 1).parse().unwrap(), Iface::new("eth0", 2))),
        )
        .intern();
        f.imp.import(n(1), Route::new(s, a, 100));
    }
    let mut best_only = channel(&f);
    best_only.export_mode = Some(ExportMode::Best);
    let _h = f.reg.spawn(exporter_cfg(&f, channel(&f).merge_paths(Some(3))));
    settle(&f.g);
    let r = f.rec.lock().unwrap();
    assert_eq!(r.view.get(&n(1)).unwrap().attrs().dest.next_hops().len(), 3);
}
