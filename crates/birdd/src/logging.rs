//! Logging through tracing, honouring the config's `log` statements.
//!
//! tracing levels map to BIRD's classes: ERROR → `error`, WARN → `warning`, INFO → `info`, DEBUG →
//! `debug`, TRACE → `trace`. Each `log` target (a file, `stderr`, `syslog [name "ident"]`) receives the
//! classes it lists. The target list lives in an [`ArcSwap`], so `configure` replaces it without
//! locking the loggers. `-d` adds stderr with every class. Without any `log` statement a foreground
//! daemon logs `info` and worse to stderr.
//!
//! Lines look like BIRD's: `2026-11-21 10:59:03.510 <INFO> static4: reconfigured` (files and stderr,
//! `timeformat log`), `<pri>ident[pid]: message` on syslog (`/dev/log`).

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::sync::{Arc, Mutex, OnceLock};

use arc_swap::ArcSwap;
use birdconf::ast::{Config, LogClass, LogTarget};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

enum Sink {
    Stderr,
    File(Mutex<File>),
    Syslog { sock: UnixDatagram, ident: String },
}

struct Target {
    sink: Sink,
    classes: Vec<LogClass>,
}

struct Targets {
    list: Vec<Target>,
    time: birdcli::TimeFormat,
}

static TARGETS: OnceLock<ArcSwap<Targets>> = OnceLock::new();
static FOREGROUND: OnceLock<bool> = OnceLock::new();

/// The class of a tracing level.
pub fn class_of(l: &Level) -> LogClass {
    match *l {
        Level::ERROR => LogClass::Error,
        Level::WARN => LogClass::Warning,
        Level::INFO => LogClass::Info,
        Level::DEBUG => LogClass::Debug,
        _ => LogClass::Trace,
    }
}

fn class_name(c: LogClass) -> &'static str {
    match c {
        LogClass::Debug => "DBG",
        LogClass::Trace => "TRACE",
        LogClass::Info => "INFO",
        LogClass::Remote => "RMT",
        LogClass::Warning => "WARN",
        LogClass::Error => "ERR",
        LogClass::Auth => "AUTH",
        LogClass::Fatal => "FATAL",
        LogClass::Bug => "BUG",
    }
}

fn cli_class(c: LogClass) -> birdcli::LogClass {
    match c {
        LogClass::Debug => birdcli::LogClass::Debug,
        LogClass::Trace => birdcli::LogClass::Trace,
        LogClass::Info => birdcli::LogClass::Info,
        LogClass::Remote => birdcli::LogClass::Remote,
        LogClass::Warning => birdcli::LogClass::Warning,
        LogClass::Error => birdcli::LogClass::Error,
        LogClass::Auth => birdcli::LogClass::Auth,
        LogClass::Fatal => birdcli::LogClass::Fatal,
        LogClass::Bug => birdcli::LogClass::Bug,
    }
}

fn syslog_severity(c: LogClass) -> u8 {
    match c {
        LogClass::Debug | LogClass::Trace => 7,
        LogClass::Info | LogClass::Remote => 6,
        LogClass::Warning => 4,
        LogClass::Error | LogClass::Auth => 3,
        LogClass::Fatal | LogClass::Bug => 2,
    }
}

fn build(cfg: &Config, debug: bool, foreground: bool) -> Targets {
    let mut list = Vec::new();
    for l in &cfg.logs {
        let sink = match &l.target {
            LogTarget::Stderr => Sink::Stderr,
            LogTarget::File { path, .. } => {
                match std::fs::OpenOptions::new().create(true).append(true).open(path) {
                    Ok(f) => Sink::File(Mutex::new(f)),
                    Err(e) => {
                        eprintln!("birdd: cannot open log file {path}: {e}");
                        continue;
                    }
                }
            }
            LogTarget::Syslog(ident) => {
                let Ok(sock) = UnixDatagram::unbound() else { continue };
                if sock.connect("/dev/log").is_err() {
                    continue;
                }
                Sink::Syslog { sock, ident: ident.clone().unwrap_or_else(|| "birdd".into()) }
            }
        };
        list.push(Target { sink, classes: l.classes.clone() });
    }
    if list.is_empty() && foreground {
        list.push(Target {
            sink: Sink::Stderr,
            classes: vec![LogClass::Info, LogClass::Warning, LogClass::Error, LogClass::Fatal, LogClass::Bug],
        });
    }
    if debug {
        list.retain(|t| !matches!(t.sink, Sink::Stderr));
        list.push(Target { sink: Sink::Stderr, classes: LogClass::ALL.to_vec() });
    }
    let time = crate::config::time_formats(cfg).log;
    Targets { list, time }
}

/// Installs the global subscriber with the config's targets.
pub fn init(cfg: &Config, debug: bool, foreground: bool) {
    let _ = FOREGROUND.set(foreground);
    let targets = TARGETS.get_or_init(|| ArcSwap::from_pointee(build(cfg, debug, foreground)));
    targets.store(Arc::new(build(cfg, debug, foreground)));
    // `-d` means BIRD's debug messages; the (very chatty) trace class only when a `log` asks for it.
    let wants_trace = cfg.logs.iter().any(|l| l.classes.contains(&LogClass::Trace));
    let max = if wants_trace {
        tracing::level_filters::LevelFilter::TRACE
    } else {
        tracing::level_filters::LevelFilter::DEBUG
    };
    let sub = tracing_subscriber::registry().with(BirdLayer.with_filter(max));
    let _ = tracing::subscriber::set_global_default(sub);
}

/// Replaces the targets after a reconfiguration.
pub fn apply(cfg: &Config, debug: bool) {
    if let Some(t) = TARGETS.get() {
        t.store(Arc::new(build(cfg, debug, FOREGROUND.get().copied().unwrap_or(true))));
    }
}

struct Msg(String);

impl Visit for Msg {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

struct BirdLayer;

impl<S: Subscriber> Layer<S> for BirdLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let Some(targets) = TARGETS.get() else { return };
        let targets = targets.load();
        let class = class_of(event.metadata().level());
        let mut m = Msg(String::new());
        event.record(&mut m);
        crate::echo::offer(cli_class(class), &m.0);
        if !targets.list.iter().any(|t| t.classes.contains(&class)) {
            return;
        }
        let now = crate::runtime::now();
        let stamp = targets.time.format(now, now, crate::tz::utc_offset(now.secs()));
        let line = format!("{stamp} <{}> {}\n", class_name(class), m.0);
        for t in targets.list.iter().filter(|t| t.classes.contains(&class)) {
            match &t.sink {
                Sink::Stderr => {
                    let _ = std::io::stderr().write_all(line.as_bytes());
                }
                Sink::File(f) => {
                    let _ = f.lock().unwrap_or_else(|e| e.into_inner()).write_all(line.as_bytes());
                }
                Sink::Syslog { sock, ident } => {
                    // facility daemon (3)
                    let pri = 3 * 8 + syslog_severity(class);
                    let _ = sock.send(format!("<{pri}>{ident}[{}]: {}", std::process::id(), m.0).as_bytes());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(class_of(&Level::ERROR), LogClass::Error);
        assert_eq!(class_of(&Level::WARN), LogClass::Warning);
        assert_eq!(class_of(&Level::INFO), LogClass::Info);
        assert_eq!(class_of(&Level::DEBUG), LogClass::Debug);
        assert_eq!(class_of(&Level::TRACE), LogClass::Trace);
    }

    #[test]
    fn targets_from_config() {
        let dir = std::env::temp_dir().join(format!("birdd-log-{}", std::process::id()));
        let file = format!("{}.log", dir.display());
        let cfg =
            birdconf::parse_str("x", &format!("log \"{file}\" all;\nlog stderr {{ error }};\n")).unwrap();
        let t = build(&cfg, false, true);
        assert_eq!(t.list.len(), 2);
        assert_eq!(t.list[0].classes.len(), LogClass::ALL.len());
        assert_eq!(t.list[1].classes, [LogClass::Error]);
        let d = build(&cfg, true, true);
        assert_eq!(d.list.len(), 2);
        assert!(matches!(d.list[1].sink, Sink::Stderr));
        assert_eq!(d.list[1].classes.len(), LogClass::ALL.len());
        let _ = std::fs::remove_file(file);
    }
}
