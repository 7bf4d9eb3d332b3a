//! Table basics: best selection, withdraw, refresh, counts, lookups, pipe collisions.
#![allow(clippy::unwrap_used)]

mod common;

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use birdnet::NetType;
use birdtable::route::FLAG_FILTERED;
use birdtable::{ImportResult, PlainClass, Route, RouteSrc, Source, Table, TableConfig};
use common::*;

fn table(name: &str) -> (birdloop::ThreadGroup, Table) {
    let g = det_group(name);
    let t = Table::new(TableConfig::new(name, NetType::Ipv4), &g);
    (g, t)
}

#[test]
fn best_is_highest_preference_then_class_comparison() {
    let (_g, t) = table("best");
    let imp = t.add_importer("p");
    let s1 = Source::new("s1", metric_class());
    let s2 = Source::new("s2", metric_class());
    let s3 = Source::new("s3", metric_class());
    let (a, b, c) = (RouteSrc::new(&s1, 0), RouteSrc::new(&s2, 0), RouteSrc::new(&s3, 0));
    let n = net("10.0.0.0/8");

    assert_eq!(imp.import(n, Route::new(a.clone(), attrs(10), 100)), ImportResult::Added);
    assert_eq!(t.best(&n).unwrap().src(), &a);
    // Lower metric wins at equal preference.
    assert_eq!(imp.import(n, Route::new(b.clone(), attrs(5), 100)), ImportResult::Added);
    assert_eq!(t.best(&n).unwrap().src(), &b);
    // Higher preference beats any metric.
    assert_eq!(imp.import(n, Route::new(c.clone(), attrs(50), 200)), ImportResult::Added);
    assert_eq!(t.best(&n).unwrap().src(), &c);
    let order: Vec<u32> = t.routes(&n).iter().map(metric).collect();
    assert_eq!(order, [50, 5, 10]);

    // Replacing c with a worse route re-sorts.
    assert_eq!(imp.import(n, Route::new(c.clone(), attrs(50), 90)), ImportResult::Updated);
    let order: Vec<u32> = t.routes(&n).iter().map(metric).collect();
    assert_eq!(order, [5, 10, 50]);
    assert_eq!(t.stats().routes, 3);
    assert_eq!(t.stats().nets, 1);
    assert_eq!(imp.stats().routes, 3);
    assert_eq!(s1.routes() + s2.routes() + s3.routes(), 3);
}

#[test]
fn equal_routes_keep_insertion_order_and_filtered_never_win() {
    let (_g, t) = table("ties");
    let imp = t.add_importer("p");
    let plain: Arc<dyn birdtable::RouteClass> = Arc::new(PlainClass);
    let srcs: Vec<RouteSrc> =
        (0..3).map(|i| RouteSrc::new(&Source::new(format!("s{i}"), plain.clone()), 0)).collect();
    let n = net("192.0.2.0/24");
    imp.import(n, Route::new(srcs[0].clone(), attrs(1), 100).with_flags(FLAG_FILTERED));
    assert!(t.best(&n).is_none(), "a filtered route is never best");
    imp.import(n, Route::new(srcs[1].clone(), attrs(1), 100));
    imp.import(n, Route::new(srcs[2].clone(), attrs(1), 100));
    let rs = t.routes(&n);
    assert_eq!(rs[0].src(), &srcs[1], "older of two equal routes first");
    assert_eq!(rs[1].src(), &srcs[2]);
    assert_eq!(rs[2].src(), &srcs[0], "filtered last");
}

#[test]
fn withdraw_and_counts() {
    let (_g, t) = table("withdraw");
    let imp = t.add_importer("p");
    let s = Source::new("s", metric_class());
    let a = RouteSrc::new(&s, 1);
    let b = RouteSrc::new(&s, 2);
    let n = net("10.1.0.0/16");
    assert_eq!(imp.withdraw(n, &a), ImportResult::NotFound);
    imp.import(n, Route::new(a.clone(), attrs(1), 100));
    imp.import(n, Route::new(b.clone(), attrs(2), 100));
    assert_eq!(t.best(&n).unwrap().src(), &a);
    assert_eq!(imp.withdraw(n, &a), ImportResult::Withdrawn);
    assert_eq!(imp.withdraw(n, &a), ImportResult::NotFound);
    assert_eq!(t.best(&n).unwrap().src(), &b);
    assert_eq!(imp.withdraw(n, &b), ImportResult::Withdrawn);
    assert!(t.best(&n).is_none());
    assert_eq!(t.stats().routes, 0);
    assert_eq!(t.stats().nets, 0);
    assert_eq!(t.indexed_nets(), 0, "without subscribers an empty net leaves the index at once");
    assert_eq!(t.route_ids_in_use(), 0);
    assert_eq!(s.routes(), 0);
    let st = imp.stats();
    assert_eq!((st.added, st.withdrawn, st.routes), (2, 2, 0));
}

#[test]
fn identical_reimport_only_refreshes() {
    let (_g, t) = table("same");
    let imp = t.add_importer("p");
    let s = Source::new("s", metric_class());
    let a = RouteSrc::new(&s, 0);
    let n = net("10.2.0.0/16");
    let at = attrs(7);
    assert_eq!(imp.import(n, Route::new(a.clone(), at.clone(), 100)), ImportResult::Added);
    let id = t.best(&n).unwrap().id();
    assert_eq!(imp.import(n, Route::new(a.clone(), at.clone(), 100)), ImportResult::Refreshed);
    assert_eq!(t.best(&n).unwrap().id(), id, "same stored route");
    assert_eq!(imp.import(n, Route::new(a.clone(), at, 101)), ImportResult::Updated);
    assert_ne!(t.best(&n).unwrap().id(), id);
    assert_eq!(t.stats().changes, 2);
}

#[test]
fn refresh_prunes_routes_not_reimported() {
    let (g, t) = table("refresh");
    let imp = t.add_importer("p");
    let other = t.add_importer("q");
    let s = Source::new("s", metric_class());
    let q = Source::new("q", metric_class());
    let srcs: Vec<RouteSrc> = (0..4).map(|i| RouteSrc::new(&s, i)).collect();
    let qs = RouteSrc::new(&q, 0);
    let nets: Vec<_> = (0..10).map(|i| net(&format!("10.{i}.0.0/16"))).collect();
    for n in &nets {
        for (i, src) in srcs.iter().enumerate() {
            imp.import(*n, Route::new(src.clone(), attrs(i as u32), 100));
        }
        other.import(*n, Route::new(qs.clone(), attrs(9), 100));
    }
    imp.refresh_begin();
    // Re-import only path 0 everywhere and path 1 on the first five nets (one of them changed).
    for (k, n) in nets.iter().enumerate() {
        imp.import(*n, Route::new(srcs[0].clone(), attrs(0), 100));
        if k < 5 {
            imp.import(*n, Route::new(srcs[1].clone(), attrs(if k == 0 { 11 } else { 1 }), 100));
        }
    }
    imp.refresh_end();
    g.run_until_idle();
    for (k, n) in nets.iter().enumerate() {
        let mut keys: Vec<u32> =
            t.routes(n).iter().filter(|r| r.src().source() == &s).map(|r| r.src().path_id()).collect();
        keys.sort_unstable();
        assert_eq!(keys, if k < 5 { vec![0, 1] } else { vec![0] }, "net {n}");
        assert_eq!(t.routes(n).iter().filter(|r| r.src() == &qs).count(), 1, "other importer untouched");
    }
    assert_eq!(imp.stats().routes, 15);
}

#[test]
fn route_for_finds_longest_prefix_with_routes() {
    let (g, t) = table("lpm");
    let imp = t.add_importer("p");
    let s = Source::new("s", metric_class());
    let a = RouteSrc::new(&s, 0);
    for p in ["0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.128/25"] {
        imp.import(net(p), Route::new(a.clone(), attrs(1), 100));
    }
    let (n, rs) = t.route_for("10.1.2.3".parse().unwrap()).unwrap();
    assert_eq!((n.to_string(), rs.len()), ("10.1.2.0/24".into(), 1));
    assert_eq!(t.route_for("10.1.2.200".parse().unwrap()).unwrap().0.to_string(), "10.1.2.128/25");
    assert_eq!(t.route_for("10.9.9.9".parse().unwrap()).unwrap().0.to_string(), "10.0.0.0/8");
    assert_eq!(t.route_for("192.0.2.1".parse().unwrap()).unwrap().0.to_string(), "0.0.0.0/0");
    // An emptied net is skipped even while it is still indexed (a subscriber holds its tombstone).
    let (cb, _) = counting_callback("sub");
    let _sub = t.subscribe(birdtable::ExportRequest {
        mode: birdtable::ExportMode::Best,
        prefilter: birdtable::Prefilter::All,
        callback: cb,
    });
    imp.withdraw(net("10.1.2.0/24"), &a);
    assert_eq!(t.indexed_nets(), 5);
    assert_eq!(t.route_for("10.1.2.3".parse().unwrap()).unwrap().0.to_string(), "10.1.0.0/16");
    g.run_until_idle();
    assert!(t.route_for("2001:db8::1".parse().unwrap()).is_none());
}

#[test]
fn same_source_from_another_importer_is_ignored() {
    let (_g, t) = table("collide");
    let a_imp = t.add_importer("a");
    let pipe = t.add_importer("pipe");
    let s = Source::new("s", metric_class());
    let a = RouteSrc::new(&s, 0);
    let n = net("10.3.0.0/16");
    a_imp.import(n, Route::new(a.clone(), attrs(1), 100));
    assert_eq!(pipe.import(n, Route::new(a.clone(), attrs(2), 100)), ImportResult::Ignored);
    assert_eq!(pipe.withdraw(n, &a), ImportResult::Ignored);
    assert_eq!(metric(&t.best(&n).unwrap()), 1, "not replaced");
    assert_eq!(pipe.stats().ignored, 2);
    assert_eq!(t.stats().routes, 1);
}

#[test]
fn walk_sees_every_net_once_and_can_stop() {
    let (_g, t) = table("walk");
    let imp = t.add_importer("p");
    let s = Source::new("s", metric_class());
    let a = RouteSrc::new(&s, 0);
    for i in 0..3000u32 {
        let n =
            birdnet::Net::new_masked(std::net::Ipv4Addr::from(0x0a00_0000 + (i << 8)).into(), 24).unwrap();
        imp.import(n, Route::new(a.clone(), attrs(i % 7), 100));
    }
    let mut seen = 0;
    t.walk(|_, l| {
        assert_eq!(l.routes().len(), 1);
        seen += 1;
        ControlFlow::Continue(())
    });
    assert_eq!(seen, 3000);
    let mut first = 0;
    t.walk(|_, _| {
        first += 1;
        ControlFlow::Break(())
    });
    assert_eq!(first, 1);
    assert_eq!(
        t.feed(birdtable::ExportMode::Best, birdtable::Prefilter::Subnet(net("10.0.0.0/16"))).count(),
        256
    );
    let (n, rs) =
        t.feed(birdtable::ExportMode::All, birdtable::Prefilter::Net(net("10.0.5.0/24"))).next().unwrap();
    assert_eq!((n, rs.len()), (net("10.0.5.0/24"), 1));
}

#[test]
fn wrong_net_type_is_ignored() {
    let (_g, t) = table("v4only");
    let imp = t.add_importer("p");
    let s = Source::new("s", metric_class());
    let r = Route::new(RouteSrc::new(&s, 0), attrs(1), 100);
    assert_eq!(imp.import(net("2001:db8::/32"), r), ImportResult::Ignored);
    assert_eq!(t.stats().routes, 0);
}

#[test]
fn detailed_outcomes_tell_old_route_and_best_change() {
    use birdtable::{Import, ImportOutcome};
    let (_g, t) = table("outcome");
    let imp = t.add_importer("p");
    let s1 = Source::new("s1", metric_class());
    let s2 = Source::new("s2", metric_class());
    let (a, b) = (RouteSrc::new(&s1, 0), RouteSrc::new(&s2, 0));
    let n = net("10.0.0.0/8");
    let o = |result, had_old, old_filtered, best_changed| ImportOutcome {
        result,
        had_old,
        old_filtered,
        best_changed,
        refused: false,
    };

    // A filtered route: nothing before, the best (none) is unchanged.
    let r = imp.import_detailed(n, Route::new(a.clone(), attrs(10), 100).with_flags(FLAG_FILTERED));
    assert_eq!(r, o(ImportResult::Added, false, false, false));
    // Replaced by a valid one: the old was filtered, the best changed.
    let r = imp.import_detailed(n, Route::new(a.clone(), attrs(10), 100));
    assert_eq!(r, o(ImportResult::Updated, true, true, true));
    assert!(!r.had_valid_old() && r == ImportResult::Updated);
    // A worse route of another source: the best stays.
    let r = imp.import_detailed(n, Route::new(b.clone(), attrs(20), 100));
    assert_eq!(r, o(ImportResult::Added, false, false, false));
    // Refresh: had a valid route, nothing changes.
    let same = t.routes(&n)[1].clone();
    let r = imp.import_detailed(n, same);
    assert_eq!(r, o(ImportResult::Refreshed, true, false, false));
    assert!(r.had_valid_old());

    // Admission: refused when adding, not asked for identical re-imports.
    let mut asked = Vec::new();
    let c = RouteSrc::new(&Source::new("s3", metric_class()), 0);
    let r = imp.import_checked(n, Route::new(c.clone(), attrs(1), 100), |h, f| {
        asked.push((h, f));
        false
    });
    assert!(r.refused && r.result == ImportResult::Ignored && !r.best_changed);
    assert_eq!(t.routes(&n).len(), 2, "a refused route is not stored");
    let r = imp.import_checked(n, Route::new(b.clone(), attrs(20), 90), |h, f| {
        asked.push((h, f));
        true
    });
    assert_eq!(r, o(ImportResult::Updated, true, false, false));
    assert_eq!(asked, [(false, false), (true, false)]);

    // Withdrawals: the best one changes the best, a missing one is NotFound.
    assert_eq!(imp.withdraw_detailed(n, &a), o(ImportResult::Withdrawn, true, false, true));
    assert_eq!(imp.withdraw_detailed(n, &a), o(ImportResult::NotFound, false, false, false));

    // Batches report every item in order.
    let mut outs = Vec::new();
    imp.import_batch_detailed(
        [
            Import::Update(n, Route::new(a.clone(), attrs(1), 100).with_flags(FLAG_FILTERED)),
            Import::Withdraw(n, a.clone()),
            Import::Withdraw(n, b.clone()),
        ],
        |x| outs.push(x),
    );
    assert_eq!(
        outs,
        [
            o(ImportResult::Added, false, false, false),
            o(ImportResult::Withdrawn, true, true, false),
            o(ImportResult::Withdrawn, true, false, true),
        ]
    );
    assert_eq!(t.stats().routes, 0);
}

#[test]
fn a_quiet_table_frees_the_lists_it_kept_for_reuse() {
    let (g, t) = table("trim");
    let (a, b) = (t.add_importer("a"), t.add_importer("b"));
    let (sa, sb) = (Source::new("a", metric_class()), Source::new("b", metric_class()));
    let (ra, rb) = (RouteSrc::new(&sa, 0), RouteSrc::new(&sb, 0));
    let nets: Vec<_> = (0..1000u32).map(|i| net(&format!("10.{}.{}.0/24", i / 256, i % 256))).collect();
    for &n in &nets {
        a.import(n, Route::new(ra.clone(), attrs(1), 100));
    }
    g.run_until_idle();
    g.advance(Duration::from_millis(5));
    // Every net's one-route list is replaced by a two-route one: past its grace period, the old
    // memory is kept for the next imports to reuse ...
    for &n in &nets {
        b.import(n, Route::new(rb.clone(), attrs(2), 100));
    }
    let mut held = 0;
    for _ in 0..100 {
        g.run_until_idle();
        birdrcu::synchronize();
        g.advance(Duration::from_millis(1));
        held = held.max(t.list_pool_bytes());
    }
    assert!(held >= 1000 * 48, "the replaced lists are kept while imports go on ({held} bytes)");
    // ... but not once the table has been quiet for a while.
    for _ in 0..10 {
        birdrcu::synchronize();
        g.advance(Duration::from_millis(100));
        g.run_until_idle();
    }
    assert_eq!(t.list_pool_bytes(), 0);
    assert_eq!(t.stats().routes, 2000);
}
