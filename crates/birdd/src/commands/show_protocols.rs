//! `show protocols [all] [name|"pattern"]`, from the protocols' published states.

use birdcli::format::protocols::{
    show_protocols, show_protocols_all, ChannelInfo, ChannelStats, DetailItem, PipeInfo, PipeStats,
    ProtocolDetails, ProtocolRow, RouteCounts, StatRow,
};
use birdcli::{code, Dialect, ProtoTarget, ReplyWriter};
use birdproto::published::{ChannelInfo as PubChannel, ProtoState, StatRow as PubRow};
use birdproto::PState;

use crate::daemon::Daemon;
use crate::runtime::{wall_of, ProtoEntry};

fn row(s: &ProtoState) -> ProtocolRow {
    let info = match &s.last_error {
        Some(e) if !e.is_empty() => format!("{}{e}", s.info),
        _ => s.info.clone(),
    };
    ProtocolRow {
        name: s.name.to_string(),
        proto: s.proto.to_owned(),
        table: s.table.clone(),
        state: s.state_name().to_owned(),
        since: wall_of(s.since),
        info,
    }
}

fn stat(r: PubRow) -> StatRow {
    StatRow {
        received: r.received,
        rejected: r.rejected,
        filtered: r.filtered,
        ignored: r.ignored,
        rx_limit: r.rx_limit,
        limit: r.limit,
        accepted: r.accepted,
    }
}

fn limit(l: &Option<birdproto::published::LimitInfo>) -> Option<birdcli::format::protocols::LimitInfo> {
    l.as_ref().map(|l| birdcli::format::protocols::LimitInfo {
        limit: l.limit.max,
        hit: l.hit,
        action: format!("{:?}", l.limit.action).to_lowercase(),
    })
}

/// Whether the protocol's configuration gives channel `c` `import keep filtered` (BIRD then shows the
/// count of filtered routes on the `Routes:` line).
fn keeps_filtered(e: &ProtoEntry, c: &PubChannel) -> bool {
    e.cfg.channels.iter().any(|ch| ch.import_keep_filtered && ch.table == c.table)
}

fn channel(d: &Daemon, e: &ProtoEntry, c: &PubChannel, up: bool) -> ChannelInfo {
    let st = c.counters.stats();
    let r = c.counters.routes();
    let preferred = d.rt.tables.get(&c.table).map(|t| e.handle.preferred_routes(t)).unwrap_or(0);
    ChannelInfo {
        name: c.name.clone(),
        state: c.state.name().to_owned(),
        import_state: None,
        export_state: None,
        table: c.table.clone(),
        preference: u32::from(c.preference),
        input_filter: c.input_filter.clone(),
        output_filter: c.output_filter.clone(),
        receive_limit: limit(&c.receive_limit),
        import_limit: limit(&c.import_limit),
        export_limit: limit(&c.export_limit),
        routes: up.then_some(RouteCounts {
            imported: r.imported,
            filtered: keeps_filtered(e, c).then_some(r.filtered),
            exported: r.exported,
            preferred,
        }),
        stats: ChannelStats {
            import_updates: stat(st.import_updates),
            import_withdraws: stat(st.import_withdraws),
            export_updates: stat(st.export_updates),
            export_withdraws: stat(st.export_withdraws),
        },
        extra: c.extra.clone(),
    }
}

/// `l` with the value between column 22 and the `/` replaced by `remaining` (see
/// [`ProtoState::live_timers`]).
fn live_timer_line(l: &str, remaining: f64) -> String {
    match (l.get(..22), l[22.min(l.len())..].find('/')) {
        (Some(head), Some(slash)) => format!("{head}{remaining:.3}{}", &l[22 + slash..]),
        _ => l.to_owned(),
    }
}

fn details(d: &Daemon, e: &ProtoEntry, s: &ProtoState) -> ProtocolDetails {
    let mut det = ProtocolDetails {
        description: e.cfg.description.clone(),
        message: s.message.clone(),
        ..ProtocolDetails::default()
    };
    let now = birdloop::Time::now_monotonic();
    for (i, l) in s.details.iter().enumerate() {
        let live = s.live_timers.iter().find(|(j, _)| *j == i).map(|&(_, at)| at);
        det.body.push(DetailItem::Line(match live {
            Some(at) => live_timer_line(l, at.saturating_since(now).as_secs_f64()),
            None => l.clone(),
        }));
    }
    let up = s.state == PState::Up;
    if s.proto == "Pipe" && s.channels.len() == 2 {
        // Channel 0 sits on `table` and exports through the pipe's export filter into the peer table;
        // channel 1 sits on the peer table and exports through the import filter.
        let (a, b) = (&s.channels[0], &s.channels[1]);
        let (sa, sb) = (a.counters.stats(), b.counters.stats());
        let (ra, rb) = (a.counters.routes(), b.counters.routes());
        let state = |c: &PubChannel| if c.state == birdproto::ChannelState::Up { "up" } else { "down" };
        det.body.push(DetailItem::Pipe(PipeInfo {
            table: a.table.clone(),
            peer_table: b.table.clone(),
            import_state: state(b).into(),
            export_state: state(a).into(),
            import_filter: b.output_filter.clone(),
            export_filter: a.output_filter.clone(),
            routes: up.then(|| {
                (
                    ra.imported,
                    rb.imported,
                    PipeStats {
                        import_updates: stat(sb.export_updates),
                        import_withdraws: stat(sb.export_withdraws),
                        export_updates: stat(sa.export_updates),
                        export_withdraws: stat(sa.export_withdraws),
                    },
                )
            }),
        }));
    } else {
        for c in &s.channels {
            det.body.push(DetailItem::Channel(channel(d, e, c, up)));
        }
    }
    det
}

/// Writes the reply.
pub fn run(d: &Daemon, all: bool, target: Option<&ProtoTarget>, w: &mut ReplyWriter) {
    let idx: Vec<usize> = match target {
        None => (0..d.rt.protos.len()).collect(),
        Some(t) => match super::actions::select(d, t) {
            Ok(v) => v,
            Err((c, t)) => {
                w.finish(c, t);
                return;
            }
        },
    };
    let pattern = matches!(target, Some(ProtoTarget::Pattern(_)));
    let tc = super::time_context(d);
    if idx.is_empty() && !pattern && target.is_some() {
        w.finish(code::NO_PROTOCOLS_MATCH, "No protocols match");
        return;
    }
    let states: Vec<(&ProtoEntry, std::sync::Arc<ProtoState>)> = idx
        .iter()
        .filter_map(|&i| {
            let e = &d.rt.protos[i];
            e.handle.state().map(|s| (e, s))
        })
        .collect();
    if all {
        let v: Vec<_> = states.iter().map(|(e, s)| (row(s), details(d, e, s))).collect();
        show_protocols_all(w, &v, pattern, Dialect::Bird2, &tc);
    } else {
        let v: Vec<_> = states.iter().map(|(_, s)| row(s)).collect();
        show_protocols(w, &v, pattern, &tc);
    }
}
