//! Many threads lock and unlock domains; every increment made under a domain must be seen.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use birdrcu::level::{Proto, Rtable};
use birdrcu::{lock_depth, Domain};

const THREADS: u64 = 16;
#[cfg(not(miri))]
const ROUNDS: u64 = 50_000;
#[cfg(miri)]
const ROUNDS: u64 = 50;

#[test]
fn sixteen_threads_count_under_domains() {
    let atomic = AtomicU64::new(0);
    let single: Domain<Rtable, u64> = Domain::new("counter table", 0);
    // Two protocol domains and one table: threads take either proto, then sometimes the table under it.
    let protos: [Domain<Proto, (u64, u64)>; 2] =
        [Domain::new("counter proto 0", (0, 0)), Domain::new("counter proto 1", (0, 0))];
    let nested = AtomicU64::new(0);

    thread::scope(|s| {
        for t in 0..THREADS {
            let (atomic, single, protos, nested) = (&atomic, &single, &protos, &nested);
            s.spawn(move || {
                for i in 0..ROUNDS {
                    atomic.fetch_add(1, Ordering::Relaxed);
                    *single.lock() += 1;
                    if (i + t) % 4 == 0 {
                        let mut p = protos[(i % 2) as usize].lock();
                        p.0 += 1;
                        let mut tb = single.lock();
                        *tb += 1;
                        p.1 += 1;
                        nested.fetch_add(1, Ordering::Relaxed);
                        assert_eq!(lock_depth(), 2);
                    }
                }
                assert_eq!(lock_depth(), 0);
            });
        }
    });

    let total = THREADS * ROUNDS;
    let nested = nested.load(Ordering::Relaxed);
    assert_eq!(atomic.load(Ordering::Relaxed), total);
    assert_eq!(single.into_inner(), total + nested);
    let [p0, p1] = protos;
    let (p0, p1) = (p0.into_inner(), p1.into_inner());
    assert_eq!(p0.0 + p1.0, nested);
    assert_eq!(p0.1 + p1.1, nested);
    assert_eq!(p0.0, p0.1);
}
