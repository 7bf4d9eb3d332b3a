//! `configure [soft] ["file"]`, `configure check ["file"]`, `configure status`.
//!
//! The file is read and checked completely before anything changes; a broken file keeps the running
//! configuration and answers `8002 <file>:<line>:<col> <message>`.

use birdcli::format::actions::{configure as reply, configure_status, ConfigureResult, ConfigureStatus};
use birdcli::ReplyWriter;

use crate::daemon::Daemon;
use crate::paths::ConfigSource;

fn source(d: &Daemon, file: Option<&str>) -> ConfigSource {
    match file {
        Some(f) => ConfigSource::File(f.to_owned()),
        None => d.source.clone(),
    }
}

/// `configure check`.
pub fn check(d: &Daemon, file: Option<&str>, w: &mut ReplyWriter) {
    let src = source(d, file);
    let result = match crate::config::load(&src) {
        Ok(_) => ConfigureResult::CheckOk,
        Err(e) => ConfigureResult::Error(e.to_string()),
    };
    reply(w, src.name(), None, &result);
}

/// `configure`.
pub fn configure(d: &mut Daemon, file: Option<&str>, w: &mut ReplyWriter) {
    let src = source(d, file);
    let result = match d.reconfigure(&src) {
        Ok(()) => ConfigureResult::Reconfigured,
        Err(e) => ConfigureResult::Error(e.to_string()),
    };
    reply(w, src.name(), None, &result);
}

/// `configure status`.
pub fn status(d: &Daemon, w: &mut ReplyWriter) {
    configure_status(w, &ConfigureStatus { state: d.state, undo_in: None, queued: false });
}
