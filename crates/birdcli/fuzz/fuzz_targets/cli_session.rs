//! Arbitrary bytes, in chunks, through a control-socket session: see [`birdcli_fuzz::cli_session`].
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| birdcli_fuzz::cli_session(data));
