//! Arbitrary text as a whole BIRD configuration: see [`birdconf_fuzz::parse_config`].
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| birdconf_fuzz::parse_config(data));
