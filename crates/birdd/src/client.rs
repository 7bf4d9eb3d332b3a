//! `birdd ctl [-s socket] [-r] [command...]`: a birdc-like client for machines without birdc.
//!
//! One-shot with a command (exit status 0 unless the reply's final code is 8000 or more, like birdc);
//! without one, reads commands from stdin, one per line, and prints each reply. `quit`, `exit` and
//! `help` are handled locally (BIRD never answers them).

use std::io::{self, BufRead, Write};

use birdcli::Client;

use crate::args::CtlArgs;

fn local_word(cmd: &str) -> bool {
    matches!(cmd.trim(), "quit" | "exit" | "help" | "?")
}

/// Runs the client; returns the exit status.
pub fn run(a: CtlArgs) -> i32 {
    let path = crate::paths::socket_path(a.socket.as_deref());
    let mut c = match Client::connect(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Unable to connect to server control socket ({}): {e}", path.display());
            return 1;
        }
    };
    let mut out = io::stdout().lock();
    let _ = write!(out, "{}", c.greeting().birdc_text());
    if a.restricted {
        match c.restrict() {
            Ok(r) if r.code == birdcli::code::RESTRICTED => {}
            Ok(r) => {
                let _ = write!(out, "{}", r.birdc_text());
                return 1;
            }
            Err(e) => {
                eprintln!("birdd ctl: {e}");
                return 1;
            }
        }
    }
    if !a.command.is_empty() {
        let cmd = a.command.join(" ");
        if local_word(&cmd) {
            return 0;
        }
        return match c.command(&cmd) {
            Ok(r) => {
                let _ = write!(out, "{}", r.birdc_text());
                r.exit_status()
            }
            Err(e) => {
                eprintln!("birdd ctl: {e}");
                1
            }
        };
    }
    let mut status = 0;
    for line in io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let cmd = line.trim();
        if cmd.is_empty() {
            continue;
        }
        if matches!(cmd, "quit" | "exit") {
            break;
        }
        if local_word(cmd) {
            continue;
        }
        match c.command(cmd) {
            Ok(r) => {
                let _ = write!(out, "{}", r.birdc_text());
                let _ = out.flush();
                status = r.exit_status();
            }
            Err(e) => {
                eprintln!("birdd ctl: {e}");
                return 1;
            }
        }
    }
    status
}
