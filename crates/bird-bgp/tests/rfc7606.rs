//! RFC 7606 error handling and message framing: each malformed case is classified as session reset
//! (a `WireError` with the NOTIFICATION), treat-as-withdraw or attribute discard.

mod common;

use bird_bgp::wire::{frame_len, AfiSafi, Message, SessionCtx, Severity, UpdateDecoded};
use birdtable::attrs::{AttrId, AttrValue};
use common::*;

const ORIGIN: &str = "40010100";
const PATH: &str = "40020602010000fde9";
const NH: &str = "400304c0000201";
const NLRI: &str = "18c63364";

fn ctx() -> SessionCtx {
    SessionCtx { as4: true, ..SessionCtx::default() }
}

fn build(withdrawn: &str, attrs: &str, nlri: &str) -> Vec<u8> {
    let w = hex(withdrawn);
    let a = hex(attrs);
    let n = hex(nlri);
    let mut m = vec![0xff; 16];
    let len = 19 + 4 + w.len() + a.len() + n.len();
    m.extend_from_slice(&(len as u16).to_be_bytes());
    m.push(2);
    m.extend_from_slice(&(w.len() as u16).to_be_bytes());
    m.extend_from_slice(&w);
    m.extend_from_slice(&(a.len() as u16).to_be_bytes());
    m.extend_from_slice(&a);
    m.extend_from_slice(&n);
    m
}

fn decode_with(attrs: &str, nlri: &str, c: &SessionCtx) -> UpdateDecoded {
    match Message::decode(&build("", attrs, nlri), c) {
        Ok(Message::Update(u)) => u,
        other => panic!("{other:?}"),
    }
}

fn decode(attrs: &str) -> UpdateDecoded {
    decode_with(attrs, NLRI, &ctx())
}

fn reset(attrs: &str, nlri: &str) -> (u8, u8) {
    let e = Message::decode(&build("", attrs, nlri), &ctx()).expect_err("session reset");
    (e.notification.code, e.notification.subcode)
}

fn assert_withdraw(u: &UpdateDecoded, code: u8) {
    assert!(u.treat_as_withdraw(), "{:?}", u.issues);
    assert!(u.issues.iter().any(|i| i.code == code && i.severity == Severity::Withdraw), "{:?}", u.issues);
    let f = u.families();
    assert!(f.iter().all(|f| f.announced.is_empty()));
    assert!(f.iter().any(|f| !f.withdrawn.is_empty()));
}

fn assert_discard(u: &UpdateDecoded, code: u8) {
    assert!(!u.treat_as_withdraw(), "{:?}", u.issues);
    assert!(u.issues.iter().any(|i| i.code == code && i.severity == Severity::Discard), "{:?}", u.issues);
    assert!(u.update.attrs.iter().all(|e| e.id != AttrId::bgp(code)));
    assert_eq!(u.families()[0].announced.len(), 1);
}

#[test]
fn well_formed() {
    let u = decode(&format!("{ORIGIN}{PATH}{NH}"));
    assert!(u.issues.is_empty());
    assert_eq!(u.families()[0].announced.len(), 1);
}

#[test]
fn malformed_origin_is_withdraw() {
    let u = decode(&format!("4001020000{PATH}{NH}"));
    assert_withdraw(&u, 1);
    assert_eq!(u.issues[0].to_string(), "Invalid ORIGIN (2 bytes) - withdrawing");
    assert_withdraw(&decode(&format!("40010107{PATH}{NH}")), 1);
}

#[test]
fn malformed_as_path_is_withdraw() {
    // Segment count runs past the attribute.
    assert_withdraw(&decode(&format!("{ORIGIN}40020602020000fde9{NH}")), 2);
    // Bad segment type.
    assert_withdraw(&decode(&format!("{ORIGIN}40020609010000fde9{NH}")), 2);
    // Zero-length segment.
    assert_withdraw(&decode(&format!("{ORIGIN}4002020200{NH}")), 2);
    // Confederation segment from an external peer.
    assert_withdraw(&decode(&format!("{ORIGIN}40020603010000fde9{NH}")), 2);
}

#[test]
fn malformed_next_hop_is_withdraw() {
    assert_withdraw(&decode(&format!("{ORIGIN}{PATH}400305c000020100")), 3);
    assert_withdraw(&decode(&format!("{ORIGIN}{PATH}40030400000000")), 3);
    assert_withdraw(&decode(&format!("{ORIGIN}{PATH}400304e0000001")), 3);
}

#[test]
fn malformed_mp_reach_next_hop_is_withdraw() {
    // IPv6 NLRI with a 7-byte next hop: the NLRI is still located through the length field.
    let mp = "800e13000201 07 20010db8000000 00 3020010db80001";
    let u = decode_with(&format!("{mp}{ORIGIN}{PATH}"), "", &ctx());
    assert_withdraw(&u, 14);
    assert_eq!(u.families()[0].afi_safi, AfiSafi::IPV6_UNICAST);
    assert_eq!(u.families()[0].withdrawn, vec![bird_bgp::wire::Nlri::new(net("2001:db8:1::/48"))]);
}

#[test]
fn mp_reach_nlri_error_is_reset() {
    let mp = "800e1a000201 10 20010db8000000000000000000000001 00 8120010db8";
    assert_eq!(reset(&format!("{mp}{ORIGIN}{PATH}"), ""), (3, 9));
}

#[test]
fn repeated_mp_reach_is_reset() {
    let mp = "800e0c00020110 20010db8000000000000000000000001 00".replace(' ', "");
    let mp = format!("800e{:02x}{}", hex(&mp[4..]).len(), &mp[4..]);
    assert_eq!(reset(&format!("{mp}{mp}{ORIGIN}{PATH}"), ""), (3, 1));
}

#[test]
fn atomic_aggregate_and_aggregator_are_discard() {
    assert_discard(&decode(&format!("{ORIGIN}{PATH}{NH}40060100")), 6);
    assert_discard(&decode(&format!("{ORIGIN}{PATH}{NH}c007070000fde9c00002")), 7);
}

#[test]
fn framing_error_is_reset() {
    // The MED claims 9 bytes but only 4 follow.
    assert_eq!(reset(&format!("{ORIGIN}{PATH}{NH}80040900000001"), NLRI), (3, 1));
    // A truncated attribute header.
    assert_eq!(reset(&format!("{ORIGIN}{PATH}{NH}80"), NLRI), (3, 1));
}

#[test]
fn lengths_exceeding_the_message_are_reset() {
    let mut m = build("", &format!("{ORIGIN}{PATH}{NH}"), NLRI);
    m[21] = 0xff; // total path attribute length
    let e = Message::decode(&m, &ctx()).expect_err("reset");
    assert_eq!((e.notification.code, e.notification.subcode), (3, 1));
    // A withdrawn prefix longer than 32 bits.
    let m = build("21c0000201", "", "");
    assert_eq!(Message::decode(&m, &ctx()).expect_err("reset").notification.subcode, 10);
    // An NLRI prefix running past the end.
    assert_eq!(reset(&format!("{ORIGIN}{PATH}{NH}"), "18c633"), (3, 10));
}

#[test]
fn duplicate_attribute_keeps_the_first() {
    let u = decode(&format!("{ORIGIN}{PATH}{NH}8004040000000180040400000002"));
    assert!(!u.treat_as_withdraw());
    assert_eq!(
        u.update.attrs.iter().find(|e| e.id == AttrId::BGP_MED).map(|e| &e.value),
        Some(&AttrValue::Int(1))
    );
    assert_eq!(u.issues[0].severity, Severity::Discard);
}

#[test]
fn missing_mandatory_is_withdraw() {
    assert_withdraw(&decode(&format!("{ORIGIN}{PATH}")), 3);
    assert_withdraw(&decode(&format!("{PATH}{NH}")), 1);
    assert_withdraw(&decode(&format!("{ORIGIN}{NH}")), 2);
    // Nothing announced: nothing is mandatory.
    let u = decode_with("", "", &ctx());
    assert!(u.issues.is_empty());
}

#[test]
fn attribute_flags_error_is_withdraw() {
    // MED sent as well-known.
    assert_withdraw(&decode(&format!("{ORIGIN}{PATH}{NH}40040400000001")), 4);
}

#[test]
fn bad_lengths_of_lists_are_withdraw() {
    assert_withdraw(&decode(&format!("{ORIGIN}{PATH}{NH}c00800")), 8);
    assert_withdraw(&decode(&format!("{ORIGIN}{PATH}{NH}c00803000001")), 8);
    assert_withdraw(&decode(&format!("{ORIGIN}{PATH}{NH}c0100400000001")), 16);
    assert_withdraw(&decode(&format!("{ORIGIN}{PATH}{NH}c0200400000001")), 32);
    assert_withdraw(&decode(&format!("{ORIGIN}{PATH}{NH}c02303000001")), 35);
}

#[test]
fn unknown_attributes() {
    // Optional transitive: kept (and re-sent with Partial).
    let u = decode(&format!("{ORIGIN}{PATH}{NH}c0630201ff"));
    assert!(u.issues.is_empty());
    assert_eq!(u.update.attrs.last().map(|e| e.flags), Some(0xc0));
    let enc = Message::Update(u).encode(&ctx()).expect("encode");
    assert!(to_hex(&enc).contains("e0630201ff"));
    // Optional non-transitive: dropped quietly.
    let u = decode(&format!("{ORIGIN}{PATH}{NH}80630201ff"));
    assert!(u.issues.is_empty());
    assert!(u.update.attrs.iter().all(|e| e.id != AttrId::bgp(0x63)));
    // Unknown well-known: treat-as-withdraw.
    assert_withdraw(&decode(&format!("{ORIGIN}{PATH}{NH}40630201ff")), 0x63);
}

#[test]
fn ibgp_only_attributes_from_ebgp_are_discarded() {
    let ebgp = decode(&format!("{ORIGIN}{PATH}{NH}40050400000064800904c0000201800a04c0000201"));
    assert_discard(&ebgp, 5);
    assert_discard(&ebgp, 9);
    assert_discard(&ebgp, 10);
    let ibgp = SessionCtx { as4: true, internal: true, ..SessionCtx::default() };
    let u = decode_with(&format!("{ORIGIN}{PATH}{NH}40050400000064"), NLRI, &ibgp);
    assert!(u.issues.is_empty());
    assert_withdraw(&decode_with(&format!("{ORIGIN}{PATH}{NH}400503000064"), NLRI, &ibgp), 5);
}

#[test]
fn as4_attributes_on_as4_session_are_discarded() {
    let u = decode(&format!("{ORIGIN}{PATH}{NH}c0110602010000fde9"));
    assert_discard(&u, 17);
}

#[test]
fn header_errors() {
    let mut k = keepalive_bytes();
    assert_eq!(frame_len(&k[..10], 4096), Ok(None));
    assert_eq!(frame_len(&k, 4096), Ok(Some(19)));
    k[0] = 0;
    assert_eq!(frame_len(&k, 4096).expect_err("marker").notification.subcode, 1);
    let mut k = keepalive_bytes();
    k[17] = 20;
    let e = frame_len(&k, 4096).expect_err("len");
    assert_eq!((e.notification.subcode, e.notification.data.clone()), (2, vec![0, 20]));
    let mut k = keepalive_bytes();
    k[18] = 9;
    let e = frame_len(&k, 4096).expect_err("type");
    assert_eq!((e.notification.subcode, e.notification.data.clone()), (3, vec![9]));
    // An UPDATE over 4096 bytes needs extended messages.
    let mut u = keepalive_bytes().to_vec();
    u[16] = 0x10;
    u[17] = 0x01;
    u[18] = 2;
    assert!(frame_len(&u, 4096).is_err());
    assert_eq!(frame_len(&u, 65535), Ok(None));
    // ROUTE-REFRESH of the wrong length: 7/1.
    let rr = hex("ffffffffffffffffffffffffffffffff00180500010001ff");
    assert_eq!(frame_len(&rr, 4096).expect_err("rr").notification.code, 7);
}

fn keepalive_bytes() -> [u8; 19] {
    bird_bgp::wire::keepalive()
}

#[test]
fn ipv4_in_nlri_and_mp_reach_keeps_both_next_hops() {
    let mp = "800e 0d 0001 01 04 c0000209 00 18 cb0071";
    let u = decode(&format!("{mp}{ORIGIN}{PATH}{NH}"));
    assert!(u.issues.is_empty());
    let f = u.families();
    assert_eq!(f.len(), 2);
    let nh = |i: usize| f[i].attrs.iter().find(|e| e.id == AttrId::BGP_NEXT_HOP).map(|e| e.value.clone());
    assert_eq!(nh(0), Some(AttrValue::Ip("192.0.2.1".parse().expect("ip"))));
    assert_eq!(nh(1), Some(AttrValue::Ip("192.0.2.9".parse().expect("ip"))));
    assert_eq!(f[1].announced, vec![bird_bgp::wire::Nlri::new(net("203.0.113.0/24"))]);
}
