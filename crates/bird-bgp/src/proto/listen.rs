//! Listening sockets shared by every BGP protocol on the same address and port.
//!
//! ```text
//!   proto loop (bgp1) ──register(addr, neighbor)──► Subproto registry ──(first for addr)──► enter listen loop:
//!                                                     addr → Listener { socket, peers }       tcp_listen(addr)
//!   listen loop: accept ──peers snapshot (ArcSwap, no lock)──► neighbor's ProtoHandle
//!                          │                                   └── exec in the protocol's loop: Bgp::incoming(socket)
//!                          └── no exact neighbour, address in a registered range ──► the range's Spawner(remote, socket)
//!                                                                                    (dynamic BGP: the daemon spawns a protocol)
//! ```
//!
//! The registry (level `subproto`) maps a listening address to its socket and the protocols that
//! accept connections on it. The accept handler runs in the listen loop (level `service`, below
//! `subproto` in the lock order), so it never locks the registry: it reads an [`ArcSwap`] snapshot
//! of the peers, which registrations replace under the registry lock. An accepted connection is
//! handed to the protocol whose neighbour address matches, as a command run in that protocol's loop;
//! a connection from an unknown address is closed at once. A protocol with a `neighbor range` (dynamic
//! BGP) registers the range with a [`Spawner`] instead: a connection from an address in the range that
//! no exact registration claims (exact neighbours always win; among ranges the longest prefix) is given
//! to the spawner, which runs in the listen loop and so must only queue the work (the daemon spawns the
//! new protocol in its main loop). The listening socket is closed when the last protocol using it
//! unregisters (its [`ListenReg`] is dropped).

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use arc_swap::ArcSwap;
use birdloop::{Loop, SockKey};
use birdnet::Net;
use birdproto::ProtoHandle;
use birdrcu::level::Subproto;
use birdrcu::{Domain, LevelId};

use super::Bgp;

/// Called (in the listen loop) with an accepted connection from an address of a registered range that
/// no exact neighbour claims: the remote address (IPv4-mapped addresses as IPv4) and the socket,
/// already non-blocking. It must not block: it queues the connection for whoever spawns the protocol.
pub type Spawner = Arc<dyn Fn(SocketAddr, socket2::Socket) + Send + Sync>;

/// Who takes the connections of one registration.
#[derive(Clone)]
enum Target {
    /// Connections from exactly this neighbour go to the protocol.
    Proto(IpAddr, ProtoHandle),
    /// Connections from this range (when no exact neighbour matches) go to the spawner.
    Range(Net, Spawner),
}

/// One registration on a listening socket.
#[derive(Clone)]
struct Peer {
    target: Target,
    /// The local address the connection must arrive on (`None`: any).
    local: Option<IpAddr>,
    /// Registration id.
    id: u64,
}

type Peers = Arc<ArcSwap<Vec<Peer>>>;

struct Listener {
    key: SockKey,
    peers: Peers,
}

struct Inner {
    lp: OnceLock<Loop>,
    map: Domain<Subproto, HashMap<SocketAddr, Listener>>,
    next_id: AtomicU64,
}

/// The daemon's shared BGP listening sockets (cheap to clone).
#[derive(Clone)]
pub struct Listeners(Arc<Inner>);

impl fmt::Debug for Listeners {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listeners").field("sockets", &self.0.map.lock().len()).finish()
    }
}

/// A protocol's registration on a listening socket; dropping it unregisters.
pub struct ListenReg {
    inner: Weak<Inner>,
    addr: SocketAddr,
    id: u64,
    /// The neighbour whose TCP-MD5 key this registration set on the socket.
    md5: Option<IpAddr>,
}

impl fmt::Debug for ListenReg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListenReg").field("addr", &self.addr).finish()
    }
}

impl Default for Listeners {
    fn default() -> Listeners {
        Listeners::new()
    }
}

impl Listeners {
    /// An empty registry. Its listening sockets live in one loop, created on the first registration in the
    /// thread group of the registering protocol.
    pub fn new() -> Listeners {
        Listeners(Arc::new(Inner {
            lp: OnceLock::new(),
            map: Domain::new("bgp listeners", HashMap::new()),
            next_id: AtomicU64::new(1),
        }))
    }

    /// The process-wide registry (what the daemon uses; tests may make their own).
    pub fn global() -> &'static Listeners {
        static GLOBAL: OnceLock<Listeners> = OnceLock::new();
        GLOBAL.get_or_init(Listeners::new)
    }

    /// Number of listening sockets open.
    pub fn sockets(&self) -> usize {
        self.0.map.lock().len()
    }

    /// Accept connections from `neighbor` on `addr` for `handle` (opening the socket if it is the first
    /// registration for `addr`).
    ///
    /// # Errors
    /// When the socket cannot be opened (address in use, not local, no permission for port 179).
    /// `local`: the address the connection must arrive on (`None`: any), for protocols sharing a
    /// wildcard listener.
    /// `password`: the TCP-MD5 key the neighbour's connections must be signed with (set on the
    /// listening socket for that address, removed again when the registration goes).
    pub fn register(
        &self,
        addr: SocketAddr,
        neighbor: IpAddr,
        local: Option<IpAddr>,
        password: Option<&[u8]>,
        handle: ProtoHandle,
    ) -> io::Result<ListenReg> {
        self.add(addr, Target::Proto(neighbor, handle), local, password.map(|pw| (neighbor, pw)))
    }

    /// Accept connections from any address in `range` on `addr` (dynamic BGP): those no exact
    /// registration claims go to `spawn` (see [`Spawner`]). `local` as for [`Listeners::register`].
    ///
    /// # Errors
    /// When the socket cannot be opened.
    pub fn register_range(
        &self,
        addr: SocketAddr,
        range: Net,
        local: Option<IpAddr>,
        spawn: Spawner,
    ) -> io::Result<ListenReg> {
        self.add(addr, Target::Range(range, spawn), local, None)
    }

    fn add(
        &self,
        addr: SocketAddr,
        target: Target,
        local: Option<IpAddr>,
        password: Option<(IpAddr, &[u8])>,
    ) -> io::Result<ListenReg> {
        let id = self.0.next_id.fetch_add(1, Ordering::Relaxed);
        let lp = match self.0.lp.get() {
            Some(lp) => lp,
            None => {
                let group = birdloop::with_current(|g| g.group()).ok_or_else(|| {
                    io::Error::other("BGP listeners must be registered from a protocol loop")
                })?;
                self.0.lp.get_or_init(|| Loop::new("bgp listen", LevelId::Service, &group))
            }
        };
        let mut map = self.0.map.lock();
        let peer = Peer { target, local, id };
        if let Some(l) = map.get(&addr) {
            let mut v: Vec<_> = (**l.peers.load()).clone();
            v.push(peer);
            l.peers.store(Arc::new(v));
        } else {
            let peers: Peers = Arc::new(ArcSwap::from_pointee(vec![peer]));
            let snapshot = peers.clone();
            let key = {
                let mut g = lp.enter();
                g.tcp_listen(addr, 1024, move |_, _, sock, _| accept_all(addr, sock, &snapshot))?
            };
            tracing::debug!(target: "bird::bgp", "listening on {addr}");
            map.insert(addr, Listener { key, peers });
        }
        let md5 = password.map(|(n, _)| n);
        if let Some((neighbor, pw)) = password {
            let l = map.get(&addr).map(|l| l.key);
            let g = lp.enter();
            let r = l.and_then(|k| {
                g.with_socket::<socket2::Socket, _>(k, |s| md5_key(s, addr, neighbor, Some(pw)))
            });
            drop(g);
            if let Some(Err(e)) = r {
                drop(map);
                drop(ListenReg { inner: Arc::downgrade(&self.0), addr, id, md5: None });
                return Err(e);
            }
        }
        Ok(ListenReg { inner: Arc::downgrade(&self.0), addr, id, md5 })
    }
}

impl Drop for ListenReg {
    fn drop(&mut self) {
        let Some(inner) = self.inner.upgrade() else { return };
        let mut map = inner.map.lock();
        let Some(l) = map.get(&self.addr) else { return };
        let v: Vec<_> = l.peers.load().iter().filter(|p| p.id != self.id).cloned().collect();
        if v.is_empty() {
            let key = l.key;
            map.remove(&self.addr);
            if let Some(lp) = inner.lp.get() {
                let mut g = lp.enter();
                drop(g.remove_socket::<socket2::Socket>(key));
            }
            tracing::debug!(target: "bird::bgp", "closed listening socket {}", self.addr);
        } else {
            l.peers.store(Arc::new(v));
            if let (Some(n), Some(lp)) = (self.md5, inner.lp.get()) {
                let key = l.key;
                let g = lp.enter();
                let _ = g.with_socket::<socket2::Socket, _>(key, |s| md5_key(s, self.addr, n, None));
            }
        }
    }
}

/// Set (or remove) the TCP-MD5 key of `neighbor` on the socket listening on `addr` (an IPv4 neighbour of
/// a dual-stack socket by its IPv4-mapped address).
fn md5_key(s: &socket2::Socket, addr: SocketAddr, neighbor: IpAddr, key: Option<&[u8]>) -> io::Result<()> {
    let peer = match (addr.ip(), neighbor) {
        (IpAddr::V6(_), IpAddr::V4(v4)) => IpAddr::V6(v4.to_ipv6_mapped()),
        _ => neighbor,
    };
    birdloop::sockopt::set_tcp_md5(s, peer, key)
}

fn accept_all(addr: SocketAddr, sock: &mut socket2::Socket, peers: &Peers) {
    loop {
        let (s, from) = match sock.accept() {
            Ok(x) => x,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                tracing::warn!(target: "bird::bgp", "accept on {addr}: {e}");
                return;
            }
        };
        let Some(from) = from.as_socket() else { continue };
        let ip = canonical(from.ip());
        let snapshot = peers.load();
        let here = s.local_addr().ok().and_then(|a| a.as_socket()).map(|a| canonical(a.ip()));
        let Some(target) = pick(&snapshot, ip, here) else {
            tracing::warn!(
                target: "bird::bgp",
                "BGP: Unexpected connect from unknown address {} (port {})",
                ip,
                from.port()
            );
            continue;
        };
        if s.set_nonblocking(true).is_err() {
            continue;
        }
        match target {
            Target::Proto(_, h) => h.exec_as::<Bgp>(move |p, ctx| p.incoming(ctx, s, from)),
            Target::Range(_, spawn) => spawn(SocketAddr::new(ip, from.port()), s),
        }
    }
}

/// What a registration matches: the remote address exactly, or any address of a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    Exact(IpAddr),
    Range(Net),
}

fn match_of(p: &Peer) -> (Match, Option<IpAddr>) {
    match &p.target {
        Target::Proto(n, _) => (Match::Exact(*n), p.local),
        Target::Range(r, _) => (Match::Range(*r), p.local),
    }
}

/// Who takes a connection from `ip` arriving on local address `here`: the protocol whose neighbour is
/// exactly `ip`, else the registered range containing `ip` with the longest prefix (the first such).
fn pick(peers: &[Peer], ip: IpAddr, here: Option<IpAddr>) -> Option<&Target> {
    pick_by(peers, match_of, ip, here).map(|p| &p.target)
}

fn pick_by<T>(
    items: &[T],
    key: impl Fn(&T) -> (Match, Option<IpAddr>),
    ip: IpAddr,
    here: Option<IpAddr>,
) -> Option<&T> {
    let usable = |t: &&T| key(t).1.is_none_or(|l| Some(l) == here);
    items.iter().filter(usable).find(|t| key(t).0 == Match::Exact(ip)).or_else(|| {
        let mut best: Option<(u8, &T)> = None;
        for t in items.iter().filter(usable) {
            if let Match::Range(r) = key(t).0 {
                if r.contains_addr(ip) && best.is_none_or(|(len, _)| r.len() > len) {
                    best = Some((r.len(), t));
                }
            }
        }
        best.map(|(_, t)| t)
    })
}

/// IPv4-mapped IPv6 addresses (from a dual-stack socket) as IPv4.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Reg = (Match, Option<IpAddr>, &'static str);

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("valid address")
    }

    fn who(regs: &[Reg], from: &str, here: Option<&str>) -> Option<&'static str> {
        pick_by(regs, |r| (r.0, r.1), ip(from), here.map(ip)).map(|r| r.2)
    }

    fn range(s: &str) -> Match {
        Match::Range(s.parse().expect("valid net"))
    }

    #[test]
    fn exact_neighbours_win_over_ranges_and_longer_ranges_over_shorter() {
        let regs: Vec<Reg> = vec![
            (range("198.18.0.0/15"), None, "wide"),
            (Match::Exact(ip("198.18.1.7")), None, "exact"),
            (range("198.18.1.0/24"), None, "narrow"),
            (range("2001:db8::/32"), None, "v6"),
        ];
        assert_eq!(who(&regs, "198.18.1.7", None), Some("exact"));
        assert_eq!(who(&regs, "198.18.1.8", None), Some("narrow"));
        assert_eq!(who(&regs, "198.19.255.1", None), Some("wide"));
        assert_eq!(who(&regs, "2001:db8::5", None), Some("v6"));
        assert_eq!(who(&regs, "192.0.2.1", None), None, "outside every range: refused");
        assert_eq!(who(&regs, "2001:db9::5", None), None);
    }

    #[test]
    fn a_range_bound_to_a_local_address_takes_only_connections_to_that_address() {
        let regs: Vec<Reg> = vec![
            (range("198.18.0.0/15"), Some(ip("198.18.0.1")), "on .0.1"),
            (range("198.18.0.0/16"), Some(ip("198.18.0.2")), "on .0.2"),
        ];
        assert_eq!(who(&regs, "198.18.5.5", Some("198.18.0.1")), Some("on .0.1"));
        assert_eq!(who(&regs, "198.18.5.5", Some("198.18.0.2")), Some("on .0.2"));
        assert_eq!(who(&regs, "198.18.5.5", Some("198.18.0.3")), None);
        assert_eq!(who(&regs, "198.18.5.5", None), None);
    }
}
