//! UPDATE messages (RFC 4271 §4.3, RFC 4760, RFC 7911, RFC 8950), End-of-RIB (RFC 4724 §2) and the
//! packing encoder.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use birdnet::Net;
use birdtable::attrs::registry::BAF_EXT_LEN;
use birdtable::attrs::{AttrError, AttrId, AttrSet, AttrValue, Dest, EAttr, RouteSource};

use super::attrs::{code, decode_attrs, encode_attrs, AttrIssue, Severity};
use super::nlri::{decode_prefixes, encode_prefix, prefix_wire_len};
use super::{finish_header, AfiSafi, EncodeError, MessageType, Reader, SessionCtx, WireError, HEADER_LEN};

/// One announced or withdrawn prefix with its ADD-PATH path id (0 without ADD-PATH).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nlri {
    /// The prefix.
    pub net: Net,
    /// The path id (RFC 7911); 0 when the family does not use ADD-PATH.
    pub path_id: u32,
}

impl Nlri {
    /// A prefix without path id.
    pub fn new(net: Net) -> Nlri {
        Nlri { net, path_id: 0 }
    }
}

/// The next hop of MP_REACH_NLRI: one address, or an IPv6 global address with a link-local one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MpNextHop {
    /// The (global) next hop.
    pub global: IpAddr,
    /// The IPv6 link-local next hop (32-byte form).
    pub link_local: Option<Ipv6Addr>,
}

impl MpNextHop {
    /// The next hop as birdtable's `bgp_next_hop` value.
    pub fn to_value(self) -> AttrValue {
        match self.link_local {
            Some(ll) => AttrValue::IpPair(Box::new([self.global, IpAddr::V6(ll)])),
            None => AttrValue::Ip(self.global),
        }
    }

    /// The next hop held by a `bgp_next_hop` value.
    pub fn from_value(v: &AttrValue) -> Option<MpNextHop> {
        match v {
            AttrValue::Ip(a) => Some(MpNextHop { global: *a, link_local: None }),
            AttrValue::IpPair(p) => match p[1] {
                IpAddr::V6(ll) => Some(MpNextHop { global: p[0], link_local: Some(ll) }),
                IpAddr::V4(_) => Some(MpNextHop { global: p[0], link_local: None }),
            },
            _ => None,
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self.global {
            IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
            IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
        }
        if let Some(ll) = self.link_local {
            out.extend_from_slice(&ll.octets());
        }
    }

    fn wire_len(&self) -> usize {
        let g = if self.global.is_ipv4() { 4 } else { 16 };
        g + if self.link_local.is_some() { 16 } else { 0 }
    }
}

/// MP_REACH_NLRI (RFC 4760 §3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MpReach {
    /// The family.
    pub afi_safi: AfiSafi,
    /// The next hop; `None` when the received one was malformed (the UPDATE is then treated as a
    /// withdrawal).
    pub next_hop: Option<MpNextHop>,
    /// The announced prefixes.
    pub nlri: Vec<Nlri>,
}

/// MP_UNREACH_NLRI (RFC 4760 §4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MpUnreach {
    /// The family.
    pub afi_safi: AfiSafi,
    /// The withdrawn prefixes.
    pub nlri: Vec<Nlri>,
}

/// An UPDATE as on the wire, with the path attributes in birdtable's model.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Update {
    /// Withdrawn Routes (IPv4 unicast).
    pub withdrawn: Vec<Nlri>,
    /// Path attributes (see [`AttrOutcome::attrs`](super::AttrOutcome::attrs)).
    pub attrs: Vec<EAttr>,
    /// NEXT_HOP (for [`Update::nlri`]).
    pub next_hop: Option<Ipv4Addr>,
    /// MP_REACH_NLRI.
    pub mp_reach: Option<MpReach>,
    /// MP_UNREACH_NLRI.
    pub mp_unreach: Option<MpUnreach>,
    /// NLRI (IPv4 unicast).
    pub nlri: Vec<Nlri>,
}

/// A decoded UPDATE with the RFC 7606 findings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateDecoded {
    /// The message.
    pub update: Update,
    /// Discarded attributes and reasons for treat-as-withdraw, for logs.
    pub issues: Vec<AttrIssue>,
}

/// What one UPDATE means for one family: the routing glue's view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyUpdate {
    /// The family.
    pub afi_safi: AfiSafi,
    /// Prefixes to withdraw (including announcements treated as withdrawals).
    pub withdrawn: Vec<Nlri>,
    /// Prefixes announced with `attrs`.
    pub announced: Vec<Nlri>,
    /// The attributes of the announced prefixes, `bgp_next_hop` included, sorted by id.
    pub attrs: Vec<EAttr>,
}

impl FamilyUpdate {
    /// The attributes as an [`AttrSet`] of a BGP route with the given destination and neighbour
    /// address, ready to intern.
    pub fn attr_set(&self, dest: Dest, from: Option<IpAddr>) -> Result<AttrSet, AttrError> {
        let mut s = AttrSet::new(RouteSource::Bgp, dest);
        s.from = from;
        s.set_all(self.attrs.clone())?;
        Ok(s)
    }
}

fn with_next_hop(attrs: &[EAttr], nh: AttrValue) -> Vec<EAttr> {
    let mut v = Vec::with_capacity(attrs.len() + 1);
    let pos = attrs.partition_point(|e| e.id < AttrId::BGP_NEXT_HOP);
    v.extend_from_slice(&attrs[..pos]);
    v.push(EAttr { id: AttrId::BGP_NEXT_HOP, flags: 0x40, value: nh });
    v.extend(attrs[pos..].iter().filter(|e| e.id != AttrId::BGP_NEXT_HOP).cloned());
    v
}

impl UpdateDecoded {
    /// Whether RFC 7606 requires treating every announcement of this UPDATE as a withdrawal.
    pub fn treat_as_withdraw(&self) -> bool {
        self.issues.iter().any(|i| i.severity == Severity::Withdraw)
    }

    /// The UPDATE split per family, with treat-as-withdraw applied. A family appears once, except
    /// IPv4 unicast announced both in the NLRI field and in MP_REACH_NLRI (two next hops): then the
    /// second entry holds the MP_REACH_NLRI routes.
    pub fn families(&self) -> Vec<FamilyUpdate> {
        let u = &self.update;
        let tw = self.treat_as_withdraw();
        let mut out: Vec<FamilyUpdate> = Vec::with_capacity(1);
        fn entry(out: &mut Vec<FamilyUpdate>, af: AfiSafi) -> usize {
            if let Some(i) = out.iter().position(|f| f.afi_safi == af) {
                return i;
            }
            out.push(FamilyUpdate {
                afi_safi: af,
                withdrawn: Vec::new(),
                announced: Vec::new(),
                attrs: Vec::new(),
            });
            out.len() - 1
        }
        if !u.withdrawn.is_empty() || !u.nlri.is_empty() {
            let i = entry(&mut out, AfiSafi::IPV4_UNICAST);
            out[i].withdrawn.extend_from_slice(&u.withdrawn);
            if tw {
                out[i].withdrawn.extend_from_slice(&u.nlri);
            } else if !u.nlri.is_empty() {
                out[i].announced.extend_from_slice(&u.nlri);
                let nh = u
                    .next_hop
                    .map_or(AttrValue::Ip(IpAddr::V4(Ipv4Addr::UNSPECIFIED)), |a| AttrValue::Ip(a.into()));
                out[i].attrs = with_next_hop(&u.attrs, nh);
            }
        }
        if let Some(m) = &u.mp_unreach {
            if !m.nlri.is_empty() {
                let i = entry(&mut out, m.afi_safi);
                out[i].withdrawn.extend_from_slice(&m.nlri);
            }
        }
        if let Some(m) = &u.mp_reach {
            if !m.nlri.is_empty() {
                let mut i = entry(&mut out, m.afi_safi);
                match (tw, m.next_hop) {
                    (false, Some(nh)) => {
                        if !out[i].announced.is_empty() {
                            // IPv4 unicast both in NLRI and in MP_REACH_NLRI, with two next hops.
                            out.push(FamilyUpdate {
                                afi_safi: m.afi_safi,
                                withdrawn: Vec::new(),
                                announced: Vec::new(),
                                attrs: Vec::new(),
                            });
                            i = out.len() - 1;
                        }
                        out[i].announced.extend_from_slice(&m.nlri);
                        out[i].attrs = with_next_hop(&u.attrs, nh.to_value());
                    }
                    _ => out[i].withdrawn.extend_from_slice(&m.nlri),
                }
            }
        }
        out
    }
}

impl Update {
    /// The End-of-RIB marker of a family (RFC 4724 §2): an empty UPDATE for IPv4 unicast, an empty
    /// MP_UNREACH_NLRI otherwise.
    pub fn end_of_rib(af: AfiSafi) -> Update {
        if af == AfiSafi::IPV4_UNICAST {
            Update::default()
        } else {
            Update { mp_unreach: Some(MpUnreach { afi_safi: af, nlri: Vec::new() }), ..Update::default() }
        }
    }

    /// The family whose End-of-RIB this UPDATE is, if it is one.
    pub fn is_end_of_rib(&self) -> Option<AfiSafi> {
        let bare = self.withdrawn.is_empty() && self.nlri.is_empty() && self.mp_reach.is_none();
        if !bare || !self.attrs.is_empty() || self.next_hop.is_some() {
            return None;
        }
        match &self.mp_unreach {
            None => Some(AfiSafi::IPV4_UNICAST),
            Some(m) if m.nlri.is_empty() => Some(m.afi_safi),
            Some(_) => None,
        }
    }

    /// Decode an UPDATE body (RFC 7606 error handling, see [`decode_attrs`]).
    pub fn decode(body: &[u8], ctx: &SessionCtx) -> Result<UpdateDecoded, WireError> {
        let mut r = Reader::new(body);
        let wl = usize::from(r.u16().ok_or_else(|| WireError::update(1, "Truncated UPDATE"))?);
        let wbuf =
            r.take(wl).ok_or_else(|| WireError::update(1, "Withdrawn routes length exceeds the message"))?;
        let al = usize::from(r.u16().ok_or_else(|| WireError::update(1, "Truncated UPDATE"))?);
        let abuf = r
            .take(al)
            .ok_or_else(|| WireError::update(1, "Total path attribute length exceeds the message"))?;
        let v4 = AfiSafi::IPV4_UNICAST;
        let mut withdrawn = Vec::new();
        decode_prefixes(wbuf, false, ctx.rx_path_id(v4), &mut withdrawn)
            .map_err(|e| WireError::update(10, format!("Invalid withdrawn routes: {e}")))?;
        let mut nlri = Vec::new();
        decode_prefixes(r.buf, false, ctx.rx_path_id(v4), &mut nlri)
            .map_err(|e| WireError::update(10, format!("Invalid NLRI: {e}")))?;
        let a = decode_attrs(abuf, ctx, !nlri.is_empty())?;
        Ok(UpdateDecoded {
            update: Update {
                withdrawn,
                attrs: a.attrs,
                next_hop: a.next_hop,
                mp_reach: a.mp_reach,
                mp_unreach: a.mp_unreach,
                nlri,
            },
            issues: a.issues,
        })
    }

    /// Encode as one message (header included); fails when it exceeds the session's maximum.
    pub fn encode(&self, ctx: &SessionCtx) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&[0xff; 16]);
        out.extend_from_slice(&[0, 0, MessageType::Update as u8]);
        self.encode_body(ctx, &mut out)?;
        finish_header(&mut out, ctx.max_len())?;
        Ok(out)
    }

    pub(crate) fn encode_body(&self, ctx: &SessionCtx, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let v4 = AfiSafi::IPV4_UNICAST;
        let wpos = out.len();
        out.extend_from_slice(&[0, 0]);
        for n in &self.withdrawn {
            encode_prefix(out, n, ctx.tx_path_id(v4));
        }
        let wl = out.len() - wpos - 2;
        put_len(out, wpos, wl)?;
        let apos = out.len();
        out.extend_from_slice(&[0, 0]);
        if let Some(m) = &self.mp_reach {
            let nh = m.next_hop.ok_or(EncodeError::Field("MP_REACH_NLRI without next hop"))?;
            let mut v = Vec::with_capacity(32);
            v.extend_from_slice(&m.afi_safi.afi.to_be_bytes());
            v.push(m.afi_safi.safi);
            v.push(nh.wire_len() as u8);
            nh.encode(&mut v);
            v.push(0);
            for n in &m.nlri {
                encode_prefix(&mut v, n, ctx.tx_path_id(m.afi_safi));
            }
            put_mp(out, code::MP_REACH, &v)?;
        }
        if let Some(m) = &self.mp_unreach {
            let mut v = Vec::with_capacity(16);
            v.extend_from_slice(&m.afi_safi.afi.to_be_bytes());
            v.push(m.afi_safi.safi);
            for n in &m.nlri {
                encode_prefix(&mut v, n, ctx.tx_path_id(m.afi_safi));
            }
            put_mp(out, code::MP_UNREACH, &v)?;
        }
        encode_attrs(&self.attrs, self.next_hop, ctx, out)?;
        let al = out.len() - apos - 2;
        put_len(out, apos, al)?;
        for n in &self.nlri {
            encode_prefix(out, n, ctx.tx_path_id(v4));
        }
        Ok(())
    }
}

fn put_len(out: &mut [u8], pos: usize, len: usize) -> Result<(), EncodeError> {
    let l = u16::try_from(len).map_err(|_| EncodeError::Field("field longer than 65535 bytes"))?;
    out[pos..pos + 2].copy_from_slice(&l.to_be_bytes());
    Ok(())
}

fn put_mp(out: &mut Vec<u8>, c: u8, v: &[u8]) -> Result<(), EncodeError> {
    if v.len() > 255 {
        let l = u16::try_from(v.len()).map_err(|_| EncodeError::Field("MP attribute too long"))?;
        out.extend_from_slice(&[0x80 | BAF_EXT_LEN, c]);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        out.extend_from_slice(&[0x80, c, v.len() as u8]);
    }
    out.extend_from_slice(v);
    Ok(())
}

/// Packs announcements that share attributes, and withdrawals, into as few UPDATEs as fit the
/// session's maximum message length.
///
/// IPv4 unicast with an IPv4 next hop goes in the classic NLRI and Withdrawn Routes fields; every
/// other family (and IPv4 with an IPv6 next hop, RFC 8950) in MP_REACH_NLRI / MP_UNREACH_NLRI.
#[derive(Debug, Clone, Copy)]
pub struct UpdatePacker<'a> {
    ctx: &'a SessionCtx,
}

impl<'a> UpdatePacker<'a> {
    /// A packer for a session.
    pub fn new(ctx: &'a SessionCtx) -> UpdatePacker<'a> {
        UpdatePacker { ctx }
    }

    /// Announce `nets` of family `af` with `attrs` (birdtable attributes, `bgp_next_hop` included),
    /// appending the messages to `out`. Returns the number of messages.
    pub fn announce(
        &self,
        af: AfiSafi,
        attrs: &[EAttr],
        nets: &[Nlri],
        out: &mut Vec<Vec<u8>>,
    ) -> Result<usize, EncodeError> {
        if nets.is_empty() {
            return Ok(0);
        }
        let nh = attrs
            .iter()
            .find(|e| e.id == AttrId::BGP_NEXT_HOP)
            .and_then(|e| MpNextHop::from_value(&e.value))
            .ok_or(EncodeError::Field("no usable bgp_next_hop"))?;
        let classic = match nh.global {
            IpAddr::V4(a) if af == AfiSafi::IPV4_UNICAST => Some(a),
            _ => None,
        };
        if af.afi == 1 && nh.global.is_ipv6() && !self.ctx.ext_next_hop_tx.contains(&af) {
            return Err(EncodeError::Field("IPv6 next hop for IPv4 NLRI without extended next hop"));
        }
        let mut abuf = Vec::with_capacity(128);
        encode_attrs(attrs, classic, self.ctx, &mut abuf)?;
        let path_id = self.ctx.tx_path_id(af);
        let max = self.ctx.max_len();
        // Header, withdrawn length, attribute length, attributes; MP_REACH header with extended
        // length, AFI, SAFI, next hop length, next hop, reserved.
        let mp_over = if classic.is_some() { 0 } else { 4 + 3 + 1 + nh.wire_len() + 1 };
        let fixed = HEADER_LEN + 2 + 2 + abuf.len() + mp_over;
        let mut n0 = out.len();
        let mut rest = nets;
        while !rest.is_empty() {
            let mut room = max.saturating_sub(fixed);
            let mut take = 0;
            let mut nbuf = Vec::with_capacity(room.min(4096));
            for n in rest {
                let l = prefix_wire_len(&n.net, path_id);
                if l > room {
                    break;
                }
                room -= l;
                encode_prefix(&mut nbuf, n, path_id);
                take += 1;
            }
            if take == 0 {
                return Err(EncodeError::TooLong {
                    len: fixed + prefix_wire_len(&rest[0].net, path_id),
                    max,
                });
            }
            rest = &rest[take..];
            let mut m = Vec::with_capacity(fixed + nbuf.len());
            m.extend_from_slice(&[0xff; 16]);
            m.extend_from_slice(&[0, 0, MessageType::Update as u8, 0, 0, 0, 0]);
            if classic.is_none() {
                let mut v = Vec::with_capacity(mp_over + nbuf.len());
                v.extend_from_slice(&af.afi.to_be_bytes());
                v.push(af.safi);
                v.push(nh.wire_len() as u8);
                nh.encode(&mut v);
                v.push(0);
                v.extend_from_slice(&nbuf);
                put_mp(&mut m, code::MP_REACH, &v)?;
            }
            m.extend_from_slice(&abuf);
            let al = m.len() - HEADER_LEN - 4;
            put_len(&mut m, HEADER_LEN + 2, al)?;
            if classic.is_some() {
                m.extend_from_slice(&nbuf);
            }
            finish_header(&mut m, max)?;
            out.push(m);
        }
        n0 = out.len() - n0;
        Ok(n0)
    }

    /// Withdraw `nets` of family `af`, appending the messages to `out`. Returns the number of messages.
    pub fn withdraw(&self, af: AfiSafi, nets: &[Nlri], out: &mut Vec<Vec<u8>>) -> Result<usize, EncodeError> {
        let path_id = self.ctx.tx_path_id(af);
        let max = self.ctx.max_len();
        let classic = af == AfiSafi::IPV4_UNICAST;
        let fixed = HEADER_LEN + 4 + if classic { 0 } else { 4 + 3 };
        let n0 = out.len();
        let mut rest = nets;
        while !rest.is_empty() {
            let mut room = max - fixed;
            let mut nbuf = Vec::with_capacity(room.min(4096));
            let mut take = 0;
            for n in rest {
                let l = prefix_wire_len(&n.net, path_id);
                if l > room {
                    break;
                }
                room -= l;
                encode_prefix(&mut nbuf, n, path_id);
                take += 1;
            }
            rest = &rest[take..];
            let mut m = Vec::with_capacity(fixed + nbuf.len());
            m.extend_from_slice(&[0xff; 16]);
            m.extend_from_slice(&[0, 0, MessageType::Update as u8]);
            if classic {
                m.extend_from_slice(&(nbuf.len() as u16).to_be_bytes());
                m.extend_from_slice(&nbuf);
                m.extend_from_slice(&[0, 0]);
            } else {
                m.extend_from_slice(&[0, 0, 0, 0]);
                let mut v = Vec::with_capacity(3 + nbuf.len());
                v.extend_from_slice(&af.afi.to_be_bytes());
                v.push(af.safi);
                v.extend_from_slice(&nbuf);
                put_mp(&mut m, code::MP_UNREACH, &v)?;
                let al = m.len() - HEADER_LEN - 4;
                put_len(&mut m, HEADER_LEN + 2, al)?;
            }
            finish_header(&mut m, max)?;
            out.push(m);
        }
        Ok(out.len() - n0)
    }

    /// The End-of-RIB marker of `af`.
    pub fn end_of_rib(&self, af: AfiSafi) -> Vec<u8> {
        // An empty UPDATE or one MP_UNREACH_NLRI with three bytes always fits.
        Update::end_of_rib(af).encode(self.ctx).unwrap_or_default()
    }
}
