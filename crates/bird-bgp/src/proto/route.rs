//! BGP routing: the decision process ([`BgpClass`]), what happens to attributes on import from a peer
//! ([`import_attrs`]) and on export to a peer ([`export_attrs`]). Pure functions over birdtable's
//! attribute model; the session adapter calls them.
//!
//! # Decision process (RFC 4271 §9.1.2.2 with BIRD's options)
//!
//! Among BGP routes of equal preference, the better one has, in order: the higher LOCAL_PREF
//! (missing: `default bgp_local_pref`, 100), the shorter AS_PATH, the lower ORIGIN, the lower MED
//! when both come from the same neighbouring AS (any two with `med metric`), eBGP over iBGP, the
//! lower IGP metric of the next hop (`igp metric`), the lower router id (ORIGINATOR_ID when present,
//! else the peer's BGP identifier), the shorter CLUSTER_LIST, the lower neighbour address.
//!
//! # Import
//!
//! A route is refused (treated as a withdrawal, as BIRD does) when its AS_PATH holds our AS more often
//! than `allow local as` permits (eBGP), when its ORIGINATOR_ID is our router id or its CLUSTER_LIST
//! holds our cluster id (iBGP, RFC 4456 §8), or when RFC 9234's ingress procedure finds a leak.
//! LOCAL_PREF from eBGP is dropped unless `allow bgp_local_pref`; `default bgp_local_pref` (100) and
//! `default bgp_med` fill in missing values.
//!
//! # Export
//!
//! NO_ADVERTISE is never exported, NO_EXPORT not to eBGP (with `interpret communities`). A route
//! learned over iBGP goes to another iBGP peer only when one of the two is a route-reflector client;
//! reflection sets ORIGINATOR_ID (if missing) and prepends the cluster id to CLUSTER_LIST. To eBGP
//! (not route-server clients) our AS is prepended, LOCAL_PREF is removed, a MED learned from another
//! BGP peer is removed and the next hop becomes our address; route-server clients get the route
//! unchanged. To iBGP the next hop is kept (unless `next hop self`) and LOCAL_PREF defaults to 100.

use std::any::Any;
use std::cmp::Ordering;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering as AO};

use birdtable::attrs::{AttrId, AttrSet, AttrValue, Community, Dest, EAttr, Origin, RouteSource};
use birdtable::{Route, RouteClass};

use crate::wire::{otc_egress, otc_ingress, OtcVerdict, Role};

/// Default LOCAL_PREF (RFC 4271 leaves it to the implementation; BIRD uses 100).
pub const DEFAULT_LOCAL_PREF: u32 = 100;

/// The route class of one BGP protocol instance: its options for the decision process and the facts
/// of its current session that comparisons with other instances' routes need.
#[derive(Debug, Default)]
pub struct BgpClass {
    internal: AtomicBool,
    rr_client: AtomicBool,
    peer_id: AtomicU32,
    default_local_pref: AtomicU32,
    med_metric: AtomicBool,
    igp_metric: AtomicBool,
}

impl BgpClass {
    /// A class with `default bgp_local_pref`, `med metric` and `igp metric` as configured.
    pub fn new(
        default_local_pref: Option<u32>,
        med_metric: bool,
        igp_metric: bool,
        rr_client: bool,
    ) -> BgpClass {
        let c = BgpClass::default();
        c.default_local_pref.store(default_local_pref.unwrap_or(DEFAULT_LOCAL_PREF), AO::Relaxed);
        c.med_metric.store(med_metric, AO::Relaxed);
        c.igp_metric.store(igp_metric, AO::Relaxed);
        c.rr_client.store(rr_client, AO::Relaxed);
        c
    }

    /// Record the session just established (before any of its routes is imported).
    pub fn set_session(&self, internal: bool, peer_id: Ipv4Addr) {
        self.internal.store(internal, AO::Relaxed);
        self.peer_id.store(u32::from(peer_id), AO::Relaxed);
    }

    /// Whether this instance's session is iBGP.
    pub fn internal(&self) -> bool {
        self.internal.load(AO::Relaxed)
    }

    /// Whether the peer is a route-reflector client.
    pub fn rr_client(&self) -> bool {
        self.rr_client.load(AO::Relaxed)
    }

    /// The peer's BGP identifier.
    pub fn peer_id(&self) -> u32 {
        self.peer_id.load(AO::Relaxed)
    }

    /// The BGP class of a route's author, if it is a BGP instance.
    pub fn of(route: &Route) -> Option<&BgpClass> {
        route.src().source().class().info()?.downcast_ref::<BgpClass>()
    }
}

fn local_pref(a: &AttrSet, default: u32) -> u32 {
    a.bgp_local_pref().unwrap_or(default)
}

fn path_len(a: &AttrSet) -> u32 {
    a.bgp_path().map_or(0, |p| p.len())
}

fn origin(a: &AttrSet) -> Origin {
    a.bgp_origin().unwrap_or(Origin::Incomplete)
}

fn neighbor_as(a: &AttrSet) -> u32 {
    a.bgp_path().and_then(|p| p.first()).unwrap_or(0)
}

impl RouteClass for BgpClass {
    fn name(&self) -> &'static str {
        "BGP"
    }

    fn compare(&self, a: &Route, b: &Route) -> Ordering {
        let (Some(ca), Some(cb)) = (BgpClass::of(a), BgpClass::of(b)) else { return Ordering::Equal };
        let (x, y) = (&**a.attrs(), &**b.attrs());
        let dlp = self.default_local_pref.load(AO::Relaxed);
        // Greater = a is better.
        local_pref(x, dlp)
            .cmp(&local_pref(y, dlp))
            .then_with(|| path_len(y).cmp(&path_len(x)))
            .then_with(|| origin(y).cmp(&origin(x)))
            .then_with(|| {
                if self.med_metric.load(AO::Relaxed) || neighbor_as(x) == neighbor_as(y) {
                    y.bgp_med().unwrap_or(0).cmp(&x.bgp_med().unwrap_or(0))
                } else {
                    Ordering::Equal
                }
            })
            .then_with(|| ca.internal().cmp(&cb.internal()).reverse())
            .then_with(|| {
                if self.igp_metric.load(AO::Relaxed) {
                    y.igp_metric.unwrap_or(0).cmp(&x.igp_metric.unwrap_or(0))
                } else {
                    Ordering::Equal
                }
            })
            .then_with(|| {
                let ra = x.bgp_originator_id().unwrap_or_else(|| ca.peer_id());
                let rb = y.bgp_originator_id().unwrap_or_else(|| cb.peer_id());
                rb.cmp(&ra)
            })
            .then_with(|| {
                let la = x.bgp_cluster_list().map_or(0, <[u32]>::len);
                let lb = y.bgp_cluster_list().map_or(0, <[u32]>::len);
                lb.cmp(&la)
            })
            .then_with(|| y.from.cmp(&x.from))
    }

    fn info(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

/// What import and export need to know about the session and the instance's options.
#[derive(Debug, Clone)]
pub struct SessionFacts {
    /// iBGP.
    pub internal: bool,
    /// Our AS (`local as`).
    pub local_as: u32,
    /// The peer's AS.
    pub peer_as: u32,
    /// Our router id.
    pub router_id: u32,
    /// Our cluster id (`rr cluster id`, default the router id).
    pub cluster_id: u32,
    /// The peer is a route-reflector client.
    pub rr_client: bool,
    /// The peer is a route-server client.
    pub rs_client: bool,
    /// `allow local as`.
    pub allow_local_as: u32,
    /// `allow bgp_local_pref`.
    pub allow_local_pref: bool,
    /// `default bgp_local_pref`.
    pub default_local_pref: Option<u32>,
    /// `default bgp_med`.
    pub default_med: Option<u32>,
    /// `interpret communities`.
    pub interpret_communities: bool,
    /// Our role (RFC 9234), when configured.
    pub role: Option<Role>,
    /// The neighbour's address (`from` of imported routes).
    pub neighbor: IpAddr,
}

/// Why a received route is not imported (it is withdrawn instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ImportRefusal {
    /// Our AS is in the AS path.
    #[error("AS path loop")]
    AsLoop,
    /// ORIGINATOR_ID is our router id.
    #[error("originator loop")]
    OriginatorLoop,
    /// CLUSTER_LIST holds our cluster id.
    #[error("cluster list loop")]
    ClusterLoop,
    /// RFC 9234 route leak.
    #[error("route leak (OTC)")]
    Leak,
    /// The attributes could not be stored.
    #[error("invalid attributes")]
    Invalid,
}

/// The attributes of a route received in an UPDATE (`attrs`: the family's attributes, sorted by id,
/// `bgp_next_hop` included) with the resolved destination, ready to intern.
///
/// # Errors
/// [`ImportRefusal`] when the route must not be imported.
pub fn import_attrs(
    s: &SessionFacts,
    mut attrs: Vec<EAttr>,
    dest: Dest,
    igp_metric: Option<u32>,
) -> Result<AttrSet, ImportRefusal> {
    let find = |attrs: &[EAttr], id: AttrId| attrs.iter().position(|e| e.id == id);
    if !s.internal {
        if let Some(AttrValue::Path(p)) = find(&attrs, AttrId::BGP_PATH).map(|i| &attrs[i].value) {
            if p.count(s.local_as) > s.allow_local_as as usize {
                return Err(ImportRefusal::AsLoop);
            }
        }
        if !s.allow_local_pref {
            if let Some(i) = find(&attrs, AttrId::BGP_LOCAL_PREF) {
                attrs.remove(i);
            }
        }
    } else {
        if let Some(i) = find(&attrs, AttrId::BGP_ORIGINATOR_ID) {
            if attrs[i].value == AttrValue::Quad(s.router_id) {
                return Err(ImportRefusal::OriginatorLoop);
            }
        }
        if let Some(i) = find(&attrs, AttrId::BGP_CLUSTER_LIST) {
            if let AttrValue::QuadList(l) = &attrs[i].value {
                if l.contains(&s.cluster_id) {
                    return Err(ImportRefusal::ClusterLoop);
                }
            }
        }
    }
    if let Some(role) = s.role {
        if otc_ingress(role, s.peer_as, &mut attrs) == OtcVerdict::Leak {
            return Err(ImportRefusal::Leak);
        }
    }
    let mut set = AttrSet::new(RouteSource::Bgp, dest);
    set.from = Some(s.neighbor);
    set.igp_metric = igp_metric;
    set.set_all(attrs).map_err(|_| ImportRefusal::Invalid)?;
    if set.bgp_local_pref().is_none() {
        // BIRD attaches `default bgp_local_pref` (100) to routes arriving without one (eBGP).
        let lp = s.default_local_pref.unwrap_or(DEFAULT_LOCAL_PREF);
        set.set(AttrId::BGP_LOCAL_PREF, AttrValue::Int(lp)).map_err(|_| ImportRefusal::Invalid)?;
    }
    if let Some(med) = s.default_med {
        if set.bgp_med().is_none() {
            set.set(AttrId::BGP_MED, AttrValue::Int(med)).map_err(|_| ImportRefusal::Invalid)?;
        }
    }
    Ok(set)
}

/// How the next hop of an exported route is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextHopChoice {
    /// Keep the route's `bgp_next_hop` when it has one.
    Keep,
    /// Our own address.
    OwnAddress,
}

/// The attributes to send for `route` (after the export filter), or `None` when it must not be sent
/// to this peer. `self_nh` is our next hop for the family (`None`: we have no address of that family,
/// so only routes keeping their next hop can be sent).
pub fn export_attrs(
    s: &SessionFacts,
    route: &Route,
    nh: NextHopChoice,
    self_nh: Option<IpAddr>,
) -> Option<AttrSet> {
    let a = &**route.attrs();
    if s.interpret_communities {
        if let Some(c) = a.bgp_community() {
            if c.contains(Community::NO_ADVERTISE) {
                return None;
            }
            if !s.internal && !s.rs_client && c.contains(Community::NO_EXPORT) {
                return None;
            }
        }
    }
    let src = BgpClass::of(route);
    let from_ibgp = src.is_some_and(BgpClass::internal);
    let reflecting = s.internal && from_ibgp;
    if reflecting && !s.rr_client && !src.is_some_and(BgpClass::rr_client) {
        return None;
    }
    let learned_bgp = a.source == RouteSource::Bgp;
    let mut out = AttrSet::new(RouteSource::Bgp, Dest::Blackhole);
    let bgp: Vec<EAttr> = a.eattrs().iter().filter(|e| e.id.bgp_code().is_some()).cloned().collect();
    out.set_all(bgp).ok()?;
    if out.bgp_origin().is_none() {
        out.set(AttrId::BGP_ORIGIN, AttrValue::Origin(Origin::Igp)).ok()?;
    }
    let path = out.bgp_path().cloned().unwrap_or_else(birdtable::attrs::AsPath::empty);
    let ebgp = !s.internal && !s.rs_client;
    let path = if ebgp { path.prepend(s.local_as) } else { path };
    out.set(AttrId::BGP_PATH, AttrValue::Path(path)).ok()?;

    let keep = nh == NextHopChoice::Keep || s.rs_client;
    let nh_value = match (keep, out.value(AttrId::BGP_NEXT_HOP).cloned()) {
        (true, Some(v)) if learned_bgp => Some(v),
        _ => self_nh.map(AttrValue::Ip),
    };
    out.set(AttrId::BGP_NEXT_HOP, nh_value?).ok()?;

    if s.internal {
        if out.bgp_local_pref().is_none() {
            let lp = s.default_local_pref.unwrap_or(DEFAULT_LOCAL_PREF);
            out.set(AttrId::BGP_LOCAL_PREF, AttrValue::Int(lp)).ok()?;
        }
        if reflecting {
            if out.bgp_originator_id().is_none() {
                let id = src.map_or(s.router_id, BgpClass::peer_id);
                out.set(AttrId::BGP_ORIGINATOR_ID, AttrValue::Quad(id)).ok()?;
            }
            let mut cl = vec![s.cluster_id];
            cl.extend_from_slice(out.bgp_cluster_list().unwrap_or(&[]));
            out.set(AttrId::BGP_CLUSTER_LIST, AttrValue::QuadList(cl.into_boxed_slice())).ok()?;
        }
    } else {
        out.remove(AttrId::BGP_LOCAL_PREF);
        out.remove(AttrId::BGP_ORIGINATOR_ID);
        out.remove(AttrId::BGP_CLUSTER_LIST);
        if ebgp && learned_bgp {
            out.remove(AttrId::BGP_MED);
        }
    }
    if let Some(role) = s.role {
        let mut v = out.eattrs().to_vec();
        if !otc_egress(role, s.local_as, &mut v) {
            return None;
        }
        out.set_all(v).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use birdtable::attrs::AsPath;
    use birdtable::{RouteSrc, Source};
    use std::sync::Arc;

    fn facts(internal: bool) -> SessionFacts {
        SessionFacts {
            internal,
            local_as: 65000,
            peer_as: if internal { 65000 } else { 65001 },
            router_id: 0x0a00_0001,
            cluster_id: 0x0a00_0001,
            rr_client: false,
            rs_client: false,
            allow_local_as: 0,
            allow_local_pref: false,
            default_local_pref: None,
            default_med: None,
            interpret_communities: true,
            role: None,
            neighbor: "198.18.0.2".parse().unwrap(),
        }
    }

    fn attrs(path: &[u32], lp: Option<u32>) -> Vec<EAttr> {
        let mut v = vec![
            EAttr { id: AttrId::BGP_ORIGIN, flags: 0x40, value: AttrValue::Origin(Origin::Igp) },
            EAttr { id: AttrId::BGP_PATH, flags: 0x40, value: AttrValue::Path(AsPath::from_sequence(path)) },
            EAttr {
                id: AttrId::BGP_NEXT_HOP,
                flags: 0x40,
                value: AttrValue::Ip("198.18.0.2".parse().unwrap()),
            },
        ];
        if let Some(lp) = lp {
            v.push(EAttr { id: AttrId::BGP_LOCAL_PREF, flags: 0x40, value: AttrValue::Int(lp) });
        }
        v
    }

    fn route(class: &Arc<BgpClass>, set: AttrSet) -> Route {
        let src = Source::new("p", class.clone());
        Route::new(RouteSrc::new(&src, 0), set.intern(), 100)
    }

    #[test]
    fn ebgp_import_refuses_loops_and_drops_local_pref() {
        let s = facts(false);
        assert_eq!(
            import_attrs(&s, attrs(&[65001, 65000, 3], None), Dest::Blackhole, None).err(),
            Some(ImportRefusal::AsLoop)
        );
        let set = import_attrs(&s, attrs(&[65001, 3], Some(300)), Dest::Blackhole, None).unwrap();
        assert_eq!(set.bgp_local_pref(), Some(DEFAULT_LOCAL_PREF));
        assert_eq!(set.from, Some(s.neighbor));
        let mut allow = s.clone();
        allow.allow_local_as = 1;
        assert!(import_attrs(&allow, attrs(&[65001, 65000, 3], None), Dest::Blackhole, None).is_ok());
    }

    #[test]
    fn ibgp_import_refuses_own_originator_and_cluster() {
        let s = facts(true);
        let mut a = attrs(&[3], Some(100));
        a.push(EAttr { id: AttrId::BGP_ORIGINATOR_ID, flags: 0x80, value: AttrValue::Quad(s.router_id) });
        a.sort_by_key(|e| e.id);
        assert_eq!(import_attrs(&s, a, Dest::Blackhole, None).err(), Some(ImportRefusal::OriginatorLoop));
        let mut a = attrs(&[3], Some(100));
        a.push(EAttr {
            id: AttrId::BGP_CLUSTER_LIST,
            flags: 0x80,
            value: AttrValue::QuadList(vec![7, s.cluster_id].into_boxed_slice()),
        });
        a.sort_by_key(|e| e.id);
        assert_eq!(import_attrs(&s, a, Dest::Blackhole, None).err(), Some(ImportRefusal::ClusterLoop));
    }

    #[test]
    fn decision_prefers_local_pref_then_path_then_ebgp() {
        let ext = Arc::new(BgpClass::new(None, false, true, false));
        ext.set_session(false, Ipv4Addr::new(10, 0, 0, 9));
        let int = Arc::new(BgpClass::new(None, false, true, false));
        int.set_session(true, Ipv4Addr::new(10, 0, 0, 1));
        let mk = |c: &Arc<BgpClass>, path: &[u32], lp| {
            route(c, import_attrs(&facts(c.internal()), attrs(path, lp), Dest::Blackhole, None).unwrap())
        };
        let c = ext.clone();
        // Higher local pref wins over a shorter path (iBGP keeps its LOCAL_PREF).
        assert_eq!(c.compare(&mk(&int, &[1, 2, 3], Some(200)), &mk(&ext, &[65001], None)), Ordering::Greater);
        // Shorter path wins.
        assert_eq!(c.compare(&mk(&ext, &[65001], None), &mk(&ext, &[65001, 2], None)), Ordering::Greater);
        // Equal otherwise: eBGP over iBGP.
        assert_eq!(c.compare(&mk(&ext, &[65001], None), &mk(&int, &[65001], Some(100))), Ordering::Greater);
        // Lower router id wins among equals.
        assert_eq!(c.compare(&mk(&int, &[5], Some(100)), &mk(&ext, &[5], Some(100))), Ordering::Less);
    }

    #[test]
    fn export_to_ebgp_prepends_and_sets_self() {
        let ibgp = Arc::new(BgpClass::new(None, false, true, false));
        ibgp.set_session(true, Ipv4Addr::new(10, 0, 0, 1));
        let r =
            route(&ibgp, import_attrs(&facts(true), attrs(&[3], Some(150)), Dest::Blackhole, None).unwrap());
        let me: IpAddr = "198.18.0.1".parse().unwrap();
        let out = export_attrs(&facts(false), &r, NextHopChoice::OwnAddress, Some(me)).unwrap();
        assert_eq!(out.bgp_path().unwrap().asns().collect::<Vec<_>>(), vec![65000, 3]);
        assert_eq!(out.bgp_local_pref(), None);
        assert_eq!(out.bgp_next_hop().map(|x| x.0), Some(me));
        // Route server client: unchanged path and next hop.
        let mut rs = facts(false);
        rs.rs_client = true;
        let out = export_attrs(&rs, &r, NextHopChoice::OwnAddress, Some(me)).unwrap();
        assert_eq!(out.bgp_path().unwrap().asns().collect::<Vec<_>>(), vec![3]);
        assert_eq!(out.bgp_next_hop().map(|x| x.0), Some("198.18.0.2".parse().unwrap()));
    }

    #[test]
    fn ibgp_to_ibgp_only_through_a_reflector_client() {
        let ibgp = Arc::new(BgpClass::new(None, false, true, false));
        ibgp.set_session(true, Ipv4Addr::new(10, 0, 0, 7));
        let r =
            route(&ibgp, import_attrs(&facts(true), attrs(&[3], Some(100)), Dest::Blackhole, None).unwrap());
        assert!(export_attrs(&facts(true), &r, NextHopChoice::Keep, None).is_none());
        let mut client = facts(true);
        client.rr_client = true;
        let out = export_attrs(&client, &r, NextHopChoice::Keep, None).unwrap();
        assert_eq!(out.bgp_originator_id(), Some(u32::from(Ipv4Addr::new(10, 0, 0, 7))));
        assert_eq!(out.bgp_cluster_list(), Some(&[client.cluster_id][..]));
        assert_eq!(out.bgp_next_hop().map(|x| x.0), Some("198.18.0.2".parse().unwrap()));
    }

    #[test]
    fn no_export_stays_inside() {
        let ebgp = Arc::new(BgpClass::new(None, false, true, false));
        let mut a = attrs(&[3], None);
        a.push(EAttr {
            id: AttrId::BGP_COMMUNITY,
            flags: 0xc0,
            value: AttrValue::Clist(birdtable::attrs::Clist::from_values([Community::NO_EXPORT])),
        });
        a.sort_by_key(|e| e.id);
        let r = route(&ebgp, import_attrs(&facts(false), a, Dest::Blackhole, None).unwrap());
        let me: IpAddr = "198.18.0.1".parse().unwrap();
        assert!(export_attrs(&facts(false), &r, NextHopChoice::OwnAddress, Some(me)).is_none());
        assert!(export_attrs(&facts(true), &r, NextHopChoice::Keep, Some(me)).is_some());
    }
}
