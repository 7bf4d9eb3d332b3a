//! `show status`.

use std::net::Ipv4Addr;

use birdcli::format::status::{show_status, StatusInfo};
use birdcli::ReplyWriter;

use crate::daemon::Daemon;

/// Writes the reply.
pub fn run(d: &Daemon, w: &mut ReplyWriter) {
    let info = StatusInfo {
        version: d.version.clone(),
        router_id: Ipv4Addr::from(d.router_id()),
        hostname: d.hostname(),
        boot_time: d.rt.boot,
        last_reconfiguration: d.rt.last_reconfig,
        graceful_restart: Vec::new(),
        state: d.state,
    };
    show_status(w, &info, &super::time_context(d));
}
