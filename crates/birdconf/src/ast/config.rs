//! The global part of the configuration tree.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use birdnet::NetType;

use super::filter::{Filter, Function, Type, Value};
use super::proto::ProtocolConfig;
use crate::error::{ConfigError, Loc};

/// A parsed and checked configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `router id` (an IPv4 address or, in BIRD 3, a number), as 32 bits.
    pub router_id: Option<u32>,
    /// `router id from` interface patterns.
    pub router_id_from: Option<Vec<IfacePattern>>,
    /// `hostname`.
    pub hostname: Option<String>,
    /// `log` targets in order.
    pub logs: Vec<LogConfig>,
    /// Time formats for CLI and logs.
    pub timeformat: TimeFormats,
    /// `debug protocols` default.
    pub debug_protocols: DebugFlags,
    /// `debug latency` (BIRD 3).
    pub debug_latency: bool,
    /// `debug latency limit` (BIRD 3).
    pub debug_latency_limit: Option<Duration>,
    /// `graceful restart wait` in seconds.
    pub graceful_restart_wait: Option<u32>,
    /// `watchdog warning`.
    pub watchdog_warning: Option<Duration>,
    /// `watchdog timeout`.
    pub watchdog_timeout: Option<Duration>,
    /// Custom route attributes.
    pub attributes: Vec<AttributeDecl>,
    /// Thread setup (BIRD 3).
    pub threads: ThreadConfig,
    /// Extra CLI sockets (BIRD 3 / 2.16+).
    pub cli: Vec<CliSocket>,
    /// Constants from `define`, folded.
    pub defines: Vec<Define>,
    /// Routing tables, including the implicit `master4` and `master6` (first).
    pub tables: Vec<TableConfig>,
    /// Named filters.
    pub filters: Vec<Arc<Filter>>,
    /// Functions.
    pub functions: Vec<Arc<Function>>,
    /// Protocols in definition order.
    pub protocols: Vec<ProtocolConfig>,
    /// Templates in definition order.
    pub templates: Vec<ProtocolConfig>,
    /// Non-fatal diagnostics, in BIRD's format.
    pub warnings: Vec<ConfigError>,
}

impl Config {
    /// A protocol by name.
    pub fn protocol(&self, name: &str) -> Option<&ProtocolConfig> {
        self.protocols.iter().find(|p| p.name == name)
    }

    /// A template by name.
    pub fn template(&self, name: &str) -> Option<&ProtocolConfig> {
        self.templates.iter().find(|p| p.name == name)
    }

    /// A table by name.
    pub fn table(&self, name: &str) -> Option<&TableConfig> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// A named filter.
    pub fn filter(&self, name: &str) -> Option<&Arc<Filter>> {
        self.filters.iter().find(|f| f.name.as_deref() == Some(name))
    }

    /// A function.
    pub fn function(&self, name: &str) -> Option<&Arc<Function>> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// A `define`d constant.
    pub fn define(&self, name: &str) -> Option<&Value> {
        self.defines.iter().find(|d| d.name == name).map(|d| &d.value)
    }
}

/// `define NAME = value;`
#[derive(Debug, Clone, PartialEq)]
pub struct Define {
    /// Name.
    pub name: String,
    /// Folded value.
    pub value: Value,
    /// Where it is defined.
    pub loc: Loc,
}

/// `attribute <type> <name>;`
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeDecl {
    /// Name.
    pub name: String,
    /// Type.
    pub ty: Type,
    /// Where it is declared.
    pub loc: Loc,
}

/// Log message classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum LogClass {
    Debug,
    Trace,
    Info,
    Remote,
    Warning,
    Error,
    Auth,
    Fatal,
    Bug,
}

impl LogClass {
    /// All classes, in BIRD's order.
    pub const ALL: [LogClass; 9] = [
        LogClass::Debug,
        LogClass::Trace,
        LogClass::Info,
        LogClass::Remote,
        LogClass::Warning,
        LogClass::Error,
        LogClass::Auth,
        LogClass::Fatal,
        LogClass::Bug,
    ];
}

/// Where a log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    /// A file, optionally size-limited with a backup name.
    File {
        /// Path.
        path: String,
        /// Size limit and backup file (`log "f" 1000000 "f.old" ...`).
        limit: Option<(u32, String)>,
    },
    /// syslog, optionally with an ident name.
    Syslog(Option<String>),
    /// stderr.
    Stderr,
}

/// One `log` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// Destination.
    pub target: LogTarget,
    /// Classes logged there.
    pub classes: Vec<LogClass>,
}

/// A time format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeFormat {
    /// `iso short` (`%T`), `iso long` (`%F %T`), with `ms`/`us` fractions (3 or 6 digits).
    Iso {
        /// `long` includes the date.
        long: bool,
        /// Number of fraction digits: 0, 3 or 6.
        frac_digits: u8,
    },
    /// strftime format, optionally a second one for times older than `limit` seconds.
    Custom {
        /// Format for recent times.
        fmt: String,
        /// `(limit, fmt2)`.
        older: Option<(u32, String)>,
    },
}

/// The four `timeformat` settings, with BIRD's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeFormats {
    /// `timeformat route` (default `iso short ms`).
    pub route: TimeFormat,
    /// `timeformat protocol` (default `iso short ms`).
    pub protocol: TimeFormat,
    /// `timeformat base` (default `iso long ms`).
    pub base: TimeFormat,
    /// `timeformat log` (default `iso long ms`).
    pub log: TimeFormat,
}

impl Default for TimeFormats {
    fn default() -> Self {
        let short = TimeFormat::Iso { long: false, frac_digits: 3 };
        let long = TimeFormat::Iso { long: true, frac_digits: 3 };
        TimeFormats { route: short.clone(), protocol: short, base: long.clone(), log: long }
    }
}

/// Debug flags for protocols and tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[allow(missing_docs)]
pub struct DebugFlags {
    pub states: bool,
    pub routes: bool,
    pub filters: bool,
    pub interfaces: bool,
    pub events: bool,
    pub packets: bool,
}

impl DebugFlags {
    /// `debug all`.
    pub const ALL: DebugFlags = DebugFlags {
        states: true,
        routes: true,
        filters: true,
        interfaces: true,
        events: true,
        packets: true,
    };
    /// `debug off`.
    pub const OFF: DebugFlags = DebugFlags {
        states: false,
        routes: false,
        filters: false,
        interfaces: false,
        events: false,
        packets: false,
    };
}

/// A `thread group` block (BIRD 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadGroup {
    /// Name (`worker`, `express` or any other).
    pub name: String,
    /// Number of threads (default 1).
    pub threads: u32,
    /// Whether this is the default group.
    pub default: bool,
    /// `max latency`.
    pub max_latency: Duration,
    /// `min time`.
    pub min_time: Duration,
    /// `max time`.
    pub max_time: Duration,
    /// `wakeup time`.
    pub wakeup_time: Duration,
    /// Where it is declared (`None` for the implicit groups).
    pub loc: Option<Loc>,
}

impl ThreadGroup {
    /// A group with the defaults BIRD 3 gives `worker`-like groups.
    pub fn worker_defaults(name: &str) -> Self {
        ThreadGroup {
            name: name.into(),
            threads: 1,
            default: false,
            max_latency: Duration::from_secs(1),
            min_time: Duration::from_millis(10),
            max_time: Duration::from_millis(300),
            wakeup_time: Duration::from_secs(31415),
            loc: None,
        }
    }

    /// The defaults of the `express` group.
    pub fn express_defaults() -> Self {
        ThreadGroup {
            name: "express".into(),
            threads: 1,
            default: false,
            max_latency: Duration::from_millis(10),
            min_time: Duration::from_millis(1),
            max_time: Duration::from_millis(10),
            wakeup_time: Duration::from_secs(60),
            loc: None,
        }
    }
}

/// Thread setup: the groups (the implicit `worker` and `express` are always
/// present) and whether the deprecated `threads N;` form was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadConfig {
    /// All groups; exactly one has `default`.
    pub groups: Vec<ThreadGroup>,
    /// The `threads N;` shorthand, if used.
    pub threads_shorthand: Option<u32>,
}

impl Default for ThreadConfig {
    fn default() -> Self {
        let mut worker = ThreadGroup::worker_defaults("worker");
        worker.default = true;
        ThreadConfig { groups: vec![worker, ThreadGroup::express_defaults()], threads_shorthand: None }
    }
}

impl ThreadConfig {
    /// A group by name.
    pub fn group(&self, name: &str) -> Option<&ThreadGroup> {
        self.groups.iter().find(|g| g.name == name)
    }
}

/// An extra control socket: `cli "path" { restrict; v2 attributes; };`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliSocket {
    /// Socket path.
    pub path: String,
    /// Sessions start restricted.
    pub restrict: bool,
    /// `show route all` prints attributes the BIRD 2 way.
    pub v2_attributes: bool,
}

/// A routing table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableConfig {
    /// Name.
    pub name: String,
    /// Address family.
    pub net_type: NetType,
    /// `sorted`.
    pub sorted: bool,
    /// `trie`.
    pub trie: bool,
    /// `gc threshold`.
    pub gc_threshold: Option<u32>,
    /// `gc period`.
    pub gc_period: Option<Duration>,
    /// `cork threshold <low> <high>`.
    pub cork_threshold: Option<(u32, u32)>,
    /// `export settle time <min> <max>`.
    pub export_settle: Option<(Duration, Duration)>,
    /// `route refresh export settle time <min> <max>`.
    pub route_refresh_export_settle: Option<(Duration, Duration)>,
    /// `digest settle time <min> <max>`.
    pub digest_settle: Option<(Duration, Duration)>,
    /// `min settle time` (BIRD 2).
    pub min_settle_time: Option<Duration>,
    /// `max settle time` (BIRD 2).
    pub max_settle_time: Option<Duration>,
    /// `thread group`.
    pub thread_group: Option<String>,
    /// `debug`.
    pub debug: Option<DebugFlags>,
    /// Whether this is an implicit master table not declared in the file.
    pub implicit: bool,
    /// Where it is declared (`None` for implicit ones).
    pub loc: Option<Loc>,
}

impl TableConfig {
    /// A table with default options.
    pub fn new(name: &str, net_type: NetType) -> Self {
        TableConfig {
            name: name.into(),
            net_type,
            sorted: false,
            trie: false,
            gc_threshold: None,
            gc_period: None,
            cork_threshold: None,
            export_settle: None,
            route_refresh_export_settle: None,
            digest_settle: None,
            min_settle_time: None,
            max_settle_time: None,
            thread_group: None,
            debug: None,
            implicit: false,
            loc: None,
        }
    }
}

/// An interface pattern: a shell glob or a prefix, optionally negated (`"-docker*"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfacePattern {
    /// Interface name glob; `negated` for a leading `-`.
    Name {
        /// The glob.
        glob: String,
        /// Excludes matching interfaces.
        negated: bool,
    },
    /// Interfaces with an address in the prefix.
    Prefix {
        /// The prefix.
        net: birdnet::Net,
        /// Excludes matching interfaces.
        negated: bool,
    },
}

/// An IP address with an optional interface scope (`fe80::1%eth0`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedIp {
    /// The address.
    pub addr: IpAddr,
    /// The interface.
    pub iface: Option<String>,
}
