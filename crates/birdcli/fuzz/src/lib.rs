//! The fuzz targets' bodies, shared by the libFuzzer binaries (`fuzz_targets/`, nightly
//! `cargo fuzz`) and the stable corpus replay (`tests/replay.rs`, run by `cargo xtask fuzz` when no
//! nightly toolchain with cargo-fuzz is available).
//!
//! Feed arbitrary bytes, split into chunks, to a control-socket `Session`. The first byte picks the
//! session flavour (bit 0: restricted, bit 1: v2 attributes); the rest is a sequence of chunks, each
//! a length byte (`len = byte % 64 + 1`) followed by that many bytes.
//! Every command the session hands out is answered with a final line, as the daemon would.
//! The output must always parse as a greeting followed by complete replies, each ending with a
//! final `CCCC ` line, and nothing may be left half-written once the session is idle.
//! In parallel a bare `LineDecoder` + `parse_command` run over the same chunks; they must not panic.

use birdcli::{parse_command, LineDecoder, Reply, ReplyParser, Request, Session, SessionConfig};

/// Every target: its name (the `fuzz_targets/<name>.rs` binary and `corpus/<name>` directory) and
/// its entry function.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[("cli_session", cli_session)];

/// Every newline-terminated line must be `CCCC-text`, `CCCC text`, ` text` or `+text`.
fn check_lines(out: &[u8]) {
    for line in out.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let ok = match line[0] {
            b'+' | b' ' => true,
            _ => {
                line.len() >= 5 && line[..4].iter().all(u8::is_ascii_digit) && matches!(line[4], b'-' | b' ')
            }
        };
        assert!(ok, "malformed reply line {:?}", String::from_utf8_lossy(line));
    }
}

/// The `cli_session` target, as described at the top of this file.
pub fn cli_session(data: &[u8]) {
    let Some((&flags, mut rest)) = data.split_first() else { return };
    let cfg =
        SessionConfig { version: "2.0.12".into(), restricted: flags & 1 != 0, v2_attributes: flags & 2 != 0 };
    let mut session = Session::new(&cfg);
    let mut decoder = LineDecoder::new();
    let mut out = Vec::new();
    let mut commands = 0usize;
    while let Some((&n, tail)) = rest.split_first() {
        let len = (n as usize % 64 + 1).min(tail.len());
        let (chunk, tail) = tail.split_at(len);
        rest = tail;

        decoder.feed(chunk);
        while let Some(req) = decoder.next_request() {
            if let Request::Command(line) = req {
                let _ = parse_command(&line);
            }
        }

        session.feed(chunk);
        while let Some(cmd) = session.next_command() {
            commands += 1;
            let _ = format!("{cmd:?}");
            session.writer().line(1000, format_args!("{cmd:?}"));
            session.writer().finish(0, "");
            assert!(!session.is_busy(), "session still busy after the final line");
        }
        out.extend_from_slice(&session.take_output());
    }
    out.extend_from_slice(&session.take_output());
    assert!(out.is_empty() || out.ends_with(b"\n"), "output ends mid-line");
    check_lines(&out);

    // Greeting + one reply per answered request, each closed by a final line.
    let mut parser = ReplyParser::new();
    parser.feed(&out);
    let mut replies = 0usize;
    while let Some(r) = parser.next_reply() {
        replies += 1;
        let enc = r.encode();
        let again = Reply::parse(&enc).expect("re-encoded reply parses");
        assert_eq!(again.code, r.code);
    }
    assert!(
        parser.pending_lines().iter().all(|l| matches!(l, birdcli::ReplyLine::Async(_))),
        "trailing reply lines without a final line: {:?}",
        parser.pending_lines()
    );
    assert!(replies >= 1 + commands, "replies {replies} < 1 + commands {commands}");
}
