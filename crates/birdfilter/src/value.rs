//! Run-time values, their types, BIRD's comparison rules and BIRD's print format.

use std::cmp::Ordering;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use birdnet::{DisplayIp, Net};
use birdtable::attrs::{AsPath, Clist, EcList, ExtCommunity, LargeCommunity, LcList};

use crate::mask::PathMask;
use crate::set::Set;

/// The enum kinds of the filter language. The numeric codes are BIRD 2's type codes, which BIRD
/// prints for enum values (`(enum 31)11` for `RTS_BGP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnumTy {
    /// `RTS_*`
    Rts,
    /// `ORIGIN_*`
    BgpOrigin,
    /// `SCOPE_*`
    Scope,
    /// `RTD_*`
    Rtd,
    /// `ROA_*`
    Roa,
    /// `NET_*`
    NetType,
    /// The value of a present `bgp_atomic_aggr`.
    Empty,
}

impl EnumTy {
    /// BIRD's type code.
    pub fn code(self) -> u32 {
        match self {
            EnumTy::Rts => 0x31,
            EnumTy::BgpOrigin => 0x32,
            EnumTy::Scope => 0x33,
            EnumTy::Rtd => 0x35,
            EnumTy::Roa => 0x36,
            EnumTy::NetType => 0x37,
            EnumTy::Empty => 0x3f,
        }
    }

    /// BIRD's type name.
    pub fn name(self) -> &'static str {
        match self {
            EnumTy::Rts => "enum rts",
            EnumTy::BgpOrigin => "enum bgp_origin",
            EnumTy::Scope => "enum scope",
            EnumTy::Rtd => "enum rtd",
            EnumTy::Roa => "enum roa",
            EnumTy::NetType => "enum net_type",
            EnumTy::Empty => "enum empty",
        }
    }
}

/// Value types, as BIRD names them in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ty {
    /// No value (an unset attribute, a function without `return`).
    Void,
    /// `bool`
    Bool,
    /// `int`
    Int,
    /// `pair`
    Pair,
    /// `quad`
    Quad,
    /// An enum.
    Enum(EnumTy),
    /// `ip`
    Ip,
    /// `prefix`
    Prefix,
    /// `string`
    String,
    /// `ec`
    Ec,
    /// `lc`
    Lc,
    /// `bgppath`
    Path,
    /// `clist`
    Clist,
    /// `eclist`
    Eclist,
    /// `lclist`
    Lclist,
    /// `bgpmask`
    Mask,
    /// A set of ints, pairs, quads, IPs, ECs, LCs or enums.
    Set,
    /// A prefix set.
    PrefixSet,
}

impl Ty {
    /// BIRD's name of the type.
    pub fn name(self) -> &'static str {
        match self {
            Ty::Void => "void",
            Ty::Bool => "bool",
            Ty::Int => "int",
            Ty::Pair => "pair",
            Ty::Quad => "quad",
            Ty::Enum(e) => e.name(),
            Ty::Ip => "ip",
            Ty::Prefix => "prefix",
            Ty::String => "string",
            Ty::Ec => "ec",
            Ty::Lc => "lc",
            Ty::Path => "bgppath",
            Ty::Clist => "clist",
            Ty::Eclist => "eclist",
            Ty::Lclist => "lclist",
            Ty::Mask => "bgpmask",
            Ty::Set => "set",
            Ty::PrefixSet => "prefix set",
        }
    }

    /// The element type a `for` loop over this type yields.
    pub fn element(self) -> Option<Ty> {
        match self {
            Ty::Path => Some(Ty::Int),
            Ty::Clist => Some(Ty::Pair),
            Ty::Eclist => Some(Ty::Ec),
            Ty::Lclist => Some(Ty::Lc),
            _ => None,
        }
    }
}

/// A filter value.
///
/// `Display` prints it the way BIRD's `print` and `eval` do: `TRUE`, `(65001,1)`, `(path 65001
/// 65002)`, `(clist (65001,1))`, `[1, 5..9]`, `(enum 31)11`.
#[derive(Debug, Clone)]
pub enum Value {
    /// No value.
    Void,
    /// `bool`
    Bool(bool),
    /// `int`
    Int(u32),
    /// `pair`: the two halves in one word.
    Pair(u32),
    /// `quad`
    Quad(u32),
    /// An enum constant: kind and BIRD's numeric value.
    Enum(EnumTy, u32),
    /// `ip`
    Ip(IpAddr),
    /// `prefix`
    Prefix(Net),
    /// `string`
    String(Arc<str>),
    /// `ec`
    Ec(ExtCommunity),
    /// `lc`
    Lc(LargeCommunity),
    /// `bgppath`
    Path(AsPath),
    /// `clist`
    Clist(Clist),
    /// `eclist`
    Eclist(EcList),
    /// `lclist`
    Lclist(LcList),
    /// `bgpmask`
    Mask(Arc<PathMask>),
    /// A constant set (tree or prefix set).
    Set(Arc<Set>),
}

impl Value {
    /// The value's type.
    pub fn ty(&self) -> Ty {
        match self {
            Value::Void => Ty::Void,
            Value::Bool(_) => Ty::Bool,
            Value::Int(_) => Ty::Int,
            Value::Pair(_) => Ty::Pair,
            Value::Quad(_) => Ty::Quad,
            Value::Enum(e, _) => Ty::Enum(*e),
            Value::Ip(_) => Ty::Ip,
            Value::Prefix(_) => Ty::Prefix,
            Value::String(_) => Ty::String,
            Value::Ec(_) => Ty::Ec,
            Value::Lc(_) => Ty::Lc,
            Value::Path(_) => Ty::Path,
            Value::Clist(_) => Ty::Clist,
            Value::Eclist(_) => Ty::Eclist,
            Value::Lclist(_) => Ty::Lclist,
            Value::Mask(_) => Ty::Mask,
            Value::Set(s) => s.ty(),
        }
    }

    /// The value as a bool, if it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The value as an int, if it is one.
    pub fn as_int(&self) -> Option<u32> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The IPv4 address of an `ip` value as a number (BIRD's implicit ip-to-quad conversion).
    pub(crate) fn ip4_u32(&self) -> Option<u32> {
        match self {
            Value::Ip(IpAddr::V4(a)) => Some(u32::from(*a)),
            _ => None,
        }
    }

    /// A pair value from its halves.
    pub fn pair(a: u16, b: u16) -> Value {
        Value::Pair((u32::from(a) << 16) | u32::from(b))
    }
}

/// An IP address ordered the way BIRD 2 orders `ip_addr` (IPv4 as IPv4-mapped IPv6).
pub(crate) fn ip_key(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(a) => u128::from(a.to_ipv6_mapped()),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// BIRD's `NET_*` code of a net.
pub(crate) fn net_type_code(n: &Net) -> u32 {
    match n.net_type() {
        birdnet::NetType::Ipv4 => 1,
        birdnet::NetType::Ipv6 => 2,
        _ => 0,
    }
}

fn net_cmp(a: &Net, b: &Net) -> Ordering {
    net_type_code(a)
        .cmp(&net_type_code(b))
        .then_with(|| ip_key(a.addr()).cmp(&ip_key(b.addr())))
        .then_with(|| a.len().cmp(&b.len()))
}

/// BIRD's `val_compare`: `None` when the values cannot be ordered (BIRD's `F_CMP_ERROR`).
pub(crate) fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    use Value as V;
    Some(match (a, b) {
        (V::Void, V::Void) => Ordering::Equal,
        (V::Void, _) => Ordering::Less,
        (_, V::Void) => Ordering::Greater,
        (V::Int(x), V::Int(y)) | (V::Pair(x), V::Pair(y)) | (V::Quad(x), V::Quad(y)) => x.cmp(y),
        (V::Quad(x), V::Ip(_)) => x.cmp(&b.ip4_u32()?),
        (V::Ip(_), V::Quad(y)) => a.ip4_u32()?.cmp(y),
        (V::Bool(x), V::Bool(y)) => x.cmp(y),
        (V::Enum(k1, x), V::Enum(k2, y)) if k1 == k2 => x.cmp(y),
        (V::Ec(x), V::Ec(y)) => x.cmp(y),
        (V::Lc(x), V::Lc(y)) => (x.asn, x.data1, x.data2).cmp(&(y.asn, y.data1, y.data2)),
        (V::Ip(x), V::Ip(y)) => ip_key(*x).cmp(&ip_key(*y)),
        (V::Prefix(x), V::Prefix(y)) => net_cmp(x, y),
        (V::String(x), V::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (V::Path(x), V::Path(y)) => x.as_wire().cmp(y.as_wire()),
        _ => return None,
    })
}

/// BIRD's `val_same`: equality across all types; values of different types are not the same.
pub(crate) fn same(a: &Value, b: &Value) -> bool {
    if let Some(o) = compare(a, b) {
        return o == Ordering::Equal;
    }
    match (a, b) {
        (Value::Clist(x), Value::Clist(y)) => x == y,
        (Value::Eclist(x), Value::Eclist(y)) => x == y,
        (Value::Lclist(x), Value::Lclist(y)) => x == y,
        (Value::Mask(x), Value::Mask(y)) => x == y,
        (Value::Set(x), Value::Set(y)) => x == y,
        _ => false,
    }
}

/// Structural equality (used to tell whether two compiled filters are the same).
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.ty() == other.ty() && same(self, other)
    }
}

fn write_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(" ")?;
        }
        write!(f, "{x}")?;
    }
    Ok(())
}

pub(crate) struct PairFmt(pub u32);

impl fmt::Display for PairFmt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({},{})", self.0 >> 16, self.0 & 0xFFFF)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Void => f.write_str("(void)"),
            Value::Bool(b) => f.write_str(if *b { "TRUE" } else { "FALSE" }),
            Value::Int(i) => write!(f, "{i}"),
            Value::Pair(p) => write!(f, "{}", PairFmt(*p)),
            Value::Quad(q) => write!(f, "{}", std::net::Ipv4Addr::from(*q)),
            Value::Enum(e, v) => write!(f, "(enum {:x}){v}", e.code()),
            Value::Ip(a) => write!(f, "{}", DisplayIp(*a)),
            Value::Prefix(n) => write!(f, "{n}"),
            Value::String(s) => f.write_str(s),
            Value::Ec(e) => write!(f, "{e}"),
            Value::Lc(l) => write!(f, "{l}"),
            Value::Path(p) => write!(f, "(path {p})"),
            Value::Clist(l) => {
                f.write_str("(clist ")?;
                let v: Vec<PairFmt> = l.iter().map(|c| PairFmt(c.0)).collect();
                write_list(f, &v)?;
                f.write_str(")")
            }
            Value::Eclist(l) => {
                f.write_str("(eclist ")?;
                write_list(f, l.as_slice())?;
                f.write_str(")")
            }
            Value::Lclist(l) => {
                f.write_str("(lclist ")?;
                write_list(f, l.as_slice())?;
                f.write_str(")")
            }
            Value::Mask(m) => write!(f, "{m}"),
            Value::Set(s) => write!(f, "{s}"),
        }
    }
}
