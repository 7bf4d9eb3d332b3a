//! `show protocols [all]`.
//!
//! ```text
//! 2002-Name       Proto      Table      State  Since         Info
//! 1002-peer_b4    BGP        ---        up     2026-11-21 10:59:07  Established␠␠␠
//! 1006-  Description:    birdB IPv4 session
//!    BGP state:          Established        <- protocol-specific lines
//!    Channel ipv4                            <- ChannelInfo
//!  ␠                                         <- separator after each protocol
//! 0000␠
//! ```

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use super::Dialect;
use crate::reply::{code, ReplyWriter};
use crate::time::{TimeContext, WallTime};

/// One row of the protocol list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolRow {
    /// Protocol name.
    pub name: String,
    /// Protocol type as BIRD spells it (`BGP`, `Kernel`, `Pipe`, ...).
    pub proto: String,
    /// Table of the single channel, or `---`.
    pub table: String,
    /// `up`, `down`, `start`, `stop`.
    pub state: String,
    /// Time of the last state change.
    pub since: WallTime,
    /// Info column (e.g. `Established   `, `master4 <=> lg4`); trailing spaces kept.
    pub info: String,
}

/// The `2002` header text.
pub fn header_text() -> String {
    row_text("Name", "Proto", "Table", "State", "Since", "Info")
}

fn row_text(a: &str, b: &str, c: &str, d: &str, e: &str, f: &str) -> String {
    format!("{a:<10} {b:<10} {c:<10} {d:<6} {e:<12}  {f}")
}

/// The `1002` row text.
pub fn row(r: &ProtocolRow, tc: &TimeContext) -> String {
    row_text(&r.name, &r.proto, &r.table, &r.state, &tc.protocol(r.since), &r.info)
}

/// A receive/import/export limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitInfo {
    /// The limit.
    pub limit: u32,
    /// Whether it is hit (` [HIT]`).
    pub hit: bool,
    /// `warn`, `block`, `restart`, `disable`.
    pub action: String,
}

/// Route counts of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RouteCounts {
    /// Imported.
    pub imported: u64,
    /// Filtered (printed only with `import keep filtered`).
    pub filtered: Option<u64>,
    /// Exported.
    pub exported: u64,
    /// Preferred.
    pub preferred: u64,
}

/// One row of route change statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatRow {
    /// received
    pub received: u64,
    /// rejected
    pub rejected: u64,
    /// filtered
    pub filtered: u64,
    /// ignored
    pub ignored: u64,
    /// RX limit (BIRD 3)
    pub rx_limit: u64,
    /// limit (BIRD 3)
    pub limit: u64,
    /// accepted
    pub accepted: u64,
}

/// Route change statistics of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChannelStats {
    /// Import updates.
    pub import_updates: StatRow,
    /// Import withdraws.
    pub import_withdraws: StatRow,
    /// Export updates.
    pub export_updates: StatRow,
    /// Export withdraws.
    pub export_withdraws: StatRow,
}

/// A channel block (`  Channel ipv4` ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelInfo {
    /// Channel name (`ipv4`).
    pub name: String,
    /// `UP`, `DOWN`, `START`, `FLUSHING`.
    pub state: String,
    /// BIRD 3: import state (`UP`, `DOWN`, ...).
    pub import_state: Option<String>,
    /// BIRD 3: export state (`READY`, `DOWN`, ...).
    pub export_state: Option<String>,
    /// Table name.
    pub table: String,
    /// Preference.
    pub preference: u32,
    /// Import filter name (`ACCEPT`, `REJECT`, `(unnamed)`, a name).
    pub input_filter: String,
    /// Export filter name.
    pub output_filter: String,
    /// `receive limit`.
    pub receive_limit: Option<LimitInfo>,
    /// `import limit`.
    pub import_limit: Option<LimitInfo>,
    /// `export limit`.
    pub export_limit: Option<LimitInfo>,
    /// Route counts; `None` when the channel is down (then no stats either).
    pub routes: Option<RouteCounts>,
    /// Statistics (printed with `routes`).
    pub stats: ChannelStats,
    /// Protocol-specific lines after the channel block, with their indentation
    /// (`    BGP Next hop:   192.0.2.2`).
    pub extra: Vec<String>,
}

/// One pipe direction pair of statistics, as `show protocols all` of a pipe prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PipeStats {
    /// Import updates (received, rejected, filtered, ignored, accepted used).
    pub import_updates: StatRow,
    /// Import withdraws.
    pub import_withdraws: StatRow,
    /// Export updates.
    pub export_updates: StatRow,
    /// Export withdraws.
    pub export_withdraws: StatRow,
}

/// A pipe's `Channel main` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipeInfo {
    /// Primary table.
    pub table: String,
    /// Peer table.
    pub peer_table: String,
    /// Import state text (`up` in BIRD 2, `READY` in BIRD 3).
    pub import_state: String,
    /// Export state text.
    pub export_state: String,
    /// Import filter name.
    pub import_filter: String,
    /// Export filter name.
    pub export_filter: String,
    /// `(imported, exported)` and stats; `None` when the pipe is down.
    pub routes: Option<(u64, u64, PipeStats)>,
}

/// A piece of the detail block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetailItem {
    /// A protocol-specific line with its indentation (`  BGP state:          Established`).
    Line(String),
    /// A channel block.
    Channel(ChannelInfo),
    /// A pipe block.
    Pipe(PipeInfo),
}

/// `show protocols all` details of one protocol.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProtocolDetails {
    /// `description`.
    pub description: Option<String>,
    /// BIRD 3: creation time (`Created:`).
    pub created: Option<WallTime>,
    /// Last state message (`Message:`).
    pub message: Option<String>,
    /// Configured router ID.
    pub router_id: Option<Ipv4Addr>,
    /// VRF (`default` when set without a device).
    pub vrf: Option<String>,
    /// Protocol lines and channels in display order.
    pub body: Vec<DetailItem>,
}

/// Writes the `2002` header (the start of every listing).
pub fn write_header(w: &mut ReplyWriter) {
    w.line(code::PROTO_HEADER, header_text());
}

/// Writes one `1002` row.
pub fn write_row(w: &mut ReplyWriter, r: &ProtocolRow, tc: &TimeContext) {
    w.line(code::PROTO_ROW, row(r, tc));
}

/// Writes a row with its `1006` details and the closing separator.
pub fn write_row_details(
    w: &mut ReplyWriter,
    r: &ProtocolRow,
    d: &ProtocolDetails,
    dialect: Dialect,
    tc: &TimeContext,
) {
    write_row(w, r, tc);
    let c = code::PROTO_DETAIL;
    let label = |name: &str| -> String {
        match dialect {
            Dialect::Bird2 => format!("  {name:<16}"),
            Dialect::Bird3 => format!("  {name:<20}"),
        }
    };
    if let Some(s) = &d.description {
        w.line_fmt(c, format_args!("{}{s}", label("Description:")));
    }
    if let Some(t) = d.created {
        w.line_fmt(c, format_args!("{}{}", label("Created:"), tc.protocol(t)));
    }
    if let Some(s) = &d.message {
        w.line_fmt(c, format_args!("{}{s}", label("Message:")));
    }
    if let Some(s) = d.router_id {
        w.line_fmt(c, format_args!("{}{s}", label("Router ID:")));
    }
    if let Some(s) = &d.vrf {
        w.line_fmt(c, format_args!("{}{s}", label("VRF:")));
    }
    for item in &d.body {
        match item {
            DetailItem::Line(l) => w.line(c, l),
            DetailItem::Channel(ch) => write_channel(w, ch, dialect),
            DetailItem::Pipe(p) => write_pipe(w, p),
        }
    }
    w.separator(c);
}

fn write_limit(w: &mut ReplyWriter, name: &str, l: &Option<LimitInfo>) {
    if let Some(l) = l {
        let hit = if l.hit { " [HIT]" } else { "" };
        w.line_fmt(code::PROTO_DETAIL, format_args!("    {name:<16}{}{hit}", l.limit));
        w.line_fmt(code::PROTO_DETAIL, format_args!("      Action:       {}", l.action));
    }
}

fn cells(s: &mut String, vals: &[Option<u64>]) {
    for v in vals {
        match v {
            Some(n) => {
                let _ = write!(s, " {n:>10}");
            }
            None => s.push_str("        ---"),
        }
    }
}

fn stat_line(label: &str, indent: usize, vals: &[Option<u64>]) -> String {
    let mut s = format!("{:indent$}{label:<20}", "");
    // BIRD's rows are "%-20s" wide before the first " %10u"-like cell, minus one.
    s.pop();
    cells(&mut s, vals);
    s
}

/// Writes one channel block.
pub fn write_channel(w: &mut ReplyWriter, ch: &ChannelInfo, dialect: Dialect) {
    let c = code::PROTO_DETAIL;
    w.line_fmt(c, format_args!("  Channel {}", ch.name));
    w.line_fmt(c, format_args!("    State:          {}", ch.state));
    if let Some(s) = &ch.import_state {
        w.line_fmt(c, format_args!("    Import state:   {s}"));
    }
    if let Some(s) = &ch.export_state {
        w.line_fmt(c, format_args!("    Export state:   {s}"));
    }
    w.line_fmt(c, format_args!("    Table:          {}", ch.table));
    w.line_fmt(c, format_args!("    Preference:     {}", ch.preference));
    w.line_fmt(c, format_args!("    Input filter:   {}", ch.input_filter));
    w.line_fmt(c, format_args!("    Output filter:  {}", ch.output_filter));
    write_limit(w, "Receive limit:", &ch.receive_limit);
    write_limit(w, "Import limit:", &ch.import_limit);
    write_limit(w, "Export limit:", &ch.export_limit);
    if let Some(r) = &ch.routes {
        match r.filtered {
            Some(f) => w.line_fmt(
                c,
                format_args!(
                    "    Routes:         {} imported, {f} filtered, {} exported, {} preferred",
                    r.imported, r.exported, r.preferred
                ),
            ),
            None => w.line_fmt(
                c,
                format_args!(
                    "    Routes:         {} imported, {} exported, {} preferred",
                    r.imported, r.exported, r.preferred
                ),
            ),
        }
        let s = &ch.stats;
        let (iu, iw, eu, ew) =
            (&s.import_updates, &s.import_withdraws, &s.export_updates, &s.export_withdraws);
        match dialect {
            Dialect::Bird2 => {
                w.line(c, "    Route change stats:     received   rejected   filtered    ignored   accepted");
                let rows: [(&str, [Option<u64>; 5]); 4] = [
                    (
                        "Import updates:",
                        [
                            Some(iu.received),
                            Some(iu.rejected),
                            Some(iu.filtered),
                            Some(iu.ignored),
                            Some(iu.accepted),
                        ],
                    ),
                    (
                        "Import withdraws:",
                        [Some(iw.received), Some(iw.rejected), None, Some(iw.ignored), Some(iw.accepted)],
                    ),
                    (
                        "Export updates:",
                        [Some(eu.received), Some(eu.rejected), Some(eu.filtered), None, Some(eu.accepted)],
                    ),
                    ("Export withdraws:", [Some(ew.received), None, None, None, Some(ew.accepted)]),
                ];
                for (l, v) in rows {
                    w.line(c, stat_line(l, 6, &v));
                }
            }
            Dialect::Bird3 => {
                w.line(c, "    Route change stats:     received   rejected   filtered    ignored   RX limit      limit   accepted");
                let rows: [(&str, [Option<u64>; 7]); 4] = [
                    (
                        "Import updates:",
                        [
                            Some(iu.received),
                            Some(iu.rejected),
                            Some(iu.filtered),
                            Some(iu.ignored),
                            Some(iu.rx_limit),
                            Some(iu.limit),
                            Some(iu.accepted),
                        ],
                    ),
                    (
                        "Import withdraws:",
                        [
                            Some(iw.received),
                            Some(iw.rejected),
                            None,
                            Some(iw.ignored),
                            None,
                            None,
                            Some(iw.accepted),
                        ],
                    ),
                    (
                        "Export updates:",
                        [
                            Some(eu.received),
                            Some(eu.rejected),
                            Some(eu.filtered),
                            Some(eu.ignored),
                            None,
                            Some(eu.limit),
                            Some(eu.accepted),
                        ],
                    ),
                    (
                        "Export withdraws:",
                        [Some(ew.received), None, None, Some(ew.ignored), None, None, Some(ew.accepted)],
                    ),
                ];
                for (l, v) in rows {
                    w.line(c, stat_line(l, 6, &v));
                }
            }
        }
    }
    for l in &ch.extra {
        w.line(c, l);
    }
}

/// Writes a pipe's channel block.
pub fn write_pipe(w: &mut ReplyWriter, p: &PipeInfo) {
    let c = code::PROTO_DETAIL;
    w.line(c, "  Channel main");
    w.line_fmt(c, format_args!("    Table:          {}", p.table));
    w.line_fmt(c, format_args!("    Peer table:     {}", p.peer_table));
    w.line_fmt(c, format_args!("    Import state:   {}", p.import_state));
    w.line_fmt(c, format_args!("    Export state:   {}", p.export_state));
    w.line_fmt(c, format_args!("    Import filter:  {}", p.import_filter));
    w.line_fmt(c, format_args!("    Export filter:  {}", p.export_filter));
    if let Some((imp, exp, s)) = &p.routes {
        w.line_fmt(c, format_args!("  Routes:         {imp} imported, {exp} exported"));
        w.line(c, "  Route change stats:     received   rejected   filtered    ignored   accepted");
        let full = |r: &StatRow| {
            [Some(r.received), Some(r.rejected), Some(r.filtered), Some(r.ignored), Some(r.accepted)]
        };
        let wd = |r: &StatRow| [Some(r.received), Some(r.rejected), None, Some(r.ignored), Some(r.accepted)];
        w.line(c, stat_line("Import updates:", 4, &full(&s.import_updates)));
        w.line(c, stat_line("Import withdraws:", 4, &wd(&s.import_withdraws)));
        w.line(c, stat_line("Export updates:", 4, &full(&s.export_updates)));
        w.line(c, stat_line("Export withdraws:", 4, &wd(&s.export_withdraws)));
    }
}

/// Writes the whole `show protocols` reply (ends with `0000␠`, or
/// `8003 No protocols match` when a pattern matched nothing).
pub fn show_protocols(w: &mut ReplyWriter, rows: &[ProtocolRow], pattern_used: bool, tc: &TimeContext) {
    if rows.is_empty() && pattern_used {
        w.finish(code::NO_PROTOCOLS_MATCH, "No protocols match");
        return;
    }
    write_header(w);
    for r in rows {
        write_row(w, r, tc);
    }
    w.finish(code::OK, "");
}

/// Writes the whole `show protocols all` reply.
pub fn show_protocols_all(
    w: &mut ReplyWriter,
    protos: &[(ProtocolRow, ProtocolDetails)],
    pattern_used: bool,
    dialect: Dialect,
    tc: &TimeContext,
) {
    if protos.is_empty() && pattern_used {
        w.finish(code::NO_PROTOCOLS_MATCH, "No protocols match");
        return;
    }
    write_header(w);
    for (r, d) in protos {
        write_row_details(w, r, d, dialect, tc);
    }
    w.finish(code::OK, "");
}
