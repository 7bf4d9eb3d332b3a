//! Parse arbitrary text (lossy UTF-8) as a filter expression (the CLI's `eval`), compile it with an
//! empty program and evaluate it without a route under `Limits::RESTRICTED`. Also try the text as a
//! filter block. Nothing may panic; evaluation is bounded by the step budget.
#![no_main]

use birdfilter::{Limits, Program};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
});
