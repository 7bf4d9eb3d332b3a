//! Route filters for channels and `show route where|filter`, on birdfilter (BIRD's filter language,
//! compiled once per configuration into a [`Program`]).
//!
//! A [`RouteFilter`] wraps one compiled [`birdfilter::Filter`]: `all`, `none`, a named filter, an inline
//! `filter { }` or a `where <expr>`. Filters may change attributes (and the preference); the caller
//! re-interns the result.

use birdconf::ast::{Config, FilterSpec};
use birdconf::ConfigError;
use birdfilter::{Limits, Program, RouteCtx, Verdict};
use birdnet::Net;
use birdtable::attrs::AttrSet;

/// Filter steps one command of a restricted CLI session may take over all the routes it looks at
/// (each route also keeps the per-run limit of [`Limits::RESTRICTED`]). At the interpreter's speed
/// that is a few hundred milliseconds of the main loop at most.
pub const RESTRICTED_COMMAND_STEPS: u64 = 10_000_000;

/// What is left of a command's filter steps ([`RouteFilter::run_budgeted`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepBudget {
    left: u64,
    exhausted: bool,
}

impl StepBudget {
    /// A budget of `steps`.
    pub fn new(steps: u64) -> StepBudget {
        StepBudget { left: steps, exhausted: false }
    }

    /// Whether a run was stopped because the budget ran out (not by its own per-run limit).
    pub fn exhausted(&self) -> bool {
        self.exhausted
    }
}

/// A compiled channel filter or `show route` filter.
#[derive(Debug, Clone)]
pub struct RouteFilter {
    f: birdfilter::Filter,
}

/// What a filter did with a route it accepted.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// New attributes, when the filter changed them.
    pub attrs: Option<AttrSet>,
    /// The (possibly changed) preference.
    pub pref: u16,
}

impl RouteFilter {
    /// `all`.
    pub fn all() -> RouteFilter {
        RouteFilter { f: birdfilter::Filter::all() }
    }

    /// `none`.
    pub fn none() -> RouteFilter {
        RouteFilter { f: birdfilter::Filter::none() }
    }

    /// Compiles a channel filter spec.
    pub fn from_spec(spec: &FilterSpec, program: &Program) -> Result<RouteFilter, ConfigError> {
        Ok(RouteFilter { f: program.resolve(spec)? })
    }

    /// A per-route attribute block of a static route (`route ... { bgp_community.add(...); }`).
    pub fn route_block(stmts: &[birdconf::ast::Stmt], program: &Program) -> Result<RouteFilter, ConfigError> {
        Ok(RouteFilter { f: program.compile_route_block(stmts)? })
    }

    /// The name `show protocols all` prints: `ACCEPT`, `REJECT`, the filter name or `(unnamed)`.
    pub fn display_name(&self) -> String {
        if self.f.is_all() {
            "ACCEPT".into()
        } else if self.f.is_none() {
            "REJECT".into()
        } else {
            self.f.name().to_owned()
        }
    }

    /// Runs the filter; `None` when the route is rejected (run-time errors reject and are logged).
    pub fn run(&self, net: Net, attrs: &AttrSet, pref: u16, proto: &str) -> Option<Accepted> {
        self.run_with(net, attrs, pref, proto, Limits::DEFAULT)
    }

    /// [`RouteFilter::run`] with explicit limits (restricted CLI sessions).
    pub fn run_with(
        &self,
        net: Net,
        attrs: &AttrSet,
        pref: u16,
        proto: &str,
        limits: Limits,
    ) -> Option<Accepted> {
        if self.f.is_all() {
            return Some(Accepted { attrs: None, pref });
        }
        if self.f.is_none() {
            return None;
        }
        self.run_code(net, attrs, pref, proto, limits).0
    }

    /// Runs a filter that is neither `all` nor `none`: what it accepted, and the steps it took.
    fn run_code(
        &self,
        net: Net,
        attrs: &AttrSet,
        pref: u16,
        proto: &str,
        limits: Limits,
    ) -> (Option<Accepted>, u64) {
        let mut ctx = RouteCtx::new(net, attrs, proto, pref);
        let (verdict, steps) = self.f.run_metered(&mut ctx, limits);
        let accepted = match verdict {
            Verdict::Accept(_) => {
                let pref = ctx.preference();
                let attrs = if ctx.attrs_changed() { ctx.into_attrs() } else { None };
                Some(Accepted { attrs, pref })
            }
            Verdict::Reject(_) | Verdict::Error(_) => None,
        };
        (accepted, steps)
    }

    /// [`RouteFilter::run_with`] taking the steps off `budget`: the run may use no more than is left
    /// (nor more than `limits` allow); a run stopped by the budget rejects the route and marks the
    /// budget [exhausted](StepBudget::exhausted).
    pub fn run_budgeted(
        &self,
        net: Net,
        attrs: &AttrSet,
        pref: u16,
        proto: &str,
        limits: Limits,
        budget: &mut StepBudget,
    ) -> Option<Accepted> {
        if self.f.is_all() || self.f.is_none() {
            return self.run_with(net, attrs, pref, proto, limits);
        }
        if budget.left == 0 {
            budget.exhausted = true;
            return None;
        }
        let limits = Limits { max_steps: limits.max_steps.min(budget.left), ..limits };
        let (accepted, steps) = self.run_code(net, attrs, pref, proto, limits);
        if steps > budget.left {
            budget.left = 0;
            budget.exhausted = true;
            return None;
        }
        budget.left -= steps;
        accepted
    }

    /// The filter's own name (`all`, `none`, a name, `(unnamed)`); see [`RouteFilter::display_name`].
    pub fn name(&self) -> &str {
        if self.f.is_all() {
            "ACCEPT"
        } else if self.f.is_none() {
            "REJECT"
        } else {
            self.f.name()
        }
    }

    /// Whether this is `none`.
    pub fn is_none(&self) -> bool {
        self.f.is_none()
    }

    /// Whether two filters behave the same (birdfilter compares code, not positions).
    pub fn same_as(&self, other: &RouteFilter) -> bool {
        self.f == other.f
    }
}

/// Parses and compiles `show route where <expr>` / `filter <name>` / `filter { ... }` against the
/// running configuration. `Err` is the text of the `9001` reply.
pub fn from_cli(f: &birdcli::RouteFilter, cfg: &Config, program: &Program) -> Result<RouteFilter, String> {
    let f = match f {
        birdcli::RouteFilter::Where(text) => {
            let e = birdconf::parse_filter_expr_in(cfg, text).map_err(|e| e.message)?;
            program.compile_where(&e).map_err(|e| e.message)?
        }
        birdcli::RouteFilter::Named(n) => match program.filter(n) {
            Some(f) => f.clone(),
            None => return Err(format!("{n} is not a filter")),
        },
        birdcli::RouteFilter::Block(text) => {
            let f = birdconf::parse_filter_block_in(cfg, text).map_err(|e| e.message)?;
            program.compile_filter(&f).map_err(|e| e.message)?
        }
    };
    Ok(RouteFilter { f })
}

#[cfg(test)]
mod tests {
    use super::*;
    use birdtable::attrs::{Dest, RouteSource};

    fn setup() -> (Config, Program) {
        let c = birdconf::parse_str(
            "t.conf",
            "filter f { if net ~ [ 10.0.0.0/8+ ] then reject; if net.len > 24 then reject; preference = 150; accept; }\n",
        )
        .unwrap();
        let p = Program::compile(&c).unwrap();
        (c, p)
    }

    #[test]
    fn named_filter() {
        let (_, p) = setup();
        let f = RouteFilter::from_spec(&FilterSpec::Named("f".into()), &p).unwrap();
        assert_eq!(f.display_name(), "f");
        let a = AttrSet::new(RouteSource::Static, Dest::Blackhole);
        let run = |n: &str| f.run(n.parse().unwrap(), &a, 200, "s");
        assert!(run("10.1.0.0/16").is_none());
        assert!(run("192.0.2.0/25").is_none());
        assert_eq!(run("192.0.2.0/24").unwrap().pref, 150);
        assert_eq!(RouteFilter::all().display_name(), "ACCEPT");
        assert_eq!(RouteFilter::none().display_name(), "REJECT");
    }

    #[test]
    fn where_expressions() {
        let (c, p) = setup();
        let a = AttrSet::new(RouteSource::Static, Dest::Unreachable);
        let run = |text: &str| {
            let f = from_cli(&birdcli::RouteFilter::Where(text.into()), &c, &p).unwrap();
            f.run("192.0.2.0/24".parse().unwrap(), &a, 200, "s").is_some()
        };
        assert!(run("dest = RTD_UNREACHABLE"));
        assert!(!run("dest != RTD_UNREACHABLE"));
        assert!(run("net.len = 24 && source = RTS_STATIC"));
        assert!(run("proto = \"s\" || false"));
        assert!(from_cli(&birdcli::RouteFilter::Where("nosuch > 2".into()), &c, &p).is_err());
    }
}
