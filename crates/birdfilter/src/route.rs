//! The route a filter runs on: [`RouteCtx`].

use std::fmt;
use std::net::IpAddr;

use birdnet::Net;
use birdtable::attrs::{AttrSet, Iface};

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
            pref_changed: false,
            ifaces: None,
            printed: None,
        }
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
        self.modified.is_some()
    }

    /// The modified attribute set, if the filter wrote any attribute.
    pub fn into_attrs(self) -> Option<AttrSet> {
        self.modified
    }

    /// The modified attribute set, taken out (`None` if unchanged).
    pub fn take_attrs(&mut self) -> Option<AttrSet> {
        self.modified.take()
    }

    pub(crate) fn attrs_mut(&mut self) -> &mut AttrSet {
        let orig = self.attrs;
        self.modified.get_or_insert_with(|| orig.clone())
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
