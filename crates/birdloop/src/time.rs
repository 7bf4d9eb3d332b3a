//! Time as the loops see it: a monotonic nanosecond count, read from the real clock or from a virtual one.

use std::fmt;
use std::ops::{Add, Sub};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// A point in time: nanoseconds since the process-wide epoch (the first time anyone asked), or since the start
/// of a virtual clock. Cheap to copy and to compare; used as the timer heap key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time(u64);

impl Time {
    /// The epoch.
    pub const ZERO: Time = Time(0);
    /// Far in the future; never reached.
    pub const NEVER: Time = Time(u64::MAX);

    /// From nanoseconds since the epoch.
    pub const fn from_nanos(ns: u64) -> Time {
        Time(ns)
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// The real monotonic clock.
    pub fn now_monotonic() -> Time {
        let ns = epoch().elapsed().as_nanos();
        Time(u64::try_from(ns).unwrap_or(u64::MAX))
    }

    /// `self - earlier`, or zero when `earlier` is later.
    pub fn saturating_since(self, earlier: Time) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, saturating at [`Time::NEVER`].
    pub fn saturating_add(self, d: Duration) -> Time {
        Time(self.0.saturating_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)))
    }
}

impl Add<Duration> for Time {
    type Output = Time;
    fn add(self, d: Duration) -> Time {
        self.saturating_add(d)
    }
}

impl Sub for Time {
    type Output = Duration;
    fn sub(self, earlier: Time) -> Duration {
        self.saturating_since(earlier)
    }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}s", self.0 / 1_000_000_000, self.0 % 1_000_000_000)
    }
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// The clock a thread group's loops read: the real monotonic clock, or a virtual one that only moves when
/// told to (deterministic mode).
#[derive(Clone, Debug, Default)]
pub struct Clock {
    virt: Option<Arc<AtomicU64>>,
}

impl Clock {
    /// The real monotonic clock.
    pub fn monotonic() -> Clock {
        Clock { virt: None }
    }

    /// A virtual clock starting at `start`.
    pub fn virtual_at(start: Time) -> Clock {
        Clock { virt: Some(Arc::new(AtomicU64::new(start.0))) }
    }

    /// Whether this clock is virtual.
    pub fn is_virtual(&self) -> bool {
        self.virt.is_some()
    }

    /// The current time.
    pub fn now(&self) -> Time {
        match &self.virt {
            None => Time::now_monotonic(),
            Some(v) => Time(v.load(Ordering::Acquire)),
        }
    }

    /// Move a virtual clock forward to `t` (never backwards). Panics on the real clock.
    pub fn set(&self, t: Time) {
        let v = self.virt.as_ref().expect("birdloop: only a virtual clock can be set");
        v.fetch_max(t.0, Ordering::AcqRel);
    }

    /// Move a virtual clock forward by `d`. Panics on the real clock.
    pub fn advance(&self, d: Duration) {
        let t = self.now() + d;
        self.set(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_clock_moves_only_forward() {
        let c = Clock::virtual_at(Time::from_nanos(10));
        assert_eq!(c.now(), Time::from_nanos(10));
        c.advance(Duration::from_nanos(5));
        assert_eq!(c.now(), Time::from_nanos(15));
        c.set(Time::from_nanos(3));
        assert_eq!(c.now(), Time::from_nanos(15));
        let m = Clock::monotonic();
        let a = m.now();
        let b = m.now();
        assert!(b >= a);
        assert_eq!(Time::from_nanos(3) - Time::from_nanos(5), Duration::ZERO);
    }
}
