//! [`AttrSet`]: everything a route carries besides its net, source and preference.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use super::aspath::AsPath;
use super::community::{Clist, EcList, LcList};
use super::nexthop::Dest;
use super::registry::{self, AttrId};
use super::source::{RouteSource, Scope};
use super::value::{Aggregator, AttrType, AttrValue, HostEntry, Origin};
use crate::hash::FxHasher;

/// One extended attribute: id, BGP-style flags and value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EAttr {
    /// Which attribute.
    pub id: AttrId,
    /// BGP attribute flags as received or set (`BAF_*`); 0 for non-BGP attributes.
    pub flags: u8,
    /// The value.
    pub value: AttrValue,
}

/// Why an attribute could not be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttrError {
    /// No such attribute is defined.
    #[error("undefined attribute {0:?}")]
    Undefined(AttrId),
    /// The value does not fit the attribute's type.
    #[error("attribute {id:?} expects {expected:?}")]
    WrongType {
        /// The attribute.
        id: AttrId,
        /// Its type.
        expected: AttrType,
    },
}

/// A route's attributes. Build one, then [`intern`](AttrSet::intern) it into a shared
/// [`Attrs`](super::Attrs) handle; interned sets are immutable.
///
/// The fields every route has are plain fields. Everything else is an extended attribute in `eattrs`,
/// kept sorted by id with at most one entry per id (so equal sets are equal field by field, and the
/// print order falls out of the id order).
#[derive(Debug)]
pub struct AttrSet {
    /// `source`.
    pub source: RouteSource,
    /// `scope`.
    pub scope: Scope,
    /// `dest`, with the next hops of unicast routes.
    pub dest: Dest,
    /// `from`: the address of the neighbour the route came from.
    pub from: Option<IpAddr>,
    /// `igp_metric`; [`IGP_METRIC_UNKNOWN`](super::IGP_METRIC_UNKNOWN) and above mean unknown.
    pub igp_metric: Option<u32>,
    eattrs: Box<[EAttr]>,
    /// Content hash, computed by `intern` (0 before).
    pub(super) hash: u64,
}

impl PartialEq for AttrSet {
    fn eq(&self, other: &AttrSet) -> bool {
        self.source == other.source
            && self.scope == other.scope
            && self.from == other.from
            && self.igp_metric == other.igp_metric
            && self.dest == other.dest
            && self.eattrs == other.eattrs
    }
}

impl Eq for AttrSet {}

/// Hashes the content hash: the stored one for interned sets (the cache looks sets up by it),
/// computed on the fly for sets not interned.
impl Hash for AttrSet {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(if self.hash != 0 { self.hash } else { self.content_hash() });
    }
}

/// A clone is a fresh, not interned set: its fields are public and may change before it is
/// interned, so the stored hash is not carried over.
impl Clone for AttrSet {
    fn clone(&self) -> AttrSet {
        AttrSet {
            source: self.source,
            scope: self.scope,
            dest: self.dest.clone(),
            from: self.from,
            igp_metric: self.igp_metric,
            eattrs: self.eattrs.clone(),
            hash: 0,
        }
    }
}

impl AttrSet {
    /// A set with the given source and destination, scope universe and nothing else.
    pub fn new(source: RouteSource, dest: Dest) -> AttrSet {
        AttrSet {
            source,
            scope: Scope::Universe,
            dest,
            from: None,
            igp_metric: None,
            eattrs: Box::default(),
            hash: 0,
        }
    }

    /// The extended attributes, sorted by id.
    pub fn eattrs(&self) -> &[EAttr] {
        &self.eattrs
    }

    /// The extended attribute `id`.
    pub fn get(&self, id: AttrId) -> Option<&EAttr> {
        self.eattrs.binary_search_by_key(&id, |e| e.id).ok().map(|i| &self.eattrs[i])
    }

    /// The value of `id`.
    pub fn value(&self, id: AttrId) -> Option<&AttrValue> {
        self.get(id).map(|e| &e.value)
    }

    /// Set `id` to `value` with the attribute's default BGP flags (0 for others), replacing any old
    /// value. Checks the value against the registry.
    pub fn set(&mut self, id: AttrId, value: AttrValue) -> Result<(), AttrError> {
        let flags = registry::def(id).and_then(|d| d.bgp).map_or(0, |(_, f)| f);
        self.set_with_flags(id, flags, value)
    }

    /// Set `id` with explicit flags (as received from a BGP peer).
    pub fn set_with_flags(&mut self, id: AttrId, flags: u8, value: AttrValue) -> Result<(), AttrError> {
        let ty = registry::type_of(id).ok_or(AttrError::Undefined(id))?;
        if !value.fits(ty) {
            return Err(AttrError::WrongType { id, expected: ty });
        }
        let ea = EAttr { id, flags, value };
        match self.eattrs.binary_search_by_key(&id, |e| e.id) {
            Ok(i) => self.eattrs[i] = ea,
            Err(i) => {
                let mut v = std::mem::take(&mut self.eattrs).into_vec();
                v.insert(i, ea);
                self.eattrs = v.into_boxed_slice();
            }
        }
        Ok(())
    }

    /// Replace all extended attributes at once (sorted and checked here; for a later duplicate id,
    /// the last one wins). Cheaper than repeated [`set`](AttrSet::set) for decoders.
    pub fn set_all(&mut self, attrs: Vec<EAttr>) -> Result<(), AttrError> {
        let mut v = attrs;
        for e in &v {
            let ty = registry::type_of(e.id).ok_or(AttrError::Undefined(e.id))?;
            if !e.value.fits(ty) {
                return Err(AttrError::WrongType { id: e.id, expected: ty });
            }
        }
        v.reverse();
        v.sort_by_key(|e| e.id);
        v.dedup_by_key(|e| e.id);
        self.eattrs = v.into_boxed_slice();
        Ok(())
    }

    /// Remove `id`; returns its old value.
    pub fn remove(&mut self, id: AttrId) -> Option<EAttr> {
        let i = self.eattrs.binary_search_by_key(&id, |e| e.id).ok()?;
        let mut v = std::mem::take(&mut self.eattrs).into_vec();
        let old = v.remove(i);
        self.eattrs = v.into_boxed_slice();
        Some(old)
    }

    /// Heap bytes owned by this set (not counting the set itself).
    pub fn heap_size(&self) -> usize {
        let hops = match &self.dest {
            Dest::Unicast(h) => std::mem::size_of_val::<[_]>(h),
            _ => 0,
        };
        hops + std::mem::size_of_val::<[EAttr]>(&self.eattrs)
            + self.eattrs.iter().map(|e| e.value.heap_size()).sum::<usize>()
    }

    // Typed accessors.

    /// `bgp_origin`.
    pub fn bgp_origin(&self) -> Option<Origin> {
        match self.value(AttrId::BGP_ORIGIN)? {
            AttrValue::Origin(o) => Some(*o),
            _ => None,
        }
    }

    /// `bgp_path`.
    pub fn bgp_path(&self) -> Option<&AsPath> {
        match self.value(AttrId::BGP_PATH)? {
            AttrValue::Path(p) => Some(p),
            _ => None,
        }
    }

    /// `bgp_next_hop`: the global address and, for IPv6, the link-local one.
    pub fn bgp_next_hop(&self) -> Option<(IpAddr, Option<IpAddr>)> {
        match self.value(AttrId::BGP_NEXT_HOP)? {
            AttrValue::Ip(a) => Some((*a, None)),
            AttrValue::IpPair(p) => Some((p[0], Some(p[1]))),
            _ => None,
        }
    }

    fn int(&self, id: AttrId) -> Option<u32> {
        match self.value(id)? {
            AttrValue::Int(v) | AttrValue::Quad(v) => Some(*v),
            _ => None,
        }
    }

    /// `bgp_med`.
    pub fn bgp_med(&self) -> Option<u32> {
        self.int(AttrId::BGP_MED)
    }

    /// `bgp_local_pref`.
    pub fn bgp_local_pref(&self) -> Option<u32> {
        self.int(AttrId::BGP_LOCAL_PREF)
    }

    /// Whether `bgp_atomic_aggr` is present.
    pub fn bgp_atomic_aggr(&self) -> bool {
        self.get(AttrId::BGP_ATOMIC_AGGR).is_some()
    }

    /// `bgp_aggregator`.
    pub fn bgp_aggregator(&self) -> Option<Aggregator> {
        match self.value(AttrId::BGP_AGGREGATOR)? {
            AttrValue::Aggregator(a) => Some(*a),
            _ => None,
        }
    }

    /// `bgp_community`.
    pub fn bgp_community(&self) -> Option<&Clist> {
        match self.value(AttrId::BGP_COMMUNITY)? {
            AttrValue::Clist(l) => Some(l),
            _ => None,
        }
    }

    /// `bgp_ext_community`.
    pub fn bgp_ext_community(&self) -> Option<&EcList> {
        match self.value(AttrId::BGP_EXT_COMMUNITY)? {
            AttrValue::Eclist(l) => Some(l),
            _ => None,
        }
    }

    /// `bgp_large_community`.
    pub fn bgp_large_community(&self) -> Option<&LcList> {
        match self.value(AttrId::BGP_LARGE_COMMUNITY)? {
            AttrValue::Lclist(l) => Some(l),
            _ => None,
        }
    }

    /// `bgp_originator_id`.
    pub fn bgp_originator_id(&self) -> Option<u32> {
        self.int(AttrId::BGP_ORIGINATOR_ID)
    }

    /// `bgp_cluster_list`.
    pub fn bgp_cluster_list(&self) -> Option<&[u32]> {
        match self.value(AttrId::BGP_CLUSTER_LIST)? {
            AttrValue::QuadList(l) => Some(l),
            _ => None,
        }
    }

    /// `bgp_otc`.
    pub fn bgp_otc(&self) -> Option<u32> {
        self.int(AttrId::BGP_OTC)
    }

    /// `krt_metric`.
    pub fn krt_metric(&self) -> Option<u32> {
        self.int(AttrId::KRT_METRIC)
    }

    /// `krt_source`.
    pub fn krt_source(&self) -> Option<u32> {
        self.int(AttrId::KRT_SOURCE)
    }

    /// `krt_prefsrc`.
    pub fn krt_prefsrc(&self) -> Option<IpAddr> {
        match self.value(AttrId::KRT_PREFSRC)? {
            AttrValue::Ip(a) => Some(*a),
            _ => None,
        }
    }

    /// The recursive next-hop resolution, if any.
    pub fn hostentry(&self) -> Option<&HostEntry> {
        match self.value(AttrId::HOSTENTRY)? {
            AttrValue::HostEntry(h) => Some(h),
            _ => None,
        }
    }

    /// Unknown BGP attributes to pass on: those BIRD has no definition for and that are transitive,
    /// as `(flags | PARTIAL, code, bytes)`.
    pub fn bgp_unknown_transitive(&self) -> impl Iterator<Item = (u8, u8, &[u8])> + '_ {
        self.eattrs.iter().filter_map(|e| {
            let code = e.id.bgp_code()?;
            match &e.value {
                AttrValue::Bytes(b)
                    if !registry::is_known_bgp(e.id) && e.flags & registry::BAF_TRANSITIVE != 0 =>
                {
                    Some((e.flags | registry::BAF_PARTIAL, code, &b[..]))
                }
                _ => None,
            }
        })
    }

    /// The content hash (what interning stores): stable within a process.
    pub fn content_hash(&self) -> u64 {
        let mut h = FxHasher::default();
        (self.source as u8).hash(&mut h);
        (self.scope as u8).hash(&mut h);
        self.from.hash(&mut h);
        self.igp_metric.hash(&mut h);
        self.dest.hash(&mut h);
        self.eattrs.hash(&mut h);
        // Final avalanche so every bit depends on every input (the shard index and the table's bucket
        // and tag bits come from different parts of the hash).
        let mut x = h.finish();
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }
}
