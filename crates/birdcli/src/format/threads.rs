//! `show threads [all]` (BIRD 3).

use std::fmt::Write as _;

use crate::reply::{code, ReplyWriter};

/// Nanosecond durations printed like BIRD's `%t` (seconds with a fraction).
fn secs(ns: u64, width: usize, precision: usize, space: bool) -> String {
    let us = ns / 1000;
    let whole = us / 1_000_000;
    let frac = (us % 1_000_000) / 10u64.pow(6 - precision as u32);
    let int_w = if precision > 0 { width.saturating_sub(1 + precision) } else { width };
    let int = if space { format!(" {whole}") } else { whole.to_string() };
    let mut s = format!("{int:>int_w$}");
    if precision > 0 {
        let _ = write!(s, ".{frac:0precision$}");
    }
    s
}

/// Time spent in the last seconds, newest first, in nanoseconds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpentTime {
    /// Total in nanoseconds.
    pub total_ns: u64,
    /// Per-second history, newest first (BIRD shows up to 16).
    pub last_secs_ns: Vec<u64>,
}

/// A loop's accounting (for `show threads all`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoopInfo {
    /// Loop (domain) name.
    pub name: String,
    /// Working time.
    pub working: SpentTime,
    /// Locking time.
    pub locking: SpentTime,
}

/// One thread.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ThreadInfo {
    /// Thread number (printed `%04x`).
    pub id: u32,
    /// Busy flag.
    pub busy: bool,
    /// Busy counter (`all` only).
    pub busy_counter: u32,
    /// Loops on the thread.
    pub loops: Vec<LoopInfo>,
    /// Total working time of its loops (working + locking), ns.
    pub working_ns: u64,
    /// Overhead.
    pub overhead: SpentTime,
    /// Idle (`all` only).
    pub idle: SpentTime,
    /// Nanoseconds since the last pickup or drop.
    pub since_transition_ns: u64,
}

/// A thread group and its unassigned loops.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupInfo {
    /// Group name.
    pub name: String,
    /// Loops waiting for a thread.
    pub unassigned: Vec<LoopInfo>,
}

/// Data for `show threads`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ThreadsReport {
    /// Threads in reporting order.
    pub threads: Vec<ThreadInfo>,
    /// Groups.
    pub groups: Vec<GroupInfo>,
}

fn spent(lines: &mut Vec<String>, name: &str, st: &SpentTime) {
    let hist: Vec<String> = st.last_secs_ns.iter().map(|v| format!("{v:>10}")).collect();
    lines.push(format!(
        "    {name} total time: {} s; last {} secs [ns]: {}",
        secs(st.total_ns, 9, 3, true),
        st.last_secs_ns.len(),
        hist.join(" ")
    ));
}

fn show_loop(lines: &mut Vec<String>, l: &LoopInfo) {
    lines.push(format!("  Loop {}", l.name));
    spent(lines, "Working ", &l.working);
    spent(lines, "Locking ", &l.locking);
}

/// Writes the whole reply; its final line is the last line with code 1027.
pub fn show_threads(w: &mut ReplyWriter, r: &ThreadsReport, all: bool) {
    let mut lines = Vec::new();
    for t in &r.threads {
        if all {
            lines.push(format!(
                "Thread {:04x} {} (busy counter {})",
                t.id,
                if t.busy { " [busy]" } else { "" },
                t.busy_counter
            ));
            for l in &t.loops {
                show_loop(&mut lines, l);
            }
            lines.push(format!("  Total working time: {}", secs(t.working_ns, 0, 3, false)));
            spent(&mut lines, "Overhead", &t.overhead);
            spent(&mut lines, "Idle    ", &t.idle);
        } else {
            lines.push(format!(
                "{:04x}{}     {} s   {} s   {} s",
                t.id,
                if t.busy { " [busy]" } else { "       " },
                secs(t.working_ns, 9, 3, true),
                secs(t.overhead.total_ns, 9, 3, true),
                secs(t.since_transition_ns, 9, 3, true)
            ));
        }
    }
    for g in &r.groups {
        if g.unassigned.is_empty() {
            lines.push(format!("All loops in group {} are assigned.", g.name));
            continue;
        }
        let total: u64 = g.unassigned.iter().map(|l| l.working.total_ns + l.locking.total_ns).sum();
        if all {
            lines.push(format!("Unassigned loops in group {}:", g.name));
            for l in &g.unassigned {
                show_loop(&mut lines, l);
            }
            lines.push(format!("  Total working time: {}", secs(total, 0, 3, false)));
        } else {
            lines.push(format!(
                "Unassigned {} loops in group {}, total time {}",
                g.unassigned.len(),
                g.name,
                secs(total, 0, 3, false)
            ));
        }
    }
    if !all {
        w.line(code::THREADS, "Thread ID       Working         Overhead        Last Pickup/Drop");
    }
    let Some(last) = lines.pop() else {
        w.finish(code::OK, "");
        return;
    };
    for l in &lines {
        w.line(code::THREADS, l);
    }
    w.finish(code::THREADS, last);
}

#[cfg(test)]
mod tests {
    use super::secs;

    #[test]
    fn bird_t_format() {
        assert_eq!(secs(0, 9, 3, true), "    0.000");
        assert_eq!(secs(3_456_789, 9, 3, true), "    0.003");
        assert_eq!(secs(12_345_678_900_000, 9, 3, true), " 12345.678");
        assert_eq!(secs(1_500_000_000, 0, 3, false), "1.500");
    }
}
