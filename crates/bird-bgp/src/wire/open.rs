//! OPEN messages and capabilities (RFC 4271 §4.2, RFC 5492, RFC 9072).

use std::net::Ipv4Addr;

use super::{AfiSafi, EncodeError, Notification, Reader, WireError, AS_TRANS, BGP_VERSION};

/// ADD-PATH direction for one family (RFC 7911).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddPathMode {
    /// Able to receive path ids (1).
    Receive,
    /// Able to send path ids (2).
    Send,
    /// Both (3).
    Both,
}

impl AddPathMode {
    /// The wire value.
    pub fn code(self) -> u8 {
        match self {
            AddPathMode::Receive => 1,
            AddPathMode::Send => 2,
            AddPathMode::Both => 3,
        }
    }

    /// The mode with this wire value.
    pub fn from_code(c: u8) -> Option<AddPathMode> {
        match c {
            1 => Some(AddPathMode::Receive),
            2 => Some(AddPathMode::Send),
            3 => Some(AddPathMode::Both),
            _ => None,
        }
    }

    /// Whether the mode includes receiving.
    pub fn receives(self) -> bool {
        matches!(self, AddPathMode::Receive | AddPathMode::Both)
    }

    /// Whether the mode includes sending.
    pub fn sends(self) -> bool {
        matches!(self, AddPathMode::Send | AddPathMode::Both)
    }
}

/// One family of the graceful restart capability (RFC 4724).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GrFamily {
    /// The family.
    pub afi_safi: AfiSafi,
    /// Forwarding state was preserved (F bit).
    pub forwarding: bool,
}

/// The graceful restart capability (RFC 4724, RFC 8538 N bit).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct GracefulRestart {
    /// The sender has restarted (R bit).
    pub restarting: bool,
    /// The sender supports graceful notification (N bit, RFC 8538).
    pub notification: bool,
    /// Restart time in seconds (12 bits).
    pub restart_time: u16,
    /// Families the sender preserves routes for.
    pub families: Vec<GrFamily>,
}

/// One family of the long-lived graceful restart capability (RFC 9494).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LlgrFamily {
    /// The family.
    pub afi_safi: AfiSafi,
    /// Forwarding state was preserved (F bit).
    pub forwarding: bool,
    /// Long-lived stale time in seconds (24 bits).
    pub stale_time: u32,
}

/// One tuple of the extended next hop capability (RFC 8950).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtNextHop {
    /// The NLRI family (AFI, and SAFI as a 16-bit field on the wire).
    pub afi_safi: AfiSafi,
    /// The next hop AFI (2 for IPv6).
    pub nh_afi: u16,
}

/// The hostname (FQDN) capability (draft-walton-bgp-hostname-capability).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Hostname {
    /// Host name.
    pub host: String,
    /// Domain name.
    pub domain: String,
}

/// The BGP role (RFC 9234).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Provider (0).
    Provider,
    /// Route server (1).
    RsServer,
    /// Route server client (2).
    RsClient,
    /// Customer (3).
    Customer,
    /// Lateral peer (4).
    Peer,
    /// A value this codec does not know.
    Unknown(u8),
}

impl Role {
    /// The wire value.
    pub fn code(self) -> u8 {
        match self {
            Role::Provider => 0,
            Role::RsServer => 1,
            Role::RsClient => 2,
            Role::Customer => 3,
            Role::Peer => 4,
            Role::Unknown(c) => c,
        }
    }

    /// The role with this wire value.
    pub fn from_code(c: u8) -> Role {
        match c {
            0 => Role::Provider,
            1 => Role::RsServer,
            2 => Role::RsClient,
            3 => Role::Customer,
            4 => Role::Peer,
            c => Role::Unknown(c),
        }
    }

    /// The name BIRD uses in configuration and `show protocols all` (`provider`, `rs_server`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Role::Provider => "provider",
            Role::RsServer => "rs_server",
            Role::RsClient => "rs_client",
            Role::Customer => "customer",
            Role::Peer => "peer",
            Role::Unknown(_) => "?",
        }
    }

    /// The role a correctly configured peer has opposite this one (RFC 9234 §4.2 table).
    pub fn expected_peer(self) -> Option<Role> {
        Some(match self {
            Role::Provider => Role::Customer,
            Role::Customer => Role::Provider,
            Role::RsServer => Role::RsClient,
            Role::RsClient => Role::RsServer,
            Role::Peer => Role::Peer,
            Role::Unknown(_) => return None,
        })
    }
}

/// Capability codes.
pub(crate) mod code {
    pub const MP: u8 = 1;
    pub const ROUTE_REFRESH: u8 = 2;
    pub const EXT_NEXT_HOP: u8 = 5;
    pub const EXT_MESSAGE: u8 = 6;
    pub const ROLE: u8 = 9;
    pub const GR: u8 = 64;
    pub const AS4: u8 = 65;
    pub const ADD_PATH: u8 = 69;
    pub const ENHANCED_REFRESH: u8 = 70;
    pub const LLGR: u8 = 71;
    pub const HOSTNAME: u8 = 73;
}

/// The capabilities of an OPEN (RFC 5492). Unknown ones are kept as `(code, value)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Capabilities {
    /// Multiprotocol families (RFC 4760), in received order.
    pub multiprotocol: Vec<AfiSafi>,
    /// Route refresh (RFC 2918).
    pub route_refresh: bool,
    /// Enhanced route refresh (RFC 7313).
    pub enhanced_refresh: bool,
    /// 4-byte ASN support with the speaker's ASN (RFC 6793).
    pub as4: Option<u32>,
    /// Graceful restart (RFC 4724).
    pub graceful_restart: Option<GracefulRestart>,
    /// Long-lived graceful restart (RFC 9494).
    pub llgr: Option<Vec<LlgrFamily>>,
    /// ADD-PATH per family (RFC 7911).
    pub add_path: Vec<(AfiSafi, AddPathMode)>,
    /// Extended next hop tuples (RFC 8950).
    pub ext_next_hop: Vec<ExtNextHop>,
    /// Extended messages (RFC 8654).
    pub ext_message: bool,
    /// BGP role (RFC 9234).
    pub role: Option<Role>,
    /// Hostname (FQDN capability).
    pub hostname: Option<Hostname>,
    /// Capabilities this codec does not interpret, as `(code, value)`.
    pub unknown: Vec<(u8, Vec<u8>)>,
}

impl Capabilities {
    /// The ADD-PATH mode advertised for `af`.
    pub fn add_path_mode(&self, af: AfiSafi) -> Option<AddPathMode> {
        self.add_path.iter().find(|(a, _)| *a == af).map(|(_, m)| *m)
    }

    /// Whether an IPv6 next hop for NLRI of `af` was advertised (RFC 8950).
    pub fn ext_next_hop_for(&self, af: AfiSafi) -> bool {
        self.ext_next_hop.iter().any(|e| e.afi_safi == af && e.nh_afi == 2)
    }

    fn decode_one(&mut self, code: u8, v: &[u8]) -> Result<(), WireError> {
        let bad = |what: &str| {
            WireError::new(
                Notification::new(2, 0, Vec::new()),
                format!("Invalid {what} capability (length {})", v.len()),
            )
        };
        let mut r = Reader::new(v);
        match code {
            code::MP => {
                if v.len() != 4 {
                    return Err(bad("multiprotocol"));
                }
                let af = AfiSafi::new(u16::from_be_bytes([v[0], v[1]]), v[3]);
                if !self.multiprotocol.contains(&af) {
                    self.multiprotocol.push(af);
                }
            }
            code::ROUTE_REFRESH if v.is_empty() => self.route_refresh = true,
            code::ROUTE_REFRESH => return Err(bad("route refresh")),
            code::ENHANCED_REFRESH if v.is_empty() => self.enhanced_refresh = true,
            code::ENHANCED_REFRESH => return Err(bad("enhanced route refresh")),
            code::EXT_MESSAGE if v.is_empty() => self.ext_message = true,
            code::EXT_MESSAGE => return Err(bad("extended message")),
            code::AS4 => {
                if v.len() != 4 {
                    return Err(bad("4-octet AS"));
                }
                self.as4 = Some(u32::from_be_bytes([v[0], v[1], v[2], v[3]]));
            }
            code::ROLE => {
                if v.len() != 1 {
                    return Err(bad("role"));
                }
                let role = Role::from_code(v[0]);
                if let Some(old) = self.role {
                    if old != role {
                        return Err(WireError::new(
                            Notification::new(2, 11, Vec::new()),
                            "Conflicting role capabilities".into(),
                        ));
                    }
                }
                self.role = Some(role);
            }
            code::GR => {
                if v.len() < 2 || !(v.len() - 2).is_multiple_of(4) {
                    return Err(bad("graceful restart"));
                }
                let hdr = u16::from_be_bytes([v[0], v[1]]);
                let mut gr = GracefulRestart {
                    restarting: hdr & 0x8000 != 0,
                    notification: hdr & 0x4000 != 0,
                    restart_time: hdr & 0x0fff,
                    families: Vec::new(),
                };
                for c in v[2..].chunks_exact(4) {
                    gr.families.push(GrFamily {
                        afi_safi: AfiSafi::new(u16::from_be_bytes([c[0], c[1]]), c[2]),
                        forwarding: c[3] & 0x80 != 0,
                    });
                }
                self.graceful_restart = Some(gr);
            }
            code::LLGR => {
                if !v.len().is_multiple_of(7) {
                    return Err(bad("long-lived graceful restart"));
                }
                let list = v
                    .chunks_exact(7)
                    .map(|c| LlgrFamily {
                        afi_safi: AfiSafi::new(u16::from_be_bytes([c[0], c[1]]), c[2]),
                        forwarding: c[3] & 0x80 != 0,
                        stale_time: u32::from_be_bytes([0, c[4], c[5], c[6]]),
                    })
                    .collect();
                self.llgr = Some(list);
            }
            code::ADD_PATH => {
                if !v.len().is_multiple_of(4) {
                    return Err(bad("ADD-PATH"));
                }
                for c in v.chunks_exact(4) {
                    let af = AfiSafi::new(u16::from_be_bytes([c[0], c[1]]), c[2]);
                    let Some(mode) = AddPathMode::from_code(c[3]) else {
                        return Err(bad("ADD-PATH"));
                    };
                    self.add_path.retain(|(a, _)| *a != af);
                    self.add_path.push((af, mode));
                }
            }
            code::EXT_NEXT_HOP => {
                if !v.len().is_multiple_of(6) {
                    return Err(bad("extended next hop"));
                }
                for c in v.chunks_exact(6) {
                    let safi = u16::from_be_bytes([c[2], c[3]]);
                    let Ok(safi) = u8::try_from(safi) else {
                        continue;
                    };
                    let e = ExtNextHop {
                        afi_safi: AfiSafi::new(u16::from_be_bytes([c[0], c[1]]), safi),
                        nh_afi: u16::from_be_bytes([c[4], c[5]]),
                    };
                    if !self.ext_next_hop.contains(&e) {
                        self.ext_next_hop.push(e);
                    }
                }
            }
            code::HOSTNAME => {
                let hl = r.u8().ok_or_else(|| bad("hostname"))?;
                let host = r.take(usize::from(hl)).ok_or_else(|| bad("hostname"))?;
                // The domain part is optional in practice (some speakers omit it).
                let domain = match r.u8() {
                    Some(dl) => r.take(usize::from(dl)).ok_or_else(|| bad("hostname"))?,
                    None => &[],
                };
                self.hostname = Some(Hostname {
                    host: String::from_utf8_lossy(host).into_owned(),
                    domain: String::from_utf8_lossy(domain).into_owned(),
                });
            }
            _ => self.unknown.push((code, v.to_vec())),
        }
        Ok(())
    }

    /// Encode the capabilities as a sequence of `(code, length, value)` (the value of one capability
    /// optional parameter).
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(64);
        let mut cap = |code: u8, v: &[u8]| -> Result<(), EncodeError> {
            let l = u8::try_from(v.len()).map_err(|_| EncodeError::Field("capability too long"))?;
            out.push(code);
            out.push(l);
            out.extend_from_slice(v);
            Ok(())
        };
        for af in &self.multiprotocol {
            let a = af.afi.to_be_bytes();
            cap(code::MP, &[a[0], a[1], 0, af.safi])?;
        }
        if self.route_refresh {
            cap(code::ROUTE_REFRESH, &[])?;
        }
        if !self.ext_next_hop.is_empty() {
            let mut v = Vec::new();
            for e in &self.ext_next_hop {
                v.extend_from_slice(&e.afi_safi.afi.to_be_bytes());
                v.extend_from_slice(&u16::from(e.afi_safi.safi).to_be_bytes());
                v.extend_from_slice(&e.nh_afi.to_be_bytes());
            }
            cap(code::EXT_NEXT_HOP, &v)?;
        }
        if self.ext_message {
            cap(code::EXT_MESSAGE, &[])?;
        }
        if let Some(role) = self.role {
            cap(code::ROLE, &[role.code()])?;
        }
        if let Some(gr) = &self.graceful_restart {
            let mut hdr = gr.restart_time & 0x0fff;
            if gr.restarting {
                hdr |= 0x8000;
            }
            if gr.notification {
                hdr |= 0x4000;
            }
            let mut v = hdr.to_be_bytes().to_vec();
            for f in &gr.families {
                v.extend_from_slice(&f.afi_safi.afi.to_be_bytes());
                v.push(f.afi_safi.safi);
                v.push(if f.forwarding { 0x80 } else { 0 });
            }
            cap(code::GR, &v)?;
        }
        if let Some(asn) = self.as4 {
            cap(code::AS4, &asn.to_be_bytes())?;
        }
        if !self.add_path.is_empty() {
            let mut v = Vec::new();
            for (af, m) in &self.add_path {
                v.extend_from_slice(&af.afi.to_be_bytes());
                v.push(af.safi);
                v.push(m.code());
            }
            cap(code::ADD_PATH, &v)?;
        }
        if self.enhanced_refresh {
            cap(code::ENHANCED_REFRESH, &[])?;
        }
        if let Some(ll) = &self.llgr {
            let mut v = Vec::new();
            for f in ll {
                v.extend_from_slice(&f.afi_safi.afi.to_be_bytes());
                v.push(f.afi_safi.safi);
                v.push(if f.forwarding { 0x80 } else { 0 });
                v.extend_from_slice(&f.stale_time.min(0x00ff_ffff).to_be_bytes()[1..]);
            }
            cap(code::LLGR, &v)?;
        }
        if let Some(h) = &self.hostname {
            let host = &h.host.as_bytes()[..h.host.len().min(255)];
            let dom = &h.domain.as_bytes()[..h.domain.len().min(255)];
            let mut v = vec![host.len() as u8];
            v.extend_from_slice(host);
            v.push(dom.len() as u8);
            v.extend_from_slice(dom);
            cap(code::HOSTNAME, &v)?;
        }
        for (c, v) in &self.unknown {
            cap(*c, v)?;
        }
        Ok(out)
    }
}

/// An OPEN message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Open {
    /// BGP version (4).
    pub version: u8,
    /// The sender's ASN: from the 4-byte ASN capability if present, else the My AS field.
    pub asn: u32,
    /// The 2-byte My AS field as sent (`AS_TRANS` for 4-byte ASNs).
    pub my_as: u16,
    /// Proposed hold time in seconds.
    pub hold_time: u16,
    /// BGP identifier.
    pub router_id: Ipv4Addr,
    /// Capabilities.
    pub caps: Capabilities,
}

impl Open {
    /// An OPEN for `asn` (My AS is `AS_TRANS` when the ASN needs 4 bytes; the 4-byte ASN capability is
    /// set from `asn` when `caps.as4` is `Some`).
    pub fn new(asn: u32, hold_time: u16, router_id: Ipv4Addr, mut caps: Capabilities) -> Open {
        if caps.as4.is_some() {
            caps.as4 = Some(asn);
        }
        let my_as = u16::try_from(asn).unwrap_or(AS_TRANS);
        Open { version: BGP_VERSION, asn, my_as, hold_time, router_id, caps }
    }

    /// Decode an OPEN body.
    pub fn decode(body: &[u8]) -> Result<Open, WireError> {
        let inv = |why: &str| WireError::new(Notification::new(2, 0, Vec::new()), why.to_string());
        let mut r = Reader::new(body);
        let version = r.u8().ok_or_else(|| inv("truncated OPEN"))?;
        if version != BGP_VERSION {
            return Err(WireError::new(
                Notification::new(2, 1, u16::from(BGP_VERSION).to_be_bytes().to_vec()),
                format!("Unsupported version number {version}"),
            ));
        }
        let my_as = r.u16().ok_or_else(|| inv("truncated OPEN"))?;
        let hold_time = r.u16().ok_or_else(|| inv("truncated OPEN"))?;
        let id = r.u32().ok_or_else(|| inv("truncated OPEN"))?;
        let mut plen = usize::from(r.u8().ok_or_else(|| inv("truncated OPEN"))?);
        if hold_time == 1 || hold_time == 2 {
            return Err(WireError::new(
                Notification::new(2, 6, Vec::new()),
                format!("Unacceptable hold time {hold_time}"),
            ));
        }
        if id == 0 {
            return Err(WireError::new(
                Notification::new(2, 3, Vec::new()),
                "Bad BGP identifier 0.0.0.0".into(),
            ));
        }
        // RFC 9072: extended optional parameters.
        let ext = plen == 255 && r.buf.first() == Some(&255);
        if ext {
            r.u8();
            plen = usize::from(r.u16().ok_or_else(|| inv("truncated extended parameters"))?);
        }
        if plen != r.len() {
            return Err(inv("Invalid optional parameters length"));
        }
        let mut caps = Capabilities::default();
        while !r.is_empty() {
            let ty = r.u8().ok_or_else(|| inv("truncated parameter"))?;
            let l = if ext { r.u16() } else { r.u8().map(u16::from) };
            let l = l.ok_or_else(|| inv("truncated parameter"))?;
            let v = r.take(usize::from(l)).ok_or_else(|| inv("truncated parameter"))?;
            if ty != 2 {
                return Err(WireError::new(
                    Notification::new(2, 4, Vec::new()),
                    format!("Unsupported optional parameter {ty}"),
                ));
            }
            let mut c = Reader::new(v);
            while !c.is_empty() {
                let code = c.u8().ok_or_else(|| inv("truncated capability"))?;
                let cl = c.u8().ok_or_else(|| inv("truncated capability"))?;
                let cv = c.take(usize::from(cl)).ok_or_else(|| inv("truncated capability"))?;
                caps.decode_one(code, cv)?;
            }
        }
        let asn = caps.as4.unwrap_or(u32::from(my_as));
        Ok(Open { version, asn, my_as, hold_time, router_id: Ipv4Addr::from(id), caps })
    }

    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.version);
        out.extend_from_slice(&self.my_as.to_be_bytes());
        out.extend_from_slice(&self.hold_time.to_be_bytes());
        out.extend_from_slice(&self.router_id.octets());
        let caps = self.caps.encode()?;
        if caps.is_empty() {
            out.push(0);
        } else if caps.len() + 2 <= 255 {
            out.push((caps.len() + 2) as u8);
            out.push(2);
            out.push(caps.len() as u8);
            out.extend_from_slice(&caps);
        } else {
            // RFC 9072: one capabilities parameter with a 2-byte length.
            let total = u16::try_from(caps.len() + 3).map_err(|_| EncodeError::Field("OPEN too long"))?;
            out.extend_from_slice(&[255, 255]);
            out.extend_from_slice(&total.to_be_bytes());
            out.push(2);
            out.extend_from_slice(&(caps.len() as u16).to_be_bytes());
            out.extend_from_slice(&caps);
        }
        Ok(())
    }
}
