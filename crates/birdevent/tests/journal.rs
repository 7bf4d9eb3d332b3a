//! Tests of the export journal: order, exactly-once delivery and drop, recipients at different speeds,
//! registration mid-stream, unregistering, writer drop, the cleanup trigger, and a multi-thread stress.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use birdevent::journal::{Journal, Recipient, Seq};
use birdevent::{Callback, Event, EventList};

fn callback(name: &'static str) -> Callback {
    Callback::new(Event::new(name, || {}), EventList::new(name))
}

/// A callback whose hook raises a flag, and its list.
fn flag_callback(name: &'static str) -> (Callback, Arc<EventList>, Arc<AtomicBool>) {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let list = EventList::new(name);
    let cb = Callback::new(Event::new(name, move || f.store(true, Ordering::Relaxed)), list.clone());
    (cb, list, flag)
}

/// Read everything available; returns the (seq, value) pairs in order.
fn drain<T: Copy>(r: &mut Recipient<T>) -> Vec<(u64, T)> {
    let mut out = Vec::new();
    while let Some(item) = r.get() {
        out.push((item.seq().0, *item));
        item.release();
    }
    out
}

/// Read at most `n` items.
fn take<T: Copy>(r: &mut Recipient<T>, n: usize) -> Vec<(u64, T)> {
    let mut out = Vec::new();
    while out.len() < n {
        let Some(item) = r.get() else { break };
        out.push((item.seq().0, *item));
        item.release();
    }
    out
}

/// An item that records its drop in a shared log, and panics if dropped twice.
#[derive(Debug)]
struct Tracked {
    seq: u64,
    log: Arc<Mutex<Vec<u64>>>,
    dropped: bool,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        assert!(!self.dropped, "item {} dropped twice", self.seq);
        self.dropped = true;
        self.log.lock().unwrap().push(self.seq);
    }
}

fn tracked(seq: u64, log: &Arc<Mutex<Vec<u64>>>) -> Tracked {
    Tracked { seq, log: log.clone(), dropped: false }
}

#[test]
fn push_without_recipients_hands_the_item_back() {
    let mut j = Journal::new("j", 4);
    assert_eq!(j.push(7u32), Err(7));
    assert_eq!(j.next_seq(), Seq(1));
    assert_eq!(j.len(), 0);
    assert_eq!(j.blocks(), 0);
    let r = j.register(callback("r"));
    assert_eq!(j.push(8), Ok(Seq(1)));
    drop(r);
    assert_eq!(j.recipients(), 0);
    assert_eq!(j.push(9), Err(9));
    assert_eq!(j.next_seq(), Seq(2));
}

#[test]
fn order_and_exactly_once_per_recipient() {
    let mut j = Journal::new("j", 4);
    let mut rs: Vec<_> = (0..3).map(|_| j.register(callback("r"))).collect();
    for i in 0..100u64 {
        assert_eq!(j.push(i * 10), Ok(Seq(i + 1)));
    }
    for r in &mut rs {
        assert_eq!(r.pending(), 100);
        let got = drain(r);
        let want: Vec<_> = (0..100u64).map(|i| (i + 1, i * 10)).collect();
        assert_eq!(got, want);
        assert!(r.get().is_none());
        assert_eq!(r.pending(), 0);
        assert_eq!(r.position(), Seq(101));
    }
    let stats = j.cleanup();
    assert_eq!(stats.items_freed, 100);
    assert_eq!(stats.blocks_freed, 24, "every block but the tail");
    assert_eq!(j.blocks(), 1);
    assert!(j.is_empty());
}

#[test]
fn get_without_release_returns_the_same_item() {
    let mut j = Journal::new("j", 2);
    let mut r = j.register(callback("r"));
    j.push(1u8).unwrap();
    j.push(2).unwrap();
    j.push(3).unwrap();
    for _ in 0..3 {
        let item = r.get().unwrap();
        assert_eq!((item.seq(), *item), (Seq(1), 1));
    }
    r.get().unwrap().release();
    assert_eq!(*r.get().unwrap(), 2);
    assert_eq!(j.cleanup().items_freed, 1);
    assert_eq!(drain(&mut r), vec![(2, 2), (3, 3)]);
}

#[test]
fn recipients_at_different_speeds() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut j = Journal::new("j", 3);
    let mut fast = j.register(callback("fast"));
    let mut slow = j.register(callback("slow"));
    let mut next = 1;
    for round in 0..20 {
        for _ in 0..7 {
            assert_eq!(j.push(tracked(next, &log)).unwrap(), Seq(next));
            next += 1;
        }
        let got: Vec<u64> = {
            let mut v = Vec::new();
            while let Some(item) = fast.get() {
                assert_eq!(item.seq().0, item.seq);
                v.push(item.seq);
                item.release();
            }
            v
        };
        assert_eq!(got.len(), 7);
        // The slow one reads 3 per round.
        for _ in 0..3 {
            let item = slow.get().unwrap();
            assert_eq!(item.seq().0, item.seq);
            item.release();
        }
        j.cleanup();
        let dropped = log.lock().unwrap().clone();
        let slow_pos = slow.position().0;
        assert_eq!(
            dropped,
            (1..slow_pos).collect::<Vec<_>>(),
            "round {round}: dropped exactly the released prefix"
        );
        assert_eq!(j.first_live(), slow.position());
        assert!(j.blocks() as u64 <= (next - slow_pos) / 3 + 2, "blocks before the slow cursor are freed");
    }
    // Slow catches up.
    while let Some(item) = slow.get() {
        item.release();
    }
    j.cleanup();
    assert_eq!(*log.lock().unwrap(), (1..next).collect::<Vec<_>>());
    assert!(j.is_empty());
    drop(fast);
    drop(slow);
    drop(j);
    assert_eq!(log.lock().unwrap().len() as u64, next - 1, "nothing dropped twice or left");
}

#[test]
fn register_mid_stream_sees_only_later_items() {
    let mut j = Journal::new("j", 4);
    let mut a = j.register(callback("a"));
    for i in 1..=6u64 {
        j.push(i).unwrap();
    }
    let mut b = j.register(callback("b"));
    assert_eq!(b.position(), Seq(7));
    assert_eq!(b.pending(), 0);
    assert!(b.get().is_none());
    for i in 7..=10u64 {
        j.push(i).unwrap();
    }
    assert_eq!(drain(&mut b), (7..=10).map(|i| (i, i)).collect::<Vec<_>>());
    assert_eq!(drain(&mut a), (1..=10).map(|i| (i, i)).collect::<Vec<_>>());
    // Register at a full tail: the recipient waits at its end and follows the link.
    for i in 11..=12u64 {
        j.push(i).unwrap();
    }
    let mut c = j.register(callback("c"));
    assert!(c.get().is_none());
    j.push(13).unwrap();
    assert_eq!(drain(&mut c), vec![(13, 13)]);
    // Register before any block exists.
    let mut j2 = Journal::new("j2", 2);
    let mut d = j2.register(callback("d"));
    assert!(d.get().is_none());
    j2.push(1u64).unwrap();
    assert_eq!(drain(&mut d), vec![(1, 1)]);
}

#[test]
fn items_dropped_once_after_all_released() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut j = Journal::new("j", 2);
    let mut a = j.register(callback("a"));
    let mut b = j.register(callback("b"));
    for i in 1..=5 {
        j.push(tracked(i, &log)).unwrap();
    }
    take_tracked(&mut a, 5);
    j.cleanup();
    assert!(log.lock().unwrap().is_empty(), "b released nothing");
    take_tracked(&mut b, 2);
    assert_eq!(j.cleanup().items_freed, 2);
    assert_eq!(*log.lock().unwrap(), vec![1, 2]);
    assert_eq!(j.len(), 3);
    // Holding an item (not released) keeps it.
    {
        let item = b.get().unwrap();
        assert_eq!(item.seq, 3);
        j.cleanup();
        assert_eq!(item.seq, 3);
    }
    assert_eq!(log.lock().unwrap().len(), 2);
    drop(j);
    assert_eq!(log.lock().unwrap().len(), 2, "the recipients still hold items 3..5");
    drop(a);
    take_tracked(&mut b, 1);
    drop(b);
    assert_eq!(*log.lock().unwrap(), vec![1, 2, 3, 4, 5], "the last owner drops the rest in order");
}

fn take_tracked(r: &mut Recipient<Tracked>, n: usize) {
    for _ in 0..n {
        let item = r.get().unwrap();
        assert_eq!(item.seq().0, item.seq);
        item.release();
    }
}

#[test]
fn unregistering_the_slowest_lets_cleanup_free() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (cb, list, flag) = flag_callback("cleanup");
    let mut j = Journal::new("j", 4);
    j.set_cleanup_callback(cb);
    let mut fast = j.register(callback("fast"));
    let slow = j.register(callback("slow"));
    for i in 1..=10 {
        j.push(tracked(i, &log)).unwrap();
    }
    take_tracked(&mut fast, 10);
    assert!(fast.get().is_none());
    let stats = j.cleanup();
    assert_eq!(stats.items_freed, 0);
    assert_eq!(j.blocks(), 3);
    assert!(!flag.load(Ordering::Relaxed));
    drop(slow);
    list.run(EventList::UNLIMITED);
    assert!(flag.load(Ordering::Relaxed), "dropping the recipient cleanup waited for triggers it");
    let stats = j.cleanup();
    assert_eq!(stats.items_freed, 10);
    assert_eq!(stats.blocks_freed, 2);
    assert_eq!(*log.lock().unwrap(), (1..=10).collect::<Vec<_>>());
    // With no recipients left, cleanup frees everything pushed meanwhile.
    drop(fast);
    assert_eq!(j.push(tracked(11, &log)).map_err(|t| t.seq), Err(11));
    assert_eq!(log.lock().unwrap().len(), 11);
}

#[test]
fn writer_drop_stops_recipients_after_the_remaining_items() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut j = Journal::new("j", 2);
    let mut r = j.register(callback("r"));
    for i in 1..=5 {
        j.push(tracked(i, &log)).unwrap();
    }
    take_tracked(&mut r, 1);
    j.cleanup();
    assert!(!r.is_stopped());
    drop(j);
    assert!(r.is_stopped());
    assert_eq!(r.pending(), 4);
    take_tracked(&mut r, 4);
    assert!(r.get().is_none());
    assert!(r.get().is_none());
    assert_eq!(*log.lock().unwrap(), vec![1], "released items stay until the last owner drops");
    drop(r);
    assert_eq!(*log.lock().unwrap(), vec![1, 2, 3, 4, 5]);
}

#[test]
fn writer_dropped_last_frees_everything() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut j = Journal::new("j", 3);
    let r = j.register(callback("r"));
    for i in 1..=7 {
        j.push(tracked(i, &log)).unwrap();
    }
    drop(r);
    assert!(log.lock().unwrap().is_empty());
    drop(j);
    assert_eq!(*log.lock().unwrap(), (1..=7).collect::<Vec<_>>());
}

#[test]
fn announce_activates_recipients_with_unread_items() {
    let mut j = Journal::new("j", 4);
    let (ca, la, fa) = flag_callback("a");
    let (cb, lb, fb) = flag_callback("b");
    let mut a = j.register(ca);
    let mut b = j.register(cb);
    assert_eq!(j.announce(), 0, "nothing pushed");
    j.push(1u8).unwrap();
    assert_eq!(j.announce(), 2);
    assert_eq!(j.announce(), 0, "already queued");
    la.run(EventList::UNLIMITED);
    lb.run(EventList::UNLIMITED);
    assert!(fa.load(Ordering::Relaxed) && fb.load(Ordering::Relaxed));
    drain(&mut a);
    assert_eq!(j.announce(), 1, "only b has unread items");
    drain(&mut b);
    lb.run(EventList::UNLIMITED);
    assert_eq!(j.announce(), 0);
    drop(a);
    j.push(2).unwrap();
    assert_eq!(j.announce(), 1, "a is gone");
}

#[test]
fn cleanup_trigger_fires_once_per_block_and_in_a_quiet_journal() {
    let (cb, list, flag) = flag_callback("cleanup");
    let mut j = Journal::new("j", 4);
    j.set_cleanup_callback(cb);
    let mut a = j.register(callback("a"));
    let mut b = j.register(callback("b"));
    for i in 0..10u32 {
        j.push(i).unwrap();
    }
    // Arm: block mode, waiting for both to leave the first block.
    assert_eq!(j.cleanup().items_freed, 0);
    take(&mut a, 4);
    assert!(a.get().is_some(), "a moved to the second block");
    list.run(EventList::UNLIMITED);
    assert!(!flag.load(Ordering::Relaxed), "b still on the first block");
    take(&mut b, 3);
    list.run(EventList::UNLIMITED);
    assert!(!flag.load(Ordering::Relaxed));
    take(&mut b, 1);
    assert!(b.get().is_some());
    list.run(EventList::UNLIMITED);
    assert!(flag.swap(false, Ordering::Relaxed), "the last recipient to leave the block triggers cleanup");
    let stats = j.cleanup();
    assert_eq!((stats.items_freed, stats.blocks_freed), (4, 1));
    // Drain everything: the block-mode round for the second block fires, and then the tail block's items
    // (item mode) are freed without any more pushes.
    drain(&mut a);
    drain(&mut b);
    list.run(EventList::UNLIMITED);
    assert!(flag.swap(false, Ordering::Relaxed));
    let stats = j.cleanup();
    assert_eq!((stats.items_freed, stats.blocks_freed), (6, 1));
    assert!(j.is_empty());
    assert_eq!(j.blocks(), 1);
    // A quiet tail: item mode.
    j.push(10).unwrap();
    assert_eq!(j.cleanup().items_freed, 0);
    drain(&mut a);
    list.run(EventList::UNLIMITED);
    assert!(!flag.load(Ordering::Relaxed));
    drain(&mut b);
    list.run(EventList::UNLIMITED);
    assert!(flag.swap(false, Ordering::Relaxed), "released everything in the tail block");
    assert_eq!(j.cleanup().items_freed, 1);
    assert!(j.is_empty());
}

#[test]
fn cleanup_loops_when_everyone_passed_while_marking() {
    let (cb, list, flag) = flag_callback("cleanup");
    let mut j = Journal::new("j", 2);
    j.set_cleanup_callback(cb);
    let mut a = j.register(callback("a"));
    for i in 0..9u32 {
        j.push(i).unwrap();
    }
    drain(&mut a);
    // Everyone already passed everything: one cleanup frees all, without needing the trigger.
    let stats = j.cleanup();
    assert_eq!((stats.items_freed, stats.blocks_freed), (9, 4));
    list.run(EventList::UNLIMITED);
    assert!(!flag.load(Ordering::Relaxed));
}

// ---------------------------------------------------------------------------------------------------------
// Multi-thread stress.

const POISON: u64 = 0xdead_dead_dead_dead;

/// An item carrying a pattern derived from its number; poisoned on drop to catch reads after a free.
struct Pattern {
    n: u64,
    check: [u64; 3],
    drops: Arc<AtomicUsize>,
}

fn pattern(n: u64) -> [u64; 3] {
    [n.wrapping_mul(0x9e37_79b9_7f4a_7c15), !n, n.rotate_left(17) ^ 0x5555]
}

impl Drop for Pattern {
    fn drop(&mut self) {
        assert_eq!(self.check, pattern(self.n), "item {} dropped twice or corrupted", self.n);
        self.check = [POISON; 3];
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(miri)]
const STRESS_ITEMS: u64 = 300;
#[cfg(all(not(miri), debug_assertions))]
const STRESS_ITEMS: u64 = 1_000_000;
#[cfg(all(not(miri), not(debug_assertions)))]
const STRESS_ITEMS: u64 = 4_000_000;

#[test]
fn stress_one_writer_four_recipients() {
    const RECIPIENTS: usize = 4;
    let high: u64 = if cfg!(miri) { 16 } else { 20_000 };
    let block = if cfg!(miri) { 4 } else { 64 };
    let drops = Arc::new(AtomicUsize::new(0));
    let (cb, list, flag) = flag_callback("cleanup");
    let mut j = Journal::<Pattern>::new("stress", block);
    j.set_cleanup_callback(cb);
    let recipients: Vec<_> = (0..RECIPIENTS).map(|_| j.register(callback("r"))).collect();
    let readers: Vec<_> = recipients
        .into_iter()
        .map(|mut r| {
            std::thread::spawn(move || {
                let mut expect = 1u64;
                loop {
                    if let Some(item) = r.get() {
                        assert_eq!(item.seq().0, expect, "contiguous seqs");
                        assert_eq!(item.n, expect);
                        assert_eq!(item.check, pattern(expect), "item {expect} read after free");
                        item.release();
                        expect += 1;
                    } else if r.is_stopped() {
                        // The writer's stop is published after its last push: look once more.
                        if r.get().is_none() {
                            break;
                        }
                    } else {
                        std::thread::yield_now();
                    }
                }
                expect - 1
            })
        })
        .collect();
    let triggered = Arc::new(AtomicU64::new(0));
    let writer = {
        let drops = drops.clone();
        let triggered = triggered.clone();
        std::thread::spawn(move || {
            let mut freed = 0;
            for n in 1..=STRESS_ITEMS {
                let seq =
                    j.push(Pattern { n, check: pattern(n), drops: drops.clone() }).map_err(|_| ()).unwrap();
                assert_eq!(seq, Seq(n));
                if n % 32 == 0 {
                    list.run(EventList::UNLIMITED);
                    if flag.swap(false, Ordering::Relaxed) {
                        triggered.fetch_add(1, Ordering::Relaxed);
                        freed += j.cleanup().items_freed;
                    }
                }
                while j.len() > high {
                    freed += j.cleanup().items_freed;
                    std::thread::yield_now();
                }
            }
            freed
        })
    };
    let freed = writer.join().unwrap();
    for r in readers {
        assert_eq!(r.join().unwrap(), STRESS_ITEMS);
    }
    assert_eq!(drops.load(Ordering::Relaxed) as u64, STRESS_ITEMS, "every item dropped exactly once");
    assert!(freed > 0);
    assert!(triggered.load(Ordering::Relaxed) > 0 || cfg!(miri), "the cleanup trigger fired");
}
