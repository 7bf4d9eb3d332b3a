//! Stable replay of the fuzz corpus: every file of `corpus/<target>/` (and of `artifacts/<target>/`
//! when present) goes through the target's entry function, as the libFuzzer binary would run it.
//! No nightly toolchain, cargo-fuzz or libFuzzer needed:
//!
//! ```text
//! cargo test --manifest-path crates/birdcli/fuzz/Cargo.toml --no-default-features --test replay [-- TARGET...]
//! ```
//!
//! A panic, or an input slower than `REPLAY_SLOW_SECS` (default 5 s), fails the run; every failing
//! file is named. `REPLAY_VERBOSE=1` names each file before running it (to find an input that
//! aborts the process, e.g. by a stack overflow).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use birdcli_fuzz::TARGETS;

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
    v.sort();
    v
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // `cargo test` passes harness flags (`--nocapture`...) too: only known target names select.
    let wanted: Vec<String> =
        std::env::args().skip(1).filter(|a| TARGETS.iter().any(|(n, _)| n == a)).collect();
    let slow = Duration::from_secs_f64(
        std::env::var("REPLAY_SLOW_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(5.0),
    );
    let verbose = std::env::var_os("REPLAY_VERBOSE").is_some();
    let mut failures = Vec::new();
    for (name, run) in TARGETS {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == name) {
            continue;
        }
        let corpus = files(&root.join("corpus").join(name));
        let artifacts = files(&root.join("artifacts").join(name));
        let start = Instant::now();
        let mut slowest = (Duration::ZERO, None);
        for f in corpus.iter().chain(&artifacts) {
            let Ok(data) = std::fs::read(f) else {
                failures.push(format!("{name}: cannot read {}", f.display()));
                continue;
            };
            if verbose {
                eprintln!("replay {name}: {}", f.display());
            }
            let t = Instant::now();
            let r = catch_unwind(AssertUnwindSafe(|| run(&data)));
            let took = t.elapsed();
            if r.is_err() {
                failures.push(format!("{name}: panic on {}", f.display()));
            } else if took > slow {
                failures.push(format!("{name}: slow input ({took:.1?}) {}", f.display()));
            }
            if took > slowest.0 {
                slowest = (took, Some(f.clone()));
            }
        }
        println!(
            "replay {name}: {} corpus + {} artifact inputs in {:.1?}, slowest {:.1?}{}",
            corpus.len(),
            artifacts.len(),
            start.elapsed(),
            slowest.0,
            slowest
                .1
                .map(|f| format!(" ({})", f.file_name().unwrap_or_default().to_string_lossy()))
                .unwrap_or_default()
        );
    }
    if !failures.is_empty() {
        for f in &failures {
            println!("FAILED {f}");
        }
        std::process::exit(1);
    }
}
