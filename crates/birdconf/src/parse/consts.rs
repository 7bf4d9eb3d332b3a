//! Constant folding and set literals.
//!
//! `define` needs a constant, options accept `( expr )`, and set items must
//! be constants: all of these go through [`fold_binary`] and friends while the
//! expression tree is built. Anything that cannot be folded stays a run-time
//! expression; division by zero is never folded (BIRD reports it when the
//! expression runs).

use std::net::IpAddr;
use std::sync::Arc;

use birdnet::PrefixPattern;

use super::{name_text, Ctx, Pair, Res, Sym};
use crate::ast::{BinOp, CompRange, Ec, EcKind, ExprKind, Member, SetItem, SetValue, Type, Value};
use crate::grammar::Rule;

/// Folds `a op b` for constant operands, when the result is defined.
pub(crate) fn fold_binary(op: BinOp, a: &Value, b: &Value) -> Option<Value> {
    use Value::*;
    Some(match (op, a, b) {
        (BinOp::Add, Int(x), Int(y)) => Int(x.wrapping_add(*y)),
        (BinOp::Sub, Int(x), Int(y)) => Int(x.wrapping_sub(*y)),
        (BinOp::Mul, Int(x), Int(y)) => Int(x.wrapping_mul(*y)),
        (BinOp::Div, Int(x), Int(y)) if *y != 0 => Int(x / y),
        (BinOp::Concat, String(x), String(y)) => String(format!("{x}{y}")),
        (BinOp::And, Bool(x), Bool(y)) => Bool(*x && *y),
        (BinOp::Or, Bool(x), Bool(y)) => Bool(*x || *y),
        (BinOp::Eq, x, y) if comparable(x, y) => Bool(x == y),
        (BinOp::Ne, x, y) if comparable(x, y) => Bool(x != y),
        (BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge, x, y) => {
            let ord = match (x, y) {
                (Int(x), Int(y)) => x.cmp(y),
                (Pair(a1, b1), Pair(a2, b2)) => (a1, b1).cmp(&(a2, b2)),
                (Ip(x), Ip(y)) => x.cmp(y),
                (String(x), String(y)) => x.cmp(y),
                _ => return None,
            };
            Bool(match op {
                BinOp::Lt => ord.is_lt(),
                BinOp::Gt => ord.is_gt(),
                BinOp::Le => ord.is_le(),
                _ => ord.is_ge(),
            })
        }
        _ => return None,
    })
}

fn comparable(a: &Value, b: &Value) -> bool {
    use Value::*;
    matches!(
        (a, b),
        (Int(_), Int(_))
            | (Bool(_), Bool(_))
            | (Pair(..), Pair(..))
            | (Ip(_), Ip(_))
            | (Prefix(_), Prefix(_))
            | (String(_), String(_))
            | (Enum(_), Enum(_))
            | (Lc(..), Lc(..))
            | (Ec(_), Ec(_))
    )
}

/// Folds `v.member` for constant `v`.
pub(crate) fn fold_member(v: &Value, m: Member) -> Option<Value> {
    match (v, m) {
        (Value::Prefix(n), Member::Len) => Some(Value::Int(u32::from(n.len()))),
        (Value::Prefix(n), Member::Ip) => Some(Value::Ip(n.addr())),
        (Value::Pair(a, _), Member::Data1) => Some(Value::Int(*a)),
        (Value::Pair(_, b), Member::Data2) => Some(Value::Int(*b)),
        _ => None,
    }
}

const FULL: CompRange = CompRange { lo: 0, hi: u32::MAX };
const FULL16: CompRange = CompRange { lo: 0, hi: 0xFFFF };

impl Ctx<'_> {
    /// A `[ ... ]` set literal.
    pub(crate) fn set_lit(&mut self, p: &Pair<'_>) -> Res<SetValue> {
        let mut items = Vec::new();
        for it in p.clone().into_inner() {
            items.push(self.set_item(&it)?);
        }
        let elem_type = items.first().map_or(Type::Void, item_type);
        Ok(SetValue { elem_type, items })
    }

    /// One set item (also a `case` label).
    pub(crate) fn set_item(&mut self, p: &Pair<'_>) -> Res<SetItem> {
        let mut it = p.clone().into_inner();
        let Some(a) = it.next() else { return self.err(p, "Set item expected") };
        let b = it.next();
        match a.as_rule() {
            Rule::prefix_pattern => {
                if let Some(b) = b {
                    return self.err(&b, "syntax error, unexpected '..'");
                }
                self.prefix_pattern(&a).map(SetItem::Prefix)
            }
            Rule::set_tuple if paren_expr(&a).is_none() => {
                if let Some(b) = b {
                    // (a, b) .. (c, d): a range of pairs.
                    let lo = self.tuple_value(&a)?;
                    if b.as_rule() != Rule::set_tuple || paren_expr(&b).is_some() {
                        return self.err(&b, "Mixed types in set range");
                    }
                    let hi = self.tuple_value(&b)?;
                    return Ok(SetItem::Range(lo, hi));
                }
                self.set_tuple(&a)
            }
            _ => {
                let lo = self.set_scalar(&a)?;
                match b {
                    Some(b) => {
                        let hi = self.set_scalar(&b)?;
                        Ok(SetItem::Range(lo, hi))
                    }
                    None => Ok(SetItem::Value(lo)),
                }
            }
        }
    }

    fn prefix_pattern(&mut self, p: &Pair<'_>) -> Res<PrefixPattern> {
        let mut it = p.clone().into_inner();
        let Some(pfx) = it.next() else { return self.err(p, "Prefix expected") };
        let net = self.prefix_lit(&pfx)?;
        let Some(suffix) = it.next().and_then(|s| s.into_inner().next()) else {
            return Ok(PrefixPattern::exact(net));
        };
        match suffix.as_rule() {
            Rule::pattern_plus => Ok(PrefixPattern::or_longer(net)),
            Rule::pattern_minus => Ok(PrefixPattern::or_shorter(net)),
            _ => {
                let mut r = suffix.clone().into_inner();
                let (Some(lo), Some(hi)) = (r.next(), r.next()) else {
                    return self.err(&suffix, "Range expected");
                };
                let (lo_v, hi_v) = (self.num(&lo)?, self.num(&hi)?);
                let lo8 = u8::try_from(lo_v).unwrap_or(u8::MAX);
                let hi8 = u8::try_from(hi_v).unwrap_or(u8::MAX);
                PrefixPattern::new(net, lo8, hi8).or_else(|_| {
                    self.err(&suffix, format!("Invalid prefix pattern range: {{{lo_v}, {hi_v}}}"))
                })
            }
        }
    }

    /// A scalar set element: literal, constant or `( expr )`.
    fn set_scalar(&mut self, p: &Pair<'_>) -> Res<Value> {
        if let Some(e) = paren_expr(p) {
            return self.const_expr_pair(&e);
        }
        if p.as_rule() == Rule::set_tuple {
            return self.err(p, "Mixed types in set range");
        }
        // A tuple component is parsed as an expression; a lone literal or name
        // in it keeps the literal's and constant's rules and messages.
        if p.as_rule() == Rule::expr {
            if let Some(atom) = lone_primary(p) {
                return self.set_scalar(&atom);
            }
        }
        match p.as_rule() {
            Rule::num => self.num(p).map(Value::Int),
            Rule::ip4 | Rule::ip6 => self.ip_lit(p).map(Value::Ip),
            Rule::string => Ok(Value::String(super::string_text(p))),
            Rule::bool_lit => Ok(Value::Bool(p.as_str() == "true")),
            Rule::name => {
                let n = name_text(p);
                if let Some(Sym::Const(v)) = self.symbols.get(&n) {
                    return Ok(v.clone());
                }
                if let Some(e) = crate::ast::EnumConst::lookup(&n) {
                    return Ok(Value::Enum(e));
                }
                self.lookup(p, "constant")?;
                self.err(p, "Constant expression required")
            }
            _ => self.const_expr_pair(p),
        }
    }

    fn comp_range(&mut self, p: &Pair<'_>, full: CompRange) -> Res<CompRange> {
        self.comp_range_ip(p, full).map(|(r, _)| r)
    }

    /// A component range and whether a bound was written as an IPv4 address.
    fn comp_range_ip(&mut self, p: &Pair<'_>, full: CompRange) -> Res<(CompRange, bool)> {
        let mut it = p.clone().into_inner();
        let Some(a) = it.next() else { return Ok((full, false)) };
        if a.as_rule() == Rule::wildcard {
            return Ok((full, false));
        }
        let (lo, lo_ip) = self.comp_value(&a)?;
        let (hi, hi_ip) = match it.next() {
            Some(b) => self.comp_value(&b)?,
            None => (lo, lo_ip),
        };
        if lo_ip != hi_ip {
            return self.err(p, "Mixed types in set range");
        }
        Ok((CompRange { lo, hi }, lo_ip))
    }

    fn comp_value(&mut self, p: &Pair<'_>) -> Res<(u32, bool)> {
        match self.set_scalar(p)? {
            Value::Int(v) => Ok((v, false)),
            Value::Ip(IpAddr::V4(a)) => Ok((u32::from(a), true)),
            _ => self.err(p, "Number expected"),
        }
    }

    fn set_tuple(&mut self, p: &Pair<'_>) -> Res<SetItem> {
        let parts: Vec<Pair<'_>> = p.clone().into_inner().collect();
        if parts.len() < 2 {
            // `(*)` or `(a..b)`: a tuple needs two or three components.
            return Err(self.end_loc(p).error("syntax error, unexpected ')', expecting ','"));
        }
        if parts.first().map(|x| x.as_rule()) == Some(Rule::ec_kind) {
            let kind = self.ec_kind(&parts[0])?;
            let (key, is_ip) = self.comp_range_ip(&parts[1], FULL)?;
            let val = self.comp_range(&parts[2], FULL)?;
            if key.lo == key.hi && val.lo == val.hi {
                return Ok(SetItem::Value(Value::Ec(Ec {
                    kind,
                    key: key.lo,
                    key_is_ip: is_ip,
                    value: val.lo,
                })));
            }
            if is_ip {
                return Ok(SetItem::EcIp(kind, key, val));
            }
            return Ok(SetItem::Ec(kind, key, val));
        }
        if parts.len() == 2 {
            let a = self.comp_range(&parts[0], FULL16)?;
            let b = self.comp_range(&parts[1], FULL16)?;
            for (r, q) in [(a, &parts[0]), (b, &parts[1])] {
                if r.hi > 0xFFFF {
                    return self.err(q, format!("Value {} out of range (0-65535)", r.hi));
                }
            }
            if a.lo == a.hi && b.lo == b.hi {
                return Ok(SetItem::Value(Value::Pair(a.lo, b.lo)));
            }
            return Ok(SetItem::Pair(a, b));
        }
        let a = self.comp_range(&parts[0], FULL)?;
        let b = self.comp_range(&parts[1], FULL)?;
        let c = self.comp_range(&parts[2], FULL)?;
        if a.lo == a.hi && b.lo == b.hi && c.lo == c.hi {
            return Ok(SetItem::Value(Value::Lc(a.lo, b.lo, c.lo)));
        }
        Ok(SetItem::Lc(a, b, c))
    }

    fn tuple_value(&mut self, p: &Pair<'_>) -> Res<Value> {
        match self.set_tuple(p)? {
            SetItem::Value(v) => Ok(v),
            _ => self.err(p, "Constant expression required"),
        }
    }

    pub(crate) fn ec_kind(&mut self, p: &Pair<'_>) -> Res<EcKind> {
        let mut it = p.clone().into_inner();
        let Some(k) = it.next() else { return self.err(p, "Extended community kind expected") };
        Ok(match k.as_rule() {
            Rule::kw_rt => EcKind::Rt,
            Rule::kw_ro => EcKind::Ro,
            Rule::kw_generic => EcKind::Generic,
            _ => match it.next() {
                Some(n) => EcKind::Unknown(self.num(&n)?),
                None => return self.err(&k, "Number expected"),
            },
        })
    }

    /// Folds a run-time tuple to a constant when all parts are constant.
    pub(crate) fn fold_tuple(&self, p: &Pair<'_>, kind: &ExprKind) -> Res<Option<Value>> {
        let c = |e: &crate::ast::Expr| match &e.kind {
            ExprKind::Const(Value::Int(v)) => Some(*v),
            ExprKind::Const(Value::Ip(IpAddr::V4(a))) => Some(u32::from(*a)),
            _ => None,
        };
        Ok(match kind {
            ExprKind::Pair(a, b) => match (c(a), c(b)) {
                (Some(x), Some(y)) => {
                    for v in [x, y] {
                        if v > 0xFFFF {
                            return self.err(p, format!("Value {v} out of range (0-65535)"));
                        }
                    }
                    Some(Value::Pair(x, y))
                }
                _ => None,
            },
            ExprKind::Lc(a, b, d) => match (c(a), c(b), c(d)) {
                (Some(x), Some(y), Some(z)) => Some(Value::Lc(x, y, z)),
                _ => None,
            },
            ExprKind::Ec(k, a, b) => match (c(a), c(b)) {
                (Some(x), Some(y)) => {
                    let key_is_ip = matches!(a.kind, ExprKind::Const(Value::Ip(_)));
                    Some(Value::Ec(Ec { kind: *k, key: x, key_is_ip, value: y }))
                }
                _ => None,
            },
            _ => None,
        })
    }

    /// A set literal as a constant value.
    pub(crate) fn set_value(&mut self, p: &Pair<'_>) -> Res<Value> {
        Ok(Value::Set(Arc::new(self.set_lit(p)?)))
    }
}

/// The expression of a `set_tuple` that is just `( expr )`, if it is one.
fn paren_expr<'i>(p: &Pair<'i>) -> Option<Pair<'i>> {
    if p.as_rule() != Rule::set_tuple {
        return None;
    }
    let mut parts = p.clone().into_inner();
    let (Some(comp), None) = (parts.next(), parts.next()) else { return None };
    if comp.as_rule() != Rule::tuple_comp {
        return None;
    }
    let mut inner = comp.into_inner();
    match (inner.next(), inner.next()) {
        (Some(e), None) if e.as_rule() == Rule::expr => Some(e),
        _ => None,
    }
}

/// The primary of an expression that is nothing but one literal or name
/// (`65000`, `192.0.2.1`, `MY_AS`), through the one-child precedence levels.
fn lone_primary<'i>(p: &Pair<'i>) -> Option<Pair<'i>> {
    let mut cur = p.clone();
    loop {
        match cur.as_rule() {
            Rule::expr
            | Rule::logic
            | Rule::compare
            | Rule::additive
            | Rule::multiplicative
            | Rule::unary
            | Rule::postfix => {
                let mut it = cur.clone().into_inner();
                let (Some(only), None) = (it.next(), it.next()) else { return None };
                cur = only;
            }
            Rule::num | Rule::ip4 | Rule::name => return Some(cur),
            _ => return None,
        }
    }
}

fn item_type(i: &SetItem) -> Type {
    match i {
        SetItem::Value(v) | SetItem::Range(v, _) => v.type_of(),
        SetItem::Prefix(_) => Type::Prefix,
        SetItem::Pair(..) => Type::Pair,
        SetItem::Ec(..) | SetItem::EcIp(..) => Type::Ec,
        SetItem::Lc(..) => Type::Lc,
    }
}
