//! `Trie<P, V>`: a path-compressed binary trie mapping prefixes of one family to values.
//!
//! # Structure
//!
//! A PATRICIA-style binary trie. Each node holds a prefix (address bits plus
//! length), two child links and an optional value. A child link of a node of
//! length `l` leads to the subtree whose prefixes have bit `l` equal to the
//! link's side. Chains of single-child nodes never exist: a node is either a
//! *value node* (holds a value; 0–2 children) or a *glue node* (no value;
//! exactly 2 children). So the trie has at most `2n - 1` nodes for `n` values
//! and a lookup visits at most one node per distinct branching bit.
//!
//! # Memory layout
//!
//! Nodes live in one `Vec` and link to each other by `u32` index (no `Box`,
//! no pointer chasing through the allocator, `Clone` is a memcpy). An IPv4
//! node is 20 bytes, an IPv6 node 32. Values live densely in a second `Vec`
//! (with their owning node index), so a node stays small whatever `V` is, and
//! removal is a `swap_remove` plus one index fix-up. Freed nodes are chained
//! through `child[0]` and reused. [`Trie::compact`] rewrites the node array in
//! depth-first order, so that small subtrees share cache lines; it helps
//! lookups after bulk loading.
//!
//! # Order
//!
//! Iteration is a depth-first walk, child 0 before child 1, node before its
//! children. That is exactly the prefix order (address, then length), so
//! [`Trie::iter`] and [`Trie::subnets`] yield in `Ord` order.

use std::fmt;
use std::marker::PhantomData;

use crate::bits::AddrBits;
use crate::prefix::IpPrefix;
use crate::{Prefix4, Prefix6};

const NIL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Node<B> {
    bits: B,
    child: [u32; 2],
    value: u32,
    len: u8,
}

#[derive(Clone, Copy)]
enum Link {
    Root,
    Child(u32, usize),
}

/// A map from prefixes of one family to values, with longest-prefix match and
/// ordered subnet walks. See the [module docs](self) for the structure.
///
/// ```
/// use birdnet::{Prefix4, Trie4};
/// let mut t = Trie4::new();
/// t.insert("10.0.0.0/8".parse().unwrap(), "eight");
/// t.insert("10.1.0.0/16".parse().unwrap(), "sixteen");
/// let (p, v) = t.longest_match("10.1.2.3".parse().unwrap()).unwrap();
/// assert_eq!((p.to_string().as_str(), *v), ("10.1.0.0/16", "sixteen"));
/// let within: Vec<Prefix4> = t.subnets(&"10.0.0.0/8".parse().unwrap()).map(|(p, _)| p).collect();
/// assert_eq!(within.len(), 2);
/// ```
#[derive(Clone)]
pub struct Trie<P: IpPrefix, V> {
    nodes: Vec<Node<P::Bits>>,
    values: Vec<V>,
    owners: Vec<u32>,
    root: u32,
    free: u32,
    free_count: usize,
    _p: PhantomData<P>,
}

/// A trie of IPv4 prefixes.
pub type Trie4<V> = Trie<Prefix4, V>;
/// A trie of IPv6 prefixes.
pub type Trie6<V> = Trie<Prefix6, V>;

impl<P: IpPrefix, V> Default for Trie<P, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: IpPrefix, V: fmt::Debug> fmt::Debug for Trie<P, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[inline]
fn differs<B: AddrBits>(a: B, b: B, len: u8) -> bool {
    (a ^ b) & B::mask(len) != B::ZERO
}

impl<P: IpPrefix, V> Trie<P, V> {
    /// An empty trie.
    pub const fn new() -> Self {
        Trie {
            nodes: Vec::new(),
            values: Vec::new(),
            owners: Vec::new(),
            root: NIL,
            free: NIL,
            free_count: 0,
            _p: PhantomData,
        }
    }

    /// An empty trie with room for `n` prefixes without reallocating.
    pub fn with_capacity(n: usize) -> Self {
        let mut t = Self::new();
        t.nodes.reserve(n.saturating_mul(2));
        t.values.reserve(n);
        t.owners.reserve(n);
        t
    }

    /// Number of prefixes stored.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no prefix is stored.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Removes everything (keeps the allocations).
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.values.clear();
        self.owners.clear();
        self.root = NIL;
        self.free = NIL;
        self.free_count = 0;
    }

    /// Trie nodes in use (value plus glue nodes; never more than `2 * len() - 1`).
    pub fn node_count(&self) -> usize {
        self.nodes.len() - self.free_count
    }

    /// Heap bytes held by the trie (capacity, not just the used part).
    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node<P::Bits>>()
            + self.values.capacity() * std::mem::size_of::<V>()
            + self.owners.capacity() * std::mem::size_of::<u32>()
    }

    #[inline]
    fn node(&self, i: u32) -> &Node<P::Bits> {
        &self.nodes[i as usize]
    }

    #[inline]
    fn prefix_of(&self, i: u32) -> P {
        let n = self.node(i);
        P::from_bits(n.bits, n.len)
    }

    fn link(&self, l: Link) -> u32 {
        match l {
            Link::Root => self.root,
            Link::Child(p, side) => self.nodes[p as usize].child[side],
        }
    }

    fn set_link(&mut self, l: Link, to: u32) {
        match l {
            Link::Root => self.root = to,
            Link::Child(p, side) => self.nodes[p as usize].child[side] = to,
        }
    }

    fn alloc(&mut self, bits: P::Bits, len: u8, value: u32) -> u32 {
        let node = Node { bits, child: [NIL; 2], value, len };
        if self.free != NIL {
            let i = self.free;
            self.free = self.nodes[i as usize].child[0];
            self.free_count -= 1;
            self.nodes[i as usize] = node;
            i
        } else {
            let i =
                u32::try_from(self.nodes.len()).ok().filter(|&i| i != NIL).expect("trie node index overflow");
            self.nodes.push(node);
            i
        }
    }

    fn release(&mut self, i: u32) {
        let n = &mut self.nodes[i as usize];
        n.child = [self.free, NIL];
        n.value = NIL;
        self.free = i;
        self.free_count += 1;
    }

    fn push_value(&mut self, node: u32, v: V) -> u32 {
        let vi = u32::try_from(self.values.len()).expect("trie value index overflow");
        self.values.push(v);
        self.owners.push(node);
        vi
    }

    fn find(&self, bits: P::Bits, len: u8) -> Option<u32> {
        let mut i = self.root;
        while i != NIL {
            let n = self.node(i);
            if n.len > len || differs(n.bits, bits, n.len) {
                return None;
            }
            if n.len == len {
                return Some(i);
            }
            i = n.child[usize::from(bits.bit(n.len))];
        }
        None
    }

    /// Inserts a value for `prefix`, returning the previous value if there was one.
    pub fn insert(&mut self, prefix: P, value: V) -> Option<V> {
        let (bits, len) = (prefix.bits(), prefix.len());
        let mut link = Link::Root;
        loop {
            let cur = self.link(link);
            if cur == NIL {
                let n = self.alloc(bits, len, NIL);
                let vi = self.push_value(n, value);
                self.nodes[n as usize].value = vi;
                self.set_link(link, n);
                return None;
            }
            let Node { bits: cbits, len: clen, value: cval, .. } = *self.node(cur);
            let common = crate::bits::common_len(cbits, clen, bits, len);
            if common == clen {
                if clen == len {
                    if cval != NIL {
                        return Some(std::mem::replace(&mut self.values[cval as usize], value));
                    }
                    let vi = self.push_value(cur, value);
                    self.nodes[cur as usize].value = vi;
                    return None;
                }
                link = Link::Child(cur, usize::from(bits.bit(clen)));
                continue;
            }
            // `cur` diverges from the new prefix at bit `common`.
            let new = self.alloc(bits, len, NIL);
            let vi = self.push_value(new, value);
            self.nodes[new as usize].value = vi;
            let top = if common == len {
                self.nodes[new as usize].child[usize::from(cbits.bit(len))] = cur;
                new
            } else {
                let glue = self.alloc(bits & P::Bits::mask(common), common, NIL);
                let side = usize::from(bits.bit(common));
                self.nodes[glue as usize].child[side] = new;
                self.nodes[glue as usize].child[side ^ 1] = cur;
                glue
            };
            self.set_link(link, top);
            return None;
        }
    }

    /// Inserts `f()` for `prefix` unless present; returns the stored value.
    pub fn get_or_insert_with(&mut self, prefix: P, f: impl FnOnce() -> V) -> &mut V {
        let vi = match self.find(prefix.bits(), prefix.len()) {
            Some(i) if self.node(i).value != NIL => self.node(i).value,
            _ => {
                self.insert(prefix, f());
                (self.values.len() - 1) as u32
            }
        };
        &mut self.values[vi as usize]
    }

    /// The value stored for exactly `prefix`.
    pub fn get(&self, prefix: &P) -> Option<&V> {
        let i = self.find(prefix.bits(), prefix.len())?;
        let vi = self.node(i).value;
        (vi != NIL).then(|| &self.values[vi as usize])
    }

    /// The value stored for exactly `prefix`, mutably.
    pub fn get_mut(&mut self, prefix: &P) -> Option<&mut V> {
        let i = self.find(prefix.bits(), prefix.len())?;
        let vi = self.node(i).value;
        (vi != NIL).then(|| &mut self.values[vi as usize])
    }

    /// Whether exactly `prefix` is stored.
    pub fn contains_key(&self, prefix: &P) -> bool {
        self.get(prefix).is_some()
    }

    /// Removes `prefix`, returning its value.
    pub fn remove(&mut self, prefix: &P) -> Option<V> {
        let (bits, len) = (prefix.bits(), prefix.len());
        let (mut link, mut parent_link) = (Link::Root, Link::Root);
        let mut i = self.root;
        loop {
            if i == NIL {
                return None;
            }
            let n = self.node(i);
            if n.len > len || differs(n.bits, bits, n.len) {
                return None;
            }
            if n.len == len {
                break;
            }
            parent_link = link;
            link = Link::Child(i, usize::from(bits.bit(n.len)));
            i = n.child[usize::from(bits.bit(n.len))];
        }
        let vi = self.node(i).value;
        if vi == NIL {
            return None;
        }
        self.nodes[i as usize].value = NIL;
        let v = self.values.swap_remove(vi as usize);
        self.owners.swap_remove(vi as usize);
        if let Some(&moved) = self.owners.get(vi as usize) {
            self.nodes[moved as usize].value = vi;
        }
        // Restore the invariant: glue nodes have exactly two children.
        let [c0, c1] = self.node(i).child;
        match (c0 != NIL, c1 != NIL) {
            (true, true) => {}
            (true, false) | (false, true) => {
                self.set_link(link, c0.min(c1));
                self.release(i);
            }
            (false, false) => {
                self.set_link(link, NIL);
                self.release(i);
                if let Link::Child(p, side) = link {
                    let pn = *self.node(p);
                    if pn.value == NIL {
                        self.set_link(parent_link, pn.child[side ^ 1]);
                        self.release(p);
                    }
                }
            }
        }
        Some(v)
    }

    fn lpm_node(&self, bits: P::Bits, len: u8) -> u32 {
        let mut best = NIL;
        let mut i = self.root;
        while i != NIL {
            let n = self.node(i);
            if n.len > len || differs(n.bits, bits, n.len) {
                break;
            }
            if n.value != NIL {
                best = i;
            }
            if n.len == len {
                break;
            }
            i = n.child[usize::from(bits.bit(n.len))];
        }
        best
    }

    /// The most specific stored prefix containing `addr`, with its value.
    pub fn longest_match(&self, addr: P::Addr) -> Option<(P, &V)> {
        let i = self.lpm_node(P::addr_to_bits(addr), P::MAX_LEN);
        (i != NIL).then(|| (self.prefix_of(i), &self.values[self.node(i).value as usize]))
    }

    /// The most specific stored prefix equal to or containing `prefix`
    /// (`show route for <prefix>`).
    pub fn longest_match_prefix(&self, prefix: &P) -> Option<(P, &V)> {
        let i = self.lpm_node(prefix.bits(), prefix.len());
        (i != NIL).then(|| (self.prefix_of(i), &self.values[self.node(i).value as usize]))
    }

    /// All stored prefixes equal to or containing `prefix`, shortest first.
    pub fn covering(&self, prefix: &P) -> Covering<'_, P, V> {
        Covering { trie: self, bits: prefix.bits(), len: prefix.len(), cur: self.root }
    }

    /// All stored prefixes equal to or inside `prefix`, in prefix order.
    pub fn subnets(&self, prefix: &P) -> Iter<'_, P, V> {
        let (bits, len) = (prefix.bits(), prefix.len());
        let mut i = self.root;
        while i != NIL {
            let n = self.node(i);
            if n.len >= len {
                if differs(n.bits, bits, len) {
                    i = NIL;
                }
                break;
            }
            if differs(n.bits, bits, n.len) {
                i = NIL;
                break;
            }
            i = n.child[usize::from(bits.bit(n.len))];
        }
        Iter::start(self, i)
    }

    /// All stored prefixes in prefix order (address, then length).
    pub fn iter(&self) -> Iter<'_, P, V> {
        Iter::start(self, self.root)
    }

    /// All values in storage order (not prefix order), mutably.
    pub fn values_mut(&mut self) -> std::slice::IterMut<'_, V> {
        self.values.iter_mut()
    }

    /// Rewrites the node array in depth-first order, dropping freed nodes.
    /// Lookups get faster after bulk loading; the content is unchanged.
    pub fn compact(&mut self) {
        let mut order = Vec::with_capacity(self.nodes.len() - self.free_count);
        let mut stack = Vec::with_capacity(2 * usize::from(P::MAX_LEN) + 2);
        if self.root != NIL {
            stack.push(self.root);
        }
        while let Some(i) = stack.pop() {
            order.push(i);
            let [c0, c1] = self.node(i).child;
            if c1 != NIL {
                stack.push(c1);
            }
            if c0 != NIL {
                stack.push(c0);
            }
        }
        let mut remap = vec![NIL; self.nodes.len()];
        for (new, &old) in order.iter().enumerate() {
            remap[old as usize] = new as u32;
        }
        let map = |i: u32| if i == NIL { NIL } else { remap[i as usize] };
        let mut nodes = Vec::with_capacity(order.len());
        for &old in &order {
            let mut n = *self.node(old);
            n.child = [map(n.child[0]), map(n.child[1])];
            nodes.push(n);
        }
        for o in &mut self.owners {
            *o = remap[*o as usize];
        }
        self.root = map(self.root);
        self.nodes = nodes;
        self.free = NIL;
        self.free_count = 0;
        self.values.shrink_to_fit();
        self.owners.shrink_to_fit();
    }
}

impl<P: IpPrefix, V> Extend<(P, V)> for Trie<P, V> {
    fn extend<I: IntoIterator<Item = (P, V)>>(&mut self, iter: I) {
        for (p, v) in iter {
            self.insert(p, v);
        }
    }
}

impl<P: IpPrefix, V> FromIterator<(P, V)> for Trie<P, V> {
    fn from_iter<I: IntoIterator<Item = (P, V)>>(iter: I) -> Self {
        let mut t = Self::new();
        t.extend(iter);
        t
    }
}

impl<'a, P: IpPrefix, V> IntoIterator for &'a Trie<P, V> {
    type Item = (P, &'a V);
    type IntoIter = Iter<'a, P, V>;

    fn into_iter(self) -> Iter<'a, P, V> {
        self.iter()
    }
}

/// Ordered iterator over a trie or one of its subtrees
/// ([`Trie::iter`], [`Trie::subnets`]).
#[derive(Debug, Clone)]
pub struct Iter<'a, P: IpPrefix, V> {
    trie: &'a Trie<P, V>,
    stack: Vec<u32>,
}

impl<'a, P: IpPrefix, V> Iter<'a, P, V> {
    fn start(trie: &'a Trie<P, V>, root: u32) -> Self {
        let mut stack = Vec::new();
        if root != NIL {
            stack.reserve(usize::from(P::MAX_LEN) + 2);
            stack.push(root);
        }
        Iter { trie, stack }
    }
}

impl<'a, P: IpPrefix, V> Iterator for Iter<'a, P, V> {
    type Item = (P, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        while let Some(i) = self.stack.pop() {
            let n = self.trie.node(i);
            if n.child[1] != NIL {
                self.stack.push(n.child[1]);
            }
            if n.child[0] != NIL {
                self.stack.push(n.child[0]);
            }
            if n.value != NIL {
                return Some((P::from_bits(n.bits, n.len), &self.trie.values[n.value as usize]));
            }
        }
        None
    }
}

/// Iterator over the stored prefixes containing a prefix, shortest first
/// ([`Trie::covering`]).
#[derive(Debug, Clone)]
pub struct Covering<'a, P: IpPrefix, V> {
    trie: &'a Trie<P, V>,
    bits: P::Bits,
    len: u8,
    cur: u32,
}

impl<'a, P: IpPrefix, V> Iterator for Covering<'a, P, V> {
    type Item = (P, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        while self.cur != NIL {
            let i = self.cur;
            let n = self.trie.node(i);
            if n.len > self.len || differs(n.bits, self.bits, n.len) {
                self.cur = NIL;
                break;
            }
            self.cur = if n.len == self.len { NIL } else { n.child[usize::from(self.bits.bit(n.len))] };
            if n.value != NIL {
                return Some((P::from_bits(n.bits, n.len), &self.trie.values[n.value as usize]));
            }
        }
        None
    }
}
