//! `cargo xtask fuzz [--quick] [--stable] [--seconds N] [PROJECT...]`: the cargo-fuzz projects
//! (`crates/<crate>/fuzz`, outside the workspace).
//!
//! Three modes, the first that can run, named on stdout:
//!
//! * **libFuzzer with AddressSanitizer**, when `cargo +nightly fuzz --version` works and `--quick`
//!   is not given: every target of every project runs under libFuzzer for a bounded time
//!   (`-max_total_time`: 300 s per target; `--seconds N` or `XTASK_FUZZ_SECONDS` to change), after
//!   replaying its checked-in corpus (`fuzz/corpus/<target>`) and any local `fuzz/artifacts/<target>`
//!   (libFuzzer runs every input of its corpus directories before mutating).
//! * **libFuzzer without a sanitizer**, when `cargo fuzz --version` works (cargo-fuzz installed,
//!   `cargo install cargo-fuzz`; `.ci/run` installs it) on the pinned stable toolchain, or with
//!   `--quick` on nightly: the same runs, built with `--sanitizer none` (coverage instrumentation
//!   only, which stable rustc supports). `--quick` (what `cargo xtask ci` asks for) gives each
//!   target 20 s. Safe Rust needs no sanitizer to turn a bug into a crash: panics, overflows (debug
//!   assertions are on) and slow inputs are what the targets look for.
//!
//!   In both libFuzzer modes new inputs go to a scratch directory under the target directory, never
//!   into the repository; crashes and timeouts (`-timeout=10`) land in `fuzz/artifacts/<target>/`
//!   as usual and fail the step.
//! * **stable replay**, when cargo-fuzz is not installed, with `--stable`, or with
//!   `XTASK_FUZZ_MODE=stable` (to keep a local `cargo xtask ci` short): each project with a
//!   `fuzz/tests/replay.rs` runs it (`cargo test --no-default-features --test replay`, no
//!   libFuzzer, no C++ build). It feeds every checked-in corpus and artifact file to the same entry
//!   function the fuzz target calls and fails on a panic or an input slower than 5 s. Nothing new is
//!   generated in this mode. A project without a replay harness is named and skipped.
//!
//! Builds go to `$CARGO_TARGET_DIR` (or `target/`) under `fuzz/<project>` and `fuzz-replay`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, root, run, Step};

/// Crates with a cargo-fuzz project in `crates/<crate>/fuzz`.
const PROJECTS: &[&str] = &["birdconf", "birdcli", "bird-bgp"];

/// Seconds per target under libFuzzer.
const QUICK_SECONDS: u64 = 20;
const FULL_SECONDS: u64 = 300;

/// libFuzzer's per-input limit: a slower input is reported as a timeout.
const INPUT_TIMEOUT_SECONDS: u64 = 10;

pub(crate) fn fuzz(args: &[String]) -> Step {
    let mut quick = false;
    let mut stable = env::var("XTASK_FUZZ_MODE").is_ok_and(|m| m == "stable");
    let mut seconds = env::var("XTASK_FUZZ_SECONDS").ok().and_then(|s| s.parse::<u64>().ok());
    let mut only: Vec<&str> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--stable" => stable = true,
            "--seconds" => match it.next().and_then(|s| s.parse().ok()) {
                Some(n) => seconds = Some(n),
                None => return usage("--seconds needs a number"),
            },
            p if PROJECTS.contains(&p) => only.push(p),
            other => return usage(&format!("unknown argument `{other}`")),
        }
    }
    let seconds = seconds.unwrap_or(if quick { QUICK_SECONDS } else { FULL_SECONDS });
    let projects: Vec<&str> = PROJECTS
        .iter()
        .copied()
        .filter(|p| only.is_empty() || only.contains(p))
        .filter(|p| fuzz_dir(p).join("Cargo.toml").exists())
        .collect();
    let engine = if stable {
        None
    } else if !quick && nightly_cargo_fuzz() {
        Some(Engine::NightlyAsan)
    } else if stable_cargo_fuzz() {
        Some(Engine::Plain { nightly: false })
    } else if nightly_cargo_fuzz() {
        Some(Engine::Plain { nightly: true })
    } else {
        None
    };
    if let Some(engine) = engine {
        println!(
            "xtask fuzz: mode: libFuzzer {} (cargo{} fuzz), {seconds} s per target after replaying its corpus",
            if engine == Engine::NightlyAsan { "with AddressSanitizer" } else { "without a sanitizer" },
            if matches!(engine, Engine::Plain { nightly: false }) { "" } else { " +nightly" },
        );
        for p in &projects {
            for t in targets(p) {
                run(&format!("fuzz {p}/{t} ({seconds} s)"), libfuzzer_run(engine, p, &t, seconds))?;
            }
        }
        println!("xtask fuzz: libFuzzer mode done: no crash, no timeout");
    } else {
        println!(
            "xtask fuzz: mode: stable replay ({}): checked-in corpus and artifacts through the targets' \
             entry functions on the stable toolchain; no new inputs are generated",
            if stable { "asked for" } else { "cargo-fuzz is not installed: cargo install cargo-fuzz" }
        );
        for p in &projects {
            if !fuzz_dir(p).join("tests/replay.rs").exists() {
                println!("xtask fuzz: {p}/fuzz: SKIPPED: no stable replay harness (fuzz/tests/replay.rs)");
                continue;
            }
            let mut cmd = cargo();
            cmd.args(["test", "--no-default-features", "--test", "replay", "--manifest-path"]);
            cmd.arg(fuzz_dir(p).join("Cargo.toml"));
            cmd.env("CARGO_TARGET_DIR", target_base().join("fuzz-replay"));
            run(&format!("fuzz corpus replay of {p}"), cmd)?;
        }
        println!("xtask fuzz: stable replay done: no panic, no slow input");
    }
    Ok(())
}

fn usage(msg: &str) -> Step {
    eprintln!("xtask fuzz: {msg}");
    eprintln!("usage: cargo xtask fuzz [--quick] [--stable] [--seconds N] [{}]...", PROJECTS.join(" | "));
    Err(2)
}

fn fuzz_dir(project: &str) -> PathBuf {
    root().join("crates").join(project).join("fuzz")
}

fn target_base() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// The targets of a project: `fuzz/fuzz_targets/<name>.rs`, sorted.
fn targets(project: &str) -> Vec<String> {
    let dir = fuzz_dir(project).join("fuzz_targets");
    let mut v = Vec::new();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "rs") {
            if let Some(stem) = path.file_stem() {
                v.push(stem.to_string_lossy().into_owned());
            }
        }
    }
    v.sort();
    v
}

/// `cargo` through rustup with the nightly toolchain, without the variables the stable `cargo run`
/// of xtask passes down (they would pin the toolchain).
fn nightly_cargo() -> Command {
    let mut c = Command::new("cargo");
    c.arg("+nightly");
    for v in ["RUSTUP_TOOLCHAIN", "CARGO", "RUSTC", "RUSTDOC"] {
        c.env_remove(v);
    }
    c
}

fn nightly_cargo_fuzz() -> bool {
    let mut c = nightly_cargo();
    c.args(["fuzz", "--version"]);
    matches!(c.output(), Ok(o) if o.status.success())
}

/// cargo-fuzz under the toolchain xtask runs with (the pinned stable one).
fn stable_cargo_fuzz() -> bool {
    let mut c = cargo();
    c.args(["fuzz", "--version"]);
    matches!(c.output(), Ok(o) if o.status.success())
}

/// How a libFuzzer run is built.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Engine {
    /// Nightly toolchain, AddressSanitizer (cargo-fuzz's default).
    NightlyAsan,
    /// Coverage instrumentation only (`--sanitizer none`), on nightly or the pinned stable toolchain.
    Plain { nightly: bool },
}

fn libfuzzer_run(engine: Engine, project: &str, target: &str, seconds: u64) -> Command {
    let dir = fuzz_dir(project);
    let out = target_base().join("fuzz").join(project);
    // libFuzzer adds new inputs to its first corpus directory: a scratch one, not the repository's.
    let scratch = out.join("new-corpus").join(target);
    let _ = std::fs::create_dir_all(&scratch);
    let mut c = if engine == (Engine::Plain { nightly: false }) { cargo() } else { nightly_cargo() };
    c.current_dir(root().join("crates").join(project));
    c.args(["fuzz", "run"]);
    if engine != Engine::NightlyAsan {
        c.args(["--sanitizer", "none"]);
    }
    c.arg("--target-dir").arg(&out);
    c.arg(target);
    c.arg(&scratch);
    for d in [dir.join("corpus").join(target), dir.join("artifacts").join(target)] {
        if has_files(&d) {
            c.arg(d);
        }
    }
    c.arg("--");
    c.arg(format!("-max_total_time={seconds}"));
    c.arg(format!("-timeout={INPUT_TIMEOUT_SECONDS}"));
    c.arg("-print_final_stats=1");
    c
}

fn has_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).map(|mut rd| rd.next().is_some()).unwrap_or(false)
}
