//! `show route export|noexport|preexport <p>[.<channel>]`: the routes protocol p's channels would
//! export, would reject, or would even offer to their export filter.
//!
//! ```text
//!  table ─► (net's routes) ─► channel exports? ─► preexport (not p's own routes) ─► p's export filter
//!                                   │ no: skipped          │ rejected: skipped        ├─ accepted: `export`
//!                                   ▼                      ▼                          └─ rejected: `noexport`
//! ```
//!
//! As in BIRD, a channel that exports only the best route looks at the first route of each net; a pipe
//! (all routes) looks at every one. The export filter runs on a copy: `show route export p all` shows
//! the attributes as the filter left them. Static, device and direct protocols export nothing, so their
//! channels never take part (without `table`, `show route export static1` has no valid table).
//!
//! The preexport check is the protocol's: routes that p imported itself are never offered back to it
//! (for kernel and BGP, routes whose source is p; for a pipe, routes the pipe copied into the table,
//! recognised by the copy one generation younger in the pipe's other table, and routes past the
//! pipe's generation limit).

use birdcli::{ChannelRef, ExportMode};
use birdconf::ast::{ProtoKind, ProtoSpecific};
use birdnet::Net;
use birdproto::{ChannelState, PState};
use birdtable::Route;

use crate::daemon::Daemon;
use crate::filter::RouteFilter;

/// One export channel of the protocol.
#[derive(Debug)]
pub struct ExportChannel {
    /// The table it exports from.
    pub table: String,
    /// Pipe: the table on the other side.
    pub other: Option<String>,
    /// Its export filter (for a pipe's peer side, the pipe's import filter).
    pub filter: RouteFilter,
    /// Whether it exports now (the protocol is up, the channel is up, and the protocol exports at all).
    pub up: bool,
    /// Every route of a net is offered (pipes), not only the best.
    pub all_routes: bool,
}

/// What `export|noexport|preexport p` looks through.
#[derive(Debug)]
pub struct ExportView {
    /// The mode.
    pub mode: ExportMode,
    /// The protocol.
    pub proto: String,
    /// Its kind.
    pub kind: ProtoKind,
    /// Its channels.
    pub channels: Vec<ExportChannel>,
}

impl ExportView {
    /// Tables listed without `table`: those of the channels that export.
    pub fn default_tables(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for c in self.channels.iter().filter(|c| c.up) {
            if !v.contains(&c.table) {
                v.push(c.table.clone());
            }
        }
        v
    }

    /// The channel exporting from `table`.
    pub fn channel(&self, table: &str) -> Option<&ExportChannel> {
        self.channels.iter().find(|c| c.table == table)
    }
}

/// Resolves `p[.channel]`; `Err` is the text of the `9001` reply.
pub fn view(d: &Daemon, mode: ExportMode, c: &ChannelRef) -> Result<ExportView, String> {
    if mode == ExportMode::Exported {
        return Err("show route exported is not available in this build".into());
    }
    let Some(e) = d.rt.proto(&c.protocol) else {
        return Err("syntax error, unexpected CF_SYM_UNDEFINED".into());
    };
    let st = e.handle.state();
    let running = st.as_ref().is_some_and(|s| s.state == PState::Up && !s.disabled);
    let chan_up = |i: usize| {
        running && st.as_ref().is_some_and(|s| s.channels.get(i).is_none_or(|c| c.state == ChannelState::Up))
    };
    let program = &d.rt.program;
    let compile = |spec| RouteFilter::from_spec(spec, program).map_err(|e| e.message);
    let cfg = &e.cfg;
    let mut channels = Vec::new();
    match (cfg.kind, &cfg.specific) {
        (ProtoKind::Pipe, ProtoSpecific::Pipe(pc)) => {
            if let (Some(ch), Some(peer)) = (cfg.channels.first(), pc.peer_table.as_ref()) {
                let up = chan_up(0) && chan_up(1);
                channels.push(ExportChannel {
                    table: ch.table.clone(),
                    other: Some(peer.clone()),
                    filter: compile(&ch.export)?,
                    up,
                    all_routes: true,
                });
                channels.push(ExportChannel {
                    table: peer.clone(),
                    other: Some(ch.table.clone()),
                    filter: compile(&ch.import)?,
                    up,
                    all_routes: true,
                });
            }
        }
        (kind, _) => {
            let exports = !matches!(kind, ProtoKind::Static | ProtoKind::Device | ProtoKind::Direct);
            for (i, ch) in cfg.channels.iter().enumerate() {
                if c.channel.as_ref().is_some_and(|n| *n != ch.net_type.to_string()) {
                    continue;
                }
                channels.push(ExportChannel {
                    table: ch.table.clone(),
                    other: None,
                    filter: compile(&ch.export)?,
                    up: exports && chan_up(i),
                    all_routes: false,
                });
            }
            if let Some(n) = &c.channel {
                if channels.is_empty() {
                    return Err(format!("Channel {}.{n} not found", c.protocol));
                }
            }
        }
    }
    Ok(ExportView { mode, proto: c.protocol.clone(), kind: cfg.kind, channels })
}

/// Whether the protocol would offer `r` (in `c.table`) to its export filter at all.
pub fn preexport(d: &Daemon, v: &ExportView, c: &ExportChannel, net: Net, r: &Route) -> bool {
    if v.kind != ProtoKind::Pipe {
        return r.src().source().name() != v.proto;
    }
    let g = r.generation();
    if g >= birdproto::pipe::DEFAULT_MAX_GENERATION {
        return false;
    }
    if g == 0 {
        return true;
    }
    // Copied in by this pipe: the other side holds the same route one generation earlier.
    let Some(other) = c.other.as_ref().and_then(|t| d.rt.tables.get(t)) else { return true };
    !other.routes(&net).iter().any(|o| o.src() == r.src() && o.generation() + 1 == g)
}
