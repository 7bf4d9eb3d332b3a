//! The interpreter: walks the compiled tree over a route, with a step budget and a call depth
//! limit.
//!
//! Locals live on one value stack; a call pushes a frame of `nslots` values (parameters first) and
//! pops it on return. `accept`, `reject` and run-time errors unwind through [`Stop`], from any
//! depth, as they end the whole filter in BIRD.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use birdtable::attrs::{
    AttrSet, AttrType, AttrValue, Community, Dest, LargeCommunity, List, NextHop, Origin, Scope,
};

use crate::ir::{Arith, Attr, Cmp, Ea, Ex, Field, Func, ListOp, MaskTpl, Mem, Sk, St};
use crate::mask::{MaskItem, MaskKind, PathMask};
use crate::ops::{self, LRef};
use crate::route::RouteCtx;
use crate::value::{compare, same, EnumTy, Ty, Value};

/// Limits of one filter run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most statements and expression nodes evaluated in one run.
    pub max_steps: u64,
    /// Deepest function call nesting.
    pub max_depth: u32,
    /// Largest value a run may build, in bytes: a string (`format()`, the text of `print`,
    /// `accept`/`reject`/`error` reasons), a path or a list. Building values also costs steps
    /// (one per [`BYTES_PER_STEP`](Limits::BYTES_PER_STEP) bytes), so the step budget bounds the
    /// copying too.
    pub max_value_bytes: usize,
}

impl Limits {
    /// Limits for filters of the configuration.
    pub const DEFAULT: Limits = Limits { max_steps: 1_000_000, max_depth: 64, max_value_bytes: 1 << 20 };
    /// Limits for expressions and filters typed on a restricted CLI.
    pub const RESTRICTED: Limits = Limits { max_steps: 20_000, max_depth: 16, max_value_bytes: 16 << 10 };
    /// Bytes of a built value that cost one step.
    pub const BYTES_PER_STEP: usize = 64;
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}

/// A run-time error: the message BIRD would log and the line it happened on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RuntimeError {
    /// Source line of the statement (or expression) that failed.
    pub line: u32,
    /// What went wrong, in BIRD's words.
    pub message: String,
}

impl RuntimeError {
    /// The text `eval` replies with: `filter preevaluation, line 1: <message>`.
    pub fn eval_text(&self) -> String {
        format!("filter preevaluation, line {}: {}", self.line, self.message)
    }
}

/// Why execution stopped before the end.
#[derive(Debug)]
pub(crate) enum Stop {
    Err(RuntimeError),
    Accept(Option<String>),
    Reject(Option<String>),
}

pub(crate) type R<T> = Result<T, Stop>;

/// How a statement finished.
#[derive(Debug)]
pub(crate) enum Flow {
    Next,
    Return(Value),
}

const IPA_NONE: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

pub(crate) struct Exec<'r, 'a> {
    route: Option<&'r mut RouteCtx<'a>>,
    funcs: &'r [Arc<Func>],
    pub(crate) stack: Vec<Value>,
    base: usize,
    steps: u64,
    depth: u32,
    limits: Limits,
    pub(crate) line: u32,
    buf: String,
}

fn type_err(n: u32, inst: &str, want: Ty, got: &Value) -> String {
    format!("Argument {n} of {inst} must be of type {}, got type {}", want.name(), got.ty().name())
}

impl<'r, 'a> Exec<'r, 'a> {
    pub(crate) fn new(route: Option<&'r mut RouteCtx<'a>>, funcs: &'r [Arc<Func>], limits: Limits) -> Self {
        Exec {
            route,
            funcs,
            stack: Vec::new(),
            base: 0,
            steps: 0,
            depth: 0,
            limits,
            line: 0,
            buf: String::new(),
        }
    }

    /// Steps counted so far (at most one past the limit when it was hit).
    pub(crate) fn steps(&self) -> u64 {
        self.steps
    }

    pub(crate) fn err(&self, message: impl Into<String>) -> Stop {
        Stop::Err(RuntimeError { line: self.line, message: message.into() })
    }

    #[inline]
    fn tick(&mut self) -> R<()> {
        self.steps += 1;
        if self.steps > self.limits.max_steps {
            return Err(self.err(format!("Filter exceeded the limit of {} steps", self.limits.max_steps)));
        }
        Ok(())
    }

    /// Accounts for a value built at run time: fails when it exceeds the size limit, and charges
    /// steps for its size.
    fn charge(&mut self, bytes: usize) -> R<()> {
        self.charge_part(bytes, bytes)
    }

    /// Accounts for `added` bytes written into a value now `bytes` long.
    fn charge_part(&mut self, bytes: usize, added: usize) -> R<()> {
        if bytes > self.limits.max_value_bytes {
            return Err(self.err(format!(
                "Value too large ({bytes} bytes, the limit is {} bytes)",
                self.limits.max_value_bytes
            )));
        }
        self.steps += (added / Limits::BYTES_PER_STEP) as u64;
        if self.steps > self.limits.max_steps {
            return Err(self.err(format!("Filter exceeded the limit of {} steps", self.limits.max_steps)));
        }
        Ok(())
    }

    fn route(&self) -> R<&RouteCtx<'a>> {
        match self.route.as_deref() {
            Some(r) => Ok(r),
            None => Err(self.err("No route to access")),
        }
    }

    fn route_mut(&mut self) -> R<&mut RouteCtx<'a>> {
        if self.route.is_none() {
            return Err(self.err("No route to access"));
        }
        match self.route.as_deref_mut() {
            Some(r) => Ok(r),
            None => Err(Stop::Err(RuntimeError { line: 0, message: "No route to access".into() })),
        }
    }

    fn attrs(&self) -> R<&AttrSet> {
        Ok(self.route()?.attrs())
    }

    fn want_int(&self, v: &Value, n: u32, inst: &str) -> R<u32> {
        match v {
            Value::Int(i) => Ok(*i),
            _ => Err(self.err(type_err(n, inst, Ty::Int, v))),
        }
    }

    fn want_bool(&self, v: &Value, n: u32, inst: &str) -> R<bool> {
        match v {
            Value::Bool(b) => Ok(*b),
            _ => Err(self.err(type_err(n, inst, Ty::Bool, v))),
        }
    }

    // ---- expressions ----

    pub(crate) fn eval(&mut self, e: &Ex) -> R<Value> {
        self.tick()?;
        match e {
            Ex::Const(v) => Ok(v.clone()),
            Ex::Var(s) => Ok(self.stack[self.base + s].clone()),
            Ex::Attr(a) => self.read_attr(a),
            Ex::Not(x) => {
                let v = self.eval(x)?;
                Ok(Value::Bool(!self.want_bool(&v, 1, "NOT")?))
            }
            Ex::And(a, b) => {
                let v = self.eval(a)?;
                if self.want_bool(&v, 1, "AND")? {
                    self.eval(b)
                } else {
                    Ok(v)
                }
            }
            Ex::Or(a, b) => {
                let v = self.eval(a)?;
                if self.want_bool(&v, 1, "OR")? {
                    Ok(v)
                } else {
                    self.eval(b)
                }
            }
            Ex::Arith(op, a, b) => {
                let (va, vb) = (self.eval(a)?, self.eval(b)?);
                let x = self.want_int(&va, 1, op.inst())?;
                let y = self.want_int(&vb, 2, op.inst())?;
                Ok(Value::Int(match op {
                    Arith::Add => x.wrapping_add(y),
                    Arith::Sub => x.wrapping_sub(y),
                    Arith::Mul => x.wrapping_mul(y),
                    Arith::Div => {
                        if y == 0 {
                            return Err(self.err("Mother told me not to divide by 0"));
                        }
                        x / y
                    }
                }))
            }
            Ex::Cmp(op, a, b) => {
                let (va, vb) = (self.eval(a)?, self.eval(b)?);
                Ok(Value::Bool(self.cmp(*op, &va, &vb)?))
            }
            Ex::NetLen => Ok(Value::Int(u32::from(self.route()?.net().len()))),
            Ex::CmpInt { .. } | Ex::NetInSet(..) | Ex::ConstInAttr(..) => {
                self.steps -= 1;
                Ok(Value::Bool(self.cond(e, "CONDITION")?))
            }
            Ex::Match(neg, a, b) => {
                let va = self.eval(a)?;
                let r = match &**b {
                    Ex::Const(c) => ops::in_range(&va, c),
                    _ => {
                        let vb = self.eval(b)?;
                        ops::in_range(&va, &vb)
                    }
                };
                self.match_result(*neg, r)
            }
            Ex::InAttr(neg, x, ea) => {
                let v = self.eval(x)?;
                let attrs = self.attrs()?;
                let r = match LRef::of_attr(attrs.value(ea.id), ea.aty) {
                    Some(l) => ops::elem_in_list(&v, l).or_else(|| ops::in_range(&v, &l.to_value())),
                    None => None,
                };
                self.match_result(*neg, r)
            }
            Ex::AttrIn(neg, ea, x) => {
                let owned;
                let rhs = match &**x {
                    Ex::Const(c) => c,
                    _ => {
                        owned = self.eval(x)?;
                        &owned
                    }
                };
                let attrs = self.attrs()?;
                let r = match LRef::of_attr(attrs.value(ea.id), ea.aty) {
                    Some(l) => ops::list_in(l, rhs).or_else(|| ops::in_range(&l.to_value(), rhs)),
                    None => None,
                };
                self.match_result(*neg, r)
            }
            Ex::Member(x, m) => {
                let v = self.eval(x)?;
                ops::member(&v, *m).map_err(|s| self.err(s))
            }
            Ex::AttrMember(ea, m) => {
                let attrs = self.attrs()?;
                match LRef::of_attr(attrs.value(ea.id), ea.aty) {
                    Some(l) => ops::list_member(l, *m).map_err(|s| self.err(s)),
                    None => Err(self.err("Prefix, path, clist or eclist expected")),
                }
            }
            Ex::Defined(x) => {
                let v = self.eval(x)?;
                Ok(Value::Bool(!matches!(v, Value::Void)))
            }
            Ex::DefinedAttr(ea) => Ok(Value::Bool(self.attrs()?.get(ea.id).is_some())),
            Ex::Call(f, args) => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.eval(a)?);
                }
                self.call(f.idx, vals)
            }
            _ => self.eval_more(e),
        }
    }

    /// The less common expressions, out of line to keep [`eval`](Exec::eval)'s stack frame small
    /// (deep recursion of filter functions nests it).
    #[inline(never)]
    fn eval_more(&mut self, e: &Ex) -> R<Value> {
        match e {
            Ex::Pair(a, b) => {
                let (va, vb) = (self.eval(a)?, self.eval(b)?);
                let x = self.want_int(&va, 1, "PAIR_CONSTRUCT")?;
                let y = self.want_int(&vb, 2, "PAIR_CONSTRUCT")?;
                if x > 0xFFFF || y > 0xFFFF {
                    return Err(self.err("Can't operate with value out of bounds in pair constructor"));
                }
                Ok(Value::Pair((x << 16) | y))
            }
            Ex::Lc(a, b, c) => {
                let (va, vb, vc) = (self.eval(a)?, self.eval(b)?, self.eval(c)?);
                Ok(Value::Lc(LargeCommunity::new(
                    self.want_int(&va, 1, "LC_CONSTRUCT")?,
                    self.want_int(&vb, 2, "LC_CONSTRUCT")?,
                    self.want_int(&vc, 3, "LC_CONSTRUCT")?,
                )))
            }
            Ex::Ec(sub, a, b) => {
                let (va, vb) = (self.eval(a)?, self.eval(b)?);
                let (key, ip) = match &va {
                    Value::Int(k) => (*k, false),
                    Value::Quad(k) => (*k, true),
                    Value::Ip(IpAddr::V4(k)) => (u32::from(*k), true),
                    _ => {
                        return Err(self.err(format!(
                            "Argument 1 of EC constructor must be integer or IPv4 address, got {}",
                            va.ty().name()
                        )))
                    }
                };
                let val = self.want_int(&vb, 2, "EC_CONSTRUCT")?;
                ops::make_ec(*sub, key, ip, val).map(Value::Ec).map_err(|m| self.err(m))
            }
            Ex::Mask(items) => {
                let mut m = PathMask { items: Vec::with_capacity(items.len()) };
                for it in items {
                    match it {
                        MaskTpl::Fixed(i) => m.items.push(i.clone()),
                        MaskTpl::Expr(x, repeat) => {
                            let kind = match self.eval(x)? {
                                Value::Int(a) => MaskKind::Range(a, a),
                                Value::Set(s) if s.tree().is_some_and(|t| t.elem() == Ty::Int) => {
                                    MaskKind::Set(s)
                                }
                                Value::Set(_) => {
                                    return Err(self.err("Only integer sets allowed in path mask"))
                                }
                                _ => {
                                    return Err(
                                        self.err("Error resolving path mask template: value not an integer")
                                    )
                                }
                            };
                            m.items.push(MaskItem { kind, repeat: *repeat });
                        }
                    }
                }
                Ok(Value::Mask(Arc::new(m)))
            }
            Ex::IpMask(a, n) => {
                let (va, vn) = (self.eval(a)?, self.eval(n)?);
                let len = self.want_int(&vn, 2, "IP_MASK")?;
                match va {
                    Value::Ip(IpAddr::V4(x)) => {
                        let l = len.min(32);
                        let m = if l == 0 { 0 } else { u32::MAX << (32 - l) };
                        Ok(Value::Ip(IpAddr::V4((u32::from(x) & m).into())))
                    }
                    Value::Ip(IpAddr::V6(x)) => {
                        let l = len.min(128);
                        let m = if l == 0 { 0 } else { u128::MAX << (128 - l) };
                        Ok(Value::Ip(IpAddr::V6((u128::from(x) & m).into())))
                    }
                    _ => Err(self.err(type_err(1, "IP_MASK", Ty::Ip, &va))),
                }
            }
            Ex::List(op, l, arg) => {
                let vl = self.eval(l)?;
                let va = match arg {
                    Some(a) => self.eval(a)?,
                    None => Value::Void,
                };
                let v = self.list_op(*op, &vl, &va)?;
                self.charge(value_bytes(&v))?;
                Ok(v)
            }
            Ex::Format(x) => {
                let v = self.eval(x)?;
                let mut s = String::new();
                self.format_into(&mut s, &v)?;
                Ok(Value::String(Arc::from(s)))
            }
            _ => Err(self.err("Unexpected expression")),
        }
    }

    /// BIRD's comparison of two values.
    fn cmp(&self, op: Cmp, va: &Value, vb: &Value) -> R<bool> {
        Ok(match op {
            Cmp::Eq => same(va, vb),
            Cmp::Ne => !same(va, vb),
            Cmp::Lt | Cmp::Le => match compare(va, vb) {
                Some(o) if op == Cmp::Lt => o.is_lt(),
                Some(o) => o.is_le(),
                None => return Err(self.err("Can't compare values of incompatible types")),
            },
        })
    }

    /// Evaluates a condition without building a [`Value`] for the common shapes; `inst` names the
    /// instruction in the type error for a non-bool value (as `want_bool` would).
    pub(crate) fn cond(&mut self, e: &Ex, inst: &str) -> R<bool> {
        match e {
            Ex::CmpInt { op, x, k, k_left } => {
                self.tick()?;
                // `net.len` and `list.len` are read without building a value (one step for both)
                let route = self.route.as_deref();
                let direct = match &**x {
                    Ex::NetLen => route.map(|r| u32::from(r.net().len())),
                    Ex::AttrMember(ea, Mem::Len) => {
                        route.and_then(|r| LRef::of_attr(r.attrs().value(ea.id), ea.aty)).map(LRef::len)
                    }
                    _ => None,
                };
                let v = match direct {
                    Some(i) => Value::Int(i),
                    None => self.eval(x)?,
                };
                if let Value::Int(i) = v {
                    let (a, b) = if *k_left { (*k, i) } else { (i, *k) };
                    return Ok(match op {
                        Cmp::Eq => a == b,
                        Cmp::Ne => a != b,
                        Cmp::Lt => a < b,
                        Cmp::Le => a <= b,
                    });
                }
                let kv = Value::Int(*k);
                if *k_left {
                    self.cmp(*op, &kv, &v)
                } else {
                    self.cmp(*op, &v, &kv)
                }
            }
            Ex::NetInSet(neg, set) => {
                self.tick()?;
                let net = self.route()?.net();
                let r = match &**set {
                    crate::set::Set::Prefix(p) => p.matches(&net),
                    crate::set::Set::Tree(_) => false,
                };
                Ok(r != *neg)
            }
            Ex::ConstInAttr(neg, c, ea) => {
                self.tick()?;
                let attrs = self.attrs()?;
                let r = match LRef::of_attr(attrs.value(ea.id), ea.aty) {
                    Some(l) => ops::elem_in_list(c, l).or_else(|| ops::in_range(c, &l.to_value())),
                    None => None,
                };
                self.match_result(*neg, r).map(|v| matches!(v, Value::Bool(true)))
            }
            Ex::Not(x) => {
                self.tick()?;
                Ok(!self.cond(x, "NOT")?)
            }
            Ex::And(a, b) => {
                self.tick()?;
                Ok(self.cond(a, "AND")? && self.cond(b, inst)?)
            }
            Ex::Or(a, b) => {
                self.tick()?;
                Ok(self.cond(a, "OR")? || self.cond(b, inst)?)
            }
            _ => {
                let v = self.eval(e)?;
                self.want_bool(&v, 1, inst)
            }
        }
    }

    fn match_result(&self, neg: bool, r: Option<bool>) -> R<Value> {
        match r {
            Some(b) => Ok(Value::Bool(b != neg)),
            None if neg => Err(self.err("!~ applied on unknown type pair")),
            None => Err(self.err("~ applied on unknown type pair")),
        }
    }

    fn list_op(&self, op: ListOp, l: &Value, a: &Value) -> R<Value> {
        let r = match op {
            ListOp::Add => ops::list_add(l, a),
            ListOp::Delete => ops::list_remove(l, a, false),
            ListOp::Filter => ops::list_remove(l, a, true),
            ListOp::Prepend => ops::path_prepend(l, a),
            ListOp::Empty => ops::empty_of(l),
        };
        r.map_err(|m| self.err(m))
    }

    pub(crate) fn call(&mut self, idx: usize, args: Vec<Value>) -> R<Value> {
        let funcs = self.funcs;
        let f = &funcs[idx];
        if self.depth >= self.limits.max_depth {
            return Err(
                self.err(format!("Function {} nested too deep (limit {})", f.name, self.limits.max_depth))
            );
        }
        let new_base = self.stack.len();
        self.stack.extend(args);
        self.stack.resize(new_base + f.nslots.max(f.nparams), Value::Void);
        let (old_base, old_line) = (self.base, self.line);
        self.base = new_base;
        self.depth += 1;
        let r = self.exec_block(&f.body);
        self.depth -= 1;
        self.base = old_base;
        self.stack.truncate(new_base);
        self.line = old_line;
        match r? {
            Flow::Next => Ok(Value::Void),
            Flow::Return(v) => Ok(v),
        }
    }

    // ---- attributes ----

    fn read_attr(&self, a: &Attr) -> R<Value> {
        match a {
            Attr::Field(f) => self.read_field(*f),
            Attr::Ea(ea) => Ok(ea_value(self.attrs()?, ea)),
        }
    }

    fn read_field(&self, f: Field) -> R<Value> {
        let r = self.route()?;
        let a = r.attrs();
        let hop = match f {
            Field::Gw | Field::Ifname | Field::Ifindex | Field::Weight | Field::Onlink => {
                a.dest.next_hops().first()
            }
            _ => None,
        };
        Ok(match f {
            Field::Net => Value::Prefix(r.net()),
            Field::Proto => Value::String(Arc::from(r.proto())),
            Field::Preference => Value::Int(u32::from(r.preference())),
            Field::Source => Value::Enum(EnumTy::Rts, a.source as u32),
            Field::Scope => Value::Enum(EnumTy::Scope, (a.scope as u32) * 0x10),
            Field::Dest => Value::Enum(EnumTy::Rtd, a.dest.code()),
            Field::Gw => Value::Ip(hop.and_then(|h| h.gw).unwrap_or(IPA_NONE)),
            Field::Ifname => Value::String(
                hop.and_then(|h| h.iface.as_ref()).map_or_else(ops::empty_str, |i| Arc::from(i.name())),
            ),
            Field::Ifindex => Value::Int(hop.and_then(|h| h.iface.as_ref()).map_or(0, |i| i.index())),
            Field::Weight => Value::Int(hop.map_or(0, |h| u32::from(h.weight)) + 1),
            Field::Onlink => Value::Bool(hop.is_some_and(|h| h.onlink)),
            Field::IgpMetric => Value::Int(a.igp_metric.unwrap_or(0)),
            Field::From => Value::Ip(a.from.unwrap_or(IPA_NONE)),
        })
    }

    fn write_attr(&mut self, a: &Attr, v: Value) -> R<()> {
        match a {
            Attr::Field(f) => self.write_field(*f, v),
            Attr::Ea(ea) => {
                let av = match to_attr_value(ea, v) {
                    Ok(av) => av,
                    Err(m) => return Err(self.err(m)),
                };
                let line = self.line;
                let r = self.route_mut()?;
                r.set_ea(ea.id, ea.flags, av)
                    .map_err(|e| Stop::Err(RuntimeError { line, message: e.to_string() }))
            }
        }
    }

    fn write_field(&mut self, f: Field, v: Value) -> R<()> {
        let want = f.ty();
        if v.ty() != want {
            return Err(self.err(type_err(1, "RTA_SET", want, &v)));
        }
        let line = self.line;
        let fail = |m: &str| Stop::Err(RuntimeError { line, message: m.to_string() });
        let r = self.route_mut()?;
        match (f, v) {
            (Field::Preference, Value::Int(p)) => r.set_preference(p as u16),
            (Field::From, Value::Ip(a)) => r.attrs_mut().from = Some(a),
            (Field::IgpMetric, Value::Int(m)) => r.attrs_mut().igp_metric = Some(m),
            (Field::Gw, Value::Ip(a)) => {
                let iface =
                    r.interfaces().and_then(|i| i.neighbor(a)).ok_or_else(|| fail("Invalid gw address"))?;
                r.attrs_mut().dest = Dest::one(NextHop::via(a, iface));
            }
            (Field::Ifname, Value::String(s)) => {
                let iface =
                    r.interfaces().and_then(|i| i.by_name(&s)).ok_or_else(|| fail("Invalid iface name"))?;
                r.attrs_mut().dest = Dest::one(NextHop::dev(iface));
            }
            (Field::Dest, Value::Enum(_, c)) => {
                r.attrs_mut().dest = match c {
                    2 => Dest::Blackhole,
                    3 => Dest::Unreachable,
                    4 => Dest::Prohibit,
                    _ => {
                        return Err(fail(
                            "Destination can be changed only to blackhole, unreachable or prohibit",
                        ))
                    }
                }
            }
            (Field::Scope, Value::Enum(_, c)) => {
                let s = Scope::ALL.get((c / 0x10) as usize).copied().filter(|_| c % 0x10 == 0);
                r.attrs_mut().scope = s.ok_or_else(|| fail("Invalid scope"))?;
            }
            (Field::Weight, Value::Int(w)) => {
                if !(1..=256).contains(&w) {
                    return Err(fail("Setting weight value out of bounds"));
                }
                let hops = match &r.attrs().dest {
                    Dest::Unicast(h) => h.to_vec(),
                    _ => return Err(fail("Setting weight needs regular nexthop ")),
                };
                let hops = hops.into_iter().map(|mut h| {
                    h.weight = (w - 1) as u8;
                    h
                });
                r.attrs_mut().dest = Dest::unicast(hops);
            }
            (Field::Onlink, Value::Bool(b)) => {
                let hops = match &r.attrs().dest {
                    Dest::Unicast(h) => h.to_vec(),
                    _ => return Err(fail("Setting onlink needs regular nexthop")),
                };
                let hops = hops.into_iter().map(|mut h| {
                    h.onlink = b;
                    h
                });
                r.attrs_mut().dest = Dest::unicast(hops);
            }
            _ => return Err(fail("This static attribute is read-only.")),
        }
        Ok(())
    }

    fn attr_owned(&self, ea: &Ea) -> R<Value> {
        Ok(ea_value(self.attrs()?, ea))
    }

    // ---- statements ----

    pub(crate) fn exec_block(&mut self, b: &[St]) -> R<Flow> {
        for s in b {
            if let Flow::Return(v) = self.exec(s)? {
                return Ok(Flow::Return(v));
            }
        }
        Ok(Flow::Next)
    }

    fn set_slot(&mut self, slot: usize, v: Value) {
        self.stack[self.base + slot] = v;
    }

    fn check_var(&self, ty: Option<Ty>, v: Value) -> R<Value> {
        match (ty, &v) {
            (Some(Ty::Quad), Value::Ip(IpAddr::V4(a))) => Ok(Value::Quad(u32::from(*a))),
            (Some(t), _) if t != v.ty() => Err(self.err(type_err(1, "VAR_SET", t, &v))),
            _ => Ok(v),
        }
    }

    fn text(&mut self, args: &[Ex]) -> R<String> {
        let mut s = String::new();
        for a in args {
            let v = self.eval(a)?;
            self.format_into(&mut s, &v)?;
        }
        Ok(s)
    }

    /// Appends `v` as BIRD prints it, within the value size limit (checked before formatting
    /// from the value's size, and after).
    fn format_into(&mut self, s: &mut String, v: &Value) -> R<()> {
        // A printed value takes at most a few times its binary size; refuse early what would
        // surely be too large.
        let est = s.len() + value_bytes(v);
        if est > self.limits.max_value_bytes {
            return self.charge(est);
        }
        let before = s.len();
        let _ = write!(s, "{v}");
        self.charge_part(s.len(), s.len() - before)
    }

    fn push_print(&mut self, t: &str) -> R<()> {
        let total = self.buf.len() + t.len();
        self.charge_part(total, t.len())?;
        self.buf.push_str(t);
        Ok(())
    }

    pub(crate) fn flush_print(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let line = std::mem::take(&mut self.buf);
        tracing::info!(target: "birdfilter", "{line}");
        if let Some(r) = self.route.as_deref_mut() {
            r.record_print(&line);
        }
    }

    fn exec(&mut self, s: &St) -> R<Flow> {
        self.tick()?;
        self.line = s.line.0;
        match &s.kind {
            Sk::Block(b) => return self.exec_block(b),
            Sk::If(c, t, e) => {
                if self.cond(c, "CONDITION")? {
                    return self.exec(t);
                } else if let Some(e) = e {
                    return self.exec(e);
                }
            }
            Sk::Case(x, labels, arms, default) => {
                let v = self.eval(x)?;
                let pos = labels.iter().position(|l| {
                    l.from.ty() == v.ty()
                        && compare(&l.from, &v).is_some_and(|o| o.is_le())
                        && compare(&v, &l.to).is_some_and(|o| o.is_le())
                });
                // the labels looked at cost steps too (a label is a range of a few words)
                self.charge_part(0, pos.map_or(labels.len(), |p| p + 1) * 4)?;
                let arm = pos.map(|p| &labels[p]);
                match (arm, default) {
                    (Some(l), _) => return self.exec_block(&arms[l.arm]),
                    (None, Some(d)) => return self.exec_block(d),
                    (None, None) => {}
                }
            }
            Sk::For(slot, var_ty, it, body) => {
                let v = self.eval(it)?;
                if let Some(t) = var_ty {
                    if Some(*t) != v.ty().element() {
                        return Err(self.err("Mismatched argument and variable type"));
                    }
                }
                let items: Vec<Value> = match &v {
                    Value::Path(p) => p.asns().map(Value::Int).collect(),
                    Value::Clist(l) => l.iter().map(|c| Value::Pair(c.0)).collect(),
                    Value::Eclist(l) => l.iter().map(|c| Value::Ec(*c)).collect(),
                    Value::Lclist(l) => l.iter().map(|c| Value::Lc(*c)).collect(),
                    _ => return Err(self.err("Clist or lclist expected")),
                };
                for item in items {
                    self.set_slot(*slot, item);
                    if let Flow::Return(r) = self.exec(body)? {
                        return Ok(Flow::Return(r));
                    }
                }
                self.set_slot(*slot, Value::Void);
            }
            Sk::InitVar(slot, init) => {
                let v = match init {
                    Some(e) => self.eval(e)?,
                    None => Value::Void,
                };
                self.set_slot(*slot, v);
            }
            Sk::SetVar(slot, ty, e) => {
                let v = self.eval(e)?;
                let v = self.check_var(*ty, v)?;
                self.set_slot(*slot, v);
            }
            Sk::SetAttrConst(ea, flags, av) => {
                let line = self.line;
                let r = self.route_mut()?;
                r.set_ea(ea.id, *flags, av.clone())
                    .map_err(|e| Stop::Err(RuntimeError { line, message: e.to_string() }))?;
            }
            Sk::SetAttr(a, e) => {
                let v = self.eval(e)?;
                self.write_attr(a, v)?;
            }
            Sk::UpdateVar(slot, ty, ops_) => {
                let mut v = self.stack[self.base + slot].clone();
                for (op, arg) in ops_ {
                    let a = match arg {
                        Some(a) => self.eval(a)?,
                        None => Value::Void,
                    };
                    v = self.list_op(*op, &v, &a)?;
                    self.charge(value_bytes(&v))?;
                }
                let v = self.check_var(*ty, v)?;
                self.set_slot(*slot, v);
            }
            Sk::UpdateAttr(ea, ops_) => {
                let mut v = self.attr_owned(ea)?;
                for (op, arg) in ops_ {
                    let a = match arg {
                        Some(a) => self.eval(a)?,
                        None => Value::Void,
                    };
                    v = self.list_op(*op, &v, &a)?;
                    self.charge(value_bytes(&v))?;
                }
                self.write_attr(&Attr::Ea(ea.clone()), v)?;
            }
            Sk::Unset(ea) => {
                if self.attrs()?.get(ea.id).is_some() {
                    self.route_mut()?.attrs_mut().remove(ea.id);
                }
            }
            Sk::Accept(args) | Sk::Reject(args) => {
                let reason = if args.is_empty() {
                    None
                } else {
                    let t = self.text(args)?;
                    self.push_print(&t)?;
                    self.flush_print();
                    Some(t)
                };
                return Err(if matches!(s.kind, Sk::Accept(_)) {
                    Stop::Accept(reason)
                } else {
                    Stop::Reject(reason)
                });
            }
            Sk::Error(args) => {
                let t = self.text(args)?;
                return Err(self.err(t));
            }
            Sk::Return(e) => {
                let v = match e {
                    Some(e) => self.eval(e)?,
                    None => Value::Void,
                };
                return Ok(Flow::Return(v));
            }
            Sk::Print(args, newline) => {
                let t = self.text(args)?;
                self.push_print(&t)?;
                if *newline {
                    self.flush_print();
                }
            }
            Sk::Eval(e) => {
                self.eval(e)?;
            }
        }
        Ok(Flow::Next)
    }
}

/// The bytes a value built at run time occupies (its data; constants and sets count little, as
/// they are shared).
pub(crate) fn value_bytes(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len(),
        Value::Path(p) => p.as_wire().len(),
        Value::Clist(l) => l.len() * 4,
        Value::Eclist(l) => l.len() * 8,
        Value::Lclist(l) => l.len() * 12,
        Value::Mask(m) => m.items.len() * 16,
        // printed, a set takes at least a few bytes per element
        Value::Set(s) => match &**s {
            crate::set::Set::Tree(t) => t.len() * 4,
            crate::set::Set::Prefix(p) => p.patterns().len() * 8,
        },
        _ => 16,
    }
}

/// An extended attribute's value as a filter value; unset paths and lists read as empty, other
/// unset attributes as void.
pub(crate) fn ea_value(attrs: &AttrSet, ea: &Ea) -> Value {
    let Some(av) = attrs.value(ea.id) else {
        return match ea.aty {
            AttrType::Path => Value::Path(ops::empty_path().clone()),
            AttrType::Clist | AttrType::QuadList => Value::Clist(List::empty()),
            AttrType::Eclist => Value::Eclist(List::empty()),
            AttrType::Lclist => Value::Lclist(List::empty()),
            _ => Value::Void,
        };
    };
    match av {
        AttrValue::Int(v) => Value::Int(*v),
        AttrValue::Quad(v) => Value::Quad(*v),
        AttrValue::Ip(a) => Value::Ip(*a),
        AttrValue::IpPair(p) => Value::Ip(p[0]),
        AttrValue::Origin(o) => Value::Enum(EnumTy::BgpOrigin, *o as u32),
        AttrValue::Pair(p) => Value::Pair(*p),
        AttrValue::Ec(e) => Value::Ec(*e),
        AttrValue::Lc(l) => Value::Lc(*l),
        AttrValue::Path(p) => Value::Path(p.clone()),
        AttrValue::Clist(l) => Value::Clist(l.clone()),
        AttrValue::QuadList(q) => Value::Clist(q.iter().map(|&x| Community(x)).collect()),
        AttrValue::Eclist(l) => Value::Eclist(l.clone()),
        AttrValue::Lclist(l) => Value::Lclist(l.clone()),
        AttrValue::Flag => Value::Enum(EnumTy::Empty, 0),
        AttrValue::Str(s) => Value::String(Arc::from(&**s)),
        AttrValue::Bool(b) => Value::Bool(*b),
        AttrValue::Aggregator(_) | AttrValue::Bytes(_) | AttrValue::HostEntry(_) => Value::Void,
    }
}

/// A filter value to store in an extended attribute, type-checked as BIRD's `EA_SET`.
pub(crate) fn to_attr_value(ea: &Ea, v: Value) -> Result<AttrValue, String> {
    let want = ea.ty().unwrap_or(Ty::Void);
    let bad = |v: &Value| type_err(1, "EA_SET", want, v);
    Ok(match (ea.aty, v) {
        (AttrType::Int, Value::Int(i)) => AttrValue::Int(i),
        (AttrType::Quad, Value::Quad(i)) => AttrValue::Quad(i),
        (AttrType::Quad, Value::Ip(IpAddr::V4(a))) => AttrValue::Quad(u32::from(a)),
        (AttrType::Ip | AttrType::BgpNextHop, Value::Ip(a)) => AttrValue::Ip(a),
        (AttrType::Origin, Value::Enum(EnumTy::BgpOrigin, c)) => {
            AttrValue::Origin(Origin::from_code(c as u8).ok_or_else(|| "Invalid origin".to_string())?)
        }
        (AttrType::Pair, Value::Pair(p)) => AttrValue::Pair(p),
        (AttrType::Ec, Value::Ec(e)) => AttrValue::Ec(e),
        (AttrType::Lc, Value::Lc(l)) => AttrValue::Lc(l),
        (AttrType::Path, Value::Path(p)) => AttrValue::Path(p),
        (AttrType::Clist, Value::Clist(l)) => AttrValue::Clist(l),
        (AttrType::QuadList, Value::Clist(l)) => AttrValue::QuadList(l.iter().map(|c| c.0).collect()),
        (AttrType::Eclist, Value::Eclist(l)) => AttrValue::Eclist(l),
        (AttrType::Lclist, Value::Lclist(l)) => AttrValue::Lclist(l),
        (AttrType::String, Value::String(s)) => AttrValue::Str(Box::from(&*s)),
        (AttrType::Bool, Value::Bool(b)) => AttrValue::Bool(b),
        (_, v) => return Err(bad(&v)),
    })
}
