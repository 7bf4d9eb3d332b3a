//! Lock-order checks: every violation panics before anything is locked, naming both domains.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread;

use birdrcu::level::{Attrs, Meta, Proto, Resource, Rtable, TheBird};
use birdrcu::{lock_depth, Domain, DynDomain, LevelId};

/// Run `f`, expect a panic, and return its message.
fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    if let Some(s) = err.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = err.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        panic!("panic payload is not a string")
    }
}

#[test]
fn in_order_locking_works() {
    let a: Domain<TheBird, u32> = Domain::new("the bird", 0);
    let b: Domain<Proto, u32> = Domain::new("bgp1", 0);
    let c: Domain<Rtable, u32> = Domain::new("table master4", 0);
    let d: Domain<Resource, u32> = Domain::new("cold pages", 0);
    let mut ga = a.lock();
    let mut gb = b.lock();
    let mut gc = c.lock();
    let mut gd = d.lock();
    *ga += 1;
    *gb += 2;
    *gc += 3;
    *gd += 4;
    assert_eq!(lock_depth(), 4);
    assert!(a.is_held() && b.is_held() && c.is_held() && d.is_held());
    drop((gd, gc, gb, ga));
    assert_eq!(lock_depth(), 0);
    assert!(!a.is_held());
    assert_eq!((a.into_inner(), b.into_inner(), c.into_inner(), d.into_inner()), (1, 2, 3, 4));
}

#[test]
fn out_of_order_panics_naming_both_domains() {
    let table: Domain<Rtable, ()> = Domain::new("table master4", ());
    let cache: Domain<Attrs, ()> = Domain::new("attrs cache", ());
    let msg = panic_message(|| {
        let _c = cache.lock();
        let _t = table.lock();
    });
    assert_eq!(
        msg,
        "lock order violation: locking domain \"table master4\" (rtable) while holding \"attrs cache\" (attrs)"
    );
    // Nothing leaked: the stack is empty and the table is free.
    assert_eq!(lock_depth(), 0);
    assert!(!table.is_held() && !cache.is_held());
    drop(table.lock());
}

#[test]
fn out_of_order_names_the_latest_held_domain() {
    let meta: Domain<Meta, ()> = Domain::new("meta 1", ());
    let proto: Domain<Proto, ()> = Domain::new("ospf1", ());
    let attrs: Domain<Attrs, ()> = Domain::new("attrs cache", ());
    let msg = panic_message(|| {
        let _m = meta.lock();
        let _a = attrs.lock();
        let _p = proto.lock();
    });
    assert!(msg.contains("locking domain \"ospf1\" (proto) while holding \"attrs cache\" (attrs)"), "{msg}");
    assert_eq!(lock_depth(), 0);
}

#[test]
#[should_panic(
    expected = "lock order violation: locking domain \"bgp2\" (proto) while holding \"bgp1\" (proto): two domains of one level"
)]
fn two_domains_of_one_level_panic() {
    let a: Domain<Proto, ()> = Domain::new("bgp1", ());
    let b: Domain<Proto, ()> = Domain::new("bgp2", ());
    let _ga = a.lock();
    let _gb = b.lock();
}

#[test]
fn relock_panics_instead_of_deadlocking() {
    let a: Domain<Rtable, u8> = Domain::new("table master6", 0);
    let msg = panic_message(|| {
        let _g1 = a.lock();
        let _g2 = a.lock();
    });
    assert_eq!(
        msg,
        "lock order violation: relocking domain \"table master6\" (rtable) while holding \"table master6\" (rtable): the same domain"
    );
    assert!(!a.is_held());
}

#[test]
fn dyn_and_static_domains_share_the_stack() {
    let s: Domain<Attrs, ()> = Domain::new("static attrs", ());
    let d = DynDomain::new("dyn attrs", LevelId::Attrs, ());
    let early = DynDomain::new("dyn proto", LevelId::Proto, ());
    assert_eq!(d.level(), LevelId::Attrs);
    let msg = panic_message(|| {
        let _s = s.lock();
        let _d = d.lock();
    });
    assert!(msg.contains("\"dyn attrs\" (attrs) while holding \"static attrs\" (attrs)"), "{msg}");
    let msg = panic_message(|| {
        let _d = d.lock();
        let _e = early.lock();
    });
    assert!(msg.contains("\"dyn proto\" (proto) while holding \"dyn attrs\" (attrs)"), "{msg}");
    let _e = early.lock();
    let _d = d.lock();
    assert_eq!(lock_depth(), 2);
}

/// Unlocking out of LIFO order is allowed; the stack keeps "last locked" as the latest level still held.
#[test]
fn unlock_out_of_lifo_order_keeps_bookkeeping_exact() {
    let meta: Domain<Meta, ()> = Domain::new("meta 1", ());
    let proto: Domain<Proto, ()> = Domain::new("bgp1", ());
    let table: Domain<Rtable, ()> = Domain::new("table master4", ());
    let cache: Domain<Attrs, ()> = Domain::new("attrs cache", ());

    let gm = meta.lock();
    let gt = table.lock();
    drop(gm); // not the last one locked
    assert_eq!(lock_depth(), 1);
    assert!(!meta.is_held() && table.is_held());

    // The table is still held, so proto (and meta) are still out of order ...
    let msg = panic_message(|| drop(proto.lock()));
    assert!(msg.contains("\"bgp1\" (proto) while holding \"table master4\" (rtable)"), "{msg}");
    let msg = panic_message(|| drop(meta.lock()));
    assert!(msg.contains("\"meta 1\" (meta) while holding \"table master4\" (rtable)"), "{msg}");
    // ... and later levels are fine.
    let gc = cache.lock();
    drop(gt);
    // Now only attrs is held: proto is still too early.
    let msg = panic_message(|| drop(proto.lock()));
    assert!(msg.contains("while holding \"attrs cache\" (attrs)"), "{msg}");
    drop(gc);
    assert_eq!(lock_depth(), 0);
    // Everything is free again, in order.
    let _gm = meta.lock();
    let _gp = proto.lock();
    let _gt = table.lock();
    assert_eq!(lock_depth(), 3);
}

#[test]
fn handles_describe_the_domain() {
    let a: Domain<Rtable, ()> = Domain::new("table master4", ());
    let b: Domain<Rtable, ()> = Domain::new_rcu_lockable("table fast", ());
    let h = a.handle();
    let h2 = h.clone();
    assert!(h.ptr_eq(&h2));
    assert!(!h.ptr_eq(&b.handle()));
    assert_eq!(h.name(), "table master4");
    assert_eq!(h.level(), LevelId::Rtable);
    assert!(!h.is_rcu_lockable());
    assert!(b.handle().is_rcu_lockable());
    assert_eq!(h.to_string(), "\"table master4\" (rtable)");
    assert!(!h.is_held());
    {
        let g = a.lock();
        assert_eq!(g.name(), "table master4");
        assert_eq!(g.level(), LevelId::Rtable);
        assert!(h.is_held());
        // Held by this thread only.
        let h3 = h.clone();
        assert!(!thread::spawn(move || h3.is_held()).join().unwrap());
    }
    assert!(!h.is_held());
    drop(a);
    // The handle outlives the domain.
    assert_eq!(h.name(), "table master4");
}

#[test]
fn guards_block_other_threads() {
    let d: Domain<Proto, u64> = Domain::new("bgp1", 0);
    let g = d.lock();
    thread::scope(|s| {
        let t = s.spawn(|| {
            *d.lock() += 1;
        });
        thread::sleep(std::time::Duration::from_millis(20));
        assert!(!t.is_finished());
        drop(g);
        t.join().unwrap();
    });
    assert_eq!(d.into_inner(), 1);
}

/// A leaked guard keeps its slot forever; dropping the domain afterwards must keep the slot's pointer
/// valid, so the next violation on that thread can still name it.
#[test]
fn leaked_guard_then_dropped_domain_is_still_reported() {
    thread::spawn(|| {
        let a: Domain<Rtable, Vec<u8>> = Domain::new("leaky table", vec![1, 2, 3]);
        std::mem::forget(a.lock());
        drop(a);
        // Reuse the memory the domain lived in, to make a dangling pointer visible.
        let junk: Vec<Domain<Rtable, Vec<u8>>> =
            (0..64).map(|i| Domain::new(format!("other {i}"), vec![])).collect();
        let cache: Domain<Proto, ()> = Domain::new("bgp1", ());
        let msg = panic_message(|| drop(cache.lock()));
        assert!(msg.contains("\"bgp1\" (proto) while holding \"leaky table\" (rtable)"), "{msg}");
        let msg = panic_message(|| drop(junk[0].lock()));
        assert!(msg.contains("\"other 0\" (rtable) while holding \"leaky table\" (rtable)"), "{msg}");
        assert_eq!(lock_depth(), 1);
    })
    .join()
    .unwrap();
}

#[test]
fn debug_output_does_not_block() {
    let d: Domain<Proto, u32> = Domain::new("bgp1", 7);
    assert!(format!("{d:?}").contains("value: 7"));
    let g = d.lock();
    assert!(format!("{d:?}").contains("<locked>"));
    assert!(format!("{g:?}").contains("bgp1"));
}

#[test]
fn guards_are_not_send() {
    // `DomainGuard` and `ReadGuard` must stay `!Send`. A compile-time probe: this helper only
    // resolves for types that are *not* Send (auto-trait ambiguity trick).
    trait AmbiguousIfSend<A> {
        fn check() {}
    }
    impl<T: ?Sized> AmbiguousIfSend<()> for T {}
    #[allow(dead_code)]
    struct Invalid;
    impl<T: ?Sized + Send> AmbiguousIfSend<Invalid> for T {}
    <birdrcu::DomainGuard<'static, u8> as AmbiguousIfSend<_>>::check();
    <birdrcu::ReadGuard as AmbiguousIfSend<_>>::check();
}

#[test]
fn domains_and_handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    // `Cell` is Send but not Sync: the domain still is both, like a mutex.
    send_sync::<Domain<Proto, std::cell::Cell<u8>>>();
    send_sync::<DynDomain<std::cell::Cell<u8>>>();
    send_sync::<birdrcu::DomainRef>();
    send_sync::<birdrcu::GracePeriod>();
    send_sync::<LevelId>();
    // A guard may be shared by reference when its value is Sync.
    fn sync<T: Sync>() {}
    sync::<birdrcu::DomainGuard<'static, u8>>();
}
