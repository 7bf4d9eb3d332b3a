//! Dense id allocation: the lowest free id, for route, net, protocol and thread ids.
//!
//! Two bitmap levels: `words` has one bit per id (set = used); `full` has one bit per word of `words` (set =
//! that word is all ones). Finding the lowest free id scans `full` for the first word that is not all ones
//! (64 × 64 = 4096 ids per summary word), then takes the lowest zero bit of the two words it points to.
//! `hint` remembers the first summary word that may have room, so dense allocation is O(1) amortised and a
//! scan never revisits the full prefix.

use std::fmt;

/// A bitmap allocator of `u32` ids that always returns the lowest free one.
#[derive(Clone, Default)]
pub struct IdMap {
    /// One bit per id; set when the id is used.
    words: Vec<u64>,
    /// One bit per entry of `words`; set when that word is full.
    full: Vec<u64>,
    /// No summary word before this index has a zero bit.
    hint: usize,
    used: usize,
}

impl fmt::Debug for IdMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdMap").field("used", &self.used).field("capacity", &self.capacity()).finish()
    }
}

impl IdMap {
    /// An empty map.
    pub const fn new() -> Self {
        IdMap { words: Vec::new(), full: Vec::new(), hint: 0, used: 0 }
    }

    /// An empty map with room for ids below `n` without reallocating.
    pub fn with_capacity(n: usize) -> Self {
        let mut m = IdMap::new();
        m.words.reserve(n.div_ceil(64));
        m.full.reserve(n.div_ceil(64 * 64));
        m
    }

    /// Ids in use.
    pub fn len(&self) -> usize {
        self.used
    }

    /// Whether no id is in use.
    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    /// Ids the bitmap covers without growing.
    pub fn capacity(&self) -> usize {
        self.words.len() * 64
    }

    /// Allocates the lowest free id.
    ///
    /// # Panics
    ///
    /// When all `u32` ids are in use.
    pub fn alloc(&mut self) -> u32 {
        let id = self.find_free();
        self.set(id);
        u32::try_from(id).expect("IdMap: all u32 ids are in use")
    }

    /// Marks a specific id used (for ids fixed by configuration). Returns false if it already was.
    pub fn reserve(&mut self, id: u32) -> bool {
        let id = id as usize;
        if self.is_used_usize(id) {
            return false;
        }
        self.set(id);
        true
    }

    /// Releases `id`.
    ///
    /// # Panics
    ///
    /// If `id` is not in use (a double free is a bug in the caller).
    pub fn free(&mut self, id: u32) {
        let i = id as usize;
        assert!(self.is_used_usize(i), "IdMap: freeing id {id}, which is not in use");
        let w = i / 64;
        self.words[w] &= !(1u64 << (i % 64));
        self.full[w / 64] &= !(1u64 << (w % 64));
        self.hint = self.hint.min(w / 64);
        self.used -= 1;
    }

    /// Whether `id` is in use.
    pub fn is_used(&self, id: u32) -> bool {
        self.is_used_usize(id as usize)
    }

    /// Iterates over the used ids in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &bits)| {
            let mut bits = bits;
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                // Ids are only ever set through `u32` arguments or `alloc`, which checks the range.
                Some((w * 64 + b) as u32)
            })
        })
    }

    fn is_used_usize(&self, i: usize) -> bool {
        self.words.get(i / 64).is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }

    /// The lowest id not in use (possibly one past the bitmap).
    fn find_free(&mut self) -> usize {
        while let Some(&s) = self.full.get(self.hint) {
            if s != u64::MAX {
                // `full` may have more bits than `words` has words (the last summary word is partly unused):
                // a clear summary bit past the end of `words` means "a word that does not exist yet".
                let w = self.hint * 64 + (!s).trailing_zeros() as usize;
                return match self.words.get(w) {
                    Some(bits) => w * 64 + (!bits).trailing_zeros() as usize,
                    None => w * 64,
                };
            }
            self.hint += 1;
        }
        self.words.len() * 64
    }

    fn set(&mut self, i: usize) {
        let w = i / 64;
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
            self.full.resize(self.words.len().div_ceil(64), 0);
        }
        self.words[w] |= 1u64 << (i % 64);
        if self.words[w] == u64::MAX {
            self.full[w / 64] |= 1u64 << (w % 64);
        }
        self.used += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeSet;

    #[test]
    fn lowest_free_first() {
        let mut m = IdMap::new();
        for i in 0..200 {
            assert_eq!(m.alloc(), i);
        }
        m.free(70);
        m.free(3);
        m.free(150);
        assert_eq!(m.alloc(), 3);
        assert_eq!(m.alloc(), 70);
        assert_eq!(m.alloc(), 150);
        assert_eq!(m.alloc(), 200);
        assert_eq!(m.len(), 201);
    }

    #[test]
    fn reserve_and_sparse() {
        let mut m = IdMap::new();
        assert!(m.reserve(10_000));
        assert!(!m.reserve(10_000));
        assert_eq!(m.alloc(), 0);
        assert!(m.is_used(10_000));
        assert_eq!(m.iter().collect::<Vec<_>>(), vec![0, 10_000]);
    }

    #[test]
    #[should_panic(expected = "not in use")]
    fn double_free_panics() {
        let mut m = IdMap::new();
        let a = m.alloc();
        m.free(a);
        m.free(a);
    }

    #[test]
    fn matches_model_under_random_churn() {
        let mut rng = SmallRng::seed_from_u64(7);
        let mut m = IdMap::new();
        // The model: used ids (for random frees), holes below `next` (the lowest free is the first hole).
        let mut used: Vec<u32> = Vec::new();
        let mut holes = BTreeSet::new();
        let mut next = 0u32;
        let steps = if cfg!(miri) { 2_000 } else { 100_000 };
        for _ in 0..steps {
            if used.is_empty() || rng.gen_bool(0.55) {
                let want = holes.pop_first().unwrap_or_else(|| {
                    next += 1;
                    next - 1
                });
                assert_eq!(m.alloc(), want);
                used.push(want);
            } else {
                let id = used.swap_remove(rng.gen_range(0..used.len()));
                holes.insert(id);
                m.free(id);
            }
            assert_eq!(m.len(), used.len());
        }
        used.sort_unstable();
        assert!(m.iter().eq(used.iter().copied()));
    }
}
