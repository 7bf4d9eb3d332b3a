//! The BIRD filter language for birdd: filters are compiled once and run on routes.
//!
//! Operators' existing filters must behave exactly as in BIRD, so the semantics follow BIRD 2
//! (types, `~` in all its forms, path masks, community list updates, enum values, run-time
//! errors and their messages); the syntax is parsed by `birdconf`, which resolves names.
//!
//! # Pipeline
//!
//! ```text
//!  birdconf AST ──compile.rs──▶ ir::St / ir::Ex tree          (names → frame slots,
//!  (Filter, Function, Expr)        │                           attributes → registry ids,
//!                                  │                           sets → sorted ranges / tries,
//!                                  │                           masks → matcher items,
//!                                  │                           BIRD's static type checks)
//!                                  ▼
//!             exec.rs walks the tree over a RouteCtx ──▶ Verdict
//! ```
//!
//! * [`Program`] (alias [`FilterSet`]) compiles every custom attribute, function and filter of a
//!   [`birdconf::Config`]; filters are looked up by name, channel specs resolved with
//!   [`Program::resolve`] (`all`, `none`, named, inline, `where`).
//! * [`Filter::run`] runs on a [`RouteCtx`]: net, protocol name, preference and the route's
//!   [`AttrSet`](birdtable::attrs::AttrSet), read in place and cloned only on the first write
//!   ([`RouteCtx::attrs_changed`] tells the caller to re-intern).
//! * Every run has a step budget, a call depth limit and a limit on the size of the values it
//!   builds (strings, printed text, paths, lists; building them costs steps too) ([`Limits`]; the
//!   restricted CLI uses [`Limits::RESTRICTED`]). Exceeding them, like any run-time error, rejects
//!   the route and logs `filter <name>: <error>`. Set construction is bounded at compile time (per
//!   set item, per set, per compilation).
//! * Common shapes compile to specialised forms that read the route without building values:
//!   `net.len <op> k`, `list.len <op> k`, `net ~ <prefix set>`, `<constant> ~ <list attribute>`,
//!   `<attribute> = <constant>` (converted once); conditions are evaluated to a bool directly.
//!   Variables live in frame slots numbered by birdconf ([`birdconf::ast::VarId`]).
//! * [`Program::compile_expr`] and [`Program::eval_text`] serve the CLI's `eval`; values print
//!   as BIRD prints them ([`Value`]'s `Display`).
//!
//! # Invariants
//!
//! 1. Compilation rejects only what BIRD rejects when reading the configuration; everything BIRD
//!    checks at run time is checked at run time, with BIRD's message.
//! 2. A compiled filter is immutable and `Send + Sync`; runs share nothing but constants.
//! 3. The caller's attribute set is never modified; writes go to a private copy made on the first
//!    write.
//! 4. Two compilations of the same source compare equal (`Filter: PartialEq` ignores source
//!    positions and compares the bodies of the functions the filter calls).
//!
//! # Example
//!
//! ```
//! use birdfilter::{Program, RouteCtx, Verdict};
//! use birdtable::attrs::{AsPath, AttrId, AttrSet, AttrValue, Dest, RouteSource};
//!
//! let cfg = birdconf::parse_str("bird.conf", r#"
//!     filter bgp_in {
//!         if net.len > 24 then reject "too long";
//!         if bgp_path ~ [= * 64496 * =] then reject;
//!         bgp_local_pref = 100 + bgp_path.len;
//!         bgp_community.add((65001, 7));
//!         accept;
//!     }
//! "#).unwrap();
//! let prog = Program::compile(&cfg).unwrap();
//! let f = prog.filter("bgp_in").unwrap();
//!
//! let mut attrs = AttrSet::new(RouteSource::Bgp, Dest::Blackhole);
//! attrs.set(AttrId::BGP_PATH, AttrValue::Path(AsPath::from_sequence(&[65002, 65003]))).unwrap();
//!
//! let mut ctx = RouteCtx::new("192.0.2.0/24".parse().unwrap(), &attrs, "peer1", 100);
//! assert_eq!(f.run(&mut ctx), Verdict::Accept(None));
//! assert!(ctx.attrs_changed());
//! let out = ctx.into_attrs().unwrap();
//! assert_eq!(out.bgp_local_pref(), Some(102));
//! assert_eq!(out.bgp_community().unwrap().to_string(), "(65001,7)");
//!
//! let mut ctx = RouteCtx::new("192.0.2.0/25".parse().unwrap(), &attrs, "peer1", 100);
//! assert_eq!(f.run(&mut ctx), Verdict::Reject(Some("too long".into())));
//! assert!(!ctx.attrs_changed());
//!
//! // The CLI's eval.
//! let e = birdconf::parse_filter_expr("(65001, 1) ~ [(65001, *)]").unwrap();
//! assert_eq!(prog.eval_text(&e), Ok("TRUE".to_string()));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod compile;
mod exec;
mod ir;
mod mask;
mod ops;
mod program;
mod route;
mod set;
mod value;

pub use exec::{Limits, RuntimeError};
pub use mask::{MaskItem, MaskKind, PathMask};
pub use program::{CompileError, CompiledExpr, Filter, FilterSet, Program, Verdict};
pub use route::{Interfaces, RouteCtx};
pub use set::{PrefixSetV, Set, TreeSet};
pub use value::{EnumTy, Ty, Value};
