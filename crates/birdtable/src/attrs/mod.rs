//! Route attributes: the attribute model, interning and printing.
//!
//! A route is `(net, source, preference, attributes)`; the attributes are an [`AttrSet`], shared
//! between every route that carries the same ones through an interned [`Attrs`] handle.
//!
//! * [`AttrSet`] has the fields every route has as plain fields ([`RouteSource`], [`Scope`],
//!   [`Dest`] with its [`NextHop`]s, `from`, `igp_metric`) and a sorted list of extended attributes
//!   [`EAttr`] `(AttrId, flags, AttrValue)`: BGP attributes (known ones typed, unknown ones as bytes
//!   with their flags), kernel, OSPF and RIP attributes, and custom ones.
//! * The [`registry`] names every attribute (filter name, BIRD 2 and BIRD 3 display names), gives its
//!   type and BGP code, and registers custom attributes at run time.
//! * [`AsPath`] stores AS paths in 4-byte BGP wire form; [`Community`], [`ExtCommunity`],
//!   [`LargeCommunity`] and their [`List`]s print as BIRD does.
//! * [`AttrSet::intern`] hash-conses sets in a sharded global cache ([`AttrCache`]); unreferenced
//!   sets are swept (see the [`intern`] module docs for why the sweep is race-free).
//! * [`AttrSet::detail_lines`] prints `show route all` detail in [`AttrStyle::Bird2`] or
//!   [`AttrStyle::Bird3`] style; [`AttrSet::bgp_summary`] the `[AS65002i]` of route rows.
//!
//! # Invariants
//!
//! 1. `eattrs` is sorted by id, one entry per id, each value of its registered type.
//! 2. An interned set is never modified (handles only give `&AttrSet`); its stored hash is its
//!    content hash.
//! 3. A cache holds at most one set per content; a set with a live handle is never removed.

pub mod aspath;
pub mod community;
pub mod intern;
pub mod nexthop;
pub mod registry;
pub mod set;
pub mod show;
pub mod source;
pub mod value;

pub use aspath::{AsPath, AsPathBuilder, AsPathError, Segment, SegmentKind};
pub use community::{Clist, Community, EcKind, EcList, ExtCommunity, LargeCommunity, LcList, List};
pub use intern::{maybe_sweep, stats, sweep_all, AttrCache, AttrStats, Attrs};
pub use nexthop::{Dest, Iface, NextHop};
pub use registry::{
    lookup, lookup_attr, register_custom, AttrClass, AttrDef, AttrId, AttrRef, RegistryError, RouteField,
};
pub use set::{AttrError, AttrSet, EAttr};
pub use show::{AttrStyle, DetailLine};
pub use source::{RouteSource, Scope, IGP_METRIC_UNKNOWN};
pub use value::{Aggregator, AttrType, AttrValue, HostEntry, Origin};
