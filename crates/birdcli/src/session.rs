//! Per-connection session state (sans-IO).
//!
//! ```text
//!  bytes ──feed()──► LineDecoder ──► parse ──► policy ──► next_command() ──► daemon
//!                                     │          │                            │
//!                      9000/9001 ◄────┘   0016/8007/echo/quit                 │ writes the reply
//!                                     ▼          ▼                            ▼
//!                               ReplyWriter ◄───────────────────────────── writer()
//!                                     │
//!  socket ◄──────take_output()────────┘  (+async echo lines only between replies)
//! ```
//!
//! One command runs at a time: while the daemon owes the final line of the
//! current reply, [`Session::next_command`] returns `None` and queued input waits.

use std::collections::VecDeque;

use crate::command::{Command, LogClass, LogClasses};
use crate::decoder::{LineDecoder, Request};
use crate::format::actions;
use crate::parse::parse_command;
use crate::reply::ReplyWriter;

/// Default `echo` buffer size in bytes.
pub const DEFAULT_ECHO_BUFFER: usize = 4096;

/// Most bytes of one reply on a restricted session: a longer reply is cut there and ends with
/// `8000 Reply too long (over N bytes)` ([`ReplyWriter::set_reply_limit`]). 4 MiB is about 30,000
/// routes of `show route all`; a looking glass asks for a prefix or a protocol at a time.
pub const RESTRICTED_REPLY_LIMIT: usize = 4 << 20;

/// How a socket's sessions start.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionConfig {
    /// Version for the greeting (`2.0.12`).
    pub version: String,
    /// `cli "path" { restrict; }`: restricted from the first byte.
    pub restricted: bool,
    /// `cli "path" { v2 attributes; }`: BIRD 2 style `show route all`.
    pub v2_attributes: bool,
}

/// One control-socket session.
#[derive(Debug)]
pub struct Session {
    restricted: bool,
    v2_attributes: bool,
    decoder: LineDecoder,
    out: ReplyWriter,
    /// Finals written when the running command started.
    busy_since: Option<u64>,
    echo: LogClasses,
    echo_limit: usize,
    echo_queue: VecDeque<String>,
    echo_bytes: usize,
    echo_lost: usize,
}

impl Session {
    /// A new session; the greeting is already queued in the output.
    pub fn new(cfg: &SessionConfig) -> Self {
        let mut out = ReplyWriter::new();
        out.greeting(&cfg.version);
        if cfg.restricted {
            out.set_reply_limit(Some(RESTRICTED_REPLY_LIMIT));
        }
        Session {
            restricted: cfg.restricted,
            v2_attributes: cfg.v2_attributes,
            decoder: LineDecoder::new(),
            out,
            busy_since: None,
            echo: LogClasses::NONE,
            echo_limit: DEFAULT_ECHO_BUFFER,
            echo_queue: VecDeque::new(),
            echo_bytes: 0,
            echo_lost: 0,
        }
    }

    /// Whether privileged commands are refused.
    pub fn is_restricted(&self) -> bool {
        self.restricted
    }

    /// Whether `show route all` should print BIRD 2 style attributes.
    pub fn v2_attributes(&self) -> bool {
        self.v2_attributes
    }

    /// The classes this session echoes.
    pub fn echo_classes(&self) -> LogClasses {
        self.echo
    }

    /// Bytes received from the client.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.decoder.feed(bytes);
    }

    /// True while the daemon owes the final line of the running command.
    pub fn is_busy(&mut self) -> bool {
        match self.busy_since {
            Some(n) if self.out.finals_written() > n => {
                self.busy_since = None;
                false
            }
            Some(_) => true,
            None => false,
        }
    }

    /// The next command for the daemon to execute, answering everything the
    /// session can answer itself (too long, syntax errors, `restrict`, access
    /// denied, `echo`, and the silent `quit`/`exit`/`help`). After a command is
    /// returned, the daemon must end its reply with a final line on
    /// [`Session::writer`] before the next one is handed out.
    pub fn next_command(&mut self) -> Option<Command> {
        if self.is_busy() {
            return None;
        }
        while let Some(req) = self.decoder.next_request() {
            self.flush_async();
            let line = match req {
                Request::TooLong => {
                    actions::command_too_long(&mut self.out);
                    continue;
                }
                Request::Command(l) => l,
            };
            let cmd = match parse_command(&line) {
                Ok(c) => c,
                Err(e) => {
                    actions::parse_error(&mut self.out, &e.message);
                    continue;
                }
            };
            match cmd {
                Command::Restrict => {
                    self.restricted = true;
                    self.out.set_reply_limit(Some(RESTRICTED_REPLY_LIMIT));
                    actions::restricted(&mut self.out);
                }
                Command::Quiet(_) => {}
                c if self.restricted && c.is_privileged() => actions::access_denied(&mut self.out),
                Command::Echo(spec) => {
                    self.echo = spec.classes;
                    if let Some(s) = spec.size {
                        self.echo_limit = s as usize;
                    }
                    if self.echo.is_empty() {
                        self.echo_queue.clear();
                        self.echo_bytes = 0;
                        self.echo_lost = 0;
                    }
                    actions::ok(&mut self.out);
                }
                c => {
                    self.busy_since = Some(self.out.finals_written());
                    return Some(c);
                }
            }
        }
        None
    }

    /// Where the daemon writes the reply of the command it executes.
    pub fn writer(&mut self) -> &mut ReplyWriter {
        &mut self.out
    }

    /// Offers a log message; queued as `+text` if the session echoes `class`.
    pub fn log(&mut self, class: LogClass, text: &str) {
        if !self.echo.contains(class) {
            return;
        }
        let size = text.len() + 2;
        if self.echo_bytes + size > self.echo_limit {
            self.echo_lost += 1;
            return;
        }
        self.echo_bytes += size;
        self.echo_queue.push_back(text.to_owned());
    }

    /// Queues an asynchronous `+text` notice whatever the session's `echo` classes (the session that
    /// gave `configure timeout` is told when the automatic undo starts).
    pub fn notify(&mut self, text: &str) {
        self.echo_queue.push_back(text.to_owned());
    }

    fn flush_async(&mut self) {
        if self.out.in_reply() {
            return;
        }
        if self.echo_lost > 0 {
            self.out.messages_lost(self.echo_lost);
            self.echo_lost = 0;
        }
        while let Some(m) = self.echo_queue.pop_front() {
            self.out.async_message(&m);
        }
        self.echo_bytes = 0;
    }

    /// Bytes to send to the client. Queued async messages are added first
    /// when no reply is in progress.
    pub fn take_output(&mut self) -> Vec<u8> {
        if !self.is_busy() {
            self.flush_async();
        }
        self.out.take()
    }
}
