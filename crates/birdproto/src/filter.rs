//! Import and export filters: a trait the daemon implements (its filter language), with the two
//! built-ins `all` ([`AcceptAll`]) and `none` ([`RejectAll`]).
//!
//! A filter sees the route as a [`FilterRoute`]: the net, the attributes (copied on the first write, so
//! an accepting filter that changes nothing costs nothing), the preference and the name of the protocol
//! the route came from.

use std::fmt;
use std::sync::Arc;

use birdnet::Net;
use birdtable::attrs::{AttrSet, Attrs};

/// A filter's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let the route through (with any changes made).
    Accept,
    /// Drop it.
    Reject,
}

/// A route under a filter. Attributes are copy-on-write.
pub struct FilterRoute<'a> {
    net: Net,
    orig: &'a Attrs,
    modified: Option<AttrSet>,
    /// The route's preference (`preference`); filters may change it.
    pub pref: u16,
    proto: &'a str,
}

impl fmt::Debug for FilterRoute<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilterRoute")
            .field("net", &self.net)
            .field("pref", &self.pref)
            .field("modified", &self.modified.is_some())
            .finish_non_exhaustive()
    }
}

impl<'a> FilterRoute<'a> {
    /// A route of `net` with `attrs` and `pref`, from protocol `proto`.
    pub fn new(net: Net, attrs: &'a Attrs, pref: u16, proto: &'a str) -> FilterRoute<'a> {
        FilterRoute { net, orig: attrs, modified: None, pref, proto }
    }

    /// The net (`net`).
    pub fn net(&self) -> Net {
        self.net
    }

    /// The name of the protocol the route came from (`proto`).
    pub fn proto(&self) -> &str {
        self.proto
    }

    /// The attributes as they are now.
    pub fn attrs(&self) -> &AttrSet {
        self.modified.as_ref().unwrap_or(self.orig)
    }

    /// The attributes, for changing (copied on the first call).
    pub fn attrs_mut(&mut self) -> &mut AttrSet {
        let orig = self.orig;
        self.modified.get_or_insert_with(|| orig.to_set())
    }

    /// Whether the attributes were changed.
    pub fn is_modified(&self) -> bool {
        self.modified.is_some()
    }

    /// The final attributes: the original handle when unchanged, the changed set interned otherwise.
    pub fn into_attrs(self) -> Attrs {
        match self.modified {
            Some(set) => set.intern(),
            None => self.orig.clone(),
        }
    }
}

/// A route filter. Implemented by the daemon's filter language; runs in the loop of the channel's
/// protocol, so it must be `Send + Sync` and should not block.
pub trait RouteFilter: Send + Sync {
    /// Run the filter, possibly changing the route.
    fn run(&self, route: &mut FilterRoute<'_>) -> Verdict;

    /// The name `show protocols all` prints (`ACCEPT`, `REJECT`, a filter name, `(unnamed)`).
    fn name(&self) -> &str;

    /// Whether the filter rejects every route (`none`): a channel with such an export filter does not
    /// subscribe to exports at all.
    fn rejects_all(&self) -> bool {
        false
    }

    /// Whether `other` behaves the same (reconfiguration keeps the channel's state when filters are the
    /// same). The default compares names; the daemon compares filter code.
    fn same_as(&self, other: &dyn RouteFilter) -> bool {
        self.name() == other.name()
    }
}

impl fmt::Debug for dyn RouteFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RouteFilter({})", self.name())
    }
}

/// `all`: accept every route unchanged.
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptAll;

impl RouteFilter for AcceptAll {
    fn run(&self, _: &mut FilterRoute<'_>) -> Verdict {
        Verdict::Accept
    }
    fn name(&self) -> &str {
        "ACCEPT"
    }
}

/// `none`: reject every route.
#[derive(Debug, Clone, Copy, Default)]
pub struct RejectAll;

impl RouteFilter for RejectAll {
    fn run(&self, _: &mut FilterRoute<'_>) -> Verdict {
        Verdict::Reject
    }
    fn name(&self) -> &str {
        "REJECT"
    }
    fn rejects_all(&self) -> bool {
        true
    }
}

/// A filter from a closure and a name (tests, and the daemon's compiled filters).
pub struct FnFilter<F> {
    name: String,
    f: F,
}

impl<F> FnFilter<F>
where
    F: Fn(&mut FilterRoute<'_>) -> Verdict + Send + Sync + 'static,
{
    /// A named filter running `f`.
    pub fn new(name: impl Into<String>, f: F) -> Arc<FnFilter<F>> {
        Arc::new(FnFilter { name: name.into(), f })
    }
}

impl<F> fmt::Debug for FnFilter<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FnFilter({})", self.name)
    }
}

impl<F> RouteFilter for FnFilter<F>
where
    F: Fn(&mut FilterRoute<'_>) -> Verdict + Send + Sync,
{
    fn run(&self, route: &mut FilterRoute<'_>) -> Verdict {
        (self.f)(route)
    }
    fn name(&self) -> &str {
        &self.name
    }
}

/// `Arc<AcceptAll>` as a trait object.
pub fn accept_all() -> Arc<dyn RouteFilter> {
    Arc::new(AcceptAll)
}

/// `Arc<RejectAll>` as a trait object.
pub fn reject_all() -> Arc<dyn RouteFilter> {
    Arc::new(RejectAll)
}

#[cfg(test)]
mod tests {
    use super::*;
    use birdtable::attrs::{Dest, RouteSource};

    #[test]
    fn copy_on_write() {
        let a = AttrSet::new(RouteSource::Static, Dest::Blackhole).intern();
        let net: Net = "192.0.2.0/24".parse().unwrap();
        let mut r = FilterRoute::new(net, &a, 200, "static1");
        assert_eq!(AcceptAll.run(&mut r), Verdict::Accept);
        assert!(!r.is_modified());
        assert!(Attrs::ptr_eq(&r.into_attrs(), &a));
        let set_unreach = FnFilter::new("f", |r: &mut FilterRoute<'_>| {
            r.attrs_mut().dest = Dest::Unreachable;
            Verdict::Accept
        });
        let mut r = FilterRoute::new(net, &a, 200, "static1");
        assert_eq!(set_unreach.run(&mut r), Verdict::Accept);
        assert_eq!(r.attrs().dest, Dest::Unreachable);
        let out = r.into_attrs();
        assert_eq!(out.dest, Dest::Unreachable);
        assert_eq!(a.dest, Dest::Blackhole);
        assert_eq!(RejectAll.name(), "REJECT");
        assert_eq!(set_unreach.name(), "f");
    }
}
