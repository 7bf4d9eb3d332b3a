//! The commands a session can execute, as parsed from one request line.
//!
//! Names of protocols, tables, filters and constants stay strings: the daemon
//! resolves them against its running configuration (and answers `9001`/`9002`
//! when they do not exist). Filter expressions stay raw source text for the
//! filter compiler.

use std::net::IpAddr;

use birdnet::Net;

/// `configure ... timeout` without a number: BIRD's default undo timeout.
pub const DEFAULT_CONFIGURE_TIMEOUT: u32 = 300;

/// Which protocols a command applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtoTarget {
    /// A protocol symbol (`disable peer_b4`).
    Name(String),
    /// A shell-like pattern in quotes (`disable "peer*"`).
    Pattern(String),
    /// `all`.
    All,
}

/// Direction of `reload`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadDir {
    /// `reload p`: both directions.
    Both,
    /// `reload in p`.
    In,
    /// `reload out p`.
    Out,
}

/// Log message classes for `echo` (and the log configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogClass {
    /// `debug`
    Debug,
    /// `trace`
    Trace,
    /// `info`
    Info,
    /// `remote`
    Remote,
    /// `warning`
    Warning,
    /// `error`
    Error,
    /// `auth`
    Auth,
    /// `fatal`
    Fatal,
    /// `bug`
    Bug,
}

impl LogClass {
    /// Every class (what `echo all` selects).
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

    /// The keyword.
    pub fn name(self) -> &'static str {
        match self {
            LogClass::Debug => "debug",
            LogClass::Trace => "trace",
            LogClass::Info => "info",
            LogClass::Remote => "remote",
            LogClass::Warning => "warning",
            LogClass::Error => "error",
            LogClass::Auth => "auth",
            LogClass::Fatal => "fatal",
            LogClass::Bug => "bug",
        }
    }

    /// Looks a keyword up.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == s)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of [`LogClass`]es.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogClasses(u16);

impl LogClasses {
    /// No class.
    pub const NONE: LogClasses = LogClasses(0);

    /// Every class.
    pub fn all() -> Self {
        LogClass::ALL.into_iter().collect()
    }

    /// Whether `c` is in the set.
    pub fn contains(self, c: LogClass) -> bool {
        self.0 & c.bit() != 0
    }

    /// Adds `c`.
    pub fn insert(&mut self, c: LogClass) {
        self.0 |= c.bit();
    }

    /// True for the empty set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl FromIterator<LogClass> for LogClasses {
    fn from_iter<I: IntoIterator<Item = LogClass>>(iter: I) -> Self {
        let mut s = LogClasses::NONE;
        for c in iter {
            s.insert(c);
        }
        s
    }
}

/// `echo all|off|{ classes } [size]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EchoSpec {
    /// Selected classes (empty for `off`).
    pub classes: LogClasses,
    /// Optional buffer size in bytes.
    pub size: Option<u32>,
}

/// `debug` / `mrtdump` flag selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagSpec {
    /// `all`
    All,
    /// `off`
    Off,
    /// `{ a, b }` (keywords as written, validated against the command's list).
    Set(Vec<String>),
}

/// `debug` flag keywords for protocols.
pub const DEBUG_FLAGS: &[&str] = &["states", "routes", "filters", "interfaces", "events", "packets"];
/// `mrtdump` flag keywords.
pub const MRTDUMP_FLAGS: &[&str] = &["states", "messages"];

/// What `show route for` looks up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForTarget {
    /// An address: longest-prefix match.
    Addr(IpAddr),
    /// A prefix: longest covering net.
    Net(Net),
    /// A constant symbol holding an address or prefix.
    Symbol(String),
}

/// How `show route` selects networks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NetSelect {
    /// Every network.
    #[default]
    All,
    /// `show route <prefix>`: exactly this net.
    Exact(Net),
    /// `show route for <ip|prefix>`: the longest match.
    For(ForTarget),
    /// `show route in <prefix>`: every net inside.
    In(Net),
}

/// Tables for `show route`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TableSelect {
    /// No `table` option: the default tables (or the protocol's).
    #[default]
    Default,
    /// `table a table b`.
    Named(Vec<String>),
    /// `table all`.
    All,
}

/// Export-related selection in `show route`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportMode {
    /// `export p[.channel]`: what the export filter accepts now.
    Export,
    /// `exported p[.channel]`: what was actually exported.
    Exported,
    /// `noexport p[.channel]`: what the export filter rejects.
    NoExport,
    /// `preexport p[.channel]`: what passes the protocol's pre-export check.
    PreExport,
}

/// Channel reference `proto` or `proto.channel`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRef {
    /// Protocol symbol.
    pub protocol: String,
    /// Channel name after the dot, if given.
    pub channel: Option<String>,
}

/// Route filter given to `show route`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteFilter {
    /// `filter name`
    Named(String),
    /// `filter { ... }`: the block including its braces.
    Block(String),
    /// `where <expr>`: the expression text.
    Where(String),
}

/// Counting mode of `show route`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatsMode {
    /// Route listing only.
    #[default]
    None,
    /// `stats`: listing plus per-table counts.
    Stats,
    /// `count`: counts only.
    Count,
}

/// All options of `show route`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouteQuery {
    /// Network selection.
    pub net: NetSelect,
    /// Tables.
    pub tables: TableSelect,
    /// `all`: detail lines.
    pub verbose: bool,
    /// `count` / `stats`.
    pub stats: StatsMode,
    /// `primary`: only the best route of each net.
    pub primary: bool,
    /// `filtered`: routes rejected by import filters (kept with `import keep filtered`).
    pub filtered: bool,
    /// `protocol p`.
    pub protocol: Option<String>,
    /// `export|exported|noexport|preexport p[.c]`.
    pub export: Option<(ExportMode, ChannelRef)>,
    /// Filters (`filter`, `where`), applied in order.
    pub filters: Vec<RouteFilter>,
}

/// `show symbols` selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SymbolQuery {
    /// Every symbol.
    All,
    /// Only one class (`table`, `filter`, `function`, `protocol`, `template`, `constant`, `attribute`).
    Class(String),
    /// One symbol by name.
    Name(String),
}

/// `show ospf` views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OspfView {
    /// `show ospf [p]`
    Summary,
    /// `show ospf neighbors [p]`
    Neighbors,
    /// `show ospf interface [p]`
    Interface,
    /// `show ospf topology [all] [p]`
    Topology,
    /// `show ospf state [all] [p]`
    State,
    /// `show ospf lsadb [p]`
    Lsadb,
}

/// Silent words: the daemon sends no reply bytes at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuietWord {
    /// `quit`
    Quit,
    /// `exit`
    Exit,
    /// `help`
    Help,
}

/// One parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `show status`
    ShowStatus,
    /// `show memory`
    ShowMemory,
    /// `show threads [all]`
    ShowThreads {
        /// `all`: per-loop detail.
        all: bool,
    },
    /// `show protocols [all] [name|"pattern"]`
    ShowProtocols {
        /// `all`: details.
        all: bool,
        /// Restriction (`None` = every protocol).
        target: Option<ProtoTarget>,
    },
    /// `show interfaces [summary]`
    ShowInterfaces {
        /// `summary`
        summary: bool,
    },
    /// `show route ...`
    ShowRoute(Box<RouteQuery>),
    /// `show symbols [...]`
    ShowSymbols(SymbolQuery),
    /// `show static [name]`
    ShowStatic {
        /// Protocol name.
        name: Option<String>,
    },
    /// `show bfd sessions [name]`
    ShowBfdSessions {
        /// Protocol name.
        name: Option<String>,
    },
    /// `show ospf [view] [all] [name]`
    ShowOspf {
        /// Which view.
        view: OspfView,
        /// `all` (topology/state).
        all: bool,
        /// Protocol name.
        name: Option<String>,
    },
    /// `eval <expr>`: the expression text.
    Eval(String),
    /// `echo ...`
    Echo(EchoSpec),
    /// `enable <target> ["msg"]`
    Enable {
        /// Protocols.
        target: ProtoTarget,
        /// Optional message.
        message: Option<String>,
    },
    /// `disable <target> ["msg"]`
    Disable {
        /// Protocols.
        target: ProtoTarget,
        /// Optional message.
        message: Option<String>,
    },
    /// `restart <target> ["msg"]`
    Restart {
        /// Protocols.
        target: ProtoTarget,
        /// Optional message.
        message: Option<String>,
    },
    /// `reload [in|out] <target>`
    Reload {
        /// Direction.
        dir: ReloadDir,
        /// Protocols.
        target: ProtoTarget,
    },
    /// `configure [soft] ["file"] [timeout [n]]`
    Configure {
        /// `soft`
        soft: bool,
        /// Explicit file.
        file: Option<String>,
        /// Undo timeout in seconds (`timeout` alone = [`DEFAULT_CONFIGURE_TIMEOUT`]).
        timeout: Option<u32>,
    },
    /// `configure confirm`
    ConfigureConfirm,
    /// `configure undo`
    ConfigureUndo,
    /// `configure status`
    ConfigureStatus,
    /// `configure check ["file"]`
    ConfigureCheck {
        /// Explicit file.
        file: Option<String>,
    },
    /// `down`
    Down,
    /// `graceful restart`
    GracefulRestart,
    /// `debug <target> all|off|{...}`
    Debug {
        /// Protocols.
        target: ProtoTarget,
        /// Flags.
        flags: FlagSpec,
    },
    /// `mrtdump <target> all|off|{...}`
    Mrtdump {
        /// Protocols.
        target: ProtoTarget,
        /// Flags.
        flags: FlagSpec,
    },
    /// `dump <what> ["file"]`
    Dump {
        /// What to dump, e.g. `resources`, `attribute stats`, `ao keys`.
        what: String,
        /// Target file (BIRD 3).
        file: Option<String>,
    },
    /// `restrict`
    Restrict,
    /// `quit`, `exit`, `help`: no reply at all.
    Quiet(QuietWord),
}

impl Command {
    /// Whether a restricted session must refuse this command with
    /// `8007 Access denied` (CLI-PROTOCOL.md §7).
    pub fn is_privileged(&self) -> bool {
        matches!(
            self,
            Command::Enable { .. }
                | Command::Disable { .. }
                | Command::Restart { .. }
                | Command::Reload { .. }
                | Command::Configure { .. }
                | Command::ConfigureConfirm
                | Command::ConfigureUndo
                | Command::ConfigureCheck { .. }
                | Command::Down
                | Command::GracefulRestart
                | Command::Debug { .. }
                | Command::Mrtdump { .. }
                | Command::Dump { .. }
        )
    }
}
