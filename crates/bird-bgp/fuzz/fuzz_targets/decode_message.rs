//! Decode arbitrary bytes as one BGP message under every session context (4-byte ASNs or not,
//! extended messages, ADD-PATH, iBGP or eBGP). Decoding must never panic; whatever decodes is
//! re-encoded, and the re-encoding must decode and re-encode to the same bytes (a fixpoint). Where the
//! input was canonical (an UPDATE without RFC 7606 findings, any other message) the re-decoded message
//! must equal the first decode.
#![no_main]

use std::sync::OnceLock;

use bird_bgp::wire::{frame_len, EncodeError, Message, SessionCtx};
use birdtable::attrs::AttrValue;
use libfuzzer_sys::fuzz_target;

fn contexts() -> &'static [SessionCtx] {
    static C: OnceLock<Vec<SessionCtx>> = OnceLock::new();
    C.get_or_init(SessionCtx::all_combinations)
}

/// Whether the decoded message should survive encode → decode unchanged.
fn canonical(m: &Message) -> bool {
    match m {
        Message::Update(u) => {
            u.issues.is_empty()
                && u.update.attrs.iter().all(|e| {
                    // Unknown transitive attributes gain the Partial bit when passed on.
                    !matches!(e.value, AttrValue::Bytes(_)) || e.flags & 0x20 != 0
                })
        }
        _ => true,
    }
}

fuzz_target!(|data: &[u8]| {
    for ctx in contexts() {
        let len = match frame_len(data, ctx.max_len()) {
            Ok(Some(len)) => len,
            _ => continue,
        };
        let Ok(m) = Message::decode(&data[..len], ctx) else { continue };
        if let Message::Update(u) = &m {
            let _ = u.families();
            let _ = u.update.is_end_of_rib();
        }
        if let Message::Notification(n) = &m {
            let _ = n.to_string();
        }
        let e1 = match m.encode(ctx) {
            Ok(e) => e,
            Err(EncodeError::TooLong { .. }) => continue,
            Err(e) => {
                assert!(!canonical(&m), "canonical message failed to encode: {e} {m:?}");
                continue;
            }
        };
        let m2 = Message::decode(&e1, ctx).expect("our encoding decodes");
        let e2 = m2.encode(ctx).expect("re-encode");
        assert_eq!(e1, e2, "encoding is not a fixpoint");
        if canonical(&m) {
            assert_eq!(m2, m, "round trip changed the message");
        }
    }
});
