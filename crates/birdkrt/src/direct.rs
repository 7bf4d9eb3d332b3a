//! The direct protocol: a route for every connected prefix on the configured interfaces.
//!
//! Interface patterns are shell globs (`*`, `?`); a leading `-` excludes; the first matching pattern
//! wins; an empty list means every interface. Addresses of host or link scope (`127.0.0.1/8` on `lo`,
//! IPv6 link-local) give no route. A prefix present on several interfaces is announced once, on the
//! interface with the lowest index; it is withdrawn when its last address goes or its interface goes down.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use birdnet::{Net, NetType};
use birdproto::{PState, ProtoConfig, ProtoCtx, ProtoHandle, ProtoKind, Protocol, Reconfigured};
use birdtable::attrs::{AttrSet, Dest, Iface, NextHop, RouteSource};

use crate::ifaces::{IfaceEvent, IfaceHub};
use crate::inbox::Inbox;
use crate::sys::{KLink, KScope};

/// Shell-glob match (`*` any run, `?` any one character).
pub fn glob_match(pat: &str, s: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let t: Vec<char> = s.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// `interface "eth*", -"eth1", "lo";` as a list of `(glob, exclude)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IfacePatterns(pub Vec<(String, bool)>);

impl IfacePatterns {
    /// Parse BIRD-style items: `"eth*"` includes, `-"eth1"` (or `-eth1`) excludes.
    pub fn parse<'a>(items: impl IntoIterator<Item = &'a str>) -> IfacePatterns {
        IfacePatterns(
            items
                .into_iter()
                .map(|i| {
                    let i = i.trim();
                    let (excl, rest) = match i.strip_prefix('-') {
                        Some(r) => (true, r.trim()),
                        None => (false, i),
                    };
                    (rest.trim_matches('"').to_owned(), excl)
                })
                .collect(),
        )
    }

    /// Whether `name` is selected: the first matching pattern decides; no pattern at all selects everything.
    pub fn matches(&self, name: &str) -> bool {
        if self.0.is_empty() {
            return true;
        }
        self.0.iter().find(|(p, _)| glob_match(p, name)).is_some_and(|(_, excl)| !excl)
    }
}

/// `protocol direct { interface ...; ipv4; ipv6; }`.
#[derive(Debug, Clone)]
pub struct DirectConfig {
    /// The interface list.
    pub hub: IfaceHub,
    /// `interface` patterns.
    pub interfaces: IfacePatterns,
}

impl ProtoKind for DirectConfig {
    fn type_name(&self) -> &'static str {
        "Direct"
    }
    fn create(&self, _cfg: &ProtoConfig) -> Box<dyn Protocol> {
        Box::new(Direct::new(self.clone()))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A direct protocol instance.
pub struct Direct {
    cfg: DirectConfig,
    inbox: Arc<Inbox<IfaceEvent>>,
    sub: Option<u64>,
    links: BTreeMap<u32, KLink>,
    /// Connected prefixes by (interface, address, length).
    addrs: BTreeMap<(u32, IpAddr, u8), Net>,
    /// Announced nets and the interface they are announced on.
    announced: BTreeMap<Net, u32>,
    ch4: Option<usize>,
    ch6: Option<usize>,
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct").field("announced", &self.announced.len()).finish_non_exhaustive()
    }
}

fn kick(h: &ProtoHandle) {
    h.exec_as::<Direct>(|p, ctx| p.drain(ctx));
}

impl Direct {
    fn new(cfg: DirectConfig) -> Direct {
        Direct {
            cfg,
            inbox: Arc::new(Inbox::new("direct", kick)),
            sub: None,
            links: BTreeMap::new(),
            addrs: BTreeMap::new(),
            announced: BTreeMap::new(),
            ch4: None,
            ch6: None,
        }
    }

    fn usable(&self, index: u32) -> Option<&KLink> {
        self.links.get(&index).filter(|l| l.admin_up && l.link_up && self.cfg.interfaces.matches(&l.name))
    }

    fn recompute(&mut self, ctx: &mut ProtoCtx<'_>, net: Net) {
        let best = self
            .addrs
            .iter()
            .filter(|(_, n)| **n == net)
            .map(|((i, _, _), _)| *i)
            .filter(|i| self.usable(*i).is_some())
            .min();
        let ch = if net.addr().is_ipv4() { self.ch4 } else { self.ch6 };
        let Some(ch) = ch else { return };
        match best {
            Some(i) if self.announced.get(&net) == Some(&i) => {}
            Some(i) => {
                let name = self.links.get(&i).map(|l| l.name.clone()).unwrap_or_default();
                let a = AttrSet::new(RouteSource::Device, Dest::one(NextHop::dev(Iface::new(name, i))));
                ctx.import(ch, net, a.intern());
                self.announced.insert(net, i);
            }
            None => {
                if self.announced.remove(&net).is_some() {
                    ctx.withdraw(ch, net);
                }
            }
        }
    }

    fn drain(&mut self, ctx: &mut ProtoCtx<'_>) {
        if !matches!(ctx.state(), PState::Start | PState::Up) {
            return;
        }
        let mut touched: BTreeSet<Net> = BTreeSet::new();
        for e in self.inbox.take() {
            match e {
                IfaceEvent::Link(l) => {
                    let idx = l.index;
                    self.links.insert(idx, l);
                    touched.extend(self.addrs.iter().filter(|(k, _)| k.0 == idx).map(|(_, n)| *n));
                }
                IfaceEvent::LinkGone(idx) => {
                    self.links.remove(&idx);
                    let gone: Vec<_> = self.addrs.keys().filter(|k| k.0 == idx).copied().collect();
                    for k in gone {
                        if let Some(n) = self.addrs.remove(&k) {
                            touched.insert(n);
                        }
                    }
                }
                IfaceEvent::Addr(add, a) => {
                    if matches!(a.scope, KScope::Host | KScope::Link) {
                        continue;
                    }
                    let net = match a.peer {
                        Some(p) => Net::new_masked(p, if p.is_ipv4() { 32 } else { 128 }),
                        None => Net::new_masked(a.ip, a.len),
                    };
                    let Ok(net) = net else { continue };
                    let key = (a.index, a.ip, a.len);
                    if add {
                        self.addrs.insert(key, net);
                    } else {
                        self.addrs.remove(&key);
                    }
                    touched.insert(net);
                }
                IfaceEvent::Flush => {
                    self.links.clear();
                    self.addrs.clear();
                    touched.extend(self.announced.keys().copied());
                }
            }
        }
        for net in touched {
            self.recompute(ctx, net);
        }
    }
}

impl Protocol for Direct {
    fn start(&mut self, ctx: &mut ProtoCtx<'_>) -> PState {
        let n = ctx.config().channels.len();
        self.ch4 = (0..n).find(|i| ctx.table(*i).net_type() == NetType::Ipv4);
        self.ch6 = (0..n).find(|i| ctx.table(*i).net_type() == NetType::Ipv6);
        self.links.clear();
        self.addrs.clear();
        self.announced.clear();
        self.inbox.clear();
        self.inbox.set_target(Some(ctx.handle()));
        self.sub = Some(self.cfg.hub.subscribe(self.inbox.clone()));
        self.drain(ctx);
        PState::Up
    }

    fn shutdown(&mut self, _ctx: &mut ProtoCtx<'_>) -> PState {
        if let Some(id) = self.sub.take() {
            self.cfg.hub.unsubscribe(id);
        }
        self.inbox.set_target(None);
        self.inbox.clear();
        PState::Down
    }

    fn reconfigure(&mut self, ctx: &mut ProtoCtx<'_>, new: &ProtoConfig) -> Reconfigured {
        let Some(n) = new.kind.as_any().downcast_ref::<DirectConfig>() else {
            return Reconfigured::NeedsRestart;
        };
        if n.interfaces == self.cfg.interfaces {
            return Reconfigured::Same;
        }
        self.cfg.interfaces = n.interfaces.clone();
        let nets: BTreeSet<Net> =
            self.addrs.values().copied().chain(self.announced.keys().copied()).collect();
        for net in nets {
            self.recompute(ctx, net);
        }
        Reconfigured::Applied
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_patterns() {
        assert!(glob_match("eth*", "eth0"));
        assert!(glob_match("*", ""));
        assert!(glob_match("v?th*B", "vethxB"));
        assert!(!glob_match("eth?", "eth10"));
        assert!(!glob_match("lo", "lo0"));
        let p = IfacePatterns::parse(["-\"veth1\"", "\"veth*\""]);
        assert!(!p.matches("veth1"));
        assert!(p.matches("veth2"));
        assert!(!p.matches("lo"));
        // First match wins: an include before the exclude takes it.
        let q = IfacePatterns::parse(["\"veth*\"", "-\"veth1\""]);
        assert!(q.matches("veth1"));
        assert!(IfacePatterns::default().matches("anything"));
    }
}
