//! The fuzz targets' bodies, shared by the libFuzzer binaries (`fuzz_targets/`, nightly
//! `cargo fuzz`) and the stable corpus replay (`tests/replay.rs`, run by `cargo xtask fuzz` when no
//! nightly toolchain with cargo-fuzz is available).

/// Every target: its name (the `fuzz_targets/<name>.rs` binary and `corpus/<name>` directory) and
/// its entry function.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[("parse_config", parse_config), ("filter_expr", filter_expr)];

/// Parse arbitrary text (lossy UTF-8) as a whole BIRD configuration. Parsing must never panic;
/// what parses is compiled with birdfilter (custom attributes, functions, every named filter),
/// which must not panic either. Errors are fine.
pub fn parse_config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(cfg) = birdconf::parse_str("fuzz.conf", &text) else { return };
    let Ok(program) = birdfilter::Program::compile(&cfg) else { return };
    for f in &cfg.filters {
        let _ = program.compile_filter(f);
    }
    for f in program.filters() {
        let _ = format!("{f:?}");
    }
}

/// Parse arbitrary text (lossy UTF-8) as a filter expression (the CLI's `eval`), compile it with
/// an empty program and evaluate it without a route under `Limits::RESTRICTED`. Also try the text
/// as a filter block. Nothing may panic; evaluation is bounded by the step budget.
pub fn filter_expr(data: &[u8]) {
    use birdfilter::{Limits, Program};
    let text = String::from_utf8_lossy(data);
    let program = Program::default();
    if let Ok(e) = birdconf::parse_filter_expr(&text) {
        if let Ok(c) = program.compile_expr(&e) {
            if let Ok(v) = c.eval(None, Limits::RESTRICTED) {
                let _ = v.to_string();
            }
        }
        let _ = program.eval_text(&e);
    }
    if let Ok(f) = birdconf::parse_filter_block(&text) {
        let _ = program.compile_filter(&f);
    }
}
