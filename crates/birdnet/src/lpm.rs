//! `PrefixTrie<V>`: one map for both families, keyed by [`Net`].
//!
//! A pair of [`Trie`]s, one per family, behind a `Net`-keyed API. This is
//! what a routing table's prefix index or `show route for <addr>` needs
//! without caring about the family. Iteration yields IPv4 nets first, then
//! IPv6, each in prefix order, which is `Net`'s `Ord`.
//!
//! Results carry the net by value: `Net` is `Copy` (18 bytes), and nodes store
//! only address bits and a length, not a `Net`.

use std::net::IpAddr;

use crate::{Net, Prefix4, Prefix6, Trie};

/// A map from [`Net`]s of either family to values, with longest-prefix match.
///
/// ```
/// use birdnet::{Net, PrefixTrie};
/// let mut t = PrefixTrie::new();
/// t.insert("198.51.100.0/24".parse().unwrap(), 1);
/// t.insert("198.51.100.0/25".parse().unwrap(), 2);
/// t.insert("2001:db8:200::/48".parse().unwrap(), 3);
/// let (net, v) = t.longest_match("198.51.100.77".parse().unwrap()).unwrap();
/// assert_eq!((net.to_string(), *v), ("198.51.100.0/25".to_string(), 2));
/// assert!(t.longest_match("8.8.8.8".parse().unwrap()).is_none());
/// let nets: Vec<Net> = t.iter().map(|(n, _)| n).collect();
/// assert_eq!(nets.len(), 3);
/// ```
#[derive(Clone, Debug)]
pub struct PrefixTrie<V> {
    v4: Trie<Prefix4, V>,
    v6: Trie<Prefix6, V>,
}

impl<V> Default for PrefixTrie<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> PrefixTrie<V> {
    /// An empty map.
    pub const fn new() -> Self {
        PrefixTrie { v4: Trie::new(), v6: Trie::new() }
    }

    /// Number of nets stored (both families).
    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Whether no net is stored.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// Removes everything.
    pub fn clear(&mut self) {
        self.v4.clear();
        self.v6.clear();
    }

    /// The IPv4 half.
    pub fn ipv4(&self) -> &Trie<Prefix4, V> {
        &self.v4
    }

    /// The IPv6 half.
    pub fn ipv6(&self) -> &Trie<Prefix6, V> {
        &self.v6
    }

    /// The IPv4 half, mutably.
    pub fn ipv4_mut(&mut self) -> &mut Trie<Prefix4, V> {
        &mut self.v4
    }

    /// The IPv6 half, mutably.
    pub fn ipv6_mut(&mut self) -> &mut Trie<Prefix6, V> {
        &mut self.v6
    }

    /// Heap bytes held (capacity).
    pub fn heap_bytes(&self) -> usize {
        self.v4.heap_bytes() + self.v6.heap_bytes()
    }

    /// Inserts a value for `net`, returning the previous value if there was one.
    pub fn insert(&mut self, net: Net, value: V) -> Option<V> {
        match net {
            Net::Ip4(p) => self.v4.insert(p, value),
            Net::Ip6(p) => self.v6.insert(p, value),
        }
    }

    /// Inserts `f()` for `net` unless present; returns the stored value.
    pub fn get_or_insert_with(&mut self, net: Net, f: impl FnOnce() -> V) -> &mut V {
        match net {
            Net::Ip4(p) => self.v4.get_or_insert_with(p, f),
            Net::Ip6(p) => self.v6.get_or_insert_with(p, f),
        }
    }

    /// Removes `net`, returning its value.
    pub fn remove(&mut self, net: &Net) -> Option<V> {
        match net {
            Net::Ip4(p) => self.v4.remove(p),
            Net::Ip6(p) => self.v6.remove(p),
        }
    }

    /// The value stored for exactly `net`.
    pub fn get(&self, net: &Net) -> Option<&V> {
        match net {
            Net::Ip4(p) => self.v4.get(p),
            Net::Ip6(p) => self.v6.get(p),
        }
    }

    /// The value stored for exactly `net`, mutably.
    pub fn get_mut(&mut self, net: &Net) -> Option<&mut V> {
        match net {
            Net::Ip4(p) => self.v4.get_mut(p),
            Net::Ip6(p) => self.v6.get_mut(p),
        }
    }

    /// Whether exactly `net` is stored.
    pub fn contains_key(&self, net: &Net) -> bool {
        self.get(net).is_some()
    }

    /// The most specific stored net containing `addr` (`show route for <addr>`).
    pub fn longest_match(&self, addr: IpAddr) -> Option<(Net, &V)> {
        match addr {
            IpAddr::V4(a) => self.v4.longest_match(a).map(|(p, v)| (Net::Ip4(p), v)),
            IpAddr::V6(a) => self.v6.longest_match(a).map(|(p, v)| (Net::Ip6(p), v)),
        }
    }

    /// The most specific stored net equal to or containing `net`
    /// (`show route for <prefix>`).
    pub fn longest_match_net(&self, net: &Net) -> Option<(Net, &V)> {
        match net {
            Net::Ip4(p) => self.v4.longest_match_prefix(p).map(|(p, v)| (Net::Ip4(p), v)),
            Net::Ip6(p) => self.v6.longest_match_prefix(p).map(|(p, v)| (Net::Ip6(p), v)),
        }
    }

    /// All stored nets equal to or inside `net`, in `Net` order.
    pub fn subnets(&self, net: &Net) -> NetIter<'_, V> {
        match net {
            Net::Ip4(p) => NetIter { v4: Some(self.v4.subnets(p)), v6: None },
            Net::Ip6(p) => NetIter { v4: None, v6: Some(self.v6.subnets(p)) },
        }
    }

    /// All stored nets in `Net` order (IPv4 first).
    pub fn iter(&self) -> NetIter<'_, V> {
        NetIter { v4: Some(self.v4.iter()), v6: Some(self.v6.iter()) }
    }

    /// Compacts both halves (see [`Trie::compact`]).
    pub fn compact(&mut self) {
        self.v4.compact();
        self.v6.compact();
    }
}

impl<V> Extend<(Net, V)> for PrefixTrie<V> {
    fn extend<I: IntoIterator<Item = (Net, V)>>(&mut self, iter: I) {
        for (n, v) in iter {
            self.insert(n, v);
        }
    }
}

impl<V> FromIterator<(Net, V)> for PrefixTrie<V> {
    fn from_iter<I: IntoIterator<Item = (Net, V)>>(iter: I) -> Self {
        let mut t = Self::new();
        t.extend(iter);
        t
    }
}

impl<'a, V> IntoIterator for &'a PrefixTrie<V> {
    type Item = (Net, &'a V);
    type IntoIter = NetIter<'a, V>;

    fn into_iter(self) -> NetIter<'a, V> {
        self.iter()
    }
}

/// Ordered iterator over a [`PrefixTrie`] ([`PrefixTrie::iter`], [`PrefixTrie::subnets`]).
#[derive(Debug, Clone)]
pub struct NetIter<'a, V> {
    v4: Option<crate::trie::Iter<'a, Prefix4, V>>,
    v6: Option<crate::trie::Iter<'a, Prefix6, V>>,
}

impl<'a, V> Iterator for NetIter<'a, V> {
    type Item = (Net, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(it) = &mut self.v4 {
            if let Some((p, v)) = it.next() {
                return Some((Net::Ip4(p), v));
            }
            self.v4 = None;
        }
        let (p, v) = self.v6.as_mut()?.next()?;
        Some((Net::Ip6(p), v))
    }
}
