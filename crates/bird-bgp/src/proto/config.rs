//! The configuration of one BGP protocol instance: the FSM's part, the session's transport options and
//! the routing options, per instance and per channel.

use std::any::Any;
use std::net::IpAddr;
use std::sync::Arc;

use birdproto::static_proto::Resolver;
use birdproto::{ProtoConfig, ProtoKind, Protocol};
use birdtable::Table;

use birdnet::Net;

use super::listen::{Listeners, Spawner};
use super::Bgp;
use crate::fsm::FsmConfig;
use crate::wire::AfiSafi;

/// Which sessions a `next hop self|keep` setting applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NextHopMode {
    /// Never (the default).
    #[default]
    Off,
    /// Always.
    On,
    /// Only on iBGP sessions.
    Ibgp,
    /// Only on eBGP sessions.
    Ebgp,
}

impl NextHopMode {
    /// Whether the mode applies to a session that is `internal` or not.
    pub fn applies(self, internal: bool) -> bool {
        match self {
            NextHopMode::Off => false,
            NextHopMode::On => true,
            NextHopMode::Ibgp => internal,
            NextHopMode::Ebgp => !internal,
        }
    }
}

/// One channel (address family) of a BGP protocol, in the order of the protocol's channels.
#[derive(Clone)]
pub struct BgpChannel {
    /// The family.
    pub afi_safi: AfiSafi,
    /// `next hop self`.
    pub next_hop_self: NextHopMode,
    /// `next hop keep`.
    pub next_hop_keep: NextHopMode,
    /// `next hop address`: used as "self" when the session's own address is of the other family.
    pub next_hop_address: Option<IpAddr>,
    /// `gateway recursive` (`Some(true)`), `gateway direct` (`Some(false)`); default: direct for
    /// single-hop eBGP, recursive otherwise.
    pub gateway_recursive: Option<bool>,
    /// `igp table`: where recursive next hops are looked up (default: the channel's own table).
    pub igp_table: Option<Table>,
}

impl std::fmt::Debug for BgpChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BgpChannel")
            .field("afi_safi", &self.afi_safi)
            .field("next_hop_self", &self.next_hop_self)
            .field("next_hop_keep", &self.next_hop_keep)
            .field("igp_table", &self.igp_table.as_ref().map(|t| t.name().to_owned()))
            .finish_non_exhaustive()
    }
}

impl BgpChannel {
    /// A channel for `af` with BIRD's defaults.
    pub fn new(afi_safi: AfiSafi) -> BgpChannel {
        BgpChannel {
            afi_safi,
            next_hop_self: NextHopMode::Off,
            next_hop_keep: NextHopMode::Off,
            next_hop_address: None,
            gateway_recursive: None,
            igp_table: None,
        }
    }

    fn same(&self, o: &BgpChannel) -> bool {
        self.afi_safi == o.afi_safi
            && self.next_hop_self == o.next_hop_self
            && self.next_hop_keep == o.next_hop_keep
            && self.next_hop_address == o.next_hop_address
            && self.gateway_recursive == o.gateway_recursive
            && self.igp_table.as_ref().map(Table::name) == o.igp_table.as_ref().map(Table::name)
    }
}

/// The part an instance plays in dynamic BGP.
#[derive(Clone, Default)]
pub enum Dynamic {
    /// An ordinary session to its `neighbor`.
    #[default]
    None,
    /// `neighbor range`: never connects; listens for connections from any address of `range` that
    /// no other protocol claims and gives them to `spawn` (the daemon starts a protocol per peer).
    Range {
        /// The range.
        range: Net,
        /// Where the connections go.
        spawn: Spawner,
    },
    /// Spawned for a peer of a range protocol: `down` is called once, from the instance's loop, when
    /// its connections are all gone (the session went down or never came up); the daemon then
    /// removes the instance.
    Spawned {
        /// The notification.
        down: Arc<dyn Fn() + Send + Sync>,
    },
}

impl std::fmt::Debug for Dynamic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dynamic::None => f.write_str("None"),
            Dynamic::Range { range, .. } => write!(f, "Range({range})"),
            Dynamic::Spawned { .. } => f.write_str("Spawned"),
        }
    }
}

impl Dynamic {
    fn same(&self, o: &Dynamic) -> bool {
        match (self, o) {
            (Dynamic::None, Dynamic::None) | (Dynamic::Spawned { .. }, Dynamic::Spawned { .. }) => true,
            (Dynamic::Range { range: a, .. }, Dynamic::Range { range: b, .. }) => a == b,
            _ => false,
        }
    }

    /// The range of a range protocol.
    pub fn range(&self) -> Option<Net> {
        match self {
            Dynamic::Range { range, .. } => Some(*range),
            _ => None,
        }
    }
}

/// `protocol bgp` as the instance runs it.
#[derive(Clone)]
pub struct BgpConfig {
    /// What the FSM needs (ASNs, router id, timers, capabilities, passive).
    pub fsm: FsmConfig,
    /// `neighbor` address.
    pub neighbor: IpAddr,
    /// `neighbor ... port` (default 179).
    pub neighbor_port: u16,
    /// `interface` (for link-local neighbours and direct sessions).
    pub interface: Option<String>,
    /// `local` address: the source of outgoing connections and the listening address.
    pub local_ip: Option<IpAddr>,
    /// `local ... port` (default 179).
    pub local_port: u16,
    /// `strict bind`: listen on the `local` address only (default: on every address, shared by all
    /// protocols on the port, with connections matched to the protocol by both addresses).
    pub strict_bind: bool,
    /// `multihop [N]`: `Some(ttl)`; `None` for a direct session.
    pub multihop: Option<u8>,
    /// `ttl security`: send with TTL 255 and require at least 255 - hops on receipt.
    pub ttl_security: bool,
    /// `password`: TCP-MD5 signatures (RFC 2385) on the session's connections.
    pub password: Option<String>,
    /// `rr client`.
    pub rr_client: bool,
    /// `rr cluster id` (default: the router id).
    pub rr_cluster_id: Option<u32>,
    /// `rs client`.
    pub rs_client: bool,
    /// `allow local as [N]`: how many times our AS may appear in a received AS path (0: never).
    pub allow_local_as: u32,
    /// `allow bgp_local_pref`: keep LOCAL_PREF received over eBGP.
    pub allow_local_pref: bool,
    /// `default bgp_local_pref`: set on received routes without one.
    pub default_local_pref: Option<u32>,
    /// `default bgp_med`: set on received routes without one.
    pub default_med: Option<u32>,
    /// `prefer older`.
    pub prefer_older: bool,
    /// `med metric`: compare MED across neighbouring ASes too.
    pub med_metric: bool,
    /// `igp metric`: compare IGP metrics of the next hops (default on).
    pub igp_metric: bool,
    /// `interpret communities` (default on): NO_EXPORT, NO_ADVERTISE.
    pub interpret_communities: bool,
    /// Channels, in the order of the instance's [`ProtoConfig::channels`].
    pub channels: Vec<BgpChannel>,
    /// The shared listening sockets.
    pub listeners: Listeners,
    /// Interfaces and neighbours, for direct next hops and the session's interface.
    pub resolver: Arc<dyn Resolver>,
    /// Dynamic BGP (`neighbor range`, or spawned from one); `neighbor` is unused for a range.
    pub dynamic: Dynamic,
}

impl std::fmt::Debug for BgpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BgpConfig")
            .field("neighbor", &self.neighbor)
            .field("local_as", &self.fsm.local_as)
            .field("peer_as", &self.fsm.peer_as)
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

impl BgpConfig {
    /// A session to `neighbor` with defaults for everything else.
    pub fn new(
        fsm: FsmConfig,
        neighbor: IpAddr,
        listeners: Listeners,
        resolver: Arc<dyn Resolver>,
    ) -> BgpConfig {
        BgpConfig {
            fsm,
            neighbor,
            neighbor_port: 179,
            interface: None,
            local_ip: None,
            local_port: 179,
            strict_bind: false,
            multihop: None,
            ttl_security: false,
            password: None,
            rr_client: false,
            rr_cluster_id: None,
            rs_client: false,
            allow_local_as: 0,
            allow_local_pref: false,
            default_local_pref: None,
            default_med: None,
            prefer_older: false,
            med_metric: false,
            igp_metric: true,
            interpret_communities: true,
            channels: vec![BgpChannel::new(AfiSafi::IPV4_UNICAST)],
            listeners,
            resolver,
            dynamic: Dynamic::None,
        }
    }

    /// Whether a change from `self` to `o` can be applied without resetting the session. Only
    /// filters, limits and preferences (compared by the framework) may change in place; every BGP
    /// option here is part of the session.
    pub fn same_session(&self, o: &BgpConfig) -> bool {
        self.fsm == o.fsm
            && self.neighbor == o.neighbor
            && self.neighbor_port == o.neighbor_port
            && self.interface == o.interface
            && self.local_ip == o.local_ip
            && self.local_port == o.local_port
            && self.strict_bind == o.strict_bind
            && self.multihop == o.multihop
            && self.ttl_security == o.ttl_security
            && self.password == o.password
            && self.rr_client == o.rr_client
            && self.rr_cluster_id == o.rr_cluster_id
            && self.rs_client == o.rs_client
            && self.allow_local_as == o.allow_local_as
            && self.allow_local_pref == o.allow_local_pref
            && self.default_local_pref == o.default_local_pref
            && self.default_med == o.default_med
            && self.prefer_older == o.prefer_older
            && self.med_metric == o.med_metric
            && self.igp_metric == o.igp_metric
            && self.interpret_communities == o.interpret_communities
            && self.dynamic.same(&o.dynamic)
            && self.channels.len() == o.channels.len()
            && self.channels.iter().zip(&o.channels).all(|(a, b)| a.same(b))
    }

    /// Whether the session is internal as configured (`internal`, or the same AS).
    pub fn configured_internal(&self) -> bool {
        match self.fsm.peer_as {
            crate::fsm::PeerAs::Exact(a) => a == self.fsm.local_as,
            crate::fsm::PeerAs::Internal => true,
            crate::fsm::PeerAs::External => false,
        }
    }

    /// The TTL sent on the session's packets: 255 with TTL security, the multihop count, else 1 for
    /// eBGP (direct) and 64 for iBGP.
    pub fn ttl(&self) -> u32 {
        if self.ttl_security {
            255
        } else if let Some(h) = self.multihop {
            u32::from(h)
        } else if self.configured_internal() {
            64
        } else {
            1
        }
    }

    /// Whether the session is single-hop (a direct eBGP session).
    pub fn is_direct(&self) -> bool {
        self.multihop.is_none() && !self.configured_internal()
    }
}

impl ProtoKind for BgpConfig {
    fn type_name(&self) -> &'static str {
        "BGP"
    }

    fn create(&self, cfg: &ProtoConfig) -> Box<dyn Protocol> {
        Box::new(Bgp::new(self.clone(), &cfg.name))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
