//! Parse arbitrary text (lossy UTF-8) as a whole BIRD configuration. Parsing must never panic; what
//! parses is compiled with birdfilter (custom attributes, functions, every named filter), which must
//! not panic either. Errors are fine.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(cfg) = birdconf::parse_str("fuzz.conf", &text) else { return };
    let Ok(program) = birdfilter::Program::compile(&cfg) else { return };
    for f in &cfg.filters {
        let _ = program.compile_filter(f);
    }
    for f in program.filters() {
        let _ = format!("{f:?}");
    }
});
