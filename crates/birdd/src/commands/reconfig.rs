//! `configure [soft] ["file"] [timeout [N]]`, `configure confirm`, `configure undo`,
//! `configure status`, and the automatic undo when a timed configuration is not confirmed.
//!
//! ```text
//!  configure timeout N ─► applied (previous kept) ─► deadline = now + N ─► CLI server arms its timer
//!       │                                                                         │ expires
//!  configure confirm ─► deadline cleared (0018) / nothing pending (0019)          ▼
//!  configure undo ────► previous applied again (0021- then 0003 / 0019) ◄── "+Config timeout expired,
//!                                                                            starting undo"
//! ```
//!
//! As in BIRD, any applied configuration (also `configure` without `timeout` and SIGHUP) makes the one
//! before it available for one undo and cancels a pending automatic undo; an undo cannot itself be
//! undone.

use std::time::Duration;

use birdcli::format::actions::{
    configure as reply, configure_confirm, configure_status, configure_undo, ConfigureResult,
    ConfigureStatus, ConfirmResult, UndoResult,
};
use birdcli::format::status::DaemonState;
use birdcli::ReplyWriter;

use crate::config::Loaded;
use crate::daemon::Daemon;
use crate::paths::ConfigSource;

/// `configure [soft] ["file"] [timeout [N]]`.
pub fn configure(d: &mut Daemon, file: Option<&str>, timeout: Option<u32>, w: &mut ReplyWriter) {
    let src = match file {
        Some(f) => ConfigSource::File(f.to_owned()),
        None => d.source.clone(),
    };
    let timeout = timeout.filter(|&n| n > 0);
    match d.reconfigure(&src) {
        Ok(()) => {
            if let Some(n) = timeout {
                d.rt.undo.set_deadline(Some(Duration::from_secs(u64::from(n))));
                tracing::info!("Undo scheduled in {n} s");
            }
            reply(w, src.name(), timeout, &ConfigureResult::Reconfigured);
        }
        Err(e) => reply(w, src.name(), None, &ConfigureResult::Error(e.to_string())),
    }
}

/// `configure confirm`.
pub fn confirm(d: &mut Daemon, w: &mut ReplyWriter) {
    if d.rt.undo.deadline.is_none() {
        configure_confirm(w, ConfirmResult::NothingToDo);
        return;
    }
    d.rt.undo.set_deadline(None);
    tracing::info!("Reconfiguration confirmed");
    configure_confirm(w, ConfirmResult::Confirmed);
}

/// What an undo did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undone {
    /// The previous configuration runs again.
    Done,
    /// No previous configuration, or it was already restored.
    Nothing,
    /// The daemon is shutting down.
    ShuttingDown,
}

/// Goes back to the previous configuration (at most once per applied configuration).
pub fn undo(d: &mut Daemon) -> Undone {
    if d.state == DaemonState::ShuttingDown {
        return Undone::ShuttingDown;
    }
    if !d.rt.undo.available {
        return Undone::Nothing;
    }
    let Some(prev) = d.rt.undo.previous.clone() else { return Undone::Nothing };
    tracing::info!("Undoing the last reconfiguration");
    apply_loaded(d, prev);
    d.rt.undo.available = false;
    Undone::Done
}

/// Applies an already checked configuration with the daemon-level settings it carries (logging,
/// `timeformat`, `cli` sockets).
fn apply_loaded(d: &mut Daemon, loaded: Loaded) {
    let cfg = std::sync::Arc::clone(&loaded.config);
    crate::logging::apply(&cfg, d.debug);
    d.time_formats = crate::config::time_formats(&cfg);
    d.cli_changed |= cfg.cli != d.rt.config.cli;
    d.rt.apply(loaded);
    tracing::info!("Reconfigured");
}

/// `configure undo`.
pub fn undo_command(d: &mut Daemon, w: &mut ReplyWriter) {
    let r = match undo(d) {
        Undone::Done => UndoResult::Requested(ConfigureResult::Reconfigured),
        Undone::Nothing => UndoResult::NothingToDo,
        Undone::ShuttingDown => UndoResult::Requested(ConfigureResult::IgnoredShuttingDown),
    };
    configure_undo(w, &r);
}

/// The undo timer expired: true when the deadline really passed (an early or stale timer does
/// nothing) and the undo was started.
pub fn expire(d: &mut Daemon) -> bool {
    match d.rt.undo.remaining() {
        Some(left) if left.is_zero() => {}
        _ => return false,
    }
    if d.state == DaemonState::ShuttingDown {
        d.rt.undo.set_deadline(None);
        return false;
    }
    tracing::info!("Config timeout expired, starting undo");
    if undo(d) != Undone::Done {
        d.rt.undo.set_deadline(None);
    }
    true
}

/// `configure status`.
pub fn status(d: &Daemon, w: &mut ReplyWriter) {
    configure_status(w, &ConfigureStatus { state: d.state, undo_in: d.rt.undo.remaining(), queued: false });
}
