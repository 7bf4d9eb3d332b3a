//! `Prefix4` and `Prefix6`: an address plus a length, host bits always zero.
//!
//! Both are plain `Copy` values with align 1 (`Prefix4` is 5 bytes, `Prefix6`
//! 17), so they pack tightly into route tables. Fields are private: every
//! constructor checks the length and the host bits, so a value in hand is
//! always canonical and `==`/`Hash` never see two spellings of one network.
//!
//! Order is BIRD's `net_compare` for IP nets: by address, then by length
//! (`10.0.0.0/8 < 10.0.0.0/16 < 10.1.0.0/16`). This is the order of BIRD's
//! `sorted` tables and of trie walks. (Unsorted BIRD tables print in hash
//! or insertion order, which is the table's business, not the net's.)

use std::fmt;
use std::hash::Hash;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::addr::{parse_ipv4, parse_ipv6, write_ip4, write_ip6};
use crate::bits::{AddrBits, Sealed};
use crate::{Net, NetError, NetType};

/// Operations common to [`Prefix4`] and [`Prefix6`], for code generic over the family
/// (the tries use it). Sealed: only this crate implements it.
#[allow(clippy::len_without_is_empty)] // a prefix length, not a collection size
pub trait IpPrefix:
    Copy + Eq + Ord + Hash + fmt::Debug + fmt::Display + Sealed + Send + Sync + 'static
{
    /// The address type (`Ipv4Addr` or `Ipv6Addr`).
    type Addr: Copy + Eq + Ord + Hash + fmt::Debug;
    /// The address as an integer (`u32` or `u128`).
    type Bits: AddrBits;
    /// The family's maximum prefix length (32 or 128).
    const MAX_LEN: u8;
    /// The family.
    const NET_TYPE: NetType;

    /// The prefix length.
    fn len(&self) -> u8;
    /// The network address as an integer.
    fn bits(&self) -> Self::Bits;
    /// Builds a prefix from an integer and a length, clearing host bits.
    ///
    /// # Panics
    /// If `len > MAX_LEN`.
    fn from_bits(bits: Self::Bits, len: u8) -> Self;
    /// Converts an address to its integer form.
    fn addr_to_bits(addr: Self::Addr) -> Self::Bits;
    /// Converts an integer back to an address.
    fn bits_to_addr(bits: Self::Bits) -> Self::Addr;
    /// Wraps the prefix into a [`Net`].
    fn into_net(self) -> Net;
}

macro_rules! prefix_type {
    (
        $(#[$doc:meta])*
        $name:ident, $addr:ty, $bits:ty, $max:expr, $nt:ident, $variant:ident, $parse:ident, $write:ident
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name {
            addr: $addr,
            len: u8,
        }

        impl $name {
            /// The maximum prefix length of the family.
            pub const MAX_LEN: u8 = $max;

            /// The default route (`/0`).
            pub const DEFAULT: Self = Self { addr: <$addr>::from_bits(0), len: 0 };

            /// Creates a prefix, rejecting a length over the maximum or host bits set
            /// (the error suggests the masked prefix, as BIRD's config parser does).
            pub fn new(addr: $addr, len: u8) -> Result<Self, NetError> {
                let p = Self::new_masked(addr, len)?;
                if p.addr != addr {
                    return Err(NetError::HostBitsSet {
                        net_type: NetType::$nt,
                        addr: addr.into(),
                        len,
                        masked: p.into(),
                    });
                }
                Ok(p)
            }

            /// Creates a prefix, clearing any host bits; rejects only a bad length.
            pub fn new_masked(addr: $addr, len: u8) -> Result<Self, NetError> {
                if len > $max {
                    return Err(NetError::LengthOutOfRange { len: len.into(), max: $max });
                }
                Ok(Self::from_bits(addr.to_bits(), len))
            }

            /// The host prefix (`/32` or `/128`) of an address.
            pub const fn host(addr: $addr) -> Self {
                Self { addr, len: $max }
            }

            /// The network address.
            pub const fn addr(&self) -> $addr {
                self.addr
            }

            /// The prefix length.
            #[allow(clippy::len_without_is_empty)]
            pub const fn len(&self) -> u8 {
                self.len
            }

            /// The netmask (`255.255.255.0` for a /24).
            pub fn mask(&self) -> $addr {
                <$addr>::from_bits(<$bits>::mask(self.len))
            }

            /// The first address of the prefix (the network address itself).
            pub const fn first(&self) -> $addr {
                self.addr
            }

            /// The last address of the prefix (all host bits one).
            pub fn last(&self) -> $addr {
                <$addr>::from_bits(self.addr.to_bits() | !<$bits>::mask(self.len))
            }

            /// Whether `addr` lies within the prefix.
            pub fn contains_addr(&self, addr: $addr) -> bool {
                (addr.to_bits() ^ self.addr.to_bits()) & <$bits>::mask(self.len) == 0
            }

            /// Whether `other` is equal to or more specific than `self`
            /// (BIRD's `other ~ self` for two prefixes).
            pub fn contains(&self, other: &Self) -> bool {
                other.len >= self.len && self.contains_addr(other.addr)
            }

            /// Whether `self` is equal to or more specific than `other`.
            pub fn is_subnet_of(&self, other: &Self) -> bool {
                other.contains(self)
            }

            /// The longest prefix that contains both `self` and `other`.
            pub fn common_prefix(&self, other: &Self) -> Self {
                let l = crate::bits::common_len(
                    self.addr.to_bits(), self.len, other.addr.to_bits(), other.len);
                Self::from_bits(self.addr.to_bits(), l)
            }

            /// The prefix shortened to `len` bits (unchanged if `len >= self.len()`).
            pub fn truncate(&self, len: u8) -> Self {
                if len >= self.len { *self } else { Self::from_bits(self.addr.to_bits(), len) }
            }

            /// Bit `i` of the address, counted from the most significant (bit 0).
            ///
            /// # Panics
            /// If `i >= MAX_LEN`.
            pub fn bit(&self, i: u8) -> bool {
                assert!(i < $max, "bit index {i} out of range");
                self.addr.to_bits().bit(i)
            }

            /// The child one bit longer, with the new bit set to `bit`;
            /// `None` for a host prefix.
            pub fn child(&self, bit: bool) -> Option<Self> {
                if self.len == $max {
                    return None;
                }
                let mut b = self.addr.to_bits();
                if bit {
                    b |= <$bits>::single(self.len);
                }
                Some(Self { addr: <$addr>::from_bits(b), len: self.len + 1 })
            }

            /// The parent one bit shorter; `None` for `/0`.
            pub fn parent(&self) -> Option<Self> {
                if self.len == 0 { None } else { Some(self.truncate(self.len - 1)) }
            }
        }

        impl IpPrefix for $name {
            type Addr = $addr;
            type Bits = $bits;
            const MAX_LEN: u8 = $max;
            const NET_TYPE: NetType = NetType::$nt;

            #[inline]
            fn len(&self) -> u8 {
                self.len
            }
            #[inline]
            fn bits(&self) -> $bits {
                self.addr.to_bits()
            }
            #[inline]
            fn from_bits(bits: $bits, len: u8) -> Self {
                assert!(len <= $max, "prefix length {len} out of range");
                Self { addr: <$addr>::from_bits(bits & <$bits>::mask(len)), len }
            }
            #[inline]
            fn addr_to_bits(addr: $addr) -> $bits {
                addr.to_bits()
            }
            #[inline]
            fn bits_to_addr(bits: $bits) -> $addr {
                <$addr>::from_bits(bits)
            }
            #[inline]
            fn into_net(self) -> Net {
                Net::$variant(self)
            }
        }

        impl fmt::Display for $name {
            /// `addr/len` as BIRD prints it; honours width and alignment (`{:<20}`).
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if f.width().is_none() {
                    $write(f, self.addr)?;
                    return write!(f, "/{}", self.len);
                }
                let mut s = String::with_capacity(48);
                $write(&mut s, self.addr)?;
                fmt::Write::write_fmt(&mut s, format_args!("/{}", self.len))?;
                f.pad(&s)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl FromStr for $name {
            type Err = NetError;

            /// Parses `addr/len`, with BIRD's checks and messages.
            fn from_str(s: &str) -> Result<Self, NetError> {
                let (a, l) = split_prefix(s)?;
                let addr = $parse(a)?;
                let len = parse_len(l, $max)?;
                Self::new(addr, len)
            }
        }

        impl From<$name> for Net {
            fn from(p: $name) -> Net {
                Net::$variant(p)
            }
        }

        impl TryFrom<Net> for $name {
            type Error = NetError;

            fn try_from(n: Net) -> Result<Self, NetError> {
                match n {
                    Net::$variant(p) => Ok(p),
                    #[allow(unreachable_patterns)]
                    _ => Err(NetError::WrongFamily { expected: NetType::$nt }),
                }
            }
        }

        impl Default for $name {
            /// The default route.
            fn default() -> Self {
                Self::DEFAULT
            }
        }
    };
}

prefix_type!(
    /// An IPv4 prefix such as `192.0.2.0/24`; host bits are always zero.
    ///
    /// ```
    /// use birdnet::Prefix4;
    /// let p: Prefix4 = "192.0.2.0/24".parse().unwrap();
    /// assert_eq!(p.len(), 24);
    /// assert!(p.contains_addr("192.0.2.77".parse().unwrap()));
    /// assert_eq!(p.last().to_string(), "192.0.2.255");
    /// assert_eq!(
    ///     "192.0.2.1/24".parse::<Prefix4>().unwrap_err().to_string(),
    ///     "Invalid IPv4 prefix 192.0.2.1/24, maybe you wanted 192.0.2.0/24"
    /// );
    /// ```
    Prefix4, Ipv4Addr, u32, 32, Ipv4, Ip4, parse_ipv4, write_ip4
);

prefix_type!(
    /// An IPv6 prefix such as `2001:db8::/32`; host bits are always zero.
    ///
    /// ```
    /// use birdnet::Prefix6;
    /// let p: Prefix6 = "2001:db8::/32".parse().unwrap();
    /// assert_eq!(p.to_string(), "2001:db8::/32");
    /// assert!(p.contains(&"2001:db8:1::/48".parse().unwrap()));
    /// ```
    Prefix6, Ipv6Addr, u128, 128, Ipv6, Ip6, parse_ipv6, write_ip6
);

pub(crate) fn split_prefix(s: &str) -> Result<(&str, &str), NetError> {
    s.split_once('/').ok_or_else(|| NetError::MissingLength { text: s.to_owned() })
}

pub(crate) fn parse_len(l: &str, max: u8) -> Result<u8, NetError> {
    if l.is_empty() || !l.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NetError::InvalidLength { text: l.to_owned() });
    }
    let len: u32 = l.parse().map_err(|_| NetError::InvalidLength { text: l.to_owned() })?;
    if len > u32::from(max) {
        return Err(NetError::LengthOutOfRange { len, max });
    }
    Ok(len as u8)
}
