//! Command-line parser: one request line → [`Command`] or a `9001` message.
//!
//! Keywords are lowercase and exact, with no abbreviations (birdc expands
//! those client-side). Names are kept as strings; filter expressions after
//! `where`/`eval` and `filter { ... }` blocks are cut out as raw text. A
//! `where` expression ends at the first top-level `show route` keyword
//! (`all`, `count`, `table`, ...), as BIRD's grammar allows
//! `show route where bgp_path.len > 1 count`.

use std::net::IpAddr;

use birdnet::{parse_ip, Net};

use crate::command::*;

/// A parse-time error, answered as `9001 <message>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// The reply text.
    pub message: String,
}

impl ParseError {
    fn new(m: impl Into<String>) -> Self {
        ParseError { message: m.into() }
    }
}

/// Bison-like message for a name the daemon could not resolve in `cmd`
/// (e.g. `disable nosuch` → `syntax error, unexpected CF_SYM_UNDEFINED, expecting CF_SYM_KNOWN or TEXT or ALL`).
pub fn undefined_symbol_message(cmd: &Command) -> &'static str {
    match cmd {
        Command::ShowProtocols { .. } => {
            "syntax error, unexpected CF_SYM_UNDEFINED, expecting END or CF_SYM_KNOWN or TEXT or ALL"
        }
        Command::Enable { .. }
        | Command::Disable { .. }
        | Command::Restart { .. }
        | Command::Reload { .. }
        | Command::Debug { .. }
        | Command::Mrtdump { .. } => {
            "syntax error, unexpected CF_SYM_UNDEFINED, expecting CF_SYM_KNOWN or TEXT or ALL"
        }
        _ => "syntax error, unexpected CF_SYM_UNDEFINED",
    }
}

/// Words that are keywords of the grammar (anything else is a symbol).
const KEYWORDS: &[&str] = &[
    "show",
    "status",
    "memory",
    "threads",
    "all",
    "protocols",
    "interfaces",
    "summary",
    "route",
    "symbols",
    "static",
    "bfd",
    "sessions",
    "ospf",
    "neighbors",
    "interface",
    "topology",
    "state",
    "lsadb",
    "eval",
    "echo",
    "off",
    "enable",
    "disable",
    "restart",
    "reload",
    "in",
    "out",
    "configure",
    "soft",
    "timeout",
    "confirm",
    "undo",
    "check",
    "down",
    "graceful",
    "debug",
    "mrtdump",
    "dump",
    "restrict",
    "quit",
    "exit",
    "help",
    "for",
    "table",
    "filter",
    "where",
    "count",
    "stats",
    "primary",
    "filtered",
    "protocol",
    "export",
    "exported",
    "noexport",
    "preexport",
    "function",
    "template",
    "constant",
    "attribute",
    "resources",
    "sockets",
    "events",
    "neighbors",
    "attributes",
    "routes",
    "tables",
    "filters",
    "ao",
    "keys",
];

/// Keywords that end a `where` expression at bracket depth 0.
const ROUTE_ARG_KEYWORDS: &[&str] = &[
    "all",
    "count",
    "stats",
    "primary",
    "filtered",
    "table",
    "protocol",
    "export",
    "exported",
    "noexport",
    "preexport",
    "for",
    "in",
    "where",
    "filter",
    "import",
];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Text(String),
    Num(u64),
    Ip(IpAddr),
    Net(Net),
    Char(char),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

fn tok_name(t: Option<&Token>) -> String {
    match t.map(|t| &t.tok) {
        None => "END".into(),
        Some(Tok::Word(w)) if KEYWORDS.contains(&w.as_str()) => w.to_ascii_uppercase(),
        Some(Tok::Word(_)) | Some(Tok::Quoted(_)) => "CF_SYM_UNDEFINED".into(),
        Some(Tok::Text(_)) => "TEXT".into(),
        Some(Tok::Num(_)) => "NUM".into(),
        Some(Tok::Ip(IpAddr::V4(_))) => "IP4".into(),
        Some(Tok::Ip(IpAddr::V6(_))) => "IP6".into(),
        Some(Tok::Net(_)) => "NET".into(),
        Some(Tok::Char(c)) => format!("'{c}'"),
    }
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn lex(line: &str) -> Result<Vec<Token>, ParseError> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b' ' || c == b'\t' {
            i += 1;
            continue;
        }
        let start = i;
        // Addresses, prefixes and numbers.
        if c.is_ascii_hexdigit() || c == b':' {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_hexdigit() || b[j] == b':' || b[j] == b'.') {
                j += 1;
            }
            let run = &line[i..j];
            let next_is_ident = j < b.len() && is_ident(b[j]);
            let looks_ip = !next_is_ident && (run.contains(':') || (c.is_ascii_digit() && run.contains('.')));
            if looks_ip {
                let run = run.trim_end_matches('.');
                let j = i + run.len();
                if let Ok(ip) = parse_ip(run) {
                    // optional /len
                    if j < b.len() && b[j] == b'/' {
                        let mut k = j + 1;
                        while k < b.len() && b[k].is_ascii_digit() {
                            k += 1;
                        }
                        if k > j + 1 {
                            let net: Net = line[i..k].parse().map_err(|e| ParseError::new(format!("{e}")))?;
                            out.push(Token { tok: Tok::Net(net), start, end: k });
                            i = k;
                            continue;
                        }
                    }
                    out.push(Token { tok: Tok::Ip(ip), start, end: j });
                    i = j;
                    continue;
                }
            }
            if c.is_ascii_digit() {
                let mut j = i;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                let n = line[i..j].parse::<u64>().map_err(|_| ParseError::new("Number out of range"))?;
                out.push(Token { tok: Tok::Num(n), start, end: j });
                i = j;
                continue;
            }
        }
        if is_ident_start(c) {
            let mut j = i;
            while j < b.len() && is_ident(b[j]) {
                j += 1;
            }
            out.push(Token { tok: Tok::Word(line[i..j].to_owned()), start, end: j });
            i = j;
            continue;
        }
        if c == b'"' || c == b'\'' {
            let Some(len) = line[i + 1..].find(c as char) else {
                return Err(ParseError::new("Unterminated string"));
            };
            let s = line[i + 1..i + 1 + len].to_owned();
            let tok = if c == b'"' { Tok::Text(s) } else { Tok::Quoted(s) };
            out.push(Token { tok, start, end: i + len + 2 });
            i += len + 2;
            continue;
        }
        let ch = line[i..].chars().next().unwrap_or('?');
        out.push(Token { tok: Tok::Char(ch), start, end: i + ch.len_utf8() });
        i += ch.len_utf8();
    }
    Ok(out)
}

struct Parser<'a> {
    line: &'a str,
    toks: Vec<Token>,
    pos: usize,
}

/// Parses one command line (without its newline).
///
/// ```
/// use birdcli::{parse_command, Command, ProtoTarget};
/// assert_eq!(parse_command("show status"), Ok(Command::ShowStatus));
/// assert_eq!(
///     parse_command("disable \"dead*\" \"maintenance\""),
///     Ok(Command::Disable { target: ProtoTarget::Pattern("dead*".into()), message: Some("maintenance".into()) })
/// );
/// assert!(parse_command("sh ro").is_err());
/// ```
pub fn parse_command(line: &str) -> Result<Command, ParseError> {
    let toks = lex(line)?;
    let mut p = Parser { line, toks, pos: 0 };
    p.command()
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn peek_word(&self) -> Option<&str> {
        match self.peek().map(|t| &t.tok) {
            Some(Tok::Word(w)) => Some(w.as_str()),
            _ => None,
        }
    }

    fn bump(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn unexpected(&self) -> ParseError {
        ParseError::new(format!("syntax error, unexpected {}", tok_name(self.peek())))
    }

    fn unexpected_expecting(&self, what: &str) -> ParseError {
        ParseError::new(format!("syntax error, unexpected {}, expecting {what}", tok_name(self.peek())))
    }

    fn eat(&mut self, kw: &str) -> bool {
        if self.peek_word() == Some(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, kw: &str) -> Result<(), ParseError> {
        if self.eat(kw) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn end(&self) -> Result<(), ParseError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.unexpected_expecting("END")),
        }
    }

    /// A symbol name (non-keyword word or `'quoted'` symbol).
    fn symbol(&mut self) -> Option<String> {
        match self.peek().map(|t| &t.tok) {
            Some(Tok::Word(w)) if !KEYWORDS.contains(&w.as_str()) => {
                let w = w.clone();
                self.pos += 1;
                Some(w)
            }
            Some(Tok::Quoted(w)) => {
                let w = w.clone();
                self.pos += 1;
                Some(w)
            }
            _ => None,
        }
    }

    fn text(&mut self) -> Option<String> {
        match self.peek().map(|t| &t.tok) {
            Some(Tok::Text(s)) => {
                let s = s.clone();
                self.pos += 1;
                Some(s)
            }
            _ => None,
        }
    }

    fn num(&mut self) -> Option<u64> {
        match self.peek().map(|t| &t.tok) {
            Some(Tok::Num(n)) => {
                let n = *n;
                self.pos += 1;
                Some(n)
            }
            _ => None,
        }
    }

    fn proto_target(&mut self) -> Result<ProtoTarget, ParseError> {
        if self.eat("all") {
            return Ok(ProtoTarget::All);
        }
        if let Some(s) = self.symbol() {
            return Ok(ProtoTarget::Name(s));
        }
        if let Some(t) = self.text() {
            return Ok(ProtoTarget::Pattern(t));
        }
        Err(self.unexpected_expecting("CF_SYM_KNOWN or TEXT or ALL"))
    }

    fn command(&mut self) -> Result<Command, ParseError> {
        let Some(Tok::Word(first)) = self.peek().map(|t| t.tok.clone()) else {
            return Err(self.unexpected());
        };
        if !KEYWORDS.contains(&first.as_str()) {
            return Err(self.unexpected());
        }
        self.pos += 1;
        let cmd = match first.as_str() {
            "show" => return self.show(),
            "eval" => Command::Eval(self.expression_to_end()?),
            "echo" => self.echo()?,
            "enable" | "disable" | "restart" => {
                let target = self.proto_target()?;
                let message = self.text();
                match first.as_str() {
                    "enable" => Command::Enable { target, message },
                    "disable" => Command::Disable { target, message },
                    _ => Command::Restart { target, message },
                }
            }
            "reload" => {
                let dir = if self.eat("in") {
                    ReloadDir::In
                } else if self.eat("out") {
                    ReloadDir::Out
                } else {
                    ReloadDir::Both
                };
                Command::Reload { dir, target: self.proto_target()? }
            }
            "configure" => self.configure()?,
            "down" => Command::Down,
            "graceful" => {
                self.expect("restart")?;
                Command::GracefulRestart
            }
            "debug" | "mrtdump" => {
                let target = self.proto_target()?;
                let allowed = if first == "debug" { DEBUG_FLAGS } else { MRTDUMP_FLAGS };
                let flags = self.flag_spec(allowed)?;
                if first == "debug" {
                    Command::Debug { target, flags }
                } else {
                    Command::Mrtdump { target, flags }
                }
            }
            "dump" => self.dump()?,
            "restrict" => Command::Restrict,
            "quit" => Command::Quiet(QuietWord::Quit),
            "exit" => Command::Quiet(QuietWord::Exit),
            "help" => Command::Quiet(QuietWord::Help),
            _ => {
                self.pos -= 1;
                return Err(self.unexpected());
            }
        };
        self.end()?;
        Ok(cmd)
    }

    fn show(&mut self) -> Result<Command, ParseError> {
        let Some(w) = self.peek_word().map(str::to_owned) else {
            return Err(self.unexpected());
        };
        self.pos += 1;
        let cmd = match w.as_str() {
            "status" => Command::ShowStatus,
            "memory" => Command::ShowMemory,
            "threads" => Command::ShowThreads { all: self.eat("all") },
            "protocols" => {
                let all = self.eat("all");
                let target = if let Some(s) = self.symbol() {
                    Some(ProtoTarget::Name(s))
                } else {
                    self.text().map(ProtoTarget::Pattern)
                };
                if self.peek().is_some() {
                    return Err(if all {
                        self.unexpected_expecting("END or CF_SYM_KNOWN or TEXT")
                    } else {
                        self.unexpected_expecting("END or CF_SYM_KNOWN or TEXT or ALL")
                    });
                }
                Command::ShowProtocols { all, target }
            }
            "interfaces" => Command::ShowInterfaces { summary: self.eat("summary") },
            "route" => Command::ShowRoute(Box::new(self.route_args()?)),
            "symbols" => {
                let q = match self.peek_word() {
                    Some(
                        c @ ("table" | "filter" | "function" | "protocol" | "template" | "constant"
                        | "attribute"),
                    ) => {
                        let c = c.to_owned();
                        self.pos += 1;
                        SymbolQuery::Class(c)
                    }
                    _ => match self.symbol() {
                        Some(s) => SymbolQuery::Name(s),
                        None => SymbolQuery::All,
                    },
                };
                Command::ShowSymbols(q)
            }
            "static" => Command::ShowStatic { name: self.symbol() },
            "bfd" => {
                self.expect("sessions")?;
                Command::ShowBfdSessions { name: self.symbol() }
            }
            "ospf" => {
                let view = match self.peek_word() {
                    Some("neighbors") => OspfView::Neighbors,
                    Some("interface") => OspfView::Interface,
                    Some("topology") => OspfView::Topology,
                    Some("state") => OspfView::State,
                    Some("lsadb") => OspfView::Lsadb,
                    _ => OspfView::Summary,
                };
                if view != OspfView::Summary {
                    self.pos += 1;
                }
                let all = matches!(view, OspfView::Topology | OspfView::State) && self.eat("all");
                Command::ShowOspf { view, all, name: self.symbol() }
            }
            _ => {
                self.pos -= 1;
                return Err(self.unexpected());
            }
        };
        self.end()?;
        Ok(cmd)
    }

    fn channel_ref(&mut self) -> Result<ChannelRef, ParseError> {
        let Some(protocol) = self.symbol() else {
            return Err(self.unexpected_expecting("CF_SYM_KNOWN"));
        };
        let channel = if matches!(self.peek().map(|t| &t.tok), Some(Tok::Char('.'))) {
            self.pos += 1;
            match self.peek().map(|t| t.tok.clone()) {
                Some(Tok::Word(w)) => {
                    self.pos += 1;
                    Some(w)
                }
                _ => return Err(self.unexpected()),
            }
        } else {
            None
        };
        Ok(ChannelRef { protocol, channel })
    }

    fn set_net(q: &mut RouteQuery, n: NetSelect) -> Result<(), ParseError> {
        if q.net != NetSelect::All {
            return Err(ParseError::new("Only one prefix expected"));
        }
        q.net = n;
        Ok(())
    }

    fn route_args(&mut self) -> Result<RouteQuery, ParseError> {
        let mut q = RouteQuery::default();
        while let Some(t) = self.peek().cloned() {
            match &t.tok {
                Tok::Net(n) => {
                    self.pos += 1;
                    Self::set_net(&mut q, NetSelect::Exact(*n))?;
                }
                Tok::Word(w) => {
                    self.pos += 1;
                    match w.as_str() {
                        "all" => q.verbose = true,
                        "count" => q.stats = StatsMode::Count,
                        "stats" => q.stats = StatsMode::Stats,
                        "primary" => q.primary = true,
                        "filtered" => q.filtered = true,
                        "table" => {
                            if self.eat("all") {
                                q.tables = TableSelect::All;
                            } else if let Some(s) = self.symbol() {
                                match &mut q.tables {
                                    TableSelect::Named(v) => v.push(s),
                                    TableSelect::All => {}
                                    TableSelect::Default => q.tables = TableSelect::Named(vec![s]),
                                }
                            } else {
                                return Err(self.unexpected_expecting("CF_SYM_KNOWN or ALL"));
                            }
                        }
                        "protocol" => match self.symbol() {
                            Some(s) => q.protocol = Some(s),
                            None => return Err(self.unexpected_expecting("CF_SYM_KNOWN")),
                        },
                        "export" | "exported" | "noexport" | "preexport" => {
                            let mode = match w.as_str() {
                                "export" => ExportMode::Export,
                                "exported" => ExportMode::Exported,
                                "noexport" => ExportMode::NoExport,
                                _ => ExportMode::PreExport,
                            };
                            let c = self.channel_ref()?;
                            q.export = Some((mode, c));
                        }
                        "for" => {
                            let target = match self.peek().map(|t| t.tok.clone()) {
                                Some(Tok::Ip(a)) => ForTarget::Addr(a),
                                Some(Tok::Net(n)) => ForTarget::Net(n),
                                Some(Tok::Word(s)) if !KEYWORDS.contains(&s.as_str()) => ForTarget::Symbol(s),
                                _ => {
                                    return Err(
                                        self.unexpected_expecting("IP4 or IP6 or VPN_RD or CF_SYM_KNOWN")
                                    )
                                }
                            };
                            self.pos += 1;
                            Self::set_net(&mut q, NetSelect::For(target))?;
                        }
                        "in" => match self.peek().map(|t| t.tok.clone()) {
                            Some(Tok::Net(n)) => {
                                self.pos += 1;
                                Self::set_net(&mut q, NetSelect::In(n))?;
                            }
                            _ => return Err(self.unexpected()),
                        },
                        "where" => {
                            let e = self.expression(true)?;
                            q.filters.push(RouteFilter::Where(e));
                        }
                        "filter" => {
                            if let Some(s) = self.symbol() {
                                q.filters.push(RouteFilter::Named(s));
                            } else if matches!(self.peek().map(|t| &t.tok), Some(Tok::Char('{'))) {
                                let b = self.block()?;
                                q.filters.push(RouteFilter::Block(b));
                            } else {
                                return Err(self.unexpected());
                            }
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.unexpected());
                        }
                    }
                }
                _ => return Err(self.unexpected()),
            }
        }
        if q.filtered && (q.export.is_some() || q.primary) {
            return Err(ParseError::new("Incompatible show route options"));
        }
        Ok(q)
    }

    /// `{ ... }` with balanced braces, returned including the braces.
    fn block(&mut self) -> Result<String, ParseError> {
        let start = self.peek().map(|t| t.start).unwrap_or(self.line.len());
        let mut depth = 0usize;
        while let Some(t) = self.bump() {
            match t.tok {
                Tok::Char('{') => depth += 1,
                Tok::Char('}') => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(self.line[start..t.end].to_owned());
                    }
                }
                _ => {}
            }
        }
        Err(self.unexpected())
    }

    fn expression_to_end(&mut self) -> Result<String, ParseError> {
        self.expression(false)
    }

    /// Cuts out an expression; with `route_args`, stops at a top-level route keyword.
    fn expression(&mut self, route_args: bool) -> Result<String, ParseError> {
        let first = self.pos;
        let mut depth: Vec<char> = Vec::new();
        while let Some(t) = self.peek() {
            match &t.tok {
                Tok::Word(w)
                    if route_args && depth.is_empty() && ROUTE_ARG_KEYWORDS.contains(&w.as_str()) =>
                {
                    break
                }
                Tok::Char(c @ ('(' | '[' | '{')) => depth.push(*c),
                Tok::Char(c @ (')' | ']' | '}')) => {
                    let open = match c {
                        ')' => '(',
                        ']' => '[',
                        _ => '{',
                    };
                    if depth.pop() != Some(open) {
                        return Err(self.unexpected());
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        if self.pos == first {
            return Err(self.unexpected());
        }
        if !depth.is_empty() {
            return Err(self.unexpected());
        }
        let last = &self.toks[self.pos - 1];
        if let Tok::Char(c) = last.tok {
            if "<>=!~+-*/&|,.:".contains(c) {
                return Err(self.unexpected());
            }
        }
        let start = self.toks[first].start;
        Ok(self.line[start..last.end].to_owned())
    }

    fn echo(&mut self) -> Result<Command, ParseError> {
        let classes = if self.eat("all") {
            LogClasses::all()
        } else if self.eat("off") {
            LogClasses::NONE
        } else if matches!(self.peek().map(|t| &t.tok), Some(Tok::Char('{'))) {
            self.pos += 1;
            let mut set = LogClasses::NONE;
            loop {
                let Some(c) = self.peek_word().and_then(LogClass::from_name) else {
                    return Err(self.unexpected());
                };
                self.pos += 1;
                set.insert(c);
                match self.bump().map(|t| t.tok) {
                    Some(Tok::Char(',')) => continue,
                    Some(Tok::Char('}')) => break,
                    _ => {
                        self.pos -= 1;
                        return Err(self.unexpected());
                    }
                }
            }
            set
        } else {
            return Err(self.unexpected_expecting("ALL or OFF or '{'"));
        };
        let size = match self.num() {
            Some(n) if (256..=65536).contains(&n) => Some(n as u32),
            Some(_) => return Err(ParseError::new("Invalid log buffer size")),
            None => None,
        };
        Ok(Command::Echo(EchoSpec { classes, size }))
    }

    fn flag_spec(&mut self, allowed: &[&str]) -> Result<FlagSpec, ParseError> {
        if self.eat("all") {
            return Ok(FlagSpec::All);
        }
        if self.eat("off") {
            return Ok(FlagSpec::Off);
        }
        if !matches!(self.peek().map(|t| &t.tok), Some(Tok::Char('{'))) {
            return Err(self.unexpected_expecting("ALL or OFF or '{'"));
        }
        self.pos += 1;
        let mut v = Vec::new();
        loop {
            match self.peek_word() {
                Some(w) if allowed.contains(&w) => {
                    v.push(w.to_owned());
                    self.pos += 1;
                }
                _ => return Err(self.unexpected()),
            }
            match self.bump().map(|t| t.tok) {
                Some(Tok::Char(',')) => continue,
                Some(Tok::Char('}')) => break,
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected());
                }
            }
        }
        Ok(FlagSpec::Set(v))
    }

    fn configure(&mut self) -> Result<Command, ParseError> {
        if self.eat("confirm") {
            return Ok(Command::ConfigureConfirm);
        }
        if self.eat("undo") {
            return Ok(Command::ConfigureUndo);
        }
        if self.eat("status") {
            return Ok(Command::ConfigureStatus);
        }
        if self.eat("check") {
            return Ok(Command::ConfigureCheck { file: self.text() });
        }
        let soft = self.eat("soft");
        let file = self.text();
        let timeout = if self.eat("timeout") {
            match self.num() {
                Some(n) => Some(u32::try_from(n).map_err(|_| ParseError::new("Number out of range"))?),
                None => Some(DEFAULT_CONFIGURE_TIMEOUT),
            }
        } else {
            None
        };
        Ok(Command::Configure { soft, file, timeout })
    }

    fn dump(&mut self) -> Result<Command, ParseError> {
        let what = match self.peek_word() {
            Some(
                w @ ("resources" | "sockets" | "events" | "interfaces" | "neighbors" | "routes" | "protocols"
                | "tables" | "filters"),
            ) => {
                let w = w.to_owned();
                self.pos += 1;
                w
            }
            Some("attributes") => {
                self.pos += 1;
                "attributes".to_owned()
            }
            Some("attribute") => {
                self.pos += 1;
                self.expect("stats")?;
                "attribute stats".to_owned()
            }
            Some("ao") => {
                self.pos += 1;
                self.expect("keys")?;
                "ao keys".to_owned()
            }
            _ => return Err(self.unexpected()),
        };
        Ok(Command::Dump { what, file: self.text() })
    }
}
