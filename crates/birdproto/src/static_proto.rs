//! The static protocol: configured routes `via` gateways or interfaces (multipath), `blackhole`,
//! `unreachable`, `prohibit`, each with optional per-route attributes (a filter block compiled by the
//! daemon). Reconfiguration is a diff: changed routes are announced again, removed ones withdrawn,
//! unchanged ones left alone.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use birdnet::Net;
use birdtable::attrs::{AttrSet, Attrs, Dest, Iface, NextHop, RouteSource};

use crate::filter::{FilterRoute, RouteFilter, Verdict};
use crate::proto::{ProtoConfig, ProtoCtx, ProtoKind, Protocol, Reconfigured};
use crate::state::PState;

/// One next hop of a static route: `via 192.0.2.1`, `via "eth0"`, `via 192.0.2.1 dev "eth0" onlink
/// weight 2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticHop {
    /// The gateway (`None`: a device route).
    pub gw: Option<IpAddr>,
    /// The interface name, when given.
    pub iface: Option<String>,
    /// `weight` (1..=256).
    pub weight: u16,
    /// `onlink`.
    pub onlink: bool,
}

impl StaticHop {
    /// `via gw`.
    pub fn via(gw: IpAddr) -> StaticHop {
        StaticHop { gw: Some(gw), iface: None, weight: 1, onlink: false }
    }

    /// `via "iface"`.
    pub fn dev(iface: &str) -> StaticHop {
        StaticHop { gw: None, iface: Some(iface.to_owned()), weight: 1, onlink: false }
    }
}

/// Where a static route goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaticDest {
    /// One or more next hops (`via A via B` is multipath).
    Via(Vec<StaticHop>),
    /// `blackhole`.
    Blackhole,
    /// `unreachable`.
    Unreachable,
    /// `prohibit`.
    Prohibit,
}

/// One `route` statement.
#[derive(Clone)]
pub struct StaticRoute {
    /// The net.
    pub net: Net,
    /// The destination.
    pub dest: StaticDest,
    /// The `{ ... }` block, compiled by the daemon: changes the attributes (and may reject the route).
    /// Compared by [`RouteFilter::same_as`] on reconfiguration.
    pub attrs: Option<Arc<dyn RouteFilter>>,
}

impl fmt::Debug for StaticRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticRoute")
            .field("net", &self.net)
            .field("dest", &self.dest)
            .field("attrs", &self.attrs.as_ref().map(|a| a.name().to_owned()))
            .finish()
    }
}

impl StaticRoute {
    /// A route without attributes.
    pub fn new(net: Net, dest: StaticDest) -> StaticRoute {
        StaticRoute { net, dest, attrs: None }
    }

    fn same(&self, o: &StaticRoute) -> bool {
        self.net == o.net
            && self.dest == o.dest
            && match (&self.attrs, &o.attrs) {
                (None, None) => true,
                (Some(a), Some(b)) => a.same_as(&**b),
                _ => false,
            }
    }

    /// The `show static` lines of this route (without reply codes): `net\tblackhole`, or the net
    /// followed by `\tvia gw`, `\tdev iface` lines (` (dormant)` when the next hop does not resolve).
    pub fn show_lines(&self, resolver: &dyn Resolver) -> Vec<String> {
        match &self.dest {
            StaticDest::Via(hops) => {
                let mut v = vec![self.net.to_string()];
                for h in hops {
                    let dormant = if resolve_hop(self.net, h, resolver).is_ok() { "" } else { " (dormant)" };
                    match (h.gw, &h.iface) {
                        (None, Some(i)) => v.push(format!("\tdev {i}{dormant}")),
                        (gw, iface) => {
                            let gw = gw.map(|g| birdnet::DisplayIp(g).to_string()).unwrap_or_default();
                            let dev = iface.as_ref().map(|i| format!(" dev {i}")).unwrap_or_default();
                            let onlink = if h.onlink { " onlink" } else { "" };
                            v.push(format!("\tvia {gw}{dev}{onlink}{dormant}"));
                        }
                    }
                }
                v
            }
            StaticDest::Blackhole => vec![format!("{}\tblackhole", self.net)],
            StaticDest::Unreachable => vec![format!("{}\tunreachable", self.net)],
            StaticDest::Prohibit => vec![format!("{}\tprohibit", self.net)],
        }
    }
}

/// Interface and neighbour lookup for next hops (the daemon's interface table).
pub trait Resolver: Send + Sync {
    /// The interface called `name`, if it exists and is up.
    fn iface(&self, name: &str) -> Option<Iface>;
    /// The interface `gw` is reachable on (directly connected, or on `iface` when `onlink`).
    fn neighbor(&self, gw: IpAddr, iface: Option<&Iface>, onlink: bool) -> Option<Iface>;
    /// The preferred global address of family IPv6 (`v6`) or IPv4 on `iface` (BGP's own next hop for a
    /// family the session's address is not of). `None` when unknown.
    fn iface_addr(&self, iface: &Iface, v6: bool) -> Option<IpAddr> {
        let _ = (iface, v6);
        None
    }
}

/// A fixed resolver: interfaces with their connected prefixes.
#[derive(Debug, Clone, Default)]
pub struct ConnectedIfaces(pub Vec<(Iface, Vec<Net>)>);

impl Resolver for ConnectedIfaces {
    fn iface(&self, name: &str) -> Option<Iface> {
        self.0.iter().find(|(i, _)| i.name() == name).map(|(i, _)| i.clone())
    }
    fn neighbor(&self, gw: IpAddr, iface: Option<&Iface>, onlink: bool) -> Option<Iface> {
        if onlink {
            return iface.cloned();
        }
        self.0
            .iter()
            .filter(|(i, _)| iface.is_none_or(|want| want == i))
            .find(|(_, nets)| nets.iter().any(|n| n.contains_addr(gw) && !n.first().eq(&gw)))
            .map(|(i, _)| i.clone())
    }
}

/// Why a static route cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaticError {
    /// An IPv6 route via an IPv4 gateway.
    #[error("{0}: IPv6 route via an IPv4 gateway")]
    Family(Net),
    /// The next hop does not resolve (interface missing or gateway not on a connected network).
    #[error("{0}: next hop not reachable")]
    Unreachable(Net),
    /// A `via` list without next hops.
    #[error("{0}: no next hop")]
    NoHop(Net),
}

fn resolve_hop(net: Net, h: &StaticHop, r: &dyn Resolver) -> Result<NextHop, StaticError> {
    let iface = match &h.iface {
        Some(n) => Some(r.iface(n).ok_or(StaticError::Unreachable(net))?),
        None => None,
    };
    let weight = u8::try_from(h.weight.clamp(1, 256) - 1).unwrap_or(u8::MAX);
    match h.gw {
        None => {
            let iface = iface.ok_or(StaticError::NoHop(net))?;
            Ok(NextHop { weight, ..NextHop::dev(iface) })
        }
        Some(gw) => {
            if gw.is_ipv4() && net.first().is_ipv6() {
                return Err(StaticError::Family(net));
            }
            let on = r.neighbor(gw, iface.as_ref(), h.onlink).ok_or(StaticError::Unreachable(net))?;
            Ok(NextHop { gw: Some(gw), iface: Some(on), weight, onlink: h.onlink })
        }
    }
}

/// The attribute set of a static route, before its `{ ... }` block: source `static`, the destination,
/// unicast next hops in canonical order. IPv4 routes may have IPv6 gateways.
///
/// # Errors
/// [`StaticError`] when a next hop does not resolve or has the wrong family.
pub fn route_attrs(r: &StaticRoute, resolver: &dyn Resolver) -> Result<AttrSet, StaticError> {
    let dest = match &r.dest {
        StaticDest::Via(hops) => {
            if hops.is_empty() {
                return Err(StaticError::NoHop(r.net));
            }
            let hops = hops.iter().map(|h| resolve_hop(r.net, h, resolver)).collect::<Result<Vec<_>, _>>()?;
            Dest::unicast(hops)
        }
        StaticDest::Blackhole => Dest::Blackhole,
        StaticDest::Unreachable => Dest::Unreachable,
        StaticDest::Prohibit => Dest::Prohibit,
    };
    Ok(AttrSet::new(RouteSource::Static, dest))
}

/// The final attributes of a route: [`route_attrs`] through the route's block. `None`: not announced
/// (dormant, or rejected by its block).
pub fn final_attrs(r: &StaticRoute, resolver: &dyn Resolver, proto: &str) -> Option<Attrs> {
    let set = route_attrs(r, resolver).ok()?.intern();
    match &r.attrs {
        None => Some(set),
        Some(f) => {
            let mut fr = FilterRoute::new(r.net, &set, 0, proto);
            (f.run(&mut fr) == Verdict::Accept).then(|| fr.into_attrs())
        }
    }
}

/// The static protocol's configuration (the `kind` of its [`ProtoConfig`]); one channel.
#[derive(Clone)]
pub struct StaticConfig {
    /// Routes, in configuration order (one per net).
    pub routes: Vec<StaticRoute>,
    /// Interface lookup.
    pub resolver: Arc<dyn Resolver>,
}

impl fmt::Debug for StaticConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticConfig").field("routes", &self.routes).finish_non_exhaustive()
    }
}

impl ProtoKind for StaticConfig {
    fn type_name(&self) -> &'static str {
        "Static"
    }
    fn create(&self, _: &ProtoConfig) -> Box<dyn Protocol> {
        Box::new(Static { cfg: self.clone(), announced: HashMap::new() })
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A running static protocol.
pub struct Static {
    cfg: StaticConfig,
    announced: HashMap<Net, Attrs>,
}

impl fmt::Debug for Static {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Static").field("announced", &self.announced.len()).finish_non_exhaustive()
    }
}

impl Static {
    fn announce(&mut self, ctx: &mut ProtoCtx<'_>, r: &StaticRoute) {
        match final_attrs(r, &*self.cfg.resolver, ctx.name()) {
            Some(a) => {
                if self.announced.get(&r.net).is_some_and(|old| Attrs::ptr_eq(old, &a)) {
                    return;
                }
                self.announced.insert(r.net, a.clone());
                ctx.import(0, r.net, a);
            }
            None => {
                if self.announced.remove(&r.net).is_some() {
                    ctx.withdraw(0, r.net);
                }
            }
        }
    }

    /// The `show static` lines (without reply codes).
    pub fn show(&self) -> Vec<String> {
        let r = &*self.cfg.resolver;
        self.cfg.routes.iter().flat_map(|x| x.show_lines(r)).collect()
    }

    /// Nets currently announced.
    pub fn announced(&self) -> usize {
        self.announced.len()
    }

    /// Interfaces or neighbours changed: resolve every route again and announce the differences.
    pub fn reresolve(&mut self, ctx: &mut ProtoCtx<'_>) {
        for r in self.cfg.routes.clone() {
            self.announce(ctx, &r);
        }
        ctx.announce_state();
    }
}

impl Protocol for Static {
    fn start(&mut self, ctx: &mut ProtoCtx<'_>) -> PState {
        self.announced.clear();
        for r in self.cfg.routes.clone() {
            self.announce(ctx, &r);
        }
        PState::Up
    }

    fn shutdown(&mut self, _: &mut ProtoCtx<'_>) -> PState {
        self.announced.clear();
        PState::Down
    }

    fn reconfigure(&mut self, ctx: &mut ProtoCtx<'_>, new: &ProtoConfig) -> Reconfigured {
        let Some(new) = new.kind.as_any().downcast_ref::<StaticConfig>() else {
            return Reconfigured::NeedsRestart;
        };
        let old: HashMap<Net, StaticRoute> = self.cfg.routes.iter().map(|r| (r.net, r.clone())).collect();
        let mut changed = false;
        let up = matches!(ctx.state(), PState::Start | PState::Up);
        self.cfg = new.clone();
        for r in &new.routes {
            if old.get(&r.net).is_some_and(|o| o.same(r)) {
                continue;
            }
            changed = true;
            if up {
                self.announcing_changed(ctx, r);
            }
        }
        for net in old.keys() {
            if !new.routes.iter().any(|r| r.net == *net) {
                changed = true;
                if self.announced.remove(net).is_some() {
                    ctx.withdraw(0, *net);
                }
            }
        }
        if changed {
            Reconfigured::Applied
        } else {
            Reconfigured::Same
        }
    }

    fn reload_routes(&mut self, ctx: &mut ProtoCtx<'_>, _: usize) -> bool {
        self.announced.clear();
        for r in self.cfg.routes.clone() {
            self.announce(ctx, &r);
        }
        true
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

impl Static {
    fn announcing_changed(&mut self, ctx: &mut ProtoCtx<'_>, r: &StaticRoute) {
        // A changed route is announced again even when its attributes intern to the same set.
        self.announced.remove(&r.net);
        self.announce(ctx, r);
    }
}
