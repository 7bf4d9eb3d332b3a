//! Linux kernel route sync, interface and address tracking for birdd, over netlink; the **kernel**,
//! **device** and **direct** protocols.
//!
//! # Kernel sync state machine
//!
//! ```text
//!            start                  dump arrives                all writes acked
//!   INIT ───────────► FIRST_SCAN ─────────────────► PRUNING ─────────────────────► IDLE
//!                                                     ▲                               │ scan timer,
//!                                                     │        dump arrives           │ ENOBUFS
//!                                                     └──────────────────── SCANNING ◄┘
//! ```
//!
//! * **INIT / FIRST_SCAN**: the protocol is UP and its channel receives exports, but nothing is written
//!   and exports are not even converted: the first dump's refeed (below) reads them from the tables.
//!   **No exports reach the kernel before the first scan.**
//! * `show protocols` shows no info text in any state (as BIRD 2, whose kernel protocol has none); the
//!   state is [`kernel::KrtStats::sync_state`].
//! * A dump gives the truth about the kernel, for the families of the protocol's channels only (the
//!   routes of other families belong to other kernel protocols on the same table, as `kernel4` and
//!   `kernel6` on `main`): routes with `proto bird` and our metric are *ours*
//!   (the *installed* map); other `proto bird` routes of the table are stray and deleted; alien routes
//!   are learned (`learn`: everything but `proto kernel`; `learn all`: those too) as `inherit` routes with
//!   `krt_source` and `krt_metric`, and withdrawn when they disappear from a later dump.
//! * With every dump, the *desired* map (what the export wants in the kernel, by net) is rebuilt by a
//!   *synchronous refeed*: a walk of the tables' best routes (with `merge paths`, each net's merged ECMP
//!   set) through the channels' export filters, so the prune never races the export feed and any drift of
//!   the desired map is corrected too.
//! * **PRUNING**: for every net in installed ∪ desired, [`sys::plan_write`] decides: nothing (equal), add,
//!   delete, REPLACE (same metric; for IPv6 only unicast routes with gateways) or delete-then-add. This
//!   repairs any divergence: routes deleted or changed behind our back come back; routes we no longer
//!   export go. When every write is acknowledged the state is **IDLE**.
//! * **IDLE** (and PRUNING): each export is compared with the installed map and written at once. While
//!   SCANNING exports only update the desired map; the prune after the dump applies them.
//! * Per-route errors are logged and counted ([`kernel::KrtStats`]) and make the net unknown until the
//!   next scan; they are never fatal. A notification overrun (ENOBUFS) triggers a rescan.
//! * `merge paths`: the route written for a net is the merge of its ECMP set (read from the table). The
//!   channel offers the protocol only the best route of a merged feed, so a change of another member of
//!   the set reaches the kernel when the best route changes or, at the latest, with the next scan.
//! * **Shutdown**: the channel's export is already closed; unless `persist`, every route we exported (the
//!   installed map: each route written, acknowledged or in flight, and each of ours the last dump found)
//!   is converted to a delete; the protocol reports DOWN only when every delete is acknowledged. With
//!   `persist` the routes stay (and the next start's first scan adopts them).
//!
//! # Threads, runtime and events
//!
//! ```text
//!  ┌──────────── "krt netlink" thread (private current-thread tokio runtime) ────────────┐
//!  │  request socket: dumps                            notification socket: links, addrs │
//!  └──────┬───────────────────────────────────────────────────────┬─────────────────────┘
//!  ┌──────┴─ "krt writer" thread (blocking write socket) ─┐         │
//!  │  route writes in batches: one sendmsg, one ack each  │         │
//!  └──────┬───────────────────────────────────────────────┘         │
//!         │ Sink(Reply; writes: one Reply::Written per batch)       │ Sink(Reply)
//!         ▼                                                        ▼
//!   Inbox (queue, armed flag)                              IfaceHub (interface list, service lock)
//!         │ first push arms → ProtoHandle::exec_as              │ per subscriber: Inbox push
//!         ▼                                                      ▼
//!   kernel protocol loop: Kernel::drain                    direct protocol loop: Direct::drain
//!   (timer "krt scan" → start_scan)                        device protocol loop: timer → hub.rescan
//! ```
//!
//! A prune hands its writes to the backend in chunks of 2048 ([`sys::Backend::request_batch`]); the writer
//! packs them into `sendmsg` batches of up to 60 KiB (about 900 routes) and attributes each error answer to
//! its route by sequence number (see `sys::batch`). tokio exists only inside the netlink thread. Nothing
//! is ever called from inside a netlink handler or the writer except "queue and wake": protocol code runs
//! in its own loop, through its own control event.
//!
//! # Invariants
//!
//! 1. Nothing is written to the kernel before the first successful dump of its table.
//! 2. `installed` is what the last dump said plus our acknowledged-or-in-flight writes; a failed write
//!    removes its net from it, so the next scan decides from the kernel's truth.
//! 3. A delete-then-add runs as one unit in the backend; REPLACE is used only when [`sys::can_replace`].
//! 4. Cross-family next hops are always written with RTA_VIA, multipath routes with RTA_MULTIPATH.
//! 5. The OS is reached only through [`sys::Backend`] ([`sys::netlink::Netlink`] or
//!    [`sys::mock::MockKernel`]).
//!
//! # Example (mock kernel)
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use birdkrt::kernel::KernelConfig;
//! use birdkrt::sys::mock::MockKernel;
//! use birdloop::{Clock, ThreadGroup, Time};
//! use birdnet::NetType;
//! use birdproto::{ChannelConfig, ProtoConfig, ProtoRegistry};
//! use birdtable::{Table, TableConfig};
//!
//! let group = ThreadGroup::deterministic("doc", Clock::virtual_at(Time::ZERO)).unwrap();
//! let t = Table::new(TableConfig::new("master4", NetType::Ipv4), &group);
//! let mock = MockKernel::new();
//! let mut kc = KernelConfig::new(Arc::new(mock.clone()));
//! kc.table = 100;
//! let reg = ProtoRegistry::new(&group);
//! let _k = reg.spawn(ProtoConfig::new("kernel1", Arc::new(kc), vec![ChannelConfig::new("ipv4", &t, 10)]));
//! group.advance(Duration::from_millis(200));
//! assert_eq!(mock.ops().dumps, 1);
//! ```

#![forbid(unsafe_code)]

pub mod device;
pub mod direct;
pub mod ifaces;
mod inbox;
pub mod kernel;
pub mod sys;

pub use device::{Device, DeviceConfig};
pub use direct::{DirectConfig, IfacePatterns};
pub use ifaces::{IfaceEvent, IfaceHub, InterfaceInfo};
pub use kernel::{KernelConfig, KrtStats, Learn, SyncState};
