//! Network prefixes for birdd: types, BIRD-compatible text, and prefix tries.
//!
//! This crate is the leaf of birdd's dependency graph. It knows nothing about
//! routes or protocols; it provides the values everything else keys on, and
//! is meant to be just as usable by any other Rust network tool.
//!
//! | concept | items |
//! |---|---|
//! | one family's prefix | [`Prefix4`], [`Prefix6`], generic via [`IpPrefix`] |
//! | any net | [`Net`] (IPv4 \| IPv6, `#[non_exhaustive]` for VPN/ROA/flow later), [`NetType`] |
//! | text | `FromStr`/`Display` on all of the above, [`DisplayIp`], [`parse_ip`] and friends, [`NetError`] |
//! | longest-prefix match | [`Trie`] ([`Trie4`], [`Trie6`]) per family, [`PrefixTrie`] for both |
//! | filter prefix sets | [`PrefixPattern`] (`p{a,b}`, `p+`, `p-`), [`PrefixSet`] |
//!
//! # Invariants
//!
//! * A prefix value is always canonical: its length is within the family's
//!   range and its host bits are zero. Constructors either reject host bits
//!   ([`Prefix4::new`], `FromStr`, with BIRD's message `Invalid IPv4 prefix
//!   192.0.2.1/24, maybe you wanted 192.0.2.0/24`) or clear them
//!   ([`Prefix4::new_masked`]). Equality and hashing are therefore exact.
//! * Order is BIRD's `net_compare`: type (IPv4 first), address, length.
//! * Text is BIRD's: `192.0.2.0/24`, `2001:db8::/32`, IPv6 in RFC 5952 form
//!   with BIRD's embedded-IPv4 rule (see [`DisplayIp`]). Every `Display`
//!   honours `{:<20}`-style padding, as `show route`'s prefix column needs.
//!
//! # Tries
//!
//! [`Trie`] is a path-compressed binary (PATRICIA) trie in a `Vec` arena with
//! `u32` links; values live in a separate dense `Vec`. The [`trie`] module
//! documents the node invariants and layout. It gives exact get/insert/remove,
//! longest-prefix match, the list of covering prefixes, and ordered walks of
//! the whole trie or of the subnets of a prefix. [`PrefixSet`] stores length
//! masks on the same trie, so matching a net against a set is one descent.
//!
//! There is no interior mutability and no `unsafe`; sharing across threads
//! is the caller's choice (`Trie<P, V>` is `Send`/`Sync` when `V` is).
//!
//! # Example
//!
//! ```
//! use birdnet::{Net, PrefixPattern, PrefixSet, PrefixTrie};
//!
//! // Parse and print as BIRD does.
//! let net: Net = "2001:db8:200::/48".parse()?;
//! assert_eq!(format!("{net:<20}|"), "2001:db8:200::/48   |");
//! let err = "192.0.2.1/24".parse::<Net>().unwrap_err();
//! assert_eq!(err.to_string(), "Invalid IPv4 prefix 192.0.2.1/24, maybe you wanted 192.0.2.0/24");
//!
//! // `show route for <addr>`: longest-prefix match over both families.
//! let mut table = PrefixTrie::new();
//! for (i, n) in ["198.51.100.0/24", "198.51.100.0/25", "2001:db8:200::/48"].iter().enumerate() {
//!     table.insert(n.parse()?, i);
//! }
//! let (best, _) = table.longest_match("198.51.100.77".parse()?).expect("covered");
//! assert_eq!(best.to_string(), "198.51.100.0/25");
//!
//! // `show route 198.51.100.0/24 in`: the subnets, in order.
//! let inside: Vec<String> = table
//!     .subnets(&"198.51.100.0/24".parse()?)
//!     .map(|(n, _)| n.to_string())
//!     .collect();
//! assert_eq!(inside, ["198.51.100.0/24", "198.51.100.0/25"]);
//!
//! // A filter prefix set: [ 198.51.100.0/24{25,32}, 2001:db8::/32+ ].
//! let set: PrefixSet = [
//!     PrefixPattern::new("198.51.100.0/24".parse()?, 25, 32)?,
//!     PrefixPattern::or_longer("2001:db8::/32".parse()?),
//! ]
//! .into_iter()
//! .collect();
//! assert!(set.matches(&"198.51.100.128/25".parse()?));
//! assert!(!set.matches(&"198.51.100.0/24".parse()?));
//! assert!(set.matches(&net));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod addr;
mod bits;
mod error;
mod lpm;
mod net;
mod prefix;
mod set;
pub mod trie;

pub use addr::{parse_ip, parse_ipv4, parse_ipv6, DisplayIp};
pub use bits::AddrBits;
pub use error::NetError;
pub use lpm::{NetIter, PrefixTrie};
pub use net::{Net, NetType, UnknownNetType};
pub use prefix::{IpPrefix, Prefix4, Prefix6};
pub use set::{PrefixPattern, PrefixSet};
pub use trie::{Trie, Trie4, Trie6};
