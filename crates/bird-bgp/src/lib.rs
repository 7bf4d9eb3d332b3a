//! BGP for birdd: the sans-IO core (wire codec and finite state machine).
#![forbid(unsafe_code)]

pub mod fsm;
pub mod wire;
