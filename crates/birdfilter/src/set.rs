//! Constant sets, built once at compile time.
//!
//! * Prefix sets go into a [`birdnet::PrefixSet`] (one trie descent per lookup, whatever the
//!   number of patterns).
//! * Every other set (int, pair, quad, ip, ec, lc, enum) is a sorted vector of disjoint inclusive
//!   key ranges, searched by bisection. Items with wildcards or ranges in several components
//!   (`(65001..65010, 100..200)`) are expanded into lexicographic ranges, the way BIRD builds its
//!   tree; the original items are kept for printing.

use std::fmt;
use std::net::IpAddr;

use birdnet::{Net, PrefixPattern, PrefixSet};

use crate::value::{ip_key, Ty, Value};

/// Ordered keys of set elements of one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Key {
    /// int, pair, quad, enum
    U32(u32),
    /// ec
    U64(u64),
    /// ip (IPv4-mapped)
    U128(u128),
    /// lc
    Lc(u32, u32, u32),
}

/// The key of a value that may be a set element.
pub(crate) fn key_of(v: &Value) -> Option<Key> {
    Some(match v {
        Value::Int(i) | Value::Pair(i) | Value::Quad(i) | Value::Enum(_, i) => Key::U32(*i),
        Value::Ip(a) => Key::U128(ip_key(*a)),
        Value::Ec(e) => Key::U64(e.0),
        Value::Lc(l) => Key::Lc(l.asn, l.data1, l.data2),
        _ => return None,
    })
}

/// A set of scalar values.
#[derive(Debug, Clone)]
pub struct TreeSet {
    elem: Ty,
    all_ip4: bool,
    /// Items as written (after expansion), sorted, for printing and comparison.
    items: Vec<(Value, Value)>,
    /// Disjoint sorted ranges for lookup.
    ranges: Vec<(Key, Key)>,
}

impl TreeSet {
    /// Builds a set from `(from, to)` items, all of type `elem`.
    pub(crate) fn new(elem: Ty, mut items: Vec<(Value, Value)>) -> TreeSet {
        let mut keyed: Vec<(Key, Key)> = items
            .iter()
            .filter_map(|(a, b)| Some((key_of(a)?, key_of(b)?)))
            .filter(|(a, b)| a <= b)
            .collect();
        keyed.sort();
        let mut ranges: Vec<(Key, Key)> = Vec::with_capacity(keyed.len());
        for (lo, hi) in keyed {
            match ranges.last_mut() {
                Some(last) if lo <= last.1 || adjacent(last.1, lo) => {
                    if hi > last.1 {
                        last.1 = hi;
                    }
                }
                _ => ranges.push((lo, hi)),
            }
        }
        items.sort_by(|a, b| key_of(&a.0).cmp(&key_of(&b.0)).then_with(|| key_of(&a.1).cmp(&key_of(&b.1))));
        let all_ip4 = items.iter().all(|(a, b)| a.ip4_u32().is_some() && b.ip4_u32().is_some());
        TreeSet { elem, all_ip4, items, ranges }
    }

    /// The element type.
    pub fn elem(&self) -> Ty {
        self.elem
    }

    /// The number of items (after expansion of ranged components).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the set has no items.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(crate) fn contains_key(&self, k: Key) -> bool {
        let i = self.ranges.partition_point(|r| r.0 <= k);
        i > 0 && self.ranges[i - 1].1 >= k
    }

    /// Whether `v` is in the set; `None` when `v` cannot be looked up in a set of this type.
    pub(crate) fn contains(&self, v: &Value) -> Option<bool> {
        if self.items.is_empty() {
            return Some(false);
        }
        match v {
            Value::Quad(q) if self.elem == Ty::Ip && self.all_ip4 => {
                Some(self.contains_key(Key::U128(ip_key(IpAddr::V4((*q).into())))))
            }
            _ if v.ty() == self.elem => Some(self.contains_key(key_of(v)?)),
            _ => None,
        }
    }

    /// Whether an int set (for paths) or a set of this element type.
    pub(crate) fn contains_u32(&self, x: u32) -> bool {
        self.contains_key(Key::U32(x))
    }
}

fn adjacent(hi: Key, lo: Key) -> bool {
    match (hi, lo) {
        (Key::U32(a), Key::U32(b)) => a.checked_add(1) == Some(b),
        (Key::U64(a), Key::U64(b)) => a.checked_add(1) == Some(b),
        (Key::U128(a), Key::U128(b)) => a.checked_add(1) == Some(b),
        _ => false,
    }
}

/// Prefix sets up to this size are matched by a linear scan.
const SMALL_PREFIX_SET: usize = 8;

/// A pattern of a small prefix set as plain numbers: address bits, prefix length, lowest and
/// highest matching length.
type Flat<A> = (A, u8, u8, u8);

/// The IPv4 and IPv6 patterns of a small prefix set.
type FlatSets = (Vec<Flat<u32>>, Vec<Flat<u128>>);

/// A prefix set with its patterns (for printing and comparison).
#[derive(Debug, Clone)]
pub struct PrefixSetV {
    set: PrefixSet,
    patterns: Vec<PrefixPattern>,
    /// For small sets: the IPv4 and IPv6 patterns as numbers, scanned with a few integer
    /// operations each.
    small: Option<FlatSets>,
}

/// Whether the first `k` bits of `a` and `b` are equal.
fn same_bits<A>(a: A, b: A, k: u8, width: u32) -> bool
where
    A: std::ops::BitXor<Output = A> + std::ops::Shr<u32, Output = A> + PartialEq + Default,
{
    k == 0 || (a ^ b) >> (width - u32::from(k)) == A::default()
}

impl PrefixSetV {
    pub(crate) fn new(patterns: Vec<PrefixPattern>) -> PrefixSetV {
        let set = patterns.iter().copied().collect();
        let small = (patterns.len() <= SMALL_PREFIX_SET).then(|| {
            let (mut v4, mut v6) = (Vec::new(), Vec::new());
            for p in &patterns {
                let (plen, lo, hi) = (p.net().len(), p.low(), p.high());
                match p.net().addr() {
                    IpAddr::V4(a) => v4.push((u32::from(a), plen, lo, hi)),
                    IpAddr::V6(a) => v6.push((u128::from(a), plen, lo, hi)),
                }
            }
            (v4, v6)
        });
        PrefixSetV { set, patterns, small }
    }

    /// Whether `n` matches any pattern: its length is in the pattern's range and it agrees with
    /// the pattern's net on the bits both have. Small sets are scanned (a few integer operations
    /// beat a trie descent); larger ones use the trie.
    pub fn matches(&self, n: &Net) -> bool {
        let Some((v4, v6)) = &self.small else { return self.set.matches(n) };
        let l = n.len();
        let hit = |lo: u8, hi: u8| lo <= l && l <= hi;
        match n.addr() {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                v4.iter().any(|&(p, plen, lo, hi)| hit(lo, hi) && same_bits(a, p, plen.min(l), 32))
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                v6.iter().any(|&(p, plen, lo, hi)| hit(lo, hi) && same_bits(a, p, plen.min(l), 128))
            }
        }
    }

    /// The patterns as written.
    pub fn patterns(&self) -> &[PrefixPattern] {
        &self.patterns
    }
}

/// A constant set.
#[derive(Debug, Clone)]
pub enum Set {
    /// A set of scalars.
    Tree(TreeSet),
    /// A prefix set.
    Prefix(PrefixSetV),
}

impl Set {
    /// `set` or `prefix set`.
    pub fn ty(&self) -> Ty {
        match self {
            Set::Tree(_) => Ty::Set,
            Set::Prefix(_) => Ty::PrefixSet,
        }
    }

    pub(crate) fn tree(&self) -> Option<&TreeSet> {
        match self {
            Set::Tree(t) => Some(t),
            Set::Prefix(_) => None,
        }
    }
}

impl PartialEq for Set {
    fn eq(&self, other: &Set) -> bool {
        match (self, other) {
            (Set::Tree(a), Set::Tree(b)) => a.elem == b.elem && a.items == b.items,
            (Set::Prefix(a), Set::Prefix(b)) => a.patterns == b.patterns,
            _ => false,
        }
    }
}

impl fmt::Display for Set {
    /// BIRD's format: `[1, 3, 5..9]`, `[(65001,0)..(65001,65535)]`, `[10.0.0.0/8{8,32}]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        match self {
            Set::Tree(t) => {
                for (i, (a, b)) in t.items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if key_of(a) == key_of(b) {
                        write!(f, "{a}")?;
                    } else {
                        write!(f, "{a}..{b}")?;
                    }
                }
            }
            Set::Prefix(p) => {
                for (i, pat) in p.patterns.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}{{{},{}}}", pat.net(), pat.low(), pat.high())?;
                }
            }
        }
        f.write_str("]")
    }
}

/// Most ranges one set item may expand into.
pub(crate) const MAX_EXPANSION: usize = 65536;

/// Expands an item given as one inclusive range per component into lexicographic ranges
/// `(lo components, hi components)`. `full` is each component's full range.
/// One lexicographic range: lowest and highest components.
pub(crate) type CompInterval = (Vec<u32>, Vec<u32>);

pub(crate) fn expand(comps: &[(u32, u32)], full: &[(u32, u32)]) -> Result<Vec<CompInterval>, String> {
    let mut out = Vec::new();
    expand_into(comps.to_vec(), full, &mut out)?;
    Ok(out)
}

fn expand_into(
    comps: Vec<(u32, u32)>,
    full: &[(u32, u32)],
    out: &mut Vec<CompInterval>,
) -> Result<(), String> {
    let Some(i) = comps.iter().position(|c| c.0 != c.1) else {
        let v: Vec<u32> = comps.iter().map(|c| c.0).collect();
        out.push((v.clone(), v));
        return Ok(());
    };
    if comps[i + 1..] == full[i + 1..] {
        out.push((comps.iter().map(|c| c.0).collect(), comps.iter().map(|c| c.1).collect()));
        return Ok(());
    }
    let (lo, hi) = comps[i];
    if lo > hi {
        return Ok(());
    }
    if (hi - lo) as usize >= MAX_EXPANSION || out.len() + (hi - lo) as usize >= MAX_EXPANSION {
        return Err("Set item range too large".into());
    }
    for v in lo..=hi {
        let mut c = comps.clone();
        c[i] = (v, v);
        expand_into(c, full, out)?;
        if out.len() > MAX_EXPANSION {
            return Err("Set item range too large".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_prefix_sets_match_as_their_patterns() {
        let pats: Vec<PrefixPattern> = [
            "0.0.0.0/8+",
            "10.0.0.0/8{8,24}",
            "192.0.2.0/24-",
            "198.51.100.0/24",
            "0.0.0.0/0{0,0}",
            "224.0.0.0/3+",
            "2001:db8::/32{33,48}",
            "::/0-",
        ]
        .iter()
        .map(|t| {
            let (net, suffix) = t.split_at(t.find(['+', '-', '{']).unwrap_or(t.len()));
            let n: Net = net.parse().unwrap();
            match suffix {
                "" => PrefixPattern::exact(n),
                "+" => PrefixPattern::or_longer(n),
                "-" => PrefixPattern::or_shorter(n),
                r => {
                    let (a, b) = r.trim_matches(['{', '}']).split_once(',').unwrap();
                    PrefixPattern::new(n, a.parse().unwrap(), b.parse().unwrap()).unwrap()
                }
            }
        })
        .collect();
        let mut nets = Vec::new();
        let mut x: u32 = 0x1234_5678;
        for _ in 0..3000 {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let addr = match x % 5 {
                0 => 0x0A00_0000 | (x >> 12),
                1 => 0xC000_0200 | (x >> 26),
                2 => x & 0xF0FF_FF00,
                _ => x,
            };
            let len = (x >> 3) % 33;
            let n: Net = format!(
                "{}/{len}",
                std::net::Ipv4Addr::from(addr & (u64::from(u32::MAX) << (32 - len)) as u32)
            )
            .parse()
            .unwrap();
            nets.push(n);
            let a6 = (0x2001_0db8u128 << 96) | (u128::from(x) << 40);
            let l6 = (x >> 7) % 129;
            let m6 = if l6 == 0 { 0 } else { u128::MAX << (128 - l6) };
            nets.push(format!("{}/{l6}", std::net::Ipv6Addr::from(a6 & m6)).parse().unwrap());
        }
        for k in 1..=pats.len() {
            let set = PrefixSetV::new(pats[..k].to_vec());
            assert!(set.small.is_some());
            for n in &nets {
                let want = pats[..k].iter().any(|p| p.matches(n));
                assert_eq!(set.matches(n), want, "{n} against {:?}", &pats[..k]);
                assert_eq!(set.set.matches(n), want, "trie: {n}");
            }
        }
    }
}
