//! Routing tables for birdd. See `docs/design/tables.md` for the design.
//!
//! This crate will hold the nets, tables, export journals, feeds and cork of the daemon. Its first
//! part is [`attrs`], the route attribute model every table stores: a route in a table is a small
//! value (net id, source, preference, flags) plus an [`attrs::Attrs`] handle, a reference-counted
//! pointer to an interned, immutable [`attrs::AttrSet`]. Interning makes identical attribute sets
//! (the common case: one BGP UPDATE announces many prefixes) share one allocation, turns attribute
//! comparison into a pointer comparison, and keeps the per-route cost to one pointer.
//!
//! ```
//! use std::net::IpAddr;
//!
//! use birdtable::attrs::{
//!     AsPath, AttrId, AttrSet, AttrStyle, AttrValue, Clist, Community, Dest, Iface, NextHop, Origin,
//!     RouteSource,
//! };
//!
//! let gw: IpAddr = "192.0.2.254".parse().unwrap();
//! let mut set = AttrSet::new(RouteSource::Bgp, Dest::one(NextHop::via(gw, Iface::new("vethA", 2))));
//! set.from = Some("127.0.0.3".parse().unwrap());
//! set.set(AttrId::BGP_ORIGIN, AttrValue::Origin(Origin::Igp)).unwrap();
//! set.set(AttrId::BGP_PATH, AttrValue::Path(AsPath::from_sequence(&[65002, 65002]))).unwrap();
//! set.set(AttrId::BGP_LOCAL_PREF, AttrValue::Int(300)).unwrap();
//! let comms = Clist::from_values([Community::new(65002, 100), Community::new(65001, 1007)]);
//! set.set(AttrId::BGP_COMMUNITY, AttrValue::Clist(comms)).unwrap();
//!
//! // Identical sets intern to one shared allocation.
//! let a = set.clone().intern();
//! let b = set.intern();
//! assert!(birdtable::attrs::Attrs::ptr_eq(&a, &b));
//!
//! assert_eq!(a.bgp_summary().as_deref(), Some("[AS65002i]"));
//! assert_eq!(
//!     a.detail_text(AttrStyle::Bird2, 100),
//!     [
//!         "\tType: BGP univ",
//!         "\tBGP.origin: IGP",
//!         "\tBGP.as_path: 65002 65002",
//!         "\tBGP.local_pref: 300",
//!         "\tBGP.community: (65002,100) (65001,1007)",
//!     ]
//! );
//! assert_eq!(a.detail_text(AttrStyle::Bird3, 100)[..3], ["\tpreference: 100", "\tfrom: 127.0.0.3", "\tsource: BGP"]);
//! ```
//!
//! # Tables
//!
//! A [`Table`] maps nets to sorted route lists (best first) and tells subscribers about every change.
//! Routes are [`Route`] values (32 bytes: interned attributes, a [`RouteSrc`], id, importer, preference,
//! last-modified time, stale cycle, pipe generation, flags). See `docs/design/tables.md` for the design
//! and its rationale.
//!
//! ```text
//!   importer loops ──ImportHandle──┐            ┌──► ExportSub (subscriber loops): Feed / Update / Fed / Stop
//!   (protocols)     lock, apply    ▼            │        lock-free: journal cursor + slot loads under RCU
//!                      Domain<rtable, TableState>│
//!                        net index, journal writer, route ids, importers, retire bag, pending frees
//!                      nets: ChunkDir ──► slot (AtomicPtr) ──► RouteList {seq, net, [Route]} (immutable)
//!                      journal (birdevent) ────────────────────► one item per change, read by every recipient
//!   service loop ("table <name>", level service): kick → settle timer → announce; cleanup; prune/flush
//! ```
//!
//! ## Concurrency protocol
//!
//! * **Writers** ([`ImportHandle::import`], `withdraw`, `import_batch`, and the service loop's prune) hold
//!   the table's `rtable` domain. Only the holder changes lists, the index, the journal and ids.
//! * **Lists are immutable.** A change builds a new list (one allocation) from the old one, *moving* the
//!   routes it keeps, publishes it with one `Release` store into the net's slot, and puts the old list and
//!   the removed route into the *retire bag*. The bag is handed to `birdrcu::defer` (every 1024 lists and
//!   from the service loop), so it is freed only after every read section that could see it ended.
//! * **Readers** ([`Table::walk`], [`Table::with_net`], feeds) open a `birdrcu::read()` section, load a
//!   slot (`Acquire`) and get a consistent snapshot of one net: no lock, no retry, no sentinel.
//!   [`Table::best`], [`Table::routes`] and [`Table::route_for`] take the lock only for the net index.
//! * **Journal.** Each change with subscribers pushes one item `{net, old, new, best change}` to the
//!   table's `birdevent` journal. The list is stored *before* the item is pushed, with the item's seq:
//!   a list reflects every item of its net up to its `seq`, and any list loaded after reading an item
//!   reflects that item. Items, the ids of removed routes and emptied nets are released only when every
//!   recipient passed them (journal cleanup in the service loop, triggered by the last recipient to pass).
//! * **Exports** ([`Table::subscribe`]) register at the journal's tail, then walk net ids. The per-reader
//!   *seen map* records the seq of every list fed that is newer than the reader's position; a journal item
//!   for a net fed with a newer list is skipped, an item for a net not fed yet expedites its feed, and any
//!   other item is delivered. So feeds and updates neither duplicate nor lose a change (see [`export`]).
//! * **Cork.** A journal above `cork_high` unreleased items corks the table's [`cork::Cork`] group;
//!   importers calling `cork_check` pause until the last table uncorks below `cork_low`, and their resume
//!   callbacks run in their own loops.
//! * **Lifetimes.** [`ImportHandle::stop`] completes once the importer's routes are withdrawn and every
//!   recipient passed the withdrawals; [`Source::when_released`] fires once no route of the source is left
//!   anywhere (other tables through pipes, journals, exporters' copies).
//!
//! ## Invariants
//!
//! 1. A slot points at the newest list of its net, or is null (no routes and every recipient passed the
//!    last change); an emptied net keeps an empty list (a tombstone with its seq) until then.
//! 2. Each route value has one owner: the newest list holding it, or the retire bag.
//! 3. `list.seq` ≥ the seq of every journal item of that net stored before it.
//! 4. A route id or net id is reused only after every recipient passed its removal.
//! 5. Counters (`stats`) equal the table's contents when no writer is active.
//!
//! ## Example
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use birdevent::{Callback, Event, EventList};
//! use birdloop::{Clock, ThreadGroup, Time};
//! use birdnet::NetType;
//! use birdtable::attrs::{AttrSet, Dest, RouteSource};
//! use birdtable::{Export, ExportMode, ExportRequest, PlainClass, Prefilter, Route, RouteSrc, Source, Table, TableConfig};
//!
//! let group = ThreadGroup::deterministic("doc", Clock::virtual_at(Time::ZERO)).unwrap();
//! let table = Table::new(TableConfig::new("master4", NetType::Ipv4), &group);
//! let static1 = Source::new("static1", Arc::new(PlainClass));
//! let src = RouteSrc::new(&static1, 0);
//! let importer = table.add_importer("static1");
//!
//! let net = "192.0.2.0/24".parse().unwrap();
//! let attrs = AttrSet::new(RouteSource::Static, Dest::Blackhole).intern();
//! importer.import(net, Route::new(src.clone(), attrs.clone(), 200));
//! assert_eq!(table.best(&net).unwrap().pref(), 200);
//! assert_eq!(table.route_for("192.0.2.77".parse().unwrap()).unwrap().0, net);
//!
//! // A subscriber (its callback would normally wake its loop) gets a feed, then updates.
//! let cb = Callback::new(Event::new("export", || {}), EventList::new("exporter"));
//! let mut sub = table.subscribe(ExportRequest { mode: ExportMode::Best, prefilter: Prefilter::All, callback: cb });
//! assert!(matches!(sub.next(), Some(Export::Feed { routes, .. }) if routes.len() == 1));
//! assert!(matches!(sub.next(), Some(Export::Fed)));
//! assert!(sub.next().is_none());
//!
//! importer.withdraw(net, &src);
//! group.advance(Duration::from_millis(2)); // the settle timer announces
//! assert!(matches!(sub.next(), Some(Export::Update { old: Some(_), new: None, .. })));
//! assert!(sub.next().is_none());
//! assert_eq!(table.stats().routes, 0);
//! ```

pub mod attrs;
pub mod chunks;
pub mod cork;
pub mod export;
pub mod hash;
pub mod list;
pub mod netindex;
pub mod route;
pub mod table;

pub use export::{
    Export, ExportMarks, ExportMode, ExportRef, ExportRequest, ExportState, ExportSub, Feeder, Prefilter,
};
pub use list::set_list_allocator;
pub use route::{ImporterId, NetId, PlainClass, Route, RouteClass, RouteId, RouteSrc, Source};
pub use table::{Import, ImportHandle, ImportOutcome, ImportResult, Table, TableConfig, TableStats};
