//! Balancer decisions, kept pure so they can be tested without threads.
//!
//! * Busy detection with hysteresis: a round whose poll timeout is below `busy_timeout` is busy; after
//!   `busy_rounds` consecutive busy rounds, or busy rounds without a break for `busy_span`, the thread is
//!   marked busy. The span matters when rounds are long (a loop importing a full feed runs `min time` per
//!   round): four such rounds would leave the other threads idle for 40 ms or more. It is unmarked when a
//!   round forces it idle (timeout above `idle_timeout`) or when the streak decays back to zero.
//! * Dropping: a busy thread, in a group where not every thread is busy, with more than one loop, gives up
//!   runnable loops that did not move within `hot_potato`, until `dropped² / 2 > remaining` (about √(2n)).
//! * Taking: a thread that iterated recently takes one loop at a time; one waking from a long sleep takes
//!   `1 + unassigned / (threads + 1 − busy)`.

use std::time::Duration;

use crate::params::BalancerParams;
use crate::time::Time;

/// Per-thread busy state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct BusyState {
    /// Marked busy (counted in the group's busy count).
    pub(crate) active: bool,
    /// The hysteresis counter.
    pub(crate) counter: u32,
    /// When the current run of busy rounds began.
    pub(crate) streak_since: Option<Time>,
}

/// What changed in a thread's busy marking after one round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BusyChange {
    None,
    BecameBusy,
    BecameIdle,
}

impl BusyState {
    /// Account one round, ending at `now`, whose poll timeout is `timeout` (`None` = infinite).
    pub(crate) fn update(&mut self, timeout: Option<Duration>, now: Time, p: &BalancerParams) -> BusyChange {
        let busy_now = timeout.is_some_and(|t| t < p.busy_timeout);
        let idle_force = timeout.is_none_or(|t| t > p.idle_timeout);
        if busy_now {
            self.counter = (self.counter + 1).min(p.busy_rounds.saturating_mul(2).max(1));
            self.streak_since.get_or_insert(now);
        } else {
            self.counter = self.counter.saturating_sub(1);
            self.streak_since = None;
        }
        let long_streak = self.streak_since.is_some_and(|t| now.saturating_since(t) >= p.busy_span);
        if !self.active && busy_now && (self.counter >= p.busy_rounds || long_streak) {
            self.active = true;
            return BusyChange::BecameBusy;
        }
        if self.active && (idle_force || self.counter == 0) {
            self.active = false;
            self.counter = 0;
            self.streak_since = None;
            return BusyChange::BecameIdle;
        }
        BusyChange::None
    }
}

/// Whether a thread should drop loops this round.
pub(crate) fn should_drop(
    busy: bool,
    threads: usize,
    busy_threads: usize,
    my_loops: usize,
    pickup_head_hot: Option<bool>,
) -> bool {
    busy && busy_threads < threads && my_loops > 1 && pickup_head_hot != Some(true)
}

/// Whether `dropped` loops are enough out of `remaining` (√(2n) rule).
pub(crate) fn dropped_enough(dropped: usize, remaining: usize) -> bool {
    dropped * dropped / 2 > remaining
}

/// How many loops to take from a pickup list of `unassigned` loops.
pub(crate) fn take_count(
    unassigned: usize,
    threads: usize,
    busy_threads: usize,
    iterated_recently: bool,
) -> usize {
    if unassigned == 0 {
        0
    } else if iterated_recently {
        1
    } else {
        let idle = (threads + 1).saturating_sub(busy_threads).max(1);
        (1 + unassigned / idle).min(unassigned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hysteresis() {
        let p = BalancerParams::default();
        let mut s = BusyState::default();
        let zero = Some(Duration::ZERO);
        let t0 = Time::from_nanos(1_000_000_000);
        // Short rounds: marked busy by the round count.
        let at = |us: u64| t0 + Duration::from_micros(us);
        for i in 0..3 {
            assert_eq!(s.update(zero, at(i * 100), &p), BusyChange::None);
        }
        assert_eq!(s.update(zero, at(300), &p), BusyChange::BecameBusy);
        assert!(s.active);
        // A single medium round does not unmark it.
        assert_eq!(s.update(Some(Duration::from_millis(50)), at(400), &p), BusyChange::None);
        assert!(s.active);
        // An idle-forcing round does.
        assert_eq!(s.update(None, at(500), &p), BusyChange::BecameIdle);
        assert!(!s.active);
        assert_eq!(s.streak_since, None);
        // Decay: busy again, then medium rounds until the counter reaches zero.
        for i in 0..4 {
            s.update(zero, at(600 + i * 100), &p);
        }
        assert!(s.active);
        let mut n = 0;
        while s.active {
            s.update(Some(Duration::from_millis(50)), at(2000 + n * 100), &p);
            n += 1;
            assert!(n < 100);
        }
        assert!(n >= 2);
    }

    #[test]
    fn long_rounds_mark_busy_by_span() {
        let p = BalancerParams::default();
        let mut s = BusyState::default();
        let zero = Some(Duration::ZERO);
        let t0 = Time::from_nanos(1_000_000_000);
        // Rounds of 6 ms: the second one ends 6 ms into the streak, the third 12 ms (>= busy_span).
        assert_eq!(s.update(zero, t0, &p), BusyChange::None);
        assert_eq!(s.update(zero, t0 + Duration::from_millis(6), &p), BusyChange::None);
        assert_eq!(s.update(zero, t0 + Duration::from_millis(12), &p), BusyChange::BecameBusy);
        // A round that sleeps breaks the streak: it starts again from the next busy round.
        let mut s = BusyState::default();
        s.update(zero, t0, &p);
        s.update(Some(Duration::from_millis(20)), t0 + Duration::from_millis(6), &p);
        assert_eq!(s.update(zero, t0 + Duration::from_millis(12), &p), BusyChange::None);
        assert_eq!(s.streak_since, Some(t0 + Duration::from_millis(12)));
    }

    #[test]
    fn drop_and_take_rules() {
        assert!(should_drop(true, 2, 1, 10, None));
        assert!(!should_drop(true, 2, 2, 10, None));
        assert!(!should_drop(true, 2, 1, 1, None));
        assert!(!should_drop(true, 2, 1, 10, Some(true)));
        assert!(should_drop(true, 2, 1, 10, Some(false)));
        assert!(!should_drop(false, 2, 0, 10, None));
        // sqrt(2n): with 100 loops, stop after 14 (14*14/2 = 98 > 86 remaining).
        let mut dropped = 0;
        let mut remaining = 100;
        while !dropped_enough(dropped, remaining) {
            dropped += 1;
            remaining -= 1;
        }
        assert_eq!(dropped, 14);
        assert_eq!(take_count(0, 2, 0, false), 0);
        assert_eq!(take_count(10, 2, 0, true), 1);
        assert_eq!(take_count(10, 2, 0, false), 4);
        assert_eq!(take_count(10, 2, 1, false), 6);
    }
}
