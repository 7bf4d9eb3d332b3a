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

pub mod attrs;
pub mod chunks;
pub mod cork;
pub mod export;
pub mod list;
pub mod netindex;
pub mod route;
pub mod table;

pub use export::{Export, ExportMode, ExportRequest, ExportState, ExportSub, Feeder, Prefilter};
pub use route::{ImporterId, NetId, PlainClass, Route, RouteClass, RouteId, RouteSrc, Source};
pub use table::{Import, ImportHandle, ImportResult, Table, TableConfig, TableStats};
