//! Protocol and channel framework (being written).

pub mod filter;
pub mod limit;
pub mod naming;
pub mod published;
pub mod state;

pub use state::{ChannelState, PState};
pub mod channel;
mod proto;
pub mod pipe;
pub mod static_proto;

pub use channel::ChannelConfig;
pub use proto::{
    ControlError, Preexport, ProtoConfig, ProtoCtx, ProtoHandle, ProtoKind, ProtoRegistry, Protocol, Reconfigured,
    ReloadDir,
};
