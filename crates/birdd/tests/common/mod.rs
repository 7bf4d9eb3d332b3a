//! Helpers for the daemon tests: temp dirs, a daemon process cleaned up by PID, raw CLI sessions,
//! transcript loading and normalisation.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_birdd");

/// Deadline for anything a test waits for.
pub const WAIT: Duration = Duration::from_secs(15);

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "birdd-t-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A daemon started in the foreground; killed by PID on drop if still running.
pub struct Daemon {
    pub child: Child,
    pub socket: PathBuf,
}

impl Daemon {
    pub fn start(config: &Path, socket: &Path) -> Daemon {
        Self::start_with(config, socket, &[])
    }

    pub fn start_with(config: &Path, socket: &Path, extra: &[&str]) -> Daemon {
        let d = Self::spawn(config, socket, extra);
        d.wait_settled();
        d
    }

    /// Starts without waiting for the protocols to settle (BGP sessions without a peer stay in `start`).
    pub fn start_unsettled(config: &Path, socket: &Path) -> Daemon {
        Self::spawn(config, socket, &[])
    }

    /// Runs the daemon in the foreground and waits until its socket answers.
    fn spawn(config: &Path, socket: &Path, extra: &[&str]) -> Daemon {
        let child = Command::new(BIN)
            .arg("-f")
            .arg("-c")
            .arg(config)
            .arg("-s")
            .arg(socket)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(if std::env::var_os("BIRDD_TEST_STDERR").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .unwrap();
        let mut d = Daemon { child, socket: socket.to_owned() };
        d.wait_ready();
        d
    }

    /// Protocols run in their own loops and pipes feed through export journals: wait until no
    /// protocol is starting and the route counts stopped changing.
    pub fn wait_settled(&self) {
        let t = Instant::now();
        let mut last = String::new();
        while t.elapsed() < WAIT {
            let p = self.cmd("show protocols");
            let c = self.cmd("show route count table all");
            let now = format!("{p}{c}");
            let starting =
                p.lines().any(|l| l.contains(" start ") || l.contains(" flush ") || l.contains(" stop "));
            if !starting && now == last {
                return;
            }
            last = now;
            std::thread::sleep(Duration::from_millis(30));
        }
        panic!("daemon did not settle");
    }

    /// Repeats `c` until `pred` holds for its reply (bounded); returns the reply.
    pub fn wait_for(&self, c: &str, pred: impl Fn(&str) -> bool) -> String {
        let t = Instant::now();
        loop {
            let r = self.cmd(c);
            if pred(&r) {
                return r;
            }
            assert!(t.elapsed() < WAIT, "`{c}` never satisfied the condition; last reply:\n{r}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_ready(&mut self) {
        let t = Instant::now();
        while t.elapsed() < WAIT {
            if UnixStream::connect(&self.socket).is_ok() {
                return;
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!("daemon exited early: {st}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("daemon did not open {}", self.socket.display());
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn signal(&self, sig: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.pid()).unwrap();
        rustix::process::kill_process(pid, sig).unwrap();
    }

    /// Waits for the exit status (bounded).
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let t = Instant::now();
        while t.elapsed() < WAIT {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("daemon did not exit");
    }

    pub fn session(&self) -> Session {
        Session::connect(&self.socket)
    }

    /// One command on a fresh connection: the reply bytes.
    pub fn cmd(&self, c: &str) -> String {
        self.session().cmd(c)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A raw control-socket session.
pub struct Session {
    pub s: UnixStream,
    buf: Vec<u8>,
    pub greeting: String,
}

fn final_line_end(buf: &[u8]) -> Option<usize> {
    let mut start = 0;
    while let Some(nl) = buf[start..].iter().position(|&b| b == b'\n') {
        let line = &buf[start..start + nl];
        if line.len() >= 5 && line[..4].iter().all(u8::is_ascii_digit) && line[4] == b' ' {
            return Some(start + nl + 1);
        }
        start += nl + 1;
    }
    None
}

impl Session {
    pub fn connect(path: &Path) -> Session {
        let s = UnixStream::connect(path).unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        let mut x = Session { s, buf: Vec::new(), greeting: String::new() };
        x.greeting = x.read_reply();
        x
    }

    /// Reads up to and including the next final line.
    pub fn read_reply(&mut self) -> String {
        loop {
            if let Some(end) = final_line_end(&self.buf) {
                let rest = self.buf.split_off(end);
                let r = std::mem::replace(&mut self.buf, rest);
                return String::from_utf8(r).unwrap();
            }
            let mut b = [0u8; 65536];
            let n = self.s.read(&mut b).expect("reply (timeout?)");
            assert!(n > 0, "connection closed; got {:?}", String::from_utf8_lossy(&self.buf));
            self.buf.extend_from_slice(&b[..n]);
        }
    }

    /// Reads the next asynchronous `+text` line (waiting up to [`WAIT`]); returns it with its `\n`.
    pub fn read_async(&mut self) -> String {
        loop {
            if self.buf.first() == Some(&b'+') {
                if let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
                    let rest = self.buf.split_off(nl + 1);
                    let r = std::mem::replace(&mut self.buf, rest);
                    return String::from_utf8(r).unwrap();
                }
            }
            assert!(
                self.buf.is_empty() || self.buf[0] == b'+',
                "expected an async line, got {:?}",
                String::from_utf8_lossy(&self.buf)
            );
            let mut b = [0u8; 4096];
            let n = self.s.read(&mut b).expect("async line (timeout?)");
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&b[..n]);
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).unwrap();
    }

    pub fn cmd(&mut self, c: &str) -> String {
        self.send(format!("{c}\n").as_bytes());
        self.read_reply()
    }
}

/// A bird2 transcript's reply bytes.
pub fn transcript(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bird2").join(format!("{name}.out"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Replaces `YYYY-MM-DD HH:MM:SS[.fff]` and `HH:MM:SS[.fff]` times by `<T>`.
pub fn norm_times(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let digits = |at: usize, n: usize| at + n <= b.len() && b[at..at + n].iter().all(u8::is_ascii_digit);
    while i < b.len() {
        let date = digits(i, 4)
            && b.get(i + 4) == Some(&b'-')
            && digits(i + 5, 2)
            && b.get(i + 7) == Some(&b'-')
            && digits(i + 8, 2);
        let mut j = i;
        if date && b.get(i + 10) == Some(&b' ') {
            j = i + 11;
        }
        let time = digits(j, 2)
            && b.get(j + 2) == Some(&b':')
            && digits(j + 3, 2)
            && b.get(j + 5) == Some(&b':')
            && digits(j + 6, 2);
        if time && (j == i || date) {
            let mut k = j + 8;
            if b.get(k) == Some(&b'.') {
                k += 1;
                while k < b.len() && b[k].is_ascii_digit() {
                    k += 1;
                }
            }
            out.push_str("<T>");
            i = k;
            continue;
        }
        let c = s[i..].chars().next().unwrap();
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// Keeps only the route blocks of `show route` replies whose protocol is in `protos` (BIRD's lab also ran
/// kernel, direct and BGP protocols this build does not have), re-framed with birdcli's writer.
pub fn keep_routes_of(reply: &str, protos: &[&str]) -> String {
    let r = birdcli::Reply::parse(reply.as_bytes()).expect("a reply");
    let mut w = birdcli::ReplyWriter::new();
    let mut keep = true;
    for l in &r.lines {
        let birdcli::ReplyLine::Text { code, text, .. } = l else { continue };
        if *code == 1007 && text.contains(" [") {
            keep = protos.iter().any(|p| text.contains(&format!("[{p} ")));
        } else if *code == 1007 && text.starts_with("Table ") || text.is_empty() {
            keep = true;
        }
        if keep {
            if text.is_empty() {
                w.separator(*code);
            } else {
                w.line(*code, text);
            }
        }
    }
    w.finish(r.code, &r.text);
    String::from_utf8(w.take()).unwrap()
}

/// birdA.conf's static and pipe parts (static routes pinned to the lab's interface with `dev`; the
/// community constant of common.conf written out).
pub const BIRD_A: &str = r#"
router id 127.0.0.2;
timeformat protocol iso long;
timeformat route iso long;
ipv4 table master4;
ipv6 table master6;
ipv4 table lg4;

protocol static static4 {
  ipv4 {
    import all;
  };
  route 198.51.100.0/25 via 192.0.2.254 dev "vethA";
  route 198.51.100.128/25 blackhole {
    bgp_community.add((65535, 666));
  };
  route 192.0.2.128/26 via "vethA";
  route 100.64.99.0/24 unreachable;
}

protocol static static6 {
  ipv6;
  route 2001:db8:100::/48 via 2001:db8:1::fe dev "vethA";
  route 2001:db8:dead::/48 blackhole;
}

filter lg_export {
  if net ~ [ 100.64.0.0/10+ ] then reject;
  accept;
}

protocol pipe p_lg4 {
  table master4;
  peer table lg4;
  export filter lg_export;
  import none;
}
"#;
