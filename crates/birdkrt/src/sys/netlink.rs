//! The Linux backend: rtnetlink on a private current-thread tokio runtime inside one dedicated thread.
//!
//! ```text
//!   any thread ── Backend::request/subscribe ──► unbounded channel ──► "krt netlink" thread
//!                                                                    current-thread runtime:
//!                                                                     ├─ request connection (dumps, one
//!                                                                     │   at a time: the dump worker)
//!                                                                     └─ notification connection (RTNLGRP_LINK,
//!                                                                         IPV4_IFADDR, IPV6_IFADDR); an
//!                                                                         NLMSG_OVERRUN (ENOBUFS) becomes
//!                                                                         Reply::Overrun
//!   replies ◄── Sink (queue + wake the protocol's loop) ◄──────────────┘
//!
//!   any thread ── writes ──► std channel ──► "krt writer" thread: batch → sendmsg → read answers
//!   replies ◄── Sink(Reply::Written, one per batch) ◄──────────────────┘
//! ```
//!
//! Dumps (routes, links, addresses) run one after another, in request order, on the one request socket: the
//! kernel runs a single dump per netlink socket and refuses to start another while one is in progress
//! (`netlink_dump_start` → EBUSY), so concurrent dumps (two kernel protocols and the device protocol
//! scanning at start) would fail. Notifications have their own socket and are not held up by dumps.
//!
//! Route writes do not go through rtnetlink: they go straight to the "krt writer" thread, which owns a
//! plain blocking netlink socket and sends them in batches (up to 60 KiB of messages, about 900 routes, in
//! one `sendmsg`; `sys/batch.rs` tells how answers are attributed). The kernel processes a batch
//! inside that `sendmsg`, so the writer reads the batch's answers right after it and replies with one
//! [`Reply::Written`] per batch and sink. Writes are sent in submission order; a batch is bounded so that an
//! error answer for each of its messages fits in the socket's receive buffer.

use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::thread;

use birdnet::Net;
use birdrcu::level::Resource;
use birdrcu::Domain;
use futures::StreamExt;
use netlink_packet_route::address::{AddressAttribute, AddressHeaderFlags, AddressMessage, AddressScope};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteNextHop, RouteNextHopFlags,
    RouteProtocol, RouteScope, RouteType, RouteVia,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::packet_core::NetlinkPayload;
use rtnetlink::sys::{AsyncSocket, Socket, SocketAddr};
use rtnetlink::{Handle, MulticastGroup};
use tokio::sync::mpsc;

use super::batch::Batch;
use super::{Backend, KAddr, KDest, KHop, KLink, KRoute, KScope, KrtError, Reply, Request, Sink, Write};

enum Cmd {
    Dump(Dump),
    Sub(Sink),
    Unsub(Sink),
}

/// A dump for the dump worker.
enum Dump {
    Routes(u32, Sink),
    Links(Sink),
}

impl Dump {
    fn fail(self, e: KrtError) {
        match self {
            Dump::Routes(_, reply) => reply(Reply::Routes(Err(e))),
            Dump::Links(reply) => reply(Reply::Links(Err(e))),
        }
    }
}

/// Writes for the writer thread: `(id, write)`s and where their replies go.
struct Writes(Vec<(u64, Write)>, Sink);

/// Bytes of messages in one batch (one `sendmsg`).
const BATCH_BYTES: usize = 60 * 1024;
/// The receive buffer asked for on the write socket (room for an error answer to every message of a batch).
const WRITE_RX_BUFFER: usize = 4 << 20;
/// Receive-buffer bytes budgeted per message of a batch (an error answer's socket buffer, with overhead).
const RX_BYTES_PER_MESSAGE: usize = 1024;
/// How long the writer waits for a batch's answers (they are normally queued before `sendmsg` returns).
const ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How long one dump may take before it is given up (a safety valve: dumps run one at a time, so a dump
/// whose end never came would otherwise hold up every later one).
const DUMP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// The netlink backend. Dropping it ends the threads.
pub struct Netlink {
    tx: mpsc::UnboundedSender<Cmd>,
    wtx: std::sync::mpsc::Sender<Writes>,
}

impl std::fmt::Debug for Netlink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Netlink").finish_non_exhaustive()
    }
}

type Subs = Arc<Domain<Resource, Vec<Sink>>>;

impl Netlink {
    /// Start the netlink thread. `rx_buffer` (`netlink rx buffer`) sets the notification socket's receive
    /// buffer.
    ///
    /// # Errors
    /// When the runtime or the netlink sockets cannot be created.
    pub fn start(rx_buffer: Option<usize>) -> io::Result<Arc<Netlink>> {
        // Created here, so it lives in the caller's network namespace like the others.
        let (wsock, max_messages) = write_socket()?;
        let (wtx, wrx) = std::sync::mpsc::channel();
        thread::Builder::new().name("krt writer".into()).spawn(move || writer(&wsock, &wrx, max_messages))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();
        thread::Builder::new().name("krt netlink".into()).spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            rt.block_on(run(rx, rx_buffer, ready_tx));
        })?;
        ready_rx.recv().map_err(|_| io::Error::other("netlink thread died"))??;
        Ok(Arc::new(Netlink { tx, wtx }))
    }

    fn send_writes(&self, w: Vec<(u64, Write)>, reply: Sink) {
        if w.is_empty() {
            return;
        }
        if let Err(std::sync::mpsc::SendError(Writes(w, reply))) = self.wtx.send(Writes(w, reply)) {
            let e = KrtError::Backend("netlink writer gone".into());
            reply(Reply::Written(w.into_iter().map(|(id, _)| (id, Err(e.clone()))).collect()));
        }
    }
}

/// The write socket: `NETLINK_CAP_ACK` (answers do not echo the request), a large receive buffer (forced
/// when we may), a bounded wait for answers. Also returns how many messages one batch may hold.
fn write_socket() -> io::Result<(Socket, usize)> {
    let mut s = Socket::new(rtnetlink::sys::protocols::NETLINK_ROUTE)?;
    s.bind_auto()?;
    s.connect(&SocketAddr::new(0, 0))?;
    let _ = s.set_cap_ack(true);
    if rustix::net::sockopt::set_socket_recv_buffer_size_force(&s, WRITE_RX_BUFFER).is_err() {
        let _ = rustix::net::sockopt::set_socket_recv_buffer_size(&s, WRITE_RX_BUFFER);
    }
    rustix::net::sockopt::set_socket_timeout(&s, rustix::net::sockopt::Timeout::Recv, Some(ANSWER_TIMEOUT))?;
    let rx = rustix::net::sockopt::socket_recv_buffer_size(&s).unwrap_or(0);
    Ok((s, (rx / RX_BYTES_PER_MESSAGE).clamp(2, 8192)))
}

/// The writer thread: batches of writes, in submission order, until the backend is dropped.
fn writer(sock: &Socket, rx: &std::sync::mpsc::Receiver<Writes>, max_messages: usize) {
    let mut seq: u32 = 1;
    let mut rbuf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut queue: std::collections::VecDeque<(u64, Write, Sink)> = std::collections::VecDeque::new();
    loop {
        if queue.is_empty() {
            let Ok(Writes(w, s)) = rx.recv() else { return };
            queue.extend(w.into_iter().map(|(id, w)| (id, w, s.clone())));
        }
        while let Ok(Writes(w, s)) = rx.try_recv() {
            queue.extend(w.into_iter().map(|(id, w)| (id, w, s.clone())));
        }
        let mut b = Batch::new(seq);
        while let Some((id, w, s)) = queue.pop_front() {
            b.push(id, &w, s);
            if b.len() >= BATCH_BYTES || b.messages() + 2 > max_messages {
                break;
            }
        }
        seq = b.next_seq();
        send_batch(sock, &mut b, &mut rbuf);
        b.finish("no answer from the kernel: outcome unknown").deliver();
    }
}

/// Send one batch and read its answers.
fn send_batch(sock: &Socket, b: &mut Batch, rbuf: &mut Vec<u8>) {
    if let Err(e) = sock.send(b.seal(), 0) {
        tracing::warn!(target: "bird::krt", "netlink: sending {} route writes failed: {e}", b.writes());
        return;
    }
    let mut flags = 0;
    while !b.complete() {
        rbuf.clear();
        match sock.recv(rbuf, flags) {
            Ok(_) => b.ack(rbuf),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NOBUFS.raw_os_error()) => {
                // Some answers were dropped: read what is left, then give up on the rest.
                tracing::warn!(target: "bird::krt", "netlink: route write answers lost (ENOBUFS)");
                flags = rustix::net::RecvFlags::DONTWAIT.bits() as i32;
            }
            Err(e) => {
                if flags == 0 {
                    tracing::warn!(target: "bird::krt", "netlink: no answer to route writes: {e}");
                }
                return;
            }
        }
    }
}

impl Backend for Netlink {
    fn request(&self, req: Request, reply: Sink) {
        let cmd = match req {
            Request::Write { id, write } => return self.send_writes(vec![(id, write)], reply),
            Request::DumpRoutes { table } => Cmd::Dump(Dump::Routes(table, reply)),
            Request::DumpLinks => Cmd::Dump(Dump::Links(reply)),
        };
        if let Err(mpsc::error::SendError(Cmd::Dump(d))) = self.tx.send(cmd) {
            d.fail(KrtError::Backend("netlink thread gone".into()));
        }
    }

    fn request_batch(&self, reqs: Vec<Request>, reply: Sink) {
        let writes = super::start_non_writes(self, reqs, &reply);
        self.send_writes(writes, reply);
    }

    fn subscribe(&self, sink: Sink) {
        let _ = self.tx.send(Cmd::Sub(sink));
    }

    fn unsubscribe(&self, sink: &Sink) {
        let _ = self.tx.send(Cmd::Unsub(sink.clone()));
    }
}

async fn run(
    mut rx: mpsc::UnboundedReceiver<Cmd>,
    rx_buffer: Option<usize>,
    ready: std::sync::mpsc::Sender<io::Result<()>>,
) {
    let handle = match rtnetlink::new_connection() {
        Ok((conn, handle, _)) => {
            tokio::spawn(conn);
            handle
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let subs: Subs = Arc::new(Domain::new("krt netlink subscribers", Vec::new()));
    if let Err(e) = start_notifier(subs.clone(), rx_buffer) {
        let _ = ready.send(Err(e));
        return;
    }
    let _ = ready.send(Ok(()));
    let (dtx, drx) = mpsc::unbounded_channel();
    tokio::spawn(dump_worker(handle, drx));
    while let Some(cmd) = rx.recv().await {
        match cmd {
            Cmd::Sub(s) => subs.lock().push(s),
            Cmd::Unsub(s) => subs.lock().retain(|x| !Arc::ptr_eq(x, &s)),
            Cmd::Dump(d) => {
                if let Err(mpsc::error::SendError(d)) = dtx.send(d) {
                    d.fail(KrtError::Backend("netlink dump worker gone".into()));
                }
            }
        }
    }
}

/// The dump worker: runs the dumps on the request socket one at a time, in request order (the kernel
/// refuses a second dump on a socket while one is in progress: EBUSY).
async fn dump_worker(h: Handle, mut rx: mpsc::UnboundedReceiver<Dump>) {
    let timeout = || KrtError::Backend(format!("dump not finished after {DUMP_TIMEOUT:?}"));
    while let Some(d) = rx.recv().await {
        match d {
            Dump::Routes(table, sink) => {
                let r = tokio::time::timeout(DUMP_TIMEOUT, dump_routes(&h, table)).await;
                sink(Reply::Routes(r.unwrap_or_else(|_| Err(timeout()))));
            }
            Dump::Links(sink) => {
                let r = tokio::time::timeout(DUMP_TIMEOUT, dump_links(&h)).await;
                sink(Reply::Links(r.unwrap_or_else(|_| Err(timeout()))));
            }
        }
    }
}

/// Read a dump to its end (so that the kernel has finished it before the next one starts, even when an
/// answer could not be used), keeping what `f` makes of each message; the first error, if any.
async fn read_dump<T, U>(
    s: impl futures::Stream<Item = Result<T, rtnetlink::Error>>,
    mut f: impl FnMut(T) -> Option<U>,
) -> Result<Vec<U>, KrtError> {
    let mut out = Vec::new();
    let mut err = None;
    futures::pin_mut!(s);
    while let Some(m) = s.next().await {
        match m {
            Ok(m) => {
                if err.is_none() {
                    out.extend(f(m));
                }
            }
            Err(e) => {
                err.get_or_insert(kerr(e));
            }
        }
    }
    err.map_or(Ok(out), Err)
}

fn broadcast(subs: &Subs, r: Reply) {
    let v = subs.lock().clone();
    for s in v {
        s(r.clone());
    }
}

fn start_notifier(subs: Subs, rx_buffer: Option<usize>) -> io::Result<()> {
    let groups = [MulticastGroup::Link, MulticastGroup::Ipv4Ifaddr, MulticastGroup::Ipv6Ifaddr];
    let (mut conn, _h, mut msgs) = rtnetlink::new_multicast_connection(&groups)?;
    if let Some(sz) = rx_buffer {
        // SO_RCVBUFFORCE (beyond rmem_max, needs CAP_NET_ADMIN), else SO_RCVBUF.
        let sock = conn.socket_mut().socket_mut();
        if rustix::net::sockopt::set_socket_recv_buffer_size_force(&*sock, sz).is_err() {
            sock.set_rx_buf_sz(sz)?;
        }
    }
    tokio::spawn(conn);
    tokio::spawn(async move {
        while let Some((m, _)) = msgs.next().await {
            let r = match m.payload {
                NetlinkPayload::Overrun(_) => Some(Reply::Overrun),
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(l)) => {
                    parse_link(&l).map(Reply::Link)
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(l)) => {
                    Some(Reply::LinkGone(l.header.index))
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(a)) => {
                    parse_addr(&a).map(|a| Reply::Addr(true, a))
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelAddress(a)) => {
                    parse_addr(&a).map(|a| Reply::Addr(false, a))
                }
                _ => None,
            };
            if let Some(r) = r {
                broadcast(&subs, r);
            }
        }
        // The socket is gone: everybody resynchronizes.
        broadcast(&subs, Reply::Overrun);
    });
    Ok(())
}

fn kerr(e: rtnetlink::Error) -> KrtError {
    match e {
        rtnetlink::Error::NetlinkError(m) => {
            let errno = -m.raw_code();
            KrtError::Kernel { errno, msg: io::Error::from_raw_os_error(errno).to_string() }
        }
        e => KrtError::Backend(e.to_string()),
    }
}

fn addr_of(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v) => Some(IpAddr::V4(*v)),
        RouteAddress::Inet6(v) => Some(IpAddr::V6(*v)),
        _ => None,
    }
}

fn via_of(v: &RouteVia) -> Option<IpAddr> {
    match v {
        RouteVia::Inet(a) => Some(IpAddr::V4(*a)),
        RouteVia::Inet6(a) => Some(IpAddr::V6(*a)),
        _ => None,
    }
}

fn hop_gw(attrs: &[RouteAttribute]) -> Option<IpAddr> {
    // RTA_VIA overrides RTA_GATEWAY.
    attrs.iter().find_map(|a| if let RouteAttribute::Via(v) = a { via_of(v) } else { None }).or_else(|| {
        attrs.iter().find_map(|a| if let RouteAttribute::Gateway(g) = a { addr_of(g) } else { None })
    })
}

/// Parse a kernel route (`None` for routes birdkrt does not handle: local, broadcast, multicast, ...).
pub fn parse_route(m: &RouteMessage) -> Option<KRoute> {
    let h = &m.header;
    let dst =
        m.attributes
            .iter()
            .find_map(|a| if let RouteAttribute::Destination(d) = a { addr_of(d) } else { None });
    let dst = match (dst, h.address_family) {
        (Some(d), _) => d,
        (None, AddressFamily::Inet) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        (None, AddressFamily::Inet6) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        _ => return None,
    };
    let net = Net::new_masked(dst, h.destination_prefix_length).ok()?;
    if h.source_prefix_length != 0 || h.tos != 0 {
        return None;
    }
    let table = m
        .attributes
        .iter()
        .find_map(|a| if let RouteAttribute::Table(t) = a { Some(*t) } else { None })
        .unwrap_or(u32::from(h.table));
    let metric = m
        .attributes
        .iter()
        .find_map(|a| if let RouteAttribute::Priority(p) = a { Some(*p) } else { None })
        .unwrap_or(0);
    let dest = match h.kind {
        RouteType::Unicast => {
            let mp = m.attributes.iter().find_map(|a| {
                if let RouteAttribute::MultiPath(v) = a {
                    Some(v)
                } else {
                    None
                }
            });
            match mp {
                Some(v) => KDest::unicast(
                    v.iter()
                        .map(|nh| KHop {
                            gw: hop_gw(&nh.attributes),
                            ifindex: nh.interface_index,
                            weight: nh.hops,
                            onlink: nh.flags.contains(RouteNextHopFlags::Onlink),
                        })
                        .collect(),
                ),
                None => {
                    let oif = m.attributes.iter().find_map(|a| {
                        if let RouteAttribute::Oif(i) = a {
                            Some(*i)
                        } else {
                            None
                        }
                    });
                    KDest::unicast(vec![KHop {
                        gw: hop_gw(&m.attributes),
                        ifindex: oif.unwrap_or(0),
                        weight: 0,
                        onlink: h.flags.contains(RouteFlags::Onlink),
                    }])
                }
            }
        }
        RouteType::BlackHole => KDest::Blackhole,
        RouteType::Unreachable => KDest::Unreachable,
        RouteType::Prohibit => KDest::Prohibit,
        _ => return None,
    };
    let prefsrc =
        m.attributes
            .iter()
            .find_map(|a| if let RouteAttribute::PrefSource(p) = a { addr_of(p) } else { None });
    Some(KRoute { net, table, metric, proto: u8::from(h.protocol), dest, prefsrc })
}

fn route_addr(ip: IpAddr) -> RouteAddress {
    match ip {
        IpAddr::V4(a) => RouteAddress::Inet(a),
        IpAddr::V6(a) => RouteAddress::Inet6(a),
    }
}

fn gw_attr(net_v4: bool, gw: IpAddr) -> RouteAttribute {
    if gw.is_ipv4() == net_v4 {
        RouteAttribute::Gateway(route_addr(gw))
    } else {
        // Cross-family next hop (IPv4 via IPv6, RFC 8950): RTA_VIA.
        RouteAttribute::Via(match gw {
            IpAddr::V4(a) => RouteVia::Inet(a),
            IpAddr::V6(a) => RouteVia::Inet6(a),
        })
    }
}

/// Build the netlink message of `r` (for add, replace or delete).
pub fn route_message(r: &KRoute, with_dest: bool) -> RouteMessage {
    let v4 = r.net.addr().is_ipv4();
    let mut m = RouteMessage::default();
    m.header.address_family = if v4 { AddressFamily::Inet } else { AddressFamily::Inet6 };
    m.header.destination_prefix_length = r.net.len();
    m.header.table = u8::try_from(r.table).unwrap_or(RouteHeader::RT_TABLE_UNSPEC);
    m.header.protocol = RouteProtocol::from(r.proto);
    m.header.scope = RouteScope::Universe;
    m.header.kind = RouteType::Unicast;
    m.attributes.push(RouteAttribute::Destination(route_addr(r.net.addr())));
    m.attributes.push(RouteAttribute::Table(r.table));
    m.attributes.push(RouteAttribute::Priority(r.metric));
    if let Some(p) = r.prefsrc {
        m.attributes.push(RouteAttribute::PrefSource(route_addr(p)));
    }
    if !with_dest {
        return m;
    }
    match &r.dest {
        KDest::Blackhole => m.header.kind = RouteType::BlackHole,
        KDest::Unreachable => m.header.kind = RouteType::Unreachable,
        KDest::Prohibit => m.header.kind = RouteType::Prohibit,
        KDest::Unicast(hops) if hops.len() == 1 => {
            let h = &hops[0];
            match h.gw {
                Some(gw) => m.attributes.push(gw_attr(v4, gw)),
                None => m.header.scope = RouteScope::Link,
            }
            if h.ifindex != 0 {
                m.attributes.push(RouteAttribute::Oif(h.ifindex));
            }
            if h.onlink {
                m.header.flags |= RouteFlags::Onlink;
            }
        }
        KDest::Unicast(hops) => {
            let v = hops
                .iter()
                .map(|h| {
                    let mut nh = RouteNextHop::default();
                    nh.interface_index = h.ifindex;
                    nh.hops = h.weight;
                    if h.onlink {
                        nh.flags |= RouteNextHopFlags::Onlink;
                    }
                    if let Some(gw) = h.gw {
                        nh.attributes.push(gw_attr(v4, gw));
                    }
                    nh
                })
                .collect();
            m.attributes.push(RouteAttribute::MultiPath(v));
        }
    }
    m
}

async fn dump_routes(h: &Handle, table: u32) -> Result<Vec<KRoute>, KrtError> {
    let mut out = Vec::new();
    for fam in [AddressFamily::Inet, AddressFamily::Inet6] {
        let mut m = RouteMessage::default();
        m.header.address_family = fam;
        let s = h.route().get(m).execute();
        out.extend(read_dump(s, |r| parse_route(&r).filter(|k| k.table == table)).await?);
    }
    Ok(out)
}

fn parse_link(l: &LinkMessage) -> Option<KLink> {
    let name = l.attributes.iter().find_map(|a| {
        if let LinkAttribute::IfName(n) = a {
            Some(n.clone())
        } else {
            None
        }
    })?;
    let f = l.header.flags;
    Some(KLink {
        index: l.header.index,
        name,
        admin_up: f.contains(LinkFlags::Up),
        link_up: f.contains(LinkFlags::LowerUp) || f.contains(LinkFlags::Running),
        loopback: f.contains(LinkFlags::Loopback),
        broadcast: f.contains(LinkFlags::Broadcast),
        multicast: f.contains(LinkFlags::Multicast),
        ptp: f.contains(LinkFlags::Pointopoint),
        mtu: l
            .attributes
            .iter()
            .find_map(|a| if let LinkAttribute::Mtu(m) = a { Some(*m) } else { None })
            .unwrap_or(0),
        master: l.attributes.iter().find_map(|a| {
            if let LinkAttribute::Controller(m) = a {
                Some(*m)
            } else {
                None
            }
        }),
    })
}

fn parse_addr(a: &AddressMessage) -> Option<KAddr> {
    let address =
        a.attributes.iter().find_map(|x| if let AddressAttribute::Address(i) = x { Some(*i) } else { None });
    let local =
        a.attributes.iter().find_map(|x| if let AddressAttribute::Local(i) = x { Some(*i) } else { None });
    let (ip, peer) = match (local, address) {
        (Some(l), Some(p)) if l != p => (l, Some(p)),
        (Some(l), _) => (l, None),
        (None, Some(p)) => (p, None),
        (None, None) => return None,
    };
    let scope = match a.header.scope {
        AddressScope::Universe => KScope::Univ,
        AddressScope::Site => KScope::Site,
        AddressScope::Link => KScope::Link,
        _ => KScope::Host,
    };
    Some(KAddr {
        index: a.header.index,
        ip,
        len: a.header.prefix_len,
        peer,
        scope,
        secondary: a.header.flags.contains(AddressHeaderFlags::Secondary),
    })
}

async fn dump_links(h: &Handle) -> Result<(Vec<KLink>, Vec<KAddr>), KrtError> {
    let links = read_dump(h.link().get().execute(), |l| parse_link(&l)).await?;
    let addrs = read_dump(h.address().get().execute(), |a| parse_addr(&a)).await?;
    Ok((links, addrs))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Dumps requested all at once (as two kernel protocols and the device protocol do at start) are run
    /// one at a time on the request socket: none fails with EBUSY. Reads (never writes) the current
    /// namespace's tables, so it needs no privileges; skipped where netlink is unavailable.
    #[test]
    fn concurrent_dumps_are_serialised() {
        let nl = match Netlink::start(None) {
            Ok(nl) => nl,
            Err(e) => {
                eprintln!("SKIPPED: no netlink here: {e}");
                return;
            }
        };
        let got: Arc<std::sync::Mutex<Vec<Reply>>> = Arc::default();
        let g = got.clone();
        let sink: Sink = Arc::new(move |r| g.lock().unwrap().push(r));
        let n = 30;
        for i in 0..n {
            match i % 3 {
                0 => nl.request(Request::DumpRoutes { table: 254 }, sink.clone()),
                1 => nl.request(Request::DumpLinks, sink.clone()),
                _ => nl.request_batch(
                    vec![Request::DumpRoutes { table: 255 }, Request::DumpLinks],
                    sink.clone(),
                ),
            }
        }
        let want = n + n / 3;
        let start = std::time::Instant::now();
        while got.lock().unwrap().len() < want {
            assert!(start.elapsed() < std::time::Duration::from_secs(30), "dumps not all answered");
            thread::sleep(std::time::Duration::from_millis(10));
        }
        for r in got.lock().unwrap().iter() {
            match r {
                Reply::Routes(Ok(_)) => {}
                Reply::Links(Ok((links, _))) => assert!(links.iter().any(|l| l.loopback), "{links:?}"),
                other => panic!("dump failed: {other:?}"),
            }
        }
    }

    #[test]
    fn message_round_trip_with_via_and_multipath() {
        let r = KRoute {
            net: "198.18.10.0/24".parse().unwrap(),
            table: 100,
            metric: 32,
            proto: super::super::RTPROT_BIRD,
            dest: KDest::unicast(vec![
                KHop { gw: Some("2001:db8::1".parse().unwrap()), ifindex: 2, weight: 0, onlink: false },
                KHop { gw: Some("198.18.0.2".parse().unwrap()), ifindex: 3, weight: 1, onlink: false },
            ]),
            prefsrc: Some("198.18.0.1".parse().unwrap()),
        };
        let m = route_message(&r, true);
        let RouteAttribute::MultiPath(v) =
            m.attributes.iter().find(|a| matches!(a, RouteAttribute::MultiPath(_))).unwrap()
        else {
            unreachable!()
        };
        assert!(v
            .iter()
            .any(|h| h.attributes.iter().any(|a| matches!(a, RouteAttribute::Via(RouteVia::Inet6(_))))));
        assert!(v.iter().any(|h| h
            .attributes
            .iter()
            .any(|a| matches!(a, RouteAttribute::Gateway(RouteAddress::Inet(_))))));
        assert_eq!(parse_route(&m), Some(r));
        let one = KRoute {
            net: "198.18.11.0/24".parse().unwrap(),
            table: 100,
            metric: 32,
            proto: super::super::RTPROT_BIRD,
            dest: KDest::unicast(vec![KHop {
                gw: Some("2001:db8::1".parse().unwrap()),
                ifindex: 2,
                weight: 0,
                onlink: false,
            }]),
            prefsrc: None,
        };
        let m = route_message(&one, true);
        assert!(m.attributes.iter().any(|a| matches!(a, RouteAttribute::Via(RouteVia::Inet6(_)))));
        assert!(!m.attributes.iter().any(|a| matches!(a, RouteAttribute::Gateway(_))));
        assert_eq!(parse_route(&m), Some(one));
        let bh = KRoute {
            net: "2001:db8:5::/48".parse().unwrap(),
            table: 100,
            metric: 7,
            proto: 12,
            dest: KDest::Blackhole,
            prefsrc: None,
        };
        assert_eq!(parse_route(&route_message(&bh, true)), Some(bh));
    }
}
