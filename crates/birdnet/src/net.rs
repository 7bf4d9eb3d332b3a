//! `Net`, a network of any supported type, and `NetType`, its family.
//!
//! `Net` mirrors BIRD's `net_addr`: a tagged union keyed by net type. Only IP
//! nets exist today; the enum is `#[non_exhaustive]` so VPN, ROA and flowspec
//! nets can be added without breaking callers. It is `Copy` and 18 bytes.
//!
//! Order follows BIRD's `net_compare`: first by type (every IPv4 net sorts
//! before every IPv6 net), then by address, then by length.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::prefix::{parse_len, split_prefix};
use crate::{parse_ip, NetError, Prefix4, Prefix6};

/// The family of a [`Net`], spelled as BIRD's table and channel keywords.
///
/// ```
/// use birdnet::NetType;
/// assert_eq!("ipv6".parse::<NetType>().unwrap(), NetType::Ipv6);
/// assert_eq!(NetType::Ipv4.to_string(), "ipv4");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum NetType {
    /// IPv4 unicast (`ipv4`, BIRD's `NET_IP4`).
    Ipv4,
    /// IPv6 unicast (`ipv6`, BIRD's `NET_IP6`).
    Ipv6,
}

impl NetType {
    /// The config keyword (`ipv4`, `ipv6`), also used in `Channel ipv4` output.
    pub const fn keyword(self) -> &'static str {
        match self {
            NetType::Ipv4 => "ipv4",
            NetType::Ipv6 => "ipv6",
        }
    }

    /// The filter-language constant (`NET_IP4`, `NET_IP6`).
    pub const fn filter_constant(self) -> &'static str {
        match self {
            NetType::Ipv4 => "NET_IP4",
            NetType::Ipv6 => "NET_IP6",
        }
    }

    /// The maximum prefix length (32 or 128).
    pub const fn max_len(self) -> u8 {
        match self {
            NetType::Ipv4 => 32,
            NetType::Ipv6 => 128,
        }
    }

    /// The family of an address.
    pub const fn of_addr(addr: &IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => NetType::Ipv4,
            IpAddr::V6(_) => NetType::Ipv6,
        }
    }
}

impl fmt::Display for NetType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.keyword())
    }
}

/// Error from parsing a [`NetType`] keyword.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unknown net type {0}")]
pub struct UnknownNetType(pub String);

impl FromStr for NetType {
    type Err = UnknownNetType;

    fn from_str(s: &str) -> Result<Self, UnknownNetType> {
        match s {
            "ipv4" => Ok(NetType::Ipv4),
            "ipv6" => Ok(NetType::Ipv6),
            _ => Err(UnknownNetType(s.to_owned())),
        }
    }
}

/// A network: an IPv4 or IPv6 prefix (more net types may follow).
///
/// ```
/// use birdnet::{Net, NetType};
/// let n: Net = "2001:db8::/32".parse().unwrap();
/// assert_eq!(n.net_type(), NetType::Ipv6);
/// assert_eq!(format!("{n:<20}|"), "2001:db8::/32       |");
/// let v4: Net = "10.0.0.0/8".parse().unwrap();
/// assert!(v4 < n); // IPv4 nets sort first
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Net {
    /// An IPv4 prefix.
    Ip4(Prefix4),
    /// An IPv6 prefix.
    Ip6(Prefix6),
}

macro_rules! both {
    ($self:expr, $p:ident => $e:expr) => {
        match $self {
            Net::Ip4($p) => $e,
            Net::Ip6($p) => $e,
        }
    };
}

impl Net {
    /// Creates a net, rejecting a bad length or host bits (see [`Prefix4::new`]).
    pub fn new(addr: IpAddr, len: u8) -> Result<Self, NetError> {
        match addr {
            IpAddr::V4(a) => Prefix4::new(a, len).map(Net::Ip4),
            IpAddr::V6(a) => Prefix6::new(a, len).map(Net::Ip6),
        }
    }

    /// Creates a net, clearing host bits; rejects only a bad length.
    pub fn new_masked(addr: IpAddr, len: u8) -> Result<Self, NetError> {
        match addr {
            IpAddr::V4(a) => Prefix4::new_masked(a, len).map(Net::Ip4),
            IpAddr::V6(a) => Prefix6::new_masked(a, len).map(Net::Ip6),
        }
    }

    /// The host net (`/32` or `/128`) of an address.
    pub const fn host(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(a) => Net::Ip4(Prefix4::host(a)),
            IpAddr::V6(a) => Net::Ip6(Prefix6::host(a)),
        }
    }

    /// The default route (`0.0.0.0/0` or `::/0`) of a family.
    pub const fn default_route(t: NetType) -> Self {
        match t {
            NetType::Ipv4 => Net::Ip4(Prefix4::DEFAULT),
            NetType::Ipv6 => Net::Ip6(Prefix6::DEFAULT),
        }
    }

    /// Parses a net of the given family; the other family is an error
    /// (`IPv4 network expected`, as in BIRD).
    pub fn parse_typed(s: &str, t: NetType) -> Result<Self, NetError> {
        let n: Net = s.parse()?;
        if n.net_type() != t {
            return Err(NetError::WrongFamily { expected: t });
        }
        Ok(n)
    }

    /// The family.
    pub const fn net_type(&self) -> NetType {
        match self {
            Net::Ip4(_) => NetType::Ipv4,
            Net::Ip6(_) => NetType::Ipv6,
        }
    }

    /// The network address.
    pub const fn addr(&self) -> IpAddr {
        match self {
            Net::Ip4(p) => IpAddr::V4(p.addr()),
            Net::Ip6(p) => IpAddr::V6(p.addr()),
        }
    }

    /// The prefix length.
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(&self) -> u8 {
        match self {
            Net::Ip4(p) => p.len(),
            Net::Ip6(p) => p.len(),
        }
    }

    /// The family's maximum prefix length.
    pub const fn max_len(&self) -> u8 {
        self.net_type().max_len()
    }

    /// The IPv4 prefix, if this is one.
    pub const fn as_ip4(&self) -> Option<Prefix4> {
        match self {
            Net::Ip4(p) => Some(*p),
            Net::Ip6(_) => None,
        }
    }

    /// The IPv6 prefix, if this is one.
    pub const fn as_ip6(&self) -> Option<Prefix6> {
        match self {
            Net::Ip6(p) => Some(*p),
            Net::Ip4(_) => None,
        }
    }

    /// The netmask.
    pub fn mask(&self) -> IpAddr {
        both!(self, p => p.mask().into())
    }

    /// The first address (the network address).
    pub fn first(&self) -> IpAddr {
        self.addr()
    }

    /// The last address (all host bits set).
    pub fn last(&self) -> IpAddr {
        both!(self, p => p.last().into())
    }

    /// Whether `addr` lies within the net (always false across families).
    pub fn contains_addr(&self, addr: IpAddr) -> bool {
        match (self, addr) {
            (Net::Ip4(p), IpAddr::V4(a)) => p.contains_addr(a),
            (Net::Ip6(p), IpAddr::V6(a)) => p.contains_addr(a),
            _ => false,
        }
    }

    /// Whether `other` is equal to or more specific than `self` (same family only).
    pub fn contains(&self, other: &Net) -> bool {
        match (self, other) {
            (Net::Ip4(a), Net::Ip4(b)) => a.contains(b),
            (Net::Ip6(a), Net::Ip6(b)) => a.contains(b),
            _ => false,
        }
    }

    /// Whether `self` is equal to or more specific than `other` (same family only).
    pub fn is_subnet_of(&self, other: &Net) -> bool {
        other.contains(self)
    }

    /// The longest net containing both; `None` across families.
    pub fn common_prefix(&self, other: &Net) -> Option<Net> {
        match (self, other) {
            (Net::Ip4(a), Net::Ip4(b)) => Some(Net::Ip4(a.common_prefix(b))),
            (Net::Ip6(a), Net::Ip6(b)) => Some(Net::Ip6(a.common_prefix(b))),
            _ => None,
        }
    }

    /// The net shortened to `len` bits (unchanged if `len >= self.len()`).
    pub fn truncate(&self, len: u8) -> Net {
        match self {
            Net::Ip4(p) => Net::Ip4(p.truncate(len)),
            Net::Ip6(p) => Net::Ip6(p.truncate(len)),
        }
    }

    /// Bit `i` of the address from the most significant (bit 0).
    ///
    /// # Panics
    /// If `i >= self.max_len()`.
    pub fn bit(&self, i: u8) -> bool {
        both!(self, p => p.bit(i))
    }
}

impl fmt::Display for Net {
    /// `addr/len` as BIRD prints it; honours width and alignment.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        both!(self, p => fmt::Display::fmt(p, f))
    }
}

impl fmt::Debug for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Net {
    type Err = NetError;

    /// Parses `addr/len` of either family; the family is taken from the address.
    fn from_str(s: &str) -> Result<Self, NetError> {
        let (a, l) = split_prefix(s)?;
        let addr = parse_ip(a)?;
        let len = parse_len(l, NetType::of_addr(&addr).max_len())?;
        Net::new(addr, len)
    }
}

impl From<IpAddr> for Net {
    /// The host net of the address.
    fn from(a: IpAddr) -> Net {
        Net::host(a)
    }
}
