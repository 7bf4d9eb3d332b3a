//! `echo`: log messages delivered to CLI sessions as `+text` lines.
//!
//! ```text
//!  any thread: tracing event ─► logging layer ─► echo::offer(class, text) ─► queue + wake byte
//!  main loop:  wake socket readable ─► each live session: Session::log(class, text) (it filters by its
//!              own `echo` classes and buffer size) ─► connection marked writable ─► `+text` flushed
//! ```
//!
//! The offering side takes only the queue lock, never a session's, so logging from inside a command
//! cannot deadlock.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use birdcli::{LogClass, Session};
use birdloop::{Interest, LoopGuard, SockKey};

struct Hub {
    queue: Mutex<Vec<(LogClass, String)>>,
    wake: UnixStream,
    sessions: Mutex<Vec<(SockKey, Weak<Mutex<Session>>)>>,
}

static HUB: OnceLock<Hub> = OnceLock::new();

/// Most messages queued between two deliveries (older ones are dropped).
const QUEUE_MAX: usize = 4096;

/// Offers a log message to echoing sessions (any thread).
pub fn offer(class: LogClass, text: &str) {
    let Some(h) = HUB.get() else { return };
    let mut q = h.queue.lock().unwrap_or_else(|e| e.into_inner());
    if !h.sessions.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|(_, s)| s.strong_count() > 0) {
        return;
    }
    if q.len() < QUEUE_MAX {
        q.push((class, text.to_owned()));
    }
    if q.len() == 1 {
        let _ = (&h.wake).write(&[1]);
    }
}

/// Registers a session for echo delivery.
pub fn register(key: SockKey, s: &Arc<Mutex<Session>>) {
    if let Some(h) = HUB.get() {
        let mut v = h.sessions.lock().unwrap_or_else(|e| e.into_inner());
        v.retain(|(_, w)| w.strong_count() > 0);
        v.push((key, Arc::downgrade(s)));
    }
}

/// Installs the hub; its wake socket is read in the main loop.
pub fn install(g: &mut LoopGuard<'_>) -> std::io::Result<()> {
    let (r, w) = UnixStream::pair()?;
    r.set_nonblocking(true)?;
    w.set_nonblocking(true)?;
    if HUB.set(Hub { queue: Mutex::new(Vec::new()), wake: w, sessions: Mutex::new(Vec::new()) }).is_err() {
        return Ok(());
    }
    g.add_socket(r, Interest::READ, |g, _k, s: &mut UnixStream, _r| {
        let mut buf = [0u8; 64];
        while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
        deliver(g);
    })?;
    Ok(())
}

fn deliver(g: &mut LoopGuard<'_>) {
    let Some(h) = HUB.get() else { return };
    let msgs = std::mem::take(&mut *h.queue.lock().unwrap_or_else(|e| e.into_inner()));
    let sessions: Vec<(SockKey, Arc<Mutex<Session>>)> = {
        let mut v = h.sessions.lock().unwrap_or_else(|e| e.into_inner());
        v.retain(|(_, w)| w.strong_count() > 0);
        v.iter().filter_map(|(k, w)| w.upgrade().map(|s| (*k, s))).collect()
    };
    for (key, s) in sessions {
        let mut s = s.lock().unwrap_or_else(|e| e.into_inner());
        if s.echo_classes().is_empty() {
            continue;
        }
        for (c, t) in &msgs {
            s.log(*c, t);
        }
        drop(s);
        let _ = g.set_interest(key, Interest::BOTH);
    }
}
