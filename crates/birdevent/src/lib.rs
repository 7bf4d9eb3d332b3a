//! Events and lock-free event lists, callbacks, work-event lists and use counts: the message-passing
//! primitive of birdd. Any thread sends an [`Event`] to an [`EventList`]; exactly one thread at a time (the
//! list's loop) runs it.
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//! use birdevent::{Event, EventList};
//!
//! let list = EventList::new("example");
//! let hits = Arc::new(AtomicUsize::new(0));
//! let h = hits.clone();
//! let ev = Event::new("count", move || {
//!     h.fetch_add(1, Ordering::Relaxed);
//! });
//!
//! let sender = {
//!     let (list, ev) = (list.clone(), ev.clone());
//!     std::thread::spawn(move || {
//!         list.send(&ev);
//!         list.send(&ev); // already queued: a no-op
//!     })
//! };
//! sender.join().unwrap();
//! assert!(ev.is_queued());
//! assert!(!list.run(EventList::UNLIMITED)); // runs it once; nothing left
//! assert_eq!(hits.load(Ordering::Relaxed), 1);
//! ```
//!
//! # Data
//!
//! ```text
//!   Event (Arc) ─ next: AtomicPtr<Event>   link in the one list chain the event is on
//!                 list: AtomicPtr<Core>    claim: null = not queued, else the list (+ PINNED bit)
//!                 name, hook
//!
//!   EventList ──> Core ─ receiver   inbox, LIFO, pushed by senders with CAS
//!                        executor   FIFO of taken events not yet run (consumer only)
//!                        consumer   0 | token of the consuming thread | DRAINING
//!                        waker
//! ```
//!
//! An event is on at most one list at a time and in at most one chain of it. While queued, the list owns one
//! strong reference of the event (`Arc::into_raw` at the push, `Arc::from_raw` when it is run, cancelled or
//! released), so the event outlives its owner's handles.
//!
//! # Protocol: who writes what, in which order
//!
//! **Send** (any thread) — [`EventList::send`]:
//! 1. Claim: CAS `list` from null to this list (`AcqRel`). If it already holds this list, the send is
//!    idempotent; it writes the same value back with a `Release` CAS and returns. If it holds another list the
//!    send panics naming the event and both lists.
//! 2. Push: `next = head` (relaxed), then CAS `receiver` from `head` to the event (`Release`), retrying on
//!    contention. Between 1 and 2 the event is claimed but on no chain; only `cancel` can observe that window,
//!    and it waits for the push (a few instructions).
//! 3. If `head` was null, call the waker.
//!
//! **Run** (the consumer) — [`EventList::run`]: take the consumer flag (CAS `0 -> token`, `Acquire`; a
//! different owner means a second consumer: panic). If the executor chain is empty, swap `receiver` with null
//! (`Acquire`) and reverse the chain into the executor. Then for each event up to the limit: unlink it, clear
//! `next`, release the claim with a CAS `list -> null` (`AcqRel`) and only then run the hook, so the hook may
//! send the event again; such a send goes to the inbox, which this call does not take again. After the hook,
//! `birdrcu::assert_quiescent()`. Release the flag (`Release`).
//!
//! **Cancel** (the consumer, possibly inside one of the list's hooks) — [`Event::cancel`]: pin the claim (CAS
//! `L -> L|PINNED`), take the consumer flag (or find this thread already holds it), unlink the event from the
//! executor (plain consumer-only writes) or from the inbox (at the head: CAS `receiver`, restarting if a push
//! collided; further in: store the predecessor's `next`, which only the consumer writes once an event is
//! linked). If it is on neither chain, a sender is between claim and push: yield and look again. Then clear
//! `next` and store `list = null` (`Release`) and drop the list's reference. The event may be sent again.
//!
//! **Drop of the list**: pop every queued event, release its claim and its reference, then free the core. A
//! pinned claim means another thread is about to look at the list through that event (a cancel, or a send
//! naming this list in its panic message); the destructor lets it finish first.
//!
//! # Memory orderings, and why
//!
//! * Push `Release` / take-all swap `Acquire`: the consumer sees every `next` field and everything the
//!   senders wrote before sending. Later pushes are RMWs on `receiver`, so they continue the release sequence
//!   of earlier ones, and one acquire swap synchronizes with all of them.
//! * Releasing the claim before the hook is an acquiring RMW, and an idempotent send writes the claim back
//!   with a releasing RMW. Both are RMWs on `list`, so either the send comes first (and the hook sees the
//!   sender's data) or the claim is already null (and the send queues the event again). A plain load in the
//!   idempotent path would leave a store-buffer race in which the sender sees "queued" while the hook misses
//!   its data and nothing runs again.
//! * Claim `AcqRel` after a release of the claim (`Release` store or RMW): the new claimer's write of `next`
//!   happens after the old consumer's last read of it.
//! * The consumer flag is `Acquire`/`Release`, so a loop that moves to another thread hands the executor chain
//!   over with it; the executor and linked `next` fields themselves are relaxed, single-writer data.
//! * Pins unpin with a `Release` CAS (not a store), to keep idempotent senders in the release sequence.
//!
//! # Invariants
//!
//! * `list` is non-null exactly while the list holds its reference to the event; the event is then on that
//!   list's inbox or executor chain, or a sender is between claim and push.
//! * A linked event's `next` is written only by the consumer (or by the list's destructor).
//! * A list's core is freed only when no event claims it and no claim of it is pinned.
//! * Every event taken by one `run` call runs at most once in that call, in send order.
//!
//! # Waking
//!
//! The waker is called only when a push finds the inbox empty. That is enough: the inbox becomes non-empty
//! only through such a push, and it stays non-empty until the consumer takes it in a `run`. So whenever the
//! inbox is non-empty, either a wake was issued after the consumer's last take (and the loop will run), or a
//! consumer is running and will see it when its `run` returns "more pending". Events left in the executor by
//! a limit are reported by `run`'s return value, not by a wake.
//!
//! # Work lists and use counts
//!
//! [`WorkList`] caps the events run per loop iteration, for long jobs. [`UseCount`] is the lock-free reference
//! count whose last unlock activates a prune [`Callback`]. The `debug-ring` feature keeps a [`ring`] buffer of
//! recent sends and runs.
//!
//! # Journal
//!
//! [`journal`] is the export journal: a single writer (a table, in its lock domain) pushes items; many
//! recipients read them lock-free, each at its own position, and the writer's cleanup drops items once every
//! recipient released them. Blocks are freed without RCU: each recipient publishes the block it reads, and
//! cleanup frees only blocks every cursor left. The last recipient to pass the oldest block activates the
//! cleanup callback, so cleanup costs O(recipients) per block. See the module docs for the protocol.

// Intrusive lists link events through raw pointers taken with `Arc::into_raw`, and a list's core is freed by
// hand once no pin can reach it.
#![allow(unsafe_code)]

mod callback;
mod cancel;
mod event;
pub mod journal;
mod list;
pub mod ring;
mod sync;
mod usecount;
mod work;

pub use callback::Callback;
pub use event::{Event, Wake};
pub use list::EventList;
pub use usecount::UseCount;
pub use work::WorkList;
