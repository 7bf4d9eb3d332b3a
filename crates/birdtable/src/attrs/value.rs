//! Values of extended attributes and their types.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use birdnet::DisplayIp;

use super::aspath::AsPath;
use super::community::{Clist, EcList, ExtCommunity, LargeCommunity, LcList};

/// BGP ORIGIN (`bgp_origin`, constants `ORIGIN_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Origin {
    /// `ORIGIN_IGP` (0).
    Igp = 0,
    /// `ORIGIN_EGP` (1).
    Egp = 1,
    /// `ORIGIN_INCOMPLETE` (2).
    Incomplete = 2,
}

impl Origin {
    /// The origin with this wire value.
    pub fn from_code(code: u8) -> Option<Origin> {
        match code {
            0 => Some(Origin::Igp),
            1 => Some(Origin::Egp),
            2 => Some(Origin::Incomplete),
            _ => None,
        }
    }

    /// `IGP`, `EGP` or `Incomplete`, as `show route all` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Origin::Igp => "IGP",
            Origin::Egp => "EGP",
            Origin::Incomplete => "Incomplete",
        }
    }

    /// The one-letter code of route rows (`i`, `e`, `?`).
    pub fn letter(self) -> char {
        match self {
            Origin::Igp => 'i',
            Origin::Egp => 'e',
            Origin::Incomplete => '?',
        }
    }

    /// The filter constant (`ORIGIN_IGP`, ...).
    pub fn filter_name(self) -> &'static str {
        match self {
            Origin::Igp => "ORIGIN_IGP",
            Origin::Egp => "ORIGIN_EGP",
            Origin::Incomplete => "ORIGIN_INCOMPLETE",
        }
    }
}

/// BGP AGGREGATOR (`bgp_aggregator`): 4-byte ASN and the aggregating router's ID.
/// Prints `192.0.2.1 AS65001`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Aggregator {
    /// Aggregating AS.
    pub asn: u32,
    /// Aggregating router ID.
    pub id: Ipv4Addr,
}

impl fmt::Display for Aggregator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} AS{}", self.id, self.asn)
    }
}

/// How a recursive next hop was resolved (`hostentry`): the address looked up, the link address if
/// different, and the table it was looked up in. Prints `via 198.51.100.2 table master4`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostEntry {
    /// The recursive next hop.
    pub addr: IpAddr,
    /// The link-local address used with it, if any and different.
    pub link: Option<IpAddr>,
    /// The table the next hop was resolved in.
    pub table: Arc<str>,
}

impl fmt::Display for HostEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.link {
            Some(l) if l != self.addr => {
                write!(f, "via {} {} table {}", DisplayIp(self.addr), DisplayIp(l), self.table)
            }
            _ => write!(f, "via {} table {}", DisplayIp(self.addr), self.table),
        }
    }
}

/// The type of an attribute's value, as the registry declares it and the filter compiler checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttrType {
    /// `int` (u32).
    Int,
    /// `quad` (u32 shown dotted).
    Quad,
    /// `ip`.
    Ip,
    /// BGP next hop: one address, or global plus link-local.
    BgpNextHop,
    /// BGP origin enum.
    Origin,
    /// `pair` (two 16-bit halves in a u32).
    Pair,
    /// `ec`.
    Ec,
    /// `lc`.
    Lc,
    /// `bgppath`.
    Path,
    /// `clist`.
    Clist,
    /// `eclist`.
    Eclist,
    /// `lclist`.
    Lclist,
    /// A list of router IDs (cluster list).
    QuadList,
    /// BGP aggregator.
    Aggregator,
    /// Opaque bytes (unknown BGP attributes).
    Bytes,
    /// No value, presence only (atomic aggregate).
    Flag,
    /// `string`.
    String,
    /// `bool`.
    Bool,
    /// Recursive next-hop resolution.
    HostEntry,
}

impl AttrType {
    /// The type named by a filter type keyword (`int`, `ip`, `bgppath`, ...), for `attribute TYPE
    /// name;` declarations.
    pub fn from_keyword(kw: &str) -> Option<AttrType> {
        Some(match kw {
            "int" => AttrType::Int,
            "quad" => AttrType::Quad,
            "ip" => AttrType::Ip,
            "pair" => AttrType::Pair,
            "ec" => AttrType::Ec,
            "lc" => AttrType::Lc,
            "bgppath" => AttrType::Path,
            "clist" => AttrType::Clist,
            "eclist" => AttrType::Eclist,
            "lclist" => AttrType::Lclist,
            "string" => AttrType::String,
            "bool" => AttrType::Bool,
            _ => return None,
        })
    }
}

/// The value of an extended attribute. At most 24 bytes; lists and paths live behind one box.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AttrValue {
    /// An `int`.
    Int(u32),
    /// A `quad` / router ID.
    Quad(u32),
    /// An address (also a one-address BGP next hop).
    Ip(IpAddr),
    /// A BGP next hop with two addresses (global, link-local).
    IpPair(Box<[IpAddr; 2]>),
    /// BGP origin.
    Origin(Origin),
    /// A `pair`.
    Pair(u32),
    /// An `ec`.
    Ec(ExtCommunity),
    /// An `lc`.
    Lc(LargeCommunity),
    /// An AS path.
    Path(AsPath),
    /// A community list.
    Clist(Clist),
    /// An extended community list.
    Eclist(EcList),
    /// A large community list.
    Lclist(LcList),
    /// Router IDs (cluster list).
    QuadList(Box<[u32]>),
    /// BGP aggregator.
    Aggregator(Aggregator),
    /// Raw bytes.
    Bytes(Box<[u8]>),
    /// Presence only.
    Flag,
    /// A string.
    Str(Box<str>),
    /// A bool.
    Bool(bool),
    /// Recursive next-hop resolution.
    HostEntry(Box<HostEntry>),
}

impl AttrValue {
    /// Whether the value fits the declared type.
    pub fn fits(&self, ty: AttrType) -> bool {
        matches!(
            (self, ty),
            (AttrValue::Int(_), AttrType::Int)
                | (AttrValue::Quad(_), AttrType::Quad)
                | (AttrValue::Ip(_), AttrType::Ip)
                | (AttrValue::Ip(_) | AttrValue::IpPair(_), AttrType::BgpNextHop)
                | (AttrValue::Origin(_), AttrType::Origin)
                | (AttrValue::Pair(_), AttrType::Pair)
                | (AttrValue::Ec(_), AttrType::Ec)
                | (AttrValue::Lc(_), AttrType::Lc)
                | (AttrValue::Path(_), AttrType::Path)
                | (AttrValue::Clist(_), AttrType::Clist)
                | (AttrValue::Eclist(_), AttrType::Eclist)
                | (AttrValue::Lclist(_), AttrType::Lclist)
                | (AttrValue::QuadList(_), AttrType::QuadList)
                | (AttrValue::Aggregator(_), AttrType::Aggregator)
                | (AttrValue::Bytes(_), AttrType::Bytes)
                | (AttrValue::Flag, AttrType::Flag)
                | (AttrValue::Str(_), AttrType::String)
                | (AttrValue::Bool(_), AttrType::Bool)
                | (AttrValue::HostEntry(_), AttrType::HostEntry)
        )
    }

    /// Heap bytes owned by the value.
    pub fn heap_size(&self) -> usize {
        match self {
            AttrValue::IpPair(_) => std::mem::size_of::<[IpAddr; 2]>(),
            AttrValue::Path(p) => p.heap_size(),
            AttrValue::Clist(l) => l.heap_size(),
            AttrValue::Eclist(l) => l.heap_size(),
            AttrValue::Lclist(l) => l.heap_size(),
            AttrValue::QuadList(q) => std::mem::size_of_val::<[u32]>(q),
            AttrValue::Bytes(b) => b.len(),
            AttrValue::Str(s) => s.len(),
            AttrValue::HostEntry(_) => std::mem::size_of::<HostEntry>(),
            _ => 0,
        }
    }
}
