//! Route source kinds (`source`, `RTS_*`) and scopes (`scope`, `SCOPE_*`).

use std::fmt;

/// What kind of protocol originated a route: the filter attribute `source`.
///
/// The discriminants are BIRD's `RTS_*` values, so `source = RTS_BGP` compares the same numbers BIRD
/// does. [`RouteSource::name`] is the text of `Type:` (BIRD 2) and `source:` (BIRD 3) in
/// `show route all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum RouteSource {
    /// `RTS_STATIC`: a static route with a gateway or a special destination.
    Static = 1,
    /// `RTS_INHERIT`: a route learned from the kernel.
    Inherit = 2,
    /// `RTS_DEVICE`: a device (direct) route.
    Device = 3,
    /// `RTS_STATIC_DEVICE`: a static route through an interface.
    StaticDevice = 4,
    /// `RTS_REDIRECT`: an ICMP redirect.
    Redirect = 5,
    /// `RTS_RIP`.
    Rip = 6,
    /// `RTS_OSPF`: OSPF intra-area.
    Ospf = 7,
    /// `RTS_OSPF_IA`: OSPF inter-area.
    OspfIa = 8,
    /// `RTS_OSPF_EXT1`: OSPF external type 1.
    OspfExt1 = 9,
    /// `RTS_OSPF_EXT2`: OSPF external type 2.
    OspfExt2 = 10,
    /// `RTS_BGP`.
    Bgp = 11,
    /// `RTS_PIPE`.
    Pipe = 12,
    /// `RTS_BABEL`.
    Babel = 13,
    /// `RTS_RPKI` (BIRD 3 constant).
    Rpki = 14,
    /// `RTS_L3VPN` (BIRD 3 constant).
    L3vpn = 16,
    /// `RTS_AGGREGATED` (BIRD 3 constant).
    Aggregated = 17,
}

impl RouteSource {
    /// Every source, in `RTS_*` order.
    pub const ALL: [RouteSource; 16] = [
        RouteSource::Static,
        RouteSource::Inherit,
        RouteSource::Device,
        RouteSource::StaticDevice,
        RouteSource::Redirect,
        RouteSource::Rip,
        RouteSource::Ospf,
        RouteSource::OspfIa,
        RouteSource::OspfExt1,
        RouteSource::OspfExt2,
        RouteSource::Bgp,
        RouteSource::Pipe,
        RouteSource::Babel,
        RouteSource::Rpki,
        RouteSource::L3vpn,
        RouteSource::Aggregated,
    ];

    /// The name printed by `show route all` (`static`, `BGP`, `OSPF-E2`, ...).
    pub fn name(self) -> &'static str {
        match self {
            RouteSource::Static => "static",
            RouteSource::Inherit => "inherit",
            RouteSource::Device => "device",
            RouteSource::StaticDevice => "static-device",
            RouteSource::Redirect => "redirect",
            RouteSource::Rip => "RIP",
            RouteSource::Ospf => "OSPF",
            RouteSource::OspfIa => "OSPF-IA",
            RouteSource::OspfExt1 => "OSPF-E1",
            RouteSource::OspfExt2 => "OSPF-E2",
            RouteSource::Bgp => "BGP",
            RouteSource::Pipe => "pipe",
            RouteSource::Babel => "Babel",
            RouteSource::Rpki => "RPKI",
            RouteSource::L3vpn => "L3VPN",
            RouteSource::Aggregated => "aggregated",
        }
    }

    /// The filter constant (`RTS_STATIC`, ...).
    pub fn filter_name(self) -> &'static str {
        match self {
            RouteSource::Static => "RTS_STATIC",
            RouteSource::Inherit => "RTS_INHERIT",
            RouteSource::Device => "RTS_DEVICE",
            RouteSource::StaticDevice => "RTS_STATIC_DEVICE",
            RouteSource::Redirect => "RTS_REDIRECT",
            RouteSource::Rip => "RTS_RIP",
            RouteSource::Ospf => "RTS_OSPF",
            RouteSource::OspfIa => "RTS_OSPF_IA",
            RouteSource::OspfExt1 => "RTS_OSPF_EXT1",
            RouteSource::OspfExt2 => "RTS_OSPF_EXT2",
            RouteSource::Bgp => "RTS_BGP",
            RouteSource::Pipe => "RTS_PIPE",
            RouteSource::Babel => "RTS_BABEL",
            RouteSource::Rpki => "RTS_RPKI",
            RouteSource::L3vpn => "RTS_L3VPN",
            RouteSource::Aggregated => "RTS_AGGREGATED",
        }
    }

    /// The source named by a filter constant.
    pub fn from_filter_name(name: &str) -> Option<RouteSource> {
        RouteSource::ALL.into_iter().find(|s| s.filter_name() == name)
    }

    /// The source with BIRD's numeric `RTS_*` value.
    pub fn from_code(code: u32) -> Option<RouteSource> {
        RouteSource::ALL.into_iter().find(|s| *s as u32 == code)
    }
}

impl fmt::Display for RouteSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Route scope (the filter attribute `scope`, constants `SCOPE_*`).
///
/// Discriminants are BIRD's values; [`Scope::name`] is the second word of the BIRD 2 `Type:` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(u8)]
pub enum Scope {
    /// `SCOPE_HOST`.
    Host = 0,
    /// `SCOPE_LINK`.
    Link = 1,
    /// `SCOPE_SITE`.
    Site = 2,
    /// `SCOPE_ORGANIZATION`.
    Organization = 3,
    /// `SCOPE_UNIVERSE`, the default.
    #[default]
    Universe = 4,
    /// `SCOPE_UNDEFINED`.
    Undefined = 5,
}

impl Scope {
    /// Every scope, in numeric order.
    pub const ALL: [Scope; 6] =
        [Scope::Host, Scope::Link, Scope::Site, Scope::Organization, Scope::Universe, Scope::Undefined];

    /// The short name BIRD prints (`host`, `link`, `site`, `org`, `univ`, `undef`).
    pub fn name(self) -> &'static str {
        match self {
            Scope::Host => "host",
            Scope::Link => "link",
            Scope::Site => "site",
            Scope::Organization => "org",
            Scope::Universe => "univ",
            Scope::Undefined => "undef",
        }
    }

    /// The filter constant (`SCOPE_UNIVERSE`, ...).
    pub fn filter_name(self) -> &'static str {
        match self {
            Scope::Host => "SCOPE_HOST",
            Scope::Link => "SCOPE_LINK",
            Scope::Site => "SCOPE_SITE",
            Scope::Organization => "SCOPE_ORGANIZATION",
            Scope::Universe => "SCOPE_UNIVERSE",
            Scope::Undefined => "SCOPE_UNDEFINED",
        }
    }

    /// The scope named by a filter constant.
    pub fn from_filter_name(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.filter_name() == name)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The IGP metric value meaning "unknown" (BIRD's `IGP_METRIC_UNKNOWN`): shown as `?` in route rows
/// and `unknown` in BIRD 3 attribute lines. Any value at or above it counts as unknown.
pub const IGP_METRIC_UNKNOWN: u32 = 0x8000_0000;
