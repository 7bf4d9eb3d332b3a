//! Interface and address tracking: the [`IfaceHub`] keeps the daemon's interface list from link and
//! address dumps and notifications, and fans changes out to subscribed protocols (device, direct), each
//! through its own inbox and its own control event.
//!
//! ```text
//!   netlink thread ──Reply──► IfaceHub::on_reply ──(service lock: update list, compute events)──┐
//!                                                                                              │ per subscriber
//!                              protocol loop ◄── exec event ◄── Inbox::push ◄──────────────────┘
//! ```
//!
//! The hub is *active* while a device protocol runs ([`IfaceHub::activate`]); when the device protocol
//! stops, [`IfaceHub::flush`] empties the list (subscribers get [`IfaceEvent::Flush`]) and notifications
//! are ignored until the next activation.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use birdrcu::level::Service;
use birdrcu::Domain;

use crate::inbox::Inbox;
use crate::sys::{Backend, KAddr, KLink, KScope, Reply, Request, Sink};

/// A change delivered to a subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfaceEvent {
    /// A link appeared or changed.
    Link(KLink),
    /// A link disappeared (its addresses were removed just before, each with an `Addr(false, ..)`).
    LinkGone(u32),
    /// An address appeared (`true`) or disappeared.
    Addr(bool, KAddr),
    /// The whole list was flushed (the device protocol stopped).
    Flush,
}

/// Role of an address in `show interfaces`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrRole {
    /// `Preferred`.
    Preferred,
    /// `Secondary`.
    Secondary,
    /// `Unselected`.
    Unselected,
}

/// One address line of `show interfaces` (same fields as `birdcli::format::interfaces::IfaceAddr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfaceAddr {
    /// Address.
    pub ip: IpAddr,
    /// Prefix length.
    pub len: u8,
    /// Role.
    pub role: AddrRole,
    /// Scope text.
    pub scope: String,
    /// Point-to-point peer.
    pub peer: Option<IpAddr>,
    /// Opposite address on /30 and /31 (IPv4) or /127 (IPv6).
    pub opposite: Option<IpAddr>,
}

/// Flags line of `show interfaces` (same fields as birdcli's `IfaceFlags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IfaceFlags {
    /// Multi-access (else `PtP`).
    pub multiaccess: bool,
    /// Broadcast.
    pub broadcast: bool,
    /// Multicast.
    pub multicast: bool,
    /// Administratively up.
    pub admin_up: bool,
    /// Link up.
    pub link_up: bool,
    /// Loopback.
    pub loopback: bool,
    /// Ignored by BIRD (loopback).
    pub ignored: bool,
}

/// One interface for `show interfaces [summary]` (same fields as birdcli's `InterfaceInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    /// Name.
    pub name: String,
    /// Up (admin and link).
    pub up: bool,
    /// Kernel index.
    pub index: u32,
    /// Master device.
    pub master: Option<String>,
    /// Flags.
    pub flags: IfaceFlags,
    /// MTU.
    pub mtu: u32,
    /// Addresses in display order (IPv4, IPv6, IPv6 link-local).
    pub addrs: Vec<IfaceAddr>,
    /// Preferred IPv4 address.
    pub primary4: Option<(IpAddr, u8)>,
    /// Preferred IPv6 address.
    pub primary6: Option<(IpAddr, u8)>,
}

#[derive(Default)]
struct HubState {
    links: BTreeMap<u32, KLink>,
    addrs: BTreeMap<u32, Vec<KAddr>>,
    subs: Vec<(u64, Arc<Inbox<IfaceEvent>>)>,
    next_sub: u64,
}

struct HubInner {
    backend: Arc<dyn Backend>,
    st: Domain<Service, HubState>,
    active: AtomicBool,
    subscribed: AtomicBool,
}

/// The interface list and its subscribers. Cheap to clone.
#[derive(Clone)]
pub struct IfaceHub(Arc<HubInner>);

impl std::fmt::Debug for IfaceHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IfaceHub")
            .field("active", &self.0.active.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

fn is_ll(ip: &IpAddr) -> bool {
    matches!(ip, IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80)
}

fn opposite(ip: IpAddr, len: u8) -> Option<IpAddr> {
    match ip {
        IpAddr::V4(a) if len == 30 || len == 31 => {
            let x = u32::from(a);
            let o = if len == 31 {
                x ^ 1
            } else if x & 3 == 1 {
                x + 1
            } else if x & 3 == 2 {
                x - 1
            } else {
                return None;
            };
            Some(IpAddr::V4(Ipv4Addr::from(o)))
        }
        IpAddr::V6(a) if len == 127 => Some(IpAddr::V6((u128::from(a) ^ 1).into())),
        _ => None,
    }
}

impl IfaceHub {
    /// A hub over `backend` (inactive until [`IfaceHub::activate`]).
    pub fn new(backend: Arc<dyn Backend>) -> IfaceHub {
        IfaceHub(Arc::new(HubInner {
            backend,
            st: Domain::new("interfaces", HubState::default()),
            active: AtomicBool::new(false),
            subscribed: AtomicBool::new(false),
        }))
    }

    fn sink(&self) -> Sink {
        let w: Weak<HubInner> = Arc::downgrade(&self.0);
        Arc::new(move |r| {
            if let Some(h) = w.upgrade() {
                IfaceHub(h).on_reply(r);
            }
        })
    }

    /// Start tracking: subscribe to notifications (once) and dump links and addresses.
    pub fn activate(&self) {
        self.0.active.store(true, Ordering::SeqCst);
        if !self.0.subscribed.swap(true, Ordering::SeqCst) {
            self.0.backend.subscribe(self.sink());
        }
        self.rescan();
    }

    /// Whether tracking is on.
    pub fn is_active(&self) -> bool {
        self.0.active.load(Ordering::SeqCst)
    }

    /// Dump links and addresses again (the device protocol's `scan time`, and after an overrun).
    pub fn rescan(&self) {
        if self.is_active() {
            self.0.backend.request(Request::DumpLinks, self.sink());
        }
    }

    /// Stop tracking and empty the list; subscribers get [`IfaceEvent::Flush`].
    pub fn flush(&self) {
        self.0.active.store(false, Ordering::SeqCst);
        {
            let mut st = self.0.st.lock();
            st.links.clear();
            st.addrs.clear();
        }
        self.deliver(vec![IfaceEvent::Flush]);
    }

    pub(crate) fn subscribe(&self, inbox: Arc<Inbox<IfaceEvent>>) -> u64 {
        let snapshot = {
            let mut st = self.0.st.lock();
            st.next_sub += 1;
            let id = st.next_sub;
            st.subs.push((id, inbox.clone()));
            let mut ev: Vec<IfaceEvent> = st.links.values().cloned().map(IfaceEvent::Link).collect();
            for a in st.addrs.values().flatten() {
                ev.push(IfaceEvent::Addr(true, a.clone()));
            }
            (id, ev)
        };
        for e in snapshot.1 {
            inbox.push(e);
        }
        snapshot.0
    }

    pub(crate) fn unsubscribe(&self, id: u64) {
        self.0.st.lock().subs.retain(|(i, _)| *i != id);
    }

    /// The name of interface `index`.
    pub fn name_of(&self, index: u32) -> Option<String> {
        self.0.st.lock().links.get(&index).map(|l| l.name.clone())
    }

    /// The link called `name`.
    pub fn link(&self, name: &str) -> Option<KLink> {
        self.0.st.lock().links.values().find(|l| l.name == name).cloned()
    }

    /// The router id BIRD would pick from the interfaces: the lowest IPv4 address of universe scope on an
    /// up, non-loopback interface.
    pub fn router_id(&self) -> Option<Ipv4Addr> {
        let st = self.0.st.lock();
        st.addrs
            .iter()
            .filter(|(i, _)| st.links.get(i).is_some_and(|l| l.admin_up && l.link_up && !l.loopback))
            .flat_map(|(_, v)| v.iter())
            .filter(|a| a.scope == KScope::Univ)
            .filter_map(|a| match a.ip {
                IpAddr::V4(v) => Some(v),
                IpAddr::V6(_) => None,
            })
            .min()
    }

    /// Number of known interfaces.
    pub fn len(&self) -> usize {
        self.0.st.lock().links.len()
    }

    /// Whether no interface is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Data for `show interfaces [summary]`, by index.
    pub fn interfaces(&self) -> Vec<InterfaceInfo> {
        let st = self.0.st.lock();
        st.links
            .values()
            .map(|l| {
                let mut addrs: Vec<&KAddr> =
                    st.addrs.get(&l.index).map(|v| v.iter().collect()).unwrap_or_default();
                addrs.sort_by_key(|a| match a.ip {
                    IpAddr::V4(_) => 0,
                    ref ip if is_ll(ip) => 2,
                    IpAddr::V6(_) => 1,
                });
                let mut seen = [false; 3];
                let mut primary4 = None;
                let mut primary6 = None;
                let addrs = addrs
                    .into_iter()
                    .map(|a| {
                        let class = match a.ip {
                            IpAddr::V4(_) => 0,
                            ref ip if is_ll(ip) => 2,
                            IpAddr::V6(_) => 1,
                        };
                        let role = if !a.secondary && !seen[class] {
                            seen[class] = true;
                            match class {
                                0 => primary4 = Some((a.ip, a.len)),
                                1 => primary6 = Some((a.ip, a.len)),
                                _ => {}
                            }
                            AddrRole::Preferred
                        } else {
                            AddrRole::Secondary
                        };
                        IfaceAddr {
                            ip: a.ip,
                            len: a.len,
                            role,
                            scope: a.scope.name().to_owned(),
                            peer: a.peer,
                            opposite: if a.peer.is_none() { opposite(a.ip, a.len) } else { None },
                        }
                    })
                    .collect();
                InterfaceInfo {
                    name: l.name.clone(),
                    up: l.admin_up && l.link_up,
                    index: l.index,
                    master: l.master.and_then(|m| st.links.get(&m).map(|x| x.name.clone())),
                    flags: IfaceFlags {
                        multiaccess: !l.ptp,
                        broadcast: l.broadcast,
                        multicast: l.multicast,
                        admin_up: l.admin_up,
                        link_up: l.link_up,
                        loopback: l.loopback,
                        ignored: l.loopback,
                    },
                    mtu: l.mtu,
                    addrs,
                    primary4,
                    primary6,
                }
            })
            .collect()
    }

    fn deliver(&self, events: Vec<IfaceEvent>) {
        if events.is_empty() {
            return;
        }
        let subs: Vec<Arc<Inbox<IfaceEvent>>> =
            self.0.st.lock().subs.iter().map(|(_, i)| i.clone()).collect();
        for s in subs {
            for e in &events {
                s.push(e.clone());
            }
        }
    }

    fn on_reply(&self, r: Reply) {
        if !self.is_active() {
            return;
        }
        let mut ev = Vec::new();
        {
            let mut st = self.0.st.lock();
            match r {
                Reply::Links(Ok((links, addrs))) => {
                    let mut want: BTreeMap<u32, Vec<KAddr>> = BTreeMap::new();
                    for a in addrs {
                        want.entry(a.index).or_default().push(a);
                    }
                    // Removed addresses first, then removed links, then new links, then new addresses.
                    for (idx, old) in &st.addrs {
                        for a in old {
                            if !want.get(idx).is_some_and(|v| v.contains(a)) {
                                ev.push(IfaceEvent::Addr(false, a.clone()));
                            }
                        }
                    }
                    let new_links: BTreeMap<u32, KLink> = links.into_iter().map(|l| (l.index, l)).collect();
                    for idx in st.links.keys() {
                        if !new_links.contains_key(idx) {
                            ev.push(IfaceEvent::LinkGone(*idx));
                        }
                    }
                    for (idx, l) in &new_links {
                        if st.links.get(idx) != Some(l) {
                            ev.push(IfaceEvent::Link(l.clone()));
                        }
                    }
                    for (idx, v) in &want {
                        for a in v {
                            if !st.addrs.get(idx).is_some_and(|o| o.contains(a)) {
                                ev.push(IfaceEvent::Addr(true, a.clone()));
                            }
                        }
                    }
                    st.links = new_links;
                    st.addrs = want;
                }
                Reply::Links(Err(e)) => {
                    tracing::error!(target: "bird::krt", "interface scan failed: {e}");
                }
                Reply::Link(l) => {
                    if st.links.get(&l.index) != Some(&l) {
                        st.links.insert(l.index, l.clone());
                        ev.push(IfaceEvent::Link(l));
                    }
                }
                Reply::LinkGone(idx) => {
                    for a in st.addrs.remove(&idx).unwrap_or_default() {
                        ev.push(IfaceEvent::Addr(false, a));
                    }
                    if st.links.remove(&idx).is_some() {
                        ev.push(IfaceEvent::LinkGone(idx));
                    }
                }
                Reply::Addr(add, a) => {
                    let v = st.addrs.entry(a.index).or_default();
                    let pos = v.iter().position(|x| x.ip == a.ip && x.len == a.len);
                    match (add, pos) {
                        (true, Some(p)) if v[p] == a => {}
                        (true, Some(p)) => {
                            v[p] = a.clone();
                            ev.push(IfaceEvent::Addr(true, a));
                        }
                        (true, None) => {
                            v.push(a.clone());
                            ev.push(IfaceEvent::Addr(true, a));
                        }
                        (false, Some(p)) => {
                            v.remove(p);
                            ev.push(IfaceEvent::Addr(false, a));
                        }
                        (false, None) => {}
                    }
                }
                Reply::Overrun => {
                    drop(st);
                    tracing::warn!(target: "bird::krt", "interface notifications lost (ENOBUFS), rescanning");
                    self.rescan();
                    return;
                }
                Reply::Routes(_) | Reply::Done { .. } | Reply::Written(_) => {}
            }
        }
        self.deliver(ev);
    }
}
