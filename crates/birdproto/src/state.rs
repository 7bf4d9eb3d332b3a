//! Protocol and channel state machines. Every transition is a function that rejects illegal moves.
//!
//! ```text
//!   protocol                               channel
//!
//!   DOWN ──► START ──► UP                  DOWN ──► START ──► UP ──► PAUSE
//!    ▲         │  ▲     │                    │ ▲      │       ▲ │      │
//!    │         │  └─────┤ (half-restart)     │ │      │       │ │      │
//!    │         ▼        ▼                    │ │      ▼       │ ▼      ▼
//!   FLUSH ◄── STOP ◄────┘                    │ └──── STOP ◄───┼─┘  (PAUSE ──► START)
//!                                            └────────────────┘
//! ```

use std::fmt;

/// A protocol's state (BIRD's `PS_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PState {
    /// Not running; nothing of it left in any table.
    Down,
    /// Starting: channels open, not yet up (a BGP session connecting).
    Start,
    /// Running.
    Up,
    /// Stopping: the protocol shuts itself down.
    Stop,
    /// The protocol is done; its routes are being flushed from every table (and through every pipe).
    Flush,
}

impl PState {
    /// The state as `show protocols` prints it: `down`, `start`, `up`, `stop`, `flush`.
    pub fn name(self) -> &'static str {
        match self {
            PState::Down => "down",
            PState::Start => "start",
            PState::Up => "up",
            PState::Stop => "stop",
            PState::Flush => "flush",
        }
    }

    /// Whether `self → to` is a legal transition.
    pub fn can_go(self, to: PState) -> bool {
        use PState::*;
        matches!(
            (self, to),
            (Down, Start)
                | (Start, Up)
                | (Start, Stop)
                | (Up, Stop)
                | (Up, Start)
                | (Stop, Flush)
                | (Flush, Down)
        )
    }

    /// Move to `to`, or report the illegal transition and stay.
    ///
    /// # Errors
    /// [`TransitionError`] when `self → to` is not in the diagram.
    pub fn go(&mut self, to: PState) -> Result<PState, TransitionError> {
        if self.can_go(to) {
            let old = *self;
            *self = to;
            Ok(old)
        } else {
            Err(TransitionError { what: "protocol", from: self.name(), to: to.name() })
        }
    }

    /// Whether the protocol is starting or up (what BIRD calls active: not on its way down).
    pub fn is_active(self) -> bool {
        matches!(self, PState::Start | PState::Up)
    }
}

impl fmt::Display for PState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A channel's state (BIRD's `CS_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChannelState {
    /// Closed; no importer, no exports.
    Down,
    /// Open: imports allowed, exports not yet.
    Start,
    /// Imports and exports.
    Up,
    /// Half-restart of the protocol: imports kept, exports paused; goes back to `Start`.
    Pause,
    /// Closing: the importer flushes, exports stopped; goes `Down` when the flush is done.
    Stop,
}

impl ChannelState {
    /// The state as `show protocols all` prints it (`State:` line).
    pub fn name(self) -> &'static str {
        match self {
            ChannelState::Down => "DOWN",
            ChannelState::Start => "START",
            ChannelState::Up => "UP",
            ChannelState::Pause => "PAUSE",
            ChannelState::Stop => "FLUSHING",
        }
    }

    /// Whether `self → to` is legal: DOWN→START/UP, START→UP/STOP, UP→PAUSE/STOP, PAUSE→START (automatic),
    /// PAUSE→STOP (the protocol stops during a half-restart), STOP→DOWN (automatic, after the flush).
    pub fn can_go(self, to: ChannelState) -> bool {
        use ChannelState::*;
        matches!(
            (self, to),
            (Down, Start)
                | (Down, Up)
                | (Start, Up)
                | (Start, Stop)
                | (Up, Pause)
                | (Up, Stop)
                | (Pause, Start)
                | (Pause, Stop)
                | (Stop, Down)
        )
    }

    /// Move to `to`, or report the illegal transition and stay.
    ///
    /// # Errors
    /// [`TransitionError`] when `self → to` is not allowed.
    pub fn go(&mut self, to: ChannelState) -> Result<ChannelState, TransitionError> {
        if self.can_go(to) {
            let old = *self;
            *self = to;
            Ok(old)
        } else {
            Err(TransitionError { what: "channel", from: self.name(), to: to.name() })
        }
    }
}

impl fmt::Display for ChannelState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An illegal state transition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("illegal {what} state transition {from} -> {to}")]
pub struct TransitionError {
    /// `protocol` or `channel`.
    pub what: &'static str,
    /// The current state.
    pub from: &'static str,
    /// The requested state.
    pub to: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    const PS: [PState; 5] = [PState::Down, PState::Start, PState::Up, PState::Stop, PState::Flush];
    const CS: [ChannelState; 5] =
        [ChannelState::Down, ChannelState::Start, ChannelState::Up, ChannelState::Pause, ChannelState::Stop];

    #[test]
    fn protocol_transitions_are_exactly_the_diagram() {
        let legal: Vec<(PState, PState)> =
            PS.iter().flat_map(|&a| PS.iter().map(move |&b| (a, b))).filter(|&(a, b)| a.can_go(b)).collect();
        use PState::*;
        assert_eq!(
            legal,
            [
                (Down, Start),
                (Start, Up),
                (Start, Stop),
                (Up, Start),
                (Up, Stop),
                (Stop, Flush),
                (Flush, Down)
            ]
        );
        let mut s = Down;
        assert_eq!(s.go(Up), Err(TransitionError { what: "protocol", from: "down", to: "up" }));
        assert_eq!(s, Down);
        for to in [Start, Up, Stop, Flush, Down] {
            s.go(to).unwrap();
        }
        assert_eq!(s, Down);
        assert_eq!(s.go(Flush).unwrap_err().to_string(), "illegal protocol state transition down -> flush");
    }

    #[test]
    fn channel_transitions() {
        use ChannelState::*;
        let n =
            CS.iter().flat_map(|&a| CS.iter().map(move |&b| (a, b))).filter(|&(a, b)| a.can_go(b)).count();
        assert_eq!(n, 9);
        let mut c = Down;
        for to in [Start, Up, Pause, Start, Up, Stop, Down, Up] {
            c.go(to).unwrap();
        }
        assert!(c.go(Down).is_err());
        assert!(Stop.go_copy(Up).is_err());
        assert_eq!(Stop.name(), "FLUSHING");
    }

    impl ChannelState {
        fn go_copy(mut self, to: ChannelState) -> Result<ChannelState, TransitionError> {
            self.go(to)
        }
    }
}
