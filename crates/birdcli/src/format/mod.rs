//! Output formatters: plain data in, BIRD's reply lines out.
//!
//! Every formatter writes into a [`ReplyWriter`](crate::ReplyWriter); most
//! end the reply themselves (they say so). Data is supplied by the daemon;
//! times are [`WallTime`](crate::WallTime)s rendered through a
//! [`TimeContext`](crate::TimeContext).

pub mod actions;
pub mod interfaces;
pub mod memory;
pub mod protocols;
pub mod routes;
pub mod status;
pub mod symbols;
pub mod threads;

/// Which BIRD's layout to reproduce where 2.0.12 and 3.3.2 differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// BIRD 2.0.12.
    Bird2,
    /// BIRD 3.3.2.
    #[default]
    Bird3,
}
