//! Batched route writes: many `RTM_NEWROUTE`/`RTM_DELROUTE` messages in one buffer (one `sendmsg`), and the
//! accounting that maps each answer (`NLMSG_ERROR`, by sequence number) back to its write.
//!
//! The kernel processes a whole `sendmsg` buffer in order, synchronously (for `NETLINK_ROUTE`, inside the
//! sender's system call), and keeps going after a failed message. A failed message is always answered by
//! an `NLMSG_ERROR` with its errno; a successful one only when it asks (`NLM_F_ACK`). So only the *last*
//! message of a batch asks: its answer comes after the error of every earlier message of the batch, and
//! every message of the batch without an error answer by then succeeded. One acknowledgement per batch
//! instead of one per route; errors are still attributed to their write by sequence number.
//!
//! Answers can be lost when the socket's receive buffer overflows (the socket then reports `ENOBUFS`;
//! the writer bounds a batch so that an error for every message fits). Writes whose outcome is unknown
//! fail with [`KrtError::Backend`] and their caller gets [`Reply::Overrun`] so it rescans.
//!
//! A [`Write::DeleteAdd`] is two consecutive messages of one batch; the outcome of the delete is ignored
//! (the route may already be gone), the add's is the write's.

use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE,
    NLM_F_REQUEST,
};

use super::netlink::route_message;
use super::{KRoute, KrtError, Reply, Sink, Write};

const NLMSG_ERROR: u16 = 2;
const NLMSG_HDRLEN: usize = 16;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Delete,
}

/// The outcome of one write: `(id, result)`.
type Outcome1 = (u64, Result<(), KrtError>);

/// One write of a batch.
struct Entry {
    id: u64,
    sink: Sink,
    result: Option<Result<(), KrtError>>,
}

/// One message of a batch (sequence number `seq0 + index`).
struct Slot {
    entry: usize,
    /// Whether this message's answer is the write's outcome (not for the delete half of a DeleteAdd).
    counts: bool,
}

/// A batch of writes being built, sent and acknowledged.
pub(crate) struct Batch {
    seq0: u32,
    buf: Vec<u8>,
    entries: Vec<Entry>,
    slots: Vec<Slot>,
    /// Offset of the last message's header in `buf`.
    last_at: usize,
    /// The last message has been answered.
    done: bool,
}

/// The replies of a finished batch: per sink (consecutive writes of one sink grouped), and whether answers
/// were lost.
pub(crate) struct Outcome {
    /// `(sink, [(id, result)])`.
    pub(crate) replies: Vec<(Sink, Vec<Outcome1>)>,
    /// Some answers never came (receive buffer overflow, timeout, send failure).
    pub(crate) lost: bool,
}

impl Batch {
    /// An empty batch whose first message gets sequence number `seq0`.
    pub(crate) fn new(seq0: u32) -> Batch {
        Batch {
            seq0,
            buf: Vec::with_capacity(64 * 1024),
            entries: Vec::new(),
            slots: Vec::new(),
            last_at: 0,
            done: false,
        }
    }

    /// Bytes so far.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// The bytes to send: the last message now asks for an acknowledgement.
    pub(crate) fn seal(&mut self) -> &[u8] {
        if !self.slots.is_empty() {
            let at = self.last_at + 6;
            let flags = u16::from_ne_bytes([self.buf[at], self.buf[at + 1]]) | NLM_F_ACK;
            self.buf[at..at + 2].copy_from_slice(&flags.to_ne_bytes());
        }
        &self.buf
    }

    /// Messages in the batch.
    pub(crate) fn messages(&self) -> usize {
        self.slots.len()
    }

    /// Writes in the batch.
    pub(crate) fn writes(&self) -> usize {
        self.entries.len()
    }

    /// The sequence number the next batch should start with.
    pub(crate) fn next_seq(&self) -> u32 {
        self.seq0.wrapping_add(u32::try_from(self.slots.len()).unwrap_or(u32::MAX))
    }

    /// Whether the batch's outcome is known (the last message has been answered).
    pub(crate) fn complete(&self) -> bool {
        self.done || self.slots.is_empty()
    }

    fn message(&mut self, op: Op, r: &KRoute, entry: usize, counts: bool) {
        let seq = self.next_seq();
        let m = route_message(r, true);
        let (payload, flags) = match op {
            Op::Add => (RouteNetlinkMessage::NewRoute(m), NLM_F_CREATE | NLM_F_EXCL),
            Op::Replace => (RouteNetlinkMessage::NewRoute(m), NLM_F_CREATE | NLM_F_REPLACE),
            Op::Delete => (RouteNetlinkMessage::DelRoute(m), 0),
        };
        let mut h = NetlinkHeader::default();
        h.flags = NLM_F_REQUEST | flags;
        h.sequence_number = seq;
        let mut msg = NetlinkMessage::new(h, NetlinkPayload::InnerMessage(payload));
        msg.finalize();
        let at = self.buf.len();
        self.last_at = at;
        self.buf.resize(at + msg.buffer_len(), 0);
        msg.serialize(&mut self.buf[at..]);
        self.slots.push(Slot { entry, counts });
    }

    /// Append one write (one message, two for a delete-then-add).
    pub(crate) fn push(&mut self, id: u64, w: &Write, sink: Sink) {
        let e = self.entries.len();
        self.entries.push(Entry { id, sink, result: None });
        match w {
            Write::Add(r) => self.message(Op::Add, r, e, true),
            Write::Replace(r) => self.message(Op::Replace, r, e, true),
            Write::Delete(r) => self.message(Op::Delete, r, e, true),
            Write::DeleteAdd(o, n) => {
                self.message(Op::Delete, o, e, false);
                self.message(Op::Add, n, e, true);
            }
        }
    }

    /// Account the answers in `data` (what one `recv` returned: any number of netlink messages). Answers
    /// to other sequence numbers (an earlier batch that timed out) are ignored.
    pub(crate) fn ack(&mut self, mut data: &[u8]) {
        while data.len() >= NLMSG_HDRLEN {
            let len = u32::from_ne_bytes([data[0], data[1], data[2], data[3]]) as usize;
            if len < NLMSG_HDRLEN || len > data.len() {
                return;
            }
            let kind = u16::from_ne_bytes([data[4], data[5]]);
            let seq = u32::from_ne_bytes([data[8], data[9], data[10], data[11]]);
            if kind == NLMSG_ERROR && len >= NLMSG_HDRLEN + 4 {
                let code = i32::from_ne_bytes([data[16], data[17], data[18], data[19]]);
                self.answer(seq, code);
            }
            let step = (len + 3) & !3;
            data = &data[step.min(data.len())..];
        }
    }

    fn answer(&mut self, seq: u32, code: i32) {
        let i = seq.wrapping_sub(self.seq0) as usize;
        let Some(slot) = self.slots.get(i) else { return };
        if self.done {
            return;
        }
        if code != 0 && slot.counts {
            let errno = -code;
            let e = &mut self.entries[slot.entry];
            if e.result.is_none() {
                e.result = Some(Err(KrtError::Kernel {
                    errno,
                    msg: std::io::Error::from_raw_os_error(errno).to_string(),
                }));
            }
        }
        if i + 1 == self.slots.len() {
            // Everything before has been answered if it failed: the rest succeeded.
            self.done = true;
            for e in &mut self.entries {
                e.result.get_or_insert(Ok(()));
            }
        }
    }

    /// The replies. When the batch is not [`Batch::complete`], writes without an error answer fail with
    /// `why` (answers lost: the caller must rescan).
    pub(crate) fn finish(self, why: &str) -> Outcome {
        let mut lost = false;
        let mut replies: Vec<(Sink, Vec<Outcome1>)> = Vec::new();
        for e in self.entries {
            let result = e.result.unwrap_or_else(|| {
                lost = true;
                Err(KrtError::Backend(why.to_owned()))
            });
            match replies.last_mut() {
                Some((s, v)) if std::sync::Arc::ptr_eq(s, &e.sink) => v.push((e.id, result)),
                _ => replies.push((e.sink, vec![(e.id, result)])),
            }
        }
        Outcome { replies, lost }
    }
}

impl Outcome {
    /// Deliver: one [`Reply::Written`] per group, then [`Reply::Overrun`] to each sink that lost answers.
    pub(crate) fn deliver(self) {
        let any_lost = self.lost;
        for (sink, v) in self.replies {
            let lost = any_lost && v.iter().any(|(_, r)| matches!(r, Err(KrtError::Backend(_))));
            sink(Reply::Written(v));
            if lost {
                sink(Reply::Overrun);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::super::{KDest, KHop, RTPROT_BIRD};
    use super::*;

    fn kr(net: &str) -> KRoute {
        KRoute {
            net: net.parse().unwrap(),
            table: 100,
            metric: 32,
            proto: RTPROT_BIRD,
            dest: KDest::unicast(vec![KHop {
                gw: Some("198.18.0.2".parse().unwrap()),
                ifindex: 2,
                weight: 0,
                onlink: false,
            }]),
            prefsrc: None,
        }
    }

    /// The answer the kernel would send to message `seq`.
    fn answer(seq: u32, code: i32) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&36u32.to_ne_bytes());
        v.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        v.extend_from_slice(&0x100u16.to_ne_bytes()); // NLM_F_CAPPED
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&77u32.to_ne_bytes());
        v.extend_from_slice(&code.to_ne_bytes());
        v.extend_from_slice(&[0u8; 16]); // the request's header
        v
    }

    /// Parse the batch's buffer back: `(type, flags, seq)` of each message.
    fn headers(b: &[u8]) -> Vec<(u16, u16, u32)> {
        let mut out = Vec::new();
        let mut d = b;
        while !d.is_empty() {
            let len = u32::from_ne_bytes(d[0..4].try_into().unwrap()) as usize;
            out.push((
                u16::from_ne_bytes(d[4..6].try_into().unwrap()),
                u16::from_ne_bytes(d[6..8].try_into().unwrap()),
                u32::from_ne_bytes(d[8..12].try_into().unwrap()),
            ));
            d = &d[((len + 3) & !3)..];
        }
        out
    }

    type Got = Arc<Mutex<Vec<Reply>>>;

    fn sink() -> (Sink, Got) {
        let got: Got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        (Arc::new(move |r| g.lock().unwrap().push(r)), got)
    }

    #[test]
    fn messages_flags_and_sequence_numbers() {
        let (s, _) = sink();
        let mut b = Batch::new(u32::MAX - 1); // wraps around
        assert!(b.complete() && b.seal().is_empty());
        b.push(1, &Write::Add(kr("198.18.1.0/24")), s.clone());
        b.push(2, &Write::Replace(kr("198.18.2.0/24")), s.clone());
        b.push(3, &Write::Delete(kr("198.18.3.0/24")), s.clone());
        b.push(4, &Write::DeleteAdd(kr("198.18.4.0/24"), kr("198.18.4.0/24")), s);
        assert_eq!((b.writes(), b.messages()), (4, 5));
        let (new, del) = (24u16, 25u16);
        let r = NLM_F_REQUEST;
        // Only the last message asks for an acknowledgement.
        assert_eq!(
            headers(b.seal()),
            vec![
                (new, r | NLM_F_CREATE | NLM_F_EXCL, u32::MAX - 1),
                (new, r | NLM_F_CREATE | NLM_F_REPLACE, u32::MAX),
                (del, r, 0),
                (del, r, 1),
                (new, r | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 2),
            ]
        );
        assert_eq!(b.next_seq(), 3);
        assert!(!b.complete());
    }

    fn kerr(errno: i32) -> Result<(), KrtError> {
        Err(KrtError::Kernel { errno, msg: std::io::Error::from_raw_os_error(errno).to_string() })
    }

    #[test]
    fn errors_are_attributed_to_their_write() {
        let (s1, got1) = sink();
        let (s2, got2) = sink();
        let mut b = Batch::new(1000);
        b.push(10, &Write::Add(kr("198.18.1.0/24")), s1.clone()); // seq 1000: ok
        b.push(11, &Write::Add(kr("198.18.2.0/24")), s1.clone()); // seq 1001: EEXIST
        b.push(12, &Write::DeleteAdd(kr("198.18.3.0/24"), kr("198.18.3.0/24")), s1.clone()); // 1002 ESRCH (ignored), 1003 ok
        b.push(13, &Write::Delete(kr("198.18.4.0/24")), s2); // seq 1004: ESRCH
        b.push(14, &Write::Replace(kr("198.18.5.0/24")), s1); // seq 1005: EINVAL, the acknowledged one
        b.seal();
        // Answers arrive in several reads; one read may hold several; a stale answer of an earlier batch
        // is ignored.
        b.ack(&[answer(999, -17), answer(1001, -17)].concat());
        assert!(!b.complete());
        b.ack(&[answer(1002, -3), answer(1004, -3)].concat());
        assert!(!b.complete());
        b.ack(&answer(1005, -22));
        assert!(b.complete());
        b.ack(&answer(1000, -22)); // after the end: changes nothing
        let out = b.finish("lost");
        assert!(!out.lost);
        out.deliver();
        assert_eq!(
            *got1.lock().unwrap(),
            vec![
                Reply::Written(vec![(10, Ok(())), (11, kerr(17)), (12, Ok(()))]),
                Reply::Written(vec![(14, kerr(22))]),
            ]
        );
        assert_eq!(*got2.lock().unwrap(), vec![Reply::Written(vec![(13, kerr(3))])]);
    }

    #[test]
    fn a_successful_last_write_acknowledges_the_batch() {
        let (s, got) = sink();
        let mut b = Batch::new(7);
        for i in 0..3 {
            b.push(i, &Write::Add(kr(&format!("198.18.{i}.0/24"))), s.clone());
        }
        b.seal();
        b.ack(&answer(9, 0));
        assert!(b.complete());
        b.finish("lost").deliver();
        assert_eq!(*got.lock().unwrap(), vec![Reply::Written(vec![(0, Ok(())), (1, Ok(())), (2, Ok(()))])]);
    }

    #[test]
    fn lost_answers_fail_their_writes_and_ask_for_a_rescan() {
        let (s, got) = sink();
        let mut b = Batch::new(1);
        b.push(1, &Write::Add(kr("198.18.1.0/24")), s.clone());
        b.push(2, &Write::Add(kr("198.18.2.0/24")), s.clone());
        b.push(3, &Write::Add(kr("198.18.3.0/24")), s);
        b.seal();
        b.ack(&answer(2, -17));
        assert!(!b.complete());
        let out = b.finish("answers lost (ENOBUFS)");
        assert!(out.lost);
        out.deliver();
        let lost = || Err(KrtError::Backend("answers lost (ENOBUFS)".into()));
        assert_eq!(
            *got.lock().unwrap(),
            vec![Reply::Written(vec![(1, lost()), (2, kerr(17)), (3, lost())]), Reply::Overrun]
        );
    }
}
