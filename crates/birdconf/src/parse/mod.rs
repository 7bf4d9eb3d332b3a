//! From pest pairs to the typed tree, one top-level item at a time.
//!
//! BIRD's parser is single-pass: a symbol must be defined before it is used,
//! a `from` template before the protocol copying it, and an error is reported
//! at the first place it can be noticed. We keep that model: the expanded text
//! is parsed item by item, each item is turned into the tree (resolving names
//! against the symbols defined so far) before the next one is parsed.
//!
//! * [`values`]: numbers, addresses, switches, times;
//! * [`consts`]: folding constant expressions and sets;
//! * [`filter`]: expressions, statements, filters, functions;
//! * [`global`]: global options, thread groups, CLI sockets, tables;
//! * [`proto`]: protocol blocks, channels, device/direct/kernel/static/pipe;
//! * [`bgp`]: BGP options and checks.

pub(crate) mod bgp;
pub(crate) mod consts;
pub(crate) mod depth;
pub(crate) mod filter;
pub(crate) mod global;
pub(crate) mod proto;
pub(crate) mod syntax;
pub(crate) mod values;

use std::collections::HashMap;

use birdnet::NetType;
use pest::Parser;

use crate::ast::{Config, ProtoKind, TableConfig, Type, Value};
use crate::error::{ConfigError, Loc};
use crate::grammar::{BirdParser, Rule};
use crate::include::{Expanded, SourceMap};

pub(crate) type Pair<'i> = pest::iterators::Pair<'i, Rule>;
pub(crate) type Res<T> = Result<T, ConfigError>;

/// What a global symbol names.
#[derive(Debug, Clone)]
pub(crate) enum Sym {
    Const(Value),
    Table(NetType),
    Filter,
    Function(usize),
    Protocol(ProtoKind),
    Template(ProtoKind),
    Attribute(Type),
    ThreadGroup,
}

impl Sym {
    fn class(&self) -> &'static str {
        match self {
            Sym::Const(_) => "constant",
            Sym::Table(_) => "table",
            Sym::Filter => "filter",
            Sym::Function(_) => "function",
            Sym::Protocol(_) => "protocol",
            Sym::Template(_) => "template",
            Sym::Attribute(_) => "attribute",
            Sym::ThreadGroup => "thread group",
        }
    }
}

/// Parser state.
pub(crate) struct Ctx<'a> {
    map: &'a SourceMap,
    text: &'a str,
    base: usize,
    pub(crate) cfg: Config,
    pub(crate) symbols: HashMap<String, Sym>,
    /// Local variables of the filter or function being parsed (innermost last).
    pub(crate) scopes: Vec<HashMap<String, (Type, crate::ast::VarId)>>,
    /// The next variable id of the body being parsed (reset when its outermost scope opens).
    pub(crate) next_var: u32,
    counters: HashMap<&'static str, u32>,
    pub(crate) seen_table_or_proto: bool,
    pub(crate) seen_thread_group: bool,
    pub(crate) seen_threads: bool,
    /// `master4`/`master6` still implicit (they may be declared once).
    implicit_tables: Vec<String>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(map: &'a SourceMap, text: &'a str) -> Self {
        let mut cfg = Config::default();
        let mut symbols = HashMap::new();
        for (n, t) in [("master4", NetType::Ipv4), ("master6", NetType::Ipv6)] {
            let mut tc = TableConfig::new(n, t);
            tc.implicit = true;
            cfg.tables.push(tc);
            symbols.insert(n.to_string(), Sym::Table(t));
        }
        Ctx {
            map,
            text,
            base: 0,
            cfg,
            symbols,
            scopes: Vec::new(),
            next_var: 0,
            counters: HashMap::new(),
            seen_table_or_proto: false,
            seen_thread_group: false,
            seen_threads: false,
            implicit_tables: vec!["master4".into(), "master6".into()],
        }
    }

    /// A context that knows the symbols of an existing configuration (for
    /// CLI expressions).
    pub(crate) fn with_config(map: &'a SourceMap, text: &'a str, cfg: &Config) -> Self {
        let mut ctx = Ctx::new(map, text);
        for d in &cfg.defines {
            ctx.symbols.insert(d.name.clone(), Sym::Const(d.value.clone()));
        }
        for t in &cfg.tables {
            ctx.symbols.insert(t.name.clone(), Sym::Table(t.net_type));
        }
        for f in &cfg.filters {
            if let Some(n) = &f.name {
                ctx.symbols.insert(n.clone(), Sym::Filter);
            }
        }
        for f in &cfg.functions {
            ctx.symbols.insert(f.name.clone(), Sym::Function(f.params.len()));
        }
        for a in &cfg.attributes {
            ctx.symbols.insert(a.name.clone(), Sym::Attribute(a.ty.clone()));
        }
        for p in &cfg.templates {
            ctx.symbols.insert(p.name.clone(), Sym::Template(p.kind));
        }
        for p in &cfg.protocols {
            ctx.symbols.insert(p.name.clone(), Sym::Protocol(p.kind));
        }
        ctx.cfg.functions = cfg.functions.clone();
        ctx.cfg.attributes = cfg.attributes.clone();
        ctx
    }

    /// Position of the first character of a pair.
    pub(crate) fn loc(&self, p: &Pair<'_>) -> Loc {
        self.map.loc(self.base + p.as_span().start())
    }

    /// Position of the last character of a pair (the `;` of an option).
    pub(crate) fn end_loc(&self, p: &Pair<'_>) -> Loc {
        self.map.loc(self.base + p.as_span().end().saturating_sub(1))
    }

    pub(crate) fn err<T>(&self, p: &Pair<'_>, msg: impl Into<String>) -> Res<T> {
        Err(self.loc(p).error(msg))
    }

    pub(crate) fn warn(&mut self, loc: &Loc, msg: impl Into<String>) {
        self.cfg.warnings.push(loc.error(msg));
    }

    /// Defines a global symbol, refusing duplicates (`master4`/`master6`
    /// may be declared once even though they exist implicitly).
    pub(crate) fn define(&mut self, name_pair: &Pair<'_>, sym: Sym) -> Res<String> {
        let name = name_text(name_pair);
        if let Some(i) = self.implicit_tables.iter().position(|n| *n == name) {
            if matches!(sym, Sym::Table(_)) {
                self.implicit_tables.remove(i);
                self.symbols.insert(name.clone(), sym);
                return Ok(name);
            }
        }
        if self.symbols.contains_key(&name) {
            return self.err(name_pair, format!("Symbol '{name}' already defined"));
        }
        self.symbols.insert(name.clone(), sym);
        Ok(name)
    }

    /// Looks up a symbol that must exist and be of a class; errors as BIRD does.
    pub(crate) fn lookup(&self, name_pair: &Pair<'_>, what: &str) -> Res<(String, Sym)> {
        let name = name_text(name_pair);
        match self.symbols.get(&name) {
            Some(s) => Ok((name, s.clone())),
            None => self.err(
                name_pair,
                format!("syntax error, unexpected undefined symbol '{name}', expecting {what} name"),
            ),
        }
    }

    pub(crate) fn table_ref(&self, name_pair: &Pair<'_>) -> Res<(String, NetType)> {
        match self.lookup(name_pair, "table")? {
            (n, Sym::Table(t)) => Ok((n, t)),
            _ => self.err(name_pair, "Table name required"),
        }
    }

    /// The next default name `<type><N>` not yet taken.
    pub(crate) fn default_name(&mut self, stem: &'static str) -> String {
        loop {
            let c = self.counters.entry(stem).or_insert(0);
            *c += 1;
            let n = format!("{stem}{c}");
            if !self.symbols.contains_key(&n) {
                return n;
            }
        }
    }

    fn top_item(&mut self, item: Pair<'_>) -> Res<()> {
        let Some(inner) = item.into_inner().next() else { return Ok(()) };
        match inner.as_rule() {
            Rule::top_empty => Ok(()),
            Rule::define_decl => self.define_decl(inner),
            Rule::filter_decl => self.filter_decl(inner),
            Rule::function_decl => self.function_decl(inner),
            Rule::table_decl => self.table_decl(inner),
            Rule::protocol_decl => self.protocol_decl(inner, false),
            Rule::template_decl => self.protocol_decl(inner, true),
            _ => self.global_item(inner),
        }
    }

    fn finish(self) -> Res<Config> {
        Ok(self.cfg)
    }
}

/// The text of a `name` pair (quotes of `'quoted names'` removed).
pub(crate) fn name_text(p: &Pair<'_>) -> String {
    let s = p.as_str();
    s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')).unwrap_or(s).to_string()
}

/// The text of a `string` pair without quotes.
pub(crate) fn string_text(p: &Pair<'_>) -> String {
    let s = p.as_str();
    s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(s).to_string()
}

/// Skips whitespace and comments from `off`.
fn skip_trivia(text: &str, mut off: usize) -> usize {
    let b = text.as_bytes();
    loop {
        while off < b.len() && matches!(b[off], b' ' | b'\t' | b'\r' | b'\n') {
            off += 1;
        }
        if b.get(off) == Some(&b'#') {
            while off < b.len() && b[off] != b'\n' {
                off += 1;
            }
        } else if b.get(off) == Some(&b'/') && b.get(off + 1) == Some(&b'*') {
            match text[off + 2..].find("*/") {
                Some(i) => off += i + 4,
                None => return b.len(),
            }
        } else {
            return off;
        }
    }
}

/// The error of [`depth::too_deep`]: nesting or an operator chain over the limit.
fn nesting_error(map: &SourceMap, (at, message): (usize, &str)) -> ConfigError {
    map.loc(at).error(message)
}

/// A pest failure at item offset `base` turned into a positioned error,
/// preferring an earlier malformed token.
pub(crate) fn syntax_failure(
    map: &SourceMap,
    text: &str,
    base: usize,
    e: &pest::error::Error<Rule>,
) -> ConfigError {
    let pos = base + syntax::error_pos(e);
    if let pest::error::ErrorVariant::CustomError { message } = &e.variant {
        // pest's own guards ("stack limit reached", "call limit reached"):
        // the nesting check should have refused such input first.
        return map.loc(pos).error(format!("nesting too deep ({message})"));
    }
    if let Some((at, msg)) = syntax::lexical_error(text, base, pos + 1) {
        return map.loc(at).error(msg);
    }
    map.loc(pos).error(syntax::message(text, pos, e))
}

/// Parses an expanded configuration.
pub(crate) fn parse_expanded(ex: &Expanded) -> Res<Config> {
    pest::set_error_detail(true);
    let text = ex.text.as_str();
    let mut ctx = Ctx::new(&ex.map, text);
    // Items are parsed in order, so that earlier errors come first; the
    // parser never sees the text from a token nested too deep: an item that
    // reaches that far fails to parse there and gets the nesting error.
    let deep_at = depth::too_deep(text, 0);
    let end = deep_at.map_or(text.len(), |(at, _)| at);
    let mut off = skip_trivia(text, 0);
    while off < text.len() {
        if let Some(deep) = deep_at.filter(|_| off >= end) {
            return Err(nesting_error(&ex.map, deep));
        }
        ctx.base = off;
        let mut pairs = BirdParser::parse(Rule::top_item, &text[off..end]).map_err(|e| {
            if let Some(deep) =
                deep_at.filter(|_| off + syntax::error_pos(&e) >= text[..end].trim_end().len())
            {
                return nesting_error(&ex.map, deep);
            }
            syntax_failure(&ex.map, text, off, &e)
        })?;
        let Some(item) = pairs.next() else { break };
        let end = off + item.as_span().end();
        ctx.top_item(item)?;
        off = skip_trivia(text, end.max(off + 1));
    }
    ctx.finish()
}

impl<'a> Ctx<'a> {
    /// Parses a standalone entry rule over the whole text.
    pub(crate) fn parse_rule(&self, rule: Rule) -> Res<Pair<'a>> {
        pest::set_error_detail(true);
        if let Some(deep) = depth::too_deep(self.text, 0) {
            return Err(nesting_error(self.map, deep));
        }
        let mut pairs =
            BirdParser::parse(rule, self.text).map_err(|e| syntax_failure(self.map, self.text, 0, &e))?;
        pairs.next().ok_or_else(|| self.map.loc(0).error("syntax error, unexpected end of input"))
    }
}
