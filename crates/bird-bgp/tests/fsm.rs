//! The FSM: transitions, timers, errors, collisions, and BIRD's display strings.

use std::net::Ipv4Addr;

use bird_bgp::fsm::{
    capability_lines, ConnId, ConnState, Event, Fsm, FsmConfig, LastError, Output, PeerAs, ProtoState, Timer,
};
use bird_bgp::wire::{
    AfiSafi, Capabilities, GracefulRestart, LlgrFamily, Message, Notification, Open, Role, UpdateDecoded,
};

const OUT: ConnId = ConnId::Outgoing;
const INC: ConnId = ConnId::Incoming;

fn cfg() -> FsmConfig {
    let mut c = FsmConfig::new(65001, PeerAs::Exact(65002), Ipv4Addr::new(10, 0, 0, 1));
    c.hold_time = 90;
    c
}

fn peer_open(id: [u8; 4], hold: u16) -> Message {
    let caps = Capabilities {
        multiprotocol: vec![AfiSafi::IPV4_UNICAST],
        route_refresh: true,
        as4: Some(65002),
        ..Capabilities::default()
    };
    Message::Open(Open::new(65002, hold, Ipv4Addr::from(id), caps))
}

fn step(f: &mut Fsm, now: u64, ev: Event) -> Vec<Output> {
    f.step(now, ev).expect("legal event")
}

fn has(o: &[Output], want: &Output) -> bool {
    o.iter().any(|x| x == want)
}

fn sent_notification(o: &[Output]) -> Option<(u8, u8)> {
    o.iter().find_map(|x| match x {
        Output::Send(_, Message::Notification(n)) => Some((n.code, n.subcode)),
        _ => None,
    })
}

/// Drive an active session to Established on the outgoing connection.
fn establish(f: &mut Fsm) {
    let o = step(f, 0, Event::Start);
    assert!(has(&o, &Output::State(ProtoState::Start)));
    assert!(has(&o, &Output::StartTimer(Timer::ConnectDelay, 5)));
    assert_eq!(f.state_name(), "Active");
    let o = step(f, 5, Event::TimerExpired(Timer::ConnectDelay));
    assert!(has(&o, &Output::Connect));
    assert!(has(&o, &Output::StartTimer(Timer::ConnectRetry, 120)));
    assert_eq!(f.state_name(), "Connect");
    let o = step(f, 5, Event::TcpConnected);
    assert!(matches!(&o[1], Output::Send(OUT, Message::Open(_))));
    assert!(has(&o, &Output::StartTimer(Timer::Hold(OUT), 240)));
    assert_eq!(f.state_name(), "OpenSent");
    let o = step(f, 6, Event::Received(OUT, peer_open([10, 0, 0, 2], 180)));
    assert!(has(&o, &Output::Send(OUT, Message::Keepalive)));
    assert!(has(&o, &Output::StartTimer(Timer::Hold(OUT), 90)));
    assert!(has(&o, &Output::StartTimer(Timer::Keepalive(OUT), 30)));
    assert_eq!(f.state_name(), "OpenConfirm");
    let o = step(f, 6, Event::Received(OUT, Message::Keepalive));
    assert!(has(&o, &Output::State(ProtoState::Up)));
    let s = o.iter().find_map(|x| if let Output::Established(s) = x { Some(s) } else { None }).expect("up");
    assert_eq!((s.hold_time, s.keepalive_time, s.peer_as), (90, 30, 65002));
    assert!(s.ctx.as4 && !s.ctx.internal);
    assert_eq!(s.families, vec![AfiSafi::IPV4_UNICAST]);
    assert_eq!(s.session_line(true, false, false), "external multihop AS4");
    assert_eq!(f.state_name(), "Established");
    assert_eq!(f.proto_state(), ProtoState::Up);
    assert_eq!(f.status_info(), "Established   ");
}

#[test]
fn happy_path() {
    let mut f = Fsm::new(cfg());
    assert_eq!(f.state_name(), "Down");
    establish(&mut f);
    // UPDATEs are delivered and restart the hold timer; keepalives go out on their timer.
    let u = Message::Update(UpdateDecoded::default());
    let o = step(&mut f, 7, Event::Received(OUT, u.clone()));
    assert_eq!(o, vec![Output::StartTimer(Timer::Hold(OUT), 90), Output::Deliver(u)]);
    let o = step(&mut f, 36, Event::TimerExpired(Timer::Keepalive(OUT)));
    assert_eq!(o, vec![Output::Send(OUT, Message::Keepalive), Output::StartTimer(Timer::Keepalive(OUT), 30)]);
}

#[test]
fn connection_refused_shows_like_bird() {
    let mut f = Fsm::new(cfg());
    step(&mut f, 0, Event::Start);
    step(&mut f, 5, Event::TimerExpired(Timer::ConnectDelay));
    let o = step(&mut f, 5, Event::TcpConnectFailed("Connection refused".into()));
    assert!(has(&o, &Output::StartTimer(Timer::ConnectDelay, 5)));
    assert_eq!(f.state_name(), "Active");
    assert_eq!(f.proto_state().name(), "start");
    assert_eq!(f.status_info(), "Active        Socket: Connection refused");
    assert_eq!(f.last_error().and_then(|e| e.show_line()).as_deref(), Some("Socket: Connection refused"));
}

#[test]
fn hold_timer_expiry_doubles_error_wait() {
    let mut f = Fsm::new(cfg());
    establish(&mut f);
    let o = step(&mut f, 100, Event::TimerExpired(Timer::Hold(OUT)));
    assert_eq!(sent_notification(&o), Some((4, 0)));
    assert!(o.iter().any(|x| matches!(x, Output::SessionDown { graceful: false, .. })));
    assert!(has(&o, &Output::State(ProtoState::Down)));
    assert!(has(&o, &Output::StartTimer(Timer::ErrorWait, 60)));
    assert_eq!(f.proto_state(), ProtoState::Start);
    assert!(f.in_error_wait());
    assert_eq!(f.state_name(), "Idle");
    assert_eq!(f.last_error().map(|e| e.to_string()).as_deref(), Some("BGP Error: Hold timer expired"));
    // Error wait expires; the next error within the forget time doubles it.
    step(&mut f, 160, Event::TimerExpired(Timer::ErrorWait));
    step(&mut f, 165, Event::TimerExpired(Timer::ConnectDelay));
    step(&mut f, 165, Event::TcpConnected);
    let o = step(&mut f, 166, Event::Received(OUT, Message::Keepalive));
    assert_eq!(sent_notification(&o), Some((5, 1)));
    assert!(has(&o, &Output::StartTimer(Timer::ErrorWait, 120)));
    // After the forget time it starts over at the minimum.
    step(&mut f, 286, Event::TimerExpired(Timer::ErrorWait));
    step(&mut f, 291, Event::TimerExpired(Timer::ConnectDelay));
    step(&mut f, 291, Event::TcpConnected);
    let o = step(&mut f, 1000, Event::TimerExpired(Timer::Hold(OUT)));
    assert!(has(&o, &Output::StartTimer(Timer::ErrorWait, 60)));
}

#[test]
fn received_cease_does_not_add_error_wait() {
    let mut f = Fsm::new(cfg());
    establish(&mut f);
    let n = Notification::cease_with_message(2, "bye");
    let o = step(&mut f, 10, Event::Received(OUT, Message::Notification(n)));
    assert!(has(&o, &Output::State(ProtoState::Stop)));
    assert!(!o.iter().any(|x| matches!(x, Output::StartTimer(Timer::ErrorWait, _))));
    assert_eq!(f.last_error().map(|e| e.to_string()).as_deref(), Some("Received: Administrative shutdown"));
    assert_eq!(f.state_name(), "Active");
}

#[test]
fn bad_peer_as_and_role_mismatch() {
    let mut f = Fsm::new(FsmConfig::new(65001, PeerAs::Exact(65009), Ipv4Addr::new(10, 0, 0, 1)));
    step(&mut f, 0, Event::Start);
    step(&mut f, 5, Event::TimerExpired(Timer::ConnectDelay));
    step(&mut f, 5, Event::TcpConnected);
    let o = step(&mut f, 6, Event::Received(OUT, peer_open([10, 0, 0, 2], 90)));
    assert_eq!(sent_notification(&o), Some((2, 2)));
    assert_eq!(f.last_error().map(|e| e.to_string()).as_deref(), Some("BGP Error: Bad peer AS"));

    let mut c = cfg();
    c.role = Some(Role::Customer);
    let mut f = Fsm::new(c);
    step(&mut f, 0, Event::Start);
    step(&mut f, 5, Event::TimerExpired(Timer::ConnectDelay));
    step(&mut f, 5, Event::TcpConnected);
    let Message::Open(mut open) = peer_open([10, 0, 0, 2], 90) else { panic!() };
    open.caps.role = Some(Role::Peer);
    let o = step(&mut f, 6, Event::Received(OUT, Message::Open(open)));
    assert_eq!(sent_notification(&o), Some((2, 11)));
    assert_eq!(f.last_error().map(|e| e.to_string()).as_deref(), Some("BGP Error: Role mismatch"));
}

#[test]
fn collision_keeps_the_higher_id() {
    // Our ID 10.0.0.1 is lower than the peer's 10.0.0.2: the connection we opened is dropped.
    let mut f = Fsm::new(cfg());
    step(&mut f, 0, Event::Start);
    step(&mut f, 5, Event::TimerExpired(Timer::ConnectDelay));
    step(&mut f, 5, Event::TcpConnected);
    step(&mut f, 6, Event::Received(OUT, peer_open([10, 0, 0, 2], 90)));
    assert_eq!(f.conn_state(OUT), ConnState::OpenConfirm);
    let o = step(&mut f, 6, Event::TcpIncoming);
    assert_eq!(o[0], Output::AcceptIncoming);
    assert_eq!(f.conn_state(INC), ConnState::OpenSent);
    let o = step(&mut f, 7, Event::Received(INC, peer_open([10, 0, 0, 2], 90)));
    assert!(has(&o, &Output::Send(OUT, Message::Notification(Notification::new(6, 7, vec![])))));
    assert!(has(&o, &Output::Close(OUT)));
    assert_eq!(f.conn_state(INC), ConnState::OpenConfirm);
    // Reconnecting waits: the incoming connection is in OpenConfirm.
    assert!(!has(&o, &Output::StartTimer(Timer::ConnectDelay, 5)));
    let o = step(&mut f, 7, Event::Received(INC, Message::Keepalive));
    assert!(o.iter().any(|x| matches!(x, Output::Established(s) if s.conn == INC)));
    // A further connection is refused while established.
    assert_eq!(step(&mut f, 8, Event::TcpIncoming), vec![Output::RejectIncoming]);
}

#[test]
fn collision_with_higher_local_id_drops_incoming() {
    let mut c = cfg();
    c.router_id = Ipv4Addr::new(10, 0, 0, 9);
    let mut f = Fsm::new(c);
    step(&mut f, 0, Event::Start);
    step(&mut f, 5, Event::TimerExpired(Timer::ConnectDelay));
    step(&mut f, 5, Event::TcpConnected);
    step(&mut f, 5, Event::TcpIncoming);
    step(&mut f, 6, Event::Received(INC, peer_open([10, 0, 0, 2], 90)));
    let o = step(&mut f, 6, Event::Received(OUT, peer_open([10, 0, 0, 2], 90)));
    assert!(has(&o, &Output::Close(INC)));
    assert_eq!(f.conn_state(OUT), ConnState::OpenConfirm);
    assert_eq!(f.conn_state(INC), ConnState::Idle);
}

#[test]
fn passive_waits_for_the_peer() {
    let mut c = cfg();
    c.passive = true;
    let mut f = Fsm::new(c);
    let o = step(&mut f, 0, Event::Start);
    assert!(!o.iter().any(|x| matches!(x, Output::StartTimer(Timer::ConnectDelay, _))));
    assert_eq!(f.state_name(), "Passive");
    let o = step(&mut f, 1, Event::TcpIncoming);
    assert_eq!(o[0], Output::AcceptIncoming);
    assert!(matches!(&o[1], Output::Send(INC, Message::Open(_))));
}

#[test]
fn illegal_events_are_rejected() {
    let mut f = Fsm::new(cfg());
    assert!(f.step(0, Event::TcpConnected).is_err());
    assert!(f.step(0, Event::TimerExpired(Timer::Hold(OUT))).is_err());
    step(&mut f, 0, Event::Start);
    assert!(f.step(0, Event::Start).is_err());
    assert!(f.step(0, Event::Received(OUT, Message::Keepalive)).is_err());
    assert!(f.step(0, Event::TimerExpired(Timer::ConnectRetry)).is_err());
    // Nothing changed.
    assert_eq!(f.state_name(), "Active");
}

#[test]
fn manual_stop_sends_cease_and_stays_down() {
    let mut f = Fsm::new(cfg());
    establish(&mut f);
    let o = step(&mut f, 50, Event::Stop { subcode: 2, message: Some("maintenance".into()) });
    let n = Notification::cease_with_message(2, "maintenance");
    assert!(has(&o, &Output::Send(OUT, Message::Notification(n))));
    assert!(has(&o, &Output::State(ProtoState::Down)));
    assert!(!has(&o, &Output::State(ProtoState::Start)));
    assert_eq!(f.state_name(), "Down");
    assert_eq!(f.status_info(), "");
    assert_eq!(f.last_error().and_then(LastError::show_line), None);
}

#[test]
fn connect_retry_and_tcp_loss() {
    let mut f = Fsm::new(cfg());
    step(&mut f, 0, Event::Start);
    step(&mut f, 5, Event::TimerExpired(Timer::ConnectDelay));
    let o = step(&mut f, 125, Event::TimerExpired(Timer::ConnectRetry));
    assert!(has(&o, &Output::Close(OUT)));
    assert!(has(&o, &Output::StartTimer(Timer::ConnectDelay, 5)));
    establish_from_active(&mut f);
    let o = step(&mut f, 200, Event::TcpClosed(OUT, Some("Connection reset by peer".into())));
    assert!(o.iter().any(|x| matches!(x, Output::SessionDown { .. })));
    assert_eq!(f.last_error().map(|e| e.to_string()).as_deref(), Some("Socket: Connection reset by peer"));
}

fn establish_from_active(f: &mut Fsm) {
    step(f, 130, Event::TimerExpired(Timer::ConnectDelay));
    step(f, 130, Event::TcpConnected);
    step(f, 131, Event::Received(OUT, peer_open([10, 0, 0, 2], 90)));
    step(f, 131, Event::Received(OUT, Message::Keepalive));
    assert_eq!(f.state_name(), "Established");
}

fn gr_fsm() -> Fsm {
    let mut c = cfg();
    c.capabilities.graceful_restart =
        Some(GracefulRestart { restart_time: 120, ..GracefulRestart::default() });
    Fsm::new(c)
}

fn gr_open() -> Message {
    let Message::Open(mut open) = peer_open([10, 0, 0, 2], 90) else { panic!() };
    open.caps.graceful_restart = Some(GracefulRestart {
        restarting: false,
        notification: false,
        restart_time: 100,
        families: vec![bird_bgp::wire::GrFamily { afi_safi: AfiSafi::IPV4_UNICAST, forwarding: true }],
    });
    Message::Open(open)
}

fn gr_establish(f: &mut Fsm, now: u64) -> Vec<Output> {
    step(f, now, Event::TimerExpired(Timer::ConnectDelay));
    step(f, now, Event::TcpConnected);
    step(f, now, Event::Received(OUT, gr_open()));
    step(f, now, Event::Received(OUT, Message::Keepalive))
}

#[test]
fn graceful_restart_peer_keeps_routes() {
    let mut f = gr_fsm();
    step(&mut f, 0, Event::Start);
    gr_establish(&mut f, 5);
    let o = step(&mut f, 10, Event::TcpClosed(OUT, None));
    assert!(o.iter().any(|x| matches!(x, Output::SessionDown { graceful: true, .. })));
    assert!(has(&o, &Output::StartTimer(Timer::GracefulRestart, 100)));
    assert!(has(&o, &Output::State(ProtoState::Start)));
    assert!(!has(&o, &Output::State(ProtoState::Stop)));
    assert!(has(&o, &Output::StartTimer(Timer::ConnectDelay, 5)));
    assert!(f.gr_active());
    // The peer comes back in time.
    let o = gr_establish(&mut f, 20);
    assert!(has(&o, &Output::StopTimer(Timer::GracefulRestart)));
    assert!(!f.gr_active());
    // It goes away again and does not come back: the stale routes are flushed.
    step(&mut f, 30, Event::TcpClosed(OUT, Some("Connection reset by peer".into())));
    let o = step(&mut f, 130, Event::TimerExpired(Timer::GracefulRestart));
    assert!(o.iter().any(|x| matches!(x, Output::SessionDown { graceful: false, .. })));
    assert!(has(&o, &Output::State(ProtoState::Down)));
    assert!(!f.gr_active());
}

#[test]
fn graceful_restart_by_new_connection() {
    let mut f = gr_fsm();
    step(&mut f, 0, Event::Start);
    gr_establish(&mut f, 5);
    let o = step(&mut f, 10, Event::TcpIncoming);
    assert!(o.iter().any(|x| matches!(x, Output::SessionDown { graceful: true, .. })));
    assert!(has(&o, &Output::Close(OUT)));
    assert!(has(&o, &Output::AcceptIncoming));
    assert_eq!(f.conn_state(INC), ConnState::OpenSent);
    // Without graceful restart the new connection is refused.
    let mut f = Fsm::new(cfg());
    establish(&mut f);
    assert_eq!(step(&mut f, 10, Event::TcpIncoming), vec![Output::RejectIncoming]);
}

#[test]
fn capability_lines_match_bird() {
    let c = Capabilities {
        multiprotocol: vec![AfiSafi::IPV4_UNICAST],
        route_refresh: true,
        graceful_restart: Some(GracefulRestart::default()),
        as4: Some(65001),
        enhanced_refresh: true,
        llgr: Some(vec![]),
        ..Capabilities::default()
    };
    let want = [
        "      Multiprotocol",
        "        AF announced: ipv4",
        "      Route refresh",
        "      Graceful restart",
        "      4-octet AS numbers",
        "      Enhanced refresh",
        "      Long-lived graceful restart",
    ];
    assert_eq!(capability_lines(&c), want);
    let c = Capabilities {
        llgr: Some(vec![LlgrFamily { afi_safi: AfiSafi::IPV6_UNICAST, forwarding: true, stale_time: 60 }]),
        role: Some(Role::RsClient),
        ..Capabilities::default()
    };
    assert_eq!(
        capability_lines(&c),
        [
            "      Long-lived graceful restart",
            "        LL stale time: 60",
            "        AF supported: ipv6",
            "        AF preserved: ipv6",
            "      Role: rs_client",
        ]
    );
}

fn show(f: &Fsm, remaining: &dyn Fn(Timer) -> Option<f64>) -> String {
    let info = bird_bgp::fsm::ShowInfo {
        neighbor: "127.0.0.3".into(),
        source: Some("127.0.0.2".parse().expect("ip")),
        multihop: true,
        rr_client: false,
        rs_client: false,
        send_hold_line: false,
        remaining,
    };
    f.show_lines(&info).join("\n")
}

#[test]
fn show_protocols_all_like_the_bird2_transcripts() {
    // 04-show-protocols-all-bgp: established (our capabilities as BIRD advertised them there).
    let mut c = FsmConfig::new(65001, PeerAs::Exact(65002), Ipv4Addr::new(127, 0, 0, 2));
    c.hold_time = 90;
    let mut f = Fsm::new(c.clone());
    step(&mut f, 0, Event::Start);
    step(&mut f, 5, Event::TimerExpired(Timer::ConnectDelay));
    step(&mut f, 5, Event::TcpConnected);
    let peer = Open::new(65002, 90, Ipv4Addr::new(127, 0, 0, 3), c.local_open().caps);
    step(&mut f, 6, Event::Received(OUT, Message::Open(peer)));
    step(&mut f, 6, Event::Received(OUT, Message::Keepalive));
    let rem = |t: Timer| match t {
        Timer::Hold(_) => Some(71.098),
        Timer::Keepalive(_) => Some(14.4),
        _ => None,
    };
    let caps = "      Multiprotocol\n        AF announced: ipv4\n      Route refresh\n      Graceful restart\n      \
                4-octet AS numbers\n      Enhanced refresh\n      Long-lived graceful restart";
    assert_eq!(
        show(&f, &rem),
        format!(
            "  BGP state:          Established\n    Neighbor address: 127.0.0.3\n    Neighbor AS:      65002\n    \
             Local AS:         65001\n    Neighbor ID:      127.0.0.3\n    Local capabilities\n{caps}\n    \
             Neighbor capabilities\n{caps}\n    Session:          external multihop AS4\n    \
             Source address:   127.0.0.2\n    Hold timer:       71.098/90\n    Keepalive timer:  14.400/30"
        )
    );

    // 06-show-protocols-all-bgp-down: connection refused, waiting to reconnect.
    let mut f = Fsm::new(FsmConfig::new(65001, PeerAs::Exact(65009), Ipv4Addr::new(127, 0, 0, 2)));
    step(&mut f, 0, Event::Start);
    step(&mut f, 5, Event::TimerExpired(Timer::ConnectDelay));
    step(&mut f, 5, Event::TcpConnectFailed("Connection refused".into()));
    let rem = |t: Timer| (t == Timer::ConnectDelay).then_some(2.328);
    assert_eq!(
        show(&f, &rem).replace("127.0.0.3", "127.0.0.9"),
        "  BGP state:          Active\n    Neighbor address: 127.0.0.9\n    Neighbor AS:      65009\n    \
         Local AS:         65001\n    Connect delay:    2.328/5\n    Last error:       Socket: Connection refused"
    );

    // 07-show-protocols-all-bgp-disabled.
    let f = Fsm::new(FsmConfig::new(65001, PeerAs::Exact(65010), Ipv4Addr::new(127, 0, 0, 2)));
    assert_eq!(
        show(&f, &|_| None).replace("127.0.0.3", "127.0.0.10"),
        "  BGP state:          Down\n    Neighbor address: 127.0.0.10\n    Neighbor AS:      65010\n    \
         Local AS:         65001"
    );
}

#[test]
fn config_helpers_and_negotiation() {
    use bird_bgp::wire::AddPathMode;
    let mut c = cfg();
    c.set_families(&[AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST]);
    c.set_graceful_restart(90, Some(&[AfiSafi::IPV4_UNICAST]));
    c.set_add_paths(AfiSafi::IPV4_UNICAST, Some(AddPathMode::Both));
    c.set_extended_next_hop(AfiSafi::IPV4_UNICAST, true);
    c.keepalive_time = Some(10);
    let local = c.local_open();
    assert_eq!(local.caps.add_path_mode(AfiSafi::IPV4_UNICAST), Some(AddPathMode::Both));
    assert!(local.caps.ext_next_hop_for(AfiSafi::IPV4_UNICAST));
    assert_eq!(local.caps.graceful_restart.as_ref().map(|g| g.families.len()), Some(1));
    // The peer: IPv4 only, ADD-PATH receive, extended next hop.
    let Message::Open(mut peer) = peer_open([10, 0, 0, 2], 30) else { panic!() };
    peer.caps.add_path = vec![(AfiSafi::IPV4_UNICAST, AddPathMode::Receive)];
    peer.caps.ext_next_hop = local.caps.ext_next_hop.clone();
    let s = bird_bgp::fsm::Session::negotiate(&c, OUT, local, peer);
    assert_eq!(s.families, vec![AfiSafi::IPV4_UNICAST]);
    assert_eq!((s.hold_time, s.keepalive_time), (30, 10));
    assert_eq!(s.ctx.add_path_tx, vec![AfiSafi::IPV4_UNICAST]);
    assert!(s.ctx.add_path_rx.is_empty());
    assert_eq!(s.ctx.ext_next_hop_tx, vec![AfiSafi::IPV4_UNICAST]);
    assert!(s.route_refresh && !s.enhanced_refresh);
    c.set_add_paths(AfiSafi::IPV4_UNICAST, None);
    c.set_graceful_restart(0, None);
    assert!(c.capabilities.add_path.is_empty() && c.capabilities.graceful_restart.is_none());
}

#[test]
fn peer_without_capabilities_support() {
    let mut f = Fsm::new(cfg());
    step(&mut f, 0, Event::Start);
    step(&mut f, 5, Event::TimerExpired(Timer::ConnectDelay));
    let o = step(&mut f, 5, Event::TcpConnected);
    assert!(o.iter().any(|x| matches!(x, Output::Send(_, Message::Open(op)) if op.caps.as4.is_some())));
    step(&mut f, 6, Event::Received(OUT, Message::Notification(Notification::new(2, 4, vec![]))));
    assert_eq!(
        f.last_error().map(|e| e.to_string()).as_deref(),
        Some("Received: Unsupported optional parameter")
    );
    step(&mut f, 66, Event::TimerExpired(Timer::ErrorWait));
    step(&mut f, 71, Event::TimerExpired(Timer::ConnectDelay));
    let o = step(&mut f, 71, Event::TcpConnected);
    assert!(o
        .iter()
        .any(|x| matches!(x, Output::Send(_, Message::Open(op)) if op.caps == Capabilities::default())));
}
