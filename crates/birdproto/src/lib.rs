//! Protocol and channel framework for birdd: protocol instances and their lifecycle, channels with filters,
//! limits and statistics, published state; the pipe and static protocols.
//!
//! # Who runs where
//!
//! ```text
//!   control (daemon, CLI)                protocol loop "proto static1"         table service loop
//!   ─────────────────────                ─────────────────────────────         ──────────────────
//!   ProtoHandle::enable/disable/  ──ev──► command queue → state machine
//!     restart/reload/shutdown/exec         Protocol::start/shutdown/...
//!   ProtoHandle::reconfigure ──ENTER──►    (synchronous, BIRD does the same)
//!   ProtoHandle::state()  ◄── ArcSwap ──   publish(ProtoState) + journal
//!                                          ctx.import ──ENTER table lock──►   (import path, birdtable)
//!                                          export drain ◄──callback ev──────  settle timer announces
//!                                          flush done   ◄──callback ev──────  importer stopped
//!                                          source gone  ◄──callback ev──────  last RouteSrc dropped
//! ```
//!
//! Each instance owns one loop (level `proto`) for its whole life, created by [`ProtoHandle::spawn`] and
//! stopped only after the instance is shut down and DOWN. Every [`Protocol`] method runs in that loop.
//! Control requests are queued and delivered by one event; exports and flush completions arrive as
//! callbacks activated into the same loop. Only [`ProtoHandle::reconfigure`] enters the loop directly,
//! because its answer ([`Reconfigured`]) decides whether the daemon replaces the instance.
//!
//! # Lifecycle
//!
//! ```text
//!            enable                 protocol: Up            disable / restart / limit / shutdown
//!   DOWN ───────────► START ──────────────────────► UP ─────────────────────────────┐
//!    ▲                  │  ▲   protocol: Start       │                              │
//!    │                  │  └─────(half-restart)──────┘                              │
//!    │                  └──────────── disable / shutdown ──────────────────────┐    │
//!    │                                                                          ▼    ▼
//!    │   importers stopped + source released            protocol: Down        STOP
//!   FLUSH ◄─────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! * **START**: a fresh [`birdtable::Source`] is created and every channel gets an importer (channel
//!   START); [`Protocol::start`] runs. Imports are allowed.
//! * **UP**: channels go UP and subscribe to their tables' exports (unless the export filter is `none`).
//! * **STOP**: exports are dropped; [`Protocol::shutdown`] runs and returns DOWN at once or later through
//!   [`ProtoCtx::notify_state`].
//! * **FLUSH**: every channel's importer is stopped (the table withdraws all its routes) and the instance
//!   gives up its source. **What DOWN waits for**: every importer's stop callback (every journal reader
//!   passed the withdrawals) *and* the source's release callback, which fires only when the last
//!   [`birdtable::RouteSrc`] of the source is gone — from every table, journal and exporter, including copies
//!   made by pipes in other tables. Pipes keep exporting withdrawals while the author flushes, so a chain
//!   A→B→C drains completely.
//! * **DOWN**: [`Protocol::cleanup`] runs; a pending restart starts again; a shutdown unpublishes the state,
//!   activates the callback and stops the loop.
//!
//! Limits ([`limit`]) with action `restart` or `disable` take the protocol down only from UP. Automatic
//! restarts closer together than `restart time limit` (default 5 s) disable the protocol instead, with the
//! message `Too frequent restarts` (logged as `Protocol <name>: too frequent restarts, disabling`).
//!
//! # State publication
//!
//! Every state change (and any change of info, limits, channels) publishes a new immutable
//! [`published::ProtoState`] into the [`published::StateTable`]: one `ArcSwapOption` per dense id (lock-free
//! reads from any thread) plus a journal of `{old, new}` items for subscribers, pushed in the same critical
//! section so its order is the publication order. [`Protocol::init_state`] adds protocol fields.
//!
//! # Example: a static protocol feeding a table
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use birdloop::{Clock, ThreadGroup, Time};
//! use birdnet::NetType;
//! use birdproto::static_proto::{ConnectedIfaces, StaticConfig, StaticDest, StaticHop, StaticRoute};
//! use birdproto::{ChannelConfig, PState, ProtoConfig, ProtoRegistry};
//! use birdtable::attrs::{Dest, Iface};
//! use birdtable::{Table, TableConfig};
//!
//! let group = ThreadGroup::deterministic("doc", Clock::virtual_at(Time::ZERO)).unwrap();
//! let master4 = Table::new(TableConfig::new("master4", NetType::Ipv4), &group);
//! let ifaces = ConnectedIfaces(vec![(Iface::new("eth0", 2), vec!["192.0.2.0/24".parse().unwrap()])]);
//! let routes = vec![
//!     StaticRoute::new("198.51.100.0/24".parse().unwrap(), StaticDest::Via(vec![StaticHop::via("192.0.2.1".parse().unwrap())])),
//!     StaticRoute::new("203.0.113.0/24".parse().unwrap(), StaticDest::Blackhole),
//! ];
//! let kind = Arc::new(StaticConfig { routes, resolver: Arc::new(ifaces) });
//! let registry = ProtoRegistry::new(&group);
//! let static1 = registry.spawn(ProtoConfig::new("static1", kind, vec![ChannelConfig::new("ipv4", &master4, 200)]));
//! group.advance(Duration::from_millis(200));
//!
//! let state = static1.state().unwrap();
//! assert_eq!((state.state_name(), state.proto, state.table.as_str()), ("up", "Static", "master4"));
//! let best = master4.best(&"203.0.113.0/24".parse().unwrap()).unwrap();
//! assert_eq!((best.attrs().dest.clone(), best.pref()), (Dest::Blackhole, 200));
//! assert_eq!(master4.stats().routes, 2);
//! ```
//!
//! No unsafe code.

#![forbid(unsafe_code)]

pub mod debug;
pub mod filter;
pub mod limit;
pub mod naming;
pub mod published;
pub mod state;

pub mod channel;
pub mod pipe;
mod proto;
pub mod static_proto;

pub use state::{ChannelState, PState};

pub use channel::ChannelConfig;
pub use proto::{
    ControlError, Preexport, ProtoConfig, ProtoCtx, ProtoHandle, ProtoKind, ProtoRegistry, Protocol,
    Reconfigured, ReloadDir,
};
