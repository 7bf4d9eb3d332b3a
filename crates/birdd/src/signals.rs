//! Signals: SIGHUP reconfigures, SIGTERM and SIGINT shut down gracefully.
//!
//! signal-hook's async-signal-safe self-pipe writes a byte into a socket pair per action; the read ends
//! are sockets of the main loop, so the work happens there, like any CLI command.

use std::io::{self, Read};
use std::os::unix::net::UnixStream;
use std::sync::Arc;

use birdloop::{Interest, LoopGuard};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::cli::{sync_extra, Server};
use crate::daemon::Stop;

fn drain(s: &mut UnixStream) {
    let mut buf = [0u8; 64];
    while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
}

/// Registers the signal pipes in the main loop.
pub fn install(g: &mut LoopGuard<'_>, server: &Arc<Server>) -> io::Result<()> {
    let (hup_r, hup_w) = UnixStream::pair()?;
    let (term_r, term_w) = UnixStream::pair()?;
    hup_r.set_nonblocking(true)?;
    term_r.set_nonblocking(true)?;
    signal_hook::low_level::pipe::register(SIGHUP, hup_w)?;
    signal_hook::low_level::pipe::register(SIGTERM, term_w.try_clone()?)?;
    signal_hook::low_level::pipe::register(SIGINT, term_w)?;
    let srv = Arc::clone(server);
    g.add_socket(hup_r, Interest::READ, move |g, _k, s: &mut UnixStream, _r| {
        drain(s);
        tracing::info!("SIGHUP received, reconfiguring");
        let res = {
            let mut d = srv.daemon.lock().unwrap_or_else(|e| e.into_inner());
            let src = d.source.clone();
            d.reconfigure(&src)
        };
        match res {
            Ok(()) => sync_extra(g, &srv),
            Err(e) => tracing::error!("{e}"),
        }
    })?;
    let srv = Arc::clone(server);
    g.add_socket(term_r, Interest::READ, move |_g, _k, s: &mut UnixStream, _r| {
        drain(s);
        tracing::info!("Shutdown requested by signal");
        srv.stop(Stop::Signal);
    })?;
    Ok(())
}
