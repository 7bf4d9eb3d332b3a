//! A tiny blocking client (the only IO in this crate), for tests and `birdd ctl`.
//!
//! It behaves like birdc: wait for the greeting, send one command line, read
//! until the final line.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use crate::reply::{Reply, ReplyParser};

/// A connected control-socket client.
#[derive(Debug)]
pub struct Client {
    stream: UnixStream,
    parser: ReplyParser,
    greeting: Reply,
}

impl Client {
    /// Connects and waits for the `0001` greeting.
    pub fn connect(path: impl AsRef<Path>) -> io::Result<Client> {
        Self::from_stream(UnixStream::connect(path)?)
    }

    /// Wraps an already connected stream and reads the greeting.
    pub fn from_stream(stream: UnixStream) -> io::Result<Client> {
        let mut c = Client { stream, parser: ReplyParser::new(), greeting: Reply::default() };
        c.greeting = c.read_reply()?;
        Ok(c)
    }

    /// The greeting reply (`0001 BIRD <version> ready.`).
    pub fn greeting(&self) -> &Reply {
        &self.greeting
    }

    /// Sets a read timeout (none by default: BIRD sends nothing for `quit`).
    pub fn set_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.stream.set_read_timeout(t)
    }

    /// Sends `restrict` (what `birdc -r` does) and returns its reply.
    pub fn restrict(&mut self) -> io::Result<Reply> {
        self.command("restrict")
    }

    /// Sends one command and reads its reply.
    pub fn command(&mut self, cmd: &str) -> io::Result<Reply> {
        if cmd.contains('\n') {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "command contains a newline"));
        }
        let mut line = Vec::with_capacity(cmd.len() + 1);
        line.extend_from_slice(cmd.as_bytes());
        line.push(b'\n');
        self.stream.write_all(&line)?;
        self.read_reply()
    }

    fn read_reply(&mut self) -> io::Result<Reply> {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(r) = self.parser.next_reply() {
                return Ok(r);
            }
            let n = self.stream.read(&mut buf)?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "Connection closed by server"));
            }
            self.parser.feed(&buf[..n]);
        }
    }
}
