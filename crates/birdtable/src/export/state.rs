//! Export states and their legal transitions (BIRD's `TES_*`).
//!
//! ```text
//!   DOWN ──subscribe──► FEEDING ──walk done──► READY
//!                         ▲  │                   │
//!                         │  └──────stop─────┐   │ refeed
//!                         └──────────────────┼───┘
//!                                            ▼
//!   any ──unsubscribe──► DOWN            STOP (table stopped the export; resubscribe to recover)
//! ```

use std::fmt;

/// The state of an export subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportState {
    /// Not subscribed.
    Down,
    /// Walking the table (initial feed or refeed); journal updates flow meanwhile.
    Feeding,
    /// Fed; only journal updates.
    Ready,
    /// Stopped by the table; the subscriber must drop it.
    Stop,
}

impl fmt::Display for ExportState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            ExportState::Down => "DOWN",
            ExportState::Feeding => "FEEDING",
            ExportState::Ready => "READY",
            ExportState::Stop => "STOP",
        })
    }
}

/// A transition the state machine does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("illegal export state transition {from} -> {to}")]
pub struct IllegalTransition {
    /// The state we were in.
    pub from: ExportState,
    /// The state asked for.
    pub to: ExportState,
}

impl ExportState {
    /// The state after moving to `to`, or an error if the move is illegal.
    ///
    /// Legal: `DOWN → FEEDING`, `FEEDING → READY`, `READY → FEEDING` (refeed), `FEEDING | READY → STOP`,
    /// and any state `→ DOWN` (unsubscribe).
    pub fn transition(self, to: ExportState) -> Result<ExportState, IllegalTransition> {
        use ExportState::{Down, Feeding, Ready, Stop};
        match (self, to) {
            (Down, Feeding) | (Feeding, Ready) | (Ready, Feeding) | (Feeding | Ready, Stop) | (_, Down) => {
                Ok(to)
            }
            _ => Err(IllegalTransition { from: self, to }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ExportState::{self, Down, Feeding, Ready, Stop};

    #[test]
    fn transitions() {
        let all = [Down, Feeding, Ready, Stop];
        let legal = [(Down, Feeding), (Feeding, Ready), (Ready, Feeding), (Feeding, Stop), (Ready, Stop)];
        for from in all {
            for to in all {
                let ok = to == Down || legal.contains(&(from, to));
                assert_eq!(from.transition(to).is_ok(), ok, "{from} -> {to}");
            }
        }
        let e = Stop.transition(Feeding).unwrap_err();
        assert_eq!(e.to_string(), "illegal export state transition STOP -> FEEDING");
        assert_eq!(ExportState::Ready.transition(Ready).unwrap_err().from, Ready);
    }
}
