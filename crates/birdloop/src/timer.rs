//! Per-loop timers: an indexed binary heap over slab slots.
//!
//! A timer is created complete (name and hook) and disarmed; arming, re-arming and stopping are O(log n)
//! because every timer remembers its heap position. Equal deadlines fire in arming order. Recurrent timers
//! re-arm themselves *before* their hook runs (so the hook may stop or re-arm them), with an optional random
//! jitter added to each period.

use std::fmt;
use std::time::Duration;

use slab::Slab;

use crate::time::Time;

/// Names one timer of one loop. Stale keys (the timer was removed) are detected and ignored.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct TimerKey {
    idx: u32,
    gen: u32,
}

const NOT_IN_HEAP: usize = usize::MAX;

struct Entry<H> {
    name: &'static str,
    gen: u32,
    hook: Option<H>,
    expires: Option<Time>,
    seq: u64,
    pos: usize,
    recurrent: Option<(Duration, Duration)>,
}

/// The heap. `H` is the hook type (a boxed closure in loops, anything in tests).
pub(crate) struct TimerHeap<H> {
    slab: Slab<Entry<H>>,
    heap: Vec<u32>,
    seq: u64,
    gen: u32,
    rng: u64,
}

impl<H> fmt::Debug for TimerHeap<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerHeap")
            .field("timers", &self.slab.len())
            .field("armed", &self.heap.len())
            .finish()
    }
}

impl<H> TimerHeap<H> {
    pub(crate) fn new() -> Self {
        TimerHeap { slab: Slab::new(), heap: Vec::new(), seq: 0, gen: 0, rng: 0x9e37_79b9_7f4a_7c15 }
    }

    /// A new, disarmed timer.
    pub(crate) fn insert(&mut self, name: &'static str, hook: H) -> TimerKey {
        self.gen = self.gen.wrapping_add(1);
        let gen = self.gen;
        let idx = self.slab.insert(Entry {
            name,
            gen,
            hook: Some(hook),
            expires: None,
            seq: 0,
            pos: NOT_IN_HEAP,
            recurrent: None,
        });
        TimerKey { idx: u32::try_from(idx).expect("birdloop: too many timers in one loop"), gen }
    }

    fn entry(&self, key: TimerKey) -> Option<&Entry<H>> {
        self.slab.get(key.idx as usize).filter(|e| e.gen == key.gen)
    }

    fn valid(&self, key: TimerKey) -> bool {
        self.entry(key).is_some()
    }

    /// Whether `key` names a live timer.
    pub(crate) fn contains(&self, key: TimerKey) -> bool {
        self.valid(key)
    }

    /// The timer's name.
    pub(crate) fn name(&self, key: TimerKey) -> Option<&'static str> {
        self.entry(key).map(|e| e.name)
    }

    /// Arm (or re-arm) at `at`. Returns false for a stale key.
    pub(crate) fn arm(&mut self, key: TimerKey, at: Time) -> bool {
        if !self.valid(key) {
            return false;
        }
        self.unlink(key.idx);
        self.seq += 1;
        let seq = self.seq;
        let e = &mut self.slab[key.idx as usize];
        e.expires = Some(at);
        e.seq = seq;
        e.pos = self.heap.len();
        self.heap.push(key.idx);
        self.sift_up(self.heap.len() - 1);
        true
    }

    /// Make the timer recurrent (`period` > 0) with a random extra delay in `[0, jitter]` per period, or
    /// one-shot again (`period` == 0). Does not arm it.
    pub(crate) fn set_recurrent(&mut self, key: TimerKey, period: Duration, jitter: Duration) -> bool {
        if !self.valid(key) {
            return false;
        }
        self.slab[key.idx as usize].recurrent = (!period.is_zero()).then_some((period, jitter));
        true
    }

    /// Disarm. Returns false for a stale key.
    pub(crate) fn disarm(&mut self, key: TimerKey) -> bool {
        if !self.valid(key) {
            return false;
        }
        self.unlink(key.idx);
        self.slab[key.idx as usize].expires = None;
        true
    }

    /// Remove the timer; returns its hook unless it is running right now.
    pub(crate) fn remove(&mut self, key: TimerKey) -> Option<H> {
        if !self.valid(key) {
            return None;
        }
        self.unlink(key.idx);
        self.slab.remove(key.idx as usize).hook
    }

    /// When the timer fires, if armed.
    pub(crate) fn expires(&self, key: TimerKey) -> Option<Time> {
        self.entry(key).and_then(|e| e.expires)
    }

    /// The earliest armed deadline.
    pub(crate) fn first(&self) -> Option<Time> {
        self.heap.first().and_then(|&i| self.slab[i as usize].expires)
    }

    /// Number of timers (armed or not).
    pub(crate) fn len(&self) -> usize {
        self.slab.len()
    }

    /// Take the earliest timer due at `now`: it is disarmed (or re-armed if recurrent) and its hook is lent
    /// out; give the hook back with [`put_back`](Self::put_back).
    pub(crate) fn pop_due(&mut self, now: Time) -> Option<(TimerKey, H)> {
        loop {
            let &idx = self.heap.first()?;
            let e = &self.slab[idx as usize];
            let expires = e.expires.unwrap_or(Time::ZERO);
            if expires > now {
                return None;
            }
            let key = TimerKey { idx, gen: e.gen };
            let recurrent = e.recurrent;
            self.unlink(idx);
            self.slab[idx as usize].expires = None;
            if let Some((period, jitter)) = recurrent {
                let extra = self.jitter(jitter);
                let mut next = expires + period + extra;
                if next <= now {
                    next = now + period + extra;
                }
                self.arm(key, next);
            }
            match self.slab[idx as usize].hook.take() {
                Some(h) => return Some((key, h)),
                // Re-entrant firing of a timer whose hook is out: skip it this time.
                None => continue,
            }
        }
    }

    /// Return a hook lent out by [`pop_due`](Self::pop_due); dropped if the timer was removed meanwhile.
    pub(crate) fn put_back(&mut self, key: TimerKey, hook: H) {
        if let Some(e) = self.slab.get_mut(key.idx as usize).filter(|e| e.gen == key.gen) {
            e.hook = Some(hook);
        }
    }

    fn jitter(&mut self, max: Duration) -> Duration {
        if max.is_zero() {
            return Duration::ZERO;
        }
        // xorshift64*: plenty for spreading timers, no dependency.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let r = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
        let max_ns = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(r % max_ns.saturating_add(1).max(1))
    }

    fn key_of(&self, pos: usize) -> (Time, u64) {
        let e = &self.slab[self.heap[pos] as usize];
        (e.expires.unwrap_or(Time::ZERO), e.seq)
    }

    fn set_pos(&mut self, pos: usize) {
        let idx = self.heap[pos] as usize;
        self.slab[idx].pos = pos;
    }

    fn unlink(&mut self, idx: u32) {
        let pos = self.slab[idx as usize].pos;
        if pos == NOT_IN_HEAP {
            return;
        }
        self.slab[idx as usize].pos = NOT_IN_HEAP;
        let last = self.heap.len() - 1;
        self.heap.swap(pos, last);
        self.heap.pop();
        if pos < self.heap.len() {
            self.set_pos(pos);
            self.sift_down(pos);
            self.sift_up(pos);
        }
    }

    fn sift_up(&mut self, mut pos: usize) {
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if self.key_of(pos) >= self.key_of(parent) {
                break;
            }
            self.heap.swap(pos, parent);
            self.set_pos(pos);
            self.set_pos(parent);
            pos = parent;
        }
    }

    fn sift_down(&mut self, mut pos: usize) {
        let n = self.heap.len();
        loop {
            let l = 2 * pos + 1;
            if l >= n {
                break;
            }
            let r = l + 1;
            let child = if r < n && self.key_of(r) < self.key_of(l) { r } else { l };
            if self.key_of(child) >= self.key_of(pos) {
                break;
            }
            self.heap.swap(pos, child);
            self.set_pos(pos);
            self.set_pos(child);
            pos = child;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> Time {
        Time::from_nanos(ms * 1_000_000)
    }

    #[test]
    fn fires_in_order_with_ties_fifo() {
        let mut h = TimerHeap::new();
        let mut keys = Vec::new();
        for (i, ms) in [50u64, 10, 30, 10, 70, 20].into_iter().enumerate() {
            let k = h.insert("t", i);
            assert!(h.arm(k, t(ms)));
            keys.push(k);
        }
        assert_eq!(h.first(), Some(t(10)));
        assert!(h.pop_due(t(9)).is_none());
        let mut fired = Vec::new();
        while let Some((k, v)) = h.pop_due(t(100)) {
            fired.push(v);
            h.put_back(k, v);
        }
        assert_eq!(fired, vec![1, 3, 5, 2, 0, 4]);
        assert_eq!(h.first(), None);
        assert_eq!(h.len(), 6);
    }

    #[test]
    fn rearm_stop_remove_and_stale_keys() {
        let mut h = TimerHeap::new();
        let a = h.insert("a", 'a');
        let b = h.insert("b", 'b');
        h.arm(a, t(10));
        h.arm(b, t(20));
        h.arm(a, t(30));
        assert_eq!(h.first(), Some(t(20)));
        assert!(h.disarm(b));
        assert_eq!(h.first(), Some(t(30)));
        assert_eq!(h.remove(a), Some('a'));
        assert!(!h.arm(a, t(1)), "stale key must not arm");
        let c = h.insert("c", 'c');
        assert_ne!(a, c);
        assert_eq!(h.expires(c), None);
        assert_eq!(h.first(), None);
        assert_eq!(h.name(b), Some("b"));
    }

    #[test]
    fn recurrent_rearms_before_hook_and_jitter_bounded() {
        let mut h = TimerHeap::new();
        let k = h.insert("r", ());
        h.set_recurrent(k, Duration::from_millis(10), Duration::from_millis(2));
        h.arm(k, t(10));
        let mut last = t(10);
        for _ in 0..100 {
            let now = h.first().unwrap();
            let (kk, hook) = h.pop_due(now).unwrap();
            assert_eq!(kk, k);
            let next = h.expires(k).unwrap();
            assert!(next >= now + Duration::from_millis(10));
            assert!(next <= now + Duration::from_millis(12));
            assert!(now >= last);
            last = now;
            h.put_back(kk, hook);
        }
        // Removed while lent out: the hook is dropped on return.
        let now = h.first().unwrap();
        let (kk, hook) = h.pop_due(now).unwrap();
        assert_eq!(h.remove(kk), None);
        h.put_back(kk, hook);
        assert_eq!(h.len(), 0);
    }

    #[test]
    fn random_against_model() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let mut h = TimerHeap::new();
        let mut model: Vec<(TimerKey, Option<(Time, u64)>)> = Vec::new();
        let mut seq = 0u64;
        for _ in 0..5000 {
            match rng.gen_range(0..4) {
                0 => {
                    let k = h.insert("x", ());
                    model.push((k, None));
                }
                1 | 2 if !model.is_empty() => {
                    let i = rng.gen_range(0..model.len());
                    let at = t(rng.gen_range(0..1000));
                    seq += 1;
                    h.arm(model[i].0, at);
                    model[i].1 = Some((at, seq));
                }
                3 if !model.is_empty() => {
                    let i = rng.gen_range(0..model.len());
                    h.disarm(model[i].0);
                    model[i].1 = None;
                }
                _ => {}
            }
            let want = model.iter().filter_map(|m| m.1).min().map(|x| x.0);
            assert_eq!(h.first(), want);
        }
        let mut order: Vec<_> = model.iter().filter_map(|m| m.1.map(|x| (x, m.0))).collect();
        order.sort();
        for (_, k) in order {
            let (kk, ()) = h.pop_due(Time::NEVER).unwrap();
            assert_eq!(kk, k);
        }
    }
}
