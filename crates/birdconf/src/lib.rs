//! The BIRD configuration language for birdd.
//!
//! birdd reads the `bird.conf` operators already have. This crate turns such
//! a file into a typed [`Config`]: global options, tables, thread groups,
//! `define`d constants, filters and functions (as syntax trees, see
//! [`ast::filter`]), and protocols with their channels, templates applied.
//!
//! # Pipeline
//!
//! ```text
//!  file text ──include.rs──▶ expanded text + SourceMap      (includes spliced,
//!                                │                           positions kept)
//!                                ▼
//!             grammar/*.pest (pest) parses ONE top-level item at a time
//!                                │
//!                                ▼
//!             parse/*: pairs ─▶ typed tree, names resolved against the
//!             symbols defined so far, constants folded, checks made
//! ```
//!
//! BIRD's parser is single-pass, and so is this one: a name must be defined
//! before it is used, errors come out in file order, and each error carries
//! the file, line and column of the offending token, displayed exactly as
//! BIRD prints it (`bird.conf:5:26 Invalid IPv4 address 192.0.2.300`).
//! Syntax errors read `syntax error, unexpected X, expecting A or B` with
//! tokens named in words.
//!
//! Protocols birdd does not run (`ospf`, `bfd`, `rip`, `babel`, `rpki`,
//! `radv`, `bmp`, `mrt`, `aggregator`, `l3vpn`, ...) are rejected with
//! `birdd does not support protocol <name>`; no construct is silently ignored.
//!
//! # Example
//!
//! ```
//! use birdconf::{parse_str, ast::{FilterSpec, ProtoKind}};
//! let cfg = parse_str("bird.conf", r#"
//!     router id 192.0.2.1;
//!     define MY_AS = 65001;
//!     filter bgp_in { if net.len > 24 then reject; accept; }
//!     protocol device { }
//!     template bgp peers { local as MY_AS; hold time 90; }
//!     protocol bgp upstream from peers {
//!         neighbor 192.0.2.2 as 65002;
//!         ipv4 { import filter bgp_in; export none; };
//!     }
//! "#).unwrap();
//! assert_eq!(cfg.router_id, Some(0xC000_0201));
//! assert_eq!(cfg.protocols[0].name, "device1");
//! let up = cfg.protocol("upstream").unwrap();
//! assert_eq!(up.kind, ProtoKind::Bgp);
//! assert_eq!(up.bgp().unwrap().local_as, Some(65001));
//! assert_eq!(up.bgp().unwrap().hold_time, 90);
//! assert_eq!(up.channels[0].import, FilterSpec::Named("bgp_in".into()));
//!
//! let err = parse_str("bird.conf", "protocol static {\n  ipv4;\n  route 192.0.2.0/24 via 192.0.2.300;\n}\n")
//!     .unwrap_err();
//! assert_eq!(err.to_string(), "bird.conf:3:26 Invalid IPv4 address 192.0.2.300");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ast;
mod error;
mod grammar;
mod include;
mod parse;
mod source;

pub use ast::Config;
pub use error::{strerror, ConfigError, Loc};
pub use include::MAX_INCLUDE_DEPTH;
pub use parse::depth::{MAX_NESTING, MAX_OPERATORS};
pub use source::{FsSource, MemSource, Source};

use ast::{Expr, Filter};
use grammar::Rule;

/// Parses a configuration file from disk (includes relative to its directory).
///
/// An unreadable main file gives `<path>: <strerror>`.
pub fn parse_file(path: &str) -> Result<Config, ConfigError> {
    parse_with(&FsSource, path)
}

/// Parses a configuration file through a [`Source`] (for includes too).
pub fn parse_with(source: &dyn Source, path: &str) -> Result<Config, ConfigError> {
    let text = source.read(path).map_err(|e| ConfigError::io(path, &e))?;
    parse_source(source, path, &text)
}

/// Parses configuration text; `name` is used in errors and as the base of
/// relative includes, which are read from the file system.
pub fn parse_str(name: &str, text: &str) -> Result<Config, ConfigError> {
    parse_source(&FsSource, name, text)
}

/// Parses configuration text whose includes come from `source`.
pub fn parse_source(source: &dyn Source, name: &str, text: &str) -> Result<Config, ConfigError> {
    let ex = include::expand(source, name, text)?;
    parse::parse_expanded(&ex)
}

/// Parses a standalone filter expression (`show route where <expr>`,
/// `eval <expr>`), knowing only built-in names.
pub fn parse_filter_expr(text: &str) -> Result<Expr, ConfigError> {
    parse_filter_expr_in(&Config::default(), text)
}

/// Parses a standalone filter expression that may use the constants,
/// functions and attributes of `config`.
pub fn parse_filter_expr_in(config: &Config, text: &str) -> Result<Expr, ConfigError> {
    let ex = include::expand(&MemSource::new(), "", text)?;
    let mut ctx = parse::Ctx::with_config(&ex.map, &ex.text, config);
    let pair = ctx.parse_rule(Rule::expr_only)?;
    let Some(e) = pair.into_inner().next() else {
        return Err(ConfigError { file: String::new(), line: 1, col: 1, message: "syntax error".into() });
    };
    ctx.expr(e)
}

/// Parses a standalone `filter { ... }` block (as in `show route filter { ... }`),
/// with or without the leading `filter` keyword.
pub fn parse_filter_block(text: &str) -> Result<Filter, ConfigError> {
    parse_filter_block_in(&Config::default(), text)
}

/// Parses a standalone filter block that may use the names of `config`.
pub fn parse_filter_block_in(config: &Config, text: &str) -> Result<Filter, ConfigError> {
    let ex = include::expand(&MemSource::new(), "", text)?;
    let mut ctx = parse::Ctx::with_config(&ex.map, &ex.text, config);
    let pair = ctx.parse_rule(Rule::filter_only)?;
    let parts: Vec<_> = pair
        .clone()
        .into_inner()
        .filter(|p| p.as_rule() != Rule::kw_filter && p.as_rule() != Rule::EOI)
        .collect();
    ctx.filter_body(None, &pair, &parts)
}
