//! BGP communities (RFC 1997), extended communities (RFC 4360, 5668) and large communities
//! (RFC 8092), and the lists that hold them (`clist`, `eclist`, `lclist`).
//!
//! Values order numerically (`Ord`), never by their text, so a sorted list is the same whatever
//! order or syntax it was built from. Lists keep the order they were given (BIRD prints them in stored
//! order); [`List::sorted`] gives the canonical order BGP sends.
//!
//! BIRD prints every community numerically, well-known ones included (`(65535,666)` for
//! BLACKHOLE); the names exist here as constants for code and filters.

use std::fmt;
use std::net::Ipv4Addr;

/// A standard community: 16-bit ASN and 16-bit value. Prints as `(65001,7)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Community(pub u32);

impl Community {
    /// `NO_EXPORT` (65535,65281).
    pub const NO_EXPORT: Community = Community(0xFFFF_FF01);
    /// `NO_ADVERTISE` (65535,65282).
    pub const NO_ADVERTISE: Community = Community(0xFFFF_FF02);
    /// `NO_EXPORT_SUBCONFED` (65535,65283).
    pub const NO_EXPORT_SUBCONFED: Community = Community(0xFFFF_FF03);
    /// `NOPEER` (65535,65284), RFC 3765.
    pub const NO_PEER: Community = Community(0xFFFF_FF04);
    /// `BLACKHOLE` (65535,666), RFC 7999.
    pub const BLACKHOLE: Community = Community(0xFFFF_029A);
    /// `GRACEFUL_SHUTDOWN` (65535,0), RFC 8326.
    pub const GRACEFUL_SHUTDOWN: Community = Community(0xFFFF_0000);
    /// `LLGR_STALE` (65535,6), RFC 9494.
    pub const LLGR_STALE: Community = Community(0xFFFF_0006);
    /// `NO_LLGR` (65535,7), RFC 9494.
    pub const NO_LLGR: Community = Community(0xFFFF_0007);

    /// The community `(asn,value)`.
    pub const fn new(asn: u16, value: u16) -> Community {
        Community(((asn as u32) << 16) | value as u32)
    }

    /// The high half.
    pub fn asn(self) -> u16 {
        (self.0 >> 16) as u16
    }

    /// The low half.
    pub fn value(self) -> u16 {
        self.0 as u16
    }

    /// The RFC name of a well-known community, if it is one.
    pub fn well_known_name(self) -> Option<&'static str> {
        Some(match self {
            Community::NO_EXPORT => "NO_EXPORT",
            Community::NO_ADVERTISE => "NO_ADVERTISE",
            Community::NO_EXPORT_SUBCONFED => "NO_EXPORT_SUBCONFED",
            Community::NO_PEER => "NOPEER",
            Community::BLACKHOLE => "BLACKHOLE",
            Community::GRACEFUL_SHUTDOWN => "GRACEFUL_SHUTDOWN",
            Community::LLGR_STALE => "LLGR_STALE",
            Community::NO_LLGR => "NO_LLGR",
            _ => return None,
        })
    }
}

impl fmt::Display for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({},{})", self.asn(), self.value())
    }
}

impl fmt::Debug for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Community{self}")
    }
}

/// Sub-type of the common extended community families: route target and route origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcKind {
    /// Route target (`rt`, sub-type 0x02).
    Rt,
    /// Route origin (`ro`, sub-type 0x03).
    Ro,
}

impl EcKind {
    fn subtype(self) -> u64 {
        match self {
            EcKind::Rt => 0x02,
            EcKind::Ro => 0x03,
        }
    }
}

/// An extended community, kept as its 8 wire bytes in a `u64` (big-endian order, so `Ord` is wire
/// order). Prints like BIRD: `(rt, 65001, 7)`, `(ro, 192.0.2.1, 7)`, `(unknown 0x9, 65001, 0)`,
/// `(generic, 0x3000000, 0x1)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ExtCommunity(pub u64);

impl ExtCommunity {
    /// `(kind, asn, value)` with a 2-byte ASN (type 0x00, transitive).
    pub fn as2(kind: EcKind, asn: u16, value: u32) -> ExtCommunity {
        ExtCommunity((kind.subtype() << 48) | (u64::from(asn) << 32) | u64::from(value))
    }

    /// `(kind, asn, value)` with a 4-byte ASN (type 0x02, RFC 5668).
    pub fn as4(kind: EcKind, asn: u32, value: u16) -> ExtCommunity {
        ExtCommunity(((0x0200 | kind.subtype()) << 48) | (u64::from(asn) << 16) | u64::from(value))
    }

    /// `(kind, a.b.c.d, value)`, IPv4 address specific (type 0x01).
    pub fn ip4(kind: EcKind, addr: Ipv4Addr, value: u16) -> ExtCommunity {
        ExtCommunity(
            ((0x0100 | kind.subtype()) << 48) | (u64::from(u32::from(addr)) << 16) | u64::from(value),
        )
    }

    /// `(kind, key, value)` the way BIRD's filter literal picks the form: an ASN below 65536 gives
    /// the 2-byte form, a larger one the 4-byte form (whose value must then fit 16 bits).
    pub fn from_asn(kind: EcKind, asn: u32, value: u32) -> Option<ExtCommunity> {
        if let Ok(a) = u16::try_from(asn) {
            Some(ExtCommunity::as2(kind, a, value))
        } else {
            Some(ExtCommunity::as4(kind, asn, u16::try_from(value).ok()?))
        }
    }

    /// `(generic, key, value)`: the high and low 32 bits.
    pub fn generic(key: u32, value: u32) -> ExtCommunity {
        ExtCommunity((u64::from(key) << 32) | u64::from(value))
    }

    /// The 16-bit type (type byte and sub-type byte).
    pub fn type_code(self) -> u16 {
        (self.0 >> 48) as u16
    }

    /// Whether the community is transitive (the type's 0x40 bit is clear).
    pub fn is_transitive(self) -> bool {
        self.0 >> 56 & 0x40 == 0
    }

    /// The wire bytes.
    pub fn to_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }
}

impl fmt::Display for ExtCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ec = self.0;
        let ty = self.type_code();
        let kind = match ty & 0xf0ff {
            0x0002 => "rt".to_string(),
            0x0003 => "ro".to_string(),
            _ => format!("unknown 0x{ty:x}"),
        };
        match ec >> 56 {
            0x00 | 0x40 => write!(f, "({kind}, {}, {})", (ec >> 32) & 0xFFFF, ec as u32),
            0x01 | 0x41 => {
                write!(f, "({kind}, {}, {})", Ipv4Addr::from((ec >> 16) as u32), ec & 0xFFFF)
            }
            0x02 | 0x42 => write!(f, "({kind}, {}, {})", (ec >> 16) as u32, ec & 0xFFFF),
            _ => write!(f, "(generic, 0x{:x}, 0x{:x})", (ec >> 32) as u32, ec as u32),
        }
    }
}

impl fmt::Debug for ExtCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExtCommunity{self}")
    }
}

/// A large community `(asn, data1, data2)`. Prints as `(65001, 1, 2)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct LargeCommunity {
    /// Global administrator (ASN).
    pub asn: u32,
    /// First local data part.
    pub data1: u32,
    /// Second local data part.
    pub data2: u32,
}

impl LargeCommunity {
    /// The large community `(asn, data1, data2)`.
    pub const fn new(asn: u32, data1: u32, data2: u32) -> LargeCommunity {
        LargeCommunity { asn, data1, data2 }
    }
}

impl fmt::Display for LargeCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {}, {})", self.asn, self.data1, self.data2)
    }
}

impl fmt::Debug for LargeCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LargeCommunity{self}")
    }
}

/// An immutable list of communities of one kind, in stored order, without duplicates when built
/// through [`List::from_values`] and [`List::add`].
///
/// `Display` joins the items with a space, as `show route` does (before line wrapping).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct List<T>(Box<[T]>);

/// Standard community list (`clist`).
pub type Clist = List<Community>;
/// Extended community list (`eclist`).
pub type EcList = List<ExtCommunity>;
/// Large community list (`lclist`).
pub type LcList = List<LargeCommunity>;

impl<T: Copy + Eq + Ord> List<T> {
    /// The empty list (no allocation).
    pub fn empty() -> List<T> {
        List(Box::default())
    }

    /// A list of the values in the given order, later duplicates dropped.
    pub fn from_values(values: impl IntoIterator<Item = T>) -> List<T> {
        let v: Vec<T> = values.into_iter().collect();
        if v.len() <= Self::LINEAR_DEDUP_MAX {
            let mut out: Vec<T> = Vec::with_capacity(v.len());
            for x in v {
                if !out.contains(&x) {
                    out.push(x);
                }
            }
            return List(out.into_boxed_slice());
        }
        // Long lists (a peer may send ~16k communities in one extended UPDATE): sort positions by value,
        // keep the first position of each value, then restore the stored order. O(n log n).
        let mut order: Vec<usize> = (0..v.len()).collect();
        order.sort_unstable_by(|&a, &b| v[a].cmp(&v[b]).then(a.cmp(&b)));
        let mut keep = vec![false; v.len()];
        let mut prev: Option<T> = None;
        for &i in &order {
            if prev != Some(v[i]) {
                keep[i] = true;
                prev = Some(v[i]);
            }
        }
        List(v.into_iter().zip(keep).filter_map(|(x, k)| k.then_some(x)).collect())
    }

    /// Up to this many values, duplicates are found by a linear scan (faster than sorting for short lists).
    const LINEAR_DEDUP_MAX: usize = 16;

    /// The items, in stored order.
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }

    /// Iterate the items.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `x` is in the list.
    pub fn contains(&self, x: T) -> bool {
        self.0.contains(&x)
    }

    /// The list with `x` appended (unchanged if already present).
    pub fn add(&self, x: T) -> List<T> {
        if self.contains(x) {
            return self.clone();
        }
        let mut v = self.0.to_vec();
        v.push(x);
        List(v.into_boxed_slice())
    }

    /// The list without `x`.
    pub fn remove(&self, x: T) -> List<T> {
        List(self.0.iter().copied().filter(|&y| y != x).collect())
    }

    /// The list sorted numerically (BGP's canonical order on export).
    pub fn sorted(&self) -> List<T> {
        let mut v = self.0.to_vec();
        v.sort_unstable();
        List(v.into_boxed_slice())
    }

    /// Heap bytes owned by the list.
    pub fn heap_size(&self) -> usize {
        std::mem::size_of_val::<[T]>(&self.0)
    }
}

impl<T: fmt::Display> fmt::Display for List<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, x) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            x.fmt(f)?;
        }
        Ok(())
    }
}

impl<T: fmt::Debug> fmt::Debug for List<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl<T: Copy + Eq + Ord> FromIterator<T> for List<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        List::from_values(iter)
    }
}
