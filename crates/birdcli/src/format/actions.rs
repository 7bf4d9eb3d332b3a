//! Replies of state-changing and small commands: protocol actions,
//! `configure`, `eval`, `restrict`, `down`, errors.

use crate::reply::{code, ReplyWriter};

/// Outcome of a protocol action for one protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtoOutcome {
    /// `0009 p: disabled`
    Disabled,
    /// `0008 p: already disabled`
    AlreadyDisabled,
    /// `0011 p: enabled`
    Enabled,
    /// `0010 p: already enabled`
    AlreadyEnabled,
    /// `0012 p: restarted`
    Restarted,
    /// `0008 p: is not UP` (BIRD 3 reload of a down protocol)
    NotUp,
    /// `0015 p: reloading`
    Reloading,
    /// `8006 p: reload failed`
    ReloadFailed,
    /// Any other line: `(code, text after "p: ")`.
    Other(u16, String),
}

impl ProtoOutcome {
    fn code_text(&self) -> (u16, &str) {
        match self {
            ProtoOutcome::Disabled => (code::DISABLED, "disabled"),
            ProtoOutcome::AlreadyDisabled => (code::ALREADY_DISABLED, "already disabled"),
            ProtoOutcome::Enabled => (code::ENABLED, "enabled"),
            ProtoOutcome::AlreadyEnabled => (code::ALREADY_ENABLED, "already enabled"),
            ProtoOutcome::Restarted => (code::RESTARTED, "restarted"),
            ProtoOutcome::NotUp => (code::ALREADY_DISABLED, "is not UP"),
            ProtoOutcome::Reloading => (code::RELOADING, "reloading"),
            ProtoOutcome::ReloadFailed => (code::RELOAD_FAILED, "reload failed"),
            ProtoOutcome::Other(c, t) => (*c, t),
        }
    }
}

/// Writes the reply to `enable|disable|restart|reload`: one line per
/// protocol then `0000␠`; nothing matched → `8003 No protocols match`.
pub fn proto_actions(w: &mut ReplyWriter, results: &[(String, ProtoOutcome)]) {
    if results.is_empty() {
        w.finish(code::NO_PROTOCOLS_MATCH, "No protocols match");
        return;
    }
    for (name, o) in results {
        let (c, t) = o.code_text();
        w.line_fmt(c, format_args!("{name}: {t}"));
    }
    w.finish(code::OK, "");
}

/// Final result of a `configure` / `configure check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigureResult {
    /// `0003 Reconfigured` (BIRD 2, finished synchronously)
    Reconfigured,
    /// `0004 Reconfiguration in progress`
    InProgress,
    /// `0005 Reconfiguration already in progress, queueing new config`
    Queued,
    /// `0006 Reconfiguration ignored, shutting down`
    IgnoredShuttingDown,
    /// `0020 Configuration OK` (`configure check`)
    CheckOk,
    /// `8002 <file>:<line>:<col> <message>` or `8002 <file>: <strerror>`
    Error(String),
}

/// Writes the reply to `configure [soft] ["file"] [timeout]` and `configure check`.
///
/// `file` gives the `0002-Reading configuration from F` line, `undo_in` the
/// `0022-Undo scheduled in N s` line (only shown on success).
pub fn configure(w: &mut ReplyWriter, file: &str, undo_in: Option<u32>, result: &ConfigureResult) {
    w.line_fmt(code::READING_CONFIG, format_args!("Reading configuration from {file}"));
    if let ConfigureResult::Error(e) = result {
        w.finish(code::CONFIG_ERROR, e);
        return;
    }
    if let Some(n) = undo_in {
        w.line_fmt(code::UNDO_SCHEDULED, format_args!("Undo scheduled in {n} s"));
    }
    match result {
        ConfigureResult::Reconfigured => w.finish(code::RECONFIGURED, "Reconfigured"),
        ConfigureResult::InProgress => w.finish(code::RECONFIG_IN_PROGRESS, "Reconfiguration in progress"),
        ConfigureResult::Queued => {
            w.finish(code::RECONFIG_QUEUED, "Reconfiguration already in progress, queueing new config")
        }
        ConfigureResult::IgnoredShuttingDown => {
            w.finish(code::RECONFIG_IGNORED_SHUTDOWN, "Reconfiguration ignored, shutting down")
        }
        ConfigureResult::CheckOk => w.finish(code::CONFIG_OK, "Configuration OK"),
        ConfigureResult::Error(_) => {}
    }
}

/// Answer to `configure confirm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmResult {
    /// `0018 Reconfiguration confirmed`
    Confirmed,
    /// `0019 Nothing to do`
    NothingToDo,
}

/// Writes the reply to `configure confirm`.
pub fn configure_confirm(w: &mut ReplyWriter, r: ConfirmResult) {
    match r {
        ConfirmResult::Confirmed => w.finish(code::CONFIRMED, "Reconfiguration confirmed"),
        ConfirmResult::NothingToDo => w.finish(code::NOTHING_TO_DO, "Nothing to do"),
    }
}

/// Answer to `configure undo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndoResult {
    /// `0021-Undo requested` then `0019 Nothing to do` (no previous configuration, or it was already
    /// restored)
    NothingToDo,
    /// `0021-Undo requested` then the reconfiguration result.
    Requested(ConfigureResult),
}

/// Writes the reply to `configure undo`. BIRD announces the request before it knows whether there
/// is anything to undo.
pub fn configure_undo(w: &mut ReplyWriter, r: &UndoResult) {
    w.line(code::UNDO_REQUESTED, "Undo requested");
    match r {
        UndoResult::NothingToDo => w.finish(code::NOTHING_TO_DO, "Nothing to do"),
        UndoResult::Requested(res) => match res {
            ConfigureResult::Error(e) => w.finish(code::CONFIG_ERROR, e),
            ConfigureResult::InProgress => {
                w.finish(code::RECONFIG_IN_PROGRESS, "Reconfiguration in progress")
            }
            ConfigureResult::IgnoredShuttingDown => {
                w.finish(code::RECONFIG_IGNORED_SHUTDOWN, "Reconfiguration ignored, shutting down")
            }
            _ => w.finish(code::RECONFIGURED, "Reconfigured"),
        },
    }
}

/// Data for `configure status`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigureStatus {
    /// Daemon state line (`0003 Daemon is up and running`, `0004 Reconfiguration in progress`, ...).
    pub state: crate::format::status::DaemonState,
    /// Time left until an unconfirmed configuration is undone (shown in seconds with three
    /// decimals).
    pub undo_in: Option<std::time::Duration>,
    /// A queued configuration is waiting.
    pub queued: bool,
}

/// Writes the reply to `configure status`.
pub fn configure_status(w: &mut ReplyWriter, s: &ConfigureStatus) {
    use crate::format::status::DaemonState;
    let c = match s.state {
        DaemonState::Up => code::RECONFIGURED,
        DaemonState::Reconfiguring => code::RECONFIG_IN_PROGRESS,
        DaemonState::ShuttingDown => code::RECONFIG_IGNORED_SHUTDOWN,
    };
    w.line(c, s.state.text());
    if s.queued {
        w.line(code::RECONFIG_QUEUED, "Another reconfiguration is queued");
    }
    if let Some(t) = s.undo_in {
        let (secs, ms) = (t.as_secs(), t.subsec_millis());
        w.line_fmt(code::UNDO_SCHEDULED, format_args!("Configuration unconfirmed, undo in {secs}.{ms:03} s"));
    }
    w.finish(code::OK, "");
}

/// `0023 <value>` for `eval`.
pub fn eval_result(w: &mut ReplyWriter, value: &str) {
    w.finish(code::EVAL, value);
}

/// `8008 runtime error` for `eval`.
pub fn runtime_error(w: &mut ReplyWriter) {
    w.finish(code::RUNTIME_ERROR, "runtime error");
}

/// `0016 Access restricted`.
pub fn restricted(w: &mut ReplyWriter) {
    w.finish(code::RESTRICTED, "Access restricted");
}

/// `8007 Access denied`.
pub fn access_denied(w: &mut ReplyWriter) {
    w.finish(code::ACCESS_DENIED, "Access denied");
}

/// `9000 Command too long`.
pub fn command_too_long(w: &mut ReplyWriter) {
    w.finish(code::COMMAND_TOO_LONG, "Command too long");
}

/// `9001 <message>`.
pub fn parse_error(w: &mut ReplyWriter, message: &str) {
    w.finish(code::PARSE_ERROR, message);
}

/// `0007 Shutdown requested`.
pub fn shutdown_requested(w: &mut ReplyWriter) {
    w.finish(code::SHUTDOWN_REQUESTED, "Shutdown requested");
}

/// `0025 Graceful restart requested`.
pub fn graceful_restart_requested(w: &mut ReplyWriter) {
    w.finish(code::GR_REQUESTED, "Graceful restart requested");
}

/// `0000␠`: a listing or an action finished.
pub fn ok(w: &mut ReplyWriter) {
    w.finish(code::OK, "");
}
