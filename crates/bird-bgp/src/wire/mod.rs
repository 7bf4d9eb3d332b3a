//! The BGP wire codec: message framing and every message type, pure functions over byte slices.
//!
//! * [`frame_len`] finds one message in a receive buffer and checks its header (marker, length, type).
//! * [`Message::decode`] decodes one framed message under a [`SessionCtx`] (what the session
//!   negotiated: 4-byte ASNs, ADD-PATH directions, extended messages, iBGP or eBGP);
//!   [`Message::encode`] is the reverse.
//! * UPDATE decoding follows RFC 7606: the result says which malformed parts were discarded and whether
//!   the whole UPDATE must be treated as a withdrawal; errors that make the message unparseable become
//!   a [`WireError`] carrying the NOTIFICATION to send.
//! * [`UpdatePacker`] packs prefixes that share attributes into as few UPDATEs as the negotiated
//!   maximum message size allows, and batches withdrawals.

mod attrs;
mod nlri;
mod notification;
mod open;
mod otc;
mod update;

use std::fmt;

pub use attrs::{decode_attrs, encode_attrs, AttrIssue, AttrOutcome, Severity};
pub use nlri::{decode_prefixes, encode_prefix, prefix_wire_len};
pub use notification::{error_description, Notification};
pub use open::{
    AddPathMode, Capabilities, ExtNextHop, GrFamily, GracefulRestart, Hostname, LlgrFamily, Open, Role,
};
pub use otc::{otc_egress, otc_ingress, OtcVerdict};
pub use update::{FamilyUpdate, MpNextHop, MpReach, MpUnreach, Nlri, Update, UpdateDecoded, UpdatePacker};

/// Length of the message header (marker, length, type).
pub const HEADER_LEN: usize = 19;
/// Largest message without the extended message capability (RFC 4271).
pub const MAX_MESSAGE_LEN: usize = 4096;
/// Largest message with the extended message capability (RFC 8654).
pub const MAX_EXT_MESSAGE_LEN: usize = 65535;
/// `AS_TRANS` (RFC 6793): the 2-byte stand-in for a 4-byte ASN.
pub const AS_TRANS: u16 = 23456;
/// The BGP version this codec speaks.
pub const BGP_VERSION: u8 = 4;

/// Message type codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MessageType {
    /// OPEN (1).
    Open = 1,
    /// UPDATE (2).
    Update = 2,
    /// NOTIFICATION (3).
    Notification = 3,
    /// KEEPALIVE (4).
    Keepalive = 4,
    /// ROUTE-REFRESH (5, RFC 2918).
    RouteRefresh = 5,
}

impl MessageType {
    /// The type with this code.
    pub fn from_code(code: u8) -> Option<MessageType> {
        Some(match code {
            1 => MessageType::Open,
            2 => MessageType::Update,
            3 => MessageType::Notification,
            4 => MessageType::Keepalive,
            5 => MessageType::RouteRefresh,
            _ => return None,
        })
    }

    /// The name used in logs (`OPEN`, `UPDATE`, ...).
    pub fn name(self) -> &'static str {
        match self {
            MessageType::Open => "OPEN",
            MessageType::Update => "UPDATE",
            MessageType::Notification => "NOTIFICATION",
            MessageType::Keepalive => "KEEPALIVE",
            MessageType::RouteRefresh => "ROUTE-REFRESH",
        }
    }
}

/// An address family: AFI and SAFI, kept generic (any pair can be advertised and negotiated; the
/// UPDATE codec decodes IP prefixes for AFI 1/2 with SAFI 1/2 and skips other families).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AfiSafi {
    /// Address family identifier (1 IPv4, 2 IPv6).
    pub afi: u16,
    /// Subsequent address family identifier (1 unicast, 2 multicast).
    pub safi: u8,
}

impl AfiSafi {
    /// IPv4 unicast.
    pub const IPV4_UNICAST: AfiSafi = AfiSafi { afi: 1, safi: 1 };
    /// IPv6 unicast.
    pub const IPV6_UNICAST: AfiSafi = AfiSafi { afi: 2, safi: 1 };
    /// IPv4 multicast.
    pub const IPV4_MULTICAST: AfiSafi = AfiSafi { afi: 1, safi: 2 };
    /// IPv6 multicast.
    pub const IPV6_MULTICAST: AfiSafi = AfiSafi { afi: 2, safi: 2 };

    /// The family `(afi, safi)`.
    pub const fn new(afi: u16, safi: u8) -> AfiSafi {
        AfiSafi { afi, safi }
    }

    /// Whether NLRI of this family are plain IP prefixes this codec decodes.
    pub fn is_ip(self) -> bool {
        matches!(self.afi, 1 | 2) && matches!(self.safi, 1 | 2)
    }

    /// The name BIRD prints in `show protocols all` (`ipv4`, `ipv6`, `ipv4-mc`, ...) or `<afi/safi>`.
    pub fn bird_name(self) -> String {
        match (self.afi, self.safi) {
            (1, 1) => "ipv4".into(),
            (2, 1) => "ipv6".into(),
            (1, 2) => "ipv4-mc".into(),
            (2, 2) => "ipv6-mc".into(),
            (1, 4) => "ipv4-mpls".into(),
            (2, 4) => "ipv6-mpls".into(),
            (1, 128) => "vpn4-mpls".into(),
            (2, 128) => "vpn6-mpls".into(),
            (1, 133) => "flow4".into(),
            (2, 133) => "flow6".into(),
            (a, s) => format!("<{a}/{s}>"),
        }
    }
}

impl fmt::Debug for AfiSafi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AfiSafi({}/{})", self.afi, self.safi)
    }
}

impl fmt::Display for AfiSafi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.bird_name())
    }
}

/// What the codec needs to know about a session to decode and encode UPDATEs: the outcome of
/// capability negotiation plus the session type. [`SessionCtx::default`] is the state before OPENs are
/// exchanged (2-byte ASNs, 4096-byte messages, no ADD-PATH).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionCtx {
    /// Both sides advertised 4-byte ASN support (RFC 6793).
    pub as4: bool,
    /// Both sides advertised extended messages (RFC 8654): 65535-byte UPDATEs.
    pub ext_message: bool,
    /// Families whose received NLRI carry path ids (we advertised receive, the peer send).
    pub add_path_rx: Vec<AfiSafi>,
    /// Families whose sent NLRI carry path ids (we advertised send, the peer receive).
    pub add_path_tx: Vec<AfiSafi>,
    /// Families for which IPv6 next hops may be sent (RFC 8950, the peer advertised it).
    pub ext_next_hop_tx: Vec<AfiSafi>,
    /// The session is internal (iBGP): LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST are accepted.
    pub internal: bool,
}

impl SessionCtx {
    /// Largest message this session may send or receive.
    pub fn max_len(&self) -> usize {
        if self.ext_message {
            MAX_EXT_MESSAGE_LEN
        } else {
            MAX_MESSAGE_LEN
        }
    }

    /// Whether received NLRI of `af` carry path ids.
    pub fn rx_path_id(&self, af: AfiSafi) -> bool {
        self.add_path_rx.contains(&af)
    }

    /// Whether sent NLRI of `af` carry path ids.
    pub fn tx_path_id(&self, af: AfiSafi) -> bool {
        self.add_path_tx.contains(&af)
    }

    /// Every combination of the boolean knobs with ADD-PATH off or on for IPv4 and IPv6 unicast (for
    /// tests and fuzzing).
    pub fn all_combinations() -> Vec<SessionCtx> {
        let mut v = Vec::new();
        for bits in 0u8..16 {
            let ap =
                if bits & 4 != 0 { vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST] } else { Vec::new() };
            v.push(SessionCtx {
                as4: bits & 1 != 0,
                ext_message: bits & 2 != 0,
                add_path_rx: ap.clone(),
                add_path_tx: ap,
                ext_next_hop_tx: vec![AfiSafi::IPV4_UNICAST],
                internal: bits & 8 != 0,
            });
        }
        v
    }
}

/// ROUTE-REFRESH message subtype (RFC 7313).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefreshSubtype {
    /// A plain route refresh request (0).
    Request,
    /// Beginning of route refresh (1).
    Begin,
    /// End of route refresh (2).
    End,
    /// A reserved value (ignored on receipt, RFC 7313).
    Reserved(u8),
}

impl RefreshSubtype {
    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            RefreshSubtype::Request => 0,
            RefreshSubtype::Begin => 1,
            RefreshSubtype::End => 2,
            RefreshSubtype::Reserved(c) => c,
        }
    }

    /// The subtype with this code.
    pub fn from_code(c: u8) -> RefreshSubtype {
        match c {
            0 => RefreshSubtype::Request,
            1 => RefreshSubtype::Begin,
            2 => RefreshSubtype::End,
            c => RefreshSubtype::Reserved(c),
        }
    }
}

/// A ROUTE-REFRESH message (RFC 2918, RFC 7313).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteRefresh {
    /// The family to refresh.
    pub afi_safi: AfiSafi,
    /// Request, BoRR or EoRR.
    pub subtype: RefreshSubtype,
}

/// One BGP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// OPEN.
    Open(Open),
    /// UPDATE, with its RFC 7606 outcome.
    Update(UpdateDecoded),
    /// NOTIFICATION.
    Notification(Notification),
    /// KEEPALIVE.
    Keepalive,
    /// ROUTE-REFRESH.
    RouteRefresh(RouteRefresh),
}

impl Message {
    /// The message type.
    pub fn kind(&self) -> MessageType {
        match self {
            Message::Open(_) => MessageType::Open,
            Message::Update(_) => MessageType::Update,
            Message::Notification(_) => MessageType::Notification,
            Message::Keepalive => MessageType::Keepalive,
            Message::RouteRefresh(_) => MessageType::RouteRefresh,
        }
    }

    /// Decode one framed message (header included, as [`frame_len`] delimited it).
    pub fn decode(msg: &[u8], ctx: &SessionCtx) -> Result<Message, WireError> {
        let len = frame_len(msg, ctx.max_len())?.ok_or_else(|| {
            WireError::new(Notification::new(1, 2, Vec::new()), "truncated message".to_string())
        })?;
        if len != msg.len() {
            return Err(WireError::new(
                Notification::new(1, 2, (msg.len().min(65535) as u16).to_be_bytes().to_vec()),
                format!("message length {len} but {} bytes given", msg.len()),
            ));
        }
        let body = &msg[HEADER_LEN..];
        match MessageType::from_code(msg[18]) {
            Some(MessageType::Open) => Open::decode(body).map(Message::Open),
            Some(MessageType::Update) => Update::decode(body, ctx).map(Message::Update),
            Some(MessageType::Notification) => Ok(Message::Notification(Notification::decode(body))),
            Some(MessageType::Keepalive) => Ok(Message::Keepalive),
            Some(MessageType::RouteRefresh) => Ok(Message::RouteRefresh(RouteRefresh {
                afi_safi: AfiSafi::new(u16::from_be_bytes([body[0], body[1]]), body[3]),
                subtype: RefreshSubtype::from_code(body[2]),
            })),
            // frame_len checked the type.
            None => Err(WireError::new(Notification::new(1, 3, vec![msg[18]]), "bad type".into())),
        }
    }

    /// Encode the message (header included). UPDATEs larger than the session's maximum are an error:
    /// use [`UpdatePacker`] to split announcements.
    pub fn encode(&self, ctx: &SessionCtx) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&[0xff; 16]);
        out.extend_from_slice(&[0, 0]);
        out.push(self.kind() as u8);
        match self {
            Message::Open(o) => o.encode_body(&mut out)?,
            Message::Update(u) => u.update.encode_body(ctx, &mut out)?,
            Message::Notification(n) => n.encode_body(&mut out),
            Message::Keepalive => {}
            Message::RouteRefresh(r) => {
                out.extend_from_slice(&r.afi_safi.afi.to_be_bytes());
                out.push(r.subtype.code());
                out.push(r.afi_safi.safi);
            }
        }
        let max = match self {
            Message::Open(_) | Message::Keepalive => MAX_MESSAGE_LEN,
            _ => ctx.max_len(),
        };
        finish_header(&mut out, max)?;
        Ok(out)
    }
}

/// Write the length into a message built after a 19-byte header; check it fits `max`.
pub(crate) fn finish_header(out: &mut [u8], max: usize) -> Result<(), EncodeError> {
    if out.len() > max {
        return Err(EncodeError::TooLong { len: out.len(), max });
    }
    let l = out.len() as u16;
    out[16..18].copy_from_slice(&l.to_be_bytes());
    Ok(())
}

/// Why a message could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The message exceeds the maximum length.
    #[error("message of {len} bytes exceeds the maximum of {max}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A field does not fit its wire form.
    #[error("{0}")]
    Field(&'static str),
}

/// A received message that the session must answer with a NOTIFICATION (RFC 4271 §6, RFC 7606
/// "session reset"), with a description for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct WireError {
    /// The NOTIFICATION to send.
    pub notification: Notification,
    /// What was wrong, for logs.
    pub reason: String,
}

impl WireError {
    /// An error with the given NOTIFICATION and reason.
    pub fn new(notification: Notification, reason: String) -> WireError {
        WireError { notification, reason }
    }

    pub(crate) fn update(subcode: u8, reason: impl Into<String>) -> WireError {
        WireError::new(Notification::new(3, subcode, Vec::new()), reason.into())
    }
}

/// Find the first message in `buf`: `Ok(None)` when more bytes are needed, `Ok(Some(len))` when
/// `buf[..len]` is one message with a valid header, an error (NOTIFICATION 1/x) when the header is bad.
///
/// `max_len` is the largest acceptable message ([`SessionCtx::max_len`]); KEEPALIVE and ROUTE-REFRESH
/// lengths are checked exactly, OPEN, UPDATE and NOTIFICATION against their minimums (RFC 4271 §6.1,
/// RFC 7313 §5).
pub fn frame_len(buf: &[u8], max_len: usize) -> Result<Option<usize>, WireError> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    if buf[..16].iter().any(|&b| b != 0xff) {
        return Err(WireError::new(
            Notification::new(1, 1, Vec::new()),
            "Connection not synchronized (bad marker)".into(),
        ));
    }
    let len = usize::from(u16::from_be_bytes([buf[16], buf[17]]));
    let ty = buf[18];
    let bad_len = || {
        WireError::new(
            Notification::new(1, 2, buf[16..18].to_vec()),
            format!("Bad message length {len} for type {ty}"),
        )
    };
    let kind = MessageType::from_code(ty)
        .ok_or_else(|| WireError::new(Notification::new(1, 3, vec![ty]), format!("Bad message type {ty}")))?;
    let ok = match kind {
        MessageType::Open => (29..=max_len.min(MAX_MESSAGE_LEN)).contains(&len),
        MessageType::Update => (23..=max_len).contains(&len),
        MessageType::Notification => (21..=max_len).contains(&len),
        MessageType::Keepalive => len == HEADER_LEN,
        MessageType::RouteRefresh => {
            if len != 23 && (HEADER_LEN..=max_len).contains(&len) {
                return Err(WireError::new(
                    Notification::new(7, 1, buf[..len.min(buf.len())].to_vec()),
                    format!("Invalid ROUTE-REFRESH message length {len}"),
                ));
            }
            len == 23
        }
    };
    if !ok {
        return Err(bad_len());
    }
    if buf.len() < len {
        return Ok(None);
    }
    Ok(Some(len))
}

/// A KEEPALIVE message.
pub fn keepalive() -> [u8; HEADER_LEN] {
    let mut m = [0xff; HEADER_LEN];
    m[16] = 0;
    m[17] = HEADER_LEN as u8;
    m[18] = MessageType::Keepalive as u8;
    m
}

/// Simple big-endian reader over a byte slice.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    pub(crate) buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf }
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }
    pub(crate) fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.buf.split_first()?;
        self.buf = rest;
        Some(b)
    }
    pub(crate) fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }
    pub(crate) fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.buf.len() < n {
            return None;
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Some(a)
    }
}
