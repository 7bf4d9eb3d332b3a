//! Prefix patterns and prefix sets: the semantics of BIRD's filter sets
//! `[ 192.0.2.0/24{24,28}, 10.0.0.0/8+, 2001:db8::/32- ]`.
//!
//! # Semantics
//!
//! A pattern is a net `p` (length `d`) with a length range `low..=high`. A net
//! `n` of length `L` matches when `low <= L <= high` and `n` agrees with `p`
//! on the first `min(d, L)` bits. So:
//!
//! * `p{a,b}` (`d <= a <= b`): the subnets of `p` whose length is in `a..=b`;
//! * `p+` = `p{d, max}`: `p` and everything inside it;
//! * `p-` = `p{0, d}`: `p` and every net containing it;
//! * `p` = `p{d, d}`: `p` exactly.
//!
//! A set matches a net when any of its patterns does. Parsing the syntax is
//! the filter parser's job; this module provides the value types.
//!
//! # Structure
//!
//! A pattern is split into *accept masks* stored on trie nodes: a node with
//! prefix `q` and mask `M` accepts every net of length `L` inside `q` with bit
//! `L` set in `M`. Lengths `L >= d` go on `p`'s own node; each length
//! `L < d` (from `p-` and the like) goes on the node of `p` truncated to `L`.
//! A query walks the nodes covering the net (at most one per trie level) and
//! tests one bit on each, so matching costs one trie descent whatever the
//! number of patterns. Masks of patterns landing on the same node are OR-ed.

use std::fmt;

use crate::prefix::IpPrefix;
use crate::{Net, NetError, Prefix4, Prefix6, Trie};

/// One element of a prefix set: a net and a length range.
///
/// ```
/// use birdnet::{Net, PrefixPattern};
/// let p = PrefixPattern::new("192.0.2.0/24".parse().unwrap(), 24, 28).unwrap();
/// assert!(p.matches(&"192.0.2.128/25".parse().unwrap()));
/// assert!(!p.matches(&"192.0.2.0/30".parse().unwrap()));
/// assert_eq!(p.to_string(), "192.0.2.0/24{24,28}");
/// assert_eq!(
///     PrefixPattern::new("192.0.2.0/24".parse().unwrap(), 16, 28).unwrap_err().to_string(),
///     "Invalid prefix pattern range: {16, 28}"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrefixPattern {
    net: Net,
    low: u8,
    high: u8,
}

impl PrefixPattern {
    /// `net{low,high}`, checked as BIRD's parser does: `net.len() <= low <= high <= max`.
    pub fn new(net: Net, low: u8, high: u8) -> Result<Self, NetError> {
        if !(net.len() <= low && low <= high && high <= net.max_len()) {
            return Err(NetError::InvalidPatternRange { low: low.into(), high: high.into() });
        }
        Ok(PrefixPattern { net, low, high })
    }

    /// Any range with `low <= high <= max`, including ones BIRD's syntax
    /// cannot spell (`low` below `net.len()` without being 0, `high` below it).
    pub fn with_range(net: Net, low: u8, high: u8) -> Result<Self, NetError> {
        if !(low <= high && high <= net.max_len()) {
            return Err(NetError::InvalidPatternRange { low: low.into(), high: high.into() });
        }
        Ok(PrefixPattern { net, low, high })
    }

    /// `net`: the net itself only.
    pub fn exact(net: Net) -> Self {
        PrefixPattern { net, low: net.len(), high: net.len() }
    }

    /// `net+`: the net and all its subnets.
    pub fn or_longer(net: Net) -> Self {
        PrefixPattern { net, low: net.len(), high: net.max_len() }
    }

    /// `net-`: the net and all nets containing it.
    pub fn or_shorter(net: Net) -> Self {
        PrefixPattern { net, low: 0, high: net.len() }
    }

    /// The net.
    pub fn net(&self) -> Net {
        self.net
    }

    /// Shortest matching length.
    pub fn low(&self) -> u8 {
        self.low
    }

    /// Longest matching length.
    pub fn high(&self) -> u8 {
        self.high
    }

    /// Whether `n` matches this single pattern (see the module docs).
    pub fn matches(&self, n: &Net) -> bool {
        let l = n.len();
        self.low <= l
            && l <= self.high
            && n.net_type() == self.net.net_type()
            && n.truncate(self.net.len()) == self.net.truncate(l)
    }
}

impl fmt::Display for PrefixPattern {
    /// `net`, `net+`, `net-` or `net{low,high}`, whichever is shortest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (d, max) = (self.net.len(), self.net.max_len());
        match (self.low, self.high) {
            (l, h) if l == d && h == d => write!(f, "{}", self.net),
            (l, h) if l == d && h == max => write!(f, "{}+", self.net),
            (0, h) if h == d => write!(f, "{}-", self.net),
            (l, h) => write!(f, "{}{{{l},{h}}}", self.net),
        }
    }
}

/// Bit `L` set = nets of length `L` are accepted (129 bits for IPv6 /0../128).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct LenMask([u64; 3]);

impl LenMask {
    fn set_range(&mut self, low: u8, high: u8) {
        for l in low..=high {
            self.0[usize::from(l / 64)] |= 1 << (l % 64);
        }
    }

    fn test(&self, l: u8) -> bool {
        self.0[usize::from(l / 64)] >> (l % 64) & 1 == 1
    }
}

/// A set of [`PrefixPattern`]s, both families, matched in one trie descent.
///
/// BIRD rejects sets mixing IPv4 and IPv6 patterns at parse time; this type
/// accepts both and leaves that rule to the parser.
///
/// ```
/// use birdnet::{PrefixPattern, PrefixSet};
/// let set: PrefixSet = [
///     PrefixPattern::new("192.0.2.0/24".parse().unwrap(), 24, 28).unwrap(),
///     PrefixPattern::or_longer("10.0.0.0/8".parse().unwrap()),
///     PrefixPattern::or_shorter("2001:db8::/32".parse().unwrap()),
/// ].into_iter().collect();
/// assert!(set.matches(&"10.20.0.0/16".parse().unwrap()));
/// assert!(set.matches(&"2001:d00::/24".parse().unwrap()));
/// assert!(!set.matches(&"2001:db8:1::/48".parse().unwrap()));
/// assert!(!set.matches(&"192.0.2.0/29".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Default)]
pub struct PrefixSet {
    v4: Trie<Prefix4, LenMask>,
    v6: Trie<Prefix6, LenMask>,
    patterns: usize,
}

fn add_pattern<P: IpPrefix>(t: &mut Trie<P, LenMask>, p: P, low: u8, high: u8) {
    let d = p.len();
    if high >= d {
        t.get_or_insert_with(p, LenMask::default).set_range(low.max(d), high);
    }
    for l in low..=high.min(d.saturating_sub(1)) {
        if l >= d {
            break;
        }
        t.get_or_insert_with(P::from_bits(p.bits(), l), LenMask::default).set_range(l, l);
    }
}

fn test<P: IpPrefix>(t: &Trie<P, LenMask>, n: &P) -> bool {
    t.covering(n).any(|(_, m)| m.test(n.len()))
}

impl PrefixSet {
    /// An empty set (matches nothing).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a pattern.
    pub fn insert(&mut self, pat: PrefixPattern) {
        match pat.net {
            Net::Ip4(p) => add_pattern(&mut self.v4, p, pat.low, pat.high),
            Net::Ip6(p) => add_pattern(&mut self.v6, p, pat.low, pat.high),
        }
        self.patterns += 1;
    }

    /// Whether any pattern matches `net` (the filter's `net ~ set`).
    pub fn matches(&self, net: &Net) -> bool {
        match net {
            Net::Ip4(p) => test(&self.v4, p),
            Net::Ip6(p) => test(&self.v6, p),
        }
    }

    /// Number of patterns inserted (duplicates counted).
    pub fn len(&self) -> usize {
        self.patterns
    }

    /// Whether no pattern was inserted.
    pub fn is_empty(&self) -> bool {
        self.patterns == 0
    }

    /// Whether any IPv4 pattern was inserted.
    pub fn has_ipv4(&self) -> bool {
        !self.v4.is_empty()
    }

    /// Whether any IPv6 pattern was inserted.
    pub fn has_ipv6(&self) -> bool {
        !self.v6.is_empty()
    }
}

impl Extend<PrefixPattern> for PrefixSet {
    fn extend<I: IntoIterator<Item = PrefixPattern>>(&mut self, iter: I) {
        for p in iter {
            self.insert(p);
        }
    }
}

impl FromIterator<PrefixPattern> for PrefixSet {
    fn from_iter<I: IntoIterator<Item = PrefixPattern>>(iter: I) -> Self {
        let mut s = Self::new();
        s.extend(iter);
        s
    }
}
