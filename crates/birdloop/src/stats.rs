//! Time accounting and the `show threads` snapshot.
//!
//! Each loop accounts *working* time (inside its hooks) and *locking* time (waiting for its domain); each thread
//! accounts *overhead* (scheduling) and *idle* (sleeping in poll). Every account keeps a total and a ring of the
//! last 16 seconds. An account has one writer at a time (the thread running the loop, or the thread itself);
//! readers use relaxed loads, so a snapshot is approximate by design, like BIRD's.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::time::Time;

/// Seconds of history kept per account.
pub const HISTORY_SECS: usize = 16;

const NS: u64 = 1_000_000_000;

/// One time account (single writer, many readers).
#[derive(Debug, Default)]
pub(crate) struct SpentTimeCell {
    total_ns: AtomicU64,
    last_sec: AtomicU64,
    by_sec: [AtomicU64; HISTORY_SECS],
}

impl SpentTimeCell {
    /// Add `ns` spent, ending at `now`.
    pub(crate) fn add(&self, now: Time, ns: u64) {
        if ns == 0 {
            return;
        }
        let sec = now.as_nanos() / NS;
        let last = self.last_sec.load(Ordering::Relaxed);
        if sec != last {
            let gap = sec.saturating_sub(last);
            if gap >= HISTORY_SECS as u64 || sec < last {
                for s in &self.by_sec {
                    s.store(0, Ordering::Relaxed);
                }
            } else {
                for s in (last + 1)..=sec {
                    self.by_sec[(s % HISTORY_SECS as u64) as usize].store(0, Ordering::Relaxed);
                }
            }
            self.last_sec.store(sec, Ordering::Relaxed);
        }
        let slot = &self.by_sec[(sec % HISTORY_SECS as u64) as usize];
        slot.store(slot.load(Ordering::Relaxed) + ns, Ordering::Relaxed);
        self.total_ns.store(self.total_ns.load(Ordering::Relaxed) + ns, Ordering::Relaxed);
    }

    pub(crate) fn total_ns(&self) -> u64 {
        self.total_ns.load(Ordering::Relaxed)
    }

    /// Read the account as of `now`.
    pub(crate) fn snapshot(&self, now: Time) -> SpentTime {
        let cur = now.as_nanos() / NS;
        let last = self.last_sec.load(Ordering::Relaxed);
        let mut last_secs = [0u64; HISTORY_SECS];
        for (i, out) in last_secs.iter_mut().enumerate() {
            let Some(s) = cur.checked_sub(i as u64) else { break };
            if s <= last && last - s < HISTORY_SECS as u64 {
                *out = self.by_sec[(s % HISTORY_SECS as u64) as usize].load(Ordering::Relaxed);
            }
        }
        SpentTime { total: Duration::from_nanos(self.total_ns()), last_secs_ns: last_secs, current_sec: cur }
    }
}

/// A read-out of one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpentTime {
    /// All time spent.
    pub total: Duration,
    /// Nanoseconds spent in each of the last 16 seconds, the current second first.
    pub last_secs_ns: [u64; HISTORY_SECS],
    /// The current second since the clock's epoch (how many history slots are meaningful is `min(this+1, 16)`).
    pub current_sec: u64,
}

/// One loop in a snapshot.
#[derive(Clone, Debug)]
pub struct LoopSnapshot {
    /// The loop's (domain's) name.
    pub name: String,
    /// Time spent running the loop's hooks.
    pub working: SpentTime,
    /// Time spent waiting for the loop's domain before running it.
    pub locking: SpentTime,
}

/// One thread in a snapshot.
#[derive(Clone, Debug)]
pub struct ThreadSnapshot {
    /// Dense thread id (printed as `%04x`).
    pub id: u32,
    /// Whether the balancer marked the thread busy.
    pub busy: bool,
    /// The busy hysteresis counter.
    pub busy_counter: u32,
    /// Loops assigned to the thread.
    pub loops: Vec<LoopSnapshot>,
    /// Scheduling overhead.
    pub overhead: SpentTime,
    /// Time asleep in poll.
    pub idle: SpentTime,
    /// Time since the thread last picked up or dropped a loop.
    pub since_pickup_drop: Duration,
    /// Working and locking time of the loops that stopped on this thread (counted in its totals).
    pub stopped_loops: Duration,
}

/// One thread group in a snapshot.
#[derive(Clone, Debug)]
pub struct GroupSnapshot {
    /// Group name (`worker`, `express`, ...).
    pub name: String,
    /// Its threads.
    pub threads: Vec<ThreadSnapshot>,
    /// Loops waiting in the group's pickup list.
    pub unassigned: Vec<LoopSnapshot>,
    /// Working and locking time of loops that stopped on threads of the group that have exited since.
    pub stopped_loops: Duration,
}

/// Everything `show threads` prints.
#[derive(Clone, Debug, Default)]
pub struct ThreadsSnapshot {
    /// All groups, in creation order.
    pub groups: Vec<GroupSnapshot>,
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn total_of(loops: &[LoopSnapshot]) -> Duration {
    loops.iter().map(|l| l.working.total + l.locking.total).sum()
}

fn spent_line(out: &mut Vec<String>, name: &str, st: &SpentTime) {
    let n = usize::try_from(st.current_sec + 1).unwrap_or(HISTORY_SECS).min(HISTORY_SECS);
    let mut hist = String::new();
    for (i, v) in st.last_secs_ns.iter().take(n).enumerate() {
        if i > 0 {
            hist.push(' ');
        }
        let _ = write!(hist, "{v:10}");
    }
    out.push(format!("    {name} total time: {:9.6} s; last {n} secs [ns]: {hist}", secs(st.total)));
}

fn loop_lines(out: &mut Vec<String>, l: &LoopSnapshot) {
    out.push(format!("  Loop {}", l.name));
    spent_line(out, "Working ", &l.working);
    spent_line(out, "Locking ", &l.locking);
}

impl ThreadsSnapshot {
    /// The reply lines of `show threads` (`all == false`) or `show threads all`, in BIRD's layout, without the
    /// reply codes: the CLI prefixes every line with `1027-` (continuations) and the last with `1027 `.
    pub fn render(&self, all: bool) -> Vec<String> {
        let mut out = Vec::new();
        if !all {
            out.push("Thread ID       Working         Overhead        Last Pickup/Drop".to_owned());
        }
        for g in &self.groups {
            for t in &g.threads {
                let working = total_of(&t.loops) + t.stopped_loops;
                if all {
                    let busy = if t.busy { " [busy]" } else { "" };
                    out.push(format!("Thread {:04x} {busy} (busy counter {})", t.id, t.busy_counter));
                    for l in &t.loops {
                        loop_lines(&mut out, l);
                    }
                    out.push(format!("  Total working time: {:.6} s", secs(working)));
                    spent_line(&mut out, "Overhead", &t.overhead);
                    spent_line(&mut out, "Idle    ", &t.idle);
                } else {
                    let busy = if t.busy { " [busy]" } else { "       " };
                    out.push(format!(
                        "{:04x}{busy}     {:9.3} s   {:9.3} s   {:9.3} s",
                        t.id,
                        secs(working),
                        secs(t.overhead.total),
                        secs(t.since_pickup_drop)
                    ));
                }
            }
        }
        for g in &self.groups {
            if g.unassigned.is_empty() {
                out.push(format!("All loops in group {} are assigned.", g.name));
            } else if all {
                out.push(format!("Unassigned loops in group {}:", g.name));
                for l in &g.unassigned {
                    loop_lines(&mut out, l);
                }
                out.push(format!("  Total working time: {:.6} s", secs(total_of(&g.unassigned))));
            } else {
                out.push(format!(
                    "Unassigned {} loops in group {}, total time {:.6} s",
                    g.unassigned.len(),
                    g.name,
                    secs(total_of(&g.unassigned))
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64, ms: u64) -> Time {
        Time::from_nanos(s * NS + ms * 1_000_000)
    }

    #[test]
    fn history_ring() {
        let c = SpentTimeCell::default();
        c.add(at(3, 0), 10);
        c.add(at(3, 500), 5);
        c.add(at(5, 0), 7);
        let s = c.snapshot(at(5, 10));
        assert_eq!(s.total, Duration::from_nanos(22));
        assert_eq!(&s.last_secs_ns[..4], &[7, 0, 15, 0]);
        // Twenty seconds later everything in the ring is stale.
        let s = c.snapshot(at(25, 0));
        assert_eq!(s.last_secs_ns, [0; HISTORY_SECS]);
        c.add(at(40, 0), 1);
        let s = c.snapshot(at(40, 0));
        assert_eq!(s.last_secs_ns[0], 1);
        assert_eq!(s.last_secs_ns[2], 0);
    }

    fn zero(sec: u64) -> SpentTime {
        SpentTime { total: Duration::ZERO, last_secs_ns: [0; HISTORY_SECS], current_sec: sec }
    }

    #[test]
    fn render_matches_bird_layout() {
        let snap = ThreadsSnapshot {
            groups: vec![GroupSnapshot {
                name: "worker".into(),
                threads: vec![ThreadSnapshot {
                    id: 2,
                    busy: false,
                    busy_counter: 0,
                    loops: vec![LoopSnapshot {
                        name: "p1".into(),
                        working: SpentTime { total: Duration::from_millis(3), ..zero(1) },
                        locking: zero(1),
                    }],
                    overhead: zero(1),
                    idle: zero(1),
                    since_pickup_drop: Duration::ZERO,
                    stopped_loops: Duration::ZERO,
                }],
                unassigned: vec![],
                stopped_loops: Duration::ZERO,
            }],
        };
        let lines = snap.render(false);
        // From bird3-transcripts/34-show-threads.out.
        assert_eq!(lines[0], "Thread ID       Working         Overhead        Last Pickup/Drop");
        assert_eq!(lines[1], "0002                0.003 s       0.000 s       0.000 s");
        assert_eq!(lines[2], "All loops in group worker are assigned.");
        let all = snap.render(true);
        assert_eq!(all[0], "Thread 0002  (busy counter 0)");
        assert_eq!(all[1], "  Loop p1");
        assert!(all[2]
            .starts_with("    Working  total time:  0.003000 s; last 2 secs [ns]:          0          0"));
        assert_eq!(all.last().map(String::as_str), Some("All loops in group worker are assigned."));
    }
}
