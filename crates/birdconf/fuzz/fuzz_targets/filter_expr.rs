//! Arbitrary text as a CLI filter expression and as a filter block: see
//! [`birdconf_fuzz::filter_expr`].
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| birdconf_fuzz::filter_expr(data));
