//! Random event sequences: the FSM never panics, rejected events change nothing, and its invariants
//! hold after every step.

use std::net::Ipv4Addr;

use bird_bgp::fsm::{ConnId, ConnState, Event, Fsm, FsmConfig, Output, PeerAs, ProtoState, Timer};
use bird_bgp::wire::{
    AfiSafi, Capabilities, GrFamily, GracefulRestart, Message, Notification, Open, UpdateDecoded,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

fn open(rng: &mut SmallRng) -> Message {
    let caps = Capabilities {
        multiprotocol: vec![AfiSafi::IPV4_UNICAST],
        as4: Some(65002),
        graceful_restart: rng.gen_bool(0.5).then(|| GracefulRestart {
            restart_time: 60,
            families: vec![GrFamily { afi_safi: AfiSafi::IPV4_UNICAST, forwarding: true }],
            ..GracefulRestart::default()
        }),
        ..Capabilities::default()
    };
    let asn = if rng.gen_bool(0.9) { 65002 } else { 65003 };
    Message::Open(Open::new(
        asn,
        [0, 3, 90][rng.gen_range(0..3)],
        Ipv4Addr::new(10, 0, 0, rng.gen_range(1..3)),
        caps,
    ))
}

fn event(rng: &mut SmallRng) -> Event {
    let c = if rng.gen_bool(0.5) { ConnId::Outgoing } else { ConnId::Incoming };
    let timers = [
        Timer::ErrorWait,
        Timer::ConnectDelay,
        Timer::ConnectRetry,
        Timer::Hold(c),
        Timer::Keepalive(c),
        Timer::SendHold(c),
        Timer::GracefulRestart,
    ];
    match rng.gen_range(0..12) {
        0 => Event::Start,
        1 => Event::Stop { subcode: 2, message: None },
        2 => Event::TimerExpired(timers[rng.gen_range(0..timers.len())]),
        3 => Event::TcpConnected,
        4 => Event::TcpConnectFailed("Connection refused".into()),
        5 => Event::TcpIncoming,
        6 => Event::TcpClosed(c, None),
        7 | 8 => Event::Received(c, open(rng)),
        9 => Event::Received(c, Message::Keepalive),
        10 => Event::Received(c, Message::Update(UpdateDecoded::default())),
        _ => Event::Received(c, Message::Notification(Notification::new(rng.gen_range(1..7), 0, vec![]))),
    }
}

#[test]
fn random_sequences() {
    let mut rng = SmallRng::seed_from_u64(42);
    let mut established = 0;
    for round in 0..300 {
        let mut cfg = FsmConfig::new(65001, PeerAs::Exact(65002), Ipv4Addr::new(10, 0, 0, 2));
        cfg.passive = round % 5 == 0;
        cfg.send_hold_time = (round % 3 == 0).then_some(180);
        if round % 2 == 0 {
            cfg.capabilities.graceful_restart = Some(GracefulRestart::default());
        }
        let mut f = Fsm::new(cfg);
        let mut now = 0;
        for _ in 0..200 {
            now += rng.gen_range(0..30);
            let before = format!("{f:?}");
            let ev = event(&mut rng);
            match f.step(now, ev) {
                Err(_) => assert_eq!(format!("{f:?}"), before),
                Ok(out) => {
                    let ups = out.iter().filter(|o| matches!(o, Output::Established(_))).count();
                    assert!(ups <= 1);
                    established += ups;
                }
            }
            let est = [ConnId::Outgoing, ConnId::Incoming]
                .iter()
                .filter(|&&c| f.conn_state(c) == ConnState::Established)
                .count();
            assert!(est <= 1);
            assert_eq!(est == 1, f.proto_state() == ProtoState::Up, "{f:?}");
            assert_eq!(f.session().is_some() && est == 1, est == 1);
            if f.proto_state() == ProtoState::Down {
                assert_eq!(f.conn_state(ConnId::Outgoing), ConnState::Idle);
                assert_eq!(f.conn_state(ConnId::Incoming), ConnState::Idle);
            }
        }
    }
    // The generator does reach the interesting states.
    assert!(established > 20, "{established}");
}
