//! Reply framing: BIRD's `CCCC-text` / `␠text` / `CCCC␠text` / `+text` lines.
//!
//! [`ReplyWriter`] is the server side: it turns `(code, text, more-follows)`
//! into bytes with BIRD's continuation rule and its 512-byte line buffer.
//! [`Reply`] and [`ReplyParser`] are the client side (what birdc does).

use std::fmt::{self, Write as _};

/// BIRD's CLI line buffer; a line (prefix, text, `\n`) must fit in it with a NUL.
pub const LINE_BUFFER: usize = 512;

/// Longest `prefix + text` that BIRD writes; anything longer becomes `<line overflow>`.
pub const MAX_LINE: usize = LINE_BUFFER - 2;

/// Reply codes used by this crate and by birdd (see CLI-PROTOCOL.md §5).
#[allow(missing_docs)]
pub mod code {
    pub const OK: u16 = 0;
    pub const GREETING: u16 = 1;
    pub const READING_CONFIG: u16 = 2;
    pub const RECONFIGURED: u16 = 3;
    pub const RECONFIG_IN_PROGRESS: u16 = 4;
    pub const RECONFIG_QUEUED: u16 = 5;
    pub const RECONFIG_IGNORED_SHUTDOWN: u16 = 6;
    pub const SHUTDOWN_REQUESTED: u16 = 7;
    pub const ALREADY_DISABLED: u16 = 8;
    pub const DISABLED: u16 = 9;
    pub const ALREADY_ENABLED: u16 = 10;
    pub const ENABLED: u16 = 11;
    pub const RESTARTED: u16 = 12;
    pub const STATUS: u16 = 13;
    pub const TOTAL: u16 = 14;
    pub const RELOADING: u16 = 15;
    pub const RESTRICTED: u16 = 16;
    pub const QUEUE_REMOVED: u16 = 17;
    pub const CONFIRMED: u16 = 18;
    pub const NOTHING_TO_DO: u16 = 19;
    pub const CONFIG_OK: u16 = 20;
    pub const UNDO_REQUESTED: u16 = 21;
    pub const UNDO_SCHEDULED: u16 = 22;
    pub const EVAL: u16 = 23;
    pub const GR_STATUS: u16 = 24;
    pub const GR_REQUESTED: u16 = 25;
    pub const STATUS_VERSION: u16 = 1000;
    pub const IFACE: u16 = 1001;
    pub const PROTO_ROW: u16 = 1002;
    pub const IFACE_ADDR: u16 = 1003;
    pub const IFACE_FLAGS: u16 = 1004;
    pub const IFACE_SUMMARY: u16 = 1005;
    pub const PROTO_DETAIL: u16 = 1006;
    pub const ROUTE: u16 = 1007;
    pub const ROUTE_DETAIL: u16 = 1008;
    pub const STATIC: u16 = 1009;
    pub const SYMBOL: u16 = 1010;
    pub const STATUS_BODY: u16 = 1011;
    pub const ROUTE_ATTR: u16 = 1012;
    pub const MEMORY: u16 = 1018;
    pub const THREADS: u16 = 1027;
    pub const MEMORY_EXTRA: u16 = 1028;
    pub const PROTO_HEADER: u16 = 2002;
    pub const IFACE_SUMMARY_HEADER: u16 = 2005;
    pub const LINE_OVERFLOW: u16 = 8000;
    pub const NETWORK_NOT_FOUND: u16 = 8001;
    pub const CONFIG_ERROR: u16 = 8002;
    pub const NO_PROTOCOLS_MATCH: u16 = 8003;
    pub const STOPPED_RECONFIG: u16 = 8004;
    pub const PROTOCOL_DOWN: u16 = 8005;
    pub const RELOAD_FAILED: u16 = 8006;
    pub const ACCESS_DENIED: u16 = 8007;
    pub const RUNTIME_ERROR: u16 = 8008;
    pub const COMMAND_TOO_LONG: u16 = 9000;
    pub const PARSE_ERROR: u16 = 9001;
    pub const NO_SUCH_SYMBOL: u16 = 9002;
    pub const ARG_TOO_LONG: u16 = 9003;
}

/// Builds the bytes of replies for one session.
///
/// Invariant: `last` is the code of the previous non-final line of the reply
/// being written, `None` right after a final line (or at the start). Async
/// lines never touch it.
///
/// ```
/// use birdcli::ReplyWriter;
/// let mut w = ReplyWriter::new();
/// w.line(12, "kernel4: restarted");
/// w.line(12, "kernel6: restarted");
/// w.finish(0, "");
/// assert_eq!(w.as_bytes(), b"0012-kernel4: restarted\n kernel6: restarted\n0000 \n");
/// ```
#[derive(Debug, Default, Clone)]
pub struct ReplyWriter {
    buf: Vec<u8>,
    last: Option<u16>,
    finals: u64,
    scratch: String,
    /// Most bytes one reply may have ([`ReplyWriter::set_reply_limit`]).
    limit: Option<usize>,
    /// Bytes of the reply in progress.
    reply_bytes: usize,
    /// The reply in progress went over `limit`: its further non-final lines are dropped and its
    /// final line is [`code::LINE_OVERFLOW`] `Reply too long`.
    over: bool,
}

impl ReplyWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Caps every reply at `limit` bytes (`None`: no cap), for restricted sessions. A reply that
    /// would grow past it keeps the lines written so far, drops the rest and ends with
    /// `8000 Reply too long (over N bytes)` instead of its own final line; the next reply starts
    /// afresh.
    ///
    /// ```
    /// use birdcli::ReplyWriter;
    /// let mut w = ReplyWriter::new();
    /// w.set_reply_limit(Some(40));
    /// for i in 0..10 {
    ///     w.line(1007, format_args!("route {i}"));
    /// }
    /// w.finish(0, "");
    /// assert_eq!(w.as_bytes(), b"1007-route 0\n route 1\n route 2\n route 3\n8000 Reply too long (over 40 bytes)\n");
    /// ```
    pub fn set_reply_limit(&mut self, limit: Option<usize>) {
        self.limit = limit;
    }

    /// Whether the reply in progress went over the limit of [`ReplyWriter::set_reply_limit`]
    /// (a command producing a long reply can stop early).
    pub fn over_limit(&self) -> bool {
        self.over
    }

    /// Writes a non-final line (`more follows`).
    pub fn line(&mut self, code: u16, text: impl fmt::Display) {
        self.emit(code, false, format_args!("{text}"));
    }

    /// Writes a non-final line from format arguments (no intermediate `String`).
    pub fn line_fmt(&mut self, code: u16, args: fmt::Arguments<'_>) {
        self.emit(code, false, args);
    }

    /// Writes an empty non-final line: `␠` after a same-code line, else `CCCC-`.
    pub fn separator(&mut self, code: u16) {
        self.emit(code, false, format_args!(""));
    }

    /// Writes the final line `CCCC␠text` and ends the reply.
    pub fn finish(&mut self, code: u16, text: impl fmt::Display) {
        self.emit(code, true, format_args!("{text}"));
    }

    /// Writes the final line from format arguments.
    pub fn finish_fmt(&mut self, code: u16, args: fmt::Arguments<'_>) {
        self.emit(code, true, args);
    }

    /// Writes the greeting `0001 BIRD <version> ready.` (a final line).
    pub fn greeting(&mut self, version: &str) {
        self.finish_fmt(code::GREETING, format_args!("BIRD {version} ready."));
    }

    /// Writes an asynchronous `+text` line. It does not change the
    /// continuation state of a reply in progress.
    pub fn async_message(&mut self, text: &str) {
        self.buf.push(b'+');
        let room = LINE_BUFFER - 3;
        let t = clip_utf8(text, room);
        push_clean(&mut self.buf, t);
        self.buf.push(b'\n');
    }

    /// Writes BIRD's raw `<N messages lost>` line (no prefix, §9).
    pub fn messages_lost(&mut self, n: usize) {
        let _ = writeln!(self.scratch_clear(), "<{n} messages lost>");
        self.buf.extend_from_slice(self.scratch.as_bytes());
    }

    /// True while a reply has non-final lines but no final line yet.
    pub fn in_reply(&self) -> bool {
        self.last.is_some()
    }

    /// Number of final lines written so far (greeting included).
    pub fn finals_written(&self) -> u64 {
        self.finals
    }

    /// The bytes written and not yet taken.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Takes the pending bytes, keeping the continuation state.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    fn scratch_clear(&mut self) -> &mut String {
        self.scratch.clear();
        &mut self.scratch
    }

    fn emit(&mut self, code: u16, last: bool, args: fmt::Arguments<'_>) {
        if self.over {
            if last {
                self.over = false;
                self.reply_bytes = 0;
                let limit = self.limit.unwrap_or(0);
                self.emit_line(
                    code::LINE_OVERFLOW,
                    true,
                    format_args!("Reply too long (over {limit} bytes)"),
                );
            }
            return;
        }
        let before = self.buf.len();
        self.emit_line(code, last, args);
        if last {
            self.reply_bytes = 0;
        } else {
            self.reply_bytes += self.buf.len() - before;
            if self.limit.is_some_and(|l| self.reply_bytes > l) {
                // Take the line back: the reply ends below the limit, with the overflow line.
                self.buf.truncate(before);
                self.over = true;
            }
        }
    }

    fn emit_line(&mut self, code: u16, last: bool, args: fmt::Arguments<'_>) {
        let code = code.min(9999);
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        let _ = text.write_fmt(args);
        let cont = !last && self.last == Some(code);
        let prefix_len = if cont { 1 } else { 5 };
        if prefix_len + text.len() > MAX_LINE {
            // BIRD records the code of the overlong line before replacing it.
            if !last {
                self.last = Some(code);
            }
            self.scratch = text;
            self.emit_line(code::LINE_OVERFLOW, last, format_args!("<line overflow>"));
            return;
        }
        if cont {
            self.buf.push(b' ');
        } else {
            let sep = if last { b' ' } else { b'-' };
            let d = [
                b'0' + (code / 1000) as u8,
                b'0' + (code / 100 % 10) as u8,
                b'0' + (code / 10 % 10) as u8,
                b'0' + (code % 10) as u8,
                sep,
            ];
            self.buf.extend_from_slice(&d);
        }
        push_clean(&mut self.buf, &text);
        self.buf.push(b'\n');
        if last {
            self.last = None;
            self.finals += 1;
        } else {
            self.last = Some(code);
        }
        self.scratch = text;
    }
}

/// Appends text, turning embedded line breaks into spaces so a line stays a line.
fn push_clean(buf: &mut Vec<u8>, text: &str) {
    if text.bytes().any(|b| b == b'\n' || b == b'\r') {
        buf.extend(text.bytes().map(|b| if b == b'\n' || b == b'\r' { b' ' } else { b }));
    } else {
        buf.extend_from_slice(text.as_bytes());
    }
}

fn clip_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// One line of a reply as a client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyLine {
    /// A numbered or continuation line (`code` resolved for continuations).
    Text {
        /// Reply code (continuations inherit the previous code).
        code: u16,
        /// Text after the prefix.
        text: String,
        /// Whether the line was a `␠text` continuation.
        continuation: bool,
    },
    /// An asynchronous `+text` message.
    Async(String),
    /// A line that matches no form (birdc prints `??? <line>`).
    Unknown(String),
}

/// A complete reply: its lines and its final line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    /// Every line before the final one, async messages included, in order.
    pub lines: Vec<ReplyLine>,
    /// Final line's code.
    pub code: u16,
    /// Final line's text.
    pub text: String,
}

impl Reply {
    /// Parses exactly one reply from bytes (everything up to its final line).
    pub fn parse(bytes: &[u8]) -> Option<Reply> {
        let mut p = ReplyParser::new();
        p.feed(bytes);
        p.next_reply()
    }

    /// birdc's exit status for this reply in one-shot mode: 1 iff code >= 8000.
    pub fn exit_status(&self) -> i32 {
        i32::from(self.code >= 8000)
    }

    /// True when the final code is an error (8xxx or 9xxx).
    pub fn is_error(&self) -> bool {
        self.code >= 8000
    }

    /// The text birdc prints (non-verbose): text after the prefix, code-0
    /// lines omitted, async lines as `>>> text`, unknown as `??? <line>`.
    pub fn birdc_text(&self) -> String {
        let mut out = String::new();
        for l in &self.lines {
            match l {
                ReplyLine::Text { code, text, continuation } => {
                    if *continuation || *code != 0 {
                        out.push_str(text);
                        out.push('\n');
                    }
                }
                ReplyLine::Async(t) => {
                    let _ = writeln!(out, ">>> {t}");
                }
                ReplyLine::Unknown(t) => {
                    let _ = writeln!(out, "??? <{t}>");
                }
            }
        }
        if self.code != 0 {
            out.push_str(&self.text);
            out.push('\n');
        }
        out
    }

    /// Re-encodes the reply with [`ReplyWriter`] (useful to check framing).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = ReplyWriter::new();
        for l in &self.lines {
            match l {
                ReplyLine::Text { code, text, .. } => w.line(*code, text),
                ReplyLine::Async(t) => w.async_message(t),
                ReplyLine::Unknown(t) => {
                    w.buf.extend_from_slice(t.as_bytes());
                    w.buf.push(b'\n');
                }
            }
        }
        w.finish(self.code, &self.text);
        w.take()
    }
}

/// Incremental client-side parser: feed bytes, take complete replies.
#[derive(Debug, Default)]
pub struct ReplyParser {
    partial: Vec<u8>,
    lines: Vec<ReplyLine>,
    last_code: u16,
    done: std::collections::VecDeque<Reply>,
}

impl ReplyParser {
    /// A fresh parser.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                let line = std::mem::take(&mut self.partial);
                self.line(&String::from_utf8_lossy(&line));
            } else {
                self.partial.push(b);
            }
        }
    }

    /// The next complete reply, if any.
    pub fn next_reply(&mut self) -> Option<Reply> {
        self.done.pop_front()
    }

    /// Async lines seen since the last complete reply (they belong to no reply).
    pub fn pending_lines(&self) -> &[ReplyLine] {
        &self.lines
    }

    fn line(&mut self, l: &str) {
        let b = l.as_bytes();
        if let Some(rest) = l.strip_prefix('+') {
            self.lines.push(ReplyLine::Async(rest.to_owned()));
        } else if let Some(rest) = l.strip_prefix(' ') {
            self.lines.push(ReplyLine::Text {
                code: self.last_code,
                text: rest.to_owned(),
                continuation: true,
            });
        } else if b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && (b[4] == b'-' || b[4] == b' ') {
            let code = b[..4].iter().fold(0u16, |a, d| a * 10 + u16::from(d - b'0'));
            let text = l[5..].to_owned();
            if b[4] == b' ' {
                let lines = std::mem::take(&mut self.lines);
                self.done.push_back(Reply { lines, code, text });
                self.last_code = 0;
            } else {
                self.last_code = code;
                self.lines.push(ReplyLine::Text { code, text, continuation: false });
            }
        } else {
            self.lines.push(ReplyLine::Unknown(l.to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_rules() {
        let mut w = ReplyWriter::new();
        w.line(1007, "Table master4:");
        w.line(1007, "a");
        w.line(1008, "\tType: x");
        w.line(1007, "b");
        w.separator(1007);
        w.line(1007, "Table master6:");
        w.finish(0, "");
        assert_eq!(
            w.as_bytes(),
            b"1007-Table master4:\n a\n1008-\tType: x\n1007-b\n \n Table master6:\n0000 \n"
        );
        assert!(!w.in_reply());
    }

    #[test]
    fn separator_after_code_change() {
        let mut w = ReplyWriter::new();
        w.line(1002, "device1");
        w.separator(1006);
        w.finish(0, "");
        assert_eq!(w.as_bytes(), b"1002-device1\n1006-\n0000 \n");
    }

    #[test]
    fn final_resets_state() {
        let mut w = ReplyWriter::new();
        w.finish(1010, "peer_b4 \tprotocol");
        w.line(1010, "x");
        w.finish(0, "");
        assert_eq!(w.as_bytes(), b"1010 peer_b4 \tprotocol\n1010-x\n0000 \n");
    }

    #[test]
    fn async_keeps_state() {
        let mut w = ReplyWriter::new();
        w.line(9, "a: disabled");
        w.async_message("log line");
        w.line(9, "b: disabled");
        w.finish(0, "");
        assert_eq!(w.as_bytes(), b"0009-a: disabled\n+log line\n b: disabled\n0000 \n");
    }

    #[test]
    fn line_overflow() {
        let long = "x".repeat(506);
        let fits = "y".repeat(505);
        let mut w = ReplyWriter::new();
        w.line(1007, &fits);
        assert_eq!(w.as_bytes().len(), 511);
        w.take();
        w.line(1007, &long); // continuation: " " + 506 = 507, fits
        assert_eq!(w.take().len(), 508);
        w.line(1007, "z".repeat(510));
        w.line(1007, "next");
        w.finish(0, &long);
        assert_eq!(w.take(), b"8000-<line overflow>\n1007-next\n8000 <line overflow>\n".to_vec());
    }

    #[test]
    fn greeting_and_parse_roundtrip() {
        let mut w = ReplyWriter::new();
        w.greeting("2.0.12");
        assert_eq!(w.take(), b"0001 BIRD 2.0.12 ready.\n");
        let bytes = b"0012-kernel4: restarted\n kernel6: restarted\n+x\n0000 \n";
        let r = Reply::parse(bytes).expect("reply");
        assert_eq!(r.code, 0);
        assert_eq!(r.encode(), bytes.to_vec());
        assert_eq!(r.birdc_text(), "kernel4: restarted\nkernel6: restarted\n>>> x\n");
    }

    #[test]
    fn embedded_newline_is_flattened() {
        let mut w = ReplyWriter::new();
        w.finish(23, "a\nb");
        assert_eq!(w.take(), b"0023 a b\n");
    }
}
