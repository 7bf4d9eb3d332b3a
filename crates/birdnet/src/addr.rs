//! IP address text: BIRD-compatible parsing and printing.
//!
//! Printing IPv4 is the usual dotted quad. Printing IPv6 follows BIRD's rules,
//! which are RFC 5952 (lowercase hex, no leading zeros, the longest run of two or
//! more zero groups compressed, the first one on ties) plus one BIRD quirk: an
//! address whose first six groups are zero and whose seventh is not prints with
//! an embedded IPv4 tail (`::192.0.2.1`, and so `::1:0` prints as `::0.1.0.0`),
//! and `::ffff:a.b.c.d` mapped addresses print the same way std prints them.
//! `std`'s `Display` differs on the first case, so always print through
//! [`DisplayIp`] when the output must match `birdc`.
//!
//! Parsing IPv4 accepts what BIRD's lexer accepts: four decimal components of
//! at most 255 each, leading zeros allowed and read as decimal (`010.0.0.1` is
//! `10.0.0.1`, not octal). IPv6 parsing uses the standard grammar (one `::`, at
//! most four hex digits a group, optional trailing dotted IPv4).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::NetError;

/// Displays an IP address exactly as BIRD prints it (see the module docs).
///
/// Honours width, fill and alignment (`{:<20}`), like `str`.
///
/// ```
/// use birdnet::DisplayIp;
/// use std::net::Ipv6Addr;
/// let a: Ipv6Addr = "::c000:201".parse().unwrap();
/// assert_eq!(DisplayIp(a.into()).to_string(), "::192.0.2.1");
/// assert_eq!(a.to_string(), "::c000:201"); // std differs here
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DisplayIp(pub IpAddr);

impl fmt::Display for DisplayIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.width().is_none() {
            return write_ip(f, self.0);
        }
        let mut s = String::with_capacity(40);
        write_ip(&mut s, self.0)?;
        f.pad(&s)
    }
}

pub(crate) fn write_ip(w: &mut impl fmt::Write, a: IpAddr) -> fmt::Result {
    match a {
        IpAddr::V4(a) => write_ip4(w, a),
        IpAddr::V6(a) => write_ip6(w, a),
    }
}

pub(crate) fn write_ip4(w: &mut impl fmt::Write, a: Ipv4Addr) -> fmt::Result {
    let [a, b, c, d] = a.octets();
    write!(w, "{a}.{b}.{c}.{d}")
}

pub(crate) fn write_ip6(w: &mut impl fmt::Write, a: Ipv6Addr) -> fmt::Result {
    let g = a.segments();
    // Longest run of zero groups; the first one wins a tie.
    let (mut best_at, mut best_len, mut run_at, mut run_len) = (0usize, 0usize, 0usize, 0usize);
    for (i, &word) in g.iter().enumerate() {
        if word == 0 {
            if run_len == 0 {
                run_at = i;
            }
            run_len += 1;
            if run_len > best_len {
                best_at = run_at;
                best_len = run_len;
            }
        } else {
            run_len = 0;
        }
    }
    if best_at == 0 && ((best_len == 5 && g[5] == 0xffff) || best_len == 6) {
        let [.., a, b, c, d] = a.octets();
        let mapped = if g[5] == 0xffff { "ffff:" } else { "" };
        return write!(w, "::{mapped}{a}.{b}.{c}.{d}");
    }
    if best_len < 2 {
        best_len = 0;
        best_at = usize::MAX;
    }
    let mut i = 0;
    while i < 8 {
        if i == best_at {
            w.write_str("::")?;
            i += best_len;
            continue;
        }
        if i != 0 && i != best_at + best_len {
            w.write_char(':')?;
        }
        write!(w, "{:x}", g[i])?;
        i += 1;
    }
    Ok(())
}

/// Parses an IPv4 address the way BIRD's config lexer does (see the module docs).
///
/// ```
/// assert_eq!(birdnet::parse_ipv4("010.0.0.1").unwrap().to_string(), "10.0.0.1");
/// assert!(birdnet::parse_ipv4("256.0.0.1").is_err());
/// ```
pub fn parse_ipv4(s: &str) -> Result<Ipv4Addr, NetError> {
    let bad = || NetError::InvalidAddress { family: "IPv4", text: s.to_owned() };
    let mut out = [0u8; 4];
    let mut parts = s.split('.');
    for o in &mut out {
        let part = parts.next().ok_or_else(bad)?;
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let digits = part.trim_start_matches('0');
        if digits.len() > 3 {
            return Err(bad());
        }
        let v: u32 = if digits.is_empty() { 0 } else { digits.parse().map_err(|_| bad())? };
        *o = u8::try_from(v).map_err(|_| bad())?;
    }
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(Ipv4Addr::from(out))
}

/// Parses an IPv6 address (standard text form, including an embedded IPv4 tail).
///
/// ```
/// assert_eq!(birdnet::parse_ipv6("2001:DB8::1").unwrap().segments()[0], 0x2001);
/// assert!(birdnet::parse_ipv6("2001:db8:::1").is_err());
/// ```
pub fn parse_ipv6(s: &str) -> Result<Ipv6Addr, NetError> {
    s.parse().map_err(|_| NetError::InvalidAddress { family: "IPv6", text: s.to_owned() })
}

/// Parses an IPv4 or IPv6 address: text containing `:` is IPv6, anything else IPv4.
///
/// ```
/// use std::net::IpAddr;
/// assert!(matches!(birdnet::parse_ip("192.0.2.1"), Ok(IpAddr::V4(_))));
/// assert!(matches!(birdnet::parse_ip("::1"), Ok(IpAddr::V6(_))));
/// ```
pub fn parse_ip(s: &str) -> Result<IpAddr, NetError> {
    if s.contains(':') {
        parse_ipv6(s).map(IpAddr::V6)
    } else if s.contains('.') {
        parse_ipv4(s).map(IpAddr::V4)
    } else {
        Err(NetError::InvalidAddress { family: "IP", text: s.to_owned() })
    }
}
