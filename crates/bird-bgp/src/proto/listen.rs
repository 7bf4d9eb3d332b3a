//! Listening sockets shared by every BGP protocol on the same address and port.
//!
//! ```text
//!   proto loop (bgp1) ──register(addr, neighbor)──► Subproto registry ──(first for addr)──► enter listen loop:
//!                                                     addr → Listener { socket, peers }       tcp_listen(addr)
//!   listen loop: accept ──peers snapshot (ArcSwap, no lock)──► neighbor's ProtoHandle
//!                          └── exec in the protocol's loop: Bgp::incoming(socket)
//! ```
//!
//! The registry (level `subproto`) maps a listening address to its socket and the protocols that
//! accept connections on it. The accept handler runs in the listen loop (level `service`, below
//! `subproto` in the lock order), so it never locks the registry: it reads an [`ArcSwap`] snapshot
//! of the peers, which registrations replace under the registry lock. An accepted connection is
//! handed to the protocol whose neighbour address matches, as a command run in that protocol's loop;
//! a connection from an unknown address is closed at once. The listening socket is closed when the
//! last protocol using it unregisters (its [`ListenReg`] is dropped).

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use arc_swap::ArcSwap;
use birdloop::{Loop, SockKey};
use birdproto::ProtoHandle;
use birdrcu::level::Subproto;
use birdrcu::{Domain, LevelId};

use super::Bgp;

/// `(neighbor, local address the connection must arrive on (None: any), registration id, protocol)`.
type Peers = Arc<ArcSwap<Vec<(IpAddr, Option<IpAddr>, u64, ProtoHandle)>>>;

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
        if let Some(l) = map.get(&addr) {
            let mut v: Vec<_> = (**l.peers.load()).clone();
            v.push((neighbor, local, id, handle));
            l.peers.store(Arc::new(v));
        } else {
            let peers: Peers = Arc::new(ArcSwap::from_pointee(vec![(neighbor, local, id, handle)]));
            let snapshot = peers.clone();
            let key = {
                let mut g = lp.enter();
                g.tcp_listen(addr, 1024, move |_, _, sock, _| accept_all(addr, sock, &snapshot))?
            };
            tracing::debug!(target: "bird::bgp", "listening on {addr}");
            map.insert(addr, Listener { key, peers });
        }
        let md5 = password.is_some();
        if let Some(pw) = password {
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
        Ok(ListenReg { inner: Arc::downgrade(&self.0), addr, id, md5: md5.then_some(neighbor) })
    }
}

impl Drop for ListenReg {
    fn drop(&mut self) {
        let Some(inner) = self.inner.upgrade() else { return };
        let mut map = inner.map.lock();
        let Some(l) = map.get(&self.addr) else { return };
        let v: Vec<_> = l.peers.load().iter().filter(|p| p.2 != self.id).cloned().collect();
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
        let Some((_, _, _, h)) =
            snapshot.iter().find(|(n, l, _, _)| *n == ip && l.is_none_or(|l| Some(l) == here))
        else {
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
        h.exec_as::<Bgp>(move |p, ctx| p.incoming(ctx, s, from));
    }
}

/// IPv4-mapped IPv6 addresses (from a dual-stack socket) as IPv4.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}
