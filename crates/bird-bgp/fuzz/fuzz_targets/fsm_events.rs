//! Drive the FSM with an arbitrary event sequence: it must never panic, rejected events must leave
//! it unchanged, and at most one connection may be established (exactly when the protocol is up).
#![no_main]

use std::net::Ipv4Addr;

use bird_bgp::fsm::{ConnId, ConnState, Event, Fsm, FsmConfig, PeerAs, ProtoState, Timer};
use bird_bgp::wire::{AfiSafi, Capabilities, GrFamily, GracefulRestart, Message, Notification, Open};
use libfuzzer_sys::fuzz_target;

fn event(b: &[u8]) -> Event {
    let c = if b[1] & 1 == 0 { ConnId::Outgoing } else { ConnId::Incoming };
    let timers = [
        Timer::ErrorWait,
        Timer::ConnectDelay,
        Timer::ConnectRetry,
        Timer::Hold(c),
        Timer::Keepalive(c),
        Timer::SendHold(c),
        Timer::GracefulRestart,
    ];
    match b[0] % 13 {
        0 => Event::Start,
        1 => Event::Stop { subcode: b[2], message: (b[1] & 2 != 0).then(|| "bye".to_string()) },
        2 => Event::TimerExpired(timers[usize::from(b[2]) % timers.len()]),
        3 => Event::TcpConnected,
        4 => Event::TcpConnectFailed("Connection refused".into()),
        5 => Event::TcpIncoming,
        6 => Event::TcpClosed(c, None),
        7 | 8 => {
            let caps = Capabilities {
                multiprotocol: if b[2] & 1 != 0 { vec![AfiSafi::IPV6_UNICAST] } else { vec![AfiSafi::IPV4_UNICAST] },
                as4: (b[2] & 2 != 0).then_some(65002),
                graceful_restart: (b[2] & 4 != 0).then(|| GracefulRestart {
                    restart_time: 60,
                    families: vec![GrFamily { afi_safi: AfiSafi::IPV4_UNICAST, forwarding: true }],
                    ..GracefulRestart::default()
                }),
                ..Capabilities::default()
            };
            let asn = if b[2] & 8 != 0 { 65001 } else { 65002 };
            let id = Ipv4Addr::new(10, 0, 0, b[2] >> 6);
            Event::Received(c, Message::Open(Open::new(asn, u16::from(b[2] & 0x30), id, caps)))
        }
        9 => Event::Received(c, Message::Keepalive),
        10 => Event::Received(c, Message::Notification(Notification::new(b[2] % 8, b[1] >> 4, vec![]))),
        11 => Event::Sent(c),
        _ => Event::Received(c, Message::Update(Default::default())),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let mut cfg = FsmConfig::new(65001, PeerAs::Exact(65002), Ipv4Addr::new(10, 0, 0, 2));
    cfg.passive = flags & 1 != 0;
    cfg.send_hold_time = (flags & 2 != 0).then_some(180);
    cfg.disable_after_error = flags & 4 != 0;
    if flags & 8 != 0 {
        cfg.capabilities.graceful_restart = None;
    }
    let mut f = Fsm::new(cfg);
    let mut now = 0u64;
    for b in rest.chunks_exact(3) {
        now += u64::from(b[1] >> 2);
        let before = format!("{f:?}");
        if f.step(now, event(b)).is_err() {
            assert_eq!(format!("{f:?}"), before);
        }
        let est = [ConnId::Outgoing, ConnId::Incoming].iter().filter(|&&c| f.conn_state(c) == ConnState::Established).count();
        assert!(est <= 1);
        assert_eq!(est == 1, f.proto_state() == ProtoState::Up);
        let _ = (f.state_name(), f.status_info());
    }
});
