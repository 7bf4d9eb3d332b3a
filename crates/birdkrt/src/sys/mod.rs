//! The OS boundary: what birdkrt needs from the kernel, as a written contract.
//!
//! Every kernel interaction goes through a [`Backend`]. There are two:
//!
//! * [`netlink`] (Linux): rtnetlink connections (dumps, notifications) owned by one dedicated thread running
//!   a private current-thread tokio runtime (nothing else in the process sees tokio), and a writer thread
//!   that sends route writes in batches on a plain netlink socket.
//! * [`mock`]: an in-memory kernel (routing tables, links, addresses) with failure injection, used by the
//!   default tests and usable off Linux.
//!
//! # Contract
//!
//! * [`Backend::request`] never blocks and never calls `reply` from inside the call on the netlink
//!   backend (the mock may, so callers must not hold locks the sink takes). Every request gets exactly one
//!   final reply ([`Reply::Routes`], [`Reply::Links`]; for a write [`Reply::Done`] or one entry of a
//!   [`Reply::Written`], which carries the outcomes of several writes of one batch).
//! * [`Backend::request_batch`] submits many requests at once (the netlink backend sends a batch of writes
//!   in one `sendmsg`); each request is answered as if submitted alone, in order, except that the outcomes
//!   of several writes may come in one [`Reply::Written`].
//! * Requests from one caller are *started* in submission order. A [`Write::DeleteAdd`] is executed as one
//!   unit (delete, then add), so no other write of the same caller runs between the two halves.
//! * [`Backend::subscribe`] delivers asynchronous notifications (links, addresses) and
//!   [`Reply::Overrun`] when the kernel dropped notifications (ENOBUFS): the subscriber must rescan, until
//!   [`Backend::unsubscribe`]. A write sink also gets [`Reply::Overrun`] when the outcome of some of its
//!   writes was lost (their replies are errors).
//! * Sinks run on the backend's thread. They must be short: queue the reply and wake a loop.
//! * Route identity in the kernel is `(table, net, metric)`; birdkrt writes one metric per protocol, so its
//!   own routes are keyed by net.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use birdnet::Net;

#[cfg(target_os = "linux")]
mod batch;
pub mod mock;
#[cfg(target_os = "linux")]
pub mod netlink;

/// `RTPROT_BIRD`: the protocol number birdkrt marks its kernel routes with.
pub const RTPROT_BIRD: u8 = 12;
/// `RTPROT_KERNEL`: routes the kernel made itself (connected routes); learned only with `learn all`.
pub const RTPROT_KERNEL: u8 = 2;
/// `RTPROT_BOOT`: routes added by `ip route add` without `proto`.
pub const RTPROT_BOOT: u8 = 3;
/// `RTPROT_STATIC`.
pub const RTPROT_STATIC: u8 = 4;

/// One next hop of a kernel route.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KHop {
    /// The gateway (`None`: directly connected). May be of the other family than the route (RTA_VIA).
    pub gw: Option<IpAddr>,
    /// The outgoing interface index (0: let the kernel choose).
    pub ifindex: u32,
    /// ECMP weight minus one (`rtnh_hops`).
    pub weight: u8,
    /// `onlink`.
    pub onlink: bool,
}

/// What a kernel route does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KDest {
    /// Next hops; more than one is a multipath route (RTA_MULTIPATH), kept sorted.
    Unicast(Vec<KHop>),
    /// `blackhole`.
    Blackhole,
    /// `unreachable`.
    Unreachable,
    /// `prohibit`.
    Prohibit,
}

impl KDest {
    /// A unicast destination with its hops in canonical (sorted) order.
    pub fn unicast(mut hops: Vec<KHop>) -> KDest {
        hops.sort();
        hops.dedup();
        KDest::Unicast(hops)
    }

    /// Whether this is a unicast route with at least one gateway.
    pub fn has_gateway(&self) -> bool {
        matches!(self, KDest::Unicast(h) if h.iter().any(|h| h.gw.is_some()))
    }
}

/// A route as the kernel holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KRoute {
    /// The destination prefix.
    pub net: Net,
    /// Routing table number.
    pub table: u32,
    /// `RTA_PRIORITY`.
    pub metric: u32,
    /// `rtm_protocol` (`RTPROT_*`).
    pub proto: u8,
    /// What the route does.
    pub dest: KDest,
    /// `RTA_PREFSRC` (`krt_prefsrc`).
    pub prefsrc: Option<IpAddr>,
}

impl KRoute {
    /// Whether this route (as the kernel holds it) is what `want` asks for: equal, except that a wanted
    /// next hop without an interface (index 0) accepts whatever interface the kernel resolved.
    pub fn satisfies(&self, want: &KRoute) -> bool {
        if self == want {
            return true;
        }
        let (KDest::Unicast(have), KDest::Unicast(w)) = (&self.dest, &want.dest) else { return false };
        (self.net, self.table, self.metric, self.proto, self.prefsrc)
            == (want.net, want.table, want.metric, want.proto, want.prefsrc)
            && have.len() == w.len()
            && w.iter().all(|wh| {
                have.iter().any(|h| {
                    (h.gw, h.weight, h.onlink) == (wh.gw, wh.weight, wh.onlink)
                        && (wh.ifindex == 0 || wh.ifindex == h.ifindex)
                })
            })
    }

    /// Whether a next hop's gateway is of the other address family than the net (needs RTA_VIA).
    pub fn needs_via(&self) -> bool {
        match &self.dest {
            KDest::Unicast(h) => {
                h.iter().any(|h| h.gw.is_some_and(|g| g.is_ipv4() != self.net.addr().is_ipv4()))
            }
            _ => false,
        }
    }
}

/// One write to the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// `RTM_NEWROUTE` with `NLM_F_CREATE | NLM_F_EXCL`.
    Add(KRoute),
    /// `RTM_NEWROUTE` with `NLM_F_CREATE | NLM_F_REPLACE`.
    Replace(KRoute),
    /// `RTM_DELROUTE`.
    Delete(KRoute),
    /// Delete the old route, then add the new one (when REPLACE is not safe). A failed delete does not stop
    /// the add (the route may already be gone).
    DeleteAdd(KRoute, KRoute),
}

/// Whether `new` may be written over `old` with `NLM_F_REPLACE`: only when the metric is the same (the kernel
/// keys routes by metric, so REPLACE with another metric would add a second route), and for IPv6 only when
/// both are unicast routes with a gateway (older kernels mishandle IPv6 replace of other routes).
pub fn can_replace(old: &KRoute, new: &KRoute) -> bool {
    if old.metric != new.metric || old.table != new.table || old.net != new.net {
        return false;
    }
    match new.net {
        Net::Ip4(_) => true,
        _ => old.dest.has_gateway() && new.dest.has_gateway(),
    }
}

/// How to get from what the kernel has (`old`) to what we want (`new`).
pub fn plan_write(old: Option<&KRoute>, new: Option<&KRoute>) -> Option<Write> {
    match (old, new) {
        (None, None) => None,
        (Some(o), None) => Some(Write::Delete(o.clone())),
        (None, Some(n)) => Some(Write::Add(n.clone())),
        (Some(o), Some(n)) if o.satisfies(n) => None,
        (Some(o), Some(n)) if can_replace(o, n) => Some(Write::Replace(n.clone())),
        (Some(o), Some(n)) => Some(Write::DeleteAdd(o.clone(), n.clone())),
    }
}

/// A link (interface) as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KLink {
    /// Interface index.
    pub index: u32,
    /// Name.
    pub name: String,
    /// `IFF_UP`.
    pub admin_up: bool,
    /// `IFF_LOWER_UP` / `IFF_RUNNING` (carrier).
    pub link_up: bool,
    /// `IFF_LOOPBACK`.
    pub loopback: bool,
    /// `IFF_BROADCAST`.
    pub broadcast: bool,
    /// `IFF_MULTICAST`.
    pub multicast: bool,
    /// `IFF_POINTOPOINT`.
    pub ptp: bool,
    /// MTU.
    pub mtu: u32,
    /// Master device index (VRF, bridge).
    pub master: Option<u32>,
}

/// Address scope as the kernel reports it (`RT_SCOPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KScope {
    /// Universe (global).
    Univ,
    /// Site.
    Site,
    /// Link.
    Link,
    /// Host.
    Host,
}

impl KScope {
    /// The name `show interfaces` prints.
    pub fn name(self) -> &'static str {
        match self {
            KScope::Univ => "univ",
            KScope::Site => "site",
            KScope::Link => "link",
            KScope::Host => "host",
        }
    }
}

/// An interface address as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KAddr {
    /// Interface index.
    pub index: u32,
    /// The local address (`IFA_LOCAL`, or `IFA_ADDRESS` when there is no local).
    pub ip: IpAddr,
    /// Prefix length.
    pub len: u8,
    /// Point-to-point peer (`IFA_ADDRESS` when it differs from `IFA_LOCAL`).
    pub peer: Option<IpAddr>,
    /// Scope.
    pub scope: KScope,
    /// `IFA_F_SECONDARY`.
    pub secondary: bool,
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KrtError {
    /// The kernel answered with an errno.
    #[error("netlink: {msg} (errno {errno})")]
    Kernel {
        /// The errno (positive).
        errno: i32,
        /// Its text.
        msg: String,
    },
    /// The backend is gone or could not be reached.
    #[error("netlink backend: {0}")]
    Backend(String),
}

/// A request to the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Dump routing table `table` of both families.
    DumpRoutes {
        /// The table number.
        table: u32,
    },
    /// A route write; answered by [`Reply::Done`] with the same `id`.
    Write {
        /// Caller's id.
        id: u64,
        /// The write.
        write: Write,
    },
    /// Dump links and addresses; answered by [`Reply::Links`].
    DumpLinks,
}

/// An answer or notification from the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Every route of a table (for [`Request::DumpRoutes`]), or the error that stopped the dump.
    Routes(Result<Vec<KRoute>, KrtError>),
    /// Several writes finished (in submission order): `(id, outcome)`.
    Written(Vec<(u64, Result<(), KrtError>)>),
    /// A write finished.
    Done {
        /// The request id.
        id: u64,
        /// The outcome.
        result: Result<(), KrtError>,
    },
    /// Every link and address (for [`Request::DumpLinks`]).
    Links(Result<(Vec<KLink>, Vec<KAddr>), KrtError>),
    /// A link appeared or changed (notification).
    Link(KLink),
    /// A link disappeared (notification).
    LinkGone(u32),
    /// An address appeared (`true`) or disappeared (`false`) (notification).
    Addr(bool, KAddr),
    /// Notifications were lost (ENOBUFS): rescan.
    Overrun,
}

/// Where replies go. Runs on the backend's thread: queue and wake, nothing more.
pub type Sink = Arc<dyn Fn(Reply) + Send + Sync>;

/// Starts the requests of `reqs` that are not route writes with `backend` (in order) and returns the
/// writes, for a backend that applies them as one batch.
pub(crate) fn start_non_writes<B: Backend + ?Sized>(
    backend: &B,
    reqs: Vec<Request>,
    reply: &Sink,
) -> Vec<(u64, Write)> {
    let mut writes = Vec::new();
    for r in reqs {
        match r {
            Request::Write { id, write } => writes.push((id, write)),
            r => backend.request(r, reply.clone()),
        }
    }
    writes
}

/// A kernel backend (see the module docs for the contract).
pub trait Backend: Send + Sync + 'static {
    /// Start `req`; its reply (exactly one) goes to `reply`.
    fn request(&self, req: Request, reply: Sink);
    /// Start every request of `reqs`, in order, as if each were submitted with [`Backend::request`].
    fn request_batch(&self, reqs: Vec<Request>, reply: Sink) {
        for r in reqs {
            self.request(r, reply.clone());
        }
    }
    /// Receive notifications (links, addresses, overruns) until [`Backend::unsubscribe`] or the backend is
    /// dropped.
    fn subscribe(&self, sink: Sink);
    /// Stop delivering notifications to `sink` (the same `Arc` as given to [`Backend::subscribe`]).
    fn unsubscribe(&self, sink: &Sink);
}

impl fmt::Debug for dyn Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Backend")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn r(net: &str, metric: u32, dest: KDest) -> KRoute {
        KRoute { net: net.parse().unwrap(), table: 100, metric, proto: RTPROT_BIRD, dest, prefsrc: None }
    }

    fn gw(s: &str) -> KDest {
        KDest::unicast(vec![KHop { gw: Some(s.parse().unwrap()), ifindex: 2, weight: 0, onlink: false }])
    }

    #[test]
    fn replace_rules() {
        // IPv4: any change with the same metric is a replace.
        let a = r("198.18.1.0/24", 32, gw("198.18.0.1"));
        let b = r("198.18.1.0/24", 32, KDest::Blackhole);
        assert_eq!(plan_write(Some(&a), Some(&b)), Some(Write::Replace(b.clone())));
        // A different metric: delete and add.
        let c = r("198.18.1.0/24", 33, gw("198.18.0.1"));
        assert_eq!(plan_write(Some(&a), Some(&c)), Some(Write::DeleteAdd(a.clone(), c.clone())));
        // IPv6: replace only unicast with gateways on both sides.
        let x = r("2001:db8:1::/48", 32, gw("2001:db8::1"));
        let y = r("2001:db8:1::/48", 32, gw("2001:db8::2"));
        let z = r("2001:db8:1::/48", 32, KDest::Unreachable);
        assert_eq!(plan_write(Some(&x), Some(&y)), Some(Write::Replace(y.clone())));
        assert_eq!(plan_write(Some(&x), Some(&z)), Some(Write::DeleteAdd(x.clone(), z.clone())));
        assert_eq!(plan_write(Some(&z), Some(&x)), Some(Write::DeleteAdd(z.clone(), x.clone())));
        let dev = r(
            "2001:db8:1::/48",
            32,
            KDest::unicast(vec![KHop { gw: None, ifindex: 3, weight: 0, onlink: false }]),
        );
        assert_eq!(plan_write(Some(&dev), Some(&x)), Some(Write::DeleteAdd(dev.clone(), x.clone())));
        // A wanted hop without interface accepts the one the kernel resolved.
        let unresolved = r(
            "198.18.1.0/24",
            32,
            KDest::unicast(vec![KHop {
                gw: Some("198.18.0.1".parse().unwrap()),
                ifindex: 0,
                weight: 0,
                onlink: false,
            }]),
        );
        assert_eq!(plan_write(Some(&a), Some(&unresolved)), None);
        assert!(plan_write(Some(&unresolved), Some(&a)).is_some());
        // Equal: nothing.
        assert_eq!(plan_write(Some(&x), Some(&x.clone())), None);
        assert_eq!(plan_write(None, Some(&x)), Some(Write::Add(x.clone())));
        assert_eq!(plan_write(Some(&x), None), Some(Write::Delete(x)));
    }

    #[test]
    fn via_detection() {
        assert!(r("198.18.1.0/24", 32, gw("2001:db8::1")).needs_via());
        assert!(!r("198.18.1.0/24", 32, gw("198.18.0.1")).needs_via());
        assert!(!r("2001:db8:1::/48", 32, gw("2001:db8::1")).needs_via());
        assert!(!r("198.18.1.0/24", 32, KDest::Blackhole).needs_via());
    }
}
