//! Inputs the fuzzer (fuzz/fuzz_targets/decode_message.rs) found, checked the same way here.

mod common;

use bird_bgp::wire::{frame_len, EncodeError, Message, SessionCtx};
use birdtable::attrs::AttrValue;
use common::hex;

fn canonical(m: &Message) -> bool {
    match m {
        Message::Update(u) => {
            u.issues.is_empty()
                && u.update
                    .attrs
                    .iter()
                    .all(|e| !matches!(e.value, AttrValue::Bytes(_)) || e.flags & 0x20 != 0)
        }
        _ => true,
    }
}

fn check(data: &[u8]) {
    for ctx in SessionCtx::all_combinations() {
        let Ok(Some(len)) = frame_len(data, ctx.max_len()) else { continue };
        let Ok(m) = Message::decode(&data[..len], &ctx) else { continue };
        let e1 = match m.encode(&ctx) {
            Ok(e) => e,
            Err(EncodeError::TooLong { .. }) => continue,
            Err(e) => {
                assert!(!canonical(&m), "{e}");
                continue;
            }
        };
        let m2 = Message::decode(&e1, &ctx).expect("our encoding decodes");
        assert_eq!(e1, m2.encode(&ctx).expect("re-encode"));
        if canonical(&m) {
            assert_eq!(m2, m);
        }
    }
}

#[test]
fn stray_low_flag_bits_are_not_kept() {
    // ORIGIN with flags 0x43; an unknown optional non-transitive attribute before it.
    check(&hex("ffffffffffffffffffffffffffffffff0043020000002c800c1c0002010c28010db800000a00430000000000000002400206020000004301010240020602010000fdea"));
}
