//! Protocol and channel framework (being written).

pub mod filter;
pub mod limit;
pub mod naming;
pub mod published;
pub mod state;
