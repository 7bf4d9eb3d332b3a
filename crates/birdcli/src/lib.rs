//! BIRD control-socket (CLI) protocol for birdd, sans-IO.
//!
//! `birdc`, `birdcl` and prometheus-bird-exporter talk to birdd through this
//! crate, so every byte follows BIRD 2.0.12 / 3.3.2 (the compat reference
//! `CLI-PROTOCOL.md`; the transcripts copied under `tests/data/` are the
//! test vectors).
//!
//! # Pieces
//!
//! * [`ReplyWriter`]: reply framing. Lines carry a code and a more-follows
//!   flag; a non-final line repeating the previous non-final code becomes a
//!   `␠text` continuation, other non-final lines `CCCC-text`, the final line
//!   `CCCC␠text` (which resets the state). Lines longer than BIRD's 512-byte
//!   buffer turn into `8000 <line overflow>`. `+text` async lines leave the
//!   state alone.
//! * [`LineDecoder`]: request framing. Bytes in any chunks; `\r` dropped;
//!   `\n` ends a command; more than [`MAX_COMMAND`] bytes → one
//!   [`Request::TooLong`] after skipping to the newline, with bounded memory.
//! * [`parse_command`] → [`Command`]: BIRD's CLI grammar with exact lowercase
//!   keywords; names stay strings, filter expressions stay source text.
//! * [`Session`]: restrict flag, echo subscription, v2-attributes flag,
//!   access policy ([`Command::is_privileged`]), one command at a time.
//! * [`format`]: `show status|protocols|route|memory|threads|interfaces|
//!   symbols|static` and action/configure replies from plain data.
//! * [`TimeFormat`]: `timeformat` rendering with caller-supplied "now".
//! * [`Client`]: a blocking birdc-like client (the only IO here).
//!
//! # Example
//!
//! ```
//! use birdcli::{Command, Session, SessionConfig};
//! use birdcli::format::actions::{proto_actions, ProtoOutcome};
//!
//! let mut s = Session::new(&SessionConfig { version: "2.0.12".into(), ..Default::default() });
//! s.feed(b"sh ro\ndisable peer_b4\n");
//! // The session answers the syntax error itself and hands out the next command.
//! let cmd = s.next_command().unwrap();
//! assert!(matches!(cmd, Command::Disable { .. }));
//! proto_actions(s.writer(), &[("peer_b4".into(), ProtoOutcome::Disabled)]);
//! assert_eq!(
//!     s.take_output(),
//!     b"0001 BIRD 2.0.12 ready.\n\
//!       9001 syntax error, unexpected CF_SYM_UNDEFINED\n\
//!       0009-peer_b4: disabled\n\
//!       0000 \n".to_vec()
//! );
//! ```

pub mod client;
pub mod command;
pub mod decoder;
pub mod format;
pub mod parse;
pub mod reply;
pub mod session;
pub mod time;

pub use client::Client;
pub use command::{
    ChannelRef, Command, EchoSpec, ExportMode, FlagSpec, ForTarget, LogClass, LogClasses, NetSelect,
    OspfView, ProtoTarget, QuietWord, ReloadDir, RouteFilter, RouteQuery, StatsMode, SymbolQuery,
    TableSelect, DEFAULT_CONFIGURE_TIMEOUT,
};
pub use decoder::{LineDecoder, Request, MAX_COMMAND};
pub use format::Dialect;
pub use parse::{parse_command, undefined_symbol_message, ParseError};
pub use reply::{code, Reply, ReplyLine, ReplyParser, ReplyWriter};
pub use session::{Session, SessionConfig, RESTRICTED_REPLY_LIMIT};
pub use time::{TimeContext, TimeFormat, TimeFormats, WallTime};
