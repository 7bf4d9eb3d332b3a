//! The error type shared by every parser and checked constructor in this crate.
//!
//! Messages follow BIRD's configuration errors word for word where BIRD has one
//! (`Invalid prefix length 33`, `Invalid IPv4 prefix 192.0.2.1/24, maybe you
//! wanted 192.0.2.0/24`), so the daemon's config parser can print them as they are.

use std::net::IpAddr;

use crate::net::{Net, NetType};
use crate::DisplayIp;

/// What was wrong with an address, prefix or prefix pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The text is not an IP address of the expected family.
    #[error("Invalid {family} address {text}")]
    InvalidAddress {
        /// `IPv4`, `IPv6` or `IP`, as in BIRD's lexer messages.
        family: &'static str,
        /// The offending text.
        text: String,
    },
    /// A prefix was expected but the text has no `/len` part.
    #[error("Missing prefix length in {text}")]
    MissingLength {
        /// The offending text.
        text: String,
    },
    /// The part after `/` is not a decimal number.
    #[error("Invalid prefix length {text}")]
    InvalidLength {
        /// The text after the slash.
        text: String,
    },
    /// The prefix length exceeds 32 (IPv4) or 128 (IPv6).
    #[error("Invalid prefix length {len}")]
    LengthOutOfRange {
        /// The length that was given.
        len: u32,
        /// The family's maximum.
        max: u8,
    },
    /// The address has bits set beyond the prefix length (`192.0.2.1/24`).
    #[error("Invalid {} prefix {}/{len}, maybe you wanted {masked}", family_label(*.net_type), DisplayIp(*.addr))]
    HostBitsSet {
        /// The family of the prefix.
        net_type: NetType,
        /// The address as given.
        addr: IpAddr,
        /// The length as given.
        len: u8,
        /// The prefix with the host bits cleared.
        masked: Net,
    },
    /// A prefix of one family was given where the other was required.
    #[error("{} network expected", family_label(*.expected))]
    WrongFamily {
        /// The family that was required.
        expected: NetType,
    },
    /// A prefix pattern `net{low,high}` whose range is not
    /// `net.len <= low <= high <= max`.
    #[error("Invalid prefix pattern range: {{{low}, {high}}}")]
    InvalidPatternRange {
        /// Lower bound given.
        low: u32,
        /// Upper bound given.
        high: u32,
    },
}

fn family_label(t: NetType) -> &'static str {
    match t {
        NetType::Ipv4 => "IPv4",
        NetType::Ipv6 => "IPv6",
    }
}
