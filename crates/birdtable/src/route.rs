//! Routes, route sources and best-route selection.
//!
//! ```text
//!   Source (Arc<SourceInner>)            one per protocol instance (BIRD's rte_owner)
//!     id (process-unique), name, class, routes stored (all tables), released callback
//!   RouteSrc (Arc<SrcInner>)             one per (source, path id)     (BIRD's rte_src)
//!     source: Source, path_id
//!   Route (32 bytes, stored inline in a table's per-net list)
//!     attrs: Attrs (Arc) │ src: RouteSrc (Arc) │ id u32 │ sender u16 │ pref u16
//!     lastmod u32 (s)    │ stale AtomicU8      │ generation u8 │ flags u8
//! ```
//!
//! A [`Source`] is alive while its owner holds it or any [`RouteSrc`] of it exists; every stored
//! route, every journal item and every exporter's copy holds a `RouteSrc`. When the last one goes,
//! the callback registered with [`Source::when_released`] is activated: that is how a protocol
//! learns that every route it authored is gone from every table (also through pipes).
//!
//! Routes are ordered (best first) by [`route_cmp`]: valid before filtered, higher preference, then
//! the protocol's [`RouteClass::compare`] when both come from the same class, then the class name.
//! Ties keep insertion order (the newer route goes after the older ones), so selection is
//! deterministic for a given order of imports.

use std::cmp::Ordering;
use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicU8, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, PoisonError};

use birdevent::Callback;

use crate::attrs::Attrs;

/// Dense index of a net in one table (`0..`), reused after the net is gone and every recipient passed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NetId(pub u32);

/// Dense id of a stored route version in one table, released when every recipient passed its removal.
/// Exporters index per-route bitmaps (accepted, rejected) by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RouteId(pub u32);

/// Index of an importer (BIRD's channel import request) in one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImporterId(pub u16);

/// The protocol-supplied part of best-route selection (BIRD's `rte_better`, `rte_mergable`).
///
/// `compare` must be a total preorder on routes of this class: it is used to sort.
pub trait RouteClass: Send + Sync + 'static {
    /// The class name (`"BGP"`, `"static"`, ...). Routes of different classes with equal preference
    /// are ordered by it.
    fn name(&self) -> &'static str;

    /// `Greater` when `a` is better than `b`. Both have equal preference and this class.
    fn compare(&self, a: &Route, b: &Route) -> Ordering {
        let _ = (a, b);
        Ordering::Equal
    }

    /// Whether `other` may be merged with `best` into a multipath (ECMP) route. Both have this class and
    /// equal preference.
    fn mergeable(&self, best: &Route, other: &Route) -> bool {
        let _ = (best, other);
        false
    }

    /// Class-specific data for comparisons across sources of the same class: a protocol whose
    /// [`compare`](RouteClass::compare) needs facts about the *other* route's author (BGP: whether it
    /// came over iBGP, the peer's router id) returns itself here and downcasts the other route's
    /// class. `None` by default.
    fn info(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

/// A class without a protocol comparison: routes of equal preference keep their insertion order.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainClass;

impl RouteClass for PlainClass {
    fn name(&self) -> &'static str {
        "plain"
    }
}

static NEXT_SOURCE_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) struct SourceInner {
    id: u64,
    name: Arc<str>,
    class: Arc<dyn RouteClass>,
    routes: AtomicI64,
    released: Mutex<Option<Callback>>,
}

impl Drop for SourceInner {
    fn drop(&mut self) {
        let cb = self.released.get_mut().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(cb) = cb {
            cb.activate();
        }
    }
}

/// The author of routes: a protocol instance (BIRD's `rte_owner`). Cheap to clone.
#[derive(Clone)]
pub struct Source(Arc<SourceInner>);

impl Source {
    /// A new source with a process-unique id.
    pub fn new(name: impl Into<Arc<str>>, class: Arc<dyn RouteClass>) -> Source {
        Source(Arc::new(SourceInner {
            id: NEXT_SOURCE_ID.fetch_add(1, AtomicOrdering::Relaxed),
            name: name.into(),
            class,
            routes: AtomicI64::new(0),
            released: Mutex::new(None),
        }))
    }

    /// Process-unique id (the last tie-break of route ordering).
    pub fn id(&self) -> u64 {
        self.0.id
    }

    /// The name given at creation.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The route class of this source's routes.
    pub fn class(&self) -> &Arc<dyn RouteClass> {
        &self.0.class
    }

    /// Routes of this source stored in all tables together.
    pub fn routes(&self) -> i64 {
        self.0.routes.load(AtomicOrdering::Relaxed)
    }

    /// Handles to this source alive (this one, its clones and one per live [`RouteSrc`]).
    pub fn holders(&self) -> usize {
        Arc::strong_count(&self.0)
    }

    /// Give up this handle; `done` is activated once no handle and no [`RouteSrc`] of this source is
    /// left (every route it authored is gone from every table, journal and exporter). Activated at once
    /// if this was the last holder.
    pub fn when_released(self, done: Callback) {
        *self.0.released.lock().unwrap_or_else(PoisonError::into_inner) = Some(done);
        drop(self);
    }

    pub(crate) fn add_routes(&self, n: i64) {
        self.0.routes.fetch_add(n, AtomicOrdering::Relaxed);
    }
}

impl PartialEq for Source {
    fn eq(&self, other: &Source) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Source {}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source").field("id", &self.0.id).field("name", &self.0.name).finish()
    }
}

struct SrcInner {
    /// `source.id()`, kept here: comparing a net's routes by source key then reads one cache line per
    /// route instead of two dependent ones (the import path compares every route of the net).
    source_id: u64,
    source: Source,
    path_id: u32,
}

/// A route's source: its author plus a path id (BIRD's `rte_src`). Two handles are equal when both parts
/// are; a net holds at most one route per source. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct RouteSrc(Arc<SrcInner>);

impl RouteSrc {
    /// The source `path_id` of `source` (0 when the protocol does not use path ids).
    pub fn new(source: &Source, path_id: u32) -> RouteSrc {
        RouteSrc(Arc::new(SrcInner { source_id: source.id(), source: source.clone(), path_id }))
    }

    /// The author.
    pub fn source(&self) -> &Source {
        &self.0.source
    }

    /// The path id.
    pub fn path_id(&self) -> u32 {
        self.0.path_id
    }

    /// `(source id, path id)`: the identity compared by `==`.
    pub fn key(&self) -> (u64, u32) {
        (self.0.source_id, self.0.path_id)
    }

    fn class(&self) -> &dyn RouteClass {
        &*self.0.source.0.class
    }
}

impl PartialEq for RouteSrc {
    fn eq(&self, other: &RouteSrc) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.key() == other.key()
    }
}

impl Eq for RouteSrc {}

impl fmt::Debug for RouteSrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RouteSrc({}#{}/{})", self.0.source.name(), self.0.source.id(), self.0.path_id)
    }
}

/// Route flag: rejected by the import filter but kept (`import keep filtered`). Never best, never
/// exported.
pub const FLAG_FILTERED: u8 = 1;

/// A route: attributes, source and the table's bookkeeping. 32 bytes, stored inline in the per-net list.
///
/// Build one with [`Route::new`] and import it; the table sets `id`, `sender`, `lastmod` and the stale
/// cycle when storing it. Cloning bumps two reference counts.
pub struct Route {
    attrs: Attrs,
    src: RouteSrc,
    id: u32,
    sender: u16,
    pref: u16,
    lastmod: u32,
    stale: AtomicU8,
    generation: u8,
    flags: u8,
}

impl Clone for Route {
    fn clone(&self) -> Route {
        Route {
            attrs: self.attrs.clone(),
            src: self.src.clone(),
            id: self.id,
            sender: self.sender,
            pref: self.pref,
            lastmod: self.lastmod,
            stale: AtomicU8::new(self.stale.load(AtomicOrdering::Relaxed)),
            generation: self.generation,
            flags: self.flags,
        }
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("src", &self.src)
            .field("pref", &self.pref)
            .field("id", &self.id)
            .field("sender", &self.sender)
            .field("generation", &self.generation)
            .field("flags", &self.flags)
            .field("attrs", &self.attrs.as_ptr())
            .finish()
    }
}

impl Route {
    /// A route from `src` with `attrs` and preference `pref`, generation 0, no flags.
    pub fn new(src: RouteSrc, attrs: Attrs, pref: u16) -> Route {
        Route {
            attrs,
            src,
            id: u32::MAX,
            sender: u16::MAX,
            pref,
            lastmod: 0,
            stale: AtomicU8::new(0),
            generation: 0,
            flags: 0,
        }
    }

    /// Set the pipe generation (how many pipes the route went through).
    #[must_use]
    pub fn with_generation(mut self, generation: u8) -> Route {
        self.generation = generation;
        self
    }

    /// Set the flags ([`FLAG_FILTERED`]).
    #[must_use]
    pub fn with_flags(mut self, flags: u8) -> Route {
        self.flags = flags;
        self
    }

    /// The interned attributes.
    pub fn attrs(&self) -> &Attrs {
        &self.attrs
    }

    /// The source.
    pub fn src(&self) -> &RouteSrc {
        &self.src
    }

    /// Preference.
    pub fn pref(&self) -> u16 {
        self.pref
    }

    /// The id the table gave this route version (meaningless before it was stored).
    pub fn id(&self) -> RouteId {
        RouteId(self.id)
    }

    /// The importer that stored it (meaningless before it was stored).
    pub fn sender(&self) -> ImporterId {
        ImporterId(self.sender)
    }

    /// When it was stored: seconds on the table's clock.
    pub fn lastmod(&self) -> u32 {
        self.lastmod
    }

    /// The importer's refresh cycle when this route was last imported.
    pub fn stale_cycle(&self) -> u8 {
        self.stale.load(AtomicOrdering::Relaxed)
    }

    /// Pipe generation.
    pub fn generation(&self) -> u8 {
        self.generation
    }

    /// Flags.
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// Whether the route may be best and exported (not [`FLAG_FILTERED`]).
    pub fn is_valid(&self) -> bool {
        self.flags & FLAG_FILTERED == 0
    }

    /// Same attributes (by identity), preference, generation and flags: a re-import of this route
    /// changes nothing but the stale cycle.
    pub fn same_as(&self, other: &Route) -> bool {
        Attrs::ptr_eq(&self.attrs, &other.attrs)
            && self.pref == other.pref
            && self.generation == other.generation
            && self.flags == other.flags
            && self.src == other.src
    }

    pub(crate) fn stamp(&mut self, id: u32, sender: u16, lastmod: u32, stale: u8) {
        self.id = id;
        self.sender = sender;
        self.lastmod = lastmod;
        *self.stale.get_mut() = stale;
    }

    pub(crate) fn set_stale(&self, cycle: u8) {
        self.stale.store(cycle, AtomicOrdering::Relaxed);
    }
}

/// Route order, best first: `Less` when `a` should come before `b`.
///
/// Valid before filtered; higher preference first; same class: the class comparison; different
/// classes: by class name. `Equal` means "no preference": the table keeps the older route first.
pub fn route_cmp(a: &Route, b: &Route) -> Ordering {
    b.is_valid().cmp(&a.is_valid()).then_with(|| b.pref.cmp(&a.pref)).then_with(|| {
        let (ca, cb) = (a.src.class(), b.src.class());
        if ca.name() == cb.name() {
            ca.compare(b, a)
        } else {
            ca.name().cmp(cb.name())
        }
    })
}

/// The multipath set of a sorted route list: the best route and every valid route of the same preference
/// and class its class calls mergeable. Empty when there is no valid route.
pub fn ecmp_set(routes: &[Route]) -> Vec<Route> {
    let Some(best) = routes.first().filter(|r| r.is_valid()) else {
        return Vec::new();
    };
    let mut out = vec![best.clone()];
    out.extend(routes[1..].iter().filter(|r| ecmp_member(best, r)).cloned());
    out
}

/// Whether `r` (not `best` itself) belongs to the multipath set of `best`: valid, of the same preference
/// and class, and mergeable by the class.
pub fn ecmp_member(best: &Route, r: &Route) -> bool {
    let class = best.src.class();
    r.is_valid() && r.pref == best.pref && r.src.class().name() == class.name() && class.mergeable(best, r)
}

/// The merged (multipath) route of an ECMP set ([`ecmp_set`], best first): the best route, with the next
/// hops of every unicast route of the set as its destination. Keeps the best route's id, source and
/// bookkeeping, so an exporter marks it by the best route's id. `None` for an empty set.
pub fn merge_ecmp(set: &[Route]) -> Option<Route> {
    let best = set.first()?;
    if set.len() == 1 || !matches!(best.attrs.dest, crate::attrs::Dest::Unicast(_)) {
        return Some(best.clone());
    }
    let hops: Vec<_> = set.iter().flat_map(|r| r.attrs.dest.next_hops().iter().cloned()).collect();
    let mut a = crate::attrs::AttrSet::clone(&best.attrs);
    a.dest = crate::attrs::Dest::unicast(hops);
    let mut r = best.clone();
    r.attrs = a.intern();
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Route>(), 32);
        assert_eq!(std::mem::size_of::<Option<Route>>(), 32);
    }
}
