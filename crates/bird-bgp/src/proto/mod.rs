//! The BGP protocol on birdloop: the session adapter that runs the sans-IO [`Fsm`] with real sockets
//! and timers in the protocol's own loop, and the routing glue between UPDATEs and the tables.
//!
//! ```text
//!   listen loop ──accepted socket──► exec: incoming ─┐
//!   socket handler (proto loop): read ≤ 256 KiB, pause RX ──► exec: received ──► frame, decode ──► Fsm::step
//!        Fsm outputs: Connect / Accept / Send / Close / timers ──► sockets, loop timers
//!                     Established ──► channels up (exports start)      Deliver(UPDATE) ──► import_attrs ──► tables
//!        after each chunk: cork check ──corked──► stay paused until the uncork callback (exec: uncork) resumes RX
//!   rt_notify ──► export_attrs (cached per attribute set within a batch) ──► pending per net
//!        exec: flush_tx ──► UpdatePacker (nets sharing attributes in one UPDATE, withdrawals batched) ──► socket
//! ```
//!
//! # States
//!
//! The framework's protocol state follows the session: `start` while connecting, `up` while
//! established. When an established session fails, the instance *cycles* through stop, flush and down
//! and starts again at once ([`ProtoCtx::cycle`]), which withdraws every route it imported, while the
//! FSM keeps its own reconnect backoff (`error wait time`). When the peer can restart gracefully, the
//! routes stay as stale instead (the channels refresh: stale routes go at the peer's End-of-RIB or when
//! the restart timer expires), and the instance goes back to `start` with its exports paused.
//!
//! # Backpressure
//!
//! RX is paused by the socket handler after each read and resumed by the protocol once the chunk is
//! processed, unless a table of an active channel is corked: then the uncork callback resumes it, in
//! this loop, and the bytes wait in the kernel's buffer. On TX, exports accumulate in a per-net map
//! (a later change of a net replaces an earlier one) and are packed into UPDATEs only while the
//! socket's send queue is below [`TX_HIGH_WATER`].

pub mod config;
pub mod listen;
pub mod route;
mod rxbuf;

use std::any::Any;
use std::collections::HashMap;

use birdtable::hash::FxBuild;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use birdevent::{Callback, Event as LoopEvent};
use birdloop::{Interest, LoopGuard, Ready, SockKey, Time, TimerKey};
use birdnet::Net;
use birdproto::published::ProtoState as Published;
use birdproto::{ChannelState, PState, ProtoConfig, ProtoCtx, ProtoHandle, Protocol, Reconfigured};
use birdtable::attrs::{Attrs, Dest, NextHop};
use birdtable::{Route, RouteClass};
use socket2::Socket;

pub use config::{BgpChannel, BgpConfig, Dynamic, NextHopMode};
pub use listen::{ListenReg, Listeners, Spawner};
pub use route::BgpClass;

use crate::fsm::{ConnId, Event, Fsm, Output, ProtoState, Session, ShowInfo, Timer};
use crate::wire::{
    frame_len, AfiSafi, Message, Nlri, RefreshSubtype, RouteRefresh, SessionCtx, UpdatePacker,
    MAX_EXT_MESSAGE_LEN,
};
use route::{export_attrs, import_attrs, NextHopChoice, SessionFacts};

/// Free the receive chunks the calling thread keeps for reuse (up to four of ~320 KiB each, kept so
/// that a busy session does not allocate and fault in a fresh chunk per read). For an embedder's
/// housekeeping once the sessions this thread serves have gone quiet; the next read allocates again.
pub fn release_thread_buffers() {
    rxbuf::release();
}

/// Pending exports of a channel that trigger packing right away.
const FLUSH_BATCH: usize = 4096;
/// Exports are packed only while less than this is queued for the socket.
pub const TX_HIGH_WATER: usize = 4 * 1024 * 1024;

/// (channel, attribute set address, route source id).
type ExportKey = (usize, usize, u64);

struct Conn {
    key: SockKey,
    gen: u64,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
    wpos: usize,
    local: Option<SocketAddr>,
}

impl Conn {
    fn new(key: SockKey, gen: u64, local: Option<SocketAddr>) -> Conn {
        Conn { key, gen, rbuf: Vec::new(), wbuf: Vec::new(), wpos: 0, local }
    }

    fn queued(&self) -> usize {
        self.wbuf.len() - self.wpos
    }
}

/// The established session as the routing glue sees it.
struct Est {
    session: Box<Session>,
    facts: SessionFacts,
    /// Per channel: its family is active on the session.
    active: Vec<bool>,
    /// Per channel: our next hop for the family.
    self_nh: Vec<Option<IpAddr>>,
    /// Per channel: the next hop is kept on export.
    keep_nh: Vec<bool>,
    /// Per channel: the initial feed is complete, End-of-RIB goes after it.
    eor_due: Vec<bool>,
    /// Per channel: End-of-RIB sent.
    eor_sent: Vec<bool>,
    /// Resolved next hops per channel and gateway.
    nh_cache: HashMap<(usize, IpAddr), (Dest, Option<u32>)>,
    local: Option<SocketAddr>,
}

/// One running BGP protocol instance.
pub struct Bgp {
    cfg: BgpConfig,
    name: String,
    fsm: Fsm,
    class: Arc<BgpClass>,
    conns: [Option<Conn>; 2],
    next_gen: u64,
    incoming: Option<(Socket, SocketAddr)>,
    timers: HashMap<Timer, TimerKey>,
    armed: HashMap<Timer, Time>,
    listen: Option<ListenReg>,
    est: Option<Est>,
    pending_up: bool,
    cycling: bool,
    /// Per channel: stale routes of a gracefully restarting peer wait for its End-of-RIB.
    stale: Vec<bool>,
    evq: std::collections::VecDeque<Event>,
    stepping: bool,
    pending: Vec<HashMap<Net, Option<Attrs>, FxBuild>>,
    /// Export results within one batch, by (channel, attribute set, source): routes of one UPDATE share
    /// their attributes. Holds the input set so its address is not reused meanwhile.
    export_cache: HashMap<ExportKey, (Attrs, Option<Attrs>), FxBuild>,
    flush_scheduled: bool,
    resume: Option<Callback>,
    last_local: Option<SocketAddr>,
    /// A limit with action `disable` was hit: the coming shutdown sends Cease 6/1.
    limit_disable: bool,
    /// A spawned instance (dynamic BGP) got its connection: once none is left it reports itself down.
    dyn_armed: bool,
    /// It did: it takes no further connection (the daemon is removing it; the peer's next attempt
    /// spawns a new instance).
    dyn_reported: bool,
}

impl std::fmt::Debug for Bgp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bgp")
            .field("name", &self.name)
            .field("state", &self.fsm.state_name())
            .field("neighbor", &self.cfg.neighbor)
            .finish_non_exhaustive()
    }
}

fn idx(c: ConnId) -> usize {
    match c {
        ConnId::Outgoing => 0,
        ConnId::Incoming => 1,
    }
}

fn timer_name(t: Timer) -> &'static str {
    match t {
        Timer::ErrorWait => "bgp error wait",
        Timer::ConnectDelay => "bgp connect delay",
        Timer::ConnectRetry => "bgp connect retry",
        Timer::Hold(_) => "bgp hold",
        Timer::Keepalive(_) => "bgp keepalive",
        Timer::SendHold(_) => "bgp send hold",
        Timer::GracefulRestart => "bgp graceful restart",
    }
}

fn secs(t: Time) -> u64 {
    t.as_nanos() / 1_000_000_000
}

/// Pending-export maps keep their capacity between flushes (a flush during convergence drains tens of
/// thousands of nets, and the next batch is as large), but not for ever: once a flush drained less than
/// an eighth of what the map can hold, it shrinks to twice that flush. A route server's session holds
/// ~14 bytes per net it exported otherwise, long after convergence.
fn trim_pending<V>(map: &mut HashMap<Net, V, FxBuild>, drained: usize) {
    const KEEP: usize = 256;
    if map.capacity() > KEEP && drained < map.capacity() / 8 {
        map.shrink_to((drained * 2).max(KEEP));
    }
}

/// An OS error as BIRD prints it (`Connection refused`, without Rust's ` (os error 111)`).
fn os_text(e: &io::Error) -> String {
    let t = e.to_string();
    match t.rfind(" (os error ") {
        Some(i) if t.ends_with(')') => t[..i].to_owned(),
        _ => t,
    }
}

fn family_of(ip: IpAddr) -> u16 {
    if ip.is_ipv4() {
        1
    } else {
        2
    }
}

/// The socket handler of a connection: reads a chunk and pauses RX until the protocol processed it;
/// reports writability (and the end of a connect) to the protocol.
fn conn_handler(
    h: ProtoHandle,
    cid: ConnId,
    gen: u64,
    connecting: bool,
) -> impl FnMut(&mut LoopGuard<'_>, SockKey, &mut Socket, Ready) + Send + 'static {
    let mut connecting = connecting;
    move |g, key, s, ready| {
        if ready.writable {
            let _ = g.set_interest(key, Interest::READ);
            if connecting {
                connecting = false;
                let res = match s.take_error() {
                    Ok(None) => s.peer_addr().map(|_| ()),
                    Ok(Some(e)) | Err(e) => Err(e),
                };
                let local = s.local_addr().ok().and_then(|a| a.as_socket());
                let res = res.map(|()| local).map_err(|e| os_text(&e));
                h.exec_as::<Bgp>(move |p, ctx| p.connected(ctx, gen, res));
                return;
            }
            h.exec_as::<Bgp>(move |p, ctx| p.writable(ctx, cid, gen));
        }
        if ready.readable && !connecting {
            let mut data = rxbuf::take_for_read();
            let mut n = 0;
            let mut end: Option<Option<String>> = None;
            while n < data.len() {
                match s.read(&mut data[n..]) {
                    Ok(0) => {
                        end = Some(None);
                        break;
                    }
                    Ok(k) => n += k,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        end = Some(Some(os_text(&e)));
                        break;
                    }
                }
            }
            data.truncate(n);
            let _ = g.pause_rx(key);
            h.exec_as::<Bgp>(move |p, ctx| p.received(ctx, cid, gen, data, end));
        }
    }
}

/// Gives a connection accepted for a neighbor range (see [`Spawner`]) to the instance spawned for its
/// peer, as if its own listener had accepted it. Sent after the spawn, it runs after the start.
pub fn hand_over(h: &ProtoHandle, s: Socket, from: SocketAddr) {
    h.exec_as::<Bgp>(move |p, ctx| p.incoming(ctx, s, from));
}

impl Bgp {
    /// A stopped instance.
    pub fn new(cfg: BgpConfig, name: &str) -> Bgp {
        let class =
            Arc::new(BgpClass::new(cfg.default_local_pref, cfg.med_metric, cfg.igp_metric, cfg.rr_client));
        let n = cfg.channels.len();
        Bgp {
            fsm: Fsm::new(cfg.fsm.clone()),
            name: name.to_owned(),
            class,
            conns: [None, None],
            next_gen: 1,
            incoming: None,
            timers: HashMap::new(),
            armed: HashMap::new(),
            listen: None,
            est: None,
            pending_up: false,
            cycling: false,
            stale: vec![false; n],
            evq: std::collections::VecDeque::new(),
            stepping: false,
            pending: vec![HashMap::default(); n],
            export_cache: HashMap::default(),
            flush_scheduled: false,
            resume: None,
            last_local: None,
            limit_disable: false,
            dyn_armed: false,
            dyn_reported: false,
            cfg,
        }
    }

    /// The FSM (for `show protocols all` and tests).
    pub fn fsm(&self) -> &Fsm {
        &self.fsm
    }

    /// The negotiated session, while established.
    pub fn session(&self) -> Option<&Session> {
        self.est.as_ref().map(|e| &*e.session)
    }

    /// Routes waiting to be sent (all channels).
    pub fn pending_exports(&self) -> usize {
        self.pending.iter().map(HashMap::len).sum()
    }

    // ---- FSM driving -------------------------------------------------------------------------------

    fn feed(&mut self, ctx: &mut ProtoCtx<'_>, ev: Event) {
        self.evq.push_back(ev);
        if self.stepping {
            return;
        }
        self.stepping = true;
        while let Some(ev) = self.evq.pop_front() {
            let now = secs(ctx.now());
            match self.fsm.step(now, ev) {
                Ok(outs) => {
                    for o in outs {
                        self.apply(ctx, o);
                    }
                }
                Err(e) => tracing::debug!(target: "bird::bgp", "{}: {e}", self.name),
            }
        }
        self.stepping = false;
        self.check_spawned_down();
        ctx.announce_state();
    }

    /// A spawned instance whose connections are all gone tells the daemon, once (which removes it).
    fn check_spawned_down(&mut self) {
        if !self.dyn_armed || self.conns.iter().any(Option::is_some) {
            return;
        }
        if let Dynamic::Spawned { down } = &self.cfg.dynamic {
            self.dyn_armed = false;
            self.dyn_reported = true;
            // The peer's next connection is for the range (a new instance), not for this one, even
            // while this one is still going down (a removal during the routes' flush cycle does not
            // come through stop_everything).
            self.listen = None;
            tracing::debug!(target: "bird::bgp", "{}: dynamic session gone", self.name);
            down();
        }
    }

    fn apply(&mut self, ctx: &mut ProtoCtx<'_>, o: Output) {
        match o {
            Output::Connect => self.connect(ctx),
            Output::AcceptIncoming => self.accept(ctx),
            Output::RejectIncoming => self.incoming = None,
            Output::Send(c, m) => self.send_msg(ctx, c, &m),
            Output::Close(c) => self.close(ctx, c),
            Output::StartTimer(t, s) => self.arm(ctx, t, s),
            Output::StopTimer(t) => {
                self.armed.remove(&t);
                if let Some(k) = self.timers.get(&t).copied() {
                    birdloop::with_current(|g| g.stop_timer(k));
                }
            }
            Output::State(s) => self.fsm_state(ctx, s),
            Output::Established(s) => self.session_up(ctx, s),
            Output::SessionDown { error, graceful } => self.session_down(ctx, graceful, &error.to_string()),
            Output::Deliver(m) => self.deliver(ctx, m),
            Output::Log(l) => tracing::info!(target: "bird::bgp", "{}: {l}", self.name),
        }
    }

    fn fsm_state(&mut self, ctx: &mut ProtoCtx<'_>, s: ProtoState) {
        // The FSM stops after a failed session (and restarts itself after the error wait): flush the
        // routes the session brought by cycling the instance.
        if s == ProtoState::Stop && self.fsm.is_disabled() && ctx.state() == PState::Up && !self.cycling {
            // Stopped for good on its own (`disable after error`, a route limit): the instance goes
            // down disabled, as BIRD shows it.
            let msg = self.fsm.last_error().map_or_else(String::new, ToString::to_string);
            ctx.schedule_down(false, msg);
            return;
        }
        if s == ProtoState::Stop && !self.cycling && matches!(ctx.state(), PState::Up | PState::Start) {
            let had_routes = ctx.state() == PState::Up || self.stale.iter().any(|&x| x);
            if had_routes && self.fsm.proto_state() != ProtoState::Down {
                self.stale.iter_mut().for_each(|x| *x = false);
                self.cycling = true;
                ctx.cycle();
            }
        }
    }

    fn arm(&mut self, ctx: &mut ProtoCtx<'_>, t: Timer, s: u32) {
        let key = match self.timers.get(&t) {
            Some(k) => *k,
            None => {
                let h = ctx.handle();
                let Some(k) = birdloop::with_current(|g| {
                    g.timer(timer_name(t), move |_, _| h.exec_as::<Bgp>(move |p, ctx| p.timer_fired(ctx, t)))
                }) else {
                    return;
                };
                self.timers.insert(t, k);
                k
            }
        };
        let d = Duration::from_secs(u64::from(s));
        self.armed.insert(t, ctx.now().saturating_add(d));
        birdloop::with_current(|g| g.set_timer_in(key, d));
    }

    fn timer_fired(&mut self, ctx: &mut ProtoCtx<'_>, t: Timer) {
        match self.armed.get(&t) {
            Some(&at) if at <= ctx.now() => {
                self.armed.remove(&t);
                self.feed(ctx, Event::TimerExpired(t));
            }
            _ => {}
        }
    }

    // ---- connections -------------------------------------------------------------------------------

    fn gen(&mut self) -> u64 {
        self.next_gen += 1;
        self.next_gen
    }

    fn conn(&mut self, c: ConnId, gen: u64) -> Option<&mut Conn> {
        self.conns[idx(c)].as_mut().filter(|x| x.gen == gen)
    }

    fn prepare(cfg: &BgpConfig, s: &Socket) -> io::Result<()> {
        let ttl = cfg.ttl();
        if cfg.neighbor.is_ipv4() {
            s.set_ttl_v4(ttl)?;
        } else {
            s.set_unicast_hops_v6(ttl)?;
        }
        let _ = s.set_tcp_nodelay(true);
        if let Some(i) = &cfg.interface {
            s.bind_device(Some(i.as_bytes()))?;
        }
        if cfg.ttl_security {
            // RFC 5082: accept only packets that crossed at most the configured hops.
            let hops = cfg.multihop.unwrap_or(1).max(1);
            birdloop::sockopt::set_min_ttl(s, cfg.neighbor.is_ipv6(), 255 - (hops - 1))?;
        }
        Ok(())
    }

    fn connect(&mut self, ctx: &mut ProtoCtx<'_>) {
        let addr = SocketAddr::new(self.cfg.neighbor, self.cfg.neighbor_port);
        let gen = self.gen();
        let h = ctx.handle();
        let cfg = &self.cfg;
        let r = birdloop::with_current(|g| {
            g.tcp_connect(
                addr,
                |s| {
                    if let Some(l) = cfg.local_ip {
                        s.set_reuse_address(true)?;
                        s.bind(&SocketAddr::new(l, 0).into())?;
                    }
                    if let Some(pw) = &cfg.password {
                        birdloop::sockopt::set_tcp_md5(s, cfg.neighbor, Some(pw.as_bytes()))?;
                    }
                    Self::prepare(cfg, s)
                },
                conn_handler(h, ConnId::Outgoing, gen, true),
            )
        });
        match r {
            Some(Ok(key)) => self.conns[0] = Some(Conn::new(key, gen, None)),
            Some(Err(e)) => self.evq.push_back(Event::TcpConnectFailed(os_text(&e))),
            None => self.evq.push_back(Event::TcpConnectFailed("not in the protocol loop".into())),
        }
    }

    fn connected(&mut self, ctx: &mut ProtoCtx<'_>, gen: u64, res: Result<Option<SocketAddr>, String>) {
        let Some(c) = self.conn(ConnId::Outgoing, gen) else { return };
        match res {
            Ok(local) => {
                c.local = local;
                self.feed(ctx, Event::TcpConnected);
            }
            Err(e) => {
                let key = c.key;
                self.conns[0] = None;
                birdloop::with_current(|g| drop(g.remove_socket::<Socket>(key)));
                self.feed(ctx, Event::TcpConnectFailed(e));
            }
        }
    }

    /// A connection accepted by the shared listener for this neighbour.
    pub(crate) fn incoming(&mut self, ctx: &mut ProtoCtx<'_>, s: Socket, from: SocketAddr) {
        if !matches!(ctx.state(), PState::Start | PState::Up)
            || self.cfg.dynamic.range().is_some()
            || self.dyn_reported
        {
            return;
        }
        if matches!(self.cfg.dynamic, Dynamic::Spawned { .. }) {
            self.dyn_armed = true;
        }
        self.incoming = Some((s, from));
        self.feed(ctx, Event::TcpIncoming);
        // Not taken by the FSM: refused (closed on drop).
        self.incoming = None;
    }

    fn accept(&mut self, ctx: &mut ProtoCtx<'_>) {
        let Some((s, from)) = self.incoming.take() else { return };
        let _ = Self::prepare(&self.cfg, &s);
        let local = s.local_addr().ok().and_then(|a| a.as_socket());
        let gen = self.gen();
        let h = ctx.handle();
        tracing::debug!(target: "bird::bgp", "{}: incoming connection from {from}", self.name);
        match birdloop::with_current(|g| {
            g.add_socket(s, Interest::READ, conn_handler(h, ConnId::Incoming, gen, false))
        }) {
            Some(Ok(key)) => self.conns[1] = Some(Conn::new(key, gen, local)),
            Some(Err(e)) => self.evq.push_back(Event::TcpClosed(ConnId::Incoming, Some(os_text(&e)))),
            None => {}
        }
    }

    fn close(&mut self, _ctx: &mut ProtoCtx<'_>, c: ConnId) {
        if let Some(mut conn) = self.conns[idx(c)].take() {
            let _ = Self::write_out(&mut conn);
            birdloop::with_current(|g| {
                if let Some(s) = g.remove_socket::<Socket>(conn.key) {
                    let _ = s.shutdown(std::net::Shutdown::Both);
                }
            });
        }
    }

    fn write_out(c: &mut Conn) -> io::Result<()> {
        if c.queued() == 0 {
            return Ok(());
        }
        let r = birdloop::with_current(|g| {
            let r = g.with_socket::<Socket, _>(c.key, |s| {
                while c.wpos < c.wbuf.len() {
                    match s.write(&c.wbuf[c.wpos..]) {
                        Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
                        Ok(n) => c.wpos += n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(())
            });
            let want = if c.wpos < c.wbuf.len() { Interest::BOTH } else { Interest::READ };
            let _ = g.set_interest(c.key, want);
            r
        });
        if c.wpos == c.wbuf.len() {
            c.wbuf.clear();
            c.wpos = 0;
        } else if c.wpos > (1 << 20) && c.wpos * 2 > c.wbuf.len() {
            c.wbuf.drain(..c.wpos);
            c.wpos = 0;
        }
        r.flatten().unwrap_or(Ok(()))
    }

    fn send_bytes(&mut self, c: ConnId, bytes: &[u8]) {
        let Some(conn) = self.conns[idx(c)].as_mut() else { return };
        conn.wbuf.extend_from_slice(bytes);
        if let Err(e) = Self::write_out(conn) {
            self.evq.push_back(Event::TcpClosed(c, Some(os_text(&e))));
        }
    }

    fn send_msg(&mut self, pctx: &mut ProtoCtx<'_>, c: ConnId, m: &Message) {
        if pctx.debug(birdproto::debug::PACKETS) {
            tracing::trace!(target: "bird::bgp", "{}: Sending {}", self.name, m.kind().name());
        }
        let encoded = match &self.est {
            Some(e) if e.session.conn == c => m.encode(&e.session.ctx),
            _ => m.encode(&SessionCtx::default()),
        };
        match encoded {
            Ok(b) => self.send_bytes(c, &b),
            Err(e) => {
                tracing::error!(target: "bird::bgp", "{}: cannot encode {}: {e}", self.name, m.kind().name())
            }
        }
    }

    fn writable(&mut self, ctx: &mut ProtoCtx<'_>, c: ConnId, gen: u64) {
        let Some(conn) = self.conn(c, gen) else { return };
        if let Err(e) = Self::write_out(conn) {
            self.feed(ctx, Event::TcpClosed(c, Some(os_text(&e))));
            return;
        }
        self.feed(ctx, Event::Sent(c));
        if self.pending_exports() > 0 {
            self.flush_tx(ctx);
        }
    }

    fn received(
        &mut self,
        ctx: &mut ProtoCtx<'_>,
        c: ConnId,
        gen: u64,
        data: Vec<u8>,
        end: Option<Option<String>>,
    ) {
        let Some(conn) = self.conn(c, gen) else { return };
        // Parse the chunk in place, or the tail of the last one joined with it.
        let buf = if conn.rbuf.is_empty() {
            data
        } else {
            let mut joined = rxbuf::take();
            joined.extend_from_slice(&conn.rbuf);
            joined.extend_from_slice(&data);
            conn.rbuf.clear();
            rxbuf::give(data);
            joined
        };
        let mut pos = 0;
        let default_ctx = SessionCtx::default();
        loop {
            let alive = self.conns[idx(c)].as_ref().is_some_and(|x| x.gen == gen);
            if !alive {
                return;
            }
            let sctx = match &self.est {
                Some(e) if e.session.conn == c => &e.session.ctx,
                _ => &default_ctx,
            };
            let max = sctx.max_len().max(crate::wire::MAX_MESSAGE_LEN);
            match frame_len(&buf[pos..], max.min(MAX_EXT_MESSAGE_LEN)) {
                Ok(Some(len)) => {
                    let ev = match Message::decode(&buf[pos..pos + len], sctx) {
                        Ok(m) => {
                            if ctx.debug(birdproto::debug::PACKETS) {
                                tracing::trace!(target: "bird::bgp", "{}: Got {}", self.name, m.kind().name());
                            }
                            Event::Received(c, m)
                        }
                        Err(e) => Event::ReceiveError(c, e),
                    };
                    pos += len;
                    let fatal = matches!(ev, Event::ReceiveError(..));
                    self.feed(ctx, ev);
                    if fatal {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    self.feed(ctx, Event::ReceiveError(c, e));
                    return;
                }
            }
        }
        let Some(conn) = self.conn(c, gen) else { return };
        // Keep only the incomplete message; the chunk goes back to the pool.
        conn.rbuf.extend_from_slice(&buf[pos..]);
        rxbuf::give(buf);
        let key = conn.key;
        if let Some(err) = end {
            self.feed(ctx, Event::TcpClosed(c, err));
            return;
        }
        if !self.corked(ctx) {
            birdloop::with_current(|g| g.resume_rx(key));
        }
    }

    /// Whether a table of an active channel is corked (then the uncork callback is queued).
    fn corked(&mut self, ctx: &mut ProtoCtx<'_>) -> bool {
        let Some(est) = &self.est else { return false };
        let Some(resume) = &self.resume else { return false };
        (0..est.active.len()).any(|ch| est.active[ch] && ctx.table(ch).cork().check(resume))
    }

    fn uncork(&mut self, ctx: &mut ProtoCtx<'_>) {
        if self.corked(ctx) {
            return;
        }
        for c in self.conns.iter().flatten() {
            let key = c.key;
            birdloop::with_current(|g| g.resume_rx(key));
        }
    }

    // ---- session -----------------------------------------------------------------------------------

    fn session_up(&mut self, ctx: &mut ProtoCtx<'_>, s: Box<Session>) {
        let internal = s.ctx.internal;
        self.class.set_session(internal, s.peer_id);
        let local = self.conns[idx(s.conn)].as_ref().and_then(|c| c.local);
        self.last_local = local;
        let cfg = &self.cfg;
        let router_id = u32::from(cfg.fsm.router_id);
        let facts = SessionFacts {
            internal,
            local_as: cfg.fsm.local_as,
            peer_as: s.peer_as,
            router_id,
            cluster_id: cfg.rr_cluster_id.unwrap_or(router_id),
            rr_client: cfg.rr_client,
            rs_client: cfg.rs_client,
            allow_local_as: cfg.allow_local_as,
            allow_local_pref: cfg.allow_local_pref,
            default_local_pref: cfg.default_local_pref,
            default_med: cfg.default_med,
            interpret_communities: cfg.interpret_communities,
            role: s.local_role,
            neighbor: cfg.neighbor,
        };
        let active: Vec<bool> = cfg.channels.iter().map(|c| s.families.contains(&c.afi_safi)).collect();
        // For a family the session's own address is not of (IPv6 routes over an IPv4 session): the
        // address of that family on the interface towards the neighbour, as BIRD does.
        let iface = {
            let hint = cfg.interface.as_deref().and_then(|i| cfg.resolver.iface(i));
            cfg.resolver.neighbor(cfg.neighbor, hint.as_ref(), false).or(hint)
        };
        let self_nh = cfg
            .channels
            .iter()
            .map(|c| {
                c.next_hop_address.or_else(|| {
                    let l = listen::canonical(local?.ip());
                    if family_of(l) == c.afi_safi.afi {
                        Some(l)
                    } else {
                        iface.as_ref().and_then(|i| cfg.resolver.iface_addr(i, c.afi_safi.afi == 2))
                    }
                })
            })
            .collect();
        let keep_nh = cfg
            .channels
            .iter()
            .map(|c| !c.next_hop_self.applies(internal) && (internal || c.next_hop_keep.applies(internal)))
            .collect();
        let n = cfg.channels.len();
        self.est = Some(Est {
            session: s,
            facts,
            active,
            self_nh,
            keep_nh,
            eor_due: vec![false; n],
            eor_sent: vec![false; n],
            nh_cache: HashMap::new(),
            local,
        });
        if ctx.state() == PState::Start && !self.cycling {
            ctx.notify_state(PState::Up);
        } else {
            self.pending_up = true;
        }
        ctx.set_error(None);
    }

    fn session_down(&mut self, ctx: &mut ProtoCtx<'_>, graceful: bool, error: &str) {
        let was_up = self.est.take().is_some();
        self.pending_up = false;
        self.pending.iter_mut().for_each(HashMap::clear);
        self.export_cache.clear();
        tracing::debug!(target: "bird::bgp", "{}: session down ({error}), graceful {graceful}", self.name);
        if graceful && was_up && ctx.state() == PState::Up {
            for ch in 0..self.cfg.channels.len() {
                ctx.refresh_begin(ch);
                self.stale[ch] = true;
            }
            ctx.notify_state(PState::Start);
        } else if !graceful && self.stale.iter().any(|&x| x) {
            // The restart timer expired: the stale routes go.
            for ch in 0..self.cfg.channels.len() {
                if std::mem::take(&mut self.stale[ch]) {
                    ctx.refresh_end(ch);
                }
            }
        }
    }

    // ---- import ------------------------------------------------------------------------------------

    fn deliver(&mut self, ctx: &mut ProtoCtx<'_>, m: Message) {
        match m {
            Message::Update(u) => {
                if let Some(af) = u.update.is_end_of_rib() {
                    if let Some(ch) = self.cfg.channels.iter().position(|c| c.afi_safi == af) {
                        if std::mem::take(&mut self.stale[ch]) {
                            ctx.refresh_end(ch);
                        }
                    }
                    return;
                }
                for i in &u.issues {
                    tracing::warn!(target: "bird::bgp", "{}: Malformed UPDATE: {i}", self.name);
                }
                for fam in u.families() {
                    self.import_family(ctx, fam);
                }
            }
            Message::RouteRefresh(RouteRefresh { afi_safi, subtype }) => {
                let Some(ch) = self.cfg.channels.iter().position(|c| c.afi_safi == afi_safi) else { return };
                match subtype {
                    RefreshSubtype::Request => ctx.refeed(ch),
                    RefreshSubtype::Begin => {
                        ctx.refresh_begin(ch);
                        self.stale[ch] = true;
                    }
                    RefreshSubtype::End if std::mem::take(&mut self.stale[ch]) => ctx.refresh_end(ch),
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn import_family(&mut self, ctx: &mut ProtoCtx<'_>, fam: crate::wire::FamilyUpdate) {
        let Some(ch) = self.cfg.channels.iter().position(|c| c.afi_safi == fam.afi_safi) else { return };
        let Some(est) = self.est.as_ref() else { return };
        if !est.active[ch] {
            return;
        }
        for n in &fam.withdrawn {
            ctx.import_path(ch, n.net, n.path_id, None);
        }
        if fam.announced.is_empty() {
            return;
        }
        let nh = fam
            .attrs
            .iter()
            .find(|e| e.id == birdtable::attrs::AttrId::BGP_NEXT_HOP)
            .and_then(|e| crate::wire::MpNextHop::from_value(&e.value));
        let (dest, metric) = match nh {
            Some(nh) => self.resolve(ctx, ch, nh.global, nh.link_local),
            None => (Dest::Unreachable, None),
        };
        let Some(est) = self.est.as_ref() else { return };
        match import_attrs(&est.facts, fam.attrs, dest, metric) {
            Ok(set) => {
                let a = set.intern();
                for n in &fam.announced {
                    ctx.import_path(ch, n.net, n.path_id, Some(a.clone()));
                }
            }
            Err(why) => {
                tracing::debug!(target: "bird::bgp", "{}: {} routes ignored: {why}", self.name, fam.announced.len());
                for n in &fam.announced {
                    ctx.import_path(ch, n.net, n.path_id, None);
                }
            }
        }
    }

    /// The destination of routes with next hop `gw`: directly connected for single-hop eBGP, else
    /// through the route for `gw` in the IGP table.
    fn resolve(
        &mut self,
        ctx: &ProtoCtx<'_>,
        ch: usize,
        gw: IpAddr,
        ll: Option<Ipv6Addr>,
    ) -> (Dest, Option<u32>) {
        let Some(est) = self.est.as_mut() else { return (Dest::Unreachable, None) };
        if let Some(r) = est.nh_cache.get(&(ch, gw)) {
            return r.clone();
        }
        let c = &self.cfg.channels[ch];
        let recursive = c.gateway_recursive.unwrap_or(!self.cfg.is_direct());
        let r = if !recursive {
            let via = ll.map_or(gw, IpAddr::V6);
            let hint = self.cfg.interface.as_deref().and_then(|i| self.cfg.resolver.iface(i));
            match self.cfg.resolver.neighbor(via, hint.as_ref(), false).or(hint) {
                Some(iface) => (Dest::one(NextHop::via(via, iface)), Some(0)),
                None => (Dest::Unreachable, None),
            }
        } else {
            let table = c.igp_table.as_ref().unwrap_or_else(|| ctx.table(ch));
            match table.route_for(gw).and_then(|(_, rs)| rs.into_iter().next()) {
                Some(r) => match &r.attrs().dest {
                    Dest::Unicast(hops) => {
                        let hops: Vec<NextHop> = hops
                            .iter()
                            .map(|h| {
                                if h.gw.is_some() {
                                    h.clone()
                                } else {
                                    NextHop { gw: Some(gw), ..h.clone() }
                                }
                            })
                            .collect();
                        // The resolving route's own IGP metric; a directly connected one costs 0, any
                        // other without a metric is unknown (as BIRD shows it: `(100/?)`).
                        let a = r.attrs();
                        let metric =
                            a.igp_metric.unwrap_or(if a.source == birdtable::attrs::RouteSource::Device {
                                0
                            } else {
                                birdtable::attrs::IGP_METRIC_UNKNOWN
                            });
                        (Dest::unicast(hops), Some(metric))
                    }
                    _ => (Dest::Unreachable, None),
                },
                None => (Dest::Unreachable, None),
            }
        };
        est.nh_cache.insert((ch, gw), r.clone());
        r
    }

    // ---- export ------------------------------------------------------------------------------------

    fn schedule_flush(&mut self, ctx: &mut ProtoCtx<'_>) {
        if !self.flush_scheduled {
            self.flush_scheduled = true;
            ctx.handle().exec_as::<Bgp>(|p, ctx| {
                p.flush_scheduled = false;
                p.flush_tx(ctx);
            });
        }
    }

    fn export_one(&mut self, ch: usize, r: &Route) -> Option<Attrs> {
        let key = (ch, r.attrs().as_ptr() as usize, r.src().source().id());
        if let Some((_, out)) = self.export_cache.get(&key) {
            return out.clone();
        }
        let est = self.est.as_ref()?;
        let choice = if est.keep_nh[ch] { NextHopChoice::Keep } else { NextHopChoice::OwnAddress };
        let out = export_attrs(&est.facts, r, choice, est.self_nh[ch]).map(|s| s.intern());
        self.export_cache.insert(key, (r.attrs().clone(), out.clone()));
        out
    }

    fn flush_tx(&mut self, ctx: &mut ProtoCtx<'_>) {
        self.export_cache.clear();
        let Some(est) = self.est.as_mut() else {
            self.pending.iter_mut().for_each(HashMap::clear);
            return;
        };
        let cid = est.session.conn;
        let Some(conn) = self.conns[idx(cid)].as_ref() else { return };
        if conn.queued() >= TX_HIGH_WATER {
            return;
        }
        let packer = UpdatePacker::new(&est.session.ctx);
        let mut msgs: Vec<Vec<u8>> = Vec::new();
        for ch in 0..self.pending.len() {
            if !est.active[ch] {
                continue;
            }
            let af: AfiSafi = self.cfg.channels[ch].afi_safi;
            let mut withdrawn: Vec<Nlri> = Vec::new();
            let mut groups: HashMap<usize, (Attrs, Vec<Nlri>), FxBuild> = HashMap::default();
            // Drained, not taken: the map keeps its capacity for the next batch (see `trim_pending`).
            let drained = self.pending[ch].len();
            for (net, a) in self.pending[ch].drain() {
                match a {
                    None => withdrawn.push(Nlri::new(net)),
                    Some(a) => groups
                        .entry(a.as_ptr() as usize)
                        .or_insert_with(|| (a, Vec::new()))
                        .1
                        .push(Nlri::new(net)),
                }
            }
            if let Err(e) = packer.withdraw(af, &withdrawn, &mut msgs) {
                tracing::error!(target: "bird::bgp", "{}: cannot encode withdrawals: {e}", self.name);
            }
            for (a, nets) in groups.into_values() {
                if let Err(e) = packer.announce(af, a.eattrs(), &nets, &mut msgs) {
                    tracing::warn!(target: "bird::bgp", "{}: {} routes not sent: {e}", self.name, nets.len());
                }
            }
            trim_pending(&mut self.pending[ch], drained);
            if est.eor_due[ch] && !est.eor_sent[ch] {
                est.eor_sent[ch] = true;
                msgs.push(packer.end_of_rib(af));
            }
        }
        // The export attribute sets just encoded were dropped with their groups: once enough of the
        // cache is such garbage, give it back instead of waiting for the next import-driven sweep.
        birdtable::attrs::maybe_sweep();
        if msgs.is_empty() {
            return;
        }
        let total: usize = msgs.iter().map(Vec::len).sum();
        if let Some(conn) = self.conns[idx(cid)].as_mut() {
            conn.wbuf.reserve(total);
            for m in &msgs {
                conn.wbuf.extend_from_slice(m);
            }
            drop(msgs);
            if let Err(e) = Self::write_out(conn) {
                self.feed(ctx, Event::TcpClosed(cid, Some(os_text(&e))));
                return;
            }
        }
        self.feed(ctx, Event::Sent(cid));
    }

    fn ensure_listen(&mut self, ctx: &mut ProtoCtx<'_>) {
        if self.listen.is_some() {
            return;
        }
        let ip = match self.cfg.local_ip {
            Some(l) if self.cfg.strict_bind => l,
            _ => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        let addr = SocketAddr::new(ip, self.cfg.local_port);
        let l = &self.cfg.listeners;
        let pw = self.cfg.password.as_deref().map(str::as_bytes);
        let local = self.cfg.local_ip;
        let reg = |at: SocketAddr| match &self.cfg.dynamic {
            Dynamic::Range { range, spawn } => l.register_range(at, *range, local, spawn.clone()),
            _ => l.register(at, self.cfg.neighbor, local, pw, ctx.handle()),
        };
        let v4_peer = self.cfg.dynamic.range().map_or(self.cfg.neighbor.is_ipv4(), |r| r.addr().is_ipv4());
        let r = reg(addr).or_else(|e| {
            // A host without IPv6: the IPv4 wildcard.
            if ip == IpAddr::V6(Ipv6Addr::UNSPECIFIED) && v4_peer {
                reg(SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), self.cfg.local_port))
            } else {
                Err(e)
            }
        });
        match r {
            Ok(r) => self.listen = Some(r),
            Err(e) => {
                tracing::error!(target: "bird::bgp", "{}: cannot listen on {addr}: {e}", self.name);
                ctx.set_error(Some(format!("Cannot listen on {addr}: {e}")));
            }
        }
    }

    fn stop_everything(&mut self, ctx: &mut ProtoCtx<'_>) {
        for c in [ConnId::Outgoing, ConnId::Incoming] {
            self.close(ctx, c);
        }
        for (_, k) in self.timers.drain() {
            birdloop::with_current(|g| g.remove_timer(k));
        }
        self.armed.clear();
        self.est = None;
        self.pending.iter_mut().for_each(HashMap::clear);
        self.export_cache.clear();
        self.listen = None;
        self.stale.iter_mut().for_each(|x| *x = false);
    }
}

impl Protocol for Bgp {
    fn start(&mut self, ctx: &mut ProtoCtx<'_>) -> PState {
        if self.resume.is_none() {
            let h = ctx.handle();
            let ev = LoopEvent::new("bgp uncork", move || h.exec_as::<Bgp>(|p, ctx| p.uncork(ctx)));
            self.resume = birdloop::with_current(|g| Callback::new(ev, g.events().clone()));
        }
        self.ensure_listen(ctx);
        if self.cfg.dynamic.range().is_some() {
            // A neighbor range only listens (shown `start`, `Passive`); the FSM never runs.
            return PState::Start;
        }
        if self.cycling {
            self.cycling = false;
            if std::mem::take(&mut self.pending_up) {
                return PState::Up;
            }
            return PState::Start;
        }
        if self.fsm.proto_state() == ProtoState::Down {
            self.feed(ctx, Event::Start);
        }
        if std::mem::take(&mut self.pending_up) {
            return PState::Up;
        }
        PState::Start
    }

    fn shutdown(&mut self, ctx: &mut ProtoCtx<'_>) -> PState {
        if self.cycling {
            return PState::Down;
        }
        if self.fsm.proto_state() != ProtoState::Down {
            let ev = if std::mem::take(&mut self.limit_disable) {
                Event::RouteLimit { restart: false }
            } else {
                // Cease: administrative reset for a restart, administrative shutdown otherwise, with the
                // operator's message as the shutdown communication (RFC 9003).
                let subcode = if ctx.is_restarting() { 4 } else { 2 };
                Event::Stop { subcode, message: ctx.down_message().map(str::to_owned) }
            };
            self.feed(ctx, ev);
        }
        self.stop_everything(ctx);
        PState::Down
    }

    fn reconfigure(&mut self, _ctx: &mut ProtoCtx<'_>, new: &ProtoConfig) -> Reconfigured {
        let Some(n) = new.kind.as_any().downcast_ref::<BgpConfig>() else {
            return Reconfigured::NeedsRestart;
        };
        if self.cfg.same_session(n) {
            Reconfigured::Same
        } else {
            Reconfigured::NeedsRestart
        }
    }

    fn rt_notify(
        &mut self,
        ctx: &mut ProtoCtx<'_>,
        ch: usize,
        net: Net,
        new: Option<&Route>,
        old: Option<&Route>,
    ) {
        if !self.est.as_ref().is_some_and(|e| e.active.get(ch).copied().unwrap_or(false)) {
            return;
        }
        let out = new.and_then(|r| self.export_one(ch, r));
        let p = &mut self.pending[ch];
        match out {
            Some(a) => {
                p.insert(net, Some(a));
            }
            None => {
                if old.is_some() || p.contains_key(&net) {
                    p.insert(net, None);
                }
            }
        }
        if p.len() >= FLUSH_BATCH {
            // A big feed: pack as we go, so neither the pending map nor the encoded UPDATEs grow with
            // the table (unless the socket is backed up; then the map merges changes until it drains).
            self.flush_tx(ctx);
        } else {
            self.schedule_flush(ctx);
        }
    }

    fn feed_done(&mut self, ctx: &mut ProtoCtx<'_>, ch: usize) {
        if let Some(e) = self.est.as_mut() {
            if !e.eor_sent[ch] {
                e.eor_due[ch] = true;
                self.schedule_flush(ctx);
            }
        }
    }

    fn limit_hit(&mut self, ctx: &mut ProtoCtx<'_>, _dir: birdproto::limit::LimitDir, restart: bool) -> bool {
        if self.fsm.proto_state() == ProtoState::Down {
            return false;
        }
        if restart {
            // Cease 6/1, then the FSM reconnects after its error wait (BIRD's BGP does the same).
            self.feed(ctx, Event::RouteLimit { restart: true });
            return true;
        }
        // The framework disables the instance; shutdown() sends the Cease.
        self.limit_disable = true;
        false
    }

    fn preexport(&self, pe: birdproto::Preexport<'_>, route: &Route) -> bool {
        // Never send a route back to the peer it came from.
        !pe.from_self(route)
    }

    fn rejects_own_routes(&self) -> bool {
        true
    }

    fn reload_routes(&mut self, ctx: &mut ProtoCtx<'_>, ch: usize) -> bool {
        let Some(est) = self.est.as_ref() else { return true };
        if !est.session.route_refresh {
            return false;
        }
        let af = self.cfg.channels[ch].afi_safi;
        let c = est.session.conn;
        self.send_msg(
            ctx,
            c,
            &Message::RouteRefresh(RouteRefresh { afi_safi: af, subtype: RefreshSubtype::Request }),
        );
        true
    }

    fn init_state(&self, state: &mut Published) {
        state.info = self.fsm.status_info();
        state.last_error = None;
        if let Some(range) = self.cfg.dynamic.range() {
            // Padded like the FSM's states (BIRD shows `Passive` and 7 spaces).
            state.info = format!("{:<14}", "Passive");
            state.details = vec![
                "  BGP state:          Passive".to_owned(),
                format!("    Neighbor range:   {range}"),
                format!("    Local AS:         {}", self.cfg.fsm.local_as),
            ];
            state.mem_bytes += std::mem::size_of::<Bgp>() as u64;
            for c in state.channels.iter_mut() {
                if c.state == ChannelState::Start {
                    c.state = ChannelState::Down;
                }
            }
            return;
        }
        let armed = &self.armed;
        let now = Time::now_monotonic();
        let remaining = |t: Timer| armed.get(&t).map(|&at| at.saturating_since(now).as_secs_f64());
        let source =
            self.est.as_ref().and_then(|e| e.local).or(self.last_local).map(|a| listen::canonical(a.ip()));
        let info = ShowInfo {
            neighbor: match &self.cfg.interface {
                Some(i) if matches!(self.cfg.neighbor, IpAddr::V6(a) if a.is_unicast_link_local()) => {
                    format!("{}%{i}", self.cfg.neighbor)
                }
                _ => self.cfg.neighbor.to_string(),
            },
            source,
            multihop: self.cfg.multihop.is_some(),
            rr_client: self.cfg.rr_client,
            rs_client: self.cfg.rs_client,
            send_hold_line: false,
            remaining: &remaining,
        };
        state.details = self.fsm.show_lines(&info);
        let conn_bytes: usize =
            self.conns.iter().flatten().map(|c| c.rbuf.capacity() + c.wbuf.capacity()).sum();
        let pending: usize = self
            .pending
            .iter()
            .map(|p| p.capacity() * (std::mem::size_of::<(Net, Option<Attrs>)>() + 1))
            .sum();
        let est = self.est.as_ref().map_or(0, |e| {
            std::mem::size_of::<Est>()
                + e.nh_cache.capacity() * std::mem::size_of::<((usize, IpAddr), (Dest, Option<u32>))>()
        });
        state.mem_bytes += (std::mem::size_of::<Bgp>() + conn_bytes + pending + est) as u64;
        let conn = self.fsm.session().map_or(ConnId::Outgoing, |s| s.conn);
        state.live_timers = state
            .details
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                let t = match l.trim_start().split(':').next()? {
                    "Error wait" => Timer::ErrorWait,
                    "Connect delay" => Timer::ConnectDelay,
                    "Restart timer" => Timer::GracefulRestart,
                    "Hold timer" => Timer::Hold(conn),
                    "Keepalive timer" => Timer::Keepalive(conn),
                    "Send hold timer" => Timer::SendHold(conn),
                    _ => return None,
                };
                self.armed.get(&t).map(|&at| (i, at))
            })
            .collect();
        for (i, c) in state.channels.iter_mut().enumerate() {
            // The channels open with the session: until then BIRD shows them down.
            if c.state == ChannelState::Start {
                c.state = ChannelState::Down;
            }
            let Some(bc) = self.cfg.channels.get(i) else { continue };
            if let Some(nh) = self.est.as_ref().filter(|e| e.active[i]).and_then(|e| e.self_nh[i]) {
                c.extra.push(format!("    BGP Next hop:   {nh}"));
            }
            // The IGP table is used (and shown) only for recursive next hops.
            if bc.gateway_recursive.unwrap_or(!self.cfg.is_direct()) {
                let igp = bc.igp_table.as_ref().map_or_else(|| c.table.clone(), |t| t.name().to_owned());
                let fam = if bc.afi_safi.afi == 2 { "IPv6" } else { "IPv4" };
                c.extra.push(format!("    IGP {fam} table: {igp}"));
            }
        }
    }

    fn route_class(&self) -> Arc<dyn RouteClass> {
        self.class.clone()
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_maps_keep_capacity_through_bursts_and_shrink_when_quiet() {
        let mut m: HashMap<Net, (), FxBuild> = HashMap::default();
        for i in 0..20_000u32 {
            let net: Net = format!("10.{}.{}.0/24", i / 256, i % 256).parse().expect("valid net");
            m.insert(net, ());
        }
        let cap = m.capacity();
        let n = m.drain().count();
        trim_pending(&mut m, n);
        assert_eq!(m.capacity(), cap, "a large flush keeps the room for the next one");
        trim_pending(&mut m, 10);
        assert!(m.capacity() < 1024, "a small flush shrinks the map ({} slots)", m.capacity());
    }
}
