//! The route a filter runs on: [`RouteCtx`].

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use birdnet::Net;
use birdtable::attrs::{AttrError, AttrId, AttrSet, AttrValue, EAttr, Iface};

/// Interface and neighbour lookups a filter needs to set `gw` or `ifname`.
pub trait Interfaces {
    /// The interface through which `gw` is a directly connected neighbour, if any.
    fn neighbor(&self, gw: IpAddr) -> Option<Iface>;
    /// The interface called `name`, if it exists.
    fn by_name(&self, name: &str) -> Option<Iface>;
}

/// A route under filtering: its net, protocol name, preference and attributes.
///
/// The attribute set is copy-on-write: filters read the caller's set in place and clone it only
/// on the first write. After the run, [`attrs_changed`](RouteCtx::attrs_changed) tells whether the
/// caller must re-intern [`into_attrs`](RouteCtx::into_attrs)'s result.
pub struct RouteCtx<'a> {
    net: Net,
    proto: &'a str,
    preference: u16,
    attrs: &'a AttrSet,
    modified: Option<AttrSet>,
    /// The attributes are the caller's own ([`RouteCtx::owned`]): written in place.
    owned: bool,
    changed: bool,
    pref_changed: bool,
    ifaces: Option<&'a dyn Interfaces>,
    printed: Option<Vec<String>>,
}

impl fmt::Debug for RouteCtx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteCtx")
            .field("net", &self.net)
            .field("proto", &self.proto)
            .field("preference", &self.preference)
            .field("attrs", self.attrs())
            .field("owned", &self.owned)
            .field("attrs_changed", &self.attrs_changed())
            .finish()
    }
}

impl<'a> RouteCtx<'a> {
    /// A route of protocol `proto` for `net` with `attrs` and `preference`.
    pub fn new(net: Net, attrs: &'a AttrSet, proto: &'a str, preference: u16) -> RouteCtx<'a> {
        RouteCtx {
            net,
            proto,
            preference,
            attrs,
            modified: None,
            owned: false,
            changed: false,
            pref_changed: false,
            ifaces: None,
            printed: None,
        }
    }

    /// A route whose attribute set the caller owns (not interned yet, as after decoding an
    /// update): writes go straight into it, nothing is copied. Take it back with
    /// [`finish`](RouteCtx::finish) or [`into_attrs`](RouteCtx::into_attrs).
    pub fn owned(net: Net, attrs: AttrSet, proto: &'a str, preference: u16) -> RouteCtx<'a> {
        static EMPTY: std::sync::OnceLock<AttrSet> = std::sync::OnceLock::new();
        let placeholder = EMPTY.get_or_init(|| {
            AttrSet::new(birdtable::attrs::RouteSource::Static, birdtable::attrs::Dest::Blackhole)
        });
        let mut c = RouteCtx::new(net, placeholder, proto, preference);
        c.modified = Some(attrs);
        c.owned = true;
        c
    }

    /// Gives the filter interface lookups (for `gw = ...` and `ifname = ...`).
    pub fn with_interfaces(mut self, ifaces: &'a dyn Interfaces) -> RouteCtx<'a> {
        self.ifaces = Some(ifaces);
        self
    }

    /// Also keeps the lines `print` logs, for [`printed`](RouteCtx::printed).
    pub fn capture_prints(mut self) -> RouteCtx<'a> {
        self.printed = Some(Vec::new());
        self
    }

    /// The lines printed so far (with [`capture_prints`](RouteCtx::capture_prints)).
    pub fn printed(&self) -> &[String] {
        self.printed.as_deref().unwrap_or(&[])
    }

    /// The net.
    pub fn net(&self) -> Net {
        self.net
    }

    /// The protocol name.
    pub fn proto(&self) -> &str {
        self.proto
    }

    /// The route preference (maybe changed by the filter).
    pub fn preference(&self) -> u16 {
        self.preference
    }

    /// Whether the filter changed the preference.
    pub fn preference_changed(&self) -> bool {
        self.pref_changed
    }

    /// The current attributes (the caller's set until the first write).
    pub fn attrs(&self) -> &AttrSet {
        self.modified.as_ref().unwrap_or(self.attrs)
    }

    /// Whether the filter wrote any attribute.
    pub fn attrs_changed(&self) -> bool {
        self.changed
    }

    /// The attribute set after the run: the caller's own set if it was never written (borrowed
    /// routes), otherwise the written copy (or the owned set).
    pub fn finish(self) -> Cow<'a, AttrSet> {
        match self.modified {
            Some(s) => Cow::Owned(s),
            None => Cow::Borrowed(self.attrs),
        }
    }

    /// The modified attribute set, if the filter wrote any attribute; for an
    /// [`owned`](RouteCtx::owned) route, the set in any case.
    pub fn into_attrs(self) -> Option<AttrSet> {
        self.modified
    }

    pub(crate) fn attrs_mut(&mut self) -> &mut AttrSet {
        self.changed = true;
        let orig = self.attrs;
        self.modified.get_or_insert_with(|| orig.clone())
    }

    /// Sets an extended attribute. The first write copies the caller's set in one pass with the
    /// attribute already in place (no second copy to make room for it).
    pub(crate) fn set_ea(&mut self, id: AttrId, flags: u8, value: AttrValue) -> Result<(), AttrError> {
        self.changed = true;
        if let Some(m) = &mut self.modified {
            return m.set_with_flags(id, flags, value);
        }
        let orig = self.attrs;
        let old = orig.eattrs();
        let pos = old.partition_point(|e| e.id < id);
        let rest = if old.get(pos).is_some_and(|e| e.id == id) { pos + 1 } else { pos };
        let mut v = Vec::with_capacity(old.len() + 1);
        v.extend_from_slice(&old[..pos]);
        v.push(EAttr { id, flags, value });
        v.extend_from_slice(&old[rest..]);
        let mut s = AttrSet::new(orig.source, orig.dest.clone());
        s.scope = orig.scope;
        s.from = orig.from;
        s.igp_metric = orig.igp_metric;
        s.set_all(v)?;
        self.modified = Some(s);
        Ok(())
    }

    pub(crate) fn set_preference(&mut self, p: u16) {
        self.preference = p;
        self.pref_changed = true;
    }

    pub(crate) fn interfaces(&self) -> Option<&'a dyn Interfaces> {
        self.ifaces
    }

    pub(crate) fn record_print(&mut self, line: &str) {
        if let Some(p) = &mut self.printed {
            p.push(line.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use birdtable::attrs::{Dest, RouteSource};

    #[test]
    fn first_write_in_one_pass_equals_copy_and_set() {
        let mut base = AttrSet::new(RouteSource::Bgp, Dest::Blackhole);
        base.from = Some("192.0.2.1".parse().unwrap());
        base.set(AttrId::BGP_MED, AttrValue::Int(5)).unwrap();
        base.set(AttrId::BGP_ORIGINATOR_ID, AttrValue::Quad(7)).unwrap();
        let net: Net = "10.0.0.0/8".parse().unwrap();
        for (id, v) in [
            (AttrId::BGP_LOCAL_PREF, AttrValue::Int(100)),
            (AttrId::BGP_MED, AttrValue::Int(9)),
            (AttrId::BGP_ORIGINATOR_ID, AttrValue::Quad(8)),
            (AttrId::BGP_ORIGIN, AttrValue::Origin(birdtable::attrs::Origin::Egp)),
        ] {
            let mut want = base.clone();
            want.set(id, v.clone()).unwrap();
            let flags = want.get(id).unwrap().flags;
            let mut ctx = RouteCtx::new(net, &base, "p", 100);
            ctx.set_ea(id, flags, v.clone()).unwrap();
            assert!(ctx.attrs_changed());
            assert_eq!(ctx.attrs(), &want, "{id:?}");
            // a second write goes to the copy
            ctx.set_ea(id, flags, v).unwrap();
            assert_eq!(ctx.into_attrs().unwrap(), want);
        }
        assert_eq!(base.bgp_med(), Some(5), "the caller's set is untouched");
    }
}
