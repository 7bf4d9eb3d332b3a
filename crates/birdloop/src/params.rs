//! Thread group parameters (BIRD's `thread group { ... }` block) and balancer constants.

use std::fmt;
use std::time::Duration;

/// Scheduling parameters of a thread group. Defaults follow BIRD 3.3.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadParams {
    /// Target upper bound on how long a runnable loop waits for its turn (`max latency`).
    pub max_latency: Duration,
    /// Lower bound of a loop's time budget per round (`min time`). It is also the slice a loop gets while other
    /// loops wait in its thread's run queue: a loop alone may use its whole budget, but once another loop is
    /// pinged (or has a timer due) on the same thread, the running one yields at `min time` into its run.
    pub min_time: Duration,
    /// Upper bound of a loop's time budget per round (`max time`).
    pub max_time: Duration,
    /// Longest sleep of an idle thread (`wakeup time`).
    pub wakeup_time: Duration,
    /// BIRD's `debug latency limit`: a warning (target `bird::loop::scheduling`) is logged when a loop starts
    /// running more than `max_latency + latency_limit` after it became runnable, or its domain takes longer
    /// than its budget plus `latency_limit` to lock. Default 1 s.
    pub latency_limit: Duration,
}

impl ThreadParams {
    /// The `worker` group defaults: max latency 1 s, min time 10 ms, max time 300 ms, wakeup 31415 s, latency
    /// limit 1 s.
    pub const fn worker() -> Self {
        ThreadParams {
            max_latency: Duration::from_secs(1),
            min_time: Duration::from_millis(10),
            max_time: Duration::from_millis(300),
            wakeup_time: Duration::from_secs(31415),
            latency_limit: Duration::from_secs(1),
        }
    }

    /// The `express` group defaults: max latency 10 ms, min time 1 ms, max time 10 ms, wakeup 60 s, latency
    /// limit 1 s.
    pub const fn express() -> Self {
        ThreadParams {
            max_latency: Duration::from_millis(10),
            min_time: Duration::from_millis(1),
            max_time: Duration::from_millis(10),
            wakeup_time: Duration::from_secs(60),
            latency_limit: Duration::from_secs(1),
        }
    }

    /// Check the constraints BIRD's config parser enforces.
    pub fn validate(&self) -> Result<(), ParamError> {
        if self.max_time > Duration::from_secs(60) {
            return Err(ParamError("max time must be at most 60 s"));
        }
        if self.min_time > self.max_time {
            return Err(ParamError("min time must not exceed max time"));
        }
        if self.max_latency < self.max_time {
            return Err(ParamError("max latency must be at least max time"));
        }
        if self.wakeup_time < Duration::from_secs(1) {
            return Err(ParamError("wakeup time must be at least 1 s"));
        }
        Ok(())
    }

    /// A loop's budget for one round: half the latency target minus what this round already spent, shared
    /// among the runnable loops, clamped to `[min_time, max_time]`.
    pub fn loop_budget(&self, spent: Duration, runnable: usize) -> Duration {
        let left = (self.max_latency / 2).saturating_sub(spent);
        let n = u32::try_from(runnable.max(1)).unwrap_or(u32::MAX);
        (left / n).clamp(self.min_time, self.max_time)
    }
}

impl Default for ThreadParams {
    fn default() -> Self {
        Self::worker()
    }
}

/// A rejected parameter set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamError(pub &'static str);

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ParamError {}

/// Balancer constants. Defaults are BIRD's; tests shrink them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BalancerParams {
    /// A poll timeout below this counts as a busy round (BIRD: 5 ms).
    pub busy_timeout: Duration,
    /// A poll timeout above this (or infinite) forces the thread idle at once (BIRD: 300 ms).
    pub idle_timeout: Duration,
    /// Consecutive busy rounds before the thread is marked busy (BIRD: 4).
    pub busy_rounds: u32,
    /// ... or how long busy rounds must follow each other without a break (10 ms; BIRD counts rounds
    /// only, which takes 40 ms or more when each round runs a loop for its `min time`).
    pub busy_span: Duration,
    /// A loop that changed thread less than this ago is a hot potato and is not moved again (BIRD: 1 s). A
    /// loop's first placement does not count: a session that comes up right after start can still be
    /// moved off a thread that took every new loop.
    pub hot_potato: Duration,
    /// A thread that iterated less than this ago takes one loop at a time from the pickup list (BIRD: 1 s).
    pub recent_iteration: Duration,
}

impl Default for BalancerParams {
    fn default() -> Self {
        BalancerParams {
            busy_timeout: Duration::from_millis(5),
            idle_timeout: Duration::from_millis(300),
            busy_rounds: 4,
            busy_span: Duration::from_millis(10),
            hot_potato: Duration::from_secs(1),
            recent_iteration: Duration::from_secs(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_budget_clamps() {
        assert!(ThreadParams::worker().validate().is_ok());
        assert!(ThreadParams::express().validate().is_ok());
        let mut p = ThreadParams::worker();
        p.min_time = Duration::from_secs(1);
        assert!(p.validate().is_err());
        let p = ThreadParams::worker();
        assert_eq!(p.loop_budget(Duration::ZERO, 1), Duration::from_millis(300));
        assert_eq!(p.loop_budget(Duration::ZERO, 10), Duration::from_millis(50));
        assert_eq!(p.loop_budget(Duration::ZERO, 1000), Duration::from_millis(10));
        assert_eq!(p.loop_budget(Duration::from_secs(2), 1), Duration::from_millis(10));
    }
}
