//! The BGP part of `show protocols all`, rendered as BIRD does from the FSM plus what only the
//! adapter knows (addresses, timer remainders).

use std::net::IpAddr;

use super::{capability_lines, ConnId, ConnState, Fsm, PeerAs, ProtoState, Timer};

/// What the adapter adds to the FSM's state for `show protocols all`.
pub struct ShowInfo<'a> {
    /// The neighbour as BIRD prints it (`127.0.0.3`, `fe80::1%eth0`).
    pub neighbor: String,
    /// The local address of the session (`Source address:`).
    pub source: Option<IpAddr>,
    /// `multihop` is configured.
    pub multihop: bool,
    /// `rr client` is configured.
    pub rr_client: bool,
    /// `rs client` is configured.
    pub rs_client: bool,
    /// Print BIRD 3's `Send hold timer:` line.
    pub send_hold_line: bool,
    /// Seconds left on a running timer, `None` when it is not running.
    pub remaining: &'a dyn Fn(Timer) -> Option<f64>,
}

impl std::fmt::Debug for ShowInfo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShowInfo").field("neighbor", &self.neighbor).field("source", &self.source).finish()
    }
}

impl Fsm {
    /// The peer's ASN as BIRD shows it: learned from the OPEN, else configured.
    pub fn neighbor_as(&self) -> u32 {
        if let Some(s) = self.session() {
            return s.peer_as;
        }
        match self.config().peer_as {
            PeerAs::Exact(a) => a,
            PeerAs::Internal => self.config().local_as,
            PeerAs::External => 0,
        }
    }

    /// The lines BIRD prints for a BGP protocol in `show protocols all` between the common header and
    /// the channels (`  BGP state:` to `    Last error:`), without the CLI's line prefixes.
    pub fn show_lines(&self, info: &ShowInfo<'_>) -> Vec<String> {
        let t = |timer: Timer| (info.remaining)(timer);
        let mut v = vec![
            format!("  BGP state:          {}", self.state_name()),
            format!("    Neighbor address: {}", info.neighbor),
            format!("    Neighbor AS:      {}", self.neighbor_as()),
            format!("    Local AS:         {}", self.config().local_as),
        ];
        if self.gr_active() {
            v.push("    Neighbor graceful restart active".into());
        }
        match self.proto_state() {
            ProtoState::Start => {
                if self.in_error_wait() {
                    if let Some(r) = t(Timer::ErrorWait) {
                        v.push(format!("    Error wait:       {r:.3}/{}", self.error_wait()));
                    }
                }
                if self.conn_state(ConnId::Outgoing) == ConnState::Active {
                    if let Some(r) = t(Timer::ConnectDelay) {
                        v.push(format!("    Connect delay:    {r:.3}/{}", self.config().connect_delay_time));
                    }
                }
                if self.gr_active() {
                    if let Some(r) = t(Timer::GracefulRestart) {
                        v.push(format!("    Restart timer:    {r:.3}/-"));
                    }
                }
            }
            ProtoState::Up => {
                if let Some(s) = self.session() {
                    v.push(format!("    Neighbor ID:      {}", s.peer_id));
                    v.push("    Local capabilities".into());
                    v.extend(capability_lines(&s.local_open.caps));
                    v.push("    Neighbor capabilities".into());
                    v.extend(capability_lines(&s.remote_open.caps));
                    v.push(format!(
                        "    Session:          {}",
                        s.session_line(info.multihop, info.rr_client, info.rs_client)
                    ));
                    if let Some(src) = info.source {
                        v.push(format!("    Source address:   {}", birdnet::DisplayIp(src)));
                    }
                    let c = s.conn;
                    let timer = |name: &str, tm: Timer, total: u32| {
                        format!("    {name:<18}{:.3}/{total}", t(tm).unwrap_or(0.0))
                    };
                    v.push(timer("Hold timer:", Timer::Hold(c), u32::from(s.hold_time)));
                    v.push(timer("Keepalive timer:", Timer::Keepalive(c), u32::from(s.keepalive_time)));
                    if info.send_hold_line {
                        let total = self.config().send_hold_time.map_or(0, u32::from);
                        v.push(timer("Send hold timer:", Timer::SendHold(c), total));
                    }
                }
            }
            ProtoState::Down | ProtoState::Stop => {}
        }
        if let Some(line) = self.last_error().and_then(|e| e.show_line()) {
            v.push(format!("    Last error:       {line}"));
        }
        v
    }
}
