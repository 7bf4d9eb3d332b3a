//! Operators on values: `~` in all its forms, members, list and path updates, shell patterns.
//!
//! Lists and paths are handled through [`LRef`], a borrowed view, so that an attribute can be
//! tested in place without copying it out of the route's attribute set.

use std::net::IpAddr;
use std::sync::Arc;

use birdtable::attrs::{
    AsPath, AsPathBuilder, AttrType, AttrValue, Community, ExtCommunity, LargeCommunity, List, SegmentKind,
};

use crate::ir::Mem;
use crate::set::{Set, TreeSet};
use crate::value::{net_type_code, EnumTy, Ty, Value};

/// A borrowed path or community list.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LRef<'a> {
    Path(&'a AsPath),
    Clist(&'a [Community]),
    /// A cluster list (router IDs), a clist of quads for filters.
    Quads(&'a [u32]),
    Ec(&'a [ExtCommunity]),
    Lc(&'a [LargeCommunity]),
}

static EMPTY_PATH: std::sync::OnceLock<AsPath> = std::sync::OnceLock::new();

pub(crate) fn empty_path() -> &'static AsPath {
    EMPTY_PATH.get_or_init(AsPath::empty)
}

impl<'a> LRef<'a> {
    pub(crate) fn of_value(v: &'a Value) -> Option<LRef<'a>> {
        Some(match v {
            Value::Path(p) => LRef::Path(p),
            Value::Clist(l) => LRef::Clist(l.as_slice()),
            Value::Eclist(l) => LRef::Ec(l.as_slice()),
            Value::Lclist(l) => LRef::Lc(l.as_slice()),
            _ => return None,
        })
    }

    /// The attribute's value viewed as a list; an unset list attribute reads as empty.
    pub(crate) fn of_attr(v: Option<&'a AttrValue>, aty: AttrType) -> Option<LRef<'a>> {
        Some(match (v, aty) {
            (Some(AttrValue::Path(p)), _) => LRef::Path(p),
            (Some(AttrValue::Clist(l)), _) => LRef::Clist(l.as_slice()),
            (Some(AttrValue::QuadList(q)), _) => LRef::Quads(q),
            (Some(AttrValue::Eclist(l)), _) => LRef::Ec(l.as_slice()),
            (Some(AttrValue::Lclist(l)), _) => LRef::Lc(l.as_slice()),
            (None, AttrType::Path) => LRef::Path(empty_path()),
            (None, AttrType::Clist) => LRef::Clist(&[]),
            (None, AttrType::QuadList) => LRef::Quads(&[]),
            (None, AttrType::Eclist) => LRef::Ec(&[]),
            (None, AttrType::Lclist) => LRef::Lc(&[]),
            _ => return None,
        })
    }

    /// The number of elements (ASNs of a path), as `.len` gives it.
    pub(crate) fn len(self) -> u32 {
        match self {
            LRef::Path(p) => p.len(),
            LRef::Clist(l) => l.len() as u32,
            LRef::Quads(l) => l.len() as u32,
            LRef::Ec(l) => l.len() as u32,
            LRef::Lc(l) => l.len() as u32,
        }
    }

    pub(crate) fn to_value(self) -> Value {
        match self {
            LRef::Path(p) => Value::Path(p.clone()),
            LRef::Clist(l) => Value::Clist(List::from_values(l.iter().copied())),
            LRef::Quads(q) => Value::Clist(List::from_values(q.iter().map(|&x| Community(x)))),
            LRef::Ec(l) => Value::Eclist(List::from_values(l.iter().copied())),
            LRef::Lc(l) => Value::Lclist(List::from_values(l.iter().copied())),
        }
    }

    fn ty(self) -> Ty {
        match self {
            LRef::Path(_) => Ty::Path,
            LRef::Clist(_) | LRef::Quads(_) => Ty::Clist,
            LRef::Ec(_) => Ty::Eclist,
            LRef::Lc(_) => Ty::Lclist,
        }
    }

    fn clist_contains(self, x: u32) -> bool {
        match self {
            LRef::Clist(l) => l.iter().any(|c| c.0 == x),
            LRef::Quads(q) => q.contains(&x),
            _ => false,
        }
    }

    fn u32s(self) -> Box<dyn Iterator<Item = u32> + 'a> {
        match self {
            LRef::Clist(l) => Box::new(l.iter().map(|c| c.0)),
            LRef::Quads(q) => Box::new(q.iter().copied()),
            LRef::Path(p) => Box::new(p.asns()),
            _ => Box::new(std::iter::empty()),
        }
    }
}

/// `v ~ list` (element in path or list); `None` for type pairs `~` does not know.
pub(crate) fn elem_in_list(v: &Value, l: LRef<'_>) -> Option<bool> {
    Some(match (v, l) {
        (Value::Int(a), LRef::Path(p)) => p.contains(*a),
        (Value::Pair(x) | Value::Quad(x), LRef::Clist(_) | LRef::Quads(_)) => l.clist_contains(*x),
        (Value::Ip(IpAddr::V4(a)), LRef::Clist(_) | LRef::Quads(_)) => l.clist_contains(u32::from(*a)),
        (Value::Ec(e), LRef::Ec(list)) => list.contains(e),
        (Value::Lc(c), LRef::Lc(list)) => list.contains(c),
        _ => return None,
    })
}

/// What a clist member is compared as against this set: pair or quad; `None` if incompatible.
fn clist_elem(t: &TreeSet) -> Option<fn(u32) -> Value> {
    match t.elem() {
        Ty::Pair => Some(Value::Pair),
        Ty::Quad => Some(Value::Quad),
        Ty::Ip => Some(Value::Quad),
        _ => None,
    }
}

fn tree_has_u32(t: &TreeSet, conv: fn(u32) -> Value, x: u32) -> bool {
    t.contains(&conv(x)).unwrap_or(false)
}

/// `list ~ rhs`: a path against a mask or an int set, a list against a set.
pub(crate) fn list_in(l: LRef<'_>, rhs: &Value) -> Option<bool> {
    match (l, rhs) {
        (LRef::Path(p), Value::Mask(m)) => Some(m.matches(p)),
        (_, Value::Set(s)) => {
            let t = s.tree()?;
            if t.is_empty() {
                return Some(false);
            }
            match l {
                LRef::Path(p) => Some(t.elem() == Ty::Int && p.asns().any(|a| t.contains_u32(a))),
                LRef::Clist(_) | LRef::Quads(_) => {
                    let conv = clist_elem(t)?;
                    let mut it = l.u32s();
                    Some(it.any(|x| tree_has_u32(t, conv, x)))
                }
                LRef::Ec(list) => (t.elem() == Ty::Ec)
                    .then(|| list.iter().any(|e| t.contains(&Value::Ec(*e)) == Some(true))),
                LRef::Lc(list) => (t.elem() == Ty::Lc)
                    .then(|| list.iter().any(|c| t.contains(&Value::Lc(*c)) == Some(true))),
            }
        }
        _ => None,
    }
}

/// BIRD's `~`: `None` when the operand types do not fit.
pub(crate) fn in_range(a: &Value, b: &Value) -> Option<bool> {
    if let Some(l) = LRef::of_value(b) {
        if let Some(r) = elem_in_list(a, l) {
            return Some(r);
        }
    }
    match (a, b) {
        (Value::Path(_), Value::Mask(_)) => list_in(LRef::of_value(a)?, b),
        (Value::String(s), Value::String(p)) => Some(patmatch(p.as_bytes(), s.as_bytes())),
        (Value::Ip(ip), Value::Prefix(n)) => Some(n.contains_addr(*ip)),
        (Value::Prefix(x), Value::Prefix(n)) => Some(n.contains(x)),
        (Value::Prefix(x), Value::Set(s)) => match &**s {
            Set::Prefix(p) => Some(p.matches(x)),
            Set::Tree(t) if t.is_empty() => Some(false),
            Set::Tree(_) => None,
        },
        (_, Value::Set(s)) => {
            let t = s.tree()?;
            if t.is_empty() {
                return Some(false);
            }
            if let Some(r) = t.contains(a) {
                return Some(r);
            }
            list_in(LRef::of_value(a)?, b)
        }
        _ => None,
    }
}

/// Shell pattern match (`*`, `?`, `\` escapes), as BIRD's `patmatch`.
pub(crate) fn patmatch(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                b'*' => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                b'?' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                b'\\' if pi + 1 < p.len() && p[pi + 1] == s[si] => {
                    pi += 2;
                    si += 1;
                    continue;
                }
                c if c != b'\\' && c == s[si] => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

fn arg_err(n: u32, inst: &str, want: Ty, got: &Value) -> String {
    format!("Argument {n} of {inst} must be of type {}, got type {}", want.name(), got.ty().name())
}

/// BIRD's `as_path_get_first`: the first ASN when the path starts with a sequence, else 0.
pub(crate) fn path_first(p: &AsPath) -> u32 {
    match p.segments().next() {
        Some(s) if s.kind() == SegmentKind::Sequence => s.asns().next().unwrap_or(0),
        _ => 0,
    }
}

/// BIRD's `as_path_get_last`: the last ASN when the last segment is a sequence, else 0.
pub(crate) fn path_last(p: &AsPath) -> u32 {
    let mut val = None;
    for s in p.segments() {
        val = match s.kind() {
            SegmentKind::Set | SegmentKind::ConfedSet => None,
            _ => s.asns().next_back(),
        };
    }
    val.unwrap_or(0)
}

/// BIRD's `as_path_get_last_nonaggregated`.
pub(crate) fn path_last_nonaggregated(p: &AsPath) -> u32 {
    let mut val = 0;
    for s in p.segments() {
        match s.kind() {
            SegmentKind::Set | SegmentKind::ConfedSet => return val,
            _ => val = s.asns().next_back().unwrap_or(val),
        }
    }
    val
}

/// A member of a borrowed path or list.
pub(crate) fn list_member(l: LRef<'_>, m: Mem) -> Result<Value, String> {
    let inst = match m {
        Mem::First => "AS_PATH_FIRST",
        Mem::Last => "AS_PATH_LAST",
        _ => "AS_PATH_LAST_NAG",
    };
    match (m, l) {
        (Mem::Len, LRef::Path(p)) => Ok(Value::Int(p.len())),
        (Mem::Len, LRef::Clist(x)) => Ok(Value::Int(x.len() as u32)),
        (Mem::Len, LRef::Quads(x)) => Ok(Value::Int(x.len() as u32)),
        (Mem::Len, LRef::Ec(x)) => Ok(Value::Int(x.len() as u32)),
        (Mem::Len, LRef::Lc(x)) => Ok(Value::Int(x.len() as u32)),
        (Mem::First, LRef::Path(p)) => Ok(Value::Int(path_first(p))),
        (Mem::Last, LRef::Path(p)) => Ok(Value::Int(path_last(p))),
        (Mem::LastNonaggregated, LRef::Path(p)) => Ok(Value::Int(path_last_nonaggregated(p))),
        (Mem::First | Mem::Last | Mem::LastNonaggregated, _) => {
            Err(format!("Argument 1 of {inst} must be of type bgppath, got type {}", l.ty().name()))
        }
        (Mem::Min | Mem::Max, _) => {
            let max = m == Mem::Max;
            Ok(match l {
                LRef::Clist(_) | LRef::Quads(_) => {
                    let it = l.u32s();
                    Value::Pair(if max { it.max() } else { it.min() }.unwrap_or(0))
                }
                LRef::Ec(x) => {
                    let it = x.iter().copied();
                    Value::Ec(if max { it.max() } else { it.min() }.unwrap_or_default())
                }
                LRef::Lc(x) => {
                    let it = x.iter().copied();
                    Value::Lc(if max { it.max() } else { it.min() }.unwrap_or_default())
                }
                LRef::Path(_) => return Err("Clist or lclist expected".into()),
            })
        }
        _ => member(&l.to_value(), m),
    }
}

/// A read-only member of a value.
pub(crate) fn member(v: &Value, m: Mem) -> Result<Value, String> {
    if let Some(l) = LRef::of_value(v) {
        if matches!(m, Mem::Len | Mem::First | Mem::Last | Mem::LastNonaggregated | Mem::Min | Mem::Max) {
            return list_member(l, m);
        }
    }
    match (m, v) {
        (Mem::Len, Value::Prefix(n)) => Ok(Value::Int(u32::from(n.len()))),
        (Mem::Len, _) => Err("Prefix, path, clist or eclist expected".into()),
        (Mem::Ip, Value::Prefix(n)) => Ok(Value::Ip(n.addr())),
        (Mem::Ip, _) => Err(arg_err(1, "IP", Ty::Prefix, v)),
        (Mem::Type, Value::Prefix(n)) => Ok(Value::Enum(EnumTy::NetType, net_type_code(n))),
        (Mem::Type, _) => Err("Can't determine type of this item".into()),
        (Mem::First, _) => Err(arg_err(1, "AS_PATH_FIRST", Ty::Path, v)),
        (Mem::Last, _) => Err(arg_err(1, "AS_PATH_LAST", Ty::Path, v)),
        (Mem::LastNonaggregated, _) => Err(arg_err(1, "AS_PATH_LAST_NAG", Ty::Path, v)),
        (Mem::Data, Value::Pair(p)) => Ok(Value::Int(p & 0xFFFF)),
        (Mem::Data, _) => Err(arg_err(1, "PAIR_DATA", Ty::Pair, v)),
        (Mem::Data1, Value::Lc(l)) => Ok(Value::Int(l.data1)),
        (Mem::Data1, _) => Err(arg_err(1, "LC_DATA1", Ty::Lc, v)),
        (Mem::Data2, Value::Lc(l)) => Ok(Value::Int(l.data2)),
        (Mem::Data2, _) => Err(arg_err(1, "LC_DATA2", Ty::Lc, v)),
        (Mem::Asn, Value::Pair(p)) => Ok(Value::Int(p >> 16)),
        (Mem::Asn, Value::Lc(l)) => Ok(Value::Int(l.asn)),
        (Mem::Asn, _) => Err("Net, pair or lc expected".into()),
        (Mem::Min | Mem::Max, _) => Err("Clist or lclist expected".into()),
    }
}

fn filter_path(p: &AsPath, keep: impl Fn(u32) -> bool) -> AsPath {
    let mut b = AsPathBuilder::new();
    for s in p.segments() {
        let kept: Vec<u32> = s.asns().filter(|&a| keep(a)).collect();
        b.push_segment(s.kind(), &kept);
    }
    b.finish()
}

fn is_int_set(v: &Value) -> Option<&TreeSet> {
    match v {
        Value::Set(s) => s.tree().filter(|t| t.elem() == Ty::Int || t.is_empty()),
        _ => None,
    }
}

fn clist_set(v: &Value) -> Option<&TreeSet> {
    match v {
        Value::Set(s) => s.tree().filter(|t| clist_elem(t).is_some()),
        _ => None,
    }
}

fn typed_set(v: &Value, elem: Ty) -> Option<&TreeSet> {
    match v {
        Value::Set(s) => s.tree().filter(|t| t.elem() == elem),
        _ => None,
    }
}

fn clist_item(x: &Value) -> Option<u32> {
    match x {
        Value::Pair(v) | Value::Quad(v) => Some(*v),
        Value::Ip(IpAddr::V4(a)) => Some(u32::from(*a)),
        _ => None,
    }
}

fn union<T: Copy + Eq + Ord>(a: &List<T>, b: &List<T>) -> List<T> {
    List::from_values(a.iter().chain(b.iter()).copied())
}

/// `add(list, x)` / `list.add(x)`.
pub(crate) fn list_add(l: &Value, x: &Value) -> Result<Value, String> {
    Ok(match l {
        Value::Path(_) => return Err("Can't add to path".into()),
        Value::Clist(c) => match x {
            Value::Clist(y) => Value::Clist(union(c, y)),
            _ if clist_set(x).is_some() => return Err("Can't add set".into()),
            _ => match clist_item(x) {
                Some(v) => Value::Clist(c.add(Community(v))),
                None => return Err("Can't add non-pair".into()),
            },
        },
        Value::Eclist(c) => match x {
            Value::Eclist(y) => Value::Eclist(union(c, y)),
            Value::Ec(e) => Value::Eclist(c.add(*e)),
            _ if typed_set(x, Ty::Ec).is_some() => return Err("Can't add set".into()),
            _ => return Err("Can't add non-ec".into()),
        },
        Value::Lclist(c) => match x {
            Value::Lclist(y) => Value::Lclist(union(c, y)),
            Value::Lc(e) => Value::Lclist(c.add(*e)),
            _ if typed_set(x, Ty::Lc).is_some() => return Err("Can't add set".into()),
            _ => return Err("Can't add non-lc".into()),
        },
        _ => return Err("Can't add to non-[e|l]clist".into()),
    })
}

/// `delete(list, x)` (`keep = false`) and `filter(list, x)` (`keep = true`).
pub(crate) fn list_remove(l: &Value, x: &Value, keep: bool) -> Result<Value, String> {
    let what = |del: &str, filt: &str| if keep { filt.to_string() } else { del.to_string() };
    Ok(match l {
        Value::Path(p) => {
            if let Some(t) = is_int_set(x) {
                Value::Path(filter_path(p, |a| t.contains_u32(a) == keep))
            } else if let (Value::Int(k), false) = (x, keep) {
                Value::Path(filter_path(p, |a| a != *k))
            } else {
                return Err(what("Can't delete non-integer (set)", "Can't filter integer"));
            }
        }
        Value::Clist(c) => {
            if let Some(t) = clist_set(x) {
                let conv = clist_elem(t).unwrap_or(Value::Pair);
                Value::Clist(c.iter().copied().filter(|k| tree_has_u32(t, conv, k.0) == keep).collect())
            } else if let Value::Clist(y) = x {
                Value::Clist(c.iter().copied().filter(|k| y.contains(*k) == keep).collect())
            } else if let (Some(v), false) = (clist_item(x), keep) {
                Value::Clist(c.remove(Community(v)))
            } else {
                return Err(what("Can't delete non-pair", "Can't filter pair"));
            }
        }
        Value::Eclist(c) => {
            if let Some(t) = typed_set(x, Ty::Ec) {
                Value::Eclist(c.iter().copied().filter(|e| t.contains_key(key(e)) == keep).collect())
            } else if let Value::Eclist(y) = x {
                Value::Eclist(c.iter().copied().filter(|e| y.contains(*e) == keep).collect())
            } else if let (Value::Ec(e), false) = (x, keep) {
                Value::Eclist(c.remove(*e))
            } else {
                return Err(what("Can't delete non-ec", "Can't filter ec"));
            }
        }
        Value::Lclist(c) => {
            if let Some(t) = typed_set(x, Ty::Lc) {
                Value::Lclist(
                    c.iter().copied().filter(|e| t.contains(&Value::Lc(*e)) == Some(keep)).collect(),
                )
            } else if let Value::Lclist(y) = x {
                Value::Lclist(c.iter().copied().filter(|e| y.contains(*e) == keep).collect())
            } else if let (Value::Lc(e), false) = (x, keep) {
                Value::Lclist(c.remove(*e))
            } else {
                return Err(what("Can't delete non-lc", "Can't filter lc"));
            }
        }
        _ => return Err(what("Can't delete in non-[e|l]clist", "Can't filter non-[e|l]clist")),
    })
}

fn key(e: &ExtCommunity) -> crate::set::Key {
    crate::set::Key::U64(e.0)
}

/// `prepend(path, asn)` / `path.prepend(asn)`.
pub(crate) fn path_prepend(p: &Value, asn: &Value) -> Result<Value, String> {
    match (p, asn) {
        (Value::Path(p), Value::Int(a)) => Ok(Value::Path(p.prepend(*a))),
        (Value::Path(_), _) => Err(arg_err(2, "PATH_PREPEND", Ty::Int, asn)),
        _ => Err(arg_err(1, "PATH_PREPEND", Ty::Path, p)),
    }
}

/// `x.empty`: the empty value of a path or list.
pub(crate) fn empty_of(v: &Value) -> Result<Value, String> {
    Ok(match v {
        Value::Path(_) => Value::Path(AsPath::empty()),
        Value::Clist(_) => Value::Clist(List::empty()),
        Value::Eclist(_) => Value::Eclist(List::empty()),
        Value::Lclist(_) => Value::Lclist(List::empty()),
        _ => return Err("Can't empty this type".into()),
    })
}

/// Builds an extended community the way BIRD's constructor does. `sub` is the sub-type (`rt` 2,
/// `ro` 3, or the full type of `unknown N`); `u32::MAX` means `generic`.
pub(crate) fn make_ec(sub: u32, key: u32, key_is_ip: bool, val: u32) -> Result<ExtCommunity, String> {
    if sub == EC_GENERIC {
        return Ok(ExtCommunity::generic(key, val));
    }
    let sub = u64::from(sub & 0xFFFF);
    if key_is_ip {
        if val > 0xFFFF {
            return Err(format!(
                "4-byte value {val} can't be used with IP-address key in extended community"
            ));
        }
        Ok(ExtCommunity(((0x0100 | sub) << 48) | (u64::from(key) << 16) | u64::from(val)))
    } else if key < 0x10000 {
        Ok(ExtCommunity((sub << 48) | (u64::from(key) << 32) | u64::from(val)))
    } else {
        if val > 0xFFFF {
            return Err(format!("4-byte value {val} can't be used with 4-byte ASN in extended community"));
        }
        Ok(ExtCommunity(((0x0200 | sub) << 48) | (u64::from(key) << 16) | u64::from(val)))
    }
}

/// The sub-type code standing for `generic` in [`make_ec`].
pub(crate) const EC_GENERIC: u32 = u32::MAX;

/// A shared empty string.
pub(crate) fn empty_str() -> Arc<str> {
    Arc::from("")
}
