//! The last error of a BGP protocol, worded as BIRD shows it (`Last error:` in `show protocols all`
//! and the Info column of `show protocols`).

use std::fmt;

use crate::wire::Notification;

/// Errors that are neither socket nor BGP errors (BIRD's `BE_MISC` codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MiscError {
    /// `Neighbor lost`.
    NeighborLost,
    /// `Invalid next hop`.
    InvalidNextHop,
    /// `Authentication failed`.
    AuthFailed,
    /// `No listening socket`.
    NoListenSocket,
    /// `Link down`.
    LinkDown,
    /// `BFD session down`.
    BfdDown,
    /// `Graceful restart`.
    GracefulRestart,
}

impl MiscError {
    /// BIRD's text.
    pub fn text(self) -> &'static str {
        match self {
            MiscError::NeighborLost => "Neighbor lost",
            MiscError::InvalidNextHop => "Invalid next hop",
            MiscError::AuthFailed => "Authentication failed",
            MiscError::NoListenSocket => "No listening socket",
            MiscError::LinkDown => "Link down",
            MiscError::BfdDown => "BFD session down",
            MiscError::GracefulRestart => "Graceful restart",
        }
    }
}

/// The last error of a session, with BIRD's classes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LastError {
    /// `Error: ...`.
    Misc(MiscError),
    /// `Socket: ...`: the OS error text (`Connection refused`), `None` for a clean close
    /// (`Connection closed`).
    Socket(Option<String>),
    /// `Received: ...`: a NOTIFICATION from the peer.
    Received(Notification),
    /// `BGP Error: ...`: a NOTIFICATION we sent because of a protocol error.
    Sent(Notification),
    /// `Automatic shutdown: Route limit exceeded`.
    RouteLimit,
    /// Shut down by the operator: not shown.
    Manual,
}

impl LastError {
    /// The class prefix (`Socket: `, `Received: `, ...).
    pub fn class(&self) -> &'static str {
        match self {
            LastError::Misc(_) => "Error: ",
            LastError::Socket(_) => "Socket: ",
            LastError::Received(_) => "Received: ",
            LastError::Sent(_) => "BGP Error: ",
            LastError::RouteLimit => "Automatic shutdown: ",
            LastError::Manual => "",
        }
    }

    /// The message after the class.
    pub fn message(&self) -> String {
        match self {
            LastError::Misc(m) => m.text().to_string(),
            LastError::Socket(Some(e)) => e.clone(),
            LastError::Socket(None) => "Connection closed".to_string(),
            LastError::Received(n) | LastError::Sent(n) => n.description(),
            LastError::RouteLimit => "Route limit exceeded".to_string(),
            LastError::Manual => String::new(),
        }
    }

    /// The `Last error:` value of `show protocols all`, `None` when BIRD prints no such line.
    pub fn show_line(&self) -> Option<String> {
        match self {
            LastError::Manual => None,
            e => Some(e.to_string()),
        }
    }
}

impl fmt::Display for LastError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.class(), self.message())
    }
}
