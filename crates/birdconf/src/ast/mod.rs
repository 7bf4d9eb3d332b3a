//! The typed configuration tree.
//!
//! * [`config`]: [`Config`] and the global options, tables, thread groups;
//! * [`proto`]: protocols, templates, channels;
//! * [`filter`]: the filter language.
//!
//! Every element that a later semantic check may need to point at keeps its
//! [`Loc`](crate::Loc).

pub mod config;
pub mod filter;
pub mod proto;

pub use config::*;
pub use filter::*;
pub use proto::*;
