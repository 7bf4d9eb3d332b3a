//! Control sockets on the main loop.
//!
//! ```text
//!  main socket (-s, 0660) ─┐                    ┌─► Conn: Session (birdcli) ─► commands::execute
//!  cli "path" { restrict; }├─ accept (main loop)┤     reply bytes ─► out buffer ─► non-blocking write
//!  cli "path2"            ─┘                    └─► Conn ...
//! ```
//!
//! Every connection is a socket of the main loop. Replies are appended to the connection's buffer and
//! written as far as the socket takes them; the rest waits for writability. While a connection's buffer
//! holds more than [`OUT_CAP`] bytes it executes no further commands and reads nothing more, so a slow
//! client only ever stalls itself. Commands longer than 4094 bytes are answered `9000 Command too long`
//! by the session decoder, with bounded memory.
//!
//! The server also owns the main-loop timer of `configure timeout`: after a command (or an undo) changed
//! [`crate::runtime::Undo::deadline`] the timer is re-armed; when it fires unconfirmed, the session that
//! gave the timed `configure` gets `+Config timeout expired, starting undo` and the previous
//! configuration is applied again.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, Weak};
use std::time::Instant;

use birdcli::{Command, Session, SessionConfig};
use birdloop::{Interest, LoopGuard, Ready, SockKey, TimerKey};

use crate::commands::{self, After};
use crate::daemon::{request_stop, Daemon, Stop};

/// Buffered reply bytes above which a connection stops executing commands until the client reads.
pub const OUT_CAP: usize = 256 * 1024;

/// Bytes read per wakeup (keeps one chatty client from holding the loop).
const READ_CHUNK: usize = 16 * 1024;

/// The CLI server: daemon state and the open listeners.
#[derive(Debug)]
pub struct Server {
    /// Daemon state.
    pub daemon: Mutex<Daemon>,
    /// Main socket path.
    pub main_path: PathBuf,
    /// Extra `cli` sockets: path → (listener key, session config).
    extra: Mutex<HashMap<String, (SockKey, SessionConfig)>>,
    stop: Mutex<mpsc::Sender<Stop>>,
    undo: Mutex<UndoTimer>,
}

/// The `configure timeout` timer and who is told when it expires.
#[derive(Debug, Default)]
struct UndoTimer {
    timer: Option<TimerKey>,
    notify: Option<(SockKey, Weak<Mutex<Session>>)>,
}

impl Server {
    /// A server for `daemon`, with the main socket at `main_path`.
    pub fn new(daemon: Daemon, main_path: PathBuf, stop: mpsc::Sender<Stop>) -> Arc<Server> {
        Arc::new(Server {
            daemon: Mutex::new(daemon),
            main_path,
            extra: Mutex::new(HashMap::new()),
            stop: Mutex::new(stop),
            undo: Mutex::new(UndoTimer::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Daemon> {
        self.daemon.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Requests shutdown.
    pub fn stop(&self, why: Stop) {
        request_stop(&self.stop, why);
    }

    /// Unlinks every socket file (at shutdown).
    pub fn unlink_all(&self) {
        for path in self.extra.lock().unwrap_or_else(|e| e.into_inner()).keys() {
            let _ = std::fs::remove_file(path);
        }
        let _ = std::fs::remove_file(&self.main_path);
    }
}

/// Re-arms (or stops) the undo timer after the deadline changed; `by` is the session that gave a timed
/// `configure` (told when the undo starts).
fn sync_undo_timer(g: &mut LoopGuard<'_>, server: &Arc<Server>, by: Option<(SockKey, Weak<Mutex<Session>>)>) {
    let deadline = {
        let mut d = server.lock();
        if !d.rt.undo.timer_changed {
            return;
        }
        d.rt.undo.timer_changed = false;
        d.rt.undo.deadline
    };
    let mut u = server.undo.lock().unwrap_or_else(|e| e.into_inner());
    let key = match u.timer {
        Some(k) => k,
        None => {
            let srv = Arc::downgrade(server);
            let k = g.timer("configure undo", move |g, _k| {
                if let Some(srv) = srv.upgrade() {
                    undo_timer_fired(g, &srv);
                }
            });
            u.timer = Some(k);
            k
        }
    };
    match deadline {
        Some(t) => {
            g.set_timer_in(key, t.saturating_duration_since(Instant::now()));
            if by.is_some() {
                u.notify = by;
            }
        }
        None => {
            g.stop_timer(key);
            u.notify = None;
        }
    }
}

fn undo_timer_fired(g: &mut LoopGuard<'_>, server: &Arc<Server>) {
    let started = {
        let mut d = server.lock();
        commands::reconfig::expire(&mut d)
    };
    if started {
        let notify = server.undo.lock().unwrap_or_else(|e| e.into_inner()).notify.take();
        if let Some((key, s)) = notify.and_then(|(k, w)| w.upgrade().map(|s| (k, s))) {
            s.lock().unwrap_or_else(|e| e.into_inner()).notify("Config timeout expired, starting undo");
            let _ = g.set_interest(key, Interest::BOTH);
        }
        if server.lock().cli_changed {
            sync_extra(g, server);
        }
    }
    // An early wakeup re-arms for the rest; after an undo the deadline is gone and the timer stops.
    server.lock().rt.undo.timer_changed = true;
    sync_undo_timer(g, server, None);
}

/// Prepares a socket path: refuses one a live daemon listens on, removes a stale socket file.
fn prepare_path(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(md) if md.file_type().is_socket() => {
            if UnixStream::connect(path).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("{}: another daemon is listening there", path.display()),
                ));
            }
            std::fs::remove_file(path)
        }
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{}: exists and is not a socket", path.display()),
        )),
        Err(_) => Ok(()),
    }
}

fn listen(
    g: &mut LoopGuard<'_>,
    server: &Arc<Server>,
    path: &Path,
    sc: SessionConfig,
) -> io::Result<SockKey> {
    prepare_path(path)?;
    let srv = Arc::clone(server);
    let key = g.unix_listen(path, move |g, _key, l: &mut UnixListener, _ready| accept(g, &srv, l, &sc))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(key)
}

fn session_config(server: &Server, restricted: bool, v2: bool) -> SessionConfig {
    SessionConfig { version: server.lock().version.clone(), restricted, v2_attributes: v2 }
}

/// Binds the main control socket before privileges are dropped (as BIRD does): stale socket removed,
/// mode 0660, owned by the `-u`/`-g` ids when given.
pub fn bind_main(path: &Path, owner: Option<(Option<u32>, Option<u32>)>) -> io::Result<UnixListener> {
    let err = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    prepare_path(path).map_err(err)?;
    let l = UnixListener::bind(path).map_err(err)?;
    l.set_nonblocking(true)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(err)?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, uid, gid).map_err(err)?;
    }
    Ok(l)
}

/// Puts the bound main control socket into the main loop.
pub fn listen_main(g: &mut LoopGuard<'_>, server: &Arc<Server>, l: UnixListener) -> io::Result<()> {
    let sc = session_config(server, false, false);
    let srv = Arc::clone(server);
    g.add_socket(l, Interest::READ, move |g, _key, l: &mut UnixListener, _ready| accept(g, &srv, l, &sc))?;
    tracing::info!("Control socket {}", server.main_path.display());
    Ok(())
}

/// Opens the `cli` sockets of the configuration that are not open yet, closes (and unlinks) removed ones.
pub fn sync_extra(g: &mut LoopGuard<'_>, server: &Arc<Server>) {
    let wanted = {
        let mut d = server.lock();
        d.cli_changed = false;
        d.rt.config.cli.clone()
    };
    let mut extra = server.extra.lock().unwrap_or_else(|e| e.into_inner());
    let keep: Vec<String> = wanted.iter().map(|c| c.path.clone()).collect();
    extra.retain(|path, (key, _)| {
        if keep.contains(path) {
            return true;
        }
        let _ = g.remove_socket::<UnixListener>(*key);
        let _ = std::fs::remove_file(path);
        false
    });
    for c in wanted {
        let sc = session_config(server, c.restrict, c.v2_attributes);
        if let Some((key, old)) = extra.get(&c.path) {
            if *old == sc {
                continue;
            }
            let _ = g.remove_socket::<UnixListener>(*key);
            let _ = std::fs::remove_file(&c.path);
        }
        match listen(g, server, Path::new(&c.path), sc.clone()) {
            Ok(key) => {
                extra.insert(c.path.clone(), (key, sc));
            }
            Err(e) => {
                extra.remove(&c.path);
                tracing::error!("cli socket {}: {e}", c.path);
            }
        }
    }
}

fn accept(g: &mut LoopGuard<'_>, server: &Arc<Server>, l: &mut UnixListener, sc: &SessionConfig) {
    loop {
        match l.accept() {
            Ok((stream, _)) => {
                if stream.set_nonblocking(true).is_err() {
                    continue;
                }
                let mut conn = Conn::new(Arc::clone(server), sc);
                let greeting = conn.session.lock().unwrap_or_else(|e| e.into_inner()).take_output();
                conn.out.extend(greeting);
                let session = Arc::clone(&conn.session);
                let res = g.add_socket(stream, Interest::BOTH, move |g, key, s: &mut UnixStream, r| {
                    conn.on_ready(g, key, s, r)
                });
                match res {
                    Ok(key) => crate::echo::register(key, &session),
                    Err(e) => tracing::warn!("CLI: cannot register connection: {e}"),
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                tracing::warn!("CLI: accept: {e}");
                return;
            }
        }
    }
}

/// `show threads` waiting for the thread snapshot.
type ThreadsSlot = Arc<Mutex<Option<Vec<String>>>>;

struct Conn {
    server: Arc<Server>,
    session: Arc<Mutex<Session>>,
    out: Vec<u8>,
    threads: Option<ThreadsSlot>,
    stop_after_flush: bool,
}

impl Conn {
    fn new(server: Arc<Server>, sc: &SessionConfig) -> Conn {
        Conn {
            server,
            session: Arc::new(Mutex::new(Session::new(sc))),
            out: Vec::new(),
            threads: None,
            stop_after_flush: false,
        }
    }

    fn on_ready(&mut self, g: &mut LoopGuard<'_>, key: SockKey, s: &mut UnixStream, r: Ready) {
        let session = Arc::clone(&self.session);
        let mut sess = session.lock().unwrap_or_else(|e| e.into_inner());
        self.ready(g, key, s, r, &mut sess);
    }

    fn ready(
        &mut self,
        g: &mut LoopGuard<'_>,
        key: SockKey,
        s: &mut UnixStream,
        r: Ready,
        sess: &mut Session,
    ) {
        if r.readable && self.out.len() < OUT_CAP && !self.stop_after_flush {
            let mut buf = [0u8; 4096];
            let mut total = 0;
            while total < READ_CHUNK {
                match s.read(&mut buf) {
                    Ok(0) => {
                        let _ = g.remove_socket::<UnixStream>(key);
                        return;
                    }
                    Ok(n) => {
                        sess.feed(&buf[..n]);
                        total += n;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => {
                        let _ = g.remove_socket::<UnixStream>(key);
                        return;
                    }
                }
            }
        }
        self.process(g, key, sess);
        loop {
            if self.out.is_empty() {
                break;
            }
            match s.write(&self.out) {
                Ok(0) => break,
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    let _ = g.remove_socket::<UnixStream>(key);
                    return;
                }
            }
        }
        if self.stop_after_flush && self.out.is_empty() {
            self.server.stop(Stop::Down);
        }
        // Waiting for the thread snapshot: poll writability (the snapshot takes a few loop rounds).
        let want_write = !self.out.is_empty() || self.threads.is_some();
        let want_read = self.out.len() < OUT_CAP && !self.stop_after_flush;
        let _ = g.set_interest(key, Interest { read: want_read, write: want_write });
    }

    fn process(&mut self, g: &mut LoopGuard<'_>, key: SockKey, sess: &mut Session) {
        loop {
            if let Some(slot) = &self.threads {
                let lines = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
                let Some(lines) = lines else { break };
                self.threads = None;
                let w = sess.writer();
                match lines.split_last() {
                    Some((last, rest)) => {
                        for l in rest {
                            w.line(birdcli::code::THREADS, l);
                        }
                        w.finish(birdcli::code::THREADS, last);
                    }
                    None => w.finish(birdcli::code::OK, ""),
                }
            }
            if self.out.len() >= OUT_CAP || self.stop_after_flush {
                break;
            }
            let Some(cmd) = sess.next_command() else { break };
            let timed = matches!(cmd, Command::Configure { timeout: Some(n), .. } if n > 0);
            let after = {
                let restricted = sess.is_restricted();
                let mut d = self.server.lock();
                commands::execute(&mut d, cmd, restricted, sess.writer())
            };
            match after {
                After::Done => {}
                After::Shutdown => self.stop_after_flush = true,
                After::Threads { all } => {
                    let slot: ThreadsSlot = Arc::new(Mutex::new(None));
                    let s2 = Arc::clone(&slot);
                    birdloop::snapshot_threads(move |snap| {
                        *s2.lock().unwrap_or_else(|e| e.into_inner()) = Some(snap.render(all));
                    });
                    self.threads = Some(slot);
                }
            }
            self.out.extend(sess.take_output());
            let by = timed.then(|| (key, Arc::downgrade(&self.session)));
            sync_undo_timer(g, &self.server, by);
        }
        self.out.extend(sess.take_output());
        let changed = self.server.lock().cli_changed;
        if changed {
            sync_extra(g, &self.server);
        }
    }
}
