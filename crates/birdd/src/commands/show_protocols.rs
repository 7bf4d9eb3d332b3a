//! `show protocols [all] [name|"pattern"]`.

use birdcli::format::protocols::{
    show_protocols, show_protocols_all, ChannelInfo, ChannelStats, DetailItem, PipeInfo, PipeStats,
    ProtocolDetails, ProtocolRow, RouteCounts, StatRow,
};
use birdcli::{code, Dialect, ProtoTarget, ReplyWriter};
use birdnet::NetType;
use birdproto::state::PState;
use birdtable::RouteSrc;

use crate::daemon::Daemon;
use crate::protocols::{type_name, Counters, ProtoImpl, ProtoRt};

fn row(p: &ProtoRt) -> ProtocolRow {
    let (table, info) = match &p.imp {
        ProtoImpl::Pipe(_) => {
            ("---".to_owned(), format!("{} <=> {}", p.table_name(), p.peer_table().unwrap_or("")))
        }
        ProtoImpl::Static(_) => (p.table_name().to_owned(), String::new()),
    };
    ProtocolRow {
        name: p.cfg.name.clone(),
        proto: type_name(&p.cfg).to_owned(),
        table,
        state: p.state.name().to_owned(),
        since: p.since,
        info,
    }
}

fn import_stats(c: &Counters) -> (StatRow, StatRow) {
    (
        StatRow {
            received: c.imp_received,
            filtered: c.imp_filtered,
            accepted: c.imp_accepted,
            ..StatRow::default()
        },
        StatRow {
            received: c.imp_withdraw_received,
            accepted: c.imp_withdraw_accepted,
            ..StatRow::default()
        },
    )
}

fn export_stats(c: &Counters) -> (StatRow, StatRow) {
    (
        StatRow {
            received: c.exp_received,
            filtered: c.exp_filtered,
            accepted: c.exp_accepted,
            ..StatRow::default()
        },
        StatRow { received: c.exp_withdraws, accepted: c.exp_withdraws, ..StatRow::default() },
    )
}

fn details(d: &Daemon, p: &ProtoRt) -> ProtocolDetails {
    let mut det = ProtocolDetails {
        description: p.cfg.description.clone(),
        message: p.message.clone(),
        ..ProtocolDetails::default()
    };
    let up = p.state == PState::Up;
    let (iu, iw) = import_stats(&p.counters);
    let (eu, ew) = export_stats(&p.counters);
    match &p.imp {
        ProtoImpl::Static(s) => {
            let ch = p.cfg.channels.first();
            let name = match ch.map(|c| c.net_type) {
                Some(NetType::Ipv6) => "ipv6",
                _ => "ipv4",
            };
            let routes = up.then(|| {
                let src = RouteSrc::new(&s.source, 0);
                let table = d.rt.tables.get(p.table_name());
                let preferred = s
                    .installed
                    .keys()
                    .filter(|n| table.and_then(|t| t.best(n)).is_some_and(|b| b.src() == &src))
                    .count() as u64;
                RouteCounts { imported: s.installed.len() as u64, filtered: None, exported: 0, preferred }
            });
            det.body.push(DetailItem::Channel(ChannelInfo {
                name: name.into(),
                state: if up { "UP".into() } else { "DOWN".into() },
                import_state: None,
                export_state: None,
                table: p.table_name().to_owned(),
                preference: u32::from(p.preference()),
                input_filter: p.import.display_name(),
                output_filter: p.export.display_name(),
                receive_limit: None,
                import_limit: None,
                export_limit: None,
                routes,
                stats: ChannelStats {
                    import_updates: iu,
                    import_withdraws: iw,
                    export_updates: eu,
                    export_withdraws: ew,
                },
                extra: Vec::new(),
            }));
        }
        ProtoImpl::Pipe(pp) => {
            let st = if up { "up" } else { "down" };
            let routes = match (&pp.fwd, &pp.rev) {
                (Some(f), Some(r)) => Some((
                    r.exported.len() as u64,
                    f.exported.len() as u64,
                    PipeStats {
                        import_updates: iu,
                        import_withdraws: iw,
                        export_updates: eu,
                        export_withdraws: ew,
                    },
                )),
                _ => None,
            };
            det.body.push(DetailItem::Pipe(PipeInfo {
                table: p.table_name().to_owned(),
                peer_table: p.peer_table().unwrap_or("").to_owned(),
                import_state: st.into(),
                export_state: st.into(),
                import_filter: p.import.display_name(),
                export_filter: p.export.display_name(),
                routes,
            }));
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
    if all {
        let v: Vec<_> = idx.iter().map(|&i| (row(&d.rt.protos[i]), details(d, &d.rt.protos[i]))).collect();
        show_protocols_all(w, &v, pattern, Dialect::Bird2, &tc);
    } else {
        let v: Vec<_> = idx.iter().map(|&i| row(&d.rt.protos[i])).collect();
        show_protocols(w, &v, pattern, &tc);
    }
}
