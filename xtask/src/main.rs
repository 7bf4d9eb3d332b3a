//! Project automation for birdd: `cargo xtask <command>`.
//!
//! | command  | what it runs |
//! |----------|--------------|
//! | `ci`     | what `.ci/run` runs: fmt check, clippy with `-D warnings`, the workspace tests, a short loom slice |
//! | `loom`   | every crate's `tests/loom.rs` under `--cfg loom` (`--quick` for the CI slice) |
//! | `miri`   | the crates with `unsafe` under miri (nightly; installs the component when missing) |
//! | `stress` | the long stress and soak tests (`#[ignore]`d in the normal run) in release mode |
//! | `netns-test` | the network-namespace scenarios (`tests/netns.rs` of each crate; root only) |
//!
//! Every step prints the command it runs; the first failing step stops the run with its exit code.

mod bench;
mod fuzz;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{exit, Command};

/// Crates whose lock-free protocols have loom models in `tests/loom.rs`.
const LOOM_CRATES: &[&str] = &["birdmem", "birdevent", "birdloop"];
/// Crates whose `tests/netns.rs` holds root-only scenarios in private network namespaces.
const NETNS_CRATES: &[&str] = &["birdkrt", "bird-bgp", "birdd"];
/// Crates with `unsafe` code whose tests can run under miri (syscalls faked).
const MIRI_CRATES: &[&str] = &["birdrcu", "birdmem", "birdevent"];

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        usage();
    };
    let rest = &args[1..];
    let result = match cmd.as_str() {
        "ci" => ci(),
        "loom" => loom(rest.iter().any(|a| a == "--quick")),
        "miri" => miri(),
        "stress" => stress(),
        "netns-test" => netns_test(),
        "bench" => bench::bench(rest),
        "fuzz" => fuzz::fuzz(rest),
        "-h" | "--help" | "help" => {
            print_help();
            Ok(())
        }
        other => {
            eprintln!("xtask: unknown command `{other}`");
            usage();
        }
    };
    if let Err(code) = result {
        exit(code);
    }
}

fn usage() -> ! {
    print_help();
    exit(2)
}

fn print_help() {
    eprintln!("usage: cargo xtask <ci | loom [--quick] | miri | stress | netns-test>");
}

type Step = Result<(), i32>;

fn root() -> PathBuf {
    // xtask lives one level below the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> Command {
    let mut c = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

fn run(what: &str, mut cmd: Command) -> Step {
    eprintln!("xtask: {what}: {cmd:?}");
    match cmd.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => {
            eprintln!("xtask: {what} failed ({s})");
            Err(s.code().unwrap_or(1))
        }
        Err(e) => {
            eprintln!("xtask: {what}: cannot start: {e}");
            Err(1)
        }
    }
}

fn has_loom_test(krate: &str) -> bool {
    root().join("crates").join(krate).join("tests/loom.rs").exists()
}

fn ci() -> Step {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    run("format", fmt)?;
    let mut clippy = cargo();
    clippy.args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
    run("clippy", clippy)?;
    let mut test = cargo();
    test.args(["test", "--workspace"]);
    run("tests", test)?;
    fuzz::fuzz(&["--quick".into()])?;
    loom(true)
}

fn loom(quick: bool) -> Step {
    let crates: Vec<&str> = LOOM_CRATES.iter().copied().filter(|c| has_loom_test(c)).collect();
    if crates.is_empty() {
        eprintln!("xtask: loom: no crate has tests/loom.rs yet");
        return Ok(());
    }
    let mut cmd = cargo();
    cmd.args(["test", "--release", "--test", "loom"]);
    for c in &crates {
        cmd.args(["-p", c]);
    }
    // A separate target dir keeps `--cfg loom` builds from invalidating the normal ones.
    cmd.env("CARGO_TARGET_DIR", root().join("target/loom"));
    cmd.env("RUSTFLAGS", "--cfg loom");
    if quick {
        // The CI slice: fewer preemptions bound the search; the full run explores more interleavings.
        cmd.env("LOOM_MAX_PREEMPTIONS", "2");
    } else if env::var_os("LOOM_MAX_PREEMPTIONS").is_none() {
        cmd.env("LOOM_MAX_PREEMPTIONS", "3");
    }
    run(if quick { "loom (quick slice)" } else { "loom" }, cmd)
}

fn miri() -> Step {
    let probe = Command::new("cargo").args(["+nightly", "miri", "--version"]).output();
    if !matches!(probe, Ok(ref o) if o.status.success()) {
        let mut add = Command::new("rustup");
        add.args(["component", "add", "--toolchain", "nightly", "miri", "rust-src"]);
        run("install miri", add)?;
    }
    let miri = |crates: &[&str], flags: &str, extra: &[&str]| {
        let mut cmd = Command::new("cargo");
        cmd.current_dir(root());
        cmd.args(["+nightly", "miri", "test"]);
        for c in crates {
            cmd.args(["-p", c]);
        }
        if !extra.is_empty() {
            cmd.arg("--").args(extra);
        }
        cmd.env("CARGO_TARGET_DIR", root().join("target/miri"));
        cmd.env("MIRIFLAGS", flags);
        cmd
    };
    // Strict provenance catches integer/pointer round trips in the page, list and journal code.
    run("miri (strict provenance)", miri(MIRI_CRATES, "-Zmiri-strict-provenance", &[]))?;
    // crossbeam-epoch (behind the RCU facade) casts integers to pointers and keeps a global collector
    // alive, so the RCU tests, skipped above, run under tree borrows with leak checks off.
    run(
        "miri (RCU, tree borrows)",
        miri(&["birdrcu"], "-Zmiri-tree-borrows -Zmiri-ignore-leaks", &["--include-ignored"]),
    )
}

fn stress() -> Step {
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--release", "--", "--ignored", "--test-threads=1"]);
    run("stress", cmd)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The namespace scenarios: every test creates its own namespaces and veth links, bounds its time and
/// cleans up by PID and namespace name. They are `#[ignore]`d in the normal run because they need root.
fn netns_test() -> Step {
    if !is_root() {
        eprintln!("xtask: netns-test: SKIPPED: the namespace scenarios need root (run as root or via sudo)");
        return Ok(());
    }
    let crates: Vec<&str> = NETNS_CRATES
        .iter()
        .copied()
        .filter(|c| root().join("crates").join(c).join("tests/netns.rs").exists())
        .collect();
    if crates.is_empty() {
        eprintln!("xtask: netns-test: no crate has tests/netns.rs yet");
        return Ok(());
    }
    for c in crates {
        let mut cmd = cargo();
        // One scenario at a time: they share the host's namespace list and CPU.
        cmd.args(["test", "--release", "-p", c, "--test", "netns*", "--", "--ignored", "--test-threads=1"]);
        run(&format!("netns scenarios of {c}"), cmd)?;
    }
    Ok(())
}
