//! BGP for birdd: a sans-IO core (wire codec and finite state machine) and the protocol that runs it on
//! birdloop ([`proto`]).
//!
//! The core is pure (STYLE rule 3): no sockets, no clocks, no threads. The session adapter in [`proto`]
//! owns the TCP connections and timers in the protocol's own loop, feeds bytes to [`wire::frame_len`]
//! and [`wire::Message::decode`], feeds [`fsm::Event`]s to [`fsm::Fsm::step`] and carries out the
//! returned [`fsm::Output`]s; its routing part ([`proto::route`]: decision process, route reflection,
//! route server, next hops) consumes [`wire::UpdateDecoded::families`] and produces UPDATEs with
//! [`wire::UpdatePacker`]. See [`proto`] for the threads, backpressure (cork → RX pause) and states.
//!
//! ```text
//!   TCP bytes ──frame_len──▶ Message::decode(ctx) ──▶ Event::Received ──▶ Fsm::step ──▶ Output::Deliver(UPDATE)
//!                                   │ WireError                              │                 │
//!                                   └──▶ Event::ReceiveError                 ▼                 ▼
//!                                                          Send / Close / StartTimer   families(): per AFI/SAFI
//!                                                          Established(Session)        (withdrawn, attrs, announced)
//!   routing glue: (AFI/SAFI, attrs, nets) ──UpdatePacker──▶ UPDATE bytes (≤ negotiated max size)
//! ```
//!
//! # FSM
//!
//! [`fsm::Fsm`] is one BGP protocol instance with BIRD's two connections (outgoing and incoming), its
//! timers (connect delay, connect retry, hold, keepalive, error wait with doubling, send hold,
//! graceful restart), collision detection by BGP identifier and the protocol states `show protocols`
//! shows. [`fsm::Fsm::state_name`], [`fsm::Fsm::status_info`], [`fsm::Fsm::show_lines`] and
//! [`fsm::LastError`] give BIRD's texts; [`fsm::Session`] holds what the OPENs negotiated, including
//! the [`wire::SessionCtx`] the codec needs.
//!
//! # Attributes
//!
//! Path attributes decode straight into birdtable's model ([`birdtable::attrs::EAttr`], sorted by id,
//! ready for [`birdtable::attrs::AttrSet::set_all`]): AS paths in 4-byte wire form whatever the
//! session (2-byte peers' AS_PATH and AS4_PATH are merged, RFC 6793 §4.2.3), communities as lists,
//! unknown optional transitive attributes as bytes with their flags (sent on with the Partial bit),
//! unknown optional non-transitive ones dropped. NEXT_HOP and the MP_REACH_NLRI next hop become
//! `bgp_next_hop` in the per-family view.
//!
//! # Errors (RFC 7606)
//!
//! A message whose NLRI cannot be located (bad header, lengths past the end, attribute framing, a
//! repeated or unparseable MP_REACH_NLRI/MP_UNREACH_NLRI, a bad prefix) is a
//! [`wire::WireError`] carrying the NOTIFICATION to send ("session reset"). Everything else is an
//! [`wire::AttrIssue`]: "attribute discard" (ATOMIC_AGGREGATE and AGGREGATOR of a wrong length,
//! repeated attributes after the first, iBGP-only attributes from eBGP, malformed AS4_PATH) or
//! "treat-as-withdraw" (malformed ORIGIN, AS_PATH, NEXT_HOP, MP_REACH_NLRI next hop, MED,
//! LOCAL_PREF, communities, ORIGINATOR_ID, CLUSTER_LIST, OTC; wrong flags; unknown well-known
//! attributes; a missing mandatory attribute).
//!
//! # Example
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use bird_bgp::wire::{AfiSafi, Message, Nlri, SessionCtx, UpdatePacker};
//! use birdtable::attrs::{AsPath, AttrId, AttrValue, EAttr, Origin};
//!
//! let ctx = SessionCtx { as4: true, ..SessionCtx::default() };
//! let attrs = vec![
//!     EAttr { id: AttrId::BGP_ORIGIN, flags: 0x40, value: AttrValue::Origin(Origin::Igp) },
//!     EAttr { id: AttrId::BGP_PATH, flags: 0x40, value: AttrValue::Path(AsPath::from_sequence(&[65001])) },
//!     EAttr {
//!         id: AttrId::BGP_NEXT_HOP,
//!         flags: 0x40,
//!         value: AttrValue::Ip(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))),
//!     },
//! ];
//! let nets = vec![Nlri::new("198.51.100.0/24".parse().unwrap()), Nlri::new("203.0.113.0/24".parse().unwrap())];
//!
//! // Encode: one UPDATE holds both prefixes.
//! let mut msgs = Vec::new();
//! UpdatePacker::new(&ctx).announce(AfiSafi::IPV4_UNICAST, &attrs, &nets, &mut msgs).unwrap();
//! assert_eq!(msgs.len(), 1);
//!
//! // Decode it back: one family, the same prefixes and attributes.
//! let Message::Update(update) = Message::decode(&msgs[0], &ctx).unwrap() else { panic!() };
//! assert!(update.issues.is_empty());
//! let fam = &update.families()[0];
//! assert_eq!(fam.afi_safi, AfiSafi::IPV4_UNICAST);
//! assert_eq!(fam.announced, nets);
//! assert_eq!(fam.attrs, attrs);
//! ```
//!
//! # RFCs
//!
//! | RFC | Title | Status |
//! |---|---|---|
//! | 1997 | BGP Communities Attribute | supported |
//! | 2918 | Route Refresh Capability for BGP-4 | supported (codec, capability) |
//! | 4271 | A Border Gateway Protocol 4 (BGP-4) | supported (codec, FSM §8 with BIRD's two-connection model; delay open not implemented) |
//! | 4360 | BGP Extended Communities Attribute | supported (as opaque 8-byte values) |
//! | 4456 | BGP Route Reflection | supported (`rr client`, `rr cluster id`, loop checks) |
//! | 4724 | Graceful Restart Mechanism for BGP | partial (capability both ways; receiving side in the FSM: `SessionDown { graceful }`, restart timer, a new connection as restart; End-of-RIB markers; the restarting side is not done) |
//! | 4760 | Multiprotocol Extensions for BGP-4 | supported (AFI/SAFI generic in capabilities; IP prefixes decoded for AFI 1/2, SAFI 1/2) |
//! | 5492 | Capabilities Advertisement with BGP-4 | supported (unknown capabilities kept; OPEN without capabilities after a 2/4 NOTIFICATION) |
//! | 6286 | AS-Wide Unique BGP Identifier | supported (zero identifier refused; equal identifiers refused on iBGP) |
//! | 6608 | Subcodes for BGP Finite State Machine Error | supported |
//! | 6793 | BGP Support for Four-Octet AS Number Space | supported (AS_TRANS, AS4_PATH/AS4_AGGREGATOR both ways) |
//! | 7313 | Enhanced Route Refresh Capability for BGP-4 | supported (codec: BoRR/EoRR, 7/1 length error) |
//! | 7606 | Revised Error Handling for BGP UPDATE Messages | supported (see above) |
//! | 7705 | Autonomous System Migration Mechanisms | partial (`allow local as`) |
//! | 7911 | Advertisement of Multiple Paths in BGP | supported (capability, path ids per family and direction) |
//! | 8092 | BGP Large Communities Attribute | supported |
//! | 8538 | Notification Message Support for BGP Graceful Restart | partial (N bit parsed and sent) |
//! | 8654 | Extended Message Support for BGP | supported (65535-byte UPDATEs; OPEN and KEEPALIVE stay ≤ 4096) |
//! | 8950 | Advertising IPv4 NLRI with an IPv6 Next Hop | supported (capability, MP_REACH with 16/32-byte next hop for AFI 1) |
//! | 9003 | Extended BGP Administrative Shutdown Communication | supported |
//! | 9072 | Extended Optional Parameters Length for BGP OPEN | supported |
//! | 9234 | Route Leak Prevention and Detection Using Roles | supported (role capability, mismatch check, OTC attribute, `otc_ingress`/`otc_egress` for the routing glue to call) |
//! | 9494 | Long-Lived Graceful Restart for BGP | partial (capability parsed and shown) |
//! | 9687 | Send Hold Timer | supported in the FSM (optional) |
//! | draft-walton-bgp-hostname-capability | Hostname Capability for BGP | supported (capability) |

#![forbid(unsafe_code)]

pub mod fsm;
pub mod proto;
pub mod wire;
