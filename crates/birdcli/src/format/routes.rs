//! `show route [...]`, including `count`/`stats` and `for`/`<prefix>` lookups.
//!
//! [`RouteShow`] is a small state machine mirroring BIRD's listing: the
//! daemon walks its tables and feeds nets; the machine prints `Table X:`
//! headers lazily (eagerly for explicitly named tables), the separator
//! between tables, per-table counts and the final `0000`/`0014`/`8001` line.

use std::net::IpAddr;

use birdnet::{DisplayIp, Net};

use crate::command::StatsMode;
use crate::reply::{code, ReplyWriter};
use crate::time::{TimeContext, WallTime};

/// Destination of a route (`rta_dest_name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteDest {
    /// `unicast` with next hops.
    Unicast(Vec<NextHop>),
    /// `blackhole`
    Blackhole,
    /// `unreachable`
    Unreachable,
    /// `prohibit`
    Prohibit,
    /// Anything else, by name (`multicast`, ...), no next hops printed.
    Other(String),
}

impl RouteDest {
    /// The type word.
    pub fn name(&self) -> &str {
        match self {
            RouteDest::Unicast(_) => "unicast",
            RouteDest::Blackhole => "blackhole",
            RouteDest::Unreachable => "unreachable",
            RouteDest::Prohibit => "prohibit",
            RouteDest::Other(s) => s,
        }
    }
}

/// One next hop line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
    /// Gateway (`via`), or `None` for a direct `dev` route.
    pub gateway: Option<IpAddr>,
    /// Interface name.
    pub iface: String,
    /// MPLS label stack.
    pub labels: Vec<u32>,
    /// `onlink`.
    pub onlink: bool,
    /// ECMP weight as printed (BIRD prints `weight + 1`; only for multipath `via`).
    pub weight: Option<u32>,
}

/// IGP metric shown as `(pref/igp)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgpMetric {
    /// Known metric.
    Known(u32),
    /// `?`
    Unknown,
}

/// Best-route mark after the `[...]` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BestMark {
    /// Not the primary route.
    #[default]
    None,
    /// ` *`
    Primary,
    /// ` !` (primary, but not in sync with the kernel)
    SyncError,
}

/// One route of a net.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRow {
    /// Destination and next hops.
    pub dest: RouteDest,
    /// Source protocol name.
    pub proto: String,
    /// Last modification.
    pub since: WallTime,
    /// `from <ip>` (give it only when it differs from the first gateway).
    pub from: Option<IpAddr>,
    /// ` *` / ` !`.
    pub best: BestMark,
    /// Preference.
    pub pref: u32,
    /// IGP metric (BGP routes), printed as `/n` or `/?`.
    pub igp_metric: Option<IgpMetric>,
    /// Suffix after the `(...)`, e.g. `[AS65002i]` (BGP).
    pub suffix: Option<String>,
    /// `all` detail lines, pre-rendered by the attribute layer: `(code, text)`.
    pub details: Vec<(u16, String)>,
}

fn write_route(w: &mut ReplyWriter, prefix: &str, r: &RouteRow, verbose: bool, tc: &TimeContext) {
    let mut info = format!(" ({}", r.pref);
    match r.igp_metric {
        Some(IgpMetric::Known(m)) => info.push_str(&format!("/{m})")),
        Some(IgpMetric::Unknown) => info.push_str("/?)"),
        None => info.push(')'),
    }
    if let Some(s) = &r.suffix {
        info.push(' ');
        info.push_str(s);
    }
    let from = r.from.map(|a| format!(" from {}", DisplayIp(a))).unwrap_or_default();
    let best = match r.best {
        BestMark::None => "",
        BestMark::Primary => " *",
        BestMark::SyncError => " !",
    };
    w.line_fmt(
        code::ROUTE,
        format_args!("{prefix:<20} {} [{} {}{from}]{best}{info}", r.dest.name(), r.proto, tc.route(r.since)),
    );
    if let RouteDest::Unicast(nhs) = &r.dest {
        for nh in nhs {
            let mut mpls = String::new();
            for (i, l) in nh.labels.iter().enumerate() {
                mpls.push_str(if i == 0 { " mpls " } else { "/" });
                mpls.push_str(&l.to_string());
            }
            let onlink = if nh.onlink { " onlink" } else { "" };
            match nh.gateway {
                Some(gw) => {
                    let weight = nh.weight.map(|x| format!(" weight {x}")).unwrap_or_default();
                    w.line_fmt(
                        code::ROUTE,
                        format_args!("\tvia {} on {}{mpls}{onlink}{weight}", DisplayIp(gw), nh.iface),
                    );
                }
                None => w.line_fmt(code::ROUTE, format_args!("\tdev {}{mpls}{onlink}", nh.iface)),
            }
        }
    }
    if verbose {
        for (c, t) in &r.details {
            w.line(*c, t);
        }
    }
}

/// Counts of one table for `count`/`stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RouteCount {
    /// Routes shown (matching all options).
    pub shown: u64,
    /// Routes considered.
    pub routes: u64,
    /// Networks considered.
    pub networks: u64,
}

impl std::ops::AddAssign for RouteCount {
    fn add_assign(&mut self, o: Self) {
        self.shown += o.shown;
        self.routes += o.routes;
        self.networks += o.networks;
    }
}

/// Listing state for one `show route` reply.
///
/// ```
/// use birdcli::format::routes::{RouteShow, RouteCount};
/// use birdcli::{ReplyWriter, StatsMode};
/// let mut w = ReplyWriter::new();
/// let mut s = RouteShow::new(StatsMode::Count, false);
/// s.begin_table(&mut w, "master4", false);
/// s.end_table(&mut w, RouteCount { shown: 3, routes: 10, networks: 9 });
/// s.finish(&mut w);
/// assert_eq!(w.as_bytes(), b"1007-3 of 10 routes for 9 networks in table master4\n0000 \n");
/// ```
#[derive(Debug, Clone)]
pub struct RouteShow {
    stats: StatsMode,
    verbose: bool,
    current: Option<String>,
    header_printed: bool,
    any_header: bool,
    tables: u64,
    total: RouteCount,
}

impl RouteShow {
    /// A listing with the given counting mode and `all` flag.
    pub fn new(stats: StatsMode, verbose: bool) -> Self {
        RouteShow {
            stats,
            verbose,
            current: None,
            header_printed: false,
            any_header: false,
            tables: 0,
            total: RouteCount::default(),
        }
    }

    fn header(&mut self, w: &mut ReplyWriter) {
        if self.stats == StatsMode::Count || self.header_printed {
            return;
        }
        if self.any_header {
            w.separator(code::ROUTE);
        }
        let name = self.current.as_deref().unwrap_or("");
        w.line_fmt(code::ROUTE, format_args!("Table {name}:"));
        self.header_printed = true;
        self.any_header = true;
    }

    /// Starts a table. `explicit` (named with `table`) prints its header even if empty.
    pub fn begin_table(&mut self, w: &mut ReplyWriter, name: &str, explicit: bool) {
        self.current = Some(name.to_owned());
        self.header_printed = false;
        self.tables += 1;
        if explicit {
            self.header(w);
        }
    }

    /// Prints the routes of one net that passed every selection, best first
    /// (the first carries the prefix, the others a blank column).
    pub fn net(&mut self, w: &mut ReplyWriter, net: &Net, routes: &[RouteRow], tc: &TimeContext) {
        if routes.is_empty() || self.stats == StatsMode::Count {
            return;
        }
        self.header(w);
        let p = net.to_string();
        for (i, r) in routes.iter().enumerate() {
            write_route(w, if i == 0 { &p } else { "" }, r, self.verbose, tc);
        }
    }

    /// Ends the current table with its counts (printed in `count`/`stats` mode).
    pub fn end_table(&mut self, w: &mut ReplyWriter, count: RouteCount) {
        if self.stats != StatsMode::None {
            self.header(w);
            let name = self.current.as_deref().unwrap_or("");
            w.line_fmt(
                code::ROUTE,
                format_args!(
                    "{} of {} routes for {} networks in table {name}",
                    count.shown, count.routes, count.networks
                ),
            );
        }
        self.total += count;
    }

    /// Ends a full listing: `0014 Total: ...` after several tables in
    /// `count`/`stats` mode, else `0000␠`.
    pub fn finish(self, w: &mut ReplyWriter) {
        if self.stats != StatsMode::None && self.tables > 1 {
            if self.any_header {
                w.separator(code::ROUTE);
            }
            let t = self.total;
            w.finish_fmt(
                code::TOTAL,
                format_args!(
                    "Total: {} of {} routes for {} networks in {} tables",
                    t.shown, t.routes, t.networks, self.tables
                ),
            );
        } else {
            w.finish(code::OK, "");
        }
    }

    /// Ends a `for`/`<prefix>` lookup: `0000␠` if the net had any route at
    /// all (even if every route was filtered out), else `8001 Network not found`.
    pub fn finish_lookup(self, w: &mut ReplyWriter, found: bool) {
        if found {
            w.finish(code::OK, "");
        } else {
            w.finish(code::NETWORK_NOT_FOUND, "Network not found");
        }
    }
}

/// Routes of one net, for [`show_route`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetRoutes {
    /// The network.
    pub net: Net,
    /// Routes to show, best first.
    pub routes: Vec<RouteRow>,
}

/// One table of a complete listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRoutes {
    /// Table name.
    pub name: String,
    /// Named explicitly with `table`.
    pub explicit: bool,
    /// Nets in display order.
    pub nets: Vec<NetRoutes>,
    /// Counts (used in `count`/`stats` mode).
    pub count: RouteCount,
}

/// Writes a complete `show route` listing from collected data.
pub fn show_route(
    w: &mut ReplyWriter,
    tables: &[TableRoutes],
    stats: StatsMode,
    verbose: bool,
    tc: &TimeContext,
) {
    let mut s = RouteShow::new(stats, verbose);
    for t in tables {
        s.begin_table(w, &t.name, t.explicit);
        for n in &t.nets {
            s.net(w, &n.net, &n.routes, tc);
        }
        s.end_table(w, t.count);
    }
    s.finish(w);
}

/// Writes a complete `show route for|<prefix>` answer; `found` as in [`RouteShow::finish_lookup`].
pub fn show_route_lookup(
    w: &mut ReplyWriter,
    tables: &[TableRoutes],
    verbose: bool,
    found: bool,
    tc: &TimeContext,
) {
    let mut s = RouteShow::new(StatsMode::None, verbose);
    for t in tables {
        s.begin_table(w, &t.name, false);
        for n in &t.nets {
            s.net(w, &n.net, &n.routes, tc);
        }
    }
    s.finish_lookup(w, found);
}

/// One route of `show static`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticRoute {
    /// The network.
    pub net: Net,
    /// Target.
    pub target: StaticTarget,
}

/// Target of a static route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaticTarget {
    /// Next hops (one or more).
    NextHops(Vec<StaticNextHop>),
    /// `recursive <ip>`
    Recursive(IpAddr),
    /// `blackhole`, `unreachable`, `prohibit`.
    Special(String),
}

/// A configured static next hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticNextHop {
    /// Gateway; `None` with an interface gives a `dev` line.
    pub via: Option<IpAddr>,
    /// Interface (`via 192.0.2.1%eth0` when both are given).
    pub iface: Option<String>,
    /// `onlink`
    pub onlink: bool,
    /// BFD requested (` (bfd)`).
    pub bfd: bool,
    /// Whether the next hop is active (else ` (dormant)`).
    pub active: bool,
}

/// Writes the whole `show static` reply.
pub fn show_static(w: &mut ReplyWriter, routes: &[StaticRoute]) {
    let c = code::STATIC;
    for r in routes {
        match &r.target {
            StaticTarget::NextHops(nhs) => {
                w.line_fmt(c, format_args!("{}", r.net));
                for nh in nhs {
                    match (nh.via, &nh.iface) {
                        (None, Some(i)) => w.line_fmt(c, format_args!("\tdev {i}")),
                        (via, iface) => {
                            let ip = via.map(|a| DisplayIp(a).to_string()).unwrap_or_default();
                            let iface = iface.as_ref().map(|i| format!("%{i}")).unwrap_or_default();
                            w.line_fmt(
                                c,
                                format_args!(
                                    "\tvia {ip}{iface}{}{}{}",
                                    if nh.onlink { " onlink" } else { "" },
                                    if nh.bfd { " (bfd)" } else { "" },
                                    if nh.active { "" } else { " (dormant)" }
                                ),
                            );
                        }
                    }
                }
            }
            StaticTarget::Recursive(a) => {
                w.line_fmt(c, format_args!("{}\trecursive {}", r.net, DisplayIp(*a)))
            }
            StaticTarget::Special(s) => w.line_fmt(c, format_args!("{}\t{s}", r.net)),
        }
    }
    w.finish(code::OK, "");
}
