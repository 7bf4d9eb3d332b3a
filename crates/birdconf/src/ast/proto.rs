//! Protocols, templates and channels.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use birdnet::{Net, NetType};

use super::config::{DebugFlags, IfacePattern, ScopedIp};
use super::filter::{Expr, Filter, Stmt};
use crate::error::Loc;

/// Protocol types birdd runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum ProtoKind {
    Device,
    Direct,
    Kernel,
    Static,
    Pipe,
    Bgp,
}

impl ProtoKind {
    /// The keyword (`bgp`), also the stem of default names (`bgp1`).
    pub fn keyword(self) -> &'static str {
        match self {
            ProtoKind::Device => "device",
            ProtoKind::Direct => "direct",
            ProtoKind::Kernel => "kernel",
            ProtoKind::Static => "static",
            ProtoKind::Pipe => "pipe",
            ProtoKind::Bgp => "bgp",
        }
    }
}

/// A protocol or template.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtocolConfig {
    /// Name (given, or `<type><N>` for unnamed ones).
    pub name: String,
    /// Type.
    pub kind: ProtoKind,
    /// Whether this is a `template`.
    pub is_template: bool,
    /// The template or protocol it was copied `from`.
    pub from: Option<String>,
    /// `disabled`.
    pub disabled: bool,
    /// `description`.
    pub description: Option<String>,
    /// `debug` (`None`: the global `debug protocols`).
    pub debug: Option<DebugFlags>,
    /// Per-protocol `router id`.
    pub router_id: Option<u32>,
    /// `vrf "name"` (`Some(None)` for `vrf default`).
    pub vrf: Option<Option<String>>,
    /// `thread group` (BIRD 3).
    pub thread_group: Option<String>,
    /// `restart time limit` (BIRD 3).
    pub restart_time_limit: Option<Duration>,
    /// Channels in declaration order.
    pub channels: Vec<ChannelConfig>,
    /// Type-specific options.
    pub specific: ProtoSpecific,
    /// Where the block starts (the `protocol`/`template` keyword).
    pub loc: Loc,
    /// Where the block ends (its closing `}`), where BIRD reports post-checks.
    pub end_loc: Loc,
}

impl ProtocolConfig {
    /// The channel of a family.
    pub fn channel(&self, t: NetType) -> Option<&ChannelConfig> {
        self.channels.iter().find(|c| c.net_type == t)
    }

    /// BGP options, if this is a BGP protocol.
    pub fn bgp(&self) -> Option<&BgpConfig> {
        match &self.specific {
            ProtoSpecific::Bgp(b) => Some(b),
            _ => None,
        }
    }
}

/// Options specific to one protocol type.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum ProtoSpecific {
    Device(DeviceConfig),
    Direct(DirectConfig),
    Kernel(KernelConfig),
    Static(StaticConfig),
    Pipe(PipeConfig),
    Bgp(Box<BgpConfig>),
}

/// `protocol device`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeviceConfig {
    /// `scan time` in seconds (default 60).
    pub scan_time: Option<u32>,
    /// `interface` patterns.
    pub interfaces: Vec<IfacePattern>,
}

/// `protocol direct`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DirectConfig {
    /// `interface` patterns: first match wins, `-` excludes.
    pub interfaces: Vec<IfacePattern>,
    /// `check link`.
    pub check_link: bool,
}

/// `learn` setting of the kernel protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Learn {
    /// Do not import alien routes (default).
    #[default]
    Off,
    /// Import alien routes.
    On,
    /// `learn all` (BIRD 2.0.8+): also kernel-originated routes.
    All,
}

/// `protocol kernel`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KernelConfig {
    /// `persist`.
    pub persist: bool,
    /// `scan time` in seconds (default 60).
    pub scan_time: Option<u32>,
    /// `learn`.
    pub learn: Learn,
    /// `kernel table`.
    pub kernel_table: Option<u32>,
    /// `metric` (default 32).
    pub metric: Option<u32>,
    /// `graceful restart`.
    pub graceful_restart: bool,
    /// `merge paths [on [limit N]]`.
    pub merge_paths: Option<Option<u32>>,
    /// `netlink rx buffer`.
    pub netlink_rx_buffer: Option<u32>,
    /// `device routes`.
    pub device_routes: bool,
}

/// `protocol static`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StaticConfig {
    /// Routes in order.
    pub routes: Vec<StaticRoute>,
    /// `check link`.
    pub check_link: bool,
    /// `igp table` for recursive routes.
    pub igp_table: Option<String>,
}

/// A static route.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticRoute {
    /// The prefix.
    pub net: Net,
    /// Where it goes.
    pub dest: StaticDest,
    /// Per-route attribute block (filter statements run on the route).
    pub attrs: Option<Vec<Stmt>>,
    /// Where it is defined.
    pub loc: Loc,
}

/// One next hop of a static route.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticNexthop {
    /// Gateway, or `None` for `via "iface"`.
    pub gw: Option<IpAddr>,
    /// Interface (`via "eth0"`, `%eth0` or `dev "eth0"`).
    pub iface: Option<String>,
    /// `weight` (multipath).
    pub weight: Option<u32>,
    /// `onlink`.
    pub onlink: bool,
    /// `bfd`.
    pub bfd: bool,
}

/// Static route destinations.
#[derive(Debug, Clone, PartialEq)]
pub enum StaticDest {
    /// `via ...` (several for multipath).
    Via(Vec<StaticNexthop>),
    /// `recursive ip`.
    Recursive(IpAddr),
    /// `blackhole` (or `drop`).
    Blackhole,
    /// `unreachable`.
    Unreachable,
    /// `prohibit`.
    Prohibit,
}

/// `protocol pipe`: the channel (in `channels`) holds the primary table and
/// the filters; `export` goes primary → peer, `import` peer → primary.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PipeConfig {
    /// `peer table`.
    pub peer_table: Option<String>,
}

/// Peer AS setting of `neighbor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PeerAs {
    /// Not given.
    #[default]
    Unset,
    /// `as N`.
    As(u32),
    /// `internal`: same AS as `local as`.
    Internal,
    /// `external`: any AS but ours.
    External,
}

/// Hop mode of a BGP session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Hops {
    /// Not set: direct for EBGP, multihop for IBGP.
    #[default]
    Default,
    /// `direct`.
    Direct,
    /// `multihop [N]` (64 when no number is given).
    Multihop(u8),
}

/// Three-state switches like `graceful restart on|off|aware`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Aware {
    Off,
    On,
    Aware,
}

/// BGP roles (RFC 9234) for `local role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum BgpRole {
    Provider,
    RsServer,
    RsClient,
    Customer,
    Peer,
}

/// `protocol bgp` session options, with BIRD's defaults.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub struct BgpConfig {
    pub local_ip: Option<IpAddr>,
    pub local_port: Option<u16>,
    pub local_as: Option<u32>,
    pub neighbor: Option<ScopedIp>,
    pub neighbor_range: Option<Net>,
    /// `dynamic name "x"`: prefix of the names of protocols spawned by a neighbor range (default
    /// `dynbgp`).
    pub dynamic_name: Option<String>,
    /// `dynamic name digits N`: minimal width of their number, zero-padded (default 0).
    pub dynamic_name_digits: u8,
    pub neighbor_port: Option<u16>,
    pub peer_as: PeerAs,
    pub interface: Option<String>,
    pub source_address: Option<IpAddr>,
    pub hops: Hops,
    pub ttl_security: bool,
    pub password: Option<String>,
    pub strict_bind: bool,
    pub free_bind: bool,
    pub passive: bool,
    /// Seconds (default 240).
    pub hold_time: u32,
    /// Seconds (default 240).
    pub startup_hold_time: u32,
    /// Seconds (default: hold time / 3).
    pub keepalive_time: Option<u32>,
    /// Seconds (default 120).
    pub connect_retry_time: u32,
    /// Seconds (default 5).
    pub connect_delay_time: u32,
    /// `(min, max)` seconds (default 60, 300).
    pub error_wait_time: (u32, u32),
    /// Seconds (default 300).
    pub error_forget_time: u32,
    pub disable_after_error: bool,
    pub rr_client: bool,
    pub rr_cluster_id: Option<u32>,
    pub rs_client: bool,
    /// Default `aware`.
    pub graceful_restart: Aware,
    /// Seconds (default 120).
    pub graceful_restart_time: u32,
    pub long_lived_graceful_restart: Aware,
    pub interpret_communities: bool,
    pub enable_route_refresh: bool,
    pub enable_as4: bool,
    pub enable_extended_messages: bool,
    pub capabilities: bool,
    pub advertise_hostname: bool,
    pub advertise_ipv4: bool,
    /// `allow local as [N]`: `None` off, `Some(None)` any number of times.
    pub allow_local_as: Option<Option<u32>>,
    pub allow_bgp_local_pref: bool,
    pub allow_bgp_med: bool,
    pub prefer_older: bool,
    pub deterministic_med: bool,
    pub igp_metric: bool,
    pub path_metric: bool,
    pub med_metric: bool,
    pub default_bgp_med: Option<u32>,
    pub default_bgp_local_pref: Option<u32>,
    pub local_role: Option<BgpRole>,
    pub require_roles: bool,
    pub check_link: bool,
    /// `bfd [on|off|graceful]`: `Some(true)` also for `graceful`.
    pub bfd: Option<bool>,
    pub confederation: Option<u32>,
    pub confederation_member: bool,
}

impl Default for BgpConfig {
    fn default() -> Self {
        BgpConfig {
            local_ip: None,
            local_port: None,
            local_as: None,
            neighbor: None,
            neighbor_range: None,
            dynamic_name: None,
            dynamic_name_digits: 0,
            neighbor_port: None,
            peer_as: PeerAs::Unset,
            interface: None,
            source_address: None,
            hops: Hops::Default,
            ttl_security: false,
            password: None,
            strict_bind: false,
            free_bind: false,
            passive: false,
            hold_time: 240,
            startup_hold_time: 240,
            keepalive_time: None,
            connect_retry_time: 120,
            connect_delay_time: 5,
            error_wait_time: (60, 300),
            error_forget_time: 300,
            disable_after_error: false,
            rr_client: false,
            rr_cluster_id: None,
            rs_client: false,
            graceful_restart: Aware::Aware,
            graceful_restart_time: 120,
            long_lived_graceful_restart: Aware::Aware,
            interpret_communities: true,
            enable_route_refresh: true,
            enable_as4: true,
            enable_extended_messages: false,
            capabilities: true,
            advertise_hostname: false,
            advertise_ipv4: true,
            allow_local_as: None,
            allow_bgp_local_pref: false,
            allow_bgp_med: false,
            prefer_older: false,
            deterministic_med: false,
            igp_metric: true,
            path_metric: true,
            med_metric: false,
            default_bgp_med: None,
            default_bgp_local_pref: None,
            local_role: None,
            require_roles: false,
            check_link: false,
            bfd: None,
            confederation: None,
            confederation_member: false,
        }
    }
}

impl BgpConfig {
    /// Whether the session is internal (IBGP): `neighbor ... internal`, or the
    /// peer AS equals the local AS.
    pub fn is_internal(&self) -> bool {
        match self.peer_as {
            PeerAs::Internal => true,
            PeerAs::External => false,
            PeerAs::As(a) => Some(a) == self.local_as,
            PeerAs::Unset => false,
        }
    }
}

/// Import/export policy of a channel.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterSpec {
    /// `all`
    All,
    /// `none`
    None,
    /// `filter NAME`
    Named(String),
    /// `filter { ... }` or `where EXPR` (shown as `(unnamed)`).
    Inline(Arc<Filter>),
    /// `where EXPR`, kept as the expression.
    Where(Arc<Expr>),
}

/// What a limit does when hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub enum LimitAction {
    #[default]
    Warn,
    Block,
    Restart,
    Disable,
}

/// `import|receive|export limit N [action ...]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Route count.
    pub limit: u32,
    /// Action (default `warn`).
    pub action: LimitAction,
}

/// `next hop self|keep` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum NextHopMode {
    Off,
    On,
    Ibgp,
    Ebgp,
}

/// `gateway direct|recursive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum GatewayMode {
    Direct,
    Recursive,
}

/// `add paths`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub enum AddPaths {
    #[default]
    Off,
    Rx,
    Tx,
    Both,
}

/// BGP-only channel options.
#[derive(Debug, Clone, PartialEq, Default)]
#[allow(missing_docs)]
pub struct BgpChannelConfig {
    pub next_hop_self: Option<NextHopMode>,
    pub next_hop_keep: Option<NextHopMode>,
    pub next_hop_address: Option<IpAddr>,
    pub next_hop_prefer_global: Option<bool>,
    pub gateway: Option<GatewayMode>,
    pub igp_table_ipv4: Option<String>,
    pub igp_table_ipv6: Option<String>,
    pub extended_next_hop: bool,
    pub add_paths: AddPaths,
    pub mandatory: bool,
    pub secondary: bool,
    pub validate: bool,
    /// `aigp`: `None` default, `Some(true)` on, `Some(false)` off (`originate` implies on).
    pub aigp: Option<bool>,
    pub aigp_originate: bool,
    pub cost: Option<u32>,
    /// `missing lladdr self|drop|ignore`.
    pub missing_lladdr: Option<String>,
    pub graceful_restart: Option<bool>,
    pub long_lived_graceful_restart: Option<Aware>,
    pub base_table: Option<String>,
}

/// A channel: one address family of a protocol, connected to one table.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelConfig {
    /// Address family.
    pub net_type: NetType,
    /// Table (default `master4`/`master6`).
    pub table: String,
    /// Import policy (default `all`; BGP: `all` for IBGP, required for EBGP).
    pub import: FilterSpec,
    /// Export policy (default `none`; BGP: `none` for IBGP, required for EBGP).
    pub export: FilterSpec,
    /// `import limit`.
    pub import_limit: Option<Limit>,
    /// `receive limit`.
    pub receive_limit: Option<Limit>,
    /// `export limit`.
    pub export_limit: Option<Limit>,
    /// `import keep filtered`.
    pub import_keep_filtered: bool,
    /// `import table` (adj-RIB-in).
    pub import_table: bool,
    /// `export table` (adj-RIB-out).
    pub export_table: bool,
    /// `rpki reload`.
    pub rpki_reload: Option<bool>,
    /// `preference` (default per protocol).
    pub preference: Option<u32>,
    /// `export block` (BIRD 3).
    pub export_block: Option<u32>,
    /// Channel `debug`.
    pub debug: Option<DebugFlags>,
    /// BGP options.
    pub bgp: BgpChannelConfig,
    /// Whether `import` was given explicitly.
    pub import_explicit: bool,
    /// Whether `export` was given explicitly.
    pub export_explicit: bool,
    /// Where the channel is declared.
    pub loc: Loc,
}

impl ChannelConfig {
    /// A channel with default options on the family's master table.
    pub fn new(net_type: NetType, loc: Loc) -> Self {
        ChannelConfig {
            net_type,
            table: match net_type {
                NetType::Ipv6 => "master6".into(),
                _ => "master4".into(),
            },
            import: FilterSpec::All,
            export: FilterSpec::None,
            import_limit: None,
            receive_limit: None,
            export_limit: None,
            import_keep_filtered: false,
            import_table: false,
            export_table: false,
            rpki_reload: None,
            preference: None,
            export_block: None,
            debug: None,
            bgp: BgpChannelConfig::default(),
            import_explicit: false,
            export_explicit: false,
            loc,
        }
    }
}
