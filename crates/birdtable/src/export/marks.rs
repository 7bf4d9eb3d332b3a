//! Per-subscription route marks: BIRD's `export_accepted_map` / `export_rejected_map`.
//!
//! A subscriber (a channel) marks each route it offered to its export filter as accepted or rejected,
//! indexed by the table's dense [`RouteId`]s: one bit per route id, so an exporter of a 1M-route table
//! needs about 2 × 128 KiB instead of a map entry per exported route. A route id is reused only after every
//! recipient passed the removal of its route, and the subscription clears the marks of every removed route
//! as it passes the removal (after the subscriber had the export that carries it), so a mark never outlives
//! its route and the maps stay exact.

use crate::route::RouteId;

/// A set of route ids: one bit each, plus a count of the bits set.
#[derive(Debug, Default, Clone)]
pub struct RouteBitmap {
    words: Vec<u64>,
    ones: usize,
}

impl RouteBitmap {
    /// An empty bitmap.
    pub fn new() -> RouteBitmap {
        RouteBitmap::default()
    }

    /// Whether `id` is set.
    pub fn get(&self, id: RouteId) -> bool {
        let i = id.0 as usize;
        self.words.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Set `id`; returns whether it was set before.
    pub fn set(&mut self, id: RouteId) -> bool {
        let i = id.0 as usize;
        if self.words.len() <= i / 64 {
            self.words.resize(i / 64 + 1, 0);
        }
        let w = &mut self.words[i / 64];
        let was = *w & (1 << (i % 64)) != 0;
        *w |= 1 << (i % 64);
        self.ones += usize::from(!was);
        was
    }

    /// Clear `id`; returns whether it was set (clearing twice is harmless and returns false).
    pub fn clear(&mut self, id: RouteId) -> bool {
        let i = id.0 as usize;
        let Some(w) = self.words.get_mut(i / 64) else { return false };
        let was = *w & (1 << (i % 64)) != 0;
        *w &= !(1 << (i % 64));
        self.ones -= usize::from(was);
        was
    }

    /// Bits set.
    pub fn len(&self) -> usize {
        self.ones
    }

    /// Whether no bit is set.
    pub fn is_empty(&self) -> bool {
        self.ones == 0
    }

    /// Clear every bit (keeps the allocation).
    pub fn clear_all(&mut self) {
        self.words.iter_mut().for_each(|w| *w = 0);
        self.ones = 0;
    }

    /// The ids set, ascending.
    pub fn iter(&self) -> impl Iterator<Item = RouteId> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let b = w.trailing_zeros();
                w &= w - 1;
                Some(RouteId(i as u32 * 64 + b))
            })
        })
    }

    /// Heap bytes.
    pub fn heap_bytes(&self) -> usize {
        self.words.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_clear_count_iter() {
        let mut b = RouteBitmap::new();
        assert!(!b.get(RouteId(1000)));
        assert!(!b.clear(RouteId(1000)), "clearing past the end is a no-op");
        assert!(!b.set(RouteId(3)));
        assert!(b.set(RouteId(3)));
        assert!(!b.set(RouteId(64)));
        assert!(!b.set(RouteId(1000)));
        assert_eq!(b.len(), 3);
        assert_eq!(b.iter().collect::<Vec<_>>(), [RouteId(3), RouteId(64), RouteId(1000)]);
        assert!(b.clear(RouteId(64)));
        assert!(!b.clear(RouteId(64)), "a second clear does not count again");
        assert_eq!(b.len(), 2);
        b.clear_all();
        assert!(b.is_empty() && !b.get(RouteId(3)));
    }
}
