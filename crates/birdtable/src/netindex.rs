//! The net index of one table: `Net → NetId` (dense ids), plus the prefix lengths present, for
//! longest-prefix lookups by hash probes.
//!
//! Lives in the table's lock domain (writers and the CLI's lookups lock it; exporters never need it:
//! journal items and feeds carry net ids). Ids come from an [`IdMap`] (lowest free first, so the slot
//! directory stays dense) and are released by the table only once the net has no routes and every
//! recipient passed its last journal item.

use std::collections::HashMap;
use std::net::IpAddr;

use birdmem::IdMap;
use birdnet::{Net, NetType};

use crate::route::NetId;

pub use crate::hash::{FxBuild, FxHasher};

/// Per family: how many indexed nets have each prefix length, and a bit set of the non-zero ones.
#[derive(Debug, Clone)]
struct Lengths {
    count: Vec<u32>,
    present: [u64; 3],
}

impl Lengths {
    fn new(max: u8) -> Lengths {
        Lengths { count: vec![0; usize::from(max) + 1], present: [0; 3] }
    }

    fn add(&mut self, len: u8) {
        let l = usize::from(len);
        self.count[l] += 1;
        self.present[l / 64] |= 1 << (l % 64);
    }

    fn remove(&mut self, len: u8) {
        let l = usize::from(len);
        self.count[l] -= 1;
        if self.count[l] == 0 {
            self.present[l / 64] &= !(1 << (l % 64));
        }
    }

    /// Present lengths, longest first.
    fn desc(&self) -> impl Iterator<Item = u8> + '_ {
        (0..self.count.len()).rev().filter(|&l| self.present[l / 64] & (1 << (l % 64)) != 0).map(|l| l as u8)
    }
}

/// An IPv4 net packed into one word: address << 8 | length.
fn v4_key(p: &birdnet::Prefix4) -> u64 {
    (u64::from(p.addr().to_bits()) << 8) | u64::from(p.len())
}

/// Ids below this fit a [`Packed4`] slot beside the net.
const PACKED_ID_BITS: u32 = 26;

/// The [`Packed4`] key of an IPv4 net: address, then length + 1 (never 0), 38 bits.
fn v4_packed_key(p: &birdnet::Prefix4) -> u64 {
    (u64::from(p.addr().to_bits()) << 6) | (u64::from(p.len()) + 1)
}

/// IPv4 nets → ids in one open-addressing table of `u64` slots, `key << 26 | id` (0: empty), linear
/// probing, deletion by backward shift. A lookup usually touches one cache line (a swiss table touches
/// its control bytes and then its bucket array: two misses per lookup in a table of a million nets, the
/// largest single cost of an import), and a slot is 8 bytes instead of 17. Ids from 2^26 on (more
/// nets than any IPv4 table has) go to the overflow map of [`NetIndex`].
#[derive(Debug, Clone, Default)]
struct Packed4 {
    slots: Vec<u64>,
    len: usize,
}

/// Where a probe ended: the id found, or the empty slot where the key would go.
enum Probe {
    Found(NetId),
    Vacant(usize),
}

impl Packed4 {
    /// A key's home slot: the Fibonacci-hashed key scaled onto the table (multiply-shift, so any
    /// capacity works, not only powers of two).
    fn home(&self, key: u64) -> usize {
        let h = key.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        ((u128::from(h) * self.slots.len() as u128) >> 64) as usize
    }

    #[inline]
    #[allow(unsafe_code)]
    fn prefetch(&self, key: u64) {
        if self.slots.is_empty() {
            return;
        }
        let slot: *const u64 = &self.slots[self.home(key)];
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            // SAFETY: SSE is part of the x86_64 baseline, and a prefetch is only a hint: it reads nothing
            // the program sees and never faults (here the address is a live slot anyway).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(slot.cast()) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = slot;
    }

    /// The slot after `i`, cyclically.
    fn next(&self, i: usize) -> usize {
        if i + 1 == self.slots.len() {
            0
        } else {
            i + 1
        }
    }

    /// Cyclic distance from slot `from` forward to slot `to`.
    fn dist(&self, from: usize, to: usize) -> usize {
        if to >= from {
            to - from
        } else {
            to + self.slots.len() - from
        }
    }

    fn probe(&self, key: u64) -> Probe {
        if self.slots.is_empty() {
            return Probe::Vacant(usize::MAX);
        }
        let mut i = self.home(key);
        loop {
            let s = self.slots[i];
            if s == 0 {
                return Probe::Vacant(i);
            }
            if s >> PACKED_ID_BITS == key {
                return Probe::Found(NetId((s & ((1 << PACKED_ID_BITS) - 1)) as u32));
            }
            i = self.next(i);
        }
    }

    fn get(&self, key: u64) -> Option<NetId> {
        match self.probe(key) {
            Probe::Found(id) => Some(id),
            Probe::Vacant(_) => None,
        }
    }

    /// Insert `key` (absent: `probe` said `Vacant(at)`) with `id < 2^26`.
    fn insert_at(&mut self, mut at: usize, key: u64, id: NetId) {
        // Load at most 3/4: short probe runs.
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
            at = match self.probe(key) {
                Probe::Vacant(i) => i,
                Probe::Found(_) => unreachable!("inserting a present key"),
            };
        }
        self.slots[at] = (key << PACKED_ID_BITS) | u64::from(id.0);
        self.len += 1;
    }

    /// Grow by half: the load stays between 1/2 and 3/4 (doubling would leave a table that just grew
    /// 3/8 full, 21 bytes per net instead of 11 to 16).
    fn grow(&mut self) {
        let cap = (self.slots.len() + self.slots.len() / 2).max(64);
        let old = std::mem::replace(&mut self.slots, vec![0; cap]);
        for s in old.into_iter().filter(|&s| s != 0) {
            let mut i = self.home(s >> PACKED_ID_BITS);
            while self.slots[i] != 0 {
                i = self.next(i);
            }
            self.slots[i] = s;
        }
    }

    fn remove(&mut self, key: u64) -> Option<NetId> {
        if self.slots.is_empty() {
            return None;
        }
        let mut i = self.home(key);
        loop {
            let s = self.slots[i];
            if s == 0 {
                return None;
            }
            if s >> PACKED_ID_BITS == key {
                break;
            }
            i = self.next(i);
        }
        let id = NetId((self.slots[i] & ((1 << PACKED_ID_BITS) - 1)) as u32);
        self.slots[i] = 0;
        self.len -= 1;
        // Backward shift: move later entries of the run into the hole when their home is not in (hole, j].
        let mut hole = i;
        let mut j = i;
        loop {
            j = self.next(j);
            let s = self.slots[j];
            if s == 0 {
                break;
            }
            let h = self.home(s >> PACKED_ID_BITS);
            // Distance from home to j versus from hole to j (cyclic): movable when the hole is on its path.
            if self.dist(h, j) >= self.dist(hole, j) {
                self.slots[hole] = s;
                self.slots[j] = 0;
                hole = j;
            }
        }
        Some(id)
    }

    fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<u64>()
    }
}

/// `Net → NetId` with dense ids and the set of prefix lengths present.
///
/// IPv4 nets live in a [`Packed4`] table (8 bytes per slot, one cache line per lookup): the full IPv4
/// table is the largest index a daemon holds.
#[derive(Debug, Clone)]
pub struct NetIndex {
    packed4: Packed4,
    /// IPv4 nets whose id does not fit a packed slot, keyed by `addr << 8 | len`.
    map4: HashMap<u64, NetId, FxBuild>,
    map: HashMap<Net, NetId, FxBuild>,
    ids: IdMap,
    v4: Lengths,
    v6: Lengths,
}

impl Default for NetIndex {
    fn default() -> Self {
        NetIndex::new()
    }
}

impl NetIndex {
    /// An empty index.
    pub fn new() -> NetIndex {
        NetIndex {
            packed4: Packed4::default(),
            map4: HashMap::default(),
            map: HashMap::default(),
            ids: IdMap::new(),
            v4: Lengths::new(NetType::Ipv4.max_len()),
            v6: Lengths::new(NetType::Ipv6.max_len()),
        }
    }

    fn lengths_mut(&mut self, t: NetType) -> &mut Lengths {
        match t {
            NetType::Ipv6 => &mut self.v6,
            _ => &mut self.v4,
        }
    }

    /// Nets indexed.
    pub fn len(&self) -> usize {
        self.packed4.len + self.map4.len() + self.map.len()
    }

    /// Whether no net is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hint the CPU to load the slot where `net`'s lookup starts (IPv4 nets): a batch of imports calls
    /// it a few items ahead, so that the probe of a million-net index does not wait for memory.
    #[inline]
    pub fn prefetch(&self, net: &Net) {
        if let Some(p) = net.as_ip4() {
            self.packed4.prefetch(v4_packed_key(&p));
        }
    }

    /// The id of `net`, if indexed.
    #[inline]
    pub fn get(&self, net: &Net) -> Option<NetId> {
        match net.as_ip4() {
            Some(p) => self.packed4.get(v4_packed_key(&p)).or_else(|| self.get_overflow(&p)),
            None => self.map.get(net).copied(),
        }
    }

    #[cold]
    fn get_overflow(&self, p: &birdnet::Prefix4) -> Option<NetId> {
        if self.map4.is_empty() {
            return None;
        }
        self.map4.get(&v4_key(p)).copied()
    }

    /// The id of `net`, indexing it with the lowest free id if needed; `true` if it was added.
    #[inline]
    pub fn get_or_insert(&mut self, net: Net) -> (NetId, bool) {
        let ids = &mut self.ids;
        let mut added = false;
        let mut fresh = || {
            added = true;
            NetId(ids.alloc())
        };
        let id = match net.as_ip4() {
            Some(p) => {
                let key = v4_packed_key(&p);
                match self.packed4.probe(key) {
                    Probe::Found(id) => id,
                    Probe::Vacant(at) => match self.map4.get(&v4_key(&p)) {
                        Some(&id) => id,
                        None => {
                            let id = fresh();
                            if id.0 >> PACKED_ID_BITS == 0 {
                                self.packed4.insert_at(at, key, id);
                            } else {
                                self.map4.insert(v4_key(&p), id);
                            }
                            id
                        }
                    },
                }
            }
            None => *self.map.entry(net).or_insert_with(&mut fresh),
        };
        if added {
            self.lengths_mut(net.net_type()).add(net.len());
        }
        (id, added)
    }

    /// Remove `net` and release its id.
    pub fn remove(&mut self, net: &Net) -> Option<NetId> {
        let id = match net.as_ip4() {
            Some(p) => match self.packed4.remove(v4_packed_key(&p)) {
                Some(id) => id,
                None => self.map4.remove(&v4_key(&p))?,
            },
            None => self.map.remove(net)?,
        };
        self.ids.free(id.0);
        self.lengths_mut(net.net_type()).remove(net.len());
        Some(id)
    }

    /// Indexed nets containing `addr`, longest first (one hash probe per prefix length present).
    pub fn covering(&self, addr: IpAddr) -> impl Iterator<Item = (Net, NetId)> + '_ {
        let lengths = match addr {
            IpAddr::V4(_) => &self.v4,
            IpAddr::V6(_) => &self.v6,
        };
        lengths.desc().filter_map(move |len| {
            let net = Net::new_masked(addr, len).ok()?;
            self.get(&net).map(|id| (net, id))
        })
    }

    /// Bytes of heap the index uses (approximately: the hash table's buckets and control bytes, and the
    /// id bitmap).
    pub fn heap_bytes(&self) -> usize {
        let entry4 = std::mem::size_of::<(u64, NetId)>() + 1;
        let entry = std::mem::size_of::<(Net, NetId)>() + 1;
        self.packed4.heap_bytes()
            + self.map4.capacity() * entry4
            + self.map.capacity() * entry
            + self.ids.capacity() / 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Net {
        s.parse().unwrap()
    }

    #[test]
    fn ids_are_dense_and_reused() {
        let mut ix = NetIndex::new();
        assert_eq!(ix.get_or_insert(n("10.0.0.0/8")), (NetId(0), true));
        assert_eq!(ix.get_or_insert(n("10.1.0.0/16")), (NetId(1), true));
        assert_eq!(ix.get_or_insert(n("10.0.0.0/8")), (NetId(0), false));
        assert_eq!(ix.remove(&n("10.0.0.0/8")), Some(NetId(0)));
        assert_eq!(ix.get(&n("10.0.0.0/8")), None);
        assert_eq!(ix.get_or_insert(n("2001:db8::/32")), (NetId(0), true));
        assert_eq!(ix.len(), 2);
    }

    #[test]
    fn packed_v4_matches_a_model_through_inserts_removes_and_growth() {
        use std::collections::HashMap as Model;
        let mut ix = NetIndex::new();
        let mut model: Model<Net, NetId> = Model::new();
        // A small deterministic generator: clustered addresses make long probe runs and wrap-arounds.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for step in 0..60_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 33) as u8;
            let addr = std::net::Ipv4Addr::from(((x >> 8) as u32) & 0xff0f_ff00);
            let net = Net::new_masked(std::net::IpAddr::V4(addr), len).unwrap();
            if step % 3 == 2 {
                assert_eq!(ix.remove(&net), model.remove(&net), "remove {net}");
            } else {
                let (id, added) = ix.get_or_insert(net);
                match model.get(&net) {
                    Some(&m) => assert_eq!((id, added), (m, false), "insert {net}"),
                    None => {
                        assert!(added);
                        model.insert(net, id);
                    }
                }
            }
            if step % 5000 == 0 {
                assert_eq!(ix.len(), model.len());
                for (n, id) in &model {
                    assert_eq!(ix.get(n), Some(*id), "get {n}");
                }
            }
        }
        assert_eq!(ix.len(), model.len());
        for (n, id) in &model {
            assert_eq!(ix.get(n), Some(*id));
        }
        let ids: std::collections::HashSet<_> = model.values().collect();
        assert_eq!(ids.len(), model.len(), "ids are unique");
    }

    #[test]
    fn covering_probes_present_lengths_longest_first() {
        let mut ix = NetIndex::new();
        for s in ["0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.2.0.0/16", "2001:db8::/32"] {
            ix.get_or_insert(n(s));
        }
        let got: Vec<String> = ix.covering("10.1.2.3".parse().unwrap()).map(|(n, _)| n.to_string()).collect();
        assert_eq!(got, ["10.1.2.0/24", "10.1.0.0/16", "10.0.0.0/8", "0.0.0.0/0"]);
        ix.remove(&n("10.1.2.0/24"));
        let got: Vec<String> = ix.covering("10.1.2.3".parse().unwrap()).map(|(n, _)| n.to_string()).collect();
        assert_eq!(got, ["10.1.0.0/16", "10.0.0.0/8", "0.0.0.0/0"]);
        let got: Vec<String> =
            ix.covering("2001:db8::1".parse().unwrap()).map(|(n, _)| n.to_string()).collect();
        assert_eq!(got, ["2001:db8::/32"]);
    }
}
