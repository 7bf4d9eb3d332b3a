//! The BGP finite state machine (RFC 4271 §8), sans-IO: `(state, event) → (state, outputs)`.
//!
//! One [`Fsm`] is one BGP protocol instance with its two connections, outgoing and incoming, as in
//! BIRD. The adapter feeds [`Event`]s (operator start/stop, timer expiry, TCP results, decoded
//! messages) with the current time in seconds, and carries out the [`Output`]s (open or close a
//! connection, send a message, start or stop a timer, tell the routing glue the session is up or
//! down). No clock is read and no socket touched here.
//!
//! ```text
//!            Start                 delay expires        TcpConnected          OPEN ok          KEEPALIVE
//!   Down ─────────────▶ Idle ──(error wait)──▶ Active ──(connect delay)──▶ Connect ──▶ OpenSent ──▶ OpenConfirm ──▶ Established
//!                        ▲                       ▲  TcpConnectFailed / retry   │          │               │
//!                        └───────────────────────┴─────────────────────────────┴──────────┴───────────────┘
//!                                          error: NOTIFICATION, close, error wait doubles
//! ```
//!
//! Protocol-level states follow BIRD: `Start` while connecting, `Up` while established, `Stop` while
//! closing, `Down` when stopped. A protocol error (anything but a Cease) doubles the error wait
//! (`error wait time min,max`, forgotten after `error forget time`) and restarts the protocol after
//! it; an operator stop sends Cease and stays down.
//!
//! Collision detection (RFC 4271 §6.8): when both connections reach OpenConfirm, the one initiated by
//! the side with the lower BGP identifier is closed with Cease/Connection collision resolution; a new
//! connection while one is established is refused.
//!
//! Invariants: at most one connection is Established; timers are keyed by [`Timer`] and every timer
//! the FSM relies on was started by an output; events that cannot happen in the current state (a TCP
//! result for a connection not being opened, a message on a closed connection) are rejected with
//! [`FsmError`] and change nothing.

mod error;
mod session;
mod show;

use std::fmt;
use std::net::Ipv4Addr;

pub use error::{LastError, MiscError};
pub use session::{capability_lines, Session};
pub use show::ShowInfo;

use crate::wire::{
    AddPathMode, AfiSafi, Capabilities, ExtNextHop, GrFamily, GracefulRestart, Message, Notification, Open,
    Role, WireError,
};

/// Which of the two connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnId {
    /// The connection we opened.
    Outgoing,
    /// The connection the peer opened.
    Incoming,
}

/// State of one connection (RFC 4271 §8.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConnState {
    /// No connection.
    Idle,
    /// TCP connect in progress.
    Connect,
    /// Waiting to connect (connect delay) or for the peer.
    Active,
    /// OPEN sent, waiting for the peer's.
    OpenSent,
    /// OPENs exchanged, waiting for KEEPALIVE.
    OpenConfirm,
    /// Session up.
    Established,
}

impl ConnState {
    /// The name BIRD shows (`Idle`, `Connect`, `Active`, `OpenSent`, `OpenConfirm`, `Established`).
    pub fn name(self) -> &'static str {
        match self {
            ConnState::Idle => "Idle",
            ConnState::Connect => "Connect",
            ConnState::Active => "Active",
            ConnState::OpenSent => "OpenSent",
            ConnState::OpenConfirm => "OpenConfirm",
            ConnState::Established => "Established",
        }
    }
}

impl fmt::Display for ConnState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Protocol state as `show protocols` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtoState {
    /// `down`.
    Down,
    /// `start`.
    Start,
    /// `up`.
    Up,
    /// `stop`.
    Stop,
}

impl ProtoState {
    /// The word in the State column.
    pub fn name(self) -> &'static str {
        match self {
            ProtoState::Down => "down",
            ProtoState::Start => "start",
            ProtoState::Up => "up",
            ProtoState::Stop => "stop",
        }
    }
}

/// The timers of a protocol instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Error wait (BIRD's startup delay) before (re)starting after an error.
    ErrorWait,
    /// Delay before an outgoing connect (`connect delay time`).
    ConnectDelay,
    /// Outgoing connect timeout (`connect retry time`).
    ConnectRetry,
    /// Hold timer of a connection.
    Hold(ConnId),
    /// Keepalive timer of a connection.
    Keepalive(ConnId),
    /// Send hold timer of a connection (RFC 9687).
    SendHold(ConnId),
    /// The peer's restart time while it restarts gracefully (RFC 4724 receiving side).
    GracefulRestart,
}

/// The neighbour AS as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerAs {
    /// `neighbor ... as N`.
    Exact(u32),
    /// `neighbor ... internal`: same AS as ours.
    Internal,
    /// `neighbor ... external`: any AS but ours.
    External,
}

/// What the FSM needs from the configuration (CONFIG-SUBSET §4 bgp). Times are seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsmConfig {
    /// `local as`.
    pub local_as: u32,
    /// `neighbor ... as`.
    pub peer_as: PeerAs,
    /// `router id`.
    pub router_id: Ipv4Addr,
    /// `hold time` (default 240).
    pub hold_time: u16,
    /// `startup hold time`: hold time before the OPEN exchange (default 240).
    pub startup_hold_time: u16,
    /// `keepalive time`; `None` means a third of the negotiated hold time.
    pub keepalive_time: Option<u16>,
    /// `connect retry time` (default 120).
    pub connect_retry_time: u32,
    /// `connect delay time` (default 5).
    pub connect_delay_time: u32,
    /// `error wait time` minimum (default 60).
    pub error_wait_min: u32,
    /// `error wait time` maximum (default 300).
    pub error_wait_max: u32,
    /// `error forget time` (default 300).
    pub error_forget_time: u32,
    /// `disable after error`.
    pub disable_after_error: bool,
    /// `passive`: never connect, only accept.
    pub passive: bool,
    /// `capabilities` (default on): send capabilities at all.
    pub advertise_capabilities: bool,
    /// The capabilities to advertise (families, route refresh, GR, ADD-PATH, ...); `as4` is filled
    /// from `local_as` when set.
    pub capabilities: Capabilities,
    /// `local role` (RFC 9234).
    pub role: Option<Role>,
    /// `require roles`: refuse a peer that does not announce its role.
    pub require_role: bool,
    /// `send hold time` (RFC 9687); `None` disables it.
    pub send_hold_time: Option<u16>,
}

impl FsmConfig {
    /// A configuration with BIRD's defaults: IPv4 unicast, route refresh, enhanced refresh, 4-byte
    /// ASNs, graceful restart and long-lived graceful restart aware (the receiving side).
    pub fn new(local_as: u32, peer_as: PeerAs, router_id: Ipv4Addr) -> FsmConfig {
        FsmConfig {
            local_as,
            peer_as,
            router_id,
            hold_time: 240,
            startup_hold_time: 240,
            keepalive_time: None,
            connect_retry_time: 120,
            connect_delay_time: 5,
            error_wait_min: 60,
            error_wait_max: 300,
            error_forget_time: 300,
            disable_after_error: false,
            passive: false,
            advertise_capabilities: true,
            capabilities: Capabilities {
                multiprotocol: vec![AfiSafi::IPV4_UNICAST],
                route_refresh: true,
                enhanced_refresh: true,
                as4: Some(local_as),
                // BIRD is graceful restart and long-lived graceful restart aware by default.
                graceful_restart: Some(GracefulRestart { restart_time: 120, ..GracefulRestart::default() }),
                llgr: Some(Vec::new()),
                ..Capabilities::default()
            },
            role: None,
            require_role: false,
            send_hold_time: None,
        }
    }

    /// `ipv4 { ... }` / `ipv6 { ... }` channels: the families advertised in the multiprotocol
    /// capability.
    pub fn set_families(&mut self, families: &[AfiSafi]) {
        self.capabilities.multiprotocol = families.to_vec();
    }

    /// `graceful restart on|off|aware`: `None` turns the capability off, `Some(&[])` is aware only
    /// (receiving side), families make us able to restart with forwarding preserved for them.
    pub fn set_graceful_restart(&mut self, restart_time: u16, families: Option<&[AfiSafi]>) {
        self.capabilities.graceful_restart = families.map(|f| GracefulRestart {
            restart_time,
            families: f.iter().map(|&afi_safi| GrFamily { afi_safi, forwarding: true }).collect(),
            ..GracefulRestart::default()
        });
    }

    /// Channel `add paths rx|tx|on`: the ADD-PATH mode advertised for `af`, `None` to remove it.
    pub fn set_add_paths(&mut self, af: AfiSafi, mode: Option<AddPathMode>) {
        self.capabilities.add_path.retain(|(a, _)| *a != af);
        if let Some(m) = mode {
            self.capabilities.add_path.push((af, m));
        }
    }

    /// Channel `extended next hop on|off` (RFC 8950): accept IPv6 next hops for `af`.
    pub fn set_extended_next_hop(&mut self, af: AfiSafi, on: bool) {
        self.capabilities.ext_next_hop.retain(|e| e.afi_safi != af);
        if on {
            self.capabilities.ext_next_hop.push(ExtNextHop { afi_safi: af, nh_afi: 2 });
        }
    }

    /// Whether the session is internal for a peer in `asn`.
    pub fn is_internal(&self, asn: u32) -> bool {
        asn == self.local_as
    }

    /// The OPEN we send.
    pub fn local_open(&self) -> Open {
        let mut caps =
            if self.advertise_capabilities { self.capabilities.clone() } else { Capabilities::default() };
        if self.advertise_capabilities {
            caps.role = self.role.or(caps.role);
        }
        Open::new(self.local_as, self.hold_time, self.router_id, caps)
    }
}

/// An input to the FSM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Operator start (ManualStart; the protocol is enabled).
    Start,
    /// Operator stop (ManualStop): Cease with this subcode (2 administrative shutdown, 3 peer
    /// de-configured, 4 administrative reset, ...) and an optional shutdown communication.
    Stop {
        /// Cease subcode.
        subcode: u8,
        /// RFC 9003 message.
        message: Option<String>,
    },
    /// A timer the FSM started expired.
    TimerExpired(Timer),
    /// The outgoing TCP connection is up.
    TcpConnected,
    /// The outgoing TCP connection failed (OS error text, `Connection refused`).
    TcpConnectFailed(String),
    /// The peer opened a connection; the FSM answers with [`Output::AcceptIncoming`] or
    /// [`Output::RejectIncoming`].
    TcpIncoming,
    /// An open connection was closed by the peer or failed (`None`: clean close).
    TcpClosed(ConnId, Option<String>),
    /// A message arrived on a connection.
    Received(ConnId, Message),
    /// A message could not be framed or decoded: the NOTIFICATION in the error is sent.
    ReceiveError(ConnId, WireError),
    /// Bytes were written to a connection (restarts keepalive and send hold timers).
    Sent(ConnId),
    /// A receive or import limit with action `restart` (`true`) or `disable` was hit: Cease
    /// "Maximum number of prefixes reached" (6/1), last error `Automatic shutdown: Route limit
    /// exceeded`; with `restart` the protocol starts again after the (doubled) error wait, else it
    /// stays down.
    RouteLimit {
        /// Restart (else disable).
        restart: bool,
    },
}

/// An output for the adapter to carry out, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Open the outgoing TCP connection.
    Connect,
    /// Accept the incoming connection just reported.
    AcceptIncoming,
    /// Refuse the incoming connection just reported (close it).
    RejectIncoming,
    /// Send a message on a connection.
    Send(ConnId, Message),
    /// Close a connection after flushing what was queued for it.
    Close(ConnId),
    /// Start (or restart) a timer; the adapter may apply BGP jitter (up to a quarter less).
    StartTimer(Timer, u32),
    /// Stop a timer.
    StopTimer(Timer),
    /// The protocol state changed.
    State(ProtoState),
    /// The session is established: the routing glue starts with these parameters.
    Established(Box<Session>),
    /// The established session ended; `graceful` when the peer can restart gracefully (keep its
    /// routes as stale, RFC 4724).
    SessionDown {
        /// Why.
        error: LastError,
        /// Graceful restart applies.
        graceful: bool,
    },
    /// An UPDATE or ROUTE-REFRESH for the routing glue.
    Deliver(Message),
    /// A line for the protocol's log.
    Log(String),
}

/// An event that cannot happen in the current state (an adapter bug).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {event} not allowed in state {state}")]
pub struct FsmError {
    /// The event, briefly.
    pub event: String,
    /// The state, briefly.
    pub state: String,
}

/// Where the protocol is in starting up (BIRD's start states).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum StartState {
    /// Waiting for the error wait timer.
    Delay,
    /// Connecting or accepting.
    Connect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Conn {
    state: ConnState,
    remote: Option<Open>,
    hold: u16,
    keepalive: u16,
}

impl Conn {
    fn new() -> Conn {
        Conn { state: ConnState::Idle, remote: None, hold: 0, keepalive: 0 }
    }
}

/// One BGP protocol instance's state machine. See the module docs.
#[derive(Debug, Clone)]
pub struct Fsm {
    cfg: FsmConfig,
    proto: ProtoState,
    start: StartState,
    out: Conn,
    inc: Conn,
    error_wait: u32,
    last_error_time: Option<u64>,
    last_error: Option<LastError>,
    session: Option<Box<Session>>,
    disabled: bool,
    now: u64,
    gr_active: bool,
    gr_by_incoming: bool,
    no_caps: bool,
}

impl Fsm {
    /// A stopped instance.
    pub fn new(cfg: FsmConfig) -> Fsm {
        Fsm {
            cfg,
            proto: ProtoState::Down,
            start: StartState::Connect,
            out: Conn::new(),
            inc: Conn::new(),
            error_wait: 0,
            last_error_time: None,
            last_error: None,
            session: None,
            disabled: true,
            now: 0,
            gr_active: false,
            gr_by_incoming: false,
            no_caps: false,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &FsmConfig {
        &self.cfg
    }

    /// Protocol state.
    pub fn proto_state(&self) -> ProtoState {
        self.proto
    }

    /// State of one connection.
    pub fn conn_state(&self, c: ConnId) -> ConnState {
        self.conn(c).state
    }

    /// The `BGP state:` of `show protocols all`: `Down`, `Passive`, or the furthest connection state.
    pub fn state_name(&self) -> &'static str {
        if self.proto == ProtoState::Down {
            return "Down";
        }
        let s = self.out.state.max(self.inc.state);
        if s == ConnState::Idle && self.start == StartState::Connect && self.cfg.passive {
            return "Passive";
        }
        s.name()
    }

    /// The Info column of `show protocols`: the state padded to 14 and the last error.
    pub fn status_info(&self) -> String {
        let err = self.last_error.as_ref().map(|e| e.to_string()).unwrap_or_default();
        if self.proto == ProtoState::Down {
            err
        } else {
            format!("{:<14}{}", self.state_name(), err)
        }
    }

    /// Whether the instance stays down once stopped (an operator stop, `disable after error`, a
    /// limit with action `disable`) rather than starting again after the error wait.
    pub fn is_disabled(&self) -> bool {
        self.disabled
    }

    /// The last error.
    pub fn last_error(&self) -> Option<&LastError> {
        self.last_error.as_ref()
    }

    /// The current error wait (startup delay) in seconds, 0 when none.
    pub fn error_wait(&self) -> u32 {
        self.error_wait
    }

    /// Whether the error wait timer is what the protocol is waiting for (`Error wait:` line).
    pub fn in_error_wait(&self) -> bool {
        self.proto == ProtoState::Start && self.start == StartState::Delay
    }

    /// Whether the neighbour is restarting gracefully and its routes are kept as stale
    /// (`Neighbor graceful restart active`).
    pub fn gr_active(&self) -> bool {
        self.gr_active
    }

    /// The OPEN to send: the configured one, without capabilities after the peer refused them.
    fn local_open(&self) -> Open {
        let mut open = self.cfg.local_open();
        if self.no_caps {
            open.caps = Capabilities::default();
        }
        open
    }

    /// Whether both sides can do graceful restart on the current session: we advertise the
    /// capability and the peer preserves at least one family.
    fn gr_ready(&self) -> bool {
        self.cfg.capabilities.graceful_restart.is_some()
            && self
                .session
                .as_ref()
                .and_then(|s| s.remote_open.caps.graceful_restart.as_ref())
                .is_some_and(|g| !g.families.is_empty())
    }

    /// The established session.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_deref()
    }

    fn conn(&self, c: ConnId) -> &Conn {
        match c {
            ConnId::Outgoing => &self.out,
            ConnId::Incoming => &self.inc,
        }
    }

    fn conn_mut(&mut self, c: ConnId) -> &mut Conn {
        match c {
            ConnId::Outgoing => &mut self.out,
            ConnId::Incoming => &mut self.inc,
        }
    }

    fn illegal(&self, ev: &Event) -> FsmError {
        let name = match ev {
            Event::Start => "Start".to_string(),
            Event::Stop { .. } => "Stop".to_string(),
            Event::TimerExpired(t) => format!("TimerExpired({t:?})"),
            Event::TcpConnected => "TcpConnected".to_string(),
            Event::TcpConnectFailed(_) => "TcpConnectFailed".to_string(),
            Event::TcpIncoming => "TcpIncoming".to_string(),
            Event::TcpClosed(c, _) => format!("TcpClosed({c:?})"),
            Event::Received(c, m) => format!("Received({c:?}, {})", m.kind().name()),
            Event::ReceiveError(c, _) => format!("ReceiveError({c:?})"),
            Event::Sent(c) => format!("Sent({c:?})"),
            Event::RouteLimit { .. } => "RouteLimit".to_string(),
        };
        FsmError {
            event: name,
            state: format!(
                "{} (outgoing {}, incoming {})",
                self.proto.name(),
                self.out.state,
                self.inc.state
            ),
        }
    }

    /// Feed one event at time `now` (seconds, any monotonic origin); returns the outputs.
    pub fn step(&mut self, now: u64, ev: Event) -> Result<Vec<Output>, FsmError> {
        let prev = self.now;
        self.now = now;
        let r = self.step_inner(ev);
        if r.is_err() {
            self.now = prev;
        }
        r
    }

    fn step_inner(&mut self, ev: Event) -> Result<Vec<Output>, FsmError> {
        let mut o = Vec::new();
        match ev {
            Event::Start => {
                if self.proto != ProtoState::Down {
                    return Err(self.illegal(&Event::Start));
                }
                self.disabled = false;
                self.no_caps = false;
                self.error_wait = 0;
                self.last_error = None;
                self.proto_start(&mut o);
            }
            Event::Stop { subcode, message } => {
                if matches!(self.proto, ProtoState::Down) {
                    return Err(self.illegal(&Event::Stop { subcode, message }));
                }
                self.disabled = true;
                let n = match &message {
                    Some(m) if matches!(subcode, 2 | 4) => Notification::cease_with_message(subcode, m),
                    _ => Notification::new(6, subcode, Vec::new()),
                };
                self.last_error = Some(LastError::Manual);
                self.proto_stop(&mut o, Some(n));
            }
            Event::TimerExpired(t) => {
                self.timer(t, &mut o).map_err(|()| self.illegal(&Event::TimerExpired(t)))?
            }
            Event::RouteLimit { restart } => {
                if !matches!(self.proto, ProtoState::Start | ProtoState::Up) {
                    return Err(self.illegal(&Event::RouteLimit { restart }));
                }
                o.push(Output::Log("Route limit exceeded, shutting down".into()));
                self.last_error = Some(LastError::RouteLimit);
                if restart {
                    self.bump_error_wait();
                } else {
                    self.disabled = true;
                }
                self.proto_stop(&mut o, Some(Notification::new(6, 1, Vec::new())));
            }
            Event::TcpConnected => {
                if self.out.state != ConnState::Connect {
                    return Err(self.illegal(&Event::TcpConnected));
                }
                o.push(Output::StopTimer(Timer::ConnectRetry));
                self.send_open(ConnId::Outgoing, &mut o);
            }
            Event::TcpConnectFailed(e) => {
                if self.out.state != ConnState::Connect {
                    return Err(self.illegal(&Event::TcpConnectFailed(e)));
                }
                o.push(Output::StopTimer(Timer::ConnectRetry));
                o.push(Output::Log(format!("Connection failed: {e}")));
                self.store_error(LastError::Socket(Some(e)));
                self.conn_idle(ConnId::Outgoing, &mut o);
                self.decide(&mut o);
            }
            Event::TcpIncoming => {
                // A new connection while established from a peer that restarts gracefully: the old
                // session is gone (RFC 4724 §4.2).
                let est = [ConnId::Outgoing, ConnId::Incoming]
                    .into_iter()
                    .find(|&c| self.conn(c).state == ConnState::Established);
                if let (Some(c), true) = (est, self.gr_ready()) {
                    self.gr_by_incoming = true;
                    self.store_error(LastError::Misc(MiscError::GracefulRestart));
                    self.conn_idle(c, &mut o);
                    self.gr_by_incoming = false;
                }
                let acceptable = matches!(self.proto, ProtoState::Start | ProtoState::Up)
                    && self.start == StartState::Connect
                    && self.inc.state == ConnState::Idle
                    && self.out.state != ConnState::Established;
                if acceptable {
                    o.push(Output::AcceptIncoming);
                    self.send_open(ConnId::Incoming, &mut o);
                } else {
                    o.push(Output::RejectIncoming);
                }
            }
            Event::TcpClosed(c, e) => {
                if self.conn(c).state < ConnState::OpenSent {
                    return Err(self.illegal(&Event::TcpClosed(c, e)));
                }
                o.push(Output::Log(match &e {
                    Some(e) => format!("Connection lost ({e})"),
                    None => "Connection closed".to_string(),
                }));
                self.store_error(LastError::Socket(e));
                self.conn_idle(c, &mut o);
                self.decide(&mut o);
            }
            Event::Received(c, m) => {
                if self.conn(c).state < ConnState::OpenSent {
                    return Err(self.illegal(&Event::Received(c, m)));
                }
                self.received(c, m, &mut o);
            }
            Event::ReceiveError(c, e) => {
                if self.conn(c).state < ConnState::OpenSent {
                    return Err(self.illegal(&Event::ReceiveError(c, e)));
                }
                o.push(Output::Log(format!("Error: {}", e.reason)));
                self.error(c, e.notification, &mut o);
            }
            Event::Sent(c) => {
                let conn = self.conn(c);
                if conn.state < ConnState::OpenSent {
                    return Err(self.illegal(&Event::Sent(c)));
                }
                if conn.state >= ConnState::OpenConfirm && conn.keepalive > 0 {
                    o.push(Output::StartTimer(Timer::Keepalive(c), u32::from(conn.keepalive)));
                }
                if let (ConnState::Established, Some(t)) = (conn.state, self.cfg.send_hold_time) {
                    o.push(Output::StartTimer(Timer::SendHold(c), u32::from(t)));
                }
            }
        }
        Ok(o)
    }

    fn set_proto(&mut self, s: ProtoState, o: &mut Vec<Output>) {
        if self.proto != s {
            self.proto = s;
            o.push(Output::State(s));
        }
    }

    fn proto_start(&mut self, o: &mut Vec<Output>) {
        self.set_proto(ProtoState::Start, o);
        if self.error_wait > 0 {
            self.start = StartState::Delay;
            o.push(Output::Log(format!("Startup delayed by {} seconds due to errors", self.error_wait)));
            o.push(Output::StartTimer(Timer::ErrorWait, self.error_wait));
        } else {
            self.startup(o);
        }
    }

    fn startup(&mut self, o: &mut Vec<Output>) {
        self.start = StartState::Connect;
        o.push(Output::Log("Started".into()));
        if !self.cfg.passive {
            self.activate(o);
        }
    }

    /// Outgoing connection: wait `connect delay time`, then connect.
    fn activate(&mut self, o: &mut Vec<Output>) {
        self.out.state = ConnState::Active;
        o.push(Output::StartTimer(Timer::ConnectDelay, self.cfg.connect_delay_time.max(1)));
    }

    /// BIRD's decision step after a connection went idle: reconnect, or finish stopping.
    fn decide(&mut self, o: &mut Vec<Output>) {
        match self.proto {
            ProtoState::Start | ProtoState::Up
                if self.start == StartState::Connect
                    && self.out.state == ConnState::Idle
                    && self.inc.state != ConnState::OpenConfirm
                    && !self.cfg.passive =>
            {
                self.activate(o)
            }
            ProtoState::Stop if self.out.state == ConnState::Idle && self.inc.state == ConnState::Idle => {
                self.set_proto(ProtoState::Down, o);
                o.push(Output::Log("Down".into()));
                if !self.disabled {
                    self.proto_start(o);
                }
            }
            _ => {}
        }
    }

    fn store_error(&mut self, e: LastError) {
        // While stopping, keep the error that caused the stop.
        if self.proto != ProtoState::Stop {
            self.last_error = Some(e);
        }
    }

    /// Double the error wait (BIRD's startup delay); forget it after `error forget time`.
    fn bump_error_wait(&mut self) {
        if let Some(t) = self.last_error_time {
            if self.now.saturating_sub(t) >= u64::from(self.cfg.error_forget_time) {
                self.error_wait = 0;
            }
        }
        self.last_error_time = Some(self.now);
        if self.cfg.disable_after_error {
            self.error_wait = 0;
            self.disabled = true;
            return;
        }
        self.error_wait = if self.error_wait == 0 {
            self.cfg.error_wait_min
        } else {
            (2 * self.error_wait).min(self.cfg.error_wait_max)
        };
    }

    fn stop_conn_timers(c: ConnId, o: &mut Vec<Output>) {
        o.push(Output::StopTimer(Timer::Hold(c)));
        o.push(Output::StopTimer(Timer::Keepalive(c)));
        o.push(Output::StopTimer(Timer::SendHold(c)));
    }

    /// Close a connection (without a NOTIFICATION) and make it idle.
    fn conn_idle(&mut self, c: ConnId, o: &mut Vec<Output>) {
        let was = self.conn(c).state;
        match was {
            ConnState::Idle => return,
            ConnState::Active if c == ConnId::Outgoing => o.push(Output::StopTimer(Timer::ConnectDelay)),
            ConnState::Connect => {
                o.push(Output::StopTimer(Timer::ConnectRetry));
                o.push(Output::Close(c));
            }
            _ => {
                Self::stop_conn_timers(c, o);
                o.push(Output::Close(c));
            }
        }
        *self.conn_mut(c) = Conn::new();
        if was == ConnState::OpenConfirm && self.session.as_ref().is_some_and(|s| s.conn == c) {
            self.session = None;
        }
        if was == ConnState::Established {
            self.leave_established(o);
        }
    }

    fn leave_established(&mut self, o: &mut Vec<Output>) {
        o.push(Output::Log("BGP session closed".into()));
        let graceful = self.gr_ready()
            && self.proto == ProtoState::Up
            && (self.gr_by_incoming || matches!(self.last_error, Some(LastError::Socket(_))));
        let restart_time = self
            .session
            .as_ref()
            .and_then(|s| s.remote_open.caps.graceful_restart.as_ref())
            .map_or(0, |g| g.restart_time);
        self.session = None;
        let error = self.last_error.clone().unwrap_or(LastError::Socket(None));
        o.push(Output::SessionDown { error, graceful });
        if graceful {
            // Keep the routes as stale and wait for the peer to come back (BIRD keeps the protocol
            // in Start meanwhile).
            o.push(Output::Log("Neighbor graceful restart detected".into()));
            self.gr_active = true;
            self.set_proto(ProtoState::Start, o);
            o.push(Output::StartTimer(Timer::GracefulRestart, u32::from(restart_time)));
        } else if self.proto == ProtoState::Up {
            // The protocol restarts through Stop → Down → Start, as BIRD's does.
            self.proto_stop(o, None);
        }
    }

    /// Stop the protocol: Cease open connections (with `cease`), close the others, go Down.
    fn proto_stop(&mut self, o: &mut Vec<Output>, cease: Option<Notification>) {
        self.set_proto(ProtoState::Stop, o);
        if self.gr_active {
            // The stale routes go with the protocol.
            self.gr_active = false;
            o.push(Output::StopTimer(Timer::GracefulRestart));
            let error = self.last_error.clone().unwrap_or(LastError::Manual);
            o.push(Output::SessionDown { error, graceful: false });
        }
        o.push(Output::StopTimer(Timer::ErrorWait));
        for c in [ConnId::Outgoing, ConnId::Incoming] {
            if self.conn(c).state >= ConnState::OpenSent {
                if let Some(n) = &cease {
                    o.push(Output::Send(c, Message::Notification(n.clone())));
                }
            }
            self.conn_idle(c, o);
        }
        self.decide(o);
    }

    /// A protocol error on connection `c`: send the NOTIFICATION, close, and (unless it is a Cease)
    /// stop the protocol with a longer error wait.
    fn error(&mut self, c: ConnId, n: Notification, o: &mut Vec<Output>) {
        o.push(Output::Log(format!("Error: {n}")));
        self.store_error(LastError::Sent(n.clone()));
        o.push(Output::Send(c, Message::Notification(n.clone())));
        self.fail(c, n.code != 6, o);
    }

    /// Close connection `c` after an error; a protocol error (`hard`) lengthens the error wait and
    /// stops the protocol (which restarts after the wait unless disabled).
    fn fail(&mut self, c: ConnId, hard: bool, o: &mut Vec<Output>) {
        if hard {
            self.bump_error_wait();
        }
        self.conn_idle(c, o);
        if hard && matches!(self.proto, ProtoState::Start | ProtoState::Up) {
            self.proto_stop(o, None);
        } else {
            self.decide(o);
        }
    }

    fn send_open(&mut self, c: ConnId, o: &mut Vec<Output>) {
        o.push(Output::Send(c, Message::Open(self.local_open())));
        let conn = self.conn_mut(c);
        conn.state = ConnState::OpenSent;
        conn.hold = 0;
        let t = u32::from(self.cfg.startup_hold_time);
        if t > 0 {
            o.push(Output::StartTimer(Timer::Hold(c), t));
        }
    }

    fn timer(&mut self, t: Timer, o: &mut Vec<Output>) -> Result<(), ()> {
        match t {
            Timer::GracefulRestart => {
                if !self.gr_active {
                    return Err(());
                }
                o.push(Output::Log("Neighbor graceful restart timeout".into()));
                self.proto_stop(o, None);
            }
            Timer::ErrorWait => {
                if !(self.proto == ProtoState::Start && self.start == StartState::Delay) {
                    return Err(());
                }
                self.startup(o);
            }
            Timer::ConnectDelay => {
                if self.out.state != ConnState::Active {
                    return Err(());
                }
                self.out.state = ConnState::Connect;
                o.push(Output::Connect);
                o.push(Output::StartTimer(Timer::ConnectRetry, self.cfg.connect_retry_time));
            }
            Timer::ConnectRetry => {
                if self.out.state != ConnState::Connect {
                    return Err(());
                }
                o.push(Output::Log("Connect timeout".into()));
                self.conn_idle(ConnId::Outgoing, o);
                self.decide(o);
            }
            Timer::Hold(c) => {
                if self.conn(c).state < ConnState::OpenSent {
                    return Err(());
                }
                self.error(c, Notification::new(4, 0, Vec::new()), o);
            }
            Timer::Keepalive(c) => {
                let conn = self.conn(c);
                if conn.state < ConnState::OpenConfirm {
                    return Err(());
                }
                o.push(Output::Send(c, Message::Keepalive));
                if conn.keepalive > 0 {
                    o.push(Output::StartTimer(Timer::Keepalive(c), u32::from(conn.keepalive)));
                }
            }
            Timer::SendHold(c) => {
                if self.conn(c).state < ConnState::OpenSent {
                    return Err(());
                }
                // The peer does not read: a NOTIFICATION could not be sent either.
                let n = Notification::new(8, 0, Vec::new());
                o.push(Output::Log("Send hold timer expired".into()));
                self.store_error(LastError::Sent(n));
                self.fail(c, true, o);
            }
        }
        Ok(())
    }

    fn received(&mut self, c: ConnId, m: Message, o: &mut Vec<Output>) {
        let state = self.conn(c).state;
        let fsm_err = match state {
            ConnState::OpenSent => 1,
            ConnState::OpenConfirm => 2,
            _ => 3,
        };
        match m {
            Message::Notification(n) => {
                o.push(Output::Log(format!("Received: {n}")));
                if state == ConnState::OpenSent && n.code == 2 && n.subcode == 4 && !self.no_caps {
                    // The peer does not know the capabilities parameter (RFC 5492 §5): try
                    // without capabilities next time, as BIRD does.
                    o.push(Output::Log("Peer does not support capabilities, retrying without".into()));
                    self.no_caps = true;
                }
                self.store_error(LastError::Received(n.clone()));
                self.fail(c, n.code != 6, o);
            }
            Message::Open(open) if state == ConnState::OpenSent => self.rx_open(c, open, o),
            Message::Keepalive if state == ConnState::OpenConfirm => self.establish(c, o),
            Message::Keepalive if state == ConnState::Established => self.restart_hold(c, o),
            Message::Update(_) | Message::RouteRefresh(_) if state == ConnState::Established => {
                self.restart_hold(c, o);
                o.push(Output::Deliver(m));
            }
            _ => self.error(c, Notification::new(5, fsm_err, Vec::new()), o),
        }
    }

    fn restart_hold(&self, c: ConnId, o: &mut Vec<Output>) {
        let h = self.conn(c).hold;
        if h > 0 {
            o.push(Output::StartTimer(Timer::Hold(c), u32::from(h)));
        }
    }

    /// Check a received OPEN, negotiate, resolve collisions, answer with KEEPALIVE.
    fn rx_open(&mut self, c: ConnId, open: Open, o: &mut Vec<Output>) {
        let asn = open.asn;
        let as_ok = match self.cfg.peer_as {
            PeerAs::Exact(a) => a == asn,
            PeerAs::Internal => asn == self.cfg.local_as,
            PeerAs::External => asn != self.cfg.local_as,
        };
        if !as_ok {
            let data = if open.caps.as4.is_some() {
                asn.to_be_bytes().to_vec()
            } else {
                open.my_as.to_be_bytes().to_vec()
            };
            return self.error(c, Notification::new(2, 2, data), o);
        }
        let internal = self.cfg.is_internal(asn);
        if open.router_id == self.cfg.router_id && internal {
            return self.error(c, Notification::new(2, 3, Vec::new()), o);
        }
        if !internal {
            if let Some(local) = self.cfg.role {
                match open.caps.role {
                    Some(r) if Some(r) != local.expected_peer() => {
                        return self.error(c, Notification::new(2, 11, Vec::new()), o);
                    }
                    None if self.cfg.require_role => {
                        return self.error(c, Notification::new(2, 11, Vec::new()), o);
                    }
                    _ => {}
                }
            }
        }
        let local = self.local_open();
        let session = Session::negotiate(&self.cfg, c, local, open.clone());
        if session.families.is_empty() && self.cfg.advertise_capabilities {
            return self.error(c, Notification::new(2, 8, Vec::new()), o);
        }
        // Collision detection (RFC 4271 §6.8).
        let other = match c {
            ConnId::Outgoing => ConnId::Incoming,
            ConnId::Incoming => ConnId::Outgoing,
        };
        match self.conn(other).state {
            ConnState::Established => {
                o.push(Output::Log("Connection collision, closing the new connection".into()));
                let n = Notification::new(6, 7, Vec::new());
                o.push(Output::Send(c, Message::Notification(n)));
                self.conn_idle(c, o);
                return;
            }
            ConnState::OpenConfirm | ConnState::OpenSent
                if self.conn(other).remote.is_some() || self.conn(other).state == ConnState::OpenConfirm =>
            {
                // Keep the connection opened by the side with the higher BGP identifier.
                let keep_incoming = u32::from(self.cfg.router_id) < u32::from(open.router_id);
                let loser = if keep_incoming { ConnId::Outgoing } else { ConnId::Incoming };
                o.push(Output::Log(
                    "Connection collision, closing the connection opened by the lower ID".into(),
                ));
                o.push(Output::Send(loser, Message::Notification(Notification::new(6, 7, Vec::new()))));
                self.conn_idle(loser, o);
                if loser == c {
                    return;
                }
            }
            _ => {}
        }
        let hold = session.hold_time;
        let ka = session.keepalive_time;
        let conn = self.conn_mut(c);
        conn.remote = Some(open);
        conn.state = ConnState::OpenConfirm;
        conn.hold = hold;
        conn.keepalive = ka;
        self.session = Some(Box::new(session));
        o.push(Output::Send(c, Message::Keepalive));
        if hold > 0 {
            o.push(Output::StartTimer(Timer::Hold(c), u32::from(hold)));
        } else {
            o.push(Output::StopTimer(Timer::Hold(c)));
        }
        if ka > 0 {
            o.push(Output::StartTimer(Timer::Keepalive(c), u32::from(ka)));
        }
    }

    fn establish(&mut self, c: ConnId, o: &mut Vec<Output>) {
        let Some(s) = self.session.take().filter(|s| s.conn == c) else {
            return self.error(c, Notification::new(5, 2, Vec::new()), o);
        };
        self.conn_mut(c).state = ConnState::Established;
        self.last_error = None;
        self.restart_hold(c, o);
        if let Some(t) = self.cfg.send_hold_time {
            o.push(Output::StartTimer(Timer::SendHold(c), u32::from(t)));
        }
        // The other connection, if any, is no longer needed.
        let other = match c {
            ConnId::Outgoing => ConnId::Incoming,
            ConnId::Incoming => ConnId::Outgoing,
        };
        if self.conn(other).state >= ConnState::OpenSent {
            o.push(Output::Send(other, Message::Notification(Notification::new(6, 7, Vec::new()))));
        }
        self.conn_idle(other, o);
        o.push(Output::Log("BGP session established".into()));
        // An established session shows no old error (as BIRD).
        self.last_error = None;
        if self.gr_active {
            // The glue ends the stale phase at End-of-RIB.
            self.gr_active = false;
            o.push(Output::StopTimer(Timer::GracefulRestart));
        }
        self.session = Some(s.clone());
        self.set_proto(ProtoState::Up, o);
        o.push(Output::Established(s));
    }
}
