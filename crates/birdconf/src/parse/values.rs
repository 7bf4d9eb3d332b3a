//! Option values: numbers, constants, switches, times, addresses, prefixes.

use std::net::IpAddr;
use std::time::Duration;

use birdnet::{Net, NetError};

use super::{Ctx, Pair, Res, Sym};
use crate::ast::{ExprKind, Value};
use crate::grammar::Rule;

fn first<'i>(p: &Pair<'i>) -> Option<Pair<'i>> {
    p.clone().into_inner().next()
}

impl Ctx<'_> {
    /// A `num` token (decimal or `0x` hex), 32 bits.
    pub(crate) fn num(&self, p: &Pair<'_>) -> Res<u32> {
        let s = p.as_str();
        let r = match s.strip_prefix("0x") {
            Some(h) => u32::from_str_radix(h, 16),
            None => s.parse::<u32>(),
        };
        r.or_else(|_| self.err(p, "Number out of range"))
    }

    /// A constant integer: number, `define`d constant or `( expr )`.
    pub(crate) fn cexpr(&mut self, p: &Pair<'_>) -> Res<u32> {
        let inner =
            if p.as_rule() == Rule::cexpr { first(p).unwrap_or_else(|| p.clone()) } else { p.clone() };
        match inner.as_rule() {
            Rule::num => self.num(&inner),
            Rule::name => match self.symbols.get(&super::name_text(&inner)) {
                Some(Sym::Const(Value::Int(v))) => Ok(*v),
                Some(_) => self.err(&inner, "Number constant expected"),
                None => self.lookup(&inner, "constant").map(|_| 0),
            },
            _ => match self.const_expr_pair(&inner)? {
                Value::Int(v) => Ok(v),
                _ => self.err(&inner, "Integer expression expected"),
            },
        }
    }

    /// A `u16` option value, checked like BIRD's `check_u16`.
    pub(crate) fn cexpr_u16(&mut self, p: &Pair<'_>, item: &Pair<'_>) -> Res<u16> {
        let v = self.cexpr(p)?;
        u16::try_from(v).map_err(|_| self.end_loc(item).error(format!("Value {v} out of range (0-65535)")))
    }

    /// A time: a constant number with an optional unit; seconds by default.
    pub(crate) fn time_val(&mut self, p: &Pair<'_>) -> Res<Duration> {
        let mut it = p.clone().into_inner();
        let Some(v) = it.next() else { return self.err(p, "Time expected") };
        let n = u64::from(self.cexpr(&v)?);
        Ok(match it.next().and_then(|u| first(&u)).map(|u| u.as_rule()) {
            Some(Rule::kw_ms) => Duration::from_millis(n),
            Some(Rule::kw_us) => Duration::from_micros(n),
            _ => Duration::from_secs(n),
        })
    }

    /// An optional switch: absent means on.
    pub(crate) fn bool_opt(&mut self, p: Option<Pair<'_>>) -> Res<bool> {
        let Some(p) = p else { return Ok(true) };
        let inner =
            if p.as_rule() == Rule::bool_val { first(&p).unwrap_or_else(|| p.clone()) } else { p.clone() };
        Ok(match inner.as_rule() {
            Rule::kw_on | Rule::kw_yes | Rule::kw_true => true,
            Rule::kw_off | Rule::kw_no | Rule::kw_false => false,
            Rule::cexpr => {
                let c = first(&inner).unwrap_or_else(|| inner.clone());
                if c.as_rule() == Rule::name {
                    if let Some(Sym::Const(Value::Bool(b))) = self.symbols.get(&super::name_text(&c)) {
                        return Ok(*b);
                    }
                }
                if c.as_rule() != Rule::num && c.as_rule() != Rule::name {
                    if let Value::Bool(b) = self.const_expr_pair(&c)? {
                        return Ok(b);
                    }
                }
                self.cexpr(&inner)? != 0
            }
            _ => return self.err(&inner, "Boolean value expected"),
        })
    }

    /// An IP literal token.
    pub(crate) fn ip_lit(&self, p: &Pair<'_>) -> Res<IpAddr> {
        match p.as_rule() {
            Rule::ip4 => {
                birdnet::parse_ipv4(p.as_str()).map(IpAddr::V4).or_else(|e| self.err(p, e.to_string()))
            }
            _ => birdnet::parse_ipv6(p.as_str()).map(IpAddr::V6).or_else(|e| self.err(p, e.to_string())),
        }
    }

    /// An address option value: literal, `define`d constant or `( expr )`.
    pub(crate) fn ipa(&mut self, p: &Pair<'_>) -> Res<IpAddr> {
        let inner = if p.as_rule() == Rule::ipa { first(p).unwrap_or_else(|| p.clone()) } else { p.clone() };
        match inner.as_rule() {
            Rule::ip4 | Rule::ip6 => self.ip_lit(&inner),
            Rule::name => match self.lookup(&inner, "constant")? {
                (_, Sym::Const(Value::Ip(a))) => Ok(a),
                _ => self.err(&inner, "IP address constant expected"),
            },
            _ => match self.const_expr_pair(&inner)? {
                Value::Ip(a) => Ok(a),
                _ => self.err(&inner, "IP address expected"),
            },
        }
    }

    /// A prefix literal (`prefix4`/`prefix6`), validated as BIRD does: a bad
    /// address is reported at the address, a bad length or host bits at the length.
    pub(crate) fn prefix_lit(&self, p: &Pair<'_>) -> Res<Net> {
        let mut it = p.clone().into_inner();
        let (Some(a), Some(l)) = (it.next(), it.next()) else { return self.err(p, "Prefix expected") };
        let addr = self.ip_lit(&a)?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len: u32 = l.as_str().parse().unwrap_or(u32::MAX);
        if len > max {
            return self.err(&l, format!("Invalid prefix length {}", l.as_str()));
        }
        Net::new(addr, len as u8).or_else(|e: NetError| self.err(&l, e.to_string()))
    }

    /// A router ID: an IPv4 address or (BIRD 3) a number or constant.
    pub(crate) fn router_id(&mut self, p: &Pair<'_>) -> Res<u32> {
        let inner = first(p).unwrap_or_else(|| p.clone());
        match inner.as_rule() {
            Rule::ip4 => match self.ip_lit(&inner)? {
                IpAddr::V4(a) => Ok(u32::from(a)),
                IpAddr::V6(_) => self.err(&inner, "IPv4 address expected"),
            },
            _ => {
                let c = first(&inner).unwrap_or_else(|| inner.clone());
                if c.as_rule() == Rule::name {
                    if let Some(Sym::Const(Value::Ip(IpAddr::V4(a)))) =
                        self.symbols.get(&super::name_text(&c))
                    {
                        return Ok(u32::from(*a));
                    }
                }
                self.cexpr(&inner)
            }
        }
    }

    /// Folds `( expr )` or any expression pair to a constant.
    pub(crate) fn const_expr_pair(&mut self, p: &Pair<'_>) -> Res<Value> {
        let e = self.expr(p.clone())?;
        match e.kind {
            ExprKind::Const(v) => Ok(v),
            _ => self.err(p, "Constant expression required"),
        }
    }
}
