//! `show route [all|count|stats] [table t|all] [protocol p] [for addr|prefix] [in prefix] [<prefix>]
//! [primary] [where expr|filter f]`.

use std::ops::ControlFlow;

use birdcli::format::routes::{BestMark, IgpMetric, NextHop, RouteCount, RouteDest, RouteRow, RouteShow};
use birdcli::{code, ExportMode, ForTarget, NetSelect, ReplyWriter, RouteQuery, StatsMode, TableSelect};
use birdnet::Net;
use birdtable::attrs::{AttrSet, AttrStyle, Dest};
use birdtable::{NetId, Route, Table};

use super::show_route_export::{self as export, ExportChannel, ExportView};
use crate::daemon::Daemon;
use crate::filter::{self, RouteFilter, StepBudget, RESTRICTED_COMMAND_STEPS};

fn dest(d: &Dest) -> RouteDest {
    match d {
        Dest::Unicast(hops) => RouteDest::Unicast(
            hops.iter()
                .map(|h| NextHop {
                    gateway: h.gw,
                    iface: h.iface.as_ref().map(|i| i.name().to_owned()).unwrap_or_else(|| "???".into()),
                    labels: Vec::new(),
                    onlink: h.onlink,
                    weight: (hops.len() > 1).then(|| u32::from(h.weight) + 1),
                })
                .collect(),
        ),
        Dest::Blackhole => RouteDest::Blackhole,
        Dest::Unreachable => RouteDest::Unreachable,
        Dest::Prohibit => RouteDest::Prohibit,
    }
}

/// The first gateway of `d` (`from` is shown only when it differs).
fn first_gateway(d: &Dest) -> Option<std::net::IpAddr> {
    match d {
        Dest::Unicast(h) => h.first().and_then(|h| h.gw),
        _ => None,
    }
}

/// The `/metric` BIRD 2 shows after a BGP route's preference (`bgp_get_route_info`): the IGP metric of
/// the route its next hop resolved through, `?` when that is unknown, nothing when it is 0 (direct).
fn igp_shown(a: &AttrSet) -> Option<IgpMetric> {
    if a.source != birdtable::attrs::RouteSource::Bgp {
        return None;
    }
    match a.igp_metric? {
        0 => None,
        m if m >= birdtable::attrs::IGP_METRIC_UNKNOWN => Some(IgpMetric::Unknown),
        m => Some(IgpMetric::Known(m)),
    }
}

fn row(r: &Route, a: &AttrSet, pref: u16, best: bool, verbose: bool) -> RouteRow {
    let from = a.from.filter(|f| Some(*f) != first_gateway(&a.dest));
    let details = if verbose {
        let mut v = Vec::new();
        a.detail_lines(AttrStyle::Bird2, pref, &mut v);
        v.into_iter().map(|l| (l.code, l.text)).collect()
    } else {
        Vec::new()
    };
    RouteRow {
        dest: dest(&a.dest),
        proto: r.src().source().name().to_owned(),
        since: crate::runtime::wall_of(birdloop::Time::from_nanos(u64::from(r.lastmod()) * 1_000_000_000)),
        from,
        best: if best { BestMark::Primary } else { BestMark::None },
        pref: u32::from(pref),
        igp_metric: igp_shown(a),
        suffix: a.bgp_summary(),
        details,
    }
}

/// BIRD 2's `net_hash` of a net (lib/net.h): its FIB keeps each hash chain sorted by it and walks the
/// chains in order, so `show route` lists nets by ascending hash.
pub(crate) fn fib_order(n: &Net) -> u32 {
    let len = u32::from(n.len()) << 26;
    match n.first() {
        std::net::IpAddr::V4(a) => u32::from(a).wrapping_mul(2_902_958_171) ^ len,
        std::net::IpAddr::V6(a) => {
            let b = u128::from(a);
            let x = (b >> 96) as u32 ^ (b >> 64) as u32 ^ (b >> 32) as u32 ^ b as u32;
            (x ^ (x << 16) ^ (x << 24)) ^ len
        }
    }
}

enum Select {
    All,
    Exact(Net),
    In(Net),
    ForAddr(std::net::IpAddr),
    ForNet(Net),
}

impl Select {
    fn considers(&self, n: &Net) -> bool {
        match self {
            Select::All => true,
            Select::Exact(x) => n == x,
            Select::In(x) => n.is_subnet_of(x),
            Select::ForAddr(a) => n.contains_addr(*a),
            Select::ForNet(x) => x.is_subnet_of(n),
        }
    }
    fn longest_only(&self) -> bool {
        matches!(self, Select::ForAddr(_) | Select::ForNet(_))
    }
}

fn syntax_error(w: &mut ReplyWriter) {
    w.finish(code::PARSE_ERROR, "syntax error, unexpected CF_SYM_UNDEFINED");
}

/// `export|noexport|preexport p` for one route: `None` when it is not shown, else the attributes after
/// p's export filter (when it changed them) and the preference; and whether the channel looks at no
/// further routes of the net (it exports only the best one).
fn export_check(
    d: &Daemon,
    v: &ExportView,
    c: &ExportChannel,
    net: Net,
    r: &Route,
) -> (Option<(Option<AttrSet>, u16)>, bool) {
    if !c.up {
        return (None, false);
    }
    let stop = !c.all_routes;
    if !export::preexport(d, v, c, net, r) {
        return (None, stop);
    }
    if v.mode == ExportMode::PreExport {
        return (Some((None, r.pref())), stop);
    }
    let proto = r.src().source().name();
    match c.filter.run(net, r.attrs(), r.pref(), proto) {
        Some(acc) if v.mode == ExportMode::Export => (Some((acc.attrs, acc.pref)), stop),
        None if v.mode == ExportMode::NoExport => (Some((None, r.pref())), stop),
        _ => (None, stop),
    }
}

/// Writes the reply.
pub fn run(d: &Daemon, q: &RouteQuery, restricted: bool, w: &mut ReplyWriter) {
    let limits = if restricted { birdfilter::Limits::RESTRICTED } else { birdfilter::Limits::DEFAULT };
    // A restricted session's command has one step budget for all its routes.
    let mut budget = restricted.then(|| StepBudget::new(RESTRICTED_COMMAND_STEPS));
    let view = match &q.export {
        Some((mode, c)) => match export::view(d, mode.clone(), c) {
            Ok(v) => Some(v),
            Err(e) => {
                w.finish(code::PARSE_ERROR, e);
                return;
            }
        },
        None => None,
    };
    let mut filters: Vec<RouteFilter> = Vec::new();
    for f in &q.filters {
        match filter::from_cli(f, &d.rt.config, &d.rt.program) {
            Ok(f) => filters.push(f),
            Err(e) => {
                w.finish(code::PARSE_ERROR, e);
                return;
            }
        }
    }
    if let Some(p) = &q.protocol {
        if d.rt.proto(p).is_none() {
            syntax_error(w);
            return;
        }
    }
    let sel = match &q.net {
        NetSelect::All => Select::All,
        NetSelect::Exact(n) => Select::Exact(*n),
        NetSelect::In(n) => Select::In(*n),
        NetSelect::For(ForTarget::Addr(a)) => Select::ForAddr(*a),
        NetSelect::For(ForTarget::Net(n)) => Select::ForNet(*n),
        NetSelect::For(ForTarget::Symbol(_)) => {
            w.finish(code::PARSE_ERROR, "show route for <constant> is not available in this build");
            return;
        }
    };
    let names: Vec<(String, bool)> = match &q.tables {
        TableSelect::All => d.rt.ordered_tables().map(|(n, _)| (n.to_owned(), false)).collect(),
        TableSelect::Named(v) => {
            if let Some(bad) = v.iter().find(|n| !d.rt.tables.contains_key(*n)) {
                let _ = bad;
                syntax_error(w);
                return;
            }
            v.iter().map(|n| (n.clone(), true)).collect()
        }
        // `export p`: the tables p's channels export from (channels that export at all).
        TableSelect::Default if view.is_some() => {
            view.iter().flat_map(|v| v.default_tables()).map(|t| (t, false)).collect()
        }
        TableSelect::Default => match &q.protocol {
            Some(p) => {
                d.rt.protos
                    .iter()
                    .filter(|x| &x.cfg.name == p)
                    .flat_map(|x| x.cfg.channels.iter().map(|c| (c.table.clone(), false)))
                    .fold(Vec::new(), |mut v: Vec<(String, bool)>, t| {
                        // Every table of the protocol's channels, once each.
                        if !v.contains(&t) {
                            v.push(t);
                        }
                        v
                    })
            }
            None => {
                d.rt.ordered_tables()
                    .filter(|(n, _)| *n == "master4" || *n == "master6")
                    .map(|(n, _)| (n.to_owned(), false))
                    .collect()
            }
        },
    };
    // Every table needs the export channel of `export p` for it; tables without one are left out, or an
    // error when named.
    let mut names = names;
    if let Some(v) = &view {
        if let Some((n, _)) = names.iter().find(|(n, explicit)| *explicit && v.channel(n).is_none()) {
            w.finish_fmt(code::PARSE_ERROR, format_args!("No export channel for table {n}"));
            return;
        }
        names.retain(|(n, _)| v.channel(n).is_some());
        if names.is_empty() {
            w.finish(code::PARSE_ERROR, "No valid tables");
            return;
        }
    }
    // A net type mismatch skips a table (`show route for 2001:db8::1` looks only at IPv6 tables).
    let family_ok = |t: &Table| match &sel {
        Select::All => true,
        Select::Exact(n) | Select::In(n) | Select::ForNet(n) => n.net_type() == t.net_type(),
        Select::ForAddr(a) => a.is_ipv4() == (t.net_type() == birdnet::NetType::Ipv4),
    };
    // The reply is written as the tables are read: per table, the nets that qualify are collected
    // (ids and prefixes only, to sort them in BIRD's order), then each net's current list is read and
    // its rows written at once. No copy of the routes is held, and a reply cut by a restricted session's
    // cap stops the listing there.
    let tc = super::time_context(d);
    let lookup = matches!(sel, Select::Exact(_) | Select::ForAddr(_) | Select::ForNet(_));
    let lookup = lookup && q.stats == StatsMode::None;
    let mut show = RouteShow::new(if lookup { StatsMode::None } else { q.stats }, q.verbose);
    let mut found = false;
    for (name, explicit) in names {
        let Some(t) = d.rt.tables.get(&name) else { continue };
        show.begin_table(w, &name, explicit && !lookup);
        let mut count = RouteCount::default();
        if family_ok(t) {
            let mut nets: Vec<(u32, NetId, Net)> = Vec::new();
            t.walk(|id, l| {
                let net = l.net();
                // A lookup finds the longest prefix with a usable route (one kept only as filtered does
                // not hide a shorter one).
                let usable = !sel.longest_only() || q.filtered || l.routes().iter().any(Route::is_valid);
                if usable && sel.considers(&net) {
                    nets.push((fib_order(&net), id, net));
                }
                ControlFlow::Continue(())
            });
            if sel.longest_only() {
                if let Some(best) = nets.iter().map(|(_, _, n)| n.len()).max() {
                    nets.retain(|(_, _, n)| n.len() == best);
                }
            }
            // BIRD lists a table in the order of its FIB hash chains (ascending `net_hash`).
            nets.sort_by_key(|&(h, _, _)| h);
            let ec = view.as_ref().and_then(|v| v.channel(&name).map(|c| (v, c)));
            for (_, id, net) in nets {
                // The net's current routes (one net's worth of clones: the export checks below take
                // table locks, which must not be taken inside the table's read section).
                let routes = t.with_net(id, |l| {
                    // The net may have lost its routes (or its id gone to another net) since the walk.
                    l.filter(|l| l.net() == net).map(|l| l.routes().to_vec())
                });
                let Some(routes) = routes else { continue };
                // `filtered` shows only the routes an import filter rejected (`import keep filtered`);
                // every other listing only the others.
                let considered: Vec<(usize, &Route)> =
                    routes.iter().enumerate().filter(|(_, r)| r.is_valid() != q.filtered).collect();
                if considered.is_empty() {
                    continue;
                }
                found = true;
                count.networks += 1;
                count.routes += considered.len() as u64;
                let mut rows = Vec::new();
                for (i, r) in considered {
                    // Channels exporting only the best route look at the first route and stop there.
                    let (shown, stop) = match ec {
                        Some((v, c)) => export_check(d, v, c, net, r),
                        None => (Some((None, r.pref())), false),
                    };
                    if let Some((changed, pref)) = shown {
                        let attrs: &AttrSet = changed.as_ref().unwrap_or(r.attrs());
                        let proto = r.src().source().name();
                        let ok = q.protocol.as_ref().is_none_or(|p| p == proto)
                            && filters.iter().all(|f| match &mut budget {
                                Some(b) => f.run_budgeted(net, attrs, pref, proto, limits, b).is_some(),
                                None => f.run_with(net, attrs, pref, proto, limits).is_some(),
                            });
                        if ok {
                            rows.push(row(r, attrs, pref, i == 0, q.verbose));
                        }
                    }
                    if stop || q.primary {
                        break;
                    }
                }
                if budget.as_ref().is_some_and(StepBudget::exhausted) {
                    w.finish_fmt(
                        code::RUNTIME_ERROR,
                        format_args!(
                            "Filter steps of a restricted session exhausted ({RESTRICTED_COMMAND_STEPS} \
                             per command); narrow the query"
                        ),
                    );
                    return;
                }
                count.shown += rows.len() as u64;
                show.net(w, &net, &rows, &tc);
                if w.over_limit() {
                    // The rest would be dropped anyway: end the reply (`8000 Reply too long`).
                    w.finish(code::OK, "");
                    return;
                }
            }
        }
        if !lookup {
            show.end_table(w, count);
        }
    }
    if lookup {
        show.finish_lookup(w, found);
    } else {
        show.finish(w);
    }
}
