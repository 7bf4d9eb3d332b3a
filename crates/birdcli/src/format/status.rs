//! `show status`.

use std::net::Ipv4Addr;

use crate::reply::{code, ReplyWriter};
use crate::time::{TimeContext, WallTime};

/// Daemon state for the last line of `show status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DaemonState {
    /// `Daemon is up and running`
    #[default]
    Up,
    /// `Reconfiguration in progress`
    Reconfiguring,
    /// `Shutdown in progress`
    ShuttingDown,
}

impl DaemonState {
    /// The status text.
    pub fn text(self) -> &'static str {
        match self {
            DaemonState::Up => "Daemon is up and running",
            DaemonState::Reconfiguring => "Reconfiguration in progress",
            DaemonState::ShuttingDown => "Shutdown in progress",
        }
    }
}

/// Data for `show status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusInfo {
    /// Version string (`2.0.12`).
    pub version: String,
    /// Router ID.
    pub router_id: Ipv4Addr,
    /// Host name.
    pub hostname: String,
    /// Daemon start.
    pub boot_time: WallTime,
    /// Last (re)configuration.
    pub last_reconfiguration: WallTime,
    /// Graceful-restart status lines (code 0024), if any.
    pub graceful_restart: Vec<String>,
    /// State for the final line.
    pub state: DaemonState,
}

/// Writes the whole reply (ends with `0013`). "Current server time" is `tc.now`.
pub fn show_status(w: &mut ReplyWriter, s: &StatusInfo, tc: &TimeContext) {
    w.line_fmt(code::STATUS_VERSION, format_args!("BIRD {}", s.version));
    w.line_fmt(code::STATUS_BODY, format_args!("Router ID is {}", s.router_id));
    w.line_fmt(code::STATUS_BODY, format_args!("Hostname is {}", s.hostname));
    w.line_fmt(code::STATUS_BODY, format_args!("Current server time is {}", tc.base(tc.now)));
    w.line_fmt(code::STATUS_BODY, format_args!("Last reboot on {}", tc.base(s.boot_time)));
    w.line_fmt(
        code::STATUS_BODY,
        format_args!("Last reconfiguration on {}", tc.base(s.last_reconfiguration)),
    );
    for l in &s.graceful_restart {
        w.line(code::GR_STATUS, l);
    }
    w.finish(code::STATUS, s.state.text());
}
