//! The Linux backend: rtnetlink on a private current-thread tokio runtime inside one dedicated thread.
//!
//! ```text
//!   any thread ── Backend::request/subscribe ──► unbounded channel ──► "krt netlink" thread
//!                                                                    current-thread runtime:
//!                                                                     ├─ request connection (dumps, writes;
//!                                                                     │   writes pipelined, ≤ 256 in flight)
//!                                                                     └─ notification connection (RTNLGRP_LINK,
//!                                                                         IPV4_IFADDR, IPV6_IFADDR); an
//!                                                                         NLMSG_OVERRUN (ENOBUFS) becomes
//!                                                                         Reply::Overrun
//!   replies ◄── Sink (queue + wake the protocol's loop) ◄──────────────┘
//! ```
//!
//! Writes are started in submission order (one task each, spawned in order on a single-threaded runtime,
//! each sending its message on first poll), so the kernel sees them in order on the one socket.

use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::thread;

use birdnet::Net;
use birdrcu::level::Resource;
use birdrcu::Domain;
use futures::{StreamExt, TryStreamExt};
use netlink_packet_route::address::{AddressAttribute, AddressHeaderFlags, AddressMessage, AddressScope};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteNextHop, RouteNextHopFlags,
    RouteProtocol, RouteScope, RouteType, RouteVia,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::packet_core::NetlinkPayload;
use rtnetlink::sys::AsyncSocket;
use rtnetlink::{Handle, MulticastGroup};
use tokio::sync::{mpsc, Semaphore};

use super::{Backend, KAddr, KDest, KHop, KLink, KRoute, KScope, KrtError, Reply, Request, Sink, Write};

enum Cmd {
    Req(Request, Sink),
    Sub(Sink),
}

/// The netlink backend. Dropping it ends the thread.
pub struct Netlink {
    tx: mpsc::UnboundedSender<Cmd>,
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
        Ok(Arc::new(Netlink { tx }))
    }
}

impl Backend for Netlink {
    fn request(&self, req: Request, reply: Sink) {
        if let Err(mpsc::error::SendError(Cmd::Req(req, reply))) = self.tx.send(Cmd::Req(req, reply)) {
            let e = KrtError::Backend("netlink thread gone".into());
            reply(match req {
                Request::DumpRoutes { .. } => Reply::Routes(Err(e)),
                Request::Write { id, .. } => Reply::Done { id, result: Err(e) },
                Request::DumpLinks => Reply::Links(Err(e)),
            });
        }
    }

    fn subscribe(&self, sink: Sink) {
        let _ = self.tx.send(Cmd::Sub(sink));
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
    let sem = Arc::new(Semaphore::new(256));
    while let Some(cmd) = rx.recv().await {
        match cmd {
            Cmd::Sub(s) => subs.lock().push(s),
            Cmd::Req(Request::DumpRoutes { table }, sink) => {
                let h = handle.clone();
                tokio::spawn(async move { sink(Reply::Routes(dump_routes(&h, table).await)) });
            }
            Cmd::Req(Request::DumpLinks, sink) => {
                let h = handle.clone();
                tokio::spawn(async move { sink(Reply::Links(dump_links(&h).await)) });
            }
            Cmd::Req(Request::Write { id, write }, sink) => {
                let Ok(permit) = sem.clone().acquire_owned().await else { break };
                let h = handle.clone();
                tokio::spawn(async move {
                    let result = do_write(&h, write).await;
                    drop(permit);
                    sink(Reply::Done { id, result });
                });
            }
        }
    }
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
        let mut s = h.route().get(m).execute();
        while let Some(r) = s.try_next().await.map_err(kerr)? {
            if let Some(k) = parse_route(&r) {
                if k.table == table {
                    out.push(k);
                }
            }
        }
    }
    Ok(out)
}

async fn do_write(h: &Handle, w: Write) -> Result<(), KrtError> {
    match w {
        Write::Add(r) => h.route().add(route_message(&r, true)).execute().await.map_err(kerr),
        Write::Replace(r) => h.route().add(route_message(&r, true)).replace().execute().await.map_err(kerr),
        Write::Delete(r) => h.route().del(route_message(&r, true)).execute().await.map_err(kerr),
        Write::DeleteAdd(o, n) => {
            let _ = h.route().del(route_message(&o, true)).execute().await;
            h.route().add(route_message(&n, true)).execute().await.map_err(kerr)
        }
    }
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
    let mut links = Vec::new();
    let mut s = h.link().get().execute();
    while let Some(l) = s.try_next().await.map_err(kerr)? {
        if let Some(l) = parse_link(&l) {
            links.push(l);
        }
    }
    let mut addrs = Vec::new();
    let mut s = h.address().get().execute();
    while let Some(a) = s.try_next().await.map_err(kerr)? {
        if let Some(a) = parse_addr(&a) {
            addrs.push(a);
        }
    }
    Ok((links, addrs))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
