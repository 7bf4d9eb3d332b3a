//! IO loops, timers, sockets and thread groups for birdd (BIRD 3's `io-loop`, in Rust).
//!
//! (Full design notes: see the module documentation below the diagram.)
//!
//! ```text
//!                       ThreadGroup "worker"                          ThreadGroup "express"
//!   ┌──────────────────────────────────────────────────────────┐   ┌──────────────────────────┐
//!   │ pickup list: [L7, L9]   (unassigned loops, FIFO)          │   │ pickup: []               │
//!   │                                                          │   │                          │
//!   │  Thread 0001                      Thread 0002            │   │  Thread 0003             │
//!   │  ┌──────────────────────────┐     ┌──────────────────┐   │   │  ┌────────────────────┐  │
//!   │  │ Poller (epoll + notify)  │     │ Poller           │   │   │  │ Poller             │  │
//!   │  │ run list: L1 L4          │     │ run list: (empty)│   │   │  │ run list: B1       │  │
//!   │  │ remote run queue (mutex) │     │ timer mirror: L5 │   │   │  │                    │  │
//!   │  │ timer mirror: L2 L3      │     │ loops: L5 L6     │   │   │  │ loops: B1          │  │
//!   │  │ loops: L1 L2 L3 L4       │     └──────────────────┘   │   │  └────────────────────┘  │
//!   │  └──────────────────────────┘                            │   │                          │
//!   └──────────────────────────────────────────────────────────┘   └──────────────────────────┘
//!
//!   Loop L1: DynDomain(level) ─ events (EventList, waker = ping L1)
//!                             ─ work events (EventList, capped per run)
//!                             ─ timer heap ──(earliest)──> mirrored into its thread's timer set
//!                             ─ sockets ──(registered)──> its thread's Poller, key = slot<<32 | socket
//!                             ─ SchedWord { PING | MOVE, queued }
//! ```
//!
//! # Threads and loops
//!
//! A [`Loop`] is a unit of serialized execution: a lock domain (level chosen at creation, checked by
//! birdrcu), an event list, a work-event list, a timer heap and a socket table. A [`ThreadGroup`] owns N OS
//! threads; each thread runs many loops and sleeps in its own `polling::Poller` when none is active. New
//! loops wait in the group's *pickup list* until a thread takes them. Groups never share threads, so
//! `express` loops never wait behind `worker` loops.
//!
//! An idle loop stays on its thread but costs nothing there: it is not on the run list, its earliest timer is
//! one entry in the thread's timer heap, its sockets sit in the thread's epoll set. A thread iteration touches
//! only loops that are runnable (pinged), due (mirrored timer expired) or have ready sockets.
//!
//! # Running a loop
//!
//! The thread locks the loop's domain, calls [`SchedWord::run_begin`] (clear `queued`, wait for any
//! pinger half-way through), dispatches socket readiness (TX, then RX), then alternates due timers and chunks
//! of events (`EventList::run_with`) while the loop's budget lasts, then a few work events. Every hook is
//! followed by `birdrcu::assert_quiescent()` and a reset of `birdmem::tmp`. The loop's earliest timer is
//! mirrored to the thread, and the loop goes back on the run list if work remains. Hooks check
//! [`task_still_in_limit`] and re-queue themselves with [`maybe_defer`].
//!
//! # Budgets and slices
//!
//! A round runs every runnable loop of the thread once; a loop's budget is `(max latency / 2 − time spent in
//! the round) / runnable loops`, clamped to `[min time, max time]`. A loop alone on its thread uses all of it
//! (no extra switches). While other loops wait on the same thread — left over from this round, pinged from
//! outside, with a timer due, or waiting in the group's pickup list — the budget ends at `min time` into the
//! run (the check is [`task_still_in_limit`], made between event chunks and by long tasks). Loops woken by a
//! ping, timer or socket run before loops re-queued because they still had work, and a loop pinged in the
//! middle of a round joins it unless it already ran in it with work left (a hog runs once per round; an
//! interactive loop that went idle may run again while the round is younger than `max latency / 2`). So a
//! pinged loop waits about `min time` behind busy loops, not their whole budgets.
//!
//! A loop that starts more than `max latency + latency limit` after it became runnable, or whose domain takes
//! longer than its budget plus `latency limit` to lock, is reported with a warning on target
//! `bird::loop::scheduling` (BIRD's `debug latency limit`; [`ThreadParams::latency_limit`]).
//!
//! # Pinging (the PING/MOVE word)
//!
//! Sending an event to a loop's list calls the list's waker on an empty → non-empty transition; the waker
//! *pings* the loop:
//!
//! * inside the loop's own run: set `self_ping`, and the loop runs again after this run;
//! * otherwise `fetch_or(PING)`: if PING was set, another pinger is delivering and this ping coalesces; if
//!   MOVE was set, the mover will schedule the loop; if the loop has no thread, the pickup will run it;
//!   else claim `queued` (false → true) and, if claimed, push the loop on the thread's remote run queue and
//!   `notify()` its poller. Then clear PING.
//!
//! Invariants and orderings (model-checked in `tests/loom.rs`):
//!
//! 1. A loop is on at most one run list: only whoever flips `queued` false → true enqueues it.
//! 2. No stranded event: the runner clears `queued`, fences (`SeqCst`) and waits (`Acquire`) for PING to be
//!    clear; the pinger sets PING (`AcqRel`), fences (`SeqCst`) and swaps `queued`. With fences on both sides
//!    one of them sees the other: either the pinger enqueues a new run, or the runner waits for the pinger and
//!    acquires its release sequence — which also contains every ping that coalesced into it. So an event sent
//!    at the instant its loop starts running is either seen by that run or causes another one.
//! 3. The thread pointer of a loop changes only under MOVE with the loop's domain held; MOVE waits for PING.
//!    So a pinger holding PING (MOVE clear) may dereference the thread pointer: the thread cannot let go of the
//!    loop, nor exit, until it releases PING. A stopping loop takes PING for good.
//!
//! # Balancing
//!
//! A round whose poll timeout is below 5 ms is busy; after 4 busy rounds, or busy rounds without a break for
//! 10 ms, the thread is marked busy, and unmarked by a round forcing it idle (> 300 ms) or by decay. A busy
//! thread, in a group where some thread is not busy, gives up about √(2n) of its runnable loops (never one
//! that moved within the last second; a loop's first placement is not a move) to the pickup list, rotates itself to the end of the thread list and kicks the head. Threads take one loop per
//! iteration when they iterate often, more after a long sleep. All constants are [`BalancerParams`].
//! A loop transferred to another group ([`Loop::transfer`]) while it waits for pickup moves to the other
//! group's pickup list at once; a thread taking a loop re-checks its group first.
//!
//! Time accounting: a loop's working and locking time stays in its thread's totals (`show threads`) after the
//! loop stops, and in its group's after that thread exits.
//!
//! # Deterministic mode
//!
//! [`ThreadGroup::deterministic`] makes a group without OS threads whose loops run on the thread calling
//! [`ThreadGroup::run_until_idle`] / [`ThreadGroup::advance`], optionally with a virtual [`Clock`].
//!
//! # Example
//!
//! ```
//! use std::sync::mpsc;
//! use std::time::Duration;
//! use birdevent::Event;
//! use birdloop::{Loop, ThreadGroup};
//! use birdrcu::LevelId;
//!
//! let group = ThreadGroup::worker(2).unwrap();
//! let lp = Loop::new("example", LevelId::Proto, &group);
//! let (tx, rx) = mpsc::channel();
//! let ev = Event::new("hello", move || {
//!     let name = birdloop::current().map(|l| l.name().to_owned());
//!     tx.send(name).unwrap();
//! });
//! lp.events().send(&ev);
//! let ran_in = rx.recv_timeout(Duration::from_secs(10)).unwrap();
//! assert_eq!(ran_in.as_deref(), Some("example"));
//! group.shutdown();
//! ```
//!
//! # Unsafe
//!
//! `unsafe` is used for: registering fds with `polling` (the registration deletes itself before the fd
//! closes), reading a loop's thread pointer under the PING/MOVE handshake or the loop's domain, and the
//! `Sync` impls of cells that are reachable only while their loop's domain is held.

// Poller registration (polling 3's `add` is unsafe), the PING-protected thread pointer, and domain-guarded cells.
#![allow(unsafe_code)]

#[cfg(loom)]
pub mod ping;
#[cfg(not(loom))]
mod ping;
mod sync;

#[cfg(not(loom))]
mod balance;
#[cfg(not(loom))]
mod group;
#[cfg(not(loom))]
#[path = "loop.rs"]
mod r#loop;
#[cfg(not(loom))]
mod params;
#[cfg(not(loom))]
mod socket;
#[cfg(not(loom))]
pub mod sockopt;
#[cfg(not(loom))]
mod stats;
#[cfg(not(loom))]
mod sync_all;
#[cfg(not(loom))]
mod thread;
#[cfg(not(loom))]
mod time;
#[cfg(not(loom))]
mod timer;

#[cfg(not(loom))]
pub use crate::{
    group::{GroupError, GroupKind, ThreadGroup},
    params::{BalancerParams, ParamError, ThreadParams},
    ping::{PingOutcome, SchedWord},
    r#loop::{current, maybe_defer, task_still_in_limit, with_current, Loop, LoopCell, LoopGuard},
    socket::{Interest, Ready, SockKey},
    stats::{GroupSnapshot, LoopSnapshot, SpentTime, ThreadSnapshot, ThreadsSnapshot, HISTORY_SECS},
    sync_all::{snapshot_threads, snapshot_threads_blocking, sync_all},
    thread::ThreadInfo,
    time::{Clock, Time},
    timer::TimerKey,
};
