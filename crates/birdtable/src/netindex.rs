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

/// `Net → NetId` with dense ids and the set of prefix lengths present.
///
/// IPv4 nets are keyed by a packed `u64` (16 bytes per entry instead of 24): the full IPv4 table is the
/// largest index a daemon holds.
#[derive(Debug, Clone)]
pub struct NetIndex {
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
        self.map4.len() + self.map.len()
    }

    /// Whether no net is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The id of `net`, if indexed.
    #[inline]
    pub fn get(&self, net: &Net) -> Option<NetId> {
        match net.as_ip4() {
            Some(p) => self.map4.get(&v4_key(&p)).copied(),
            None => self.map.get(net).copied(),
        }
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
            Some(p) => *self.map4.entry(v4_key(&p)).or_insert_with(&mut fresh),
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
            Some(p) => self.map4.remove(&v4_key(&p))?,
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
        self.map4.capacity() * entry4 + self.map.capacity() * entry + self.ids.capacity() / 8
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
