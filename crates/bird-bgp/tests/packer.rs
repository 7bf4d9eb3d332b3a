//! The packing encoder: announcements sharing attributes fill as few UPDATEs as fit, withdrawals are
//! batched, and everything decodes back to the same prefixes.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use bird_bgp::wire::{AfiSafi, Message, Nlri, SessionCtx, UpdatePacker, MAX_MESSAGE_LEN};
use birdnet::{Net, Prefix4, Prefix6};
use birdtable::attrs::{AttrId, AttrValue, EAttr, Origin};
use common::*;

fn attrs(nh: IpAddr) -> Vec<EAttr> {
    vec![
        ea(1, 0x40, AttrValue::Origin(Origin::Igp)),
        ea(2, 0x40, path(&[65001, 65002])),
        EAttr { id: AttrId::BGP_NEXT_HOP, flags: 0x40, value: AttrValue::Ip(nh) },
    ]
}

fn v4_nets(n: u32) -> Vec<Nlri> {
    (0..n)
        .map(|i| Nlri::new(Net::Ip4(Prefix4::new(Ipv4Addr::from(0x0a00_0000 + (i << 8)), 24).expect("p"))))
        .collect()
}

fn decode_all(msgs: &[Vec<u8>], ctx: &SessionCtx) -> (Vec<Nlri>, Vec<Nlri>) {
    let (mut ann, mut wd) = (Vec::new(), Vec::new());
    for m in msgs {
        let Message::Update(u) = Message::decode(m, ctx).expect("decode") else { panic!() };
        assert!(u.issues.is_empty(), "{:?}", u.issues);
        for f in u.families() {
            ann.extend(f.announced);
            wd.extend(f.withdrawn);
        }
    }
    (ann, wd)
}

#[test]
fn packs_ipv4_into_few_messages() {
    let ctx = SessionCtx { as4: true, ..SessionCtx::default() };
    let nets = v4_nets(3000);
    let mut out = Vec::new();
    let n = UpdatePacker::new(&ctx)
        .announce(AfiSafi::IPV4_UNICAST, &attrs(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))), &nets, &mut out)
        .expect("pack");
    assert_eq!(n, out.len());
    // 4 bytes per /24, about 4050 bytes of room: 1012 prefixes per message.
    assert_eq!(out.len(), 3);
    assert!(out.iter().all(|m| m.len() <= MAX_MESSAGE_LEN));
    assert!(out[0].len() > MAX_MESSAGE_LEN - 4);
    let (ann, wd) = decode_all(&out, &ctx);
    assert_eq!(ann, nets);
    assert!(wd.is_empty());
    // Withdrawals batch the same way.
    let mut out = Vec::new();
    UpdatePacker::new(&ctx).withdraw(AfiSafi::IPV4_UNICAST, &nets, &mut out).expect("withdraw");
    assert_eq!(out.len(), 3);
    let (ann, wd) = decode_all(&out, &ctx);
    assert!(ann.is_empty());
    assert_eq!(wd, nets);
}

#[test]
fn extended_messages_and_ipv6() {
    let ctx = SessionCtx {
        as4: true,
        ext_message: true,
        add_path_tx: vec![AfiSafi::IPV6_UNICAST],
        add_path_rx: vec![AfiSafi::IPV6_UNICAST],
        ..SessionCtx::default()
    };
    let nets: Vec<Nlri> = (0..20000u32)
        .map(|i| Nlri {
            net: Net::Ip6(Prefix6::new(format!("2001:db8:{:x}::", i).parse().expect("a"), 48).expect("p")),
            path_id: i % 3,
        })
        .collect();
    let mut out = Vec::new();
    UpdatePacker::new(&ctx)
        .announce(AfiSafi::IPV6_UNICAST, &attrs("2001:db8::1".parse().expect("ip")), &nets, &mut out)
        .expect("pack");
    // 11 bytes per prefix with path id: about 5950 per 65535-byte message.
    assert_eq!(out.len(), 4);
    assert!(out.iter().all(|m| m.len() <= 65535));
    let (ann, _) = decode_all(&out, &ctx);
    assert_eq!(ann, nets);
    let mut out = Vec::new();
    UpdatePacker::new(&ctx).withdraw(AfiSafi::IPV6_UNICAST, &nets, &mut out).expect("withdraw");
    let (_, wd) = decode_all(&out, &ctx);
    assert_eq!(wd, nets);
}

#[test]
fn ipv6_next_hop_for_ipv4_needs_the_capability() {
    let ctx = SessionCtx { as4: true, ..SessionCtx::default() };
    let a = attrs("2001:db8::1".parse().expect("ip"));
    let mut out = Vec::new();
    assert!(UpdatePacker::new(&ctx).announce(AfiSafi::IPV4_UNICAST, &a, &v4_nets(2), &mut out).is_err());
    let ctx = SessionCtx { ext_next_hop_tx: vec![AfiSafi::IPV4_UNICAST], ..ctx };
    UpdatePacker::new(&ctx).announce(AfiSafi::IPV4_UNICAST, &a, &v4_nets(2), &mut out).expect("pack");
    let (ann, _) = decode_all(&out, &ctx);
    assert_eq!(ann, v4_nets(2));
}

#[test]
fn end_of_rib_markers() {
    let ctx = SessionCtx::default();
    let p = UpdatePacker::new(&ctx);
    assert_eq!(p.end_of_rib(AfiSafi::IPV4_UNICAST).len(), 23);
    let Message::Update(u) = Message::decode(&p.end_of_rib(AfiSafi::IPV6_UNICAST), &ctx).expect("decode")
    else {
        panic!()
    };
    assert_eq!(u.update.is_end_of_rib(), Some(AfiSafi::IPV6_UNICAST));
}
