//! The ABA-catching stress of the page allocator: many threads allocate, reallocate and free pages through the
//! process-wide allocator, write a pattern unique to (thread, round, slot) into every page they hold and check
//! it before freeing. A page handed to two owners at once (the ABA failure of a CAS stack, a lost link in a
//! tier, a double push) shows up as a clobbered pattern; alignment is checked on every allocation.

// Reading back the pattern needs an initialised view of page memory, which only raw pointers give.
#![allow(unsafe_code)]

use std::collections::HashSet;
use std::thread;

use birdmem::page::{self, Page};
use birdmem::PAGE_SIZE;

const WORDS: usize = PAGE_SIZE / 8;
/// Under Miri only a few words per page are written (every word would take minutes); elsewhere all of them.
const STRIDE: usize = if cfg!(miri) { WORDS / 4 } else { 1 };

fn pattern(thread: usize, round: usize, slot: usize, word: usize) -> u64 {
    ((thread as u64) << 56)
        ^ ((round as u64) << 32)
        ^ ((slot as u64) << 16)
        ^ (word as u64)
        ^ 0x5555_0000_0000_0000
}

fn write(p: &Page, t: usize, r: usize, s: usize) {
    assert_eq!(p.as_ptr().addr() % PAGE_SIZE, 0, "page not aligned");
    let w = p.as_ptr().cast::<u64>();
    for i in (0..WORDS).step_by(STRIDE) {
        // SAFETY: the page is PAGE_SIZE bytes owned by this thread; `i < WORDS`.
        unsafe { w.add(i).write(pattern(t, r, s, i)) };
    }
}

fn check(p: &Page, t: usize, r: usize, s: usize) {
    let w = p.as_ptr().cast::<u64>();
    for i in (0..WORDS).step_by(STRIDE) {
        // SAFETY: we wrote this word in `write` and still own the page.
        let got = unsafe { w.add(i).read() };
        assert_eq!(got, pattern(t, r, s, i), "thread {t} round {r} slot {s} word {i}: page {p:?} was reused");
    }
}

fn churn(threads: usize, rounds: usize) {
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            thread::spawn(move || {
                for r in 0..rounds {
                    // Allocate 32.
                    let mut held: Vec<Page> = (0..32).map(|_| page::alloc()).collect();
                    for (s, p) in held.iter().enumerate() {
                        write(p, t, r, s);
                    }
                    let addrs: HashSet<usize> = held.iter().map(|p| p.as_ptr().addr()).collect();
                    assert_eq!(addrs.len(), 32, "the same page handed out twice to one thread");
                    // Free and reallocate 32, one at a time.
                    for (s, slot) in held.iter_mut().enumerate() {
                        check(slot, t, r, s);
                        *slot = page::alloc();
                        write(slot, t, r, s + 32);
                    }
                    // Free 32.
                    for (s, p) in held.into_iter().enumerate() {
                        check(&p, t, r, s + 32);
                        drop(p);
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("churn thread panicked");
    }
    let st = page::stats();
    assert!(st.total >= st.free(), "more free pages than pages: {st:?}");
}

#[test]
fn sixteen_thread_churn() {
    if cfg!(miri) {
        churn(4, 3);
    } else {
        churn(16, 1000);
    }
}

#[test]
#[ignore = "long: run with --ignored (about a minute in release)"]
fn sixteen_thread_churn_long() {
    churn(16, 16 * 1024);
}
