//! Route filters for channels and `show route where|filter`.
//!
//! birdfilter (the full BIRD filter language) is still being written; until it lands, birdd evaluates the
//! part of the language the daemon needs for static and pipe protocols: `all`, `none`, `where <expr>`,
//! `filter { ... }` and named filters whose bodies use `if/then/else`, blocks, `accept` and `reject`, with
//! boolean logic, comparisons, `~`/`!~` against prefix sets and prefixes, and the route attributes `net`
//! (`.len`, `.ip`, `.type`), `preference`, `proto`, `source`, `dest`, `gw`, `from` and `ifname`.
//! Anything else is refused when the configuration is loaded (`<file>:<line>:<col> ... is not available in
//! this build`), never silently ignored.

use std::net::IpAddr;
use std::sync::Arc;

use birdconf::ast::{
    Attr, BinOp, Config, EnumConst, EnumKind, Expr, ExprKind, Filter, FilterSpec, Member, SetItem, Stmt,
    StmtKind, Value,
};
use birdconf::ConfigError;
use birdnet::{Net, NetType};
use birdtable::attrs::{AttrSet, Dest};

/// The route a filter looks at.
#[derive(Debug)]
pub struct RouteView<'a> {
    /// Network.
    pub net: Net,
    /// Attributes.
    pub attrs: &'a AttrSet,
    /// Preference.
    pub pref: u16,
    /// Name of the protocol that originated the route.
    pub proto: &'a str,
}

/// A compiled channel filter or `show route` filter.
#[derive(Debug, Clone)]
pub enum RouteFilter {
    /// `all`
    All,
    /// `none`
    None,
    /// A filter body (named, `filter { }` or a `where` turned into `if e then accept; reject;`).
    Body {
        /// Shown in `show protocols all` (`(unnamed)` for inline ones).
        name: Option<String>,
        /// The statements.
        body: Arc<Vec<Stmt>>,
    },
    /// `where <expr>`.
    Where(Arc<Expr>),
}

impl RouteFilter {
    /// Compiles a channel filter spec, checking every construct is supported.
    pub fn from_spec(spec: &FilterSpec, cfg: &Config) -> Result<RouteFilter, ConfigError> {
        Ok(match spec {
            FilterSpec::All => RouteFilter::All,
            FilterSpec::None => RouteFilter::None,
            FilterSpec::Named(n) => {
                let f = cfg
                    .filter(n)
                    .ok_or_else(|| ConfigError::file_error("", format!("Filter {n} not found")))?;
                Self::from_filter(f)?
            }
            FilterSpec::Inline(f) => Self::from_filter(f)?,
            FilterSpec::Where(e) => {
                check_expr(e)?;
                RouteFilter::Where(e.clone())
            }
        })
    }

    /// Compiles a filter body.
    pub fn from_filter(f: &Filter) -> Result<RouteFilter, ConfigError> {
        if let Some((name, _)) = f.locals.first() {
            return Err(f.loc.error(format!(
                "Filter local variables ({name}) are not available in this build (the filter engine is pending)"
            )));
        }
        for s in &f.body {
            check_stmt(s)?;
        }
        Ok(RouteFilter::Body { name: f.name.clone(), body: Arc::new(f.body.clone()) })
    }

    /// The name `show protocols all` prints: `ACCEPT`, `REJECT`, the filter name or `(unnamed)`.
    pub fn display_name(&self) -> String {
        match self {
            RouteFilter::All => "ACCEPT".into(),
            RouteFilter::None => "REJECT".into(),
            RouteFilter::Body { name: Some(n), .. } => n.clone(),
            RouteFilter::Body { name: None, .. } | RouteFilter::Where(_) => "(unnamed)".into(),
        }
    }

    /// Runs the filter: `Ok(true)` accept, `Ok(false)` reject, `Err` a run-time error (the route is
    /// rejected and the error logged, as BIRD does).
    pub fn accepts(&self, r: &RouteView<'_>) -> Result<bool, String> {
        match self {
            RouteFilter::All => Ok(true),
            RouteFilter::None => Ok(false),
            RouteFilter::Where(e) => match eval(e, r)? {
                V::Bool(b) => Ok(b),
                _ => Err("where expression must be a boolean".into()),
            },
            RouteFilter::Body { body, .. } => match run_stmts(body, r)? {
                Flow::Accept => Ok(true),
                Flow::Reject => Ok(false),
                // Falling off the end of a filter rejects (BIRD: "filter did not accept").
                Flow::Next => Ok(false),
            },
        }
    }
}

fn unsupported(loc: &birdconf::Loc, what: &str) -> ConfigError {
    loc.error(format!("{what} is not available in this build (the filter engine is pending)"))
}

fn check_stmt(s: &Stmt) -> Result<(), ConfigError> {
    match &s.kind {
        StmtKind::Block(v) => v.iter().try_for_each(check_stmt),
        StmtKind::If(c, t, e) => {
            check_expr(c)?;
            check_stmt(t)?;
            e.as_deref().map(check_stmt).transpose().map(|_| ())
        }
        StmtKind::Accept(_) | StmtKind::Reject(_) => Ok(()),
        StmtKind::Case(..) => Err(unsupported(&s.loc, "case statement")),
        StmtKind::For(..) => Err(unsupported(&s.loc, "for statement")),
        StmtKind::VarDecl(..) => Err(unsupported(&s.loc, "Local variable")),
        StmtKind::Assign(..) | StmtKind::Update(..) | StmtKind::Unset(..) => {
            Err(unsupported(&s.loc, "Attribute modification"))
        }
        StmtKind::Error(_) => Err(unsupported(&s.loc, "error statement")),
        StmtKind::Return(_) => Err(unsupported(&s.loc, "return statement")),
        StmtKind::Print(..) => Err(unsupported(&s.loc, "print statement")),
        StmtKind::Call(_) => Err(unsupported(&s.loc, "Function call")),
    }
}

fn check_expr(e: &Expr) -> Result<(), ConfigError> {
    match &e.kind {
        ExprKind::Const(_) => Ok(()),
        ExprKind::Attr(a) => match a {
            Attr::Net
            | Attr::Preference
            | Attr::Proto
            | Attr::Source
            | Attr::Dest
            | Attr::Gw
            | Attr::From
            | Attr::Ifname => Ok(()),
            other => Err(unsupported(&e.loc, &format!("Attribute {other:?}"))),
        },
        ExprKind::Not(x) => check_expr(x),
        ExprKind::Binary(op, a, b) => match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Concat => {
                Err(unsupported(&e.loc, &format!("Operator {}", op.symbol())))
            }
            _ => {
                check_expr(a)?;
                check_expr(b)
            }
        },
        ExprKind::Member(x, m, args)
            if args.is_empty() && matches!(m, Member::Len | Member::Ip | Member::Type) =>
        {
            check_expr(x)
        }
        ExprKind::Member(..) => Err(unsupported(&e.loc, "This method")),
        ExprKind::Var(v) => Err(unsupported(&e.loc, &format!("Variable {v}"))),
        ExprKind::Call(f, _) => Err(unsupported(&e.loc, &format!("Function call {f}()"))),
        ExprKind::Builtin(..) => Err(unsupported(&e.loc, "Built-in function")),
        ExprKind::Pair(..) | ExprKind::Lc(..) | ExprKind::Ec(..) | ExprKind::PathMask(_) => {
            Err(unsupported(&e.loc, "Community and path expressions"))
        }
    }
}

enum Flow {
    Next,
    Accept,
    Reject,
}

fn run_stmts(v: &[Stmt], r: &RouteView<'_>) -> Result<Flow, String> {
    for s in v {
        match run_stmt(s, r)? {
            Flow::Next => {}
            f => return Ok(f),
        }
    }
    Ok(Flow::Next)
}

fn run_stmt(s: &Stmt, r: &RouteView<'_>) -> Result<Flow, String> {
    match &s.kind {
        StmtKind::Block(v) => run_stmts(v, r),
        StmtKind::If(c, t, e) => match eval(c, r)? {
            V::Bool(true) => run_stmt(t, r),
            V::Bool(false) => e.as_deref().map(|e| run_stmt(e, r)).unwrap_or(Ok(Flow::Next)),
            _ => Err("If requires bool expression".into()),
        },
        StmtKind::Accept(_) => Ok(Flow::Accept),
        StmtKind::Reject(_) => Ok(Flow::Reject),
        _ => Err("unsupported statement".into()),
    }
}

/// Run-time values.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Bool(bool),
    Int(u64),
    Ip(IpAddr),
    Net(Net),
    Str(String),
    Enum(EnumKind, &'static str),
    Set(Arc<birdconf::ast::SetValue>),
    Undef,
}

fn from_value(v: &Value) -> Result<V, String> {
    Ok(match v {
        Value::Bool(b) => V::Bool(*b),
        Value::Int(i) => V::Int(u64::from(*i)),
        Value::Ip(a) => V::Ip(*a),
        Value::Prefix(n) => V::Net(*n),
        Value::String(s) => V::Str(s.clone()),
        Value::Enum(EnumConst { kind, name }) => V::Enum(*kind, name),
        Value::Set(s) => V::Set(s.clone()),
        other => return Err(format!("unsupported value {other:?}")),
    })
}

fn dest_name(d: &Dest) -> &'static str {
    match d {
        Dest::Unicast(_) => "RTD_UNICAST",
        Dest::Blackhole => "RTD_BLACKHOLE",
        Dest::Unreachable => "RTD_UNREACHABLE",
        Dest::Prohibit => "RTD_PROHIBIT",
    }
}

fn first_hop<'a>(r: &RouteView<'a>) -> Option<&'a birdtable::attrs::NextHop> {
    match &r.attrs.dest {
        Dest::Unicast(h) => h.first(),
        _ => None,
    }
}

fn attr(a: &Attr, r: &RouteView<'_>) -> Result<V, String> {
    Ok(match a {
        Attr::Net => V::Net(r.net),
        Attr::Preference => V::Int(u64::from(r.pref)),
        Attr::Proto => V::Str(r.proto.to_owned()),
        Attr::Source => V::Enum(EnumKind::Source, r.attrs.source.filter_name()),
        Attr::Dest => V::Enum(EnumKind::Dest, dest_name(&r.attrs.dest)),
        Attr::Gw => first_hop(r).and_then(|h| h.gw).map(V::Ip).unwrap_or(V::Undef),
        Attr::From => r.attrs.from.map(V::Ip).unwrap_or(V::Undef),
        Attr::Ifname => first_hop(r)
            .and_then(|h| h.iface.as_ref())
            .map(|i| V::Str(i.name().to_owned()))
            .unwrap_or_else(|| V::Str(String::new())),
        other => return Err(format!("attribute {other:?} is not available")),
    })
}

fn net_type_name(t: NetType) -> &'static str {
    match t {
        NetType::Ipv4 => "NET_IP4",
        NetType::Ipv6 => "NET_IP6",
        _ => "NET_OTHER",
    }
}

fn eval(e: &Expr, r: &RouteView<'_>) -> Result<V, String> {
    match &e.kind {
        ExprKind::Const(v) => from_value(v),
        ExprKind::Attr(a) => attr(a, r),
        ExprKind::Not(x) => match eval(x, r)? {
            V::Bool(b) => Ok(V::Bool(!b)),
            _ => Err("! requires a boolean".into()),
        },
        ExprKind::Member(x, m, _) => match (eval(x, r)?, m) {
            (V::Net(n), Member::Len) => Ok(V::Int(u64::from(n.len()))),
            (V::Net(n), Member::Ip) => Ok(V::Ip(n.addr())),
            (V::Net(n), Member::Type) => Ok(V::Enum(EnumKind::NetType, net_type_name(n.net_type()))),
            (V::Str(s), Member::Len) => Ok(V::Int(s.len() as u64)),
            (v, m) => Err(format!("{m:?} is not defined on {v:?}")),
        },
        ExprKind::Binary(op, a, b) => binary(*op, a, b, r),
        _ => Err("unsupported expression".into()),
    }
}

fn binary(op: BinOp, a: &Expr, b: &Expr, r: &RouteView<'_>) -> Result<V, String> {
    let bool_of = |v: V| match v {
        V::Bool(b) => Ok(b),
        _ => Err(format!("operator {} requires booleans", op.symbol())),
    };
    match op {
        BinOp::And => return Ok(V::Bool(bool_of(eval(a, r)?)? && bool_of(eval(b, r)?)?)),
        BinOp::Or => return Ok(V::Bool(bool_of(eval(a, r)?)? || bool_of(eval(b, r)?)?)),
        _ => {}
    }
    let (x, y) = (eval(a, r)?, eval(b, r)?);
    let ord = || -> Result<std::cmp::Ordering, String> {
        match (&x, &y) {
            (V::Int(p), V::Int(q)) => Ok(p.cmp(q)),
            (V::Ip(p), V::Ip(q)) => Ok(p.cmp(q)),
            (V::Str(p), V::Str(q)) => Ok(p.cmp(q)),
            _ => Err(format!("cannot compare {x:?} and {y:?}")),
        }
    };
    Ok(V::Bool(match op {
        BinOp::Eq => x == y,
        BinOp::Ne => x != y,
        BinOp::Lt => ord()?.is_lt(),
        BinOp::Gt => ord()?.is_gt(),
        BinOp::Le => ord()?.is_le(),
        BinOp::Ge => ord()?.is_ge(),
        BinOp::Match => matches(&x, &y)?,
        BinOp::NotMatch => !matches(&x, &y)?,
        _ => return Err(format!("operator {} is not available", op.symbol())),
    }))
}

fn matches(x: &V, y: &V) -> Result<bool, String> {
    match (x, y) {
        (V::Net(n), V::Net(p)) => Ok(n.is_subnet_of(p)),
        (V::Ip(a), V::Net(p)) => Ok(p.contains_addr(*a)),
        (v, V::Set(s)) => Ok(s.items.iter().any(|it| set_item_matches(v, it))),
        _ => Err(format!("cannot match {x:?} against {y:?}")),
    }
}

fn set_item_matches(v: &V, it: &SetItem) -> bool {
    match (v, it) {
        (V::Net(n), SetItem::Prefix(p)) => p.matches(n),
        (v, SetItem::Value(c)) => from_value(c).is_ok_and(|c| &c == v),
        (v, SetItem::Range(lo, hi)) => match (v, from_value(lo), from_value(hi)) {
            (V::Int(x), Ok(V::Int(l)), Ok(V::Int(h))) => l <= *x && *x <= h,
            (V::Ip(x), Ok(V::Ip(l)), Ok(V::Ip(h))) => l <= *x && *x <= h,
            _ => false,
        },
        _ => false,
    }
}

/// Parses `show route where <expr>` / `filter <name>` / `filter { ... }` against the running config.
pub fn from_cli(f: &birdcli::RouteFilter, cfg: &Config) -> Result<RouteFilter, String> {
    match f {
        birdcli::RouteFilter::Where(text) => {
            let e = birdconf::parse_filter_expr_in(cfg, text).map_err(|e| e.message)?;
            check_expr(&e).map_err(|e| e.message)?;
            Ok(RouteFilter::Where(Arc::new(e)))
        }
        birdcli::RouteFilter::Named(n) => match cfg.filter(n) {
            Some(f) => RouteFilter::from_filter(f).map_err(|e| e.message),
            None => Err(format!("{n} is not a filter")),
        },
        birdcli::RouteFilter::Block(text) => {
            let f = birdconf::parse_filter_block_in(cfg, text).map_err(|e| e.message)?;
            RouteFilter::from_filter(&f).map_err(|e| e.message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use birdtable::attrs::RouteSource;

    fn cfg() -> Config {
        birdconf::parse_str(
            "t.conf",
            "filter f { if net ~ [ 10.0.0.0/8+ ] then reject; if net.len > 24 then reject; accept; }\n",
        )
        .unwrap()
    }

    fn view(net: &str, attrs: &AttrSet) -> bool {
        let c = cfg();
        let f = RouteFilter::from_spec(&FilterSpec::Named("f".into()), &c).unwrap();
        f.accepts(&RouteView { net: net.parse().unwrap(), attrs, pref: 200, proto: "s" }).unwrap()
    }

    #[test]
    fn named_filter() {
        let a = AttrSet::new(RouteSource::Static, Dest::Blackhole);
        assert!(!view("10.1.0.0/16", &a));
        assert!(!view("192.0.2.0/25", &a));
        assert!(view("192.0.2.0/24", &a));
    }

    #[test]
    fn where_expressions() {
        let c = cfg();
        let a = AttrSet::new(RouteSource::Static, Dest::Unreachable);
        let run = |text: &str| {
            let f = from_cli(&birdcli::RouteFilter::Where(text.into()), &c).unwrap();
            f.accepts(&RouteView { net: "192.0.2.0/24".parse().unwrap(), attrs: &a, pref: 200, proto: "s" })
                .unwrap()
        };
        assert!(run("dest = RTD_UNREACHABLE"));
        assert!(!run("dest != RTD_UNREACHABLE"));
        assert!(run("net.len = 24 && source = RTS_STATIC"));
        assert!(run("proto = \"s\" || false"));
        assert!(run("net ~ 192.0.0.0/16 && !(preference < 100)"));
        assert!(from_cli(&birdcli::RouteFilter::Where("bgp_path.len > 2".into()), &c).is_err());
    }

    #[test]
    fn unsupported_constructs_are_config_errors() {
        let c = birdconf::parse_str("t.conf", "filter g {\n  preference = 10;\n  accept;\n}\n").unwrap();
        let e = RouteFilter::from_spec(&FilterSpec::Named("g".into()), &c).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.conf:2:3 Attribute modification is not available in this build (the filter engine is pending)"
        );
    }
}
