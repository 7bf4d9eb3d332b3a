//! AST to executable tree: name resolution to slots, attribute resolution in the registry,
//! constant sets and masks prebuilt, and the static type checks BIRD makes at parse time.
//!
//! Only what BIRD rejects when it reads the configuration is rejected here (arguments of known
//! wrong type, assignments of the wrong type, conditions that are not bool, ...); anything BIRD
//! only notices when the code runs stays a run-time error, so configurations BIRD loads load.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use birdconf::ast::{
    self, BinOp, Builtin, CompRange, EcKind, EnumConst, EnumKind, ExprKind, LValue, Member, SetItem,
    SetValue, StmtKind, Type,
};
use birdconf::{ConfigError, Loc};
use birdnet::PrefixPattern;
use birdtable::attrs::{lookup_attr, register_custom, AsPath, AttrType, LargeCommunity, List, RouteSource};

use crate::exec::to_attr_value;
use crate::ir::{
    Arith, Attr, CaseLabel, Cmp, Ea, Ex, Field, FnRef, Func, Line, ListOp, MaskTpl, Mem, Sk, St,
};
use crate::mask::{MaskItem, MaskKind, PathMask};
use crate::ops::{make_ec, EC_GENERIC};
use crate::set::{expand, PrefixSetV, Set, TreeSet};
use crate::value::{EnumTy, Ty, Value};

type Res<T> = Result<T, ConfigError>;

/// The value of a built-in enum constant.
pub(crate) fn enum_value(c: &EnumConst) -> Value {
    let n = c.name;
    let idx = |list: &[&str]| list.iter().position(|x| *x == n).unwrap_or(0) as u32;
    match c.kind {
        EnumKind::Source => Value::Enum(
            EnumTy::Rts,
            match n {
                "RTS_DUMMY" => 0,
                "RTS_PERF" => 15,
                _ => RouteSource::from_filter_name(n).map_or(0, |s| s as u32),
            },
        ),
        EnumKind::Dest => Value::Enum(
            EnumTy::Rtd,
            idx(&["RTD_NONE", "RTD_UNICAST", "RTD_BLACKHOLE", "RTD_UNREACHABLE", "RTD_PROHIBIT"]),
        ),
        EnumKind::NetType => Value::Enum(
            EnumTy::NetType,
            idx(&[
                "NET_NONE",
                "NET_IP4",
                "NET_IP6",
                "NET_VPN4",
                "NET_VPN6",
                "NET_ROA4",
                "NET_ROA6",
                "NET_FLOW4",
                "NET_FLOW6",
                "NET_IP6_SADR",
                "NET_MPLS",
                "NET_ASPA",
            ]),
        ),
        EnumKind::Origin => {
            Value::Enum(EnumTy::BgpOrigin, idx(&["ORIGIN_IGP", "ORIGIN_EGP", "ORIGIN_INCOMPLETE"]))
        }
        EnumKind::Scope => Value::Enum(
            EnumTy::Scope,
            0x10 * idx(&[
                "SCOPE_HOST",
                "SCOPE_LINK",
                "SCOPE_SITE",
                "SCOPE_ORGANIZATION",
                "SCOPE_UNIVERSE",
                "SCOPE_UNDEFINED",
            ]),
        ),
        EnumKind::Roa => Value::Enum(EnumTy::Roa, idx(&["ROA_UNKNOWN", "ROA_VALID", "ROA_INVALID"])),
    }
}

fn ec_sub(kind: EcKind) -> u32 {
    match kind {
        EcKind::Rt => 2,
        EcKind::Ro => 3,
        EcKind::Generic => EC_GENERIC,
        EcKind::Unknown(n) => n,
    }
}

/// The filter type of a declared type; `None` for "some enum" (unchecked).
pub(crate) fn decl_ty(t: &Type, loc: &Loc) -> Res<Option<Ty>> {
    Ok(Some(match t {
        Type::Int => Ty::Int,
        Type::Bool => Ty::Bool,
        Type::Ip => Ty::Ip,
        Type::Prefix => Ty::Prefix,
        Type::Pair => Ty::Pair,
        Type::Quad => Ty::Quad,
        Type::Ec => Ty::Ec,
        Type::Lc => Ty::Lc,
        Type::String => Ty::String,
        Type::BgpMask => Ty::Mask,
        Type::BgpPath => Ty::Path,
        Type::Clist => Ty::Clist,
        Type::Eclist => Ty::Eclist,
        Type::Lclist => Ty::Lclist,
        Type::Enum => return Ok(None),
        Type::Void => Ty::Void,
        Type::Set(e) if **e == Type::Prefix => Ty::PrefixSet,
        Type::Set(_) => Ty::Set,
        Type::Rd | Type::Bytestring => {
            return Err(loc.error(format!("birdd does not support type {}", t.name())));
        }
    }))
}

/// Converts a constant of the AST.
pub(crate) fn konst(v: &ast::Value, loc: &Loc) -> Res<Value> {
    Ok(match v {
        ast::Value::Bool(b) => Value::Bool(*b),
        ast::Value::Int(i) => Value::Int(*i),
        ast::Value::Pair(a, b) => Value::Pair(((a & 0xFFFF) << 16) | (b & 0xFFFF)),
        ast::Value::Ip(a) => Value::Ip(*a),
        ast::Value::Prefix(n) => Value::Prefix(*n),
        ast::Value::String(s) => Value::String(Arc::from(s.as_str())),
        ast::Value::Ec(e) => {
            Value::Ec(make_ec(ec_sub(e.kind), e.key, e.key_is_ip, e.value).map_err(|m| loc.error(m))?)
        }
        ast::Value::Lc(a, b, c) => Value::Lc(LargeCommunity::new(*a, *b, *c)),
        ast::Value::Enum(c) => enum_value(c),
        ast::Value::Set(s) => Value::Set(build_set(s, loc)?),
        ast::Value::EmptyPath => Value::Path(AsPath::empty()),
        ast::Value::EmptyClist => Value::Clist(List::empty()),
        ast::Value::EmptyEclist => Value::Eclist(List::empty()),
        ast::Value::EmptyLclist => Value::Lclist(List::empty()),
    })
}

fn set_elem_ok(t: Ty) -> bool {
    matches!(t, Ty::Int | Ty::Pair | Ty::Quad | Ty::Ip | Ty::Ec | Ty::Lc | Ty::Enum(_))
}

fn r(c: CompRange) -> (u32, u32) {
    (c.lo, c.hi)
}

/// The `(from, to)` ranges one set item (or `case` label) stands for.
fn item_ranges(item: &SetItem, loc: &Loc) -> Res<Vec<(Value, Value)>> {
    let err = |m: String| loc.error(m);
    Ok(match item {
        SetItem::Value(v) => {
            let v = konst(v, loc)?;
            vec![(v.clone(), v)]
        }
        SetItem::Range(a, b) => {
            let (a, b) = (konst(a, loc)?, konst(b, loc)?);
            if a.ty() != b.ty() {
                return Err(loc.error("Mixed types in set range"));
            }
            vec![(a, b)]
        }
        SetItem::Prefix(p) => vec![(Value::Prefix(p.net()), Value::Prefix(p.net()))],
        SetItem::Pair(a, b) => {
            let full = [(0, 0xFFFF), (0, 0xFFFF)];
            let comps = [(a.lo.min(0xFFFF), a.hi.min(0xFFFF)), (b.lo.min(0xFFFF), b.hi.min(0xFFFF))];
            expand(&comps, &full)
                .map_err(err)?
                .into_iter()
                .map(|(lo, hi)| (Value::Pair((lo[0] << 16) | lo[1]), Value::Pair((hi[0] << 16) | hi[1])))
                .collect()
        }
        SetItem::Lc(a, b, c) => {
            let full = [(0, u32::MAX); 3];
            expand(&[r(*a), r(*b), r(*c)], &full)
                .map_err(err)?
                .into_iter()
                .map(|(lo, hi)| {
                    (
                        Value::Lc(LargeCommunity::new(lo[0], lo[1], lo[2])),
                        Value::Lc(LargeCommunity::new(hi[0], hi[1], hi[2])),
                    )
                })
                .collect()
        }
        SetItem::EcIp(kind, key, val) => {
            let sub = ec_sub(*kind);
            if key.hi < key.lo || val.hi < val.lo {
                return Ok(Vec::new());
            }
            if sub == EC_GENERIC {
                return item_ranges(&SetItem::Ec(*kind, *key, *val), loc);
            }
            if val.lo > 0xFFFF {
                return Err(loc.error(format!(
                    "4-byte value {} can't be used with IP-address key in extended community",
                    val.lo
                )));
            }
            let vhi = val.hi.min(0xFFFF);
            // With the whole value range, consecutive keys are consecutive communities.
            if val.lo == 0 && vhi == 0xFFFF {
                let lo = make_ec(sub, key.lo, true, 0).map_err(err)?;
                let hi = make_ec(sub, key.hi, true, 0xFFFF).map_err(err)?;
                return Ok(vec![(Value::Ec(lo), Value::Ec(hi))]);
            }
            if (key.hi - key.lo) as usize >= crate::set::MAX_EXPANSION {
                return Err(loc.error("Set item range too large"));
            }
            let mut out = Vec::new();
            for k in key.lo..=key.hi {
                let lo = make_ec(sub, k, true, val.lo).map_err(err)?;
                let hi = make_ec(sub, k, true, vhi).map_err(err)?;
                out.push((Value::Ec(lo), Value::Ec(hi)));
            }
            out
        }
        SetItem::Ec(kind, key, val) => {
            let sub = ec_sub(*kind);
            if key.hi < key.lo || val.hi < val.lo {
                return Ok(Vec::new());
            }
            if (key.hi - key.lo) as usize >= crate::set::MAX_EXPANSION {
                return Err(loc.error("Set item range too large"));
            }
            let mut out = Vec::new();
            for k in key.lo..=key.hi {
                let (mut vlo, mut vhi) = (val.lo, val.hi);
                if sub != EC_GENERIC && k >= 0x10000 {
                    if vlo > 0xFFFF {
                        return Err(loc.error(format!(
                            "4-byte value {vlo} can't be used with 4-byte ASN in extended community"
                        )));
                    }
                    vhi = vhi.min(0xFFFF);
                    vlo = vlo.min(vhi);
                }
                let lo = make_ec(sub, k, false, vlo).map_err(err)?;
                let hi = make_ec(sub, k, false, vhi).map_err(err)?;
                out.push((Value::Ec(lo), Value::Ec(hi)));
            }
            out
        }
    })
}

/// Builds a constant set.
pub(crate) fn build_set(s: &SetValue, loc: &Loc) -> Res<Arc<Set>> {
    let is_prefix = |i: &SetItem| matches!(i, SetItem::Prefix(_) | SetItem::Value(ast::Value::Prefix(_)));
    if s.items.iter().any(is_prefix) {
        let mut pats = Vec::with_capacity(s.items.len());
        for i in &s.items {
            match i {
                SetItem::Prefix(p) => pats.push(*p),
                SetItem::Value(ast::Value::Prefix(n)) => pats.push(PrefixPattern::exact(*n)),
                _ => return Err(loc.error("Mixed types in set")),
            }
        }
        let v4 = pats.iter().filter(|p| p.net().addr().is_ipv4()).count();
        if v4 != 0 && v4 != pats.len() {
            return Err(loc.error("Mixed IPv4/IPv6 prefixes in prefix set"));
        }
        return Ok(Arc::new(Set::Prefix(PrefixSetV::new(pats))));
    }
    let mut items = Vec::new();
    for i in &s.items {
        items.extend(item_ranges(i, loc)?);
        if items.len() > crate::set::MAX_EXPANSION {
            return Err(loc.error("Set too large"));
        }
    }
    let elem = items.first().map_or(Ty::Int, |(a, _)| a.ty());
    if !set_elem_ok(elem) {
        return Err(loc.error("Set-incompatible type"));
    }
    if items.iter().any(|(a, b)| a.ty() != elem || b.ty() != elem) {
        return Err(loc.error("Mixed types in set"));
    }
    Ok(Arc::new(Set::Tree(TreeSet::new(elem, items))))
}

/// Registers (or finds) a custom attribute.
pub(crate) fn custom_attr(name: &str, ty: &Type, loc: &Loc) -> Res<Ea> {
    let aty = AttrType::from_keyword(&ty.name())
        .ok_or_else(|| loc.error(format!("Type {} cannot be used for a custom attribute", ty.name())))?;
    let id = register_custom(name, aty).map_err(|e| loc.error(e.to_string()))?;
    Ok(Ea { id, aty, name: Arc::from(name), flags: default_flags(id) })
}

fn static_field(a: &ast::Attr) -> Option<Field> {
    Some(match a {
        ast::Attr::Net => Field::Net,
        ast::Attr::Preference => Field::Preference,
        ast::Attr::From => Field::From,
        ast::Attr::Gw => Field::Gw,
        ast::Attr::Proto => Field::Proto,
        ast::Attr::Source => Field::Source,
        ast::Attr::Scope => Field::Scope,
        ast::Attr::Dest => Field::Dest,
        ast::Attr::Ifname => Field::Ifname,
        ast::Attr::Ifindex => Field::Ifindex,
        ast::Attr::Weight => Field::Weight,
        ast::Attr::IgpMetric => Field::IgpMetric,
        ast::Attr::Onlink => Field::Onlink,
        _ => return None,
    })
}

/// The flags `AttrSet::set` gives an attribute: its default BGP flags, 0 for others.
fn default_flags(id: birdtable::attrs::AttrId) -> u8 {
    birdtable::attrs::registry::def(id).and_then(|d| d.bgp).map_or(0, |(_, f)| f)
}

/// Resolves an attribute of the AST.
pub(crate) fn resolve_attr(a: &ast::Attr, loc: &Loc) -> Res<Attr> {
    if let Some(f) = static_field(a) {
        return Ok(Attr::Field(f));
    }
    if let ast::Attr::Custom { name, ty } = a {
        return custom_attr(name, ty, loc).map(Attr::Ea);
    }
    let name = a.name();
    match lookup_attr(name) {
        Some(d) => {
            Ok(Attr::Ea(Ea { id: d.id, aty: d.ty, name: d.filter_name.clone(), flags: default_flags(d.id) }))
        }
        None => Err(loc.error(format!("birdd does not support attribute {name}"))),
    }
}

fn type_error(loc: &Loc, n: u32, inst: &str, want: Ty, got: Ty) -> ConfigError {
    loc.error(format!("Argument {n} of {inst} must be of type {}, got type {}", want.name(), got.name()))
}

/// One compiled expression with its static type (`None` = unknown until run time).
type Tex = (Ex, Option<Ty>);

/// Compiles one filter, function or expression against already compiled functions.
pub(crate) struct Compiler<'p> {
    fn_index: &'p HashMap<String, usize>,
    /// The function being compiled (name, index), for recursive calls.
    current: Option<(String, usize)>,
    /// Types of the variables declared so far, indexed by their [`ast::VarId`] (which is also the
    /// frame slot: birdconf numbers the variables of a body densely and resolves every use).
    vars: Vec<Option<Option<Ty>>>,
    pub(crate) nslots: usize,
    /// Functions called directly.
    pub(crate) calls: BTreeSet<usize>,
    /// Set elements (expanded ranges) built so far, bounded by [`MAX_SET_ELEMS`].
    set_elems: usize,
    /// Sets built so far, by the address of their (shared) literal.
    set_cache: HashMap<usize, Arc<Set>>,
}

/// Most set elements (expanded ranges) one compilation may build: a bound on the memory an
/// expression typed on the CLI can take.
pub(crate) const MAX_SET_ELEMS: usize = 4 * crate::set::MAX_EXPANSION;

impl<'p> Compiler<'p> {
    pub(crate) fn new(fn_index: &'p HashMap<String, usize>) -> Compiler<'p> {
        Compiler {
            fn_index,
            current: None,
            vars: Vec::new(),
            nslots: 0,
            calls: BTreeSet::new(),
            set_elems: 0,
            set_cache: HashMap::new(),
        }
    }

    fn count_set(&mut self, s: &Set, loc: &Loc) -> Res<()> {
        self.set_elems += s.tree().map_or(0, TreeSet::len);
        if self.set_elems > MAX_SET_ELEMS {
            return Err(loc.error("Sets too large"));
        }
        Ok(())
    }

    fn declare(&mut self, id: ast::VarId, ty: Option<Ty>) -> usize {
        let slot = id.index();
        if self.vars.len() <= slot {
            self.vars.resize(slot + 1, None);
        }
        self.vars[slot] = Some(ty);
        self.nslots = self.nslots.max(slot + 1);
        slot
    }

    fn var(&self, name: &str, id: ast::VarId, loc: &Loc) -> Res<(usize, Option<Ty>)> {
        match self.vars.get(id.index()) {
            Some(Some(t)) => Ok((id.index(), *t)),
            _ => Err(loc.error(format!("Variable '{name}' not declared"))),
        }
    }

    /// A function: parameters, old-style locals, body.
    pub(crate) fn function(&mut self, f: &ast::Function, idx: usize) -> Res<Func> {
        self.current = Some((f.name.clone(), idx));
        let mut param_tys = Vec::new();
        let mut next = 0;
        for (_, t) in &f.params {
            let ty = decl_ty(t, &f.loc)?;
            param_tys.push(ty);
            self.declare(ast::VarId(next), ty);
            next += 1;
        }
        for (_, t) in &f.locals {
            let ty = decl_ty(t, &f.loc)?;
            self.declare(ast::VarId(next), ty);
            next += 1;
        }
        let body = self.block(&f.body)?;
        Ok(Func {
            name: Arc::from(f.name.as_str()),
            nparams: f.params.len(),
            param_tys,
            nslots: self.nslots,
            body,
        })
    }

    /// A filter: old-style locals, body.
    pub(crate) fn filter(&mut self, f: &ast::Filter) -> Res<Vec<St>> {
        for (i, (_, t)) in f.locals.iter().enumerate() {
            let ty = decl_ty(t, &f.loc)?;
            self.declare(ast::VarId(i as u32), ty);
        }
        self.block(&f.body)
    }

    /// Statements in their own scope.
    pub(crate) fn block(&mut self, v: &[ast::Stmt]) -> Res<Vec<St>> {
        v.iter().map(|s| self.stmt(s)).collect()
    }

    fn cond(&mut self, e: &ast::Expr) -> Res<Ex> {
        let (x, t) = self.expr(e)?;
        if let Some(t) = t {
            if t != Ty::Bool {
                return Err(type_error(&e.loc, 1, "CONDITION", Ty::Bool, t));
            }
        }
        Ok(x)
    }

    fn stmt(&mut self, s: &ast::Stmt) -> Res<St> {
        let loc = &s.loc;
        let kind = match &s.kind {
            StmtKind::Block(v) => Sk::Block(self.block(v)?),
            StmtKind::If(c, t, e) => {
                let c = self.cond(c)?;
                let t = Box::new(self.stmt(t)?);
                let e = match e {
                    Some(e) => Some(Box::new(self.stmt(e)?)),
                    None => None,
                };
                Sk::If(c, t, e)
            }
            StmtKind::Case(x, arms, default) => {
                let (x, _) = self.expr(x)?;
                let mut labels = Vec::new();
                let mut bodies = Vec::new();
                for (i, arm) in arms.iter().enumerate() {
                    for l in &arm.labels {
                        if matches!(l, SetItem::Prefix(_)) {
                            return Err(loc.error("Prefixes cannot be used as case labels"));
                        }
                        let ranges = item_ranges(l, loc)?;
                        self.set_elems += ranges.len();
                        if self.set_elems > MAX_SET_ELEMS {
                            return Err(loc.error("Sets too large"));
                        }
                        for (from, to) in ranges {
                            labels.push(CaseLabel { from, to, arm: i });
                        }
                    }
                    let body = arm.body.iter().map(|s| self.stmt(s)).collect::<Res<Vec<_>>>()?;
                    bodies.push(body);
                }
                let default = match default {
                    Some(d) => Some(d.iter().map(|s| self.stmt(s)).collect::<Res<Vec<_>>>()?),
                    None => None,
                };
                Sk::Case(x, labels, bodies, default)
            }
            StmtKind::For(lv, it, body) => {
                let (name, ty) = (&lv.name, &lv.ty);
                let (it_ex, it_ty) = self.expr(it)?;
                let var_ty = decl_ty(ty, loc)?;
                if let Some(t) = it_ty {
                    let Some(elem) = t.element() else {
                        return Err(it.loc.error(format!(
                            "Value of expression in FOR must be iterable, got {}",
                            t.name()
                        )));
                    };
                    if let Some(v) = var_ty {
                        if v != elem {
                            return Err(loc.error(format!(
                                "Loop variable '{name}' in FOR must be {}, is {}",
                                elem.name(),
                                v.name()
                            )));
                        }
                    }
                }
                let slot =
                    if lv.declared { self.declare(lv.id, var_ty) } else { self.var(name, lv.id, loc)?.0 };
                Sk::For(slot, var_ty, it_ex, Box::new(self.stmt(body)?))
            }
            StmtKind::VarDecl(_, ty, init, id) => {
                let vt = decl_ty(ty, loc)?;
                let init = match init {
                    Some(e) => {
                        let (mut x, mut t) = self.expr(e)?;
                        promote(&mut x, &mut t, vt);
                        if let (Some(want), Some(got)) = (vt, t) {
                            if want != got {
                                return Err(type_error(&e.loc, 1, "VAR_INIT", want, got));
                            }
                        }
                        Some(x)
                    }
                    None => None,
                };
                let slot = self.declare(*id, vt);
                Sk::InitVar(slot, init)
            }
            StmtKind::Assign(LValue::Var(name, id), e) => {
                let (slot, vt) = self.var(name, *id, loc)?;
                let (mut x, mut t) = self.expr(e)?;
                promote(&mut x, &mut t, vt);
                if let (Some(want), Some(got)) = (vt, t) {
                    if want != got {
                        return Err(type_error(&e.loc, 1, "VAR_SET", want, got));
                    }
                }
                Sk::SetVar(slot, vt, x)
            }
            StmtKind::Assign(LValue::Attr(a), e) => {
                let attr = resolve_attr(a, loc)?;
                let inst = match &attr {
                    Attr::Field(_) => "RTA_SET",
                    Attr::Ea(ea) => {
                        if ea.aty == AttrType::Flag || ea.ty().is_none() {
                            return Err(loc.error(format!("birdd does not support setting {}", ea.name)));
                        }
                        if lookup_attr(&ea.name).is_some_and(|d| d.readonly) {
                            return Err(loc.error(format!("Attribute {} is read-only", ea.name)));
                        }
                        "EA_SET"
                    }
                };
                let want = attr.ty();
                let (mut x, mut t) = self.expr(e)?;
                promote(&mut x, &mut t, want);
                if let (Some(want), Some(got)) = (want, t) {
                    if want != got {
                        return Err(type_error(&e.loc, 1, inst, want, got));
                    }
                }
                match (attr, x) {
                    (Attr::Ea(ea), Ex::Const(v)) if !matches!(v, Value::Void) => {
                        match to_attr_value(&ea, v.clone()) {
                            Ok(av) => {
                                let flags = ea.flags;
                                Sk::SetAttrConst(ea, flags, av)
                            }
                            Err(_) => Sk::SetAttr(Attr::Ea(ea), Ex::Const(v)),
                        }
                    }
                    (attr, x) => Sk::SetAttr(attr, x),
                }
            }
            StmtKind::Update(target, ops) => {
                let mut cops = Vec::with_capacity(ops.len());
                for (m, args) in ops {
                    let op = list_op(*m).ok_or_else(|| loc.error("Method expected"))?;
                    let arg = match args.first() {
                        Some(a) => Some(self.expr(a)?.0),
                        None => None,
                    };
                    cops.push((op, arg));
                }
                match target {
                    LValue::Var(name, id) => {
                        let (slot, vt) = self.var(name, *id, loc)?;
                        Sk::UpdateVar(slot, vt, cops)
                    }
                    LValue::Attr(a) => match resolve_attr(a, loc)? {
                        Attr::Ea(ea) if ea.is_list() => Sk::UpdateAttr(ea, cops),
                        Attr::Ea(ea) => {
                            return Err(loc.error(format!("Attribute {} is not a path or a list", ea.name)))
                        }
                        Attr::Field(_) => {
                            return Err(loc.error(format!("Attribute {} is not a path or a list", a.name())))
                        }
                    },
                }
            }
            StmtKind::Unset(a) => match resolve_attr(a, loc)? {
                Attr::Ea(ea) => Sk::Unset(ea),
                Attr::Field(_) => {
                    return Err(loc.error(format!("Static attribute {} cannot be unset", a.name())))
                }
            },
            StmtKind::Accept(args) => Sk::Accept(self.exprs(args)?),
            StmtKind::Reject(args) => Sk::Reject(self.exprs(args)?),
            StmtKind::Error(args) => Sk::Error(self.exprs(args)?),
            StmtKind::Return(e) => Sk::Return(match e {
                Some(e) => Some(self.expr(e)?.0),
                None => None,
            }),
            StmtKind::Print(args, nl) => Sk::Print(self.exprs(args)?, *nl),
            StmtKind::Call(e) => Sk::Eval(self.expr(e)?.0),
        };
        Ok(St { line: Line(loc.line), kind })
    }

    fn exprs(&mut self, v: &[ast::Expr]) -> Res<Vec<Ex>> {
        v.iter().map(|e| self.expr(e).map(|x| x.0)).collect()
    }

    fn int_arg(&mut self, e: &ast::Expr, n: u32, inst: &str) -> Res<Ex> {
        let (x, t) = self.expr(e)?;
        match t {
            Some(t) if t != Ty::Int => Err(type_error(&e.loc, n, inst, Ty::Int, t)),
            _ => Ok(x),
        }
    }

    fn typed_arg(&mut self, e: &ast::Expr, n: u32, inst: &str, want: Ty) -> Res<Ex> {
        let (mut x, mut t) = self.expr(e)?;
        promote(&mut x, &mut t, Some(want));
        match t {
            Some(t) if t != want => Err(type_error(&e.loc, n, inst, want, t)),
            _ => Ok(x),
        }
    }

    /// An expression.
    pub(crate) fn expr(&mut self, e: &ast::Expr) -> Res<Tex> {
        let loc = &e.loc;
        Ok(match &e.kind {
            ExprKind::Const(ast::Value::Set(sv)) => {
                // A `define`d set is one shared literal: build it once per compilation.
                let key = Arc::as_ptr(sv) as usize;
                let set = match self.set_cache.get(&key) {
                    Some(s) => s.clone(),
                    None => {
                        let s = build_set(sv, loc)?;
                        self.count_set(&s, loc)?;
                        self.set_cache.insert(key, s.clone());
                        s
                    }
                };
                let v = Value::Set(set);
                let t = v.ty();
                (Ex::Const(v), Some(t))
            }
            ExprKind::Const(v) => {
                let v = konst(v, loc)?;
                let t = v.ty();
                (Ex::Const(v), Some(t))
            }
            ExprKind::Var(n, id) => {
                let (slot, t) = self.var(n, *id, loc)?;
                (Ex::Var(slot), t)
            }
            ExprKind::Attr(a) => {
                let attr = resolve_attr(a, loc)?;
                let Some(t) = attr.ty() else {
                    return Err(loc.error(format!("birdd does not support reading {}", a.name())));
                };
                (Ex::Attr(attr), Some(t))
            }
            ExprKind::Pair(a, b) => {
                let a = self.int_arg(a, 1, "PAIR_CONSTRUCT")?;
                let b = self.int_arg(b, 2, "PAIR_CONSTRUCT")?;
                (Ex::Pair(Box::new(a), Box::new(b)), Some(Ty::Pair))
            }
            ExprKind::Lc(a, b, c) => {
                let a = self.int_arg(a, 1, "LC_CONSTRUCT")?;
                let b = self.int_arg(b, 2, "LC_CONSTRUCT")?;
                let c = self.int_arg(c, 3, "LC_CONSTRUCT")?;
                (Ex::Lc(Box::new(a), Box::new(b), Box::new(c)), Some(Ty::Lc))
            }
            ExprKind::Ec(kind, a, b) => {
                let (a, _) = self.expr(a)?;
                let b = self.int_arg(b, 2, "EC_CONSTRUCT")?;
                (Ex::Ec(ec_sub(*kind), Box::new(a), Box::new(b)), Some(Ty::Ec))
            }
            ExprKind::PathMask(items) => (self.mask(items, loc)?, Some(Ty::Mask)),
            ExprKind::Not(x) => {
                let x = self.typed_arg(x, 1, "NOT", Ty::Bool)?;
                (Ex::Not(Box::new(x)), Some(Ty::Bool))
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, loc)?,
            ExprKind::Member(x, m, args) => self.member(x, *m, args, loc)?,
            ExprKind::Call(name, args) => {
                let idx = match &self.current {
                    Some((n, i)) if n == name => *i,
                    _ => *self
                        .fn_index
                        .get(name)
                        .ok_or_else(|| loc.error(format!("No such function '{name}'")))?,
                };
                self.calls.insert(idx);
                let args = self.exprs(args)?;
                (Ex::Call(FnRef { idx, name: Arc::from(name.as_str()) }, args), None)
            }
            ExprKind::Builtin(b, args) => self.builtin(*b, args, loc)?,
        })
    }

    fn mask(&mut self, items: &[ast::MaskItem], loc: &Loc) -> Res<Ex> {
        let mut out: Vec<MaskTpl> = Vec::with_capacity(items.len());
        for it in items {
            let fixed = |kind| MaskTpl::Fixed(MaskItem { kind, repeat: false });
            match it {
                ast::MaskItem::Any => out.push(fixed(MaskKind::Any)),
                ast::MaskItem::One => out.push(fixed(MaskKind::One)),
                ast::MaskItem::Asn(a) => out.push(fixed(MaskKind::Range(*a, *a))),
                ast::MaskItem::Range(a, b) => out.push(fixed(MaskKind::Range(*a, *b))),
                ast::MaskItem::Set(s) => {
                    let set = build_set(s, loc)?;
                    self.count_set(&set, loc)?;
                    if set.tree().is_none_or(|t| t.elem() != Ty::Int && !t.is_empty()) {
                        return Err(loc.error("Only integer sets allowed in path mask"));
                    }
                    out.push(fixed(MaskKind::Set(set)));
                }
                ast::MaskItem::Expr(e) => {
                    let (x, _) = self.expr(e)?;
                    out.push(MaskTpl::Expr(x, false));
                }
                ast::MaskItem::Repeat => match out.last_mut() {
                    Some(MaskTpl::Fixed(i)) => i.repeat = true,
                    Some(MaskTpl::Expr(_, r)) => *r = true,
                    None => return Err(loc.error("Path mask iterator '+' cannot be first")),
                },
            }
        }
        if out.iter().all(|t| matches!(t, MaskTpl::Fixed(_))) {
            let items = out
                .into_iter()
                .filter_map(|t| match t {
                    MaskTpl::Fixed(i) => Some(i),
                    MaskTpl::Expr(..) => None,
                })
                .collect();
            return Ok(Ex::Const(Value::Mask(Arc::new(PathMask { items }))));
        }
        Ok(Ex::Mask(out))
    }

    fn binary(&mut self, op: BinOp, a: &ast::Expr, b: &ast::Expr, loc: &Loc) -> Res<Tex> {
        let arith = |op| match op {
            BinOp::Add => Some(Arith::Add),
            BinOp::Sub => Some(Arith::Sub),
            BinOp::Mul => Some(Arith::Mul),
            BinOp::Div => Some(Arith::Div),
            _ => None,
        };
        if let Some(ar) = arith(op) {
            let x = self.int_arg(a, 1, ar.inst())?;
            let y = self.int_arg(b, 2, ar.inst())?;
            return Ok((Ex::Arith(ar, Box::new(x), Box::new(y)), Some(Ty::Int)));
        }
        match op {
            BinOp::And | BinOp::Or => {
                let inst = if op == BinOp::And { "AND" } else { "OR" };
                let x = self.typed_arg(a, 1, inst, Ty::Bool)?;
                let y = self.typed_arg(b, 2, inst, Ty::Bool)?;
                let (x, y) = (Box::new(x), Box::new(y));
                Ok((if op == BinOp::And { Ex::And(x, y) } else { Ex::Or(x, y) }, Some(Ty::Bool)))
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let (mut x, mut tx) = self.expr(a)?;
                let (mut y, mut ty) = self.expr(b)?;
                promote(&mut x, &mut tx, ty);
                promote(&mut y, &mut ty, tx);
                let (cmp, swap, inst) = match op {
                    BinOp::Eq => (Cmp::Eq, false, "EQ"),
                    BinOp::Ne => (Cmp::Ne, false, "NEQ"),
                    BinOp::Lt => (Cmp::Lt, false, "LT"),
                    BinOp::Le => (Cmp::Le, false, "LTE"),
                    BinOp::Gt => (Cmp::Lt, true, "LT"),
                    _ => (Cmp::Le, true, "LTE"),
                };
                if matches!(cmp, Cmp::Lt | Cmp::Le) {
                    if let (Some(p), Some(q)) = (tx, ty) {
                        let quad_ip = matches!((p, q), (Ty::Quad, Ty::Ip) | (Ty::Ip, Ty::Quad));
                        if p != q && !quad_ip && p != Ty::Void && q != Ty::Void {
                            return Err(
                                loc.error(format!("Arguments 1 and 2 of {inst} must be of the same type"))
                            );
                        }
                    }
                }
                let (x, y) = if swap { (y, x) } else { (x, y) };
                Ok((
                    match (x, y) {
                        (Ex::Const(Value::Int(k)), x) if !matches!(x, Ex::Const(_)) => {
                            Ex::CmpInt { op: cmp, x: Box::new(x), k, k_left: true }
                        }
                        (x, Ex::Const(Value::Int(k))) if !matches!(x, Ex::Const(_)) => {
                            Ex::CmpInt { op: cmp, x: Box::new(x), k, k_left: false }
                        }
                        (x, y) => Ex::Cmp(cmp, Box::new(x), Box::new(y)),
                    },
                    Some(Ty::Bool),
                ))
            }
            BinOp::Match | BinOp::NotMatch => {
                let neg = op == BinOp::NotMatch;
                let (x, _) = self.expr(a)?;
                let (y, _) = self.expr(b)?;
                Ok((
                    match (x, y) {
                        (Ex::Const(c), Ex::Attr(Attr::Ea(ea))) if ea.is_list() => Ex::ConstInAttr(neg, c, ea),
                        (x, Ex::Attr(Attr::Ea(ea))) if ea.is_list() => Ex::InAttr(neg, Box::new(x), ea),
                        (Ex::Attr(Attr::Field(Field::Net)), Ex::Const(Value::Set(s)))
                            if matches!(*s, Set::Prefix(_)) =>
                        {
                            Ex::NetInSet(neg, s)
                        }
                        (Ex::Attr(Attr::Ea(ea)), y) if ea.is_list() => Ex::AttrIn(neg, ea, Box::new(y)),
                        (x, y) => Ex::Match(neg, Box::new(x), Box::new(y)),
                    },
                    Some(Ty::Bool),
                ))
            }
            BinOp::Concat => Err(loc.error("birdd does not support the ++ operator (BIRD 3)")),
            _ => Err(loc.error(format!("Operator {} expected", op.symbol()))),
        }
    }

    fn member(&mut self, x: &ast::Expr, m: Member, args: &[ast::Expr], loc: &Loc) -> Res<Tex> {
        if let Some(op) = list_op(m) {
            let (lx, lt) = self.expr(x)?;
            let arg = match args.first() {
                Some(a) => Some(Box::new(self.expr(a)?.0)),
                None => None,
            };
            return Ok((Ex::List(op, Box::new(lx), arg), lt));
        }
        if m == Member::Mask {
            let ip = self.typed_arg(x, 1, "IP_MASK", Ty::Ip)?;
            let n = match args.first() {
                Some(a) => self.int_arg(a, 2, "IP_MASK")?,
                None => return Err(loc.error("mask() takes 1 argument")),
            };
            return Ok((Ex::IpMask(Box::new(ip), Box::new(n)), Some(Ty::Ip)));
        }
        let (mem, want, inst, rt): (Mem, Option<Ty>, &str, Option<Ty>) = match m {
            Member::Len => (Mem::Len, None, "LENGTH", Some(Ty::Int)),
            Member::Ip => (Mem::Ip, Some(Ty::Prefix), "IP", Some(Ty::Ip)),
            Member::Type => (Mem::Type, None, "TYPE", Some(Ty::Enum(EnumTy::NetType))),
            Member::First => (Mem::First, Some(Ty::Path), "AS_PATH_FIRST", Some(Ty::Int)),
            Member::Last => (Mem::Last, Some(Ty::Path), "AS_PATH_LAST", Some(Ty::Int)),
            Member::LastNonaggregated => {
                (Mem::LastNonaggregated, Some(Ty::Path), "AS_PATH_LAST_NAG", Some(Ty::Int))
            }
            Member::Data => (Mem::Data, Some(Ty::Pair), "PAIR_DATA", Some(Ty::Int)),
            Member::Data1 => (Mem::Data1, Some(Ty::Lc), "LC_DATA1", Some(Ty::Int)),
            Member::Data2 => (Mem::Data2, Some(Ty::Lc), "LC_DATA2", Some(Ty::Int)),
            Member::Asn => (Mem::Asn, None, "ASN", Some(Ty::Int)),
            Member::Min => (Mem::Min, None, "MIN", None),
            Member::Max => (Mem::Max, None, "MAX", None),
            Member::Maxlen | Member::Rd | Member::Src | Member::Dst => {
                return Err(loc.error(format!("birdd does not support .{}", member_name(m))));
            }
            _ => return Err(loc.error(format!("birdd does not support .{}", member_name(m)))),
        };
        let (ex, t) = self.expr(x)?;
        if let (Some(w), Some(t)) = (want, t) {
            if w != t {
                return Err(type_error(&x.loc, 1, inst, w, t));
            }
        }
        let rt = match mem {
            Mem::Min | Mem::Max => t.and_then(Ty::element),
            _ => rt,
        };
        Ok(match ex {
            Ex::Attr(Attr::Ea(ea))
                if ea.is_list()
                    && matches!(
                        mem,
                        Mem::Len | Mem::First | Mem::Last | Mem::LastNonaggregated | Mem::Min | Mem::Max
                    ) =>
            {
                (Ex::AttrMember(ea, mem), rt)
            }
            Ex::Attr(Attr::Field(Field::Net)) if mem == Mem::Len => (Ex::NetLen, rt),
            ex => (Ex::Member(Box::new(ex), mem), rt),
        })
    }

    fn builtin(&mut self, b: Builtin, args: &[ast::Expr], loc: &Loc) -> Res<Tex> {
        let arg = |i: usize| args.get(i).ok_or_else(|| loc.error("Missing argument"));
        Ok(match b {
            Builtin::Defined => match self.expr(arg(0)?)? {
                (Ex::Attr(Attr::Ea(ea)), _) => (Ex::DefinedAttr(ea), Some(Ty::Bool)),
                (x, _) => (Ex::Defined(Box::new(x)), Some(Ty::Bool)),
            },
            Builtin::Format => {
                let (x, _) = self.expr(arg(0)?)?;
                (Ex::Format(Box::new(x)), Some(Ty::String))
            }
            Builtin::Add | Builtin::Delete | Builtin::Filter | Builtin::Prepend => {
                let op = match b {
                    Builtin::Add => ListOp::Add,
                    Builtin::Delete => ListOp::Delete,
                    Builtin::Filter => ListOp::Filter,
                    _ => ListOp::Prepend,
                };
                let (l, t) = self.expr(arg(0)?)?;
                let (a, at) = self.expr(arg(1)?)?;
                if op == ListOp::Prepend {
                    if let Some(t) = t.filter(|t| *t != Ty::Path) {
                        return Err(type_error(loc, 1, "PATH_PREPEND", Ty::Path, t));
                    }
                    if let Some(t) = at.filter(|t| *t != Ty::Int) {
                        return Err(type_error(loc, 2, "PATH_PREPEND", Ty::Int, t));
                    }
                }
                (Ex::List(op, Box::new(l), Some(Box::new(a))), t)
            }
        })
    }
}

fn member_name(m: Member) -> &'static str {
    match m {
        Member::Maxlen => "maxlen",
        Member::Rd => "rd",
        Member::Src => "src",
        Member::Dst => "dst",
        Member::Empty => "empty",
        _ => "member",
    }
}

fn list_op(m: Member) -> Option<ListOp> {
    Some(match m {
        Member::Add => ListOp::Add,
        Member::Delete => ListOp::Delete,
        Member::Filter => ListOp::Filter,
        Member::Prepend => ListOp::Prepend,
        Member::Empty => ListOp::Empty,
        _ => return None,
    })
}

/// BIRD's constant promotion: an IPv4 constant where a quad is wanted becomes a quad.
fn promote(x: &mut Ex, t: &mut Option<Ty>, want: Option<Ty>) {
    if want != Some(Ty::Quad) {
        return;
    }
    if let Ex::Const(Value::Ip(IpAddr::V4(a))) = x {
        *x = Ex::Const(Value::Quad(u32::from(*a)));
        *t = Some(Ty::Quad);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Sk;
    use birdtable::attrs::AttrValue;

    fn body(text: &str) -> Vec<St> {
        let cfg = birdconf::parse_str("t.conf", text).unwrap();
        let map = HashMap::new();
        let mut c = Compiler::new(&map);
        c.filter(&cfg.filters[0]).unwrap()
    }

    fn cond(s: &St) -> &Ex {
        match &s.kind {
            Sk::If(c, _, _) => c,
            other => panic!("not an if: {other:?}"),
        }
    }

    #[test]
    fn common_shapes_compile_to_specialised_forms() {
        let b = body(
            "filter f { if net.len > 24 then reject; \
             if net ~ [ 10.0.0.0/8+ ] then reject; \
             if bgp_path.len > 32 then reject; \
             if (65535, 666) ~ bgp_community then reject; \
             if 3 = bgp_med then reject; \
             bgp_local_pref = 100; accept; }",
        );
        assert!(
            matches!(cond(&b[0]), Ex::CmpInt { op: Cmp::Lt, k: 24, k_left: true, x } if **x == Ex::NetLen)
        );
        assert!(matches!(cond(&b[1]), Ex::NetInSet(false, s) if matches!(**s, Set::Prefix(_))));
        assert!(matches!(cond(&b[2]), Ex::CmpInt { k: 32, k_left: true, x, .. }
            if matches!(**x, Ex::AttrMember(_, Mem::Len))));
        assert!(matches!(cond(&b[3]), Ex::ConstInAttr(false, Value::Pair(_), _)));
        assert!(matches!(cond(&b[4]), Ex::CmpInt { op: Cmp::Eq, k: 3, k_left: true, .. }));
        assert!(
            matches!(&b[5].kind, Sk::SetAttrConst(ea, _, AttrValue::Int(100)) if &*ea.name == "bgp_local_pref")
        );
    }
}
