//! Path attributes: decoding into birdtable's attribute model with RFC 7606 error handling, and
//! encoding back, including the AS4_PATH/AS4_AGGREGATOR dance with 2-byte peers (RFC 6793 §4.2).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use birdtable::attrs::registry::{BAF_EXT_LEN, BAF_OPTIONAL, BAF_PARTIAL, BAF_TRANSITIVE};
use birdtable::attrs::{
    Aggregator, AsPath, AsPathBuilder, AttrId, AttrValue, Community, EAttr, ExtCommunity, LargeCommunity,
    List, Origin, SegmentKind,
};

use super::nlri::decode_prefixes;
use super::update::{MpNextHop, MpReach, MpUnreach};
use super::{AfiSafi, EncodeError, Reader, SessionCtx, WireError, AS_TRANS};

/// Attribute type codes.
pub(crate) mod code {
    pub const ORIGIN: u8 = 1;
    pub const AS_PATH: u8 = 2;
    pub const NEXT_HOP: u8 = 3;
    pub const MED: u8 = 4;
    pub const LOCAL_PREF: u8 = 5;
    pub const ATOMIC_AGGR: u8 = 6;
    pub const AGGREGATOR: u8 = 7;
    pub const COMMUNITY: u8 = 8;
    pub const ORIGINATOR_ID: u8 = 9;
    pub const CLUSTER_LIST: u8 = 10;
    pub const MP_REACH: u8 = 14;
    pub const MP_UNREACH: u8 = 15;
    pub const EXT_COMMUNITY: u8 = 16;
    pub const AS4_PATH: u8 = 17;
    pub const AS4_AGGREGATOR: u8 = 18;
    pub const LARGE_COMMUNITY: u8 = 32;
    pub const OTC: u8 = 35;
}

const WK: u8 = BAF_TRANSITIVE;
const ON: u8 = BAF_OPTIONAL;
const OT: u8 = BAF_OPTIONAL | BAF_TRANSITIVE;

/// The Optional and Transitive flags a known attribute must carry, `None` for codes this codec does
/// not know.
fn expected_flags(c: u8) -> Option<u8> {
    Some(match c {
        code::ORIGIN | code::AS_PATH | code::NEXT_HOP | code::LOCAL_PREF | code::ATOMIC_AGGR => WK,
        code::MED | code::ORIGINATOR_ID | code::CLUSTER_LIST | code::MP_REACH | code::MP_UNREACH => ON,
        code::AGGREGATOR
        | code::COMMUNITY
        | code::EXT_COMMUNITY
        | code::AS4_PATH
        | code::AS4_AGGREGATOR
        | code::LARGE_COMMUNITY
        | code::OTC => OT,
        _ => return None,
    })
}

/// The attribute name used in error descriptions.
fn attr_name(c: u8) -> String {
    match c {
        code::ORIGIN => "ORIGIN".into(),
        code::AS_PATH => "AS_PATH".into(),
        code::NEXT_HOP => "NEXT_HOP".into(),
        code::MED => "MULTI_EXIT_DISC".into(),
        code::LOCAL_PREF => "LOCAL_PREF".into(),
        code::ATOMIC_AGGR => "ATOMIC_AGGREGATE".into(),
        code::AGGREGATOR => "AGGREGATOR".into(),
        code::COMMUNITY => "COMMUNITY".into(),
        code::ORIGINATOR_ID => "ORIGINATOR_ID".into(),
        code::CLUSTER_LIST => "CLUSTER_LIST".into(),
        code::MP_REACH => "MP_REACH_NLRI".into(),
        code::MP_UNREACH => "MP_UNREACH_NLRI".into(),
        code::EXT_COMMUNITY => "EXT_COMMUNITIES".into(),
        code::AS4_PATH => "AS4_PATH".into(),
        code::AS4_AGGREGATOR => "AS4_AGGREGATOR".into(),
        code::LARGE_COMMUNITY => "LARGE_COMMUNITY".into(),
        code::OTC => "OTC".into(),
        c => format!("attribute {c}"),
    }
}

/// What RFC 7606 says to do about a malformed part of an UPDATE that does not need a session reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// "Attribute discard": drop the attribute, keep the routes.
    Discard,
    /// "Treat-as-withdraw": every route the UPDATE announces is withdrawn instead.
    Withdraw,
}

/// One malformed or ignored attribute, for the log.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrIssue {
    /// The attribute code (0 when the issue is not about one attribute).
    pub code: u8,
    /// What to do.
    pub severity: Severity,
    /// The NOTIFICATION subcode RFC 4271 would have used (3/x).
    pub subcode: u8,
    /// Description for logs.
    pub reason: String,
}

/// The log line: the reason and what is done about it (`Invalid ORIGIN (2 bytes) - withdrawing`).
impl std::fmt::Display for AttrIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.severity {
            Severity::Discard => write!(f, "{} - discarding", self.reason),
            Severity::Withdraw => write!(f, "{} - withdrawing", self.reason),
        }
    }
}

/// The decoded path attributes of one UPDATE.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttrOutcome {
    /// The attributes in birdtable's model, sorted by id, without NEXT_HOP, MP_REACH_NLRI,
    /// MP_UNREACH_NLRI, AS4_PATH and AS4_AGGREGATOR (those are folded in or kept apart).
    pub attrs: Vec<EAttr>,
    /// The NEXT_HOP attribute (for IPv4 NLRI outside MP_REACH_NLRI).
    pub next_hop: Option<Ipv4Addr>,
    /// MP_REACH_NLRI.
    pub mp_reach: Option<MpReach>,
    /// MP_UNREACH_NLRI.
    pub mp_unreach: Option<MpUnreach>,
    /// What was discarded or caused treat-as-withdraw.
    pub issues: Vec<AttrIssue>,
}

impl AttrOutcome {
    /// Whether any issue requires treat-as-withdraw.
    pub fn withdraw(&self) -> bool {
        self.issues.iter().any(|i| i.severity == Severity::Withdraw)
    }

    fn issue(&mut self, c: u8, severity: Severity, subcode: u8, reason: String) {
        self.issues.push(AttrIssue { code: c, severity, subcode, reason });
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Convert a 2-byte AS_PATH to the 4-byte form.
fn path_from_as2(v: &[u8]) -> Option<AsPath> {
    let mut b = AsPathBuilder::new();
    let mut r = Reader::new(v);
    let mut asns = Vec::new();
    while !r.is_empty() {
        let kind = SegmentKind::from_code(r.u8()?)?;
        let n = usize::from(r.u8()?);
        if n == 0 {
            return None;
        }
        let seg = r.take(2 * n)?;
        asns.clear();
        asns.extend(seg.chunks_exact(2).map(|c| u32::from(u16::from_be_bytes([c[0], c[1]]))));
        b.push_segment(kind, &asns);
    }
    Some(b.finish())
}

/// Path length as RFC 6793 §4.2.3 counts it: sequence ASNs 1 each, a set 1, confederation segments 0.
fn as4_count(p: &AsPath) -> u32 {
    p.len()
}

/// Merge AS_PATH (from a 2-byte peer) with AS4_PATH (RFC 6793 §4.2.3).
fn merge_as4(path: &AsPath, as4: &AsPath) -> AsPath {
    let (n2, n4) = (as4_count(path), as4_count(as4));
    if n2 < n4 {
        return path.clone();
    }
    let mut keep = n2 - n4;
    let mut segs: Vec<(SegmentKind, Vec<u32>)> = Vec::new();
    for s in path.segments() {
        if keep == 0 {
            break;
        }
        let asns: Vec<u32> = match s.kind() {
            SegmentKind::Sequence => {
                let v: Vec<u32> = s.asns().take(keep as usize).collect();
                keep -= v.len() as u32;
                v
            }
            SegmentKind::Set => {
                keep -= 1;
                s.asns().collect()
            }
            SegmentKind::ConfedSequence | SegmentKind::ConfedSet => s.asns().collect(),
        };
        segs.push((s.kind(), asns));
    }
    for (i, s) in as4.segments().enumerate() {
        match segs.last_mut() {
            // Join the kept head and the AS4_PATH into one sequence, as the sender had it.
            Some((SegmentKind::Sequence, v)) if i == 0 && s.kind() == SegmentKind::Sequence => {
                v.extend(s.asns());
            }
            _ => segs.push((s.kind(), s.asns().collect())),
        }
    }
    let mut b = AsPathBuilder::new();
    for (k, v) in &segs {
        b.push_segment(*k, v);
    }
    b.finish()
}

/// Whether `a` may be a next hop at all (not unspecified, multicast or broadcast).
fn valid_nh4(a: Ipv4Addr) -> bool {
    !(a.is_unspecified() || a.is_multicast() || a.is_broadcast())
}

fn valid_nh6(a: Ipv6Addr) -> bool {
    !(a.is_unspecified() || a.is_multicast())
}

/// Decode an MP_REACH_NLRI value. `Ok(None)` for a family whose NLRI this codec does not parse.
fn decode_mp_reach(v: &[u8], ctx: &SessionCtx, out: &mut AttrOutcome) -> Result<Option<MpReach>, WireError> {
    let mal = || WireError::update(9, "Malformed MP_REACH_NLRI");
    let mut r = Reader::new(v);
    let afi = r.u16().ok_or_else(mal)?;
    let safi = r.u8().ok_or_else(mal)?;
    let af = AfiSafi::new(afi, safi);
    let nhl = usize::from(r.u8().ok_or_else(mal)?);
    let nh = r.take(nhl).ok_or_else(mal)?;
    r.u8().ok_or_else(mal)?; // reserved
    if !af.is_ip() {
        out.issue(
            code::MP_REACH,
            Severity::Discard,
            9,
            format!("Unsupported AFI/SAFI {afi}/{safi} in MP_REACH_NLRI"),
        );
        return Ok(None);
    }
    let mut nlri = Vec::new();
    decode_prefixes(r.buf, afi == 2, ctx.rx_path_id(af), &mut nlri)
        .map_err(|e| WireError::update(9, format!("Malformed MP_REACH_NLRI: {e}")))?;
    let v6 = |b: &[u8]| {
        let mut a = [0u8; 16];
        a.copy_from_slice(b);
        Ipv6Addr::from(a)
    };
    let next_hop = match (afi, nh.len()) {
        (1, 4) => Some(MpNextHop { global: IpAddr::V4(Ipv4Addr::from(be32(nh))), link_local: None }),
        (_, 16) => Some(MpNextHop { global: IpAddr::V6(v6(nh)), link_local: None }),
        (_, 32) => Some(MpNextHop { global: IpAddr::V6(v6(&nh[..16])), link_local: Some(v6(&nh[16..])) }),
        _ => None,
    };
    let valid = match next_hop {
        Some(MpNextHop { global: IpAddr::V4(a), .. }) => valid_nh4(a),
        Some(MpNextHop { global: IpAddr::V6(a), .. }) => valid_nh6(a),
        None => false,
    };
    if !valid && nlri.is_empty() {
        let why = "Discarding MP_REACH_NLRI with no NLRI and an invalid next hop".to_string();
        out.issue(code::MP_REACH, Severity::Discard, 8, why);
        return Ok(None);
    }
    if !valid {
        out.issue(
            code::MP_REACH,
            Severity::Withdraw,
            8,
            format!("Invalid next hop in MP_REACH_NLRI ({} bytes)", nh.len()),
        );
    }
    Ok(Some(MpReach { afi_safi: af, next_hop: if valid { next_hop } else { None }, nlri }))
}

fn decode_mp_unreach(
    v: &[u8],
    ctx: &SessionCtx,
    out: &mut AttrOutcome,
) -> Result<Option<MpUnreach>, WireError> {
    let mal = || WireError::update(9, "Malformed MP_UNREACH_NLRI");
    let mut r = Reader::new(v);
    let afi = r.u16().ok_or_else(mal)?;
    let safi = r.u8().ok_or_else(mal)?;
    let af = AfiSafi::new(afi, safi);
    if !af.is_ip() {
        out.issue(
            code::MP_UNREACH,
            Severity::Discard,
            9,
            format!("Unsupported AFI/SAFI {afi}/{safi} in MP_UNREACH_NLRI"),
        );
        return Ok(None);
    }
    let mut nlri = Vec::new();
    decode_prefixes(r.buf, afi == 2, ctx.rx_path_id(af), &mut nlri)
        .map_err(|e| WireError::update(9, format!("Malformed MP_UNREACH_NLRI: {e}")))?;
    Ok(Some(MpUnreach { afi_safi: af, nlri }))
}

/// Decode the path attributes field of an UPDATE (RFC 4271 §4.3, RFC 7606).
///
/// `classic_nlri` says whether the UPDATE's NLRI field announces anything (then NEXT_HOP is
/// mandatory). Framing errors, which leave the NLRI unlocatable, and repeated or unparseable
/// MP_REACH_NLRI/MP_UNREACH_NLRI are errors (session reset); everything else is recorded in
/// [`AttrOutcome::issues`] as attribute discard or treat-as-withdraw.
pub fn decode_attrs(buf: &[u8], ctx: &SessionCtx, classic_nlri: bool) -> Result<AttrOutcome, WireError> {
    let mut out = AttrOutcome::default();
    let mut attrs: Vec<EAttr> = Vec::with_capacity(8);
    let mut seen = [0u64; 4];
    let mut as_path: Option<AsPath> = None;
    let mut as4_path: Option<AsPath> = None;
    let mut aggregator: Option<(Aggregator, u8)> = None;
    let mut as4_aggr: Option<Aggregator> = None;
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let flags =
            r.u8().ok_or_else(|| WireError::update(1, "Malformed attribute list: truncated header"))?;
        let c = r.u8().ok_or_else(|| WireError::update(1, "Malformed attribute list: truncated header"))?;
        let len = if flags & BAF_EXT_LEN != 0 { r.u16() } else { r.u8().map(u16::from) };
        let len = len.ok_or_else(|| WireError::update(1, "Malformed attribute list: truncated header"))?;
        let v = r.take(usize::from(len)).ok_or_else(|| {
            WireError::update(
                1,
                format!("Malformed attribute list: {} overruns the attribute field", attr_name(c)),
            )
        })?;
        let name = || attr_name(c);
        // Duplicates: MP attributes reset the session, others keep the first (RFC 7606 §3 g).
        let bit = 1u64 << (c % 64);
        let word = usize::from(c / 64);
        if seen[word] & bit != 0 {
            if c == code::MP_REACH || c == code::MP_UNREACH {
                return Err(WireError::update(1, format!("Malformed attribute list: repeated {}", name())));
            }
            out.issue(c, Severity::Discard, 1, format!("Discarding repeated {}", name()));
            continue;
        }
        seen[word] |= bit;
        // Stored flags are canonical: the defined ones for known attributes (keeping Partial on
        // optional transitive ones), the Optional, Transitive and Partial bits for unknown ones.
        let stored_flags = match expected_flags(c) {
            Some(OT) => OT | (flags & BAF_PARTIAL),
            Some(exp) => exp,
            None => flags & (BAF_OPTIONAL | BAF_TRANSITIVE | BAF_PARTIAL),
        };
        let Some(exp) = expected_flags(c) else {
            // Unknown attribute.
            if flags & BAF_OPTIONAL == 0 {
                out.issue(c, Severity::Withdraw, 2, format!("Unknown well-known attribute {c}"));
            } else if flags & BAF_TRANSITIVE != 0 {
                attrs.push(EAttr {
                    id: AttrId::bgp(c),
                    flags: stored_flags,
                    value: AttrValue::Bytes(v.into()),
                });
            }
            continue;
        };
        if c == code::MP_REACH {
            out.mp_reach = decode_mp_reach(v, ctx, &mut out)?;
            continue;
        }
        if c == code::MP_UNREACH {
            out.mp_unreach = decode_mp_unreach(v, ctx, &mut out)?;
            continue;
        }
        if flags & (BAF_OPTIONAL | BAF_TRANSITIVE) != exp {
            out.issue(c, Severity::Withdraw, 4, format!("Invalid flags 0x{flags:02x} of {}", name()));
            continue;
        }
        let bad_len = |out: &mut AttrOutcome, sev: Severity| {
            out.issue(c, sev, 5, format!("Invalid length {len} of {}", name()));
        };
        let mut push = |value: AttrValue| {
            attrs.push(EAttr { id: AttrId::bgp(c), flags: stored_flags, value });
        };
        match c {
            code::ORIGIN => match (v.len(), v.first().and_then(|&o| Origin::from_code(o))) {
                (1, Some(o)) => push(AttrValue::Origin(o)),
                _ => out.issue(c, Severity::Withdraw, 6, format!("Invalid ORIGIN ({} bytes)", v.len())),
            },
            code::AS_PATH => {
                let p = if ctx.as4 { AsPath::from_wire(v).ok() } else { path_from_as2(v) };
                match p {
                    Some(p) if !ctx.internal && p.segments().any(|s| s.kind().is_confed()) => out.issue(
                        c,
                        Severity::Withdraw,
                        11,
                        "Confederation segments in AS_PATH from an external peer".into(),
                    ),
                    Some(p) => as_path = Some(p),
                    None => out.issue(c, Severity::Withdraw, 11, "Malformed AS_PATH".into()),
                }
            }
            code::NEXT_HOP => {
                if v.len() != 4 {
                    bad_len(&mut out, Severity::Withdraw);
                } else {
                    let a = Ipv4Addr::from(be32(v));
                    if valid_nh4(a) {
                        out.next_hop = Some(a);
                    } else {
                        out.issue(c, Severity::Withdraw, 8, format!("Invalid NEXT_HOP {a}"));
                    }
                }
            }
            code::MED | code::OTC => {
                if v.len() == 4 {
                    push(AttrValue::Int(be32(v)));
                } else {
                    bad_len(&mut out, Severity::Withdraw);
                }
            }
            code::LOCAL_PREF => {
                if !ctx.internal {
                    out.issue(c, Severity::Discard, 0, "Discarding LOCAL_PREF from an external peer".into());
                } else if v.len() == 4 {
                    push(AttrValue::Int(be32(v)));
                } else {
                    bad_len(&mut out, Severity::Withdraw);
                }
            }
            code::ATOMIC_AGGR => {
                if v.is_empty() {
                    push(AttrValue::Flag);
                } else {
                    bad_len(&mut out, Severity::Discard);
                }
            }
            code::AGGREGATOR => {
                let (asn, id) = match (ctx.as4, v.len()) {
                    (true, 8) => (be32(v), be32(&v[4..])),
                    (false, 6) => (u32::from(u16::from_be_bytes([v[0], v[1]])), be32(&v[2..])),
                    _ => {
                        bad_len(&mut out, Severity::Discard);
                        continue;
                    }
                };
                aggregator = Some((Aggregator { asn, id: Ipv4Addr::from(id) }, stored_flags));
            }
            code::COMMUNITY => {
                if v.is_empty() || !v.len().is_multiple_of(4) {
                    bad_len(&mut out, Severity::Withdraw);
                } else {
                    push(AttrValue::Clist(List::from_values(v.chunks_exact(4).map(|b| Community(be32(b))))));
                }
            }
            code::ORIGINATOR_ID => {
                if !ctx.internal {
                    out.issue(
                        c,
                        Severity::Discard,
                        0,
                        "Discarding ORIGINATOR_ID from an external peer".into(),
                    );
                } else if v.len() == 4 {
                    push(AttrValue::Quad(be32(v)));
                } else {
                    bad_len(&mut out, Severity::Withdraw);
                }
            }
            code::CLUSTER_LIST => {
                if !ctx.internal {
                    out.issue(
                        c,
                        Severity::Discard,
                        0,
                        "Discarding CLUSTER_LIST from an external peer".into(),
                    );
                } else if v.is_empty() || !v.len().is_multiple_of(4) {
                    bad_len(&mut out, Severity::Withdraw);
                } else {
                    push(AttrValue::QuadList(v.chunks_exact(4).map(be32).collect()));
                }
            }
            code::EXT_COMMUNITY => {
                if v.is_empty() || !v.len().is_multiple_of(8) {
                    bad_len(&mut out, Severity::Withdraw);
                } else {
                    let it = v.chunks_exact(8).map(|b| {
                        ExtCommunity(u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
                    });
                    push(AttrValue::Eclist(List::from_values(it)));
                }
            }
            code::LARGE_COMMUNITY => {
                if v.is_empty() || !v.len().is_multiple_of(12) {
                    bad_len(&mut out, Severity::Withdraw);
                } else {
                    let it = v
                        .chunks_exact(12)
                        .map(|b| LargeCommunity::new(be32(b), be32(&b[4..]), be32(&b[8..])));
                    push(AttrValue::Lclist(List::from_values(it)));
                }
            }
            code::AS4_PATH => {
                if ctx.as4 {
                    out.issue(c, Severity::Discard, 0, "Discarding AS4_PATH on a 4-byte ASN session".into());
                } else {
                    match AsPath::from_wire(v) {
                        Ok(p) if !p.segments().any(|s| s.kind().is_confed()) => as4_path = Some(p),
                        _ => out.issue(c, Severity::Discard, 9, "Discarding malformed AS4_PATH".into()),
                    }
                }
            }
            code::AS4_AGGREGATOR => {
                if ctx.as4 {
                    out.issue(
                        c,
                        Severity::Discard,
                        0,
                        "Discarding AS4_AGGREGATOR on a 4-byte ASN session".into(),
                    );
                } else if v.len() == 8 {
                    as4_aggr = Some(Aggregator { asn: be32(v), id: Ipv4Addr::from(be32(&v[4..])) });
                } else {
                    bad_len(&mut out, Severity::Discard);
                }
            }
            _ => unreachable_known(&mut out, c),
        }
    }
    // RFC 6793 §4.2.3: reconstruct 4-byte information from a 2-byte peer.
    if !ctx.as4 {
        let mut use_as4_path = true;
        if let Some((ag, _)) = aggregator.as_mut() {
            if ag.asn != u32::from(AS_TRANS) {
                use_as4_path = false;
            } else if let Some(a4) = as4_aggr {
                *ag = a4;
            }
        }
        if let (true, Some(p), Some(p4)) = (use_as4_path, as_path.as_ref(), as4_path.as_ref()) {
            as_path = Some(merge_as4(p, p4));
        }
    }
    if let Some(p) = as_path {
        attrs.push(EAttr { id: AttrId::BGP_PATH, flags: WK, value: AttrValue::Path(p) });
    }
    if let Some((a, fl)) = aggregator {
        attrs.push(EAttr { id: AttrId::BGP_AGGREGATOR, flags: fl, value: AttrValue::Aggregator(a) });
    }
    attrs.sort_by_key(|e| e.id);
    // Missing well-known mandatory attributes (RFC 7606 §3 d) matter only when something is announced.
    let announces = classic_nlri || out.mp_reach.as_ref().is_some_and(|m| !m.nlri.is_empty());
    if announces {
        let has = |id: AttrId| attrs.iter().any(|e| e.id == id);
        let origin_bad = out.issues.iter().any(|i| i.code == code::ORIGIN);
        let path_bad = out.issues.iter().any(|i| i.code == code::AS_PATH);
        let nh_bad = out.issues.iter().any(|i| i.code == code::NEXT_HOP);
        if !has(AttrId::BGP_ORIGIN) && !origin_bad {
            out.issue(code::ORIGIN, Severity::Withdraw, 3, "Missing mandatory attribute ORIGIN".into());
        }
        if !has(AttrId::BGP_PATH) && !path_bad {
            out.issue(code::AS_PATH, Severity::Withdraw, 3, "Missing mandatory attribute AS_PATH".into());
        }
        if classic_nlri && out.next_hop.is_none() && !nh_bad {
            out.issue(code::NEXT_HOP, Severity::Withdraw, 3, "Missing mandatory attribute NEXT_HOP".into());
        }
    }
    out.attrs = attrs;
    Ok(out)
}

/// Every code with expected flags is handled above; a code that is not would be a bug, which is
/// recorded rather than panicking.
fn unreachable_known(out: &mut AttrOutcome, c: u8) {
    out.issue(c, Severity::Discard, 0, format!("Unhandled attribute {c}"));
}

fn put_attr(out: &mut Vec<u8>, flags: u8, c: u8, v: &[u8]) {
    let flags = flags & !BAF_EXT_LEN;
    if v.len() > 255 {
        out.push(flags | BAF_EXT_LEN);
        out.push(c);
        out.extend_from_slice(&(v.len().min(65535) as u16).to_be_bytes());
    } else {
        out.push(flags);
        out.push(c);
        out.push(v.len() as u8);
    }
    out.extend_from_slice(v);
}

/// The 2-byte form of a path: ASNs above 65535 become `AS_TRANS`. Returns whether any did.
fn path_to_as2(p: &AsPath) -> (Vec<u8>, bool) {
    let mut v = Vec::with_capacity(p.as_wire().len() / 2 + 2);
    let mut big = false;
    for s in p.segments() {
        v.push(s.kind() as u8);
        v.push(s.len() as u8);
        for a in s.asns() {
            let a2 = u16::try_from(a).unwrap_or_else(|_| {
                big = true;
                AS_TRANS
            });
            v.extend_from_slice(&a2.to_be_bytes());
        }
    }
    (v, big)
}

/// Encode path attributes (everything in `attrs` that is a BGP attribute except BGP_NEXT_HOP, plus
/// `next_hop` as NEXT_HOP) in code order, appending to `out`.
///
/// Towards a 2-byte peer (`!ctx.as4`) AS_PATH and AGGREGATOR are sent in 2-byte form with AS4_PATH and
/// AS4_AGGREGATOR added when an ASN needs 4 bytes. Unknown transitive attributes are sent with the
/// Partial bit set; unknown non-transitive ones, and attributes of other protocols, are not sent.
pub fn encode_attrs(
    attrs: &[EAttr],
    next_hop: Option<Ipv4Addr>,
    ctx: &SessionCtx,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let mut nh_done = next_hop.is_none();
    let mut extra: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut scratch = Vec::with_capacity(64);
    let flush_extra = |out: &mut Vec<u8>, extra: &mut Vec<(u8, Vec<u8>)>, upto: u8| {
        while let Some((c, _)) = extra.first() {
            if *c >= upto {
                break;
            }
            let (c, v) = extra.remove(0);
            put_attr(out, OT, c, &v);
        }
    };
    for e in attrs {
        let Some(c) = e.id.bgp_code() else { continue };
        if c == code::NEXT_HOP || c == code::MP_REACH || c == code::MP_UNREACH {
            continue;
        }
        if !nh_done && c > code::NEXT_HOP {
            if let Some(nh) = next_hop {
                put_attr(out, WK, code::NEXT_HOP, &nh.octets());
            }
            nh_done = true;
        }
        flush_extra(out, &mut extra, c);
        scratch.clear();
        let known = expected_flags(c);
        let flags = match known {
            Some(exp) if exp == OT => exp | (e.flags & BAF_PARTIAL),
            Some(exp) => exp,
            None if e.flags & BAF_OPTIONAL != 0 && e.flags & BAF_TRANSITIVE != 0 => e.flags | BAF_PARTIAL,
            None => continue,
        };
        match (&e.value, c) {
            (AttrValue::Origin(o), code::ORIGIN) => scratch.push(*o as u8),
            (AttrValue::Path(p), code::AS_PATH) => {
                if ctx.as4 {
                    scratch.extend_from_slice(p.as_wire());
                } else {
                    let (v, big) = path_to_as2(p);
                    scratch = v;
                    if big {
                        extra.push((code::AS4_PATH, p.strip_confed().as_wire().to_vec()));
                    }
                }
            }
            (AttrValue::Int(x) | AttrValue::Quad(x), _) if known.is_some() => {
                scratch.extend_from_slice(&x.to_be_bytes())
            }
            (AttrValue::Flag, code::ATOMIC_AGGR) => {}
            (AttrValue::Aggregator(a), code::AGGREGATOR) => {
                if ctx.as4 {
                    scratch.extend_from_slice(&a.asn.to_be_bytes());
                } else {
                    let a2 = u16::try_from(a.asn).unwrap_or(AS_TRANS);
                    scratch.extend_from_slice(&a2.to_be_bytes());
                    if a2 == AS_TRANS && a.asn != u32::from(AS_TRANS) {
                        let mut v = a.asn.to_be_bytes().to_vec();
                        v.extend_from_slice(&a.id.octets());
                        extra.push((code::AS4_AGGREGATOR, v));
                        extra.sort_by_key(|x| x.0);
                    }
                }
                scratch.extend_from_slice(&a.id.octets());
            }
            (AttrValue::Clist(l), code::COMMUNITY) => {
                if l.is_empty() {
                    continue;
                }
                for x in l.iter() {
                    scratch.extend_from_slice(&x.0.to_be_bytes());
                }
            }
            (AttrValue::QuadList(l), code::CLUSTER_LIST) => {
                if l.is_empty() {
                    continue;
                }
                for x in l.iter() {
                    scratch.extend_from_slice(&x.to_be_bytes());
                }
            }
            (AttrValue::Eclist(l), code::EXT_COMMUNITY) => {
                if l.is_empty() {
                    continue;
                }
                for x in l.iter() {
                    scratch.extend_from_slice(&x.0.to_be_bytes());
                }
            }
            (AttrValue::Lclist(l), code::LARGE_COMMUNITY) => {
                if l.is_empty() {
                    continue;
                }
                for x in l.iter() {
                    scratch.extend_from_slice(&x.asn.to_be_bytes());
                    scratch.extend_from_slice(&x.data1.to_be_bytes());
                    scratch.extend_from_slice(&x.data2.to_be_bytes());
                }
            }
            (AttrValue::Bytes(b), _) if known.is_none() => scratch.extend_from_slice(b),
            _ => continue,
        }
        if scratch.len() > 65535 {
            return Err(EncodeError::Field("attribute longer than 65535 bytes"));
        }
        put_attr(out, flags, c, &scratch);
    }
    if !nh_done {
        if let Some(nh) = next_hop {
            put_attr(out, WK, code::NEXT_HOP, &nh.octets());
        }
    }
    flush_extra(out, &mut extra, u8::MAX);
    Ok(())
}
