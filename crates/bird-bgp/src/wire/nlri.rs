//! IP prefixes in NLRI form (RFC 4271 §4.3, RFC 4760 §5, RFC 7911 path ids).

use std::net::{Ipv4Addr, Ipv6Addr};

use birdnet::{Net, Prefix4, Prefix6};

use super::update::Nlri;

/// Bytes one prefix takes on the wire (length byte, address bytes, path id if `path_id`).
pub fn prefix_wire_len(net: &Net, path_id: bool) -> usize {
    1 + usize::from(net.len()).div_ceil(8) + if path_id { 4 } else { 0 }
}

/// Append one prefix (with its path id when `path_id`).
pub fn encode_prefix(out: &mut Vec<u8>, n: &Nlri, path_id: bool) {
    if path_id {
        out.extend_from_slice(&n.path_id.to_be_bytes());
    }
    let len = n.net.len();
    out.push(len);
    let bytes = usize::from(len).div_ceil(8);
    match n.net {
        Net::Ip4(p) => out.extend_from_slice(&p.addr().octets()[..bytes]),
        Net::Ip6(p) => out.extend_from_slice(&p.addr().octets()[..bytes]),
        // Net is non-exhaustive; other kinds never reach the IP codec.
        _ => {}
    }
}

/// Why an NLRI field could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NlriError {
    /// A prefix runs past the end of the field.
    #[error("truncated prefix at offset {0}")]
    Truncated(usize),
    /// A prefix length larger than the address.
    #[error("invalid prefix length {len} at offset {offset}")]
    BadLength {
        /// The length byte.
        len: u8,
        /// Where the prefix starts.
        offset: usize,
    },
}

/// Decode a sequence of prefixes of one family (`ipv6` selects IPv6) into `out`. Host bits past the
/// prefix length are cleared (they carry no meaning, RFC 4271 §4.3).
pub fn decode_prefixes(buf: &[u8], ipv6: bool, path_id: bool, out: &mut Vec<Nlri>) -> Result<(), NlriError> {
    let max = if ipv6 { 128 } else { 32 };
    let mut off = 0;
    while off < buf.len() {
        let start = off;
        let mut id = 0;
        if path_id {
            let b = buf.get(off..off + 4).ok_or(NlriError::Truncated(start))?;
            id = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            off += 4;
        }
        let len = *buf.get(off).ok_or(NlriError::Truncated(start))?;
        off += 1;
        if len > max {
            return Err(NlriError::BadLength { len, offset: start });
        }
        let n = usize::from(len).div_ceil(8);
        let bytes = buf.get(off..off + n).ok_or(NlriError::Truncated(start))?;
        off += n;
        let net = if ipv6 {
            let mut a = [0u8; 16];
            a[..n].copy_from_slice(bytes);
            Prefix6::new_masked(Ipv6Addr::from(a), len).map(Net::Ip6)
        } else {
            let mut a = [0u8; 4];
            a[..n].copy_from_slice(bytes);
            Prefix4::new_masked(Ipv4Addr::from(a), len).map(Net::Ip4)
        };
        let net = net.map_err(|_| NlriError::BadLength { len, offset: start })?;
        out.push(Nlri { net, path_id: id });
    }
    Ok(())
}
