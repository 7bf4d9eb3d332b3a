//! Request decoding: bytes in arbitrary chunks → command lines.
//!
//! A command is everything up to `\n`; every `\r` is dropped. Commands longer
//! than [`MAX_COMMAND`] bytes are discarded up to their newline and reported
//! once as [`Request::TooLong`]. The decoder works eagerly in [`LineDecoder::feed`],
//! so it never holds more than one partial command (at most `MAX_COMMAND`
//! bytes) plus the complete commands the caller has not taken yet.

use std::collections::VecDeque;

/// Longest accepted command (BIRD's 4096-byte buffer minus newline and NUL).
pub const MAX_COMMAND: usize = 4094;

/// One decoded request line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A command line without its `\n` (possibly empty).
    Command(String),
    /// A line longer than [`MAX_COMMAND`]; answer `9000 Command too long`.
    TooLong,
}

/// Splits a byte stream into [`Request`]s.
///
/// ```
/// use birdcli::{LineDecoder, Request};
/// let mut d = LineDecoder::new();
/// d.feed(b"show sta");
/// assert_eq!(d.next_request(), None);
/// d.feed(b"tus\r\nshow route\n");
/// assert_eq!(d.next_request(), Some(Request::Command("show status".into())));
/// assert_eq!(d.next_request(), Some(Request::Command("show route".into())));
/// ```
#[derive(Debug, Default)]
pub struct LineDecoder {
    partial: Vec<u8>,
    discarding: bool,
    ready: VecDeque<Request>,
}

impl LineDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Consumes received bytes.
    pub fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let (chunk, newline) = match data.iter().position(|&b| b == b'\n') {
                Some(i) => (&data[..i], true),
                None => (data, false),
            };
            data = if newline { &data[chunk.len() + 1..] } else { &[] };
            if !self.discarding {
                for &b in chunk {
                    if b == b'\r' {
                        continue;
                    }
                    if self.partial.len() == MAX_COMMAND {
                        self.discarding = true;
                        self.partial = Vec::new();
                        break;
                    }
                    self.partial.push(b);
                }
            }
            if newline {
                if self.discarding {
                    self.discarding = false;
                    self.ready.push_back(Request::TooLong);
                } else {
                    let line = std::mem::take(&mut self.partial);
                    let s = match String::from_utf8(line) {
                        Ok(s) => s,
                        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
                    };
                    self.ready.push_back(Request::Command(s));
                }
            }
        }
    }

    /// The next complete request.
    pub fn next_request(&mut self) -> Option<Request> {
        self.ready.pop_front()
    }

    /// Number of complete requests waiting.
    pub fn pending(&self) -> usize {
        self.ready.len()
    }

    /// Bytes of the unfinished command held (never more than [`MAX_COMMAND`]).
    pub fn partial_len(&self) -> usize {
        self.partial.len()
    }

    /// True while the rest of an overlong line is being skipped.
    pub fn is_discarding(&self) -> bool {
        self.discarding
    }
}

impl Iterator for LineDecoder {
    type Item = Request;
    fn next(&mut self) -> Option<Request> {
        self.next_request()
    }
}
