//! Route limits (`receive|import|export limit N action warn|block|restart|disable`) and the restart gate
//! (`restart time limit`).
//!
//! A limit counts the routes a channel holds in one direction. It is checked before a route *new to its
//! net* is counted (a replacement never hits a limit): when the count is already at the maximum, the limit
//! is hit and its action decides.
//!
//! * `warn`: log once per hit episode (the next warning comes only after the count fell below the limit),
//!   let the route through.
//! * `block`: log once per episode, drop the route (counted in the `limit` statistics column).
//! * `restart` / `disable`: log once, drop the route, and take the protocol down (restart or disable);
//!   further routes are dropped until the channel restarts.

use std::fmt;
use std::time::Duration;

use birdloop::Time;

/// What a limit does when hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitAction {
    /// Log a warning, keep accepting routes.
    Warn,
    /// Log, drop routes above the limit.
    Block,
    /// Log, restart the protocol (subject to the restart gate).
    Restart,
    /// Log, disable the protocol.
    Disable,
}

impl LimitAction {
    /// The action keyword (`warn`, `block`, `restart`, `disable`).
    pub fn name(self) -> &'static str {
        match self {
            LimitAction::Warn => "warn",
            LimitAction::Block => "block",
            LimitAction::Restart => "restart",
            LimitAction::Disable => "disable",
        }
    }
}

impl fmt::Display for LimitAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A configured limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limit {
    /// The maximum number of routes.
    pub max: u32,
    /// The action when the maximum is reached and one more route arrives.
    pub action: LimitAction,
}

impl Limit {
    /// `limit max action action`.
    pub fn new(max: u32, action: LimitAction) -> Limit {
        Limit { max, action }
    }
}

/// Which limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitDir {
    /// `receive limit`: routes received from the protocol, before the import filter.
    Receive,
    /// `import limit`: routes accepted into the table.
    Import,
    /// `export limit`: routes exported to the protocol.
    Export,
}

impl LimitDir {
    /// `receive`, `import`, `export` (as in the log message).
    pub fn name(self) -> &'static str {
        match self {
            LimitDir::Receive => "receive",
            LimitDir::Import => "import",
            LimitDir::Export => "export",
        }
    }
}

/// What the caller must do with a route after [`LimitState::check_new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitOutcome {
    /// Count it and go on.
    Pass,
    /// Drop it (block, or a restart/disable already scheduled).
    Drop,
    /// Drop it and take the protocol down: restart (`true`) or disable (`false`).
    Down {
        /// Restart rather than disable.
        restart: bool,
    },
}

/// A limit and its hit state, kept by a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitState {
    /// The limit.
    pub limit: Limit,
    /// Whether the limit is hit now (` [HIT]` in `show protocols all`).
    pub hit: bool,
    /// A restart or disable was triggered; routes are dropped until the channel restarts.
    pub tripped: bool,
}

impl LimitState {
    /// A limit not hit.
    pub fn new(limit: Limit) -> LimitState {
        LimitState { limit, hit: false, tripped: false }
    }

    /// Check a route new to its net while `count` routes are counted. Logs the hit (once per episode) with
    /// the protocol's `name`.
    pub fn check_new(&mut self, name: &str, dir: LimitDir, count: u64) -> LimitOutcome {
        if self.tripped {
            return LimitOutcome::Drop;
        }
        if count < u64::from(self.limit.max) {
            self.hit = false;
            return LimitOutcome::Pass;
        }
        if !self.hit {
            tracing::warn!(
                target: "bird::proto",
                "Protocol {} hits route {} limit ({}), action: {}",
                name,
                dir.name(),
                self.limit.max,
                self.limit.action
            );
            self.hit = true;
        }
        match self.limit.action {
            LimitAction::Warn => LimitOutcome::Pass,
            LimitAction::Block => LimitOutcome::Drop,
            LimitAction::Restart | LimitAction::Disable => {
                self.tripped = true;
                LimitOutcome::Down { restart: self.limit.action == LimitAction::Restart }
            }
        }
    }

    /// The count went down (a route removed): a new episode starts once it is below the limit.
    pub fn count_changed(&mut self, count: u64) {
        if count < u64::from(self.limit.max) && !self.tripped {
            self.hit = false;
        }
    }

    /// Back to the initial state (the channel restarted).
    pub fn reset(&mut self) {
        self.hit = false;
        self.tripped = false;
    }
}

/// `restart time limit`: automatic restarts closer together than `limit` disable the protocol instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartGate {
    /// When the protocol was last (re)started automatically, or created.
    pub last_restart: Time,
    /// The minimum time between two automatic restarts.
    pub limit: Duration,
}

/// BIRD's default `restart time limit`: 5 s.
pub const DEFAULT_RESTART_TIME_LIMIT: Duration = Duration::from_secs(5);

impl RestartGate {
    /// A gate for a protocol created at `now`.
    pub fn new(now: Time, limit: Duration) -> RestartGate {
        RestartGate { last_restart: now, limit }
    }

    /// Whether an automatic restart at `now` is allowed; if so, records it.
    pub fn try_restart(&mut self, now: Time) -> bool {
        if now.saturating_since(self.last_restart) < self.limit {
            return false;
        }
        self.last_restart = now;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warn_once_per_episode() {
        let mut l = LimitState::new(Limit::new(2, LimitAction::Warn));
        assert_eq!(l.check_new("p", LimitDir::Import, 1), LimitOutcome::Pass);
        assert!(!l.hit);
        assert_eq!(l.check_new("p", LimitDir::Import, 2), LimitOutcome::Pass);
        assert!(l.hit);
        assert_eq!(l.check_new("p", LimitDir::Import, 3), LimitOutcome::Pass);
        l.count_changed(1);
        assert!(!l.hit);
    }

    #[test]
    fn block_restart_disable() {
        let mut b = LimitState::new(Limit::new(1, LimitAction::Block));
        assert_eq!(b.check_new("p", LimitDir::Receive, 0), LimitOutcome::Pass);
        assert_eq!(b.check_new("p", LimitDir::Receive, 1), LimitOutcome::Drop);
        assert_eq!(b.check_new("p", LimitDir::Receive, 0), LimitOutcome::Pass);
        let mut r = LimitState::new(Limit::new(1, LimitAction::Restart));
        assert_eq!(r.check_new("p", LimitDir::Import, 1), LimitOutcome::Down { restart: true });
        assert_eq!(r.check_new("p", LimitDir::Import, 0), LimitOutcome::Drop);
        r.reset();
        assert_eq!(r.check_new("p", LimitDir::Import, 0), LimitOutcome::Pass);
        let mut d = LimitState::new(Limit::new(0, LimitAction::Disable));
        assert_eq!(d.check_new("p", LimitDir::Export, 0), LimitOutcome::Down { restart: false });
    }

    #[test]
    fn restart_gate() {
        let t0 = Time::from_nanos(1_000_000_000);
        let mut g = RestartGate::new(t0, DEFAULT_RESTART_TIME_LIMIT);
        assert!(!g.try_restart(t0 + Duration::from_millis(4999)));
        assert!(g.try_restart(t0 + Duration::from_secs(5)));
        assert!(!g.try_restart(t0 + Duration::from_secs(9)));
        assert!(g.try_restart(t0 + Duration::from_secs(10)));
    }
}
