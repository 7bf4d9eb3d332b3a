//! The daemon: startup order, the shared state the CLI works on, and shutdown.
//!
//! ```text
//!  main ─► args ─► config::load (errors: "birdd: file:line:col msg", exit 1; -p stops here)
//!       ─► daemonize (unless -f/-d: re-exec in a new session, parent waits for the socket)
//!       ─► logging ─► privileges (-u/-g, before any thread exists) ─► pidfile
//!       ─► thread groups ─► Runtime (tables, protocols) ─► main loop: control sockets + signal pipes
//!       ─► main thread waits for a shutdown request (down, SIGTERM, SIGINT)
//!       ─► protocols stop, sockets unlinked, pidfile removed, exit 0
//! ```

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use birdcli::format::status::DaemonState;
use birdconf::ConfigError;
use birdloop::{Loop, ThreadGroup};

use crate::args::DaemonArgs;
use crate::paths::ConfigSource;
use crate::runtime::Runtime;
use crate::{cli, config, logging, pidfile, privileges, signals};

/// Environment marker of the re-executed (daemonized) child.
pub const DAEMON_CHILD_ENV: &str = "BIRDD_DAEMON_CHILD";

/// State shared by the CLI sessions (all in the main loop).
#[derive(Debug)]
pub struct Daemon {
    /// Tables and protocols.
    pub rt: Runtime,
    /// Where the configuration comes from.
    pub source: ConfigSource,
    /// Version for the greeting and `show status`.
    pub version: String,
    /// Up / shutting down.
    pub state: DaemonState,
    /// `timeformat` of the active configuration.
    pub time_formats: birdcli::TimeFormats,
    /// Size of the active configuration text (for `show memory`).
    pub config_text_len: usize,
    /// Page size (for `show memory`).
    pub page_size: usize,
    /// Set when the configuration changed the `cli` sockets.
    pub cli_changed: bool,
    /// Whether `-d` forced debug logging.
    pub debug: bool,
}

impl Daemon {
    /// Router ID (`router id`, else from the interfaces when a device protocol runs, else 0).
    pub fn router_id(&self) -> u32 {
        self.rt.router_id()
    }

    /// Host name (`hostname` option, else the kernel's).
    pub fn hostname(&self) -> String {
        self.rt.config.hostname.clone().unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        })
    }

    /// Reads, checks and applies a configuration; on error the running one stays.
    pub fn reconfigure(&mut self, src: &ConfigSource) -> Result<(), ConfigError> {
        let loaded = config::load(src)?;
        tracing::info!("Reconfiguring from {}", src.name());
        let cfg = &loaded.config;
        logging::apply(cfg, self.debug);
        self.time_formats = config::time_formats(cfg);
        self.config_text_len = config_len(src);
        self.cli_changed = cfg.cli != self.rt.config.cli;
        self.rt.apply(loaded);
        self.source = src.clone();
        tracing::info!("Reconfigured");
        Ok(())
    }
}

fn config_len(src: &ConfigSource) -> usize {
    match src {
        ConfigSource::File(f) => std::fs::metadata(f).map(|m| m.len() as usize).unwrap_or(0),
        ConfigSource::Builtin => crate::paths::BUILTIN_CONFIG.len(),
    }
}

/// Why the daemon stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// `down` on the control socket.
    Down,
    /// SIGTERM / SIGINT.
    Signal,
}

/// The version string.
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// Runs the daemon; returns the exit status.
pub fn run(a: DaemonArgs) -> i32 {
    let source = crate::paths::config_source(a.config.as_deref());
    let loaded = match config::load(&source) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("birdd: {e}");
            return 1;
        }
    };
    let cfg = Arc::clone(&loaded.config);
    for w in &cfg.warnings {
        eprintln!("birdd: {w}");
    }
    if a.parse_only {
        return 0;
    }
    let socket = crate::paths::socket_path(a.socket.as_deref());
    if !a.foreground && std::env::var_os(DAEMON_CHILD_ENV).is_none() {
        return daemonize(&socket);
    }
    if std::env::var_os(DAEMON_CHILD_ENV).is_some() {
        // We are the re-executed child: leave the terminal's session.
        let _ = rustix::process::setsid();
    }
    logging::init(&cfg, a.debug, a.foreground);
    if let Err(e) = crate::paths::prepare_socket_dir(&socket) {
        eprintln!("birdd: {}: {e}", socket.display());
        return 1;
    }
    let ids = match privileges::resolve(a.user.as_deref(), a.group.as_deref()) {
        Ok(ids) => ids,
        Err(e) => {
            eprintln!("birdd: {e}");
            return 1;
        }
    };
    let listener = match cli::bind_main(&socket, ids.map(|i| (i.uid, i.gid))) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("birdd: {e}");
            return 1;
        }
    };
    let pid = match a.pidfile.as_deref().map(pidfile::PidFile::create).transpose() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("birdd: {e}");
            let _ = std::fs::remove_file(&socket);
            return 1;
        }
    };
    if let Some(ids) = ids {
        if let Err(e) = privileges::drop_privileges(ids) {
            tracing::error!("{e}");
            eprintln!("birdd: {e}");
            let _ = std::fs::remove_file(&socket);
            return 1;
        }
    }
    let socket_path = socket.clone();
    match start(loaded, source, socket, listener, a.debug) {
        Ok(stop) => {
            tracing::info!("Shutdown completed ({stop:?})");
            drop(pid);
            0
        }
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("birdd: {e}");
            let _ = std::fs::remove_file(&socket_path);
            drop(pid);
            1
        }
    }
}

fn start(
    loaded: config::Loaded,
    source: ConfigSource,
    socket: PathBuf,
    listener: std::os::unix::net::UnixListener,
    debug: bool,
) -> io::Result<Stop> {
    let cfg = Arc::clone(&loaded.config);
    let worker =
        ThreadGroup::worker(config::default_threads(&cfg)).map_err(|e| io::Error::other(format!("{e:?}")))?;
    let main_group = ThreadGroup::express(1).map_err(|e| io::Error::other(format!("{e:?}")))?;
    let time_formats = config::time_formats(&cfg);
    let main_loop = Loop::new("main", birdrcu::LevelId::TheBird, &main_group);
    let mut rt = Runtime::new(loaded, worker.clone());
    rt.events = Some(Arc::clone(main_loop.events()));
    let daemon = Daemon {
        rt,
        config_text_len: config_len(&source),
        source,
        version: version(),
        state: DaemonState::Up,
        time_formats,
        page_size: birdmem::PAGE_SIZE,
        cli_changed: true,
        debug,
    };
    let (tx, rx) = mpsc::channel();
    let server = cli::Server::new(daemon, socket.clone(), tx);
    {
        let mut g = main_loop.enter();
        cli::listen_main(&mut g, &server, listener)?;
        cli::sync_extra(&mut g, &server);
        signals::install(&mut g, &server)?;
        crate::echo::install(&mut g)?;
        crate::housekeeping::install(&mut g, &server);
    }
    crate::dynamic::install(&server, main_loop.events());
    tracing::info!("Started");
    let stop = rx.recv().unwrap_or(Stop::Signal);
    tracing::info!("Shutting down");
    let wait = {
        let mut d = server.daemon.lock().unwrap_or_else(|e| e.into_inner());
        d.state = DaemonState::ShuttingDown;
        d.rt.begin_shutdown()
    };
    if !wait.wait(Duration::from_secs(10)) {
        tracing::warn!("Some protocols did not finish shutting down in time");
    }
    server.unlink_all();
    Ok(stop)
}

/// Without `-f`: re-executes birdd in the background and waits until its control socket accepts
/// connections (or it exits).
fn daemonize(socket: &std::path::Path) -> i32 {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("birdd: cannot daemonize: {e}");
            return 1;
        }
    };
    let mut child = match std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(DAEMON_CHILD_ENV, "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("birdd: cannot daemonize: {e}");
            return 1;
        }
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            eprint!("{err}");
            return st.code().unwrap_or(1);
        }
        if std::os::unix::net::UnixStream::connect(socket).is_ok() {
            return 0;
        }
        if Instant::now() > deadline {
            eprintln!("birdd: the daemon did not open {} in time", socket.display());
            return 1;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Requests a stop from any thread.
pub fn request_stop(tx: &Mutex<mpsc::Sender<Stop>>, why: Stop) {
    let _ = tx.lock().unwrap_or_else(|e| e.into_inner()).send(why);
}
