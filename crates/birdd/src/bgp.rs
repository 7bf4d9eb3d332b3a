//! Glue between `protocol bgp` blocks and bird-bgp: options this build refuses, and the mapping of the
//! parsed options onto [`bird_bgp::proto::BgpConfig`] (FSM, transport, routing, channels).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use bird_bgp::fsm::{FsmConfig, PeerAs};
use bird_bgp::proto::{BgpChannel, BgpConfig, Listeners, NextHopMode};
use bird_bgp::wire::{AddPathMode, AfiSafi, Role};
use birdconf::ast::{self, Aware, FilterSpec, ProtocolConfig};
use birdconf::ConfigError;
use birdfilter::Program;
use birdnet::NetType;
use birdproto::ProtoConfig;
use birdtable::Table;

use crate::protocols::{channel, HubResolver, Krt};

/// Refuses what this build cannot run, naming the protocol (`file:line:col Protocol bgp (name): ...`).
pub fn check(p: &ProtocolConfig, b: &ast::BgpConfig) -> Result<(), ConfigError> {
    let no = |what: &str| {
        Err(p.loc.error(format!("Protocol bgp ({}): {what} is not available in this build", p.name)))
    };
    if b.password.as_ref().is_some_and(|p| p.len() > birdloop::sockopt::TCP_MD5_MAX_KEY) {
        return Err(p.loc.error(format!("Protocol bgp ({}): password longer than 80 characters", p.name)));
    }
    if b.neighbor_range.is_some() {
        return no("a neighbor range (dynamic BGP)");
    }
    if b.confederation.is_some() {
        return no("confederation");
    }
    if b.bfd == Some(true) {
        return no("BFD");
    }
    for ch in &p.channels {
        if !matches!(ch.net_type, NetType::Ipv4 | NetType::Ipv6) {
            return Err(ch
                .loc
                .error(format!("Protocol bgp ({}): only ipv4 and ipv6 channels are supported", p.name)));
        }
    }
    if p.channels.is_empty() {
        return Err(p.end_loc.error(format!("Protocol bgp ({}): no channel configured", p.name)));
    }
    Ok(())
}

fn nh_mode(m: Option<ast::NextHopMode>) -> NextHopMode {
    match m {
        None | Some(ast::NextHopMode::Off) => NextHopMode::Off,
        Some(ast::NextHopMode::On) => NextHopMode::On,
        Some(ast::NextHopMode::Ibgp) => NextHopMode::Ibgp,
        Some(ast::NextHopMode::Ebgp) => NextHopMode::Ebgp,
    }
}

fn role(r: ast::BgpRole) -> Role {
    match r {
        ast::BgpRole::Provider => Role::Provider,
        ast::BgpRole::RsServer => Role::RsServer,
        ast::BgpRole::RsClient => Role::RsClient,
        ast::BgpRole::Customer => Role::Customer,
        ast::BgpRole::Peer => Role::Peer,
    }
}

fn secs16(v: u32) -> u16 {
    u16::try_from(v).unwrap_or(u16::MAX)
}

/// The birdproto configuration of a checked `protocol bgp`.
pub fn proto_config(
    p: &ProtocolConfig,
    b: &ast::BgpConfig,
    program: &Program,
    tables: &HashMap<String, Table>,
    krt: Option<&Krt>,
    router_id: Option<u32>,
) -> Result<ProtoConfig, ConfigError> {
    check(p, b)?;
    let table =
        |name: &str| tables.get(name).cloned().ok_or_else(|| p.loc.error(format!("Table {name} not found")));
    let neighbor = b.neighbor.as_ref().ok_or_else(|| p.end_loc.error("Neighbor must be configured"))?;
    let local_as = b.local_as.ok_or_else(|| p.end_loc.error("Local AS number must be set"))?;
    let rid = p
        .router_id
        .or(router_id)
        .or_else(|| match b.local_ip {
            Some(IpAddr::V4(a)) => Some(u32::from(a)),
            _ => None,
        })
        .ok_or_else(|| p.loc.error(format!("Protocol bgp ({}): router id must be configured", p.name)))?;
    let peer_as = match b.peer_as {
        ast::PeerAs::As(a) => PeerAs::Exact(a),
        ast::PeerAs::Internal => PeerAs::Internal,
        ast::PeerAs::External => PeerAs::External,
        ast::PeerAs::Unset => return Err(p.end_loc.error("Remote AS number (or peer type) must be set")),
    };
    let internal = b.is_internal();
    let mut fsm = FsmConfig::new(local_as, peer_as, Ipv4Addr::from(rid));
    fsm.hold_time = secs16(b.hold_time);
    fsm.startup_hold_time = secs16(b.startup_hold_time);
    fsm.keepalive_time = b.keepalive_time.map(secs16);
    fsm.connect_retry_time = b.connect_retry_time;
    fsm.connect_delay_time = b.connect_delay_time;
    fsm.error_wait_min = b.error_wait_time.0;
    fsm.error_wait_max = b.error_wait_time.1;
    fsm.error_forget_time = b.error_forget_time;
    fsm.disable_after_error = b.disable_after_error;
    fsm.passive = b.passive;
    fsm.advertise_capabilities = b.capabilities;
    fsm.role = b.local_role.map(role);
    fsm.require_role = b.require_roles;
    fsm.capabilities.route_refresh = b.enable_route_refresh;
    fsm.capabilities.enhanced_refresh = b.enable_route_refresh;
    fsm.capabilities.ext_message = b.enable_extended_messages;
    if !b.enable_as4 {
        fsm.capabilities.as4 = None;
    }
    if b.long_lived_graceful_restart == Aware::Off {
        fsm.capabilities.llgr = None;
    }

    let families: Vec<AfiSafi> = p
        .channels
        .iter()
        .map(|c| if c.net_type == NetType::Ipv6 { AfiSafi::IPV6_UNICAST } else { AfiSafi::IPV4_UNICAST })
        .collect();
    fsm.set_families(&families);
    let gr_time = secs16(b.graceful_restart_time);
    match b.graceful_restart {
        Aware::Off => fsm.set_graceful_restart(gr_time, None),
        Aware::Aware => fsm.set_graceful_restart(gr_time, Some(&[])),
        // The restarting side is not implemented: advertise awareness only, without forwarding state.
        Aware::On => fsm.set_graceful_restart(gr_time, Some(&[])),
    }

    let mut chans = Vec::new();
    let mut bgp_chans = Vec::new();
    for (ch, &af) in p.channels.iter().zip(&families) {
        let mut c = ch.clone();
        if internal && !c.export_explicit {
            c.export = FilterSpec::All;
        }
        chans.push(channel(&c, 100, program, &table(&c.table)?)?);
        let igp = match ch.net_type {
            NetType::Ipv6 => ch.bgp.igp_table_ipv6.as_ref(),
            _ => ch.bgp.igp_table_ipv4.as_ref(),
        };
        let mut bc = BgpChannel::new(af);
        bc.next_hop_self = nh_mode(ch.bgp.next_hop_self);
        bc.next_hop_keep = nh_mode(ch.bgp.next_hop_keep);
        bc.next_hop_address = ch.bgp.next_hop_address;
        bc.gateway_recursive = ch.bgp.gateway.map(|g| g == ast::GatewayMode::Recursive);
        bc.igp_table = igp.map(|t| table(t)).transpose()?;
        let ap = match ch.bgp.add_paths {
            ast::AddPaths::Off => None,
            ast::AddPaths::Rx => Some(AddPathMode::Receive),
            ast::AddPaths::Tx => Some(AddPathMode::Send),
            ast::AddPaths::Both => Some(AddPathMode::Both),
        };
        fsm.set_add_paths(af, ap);
        if ch.bgp.extended_next_hop {
            fsm.set_extended_next_hop(af, true);
        }
        bgp_chans.push(bc);
    }

    let resolver = Arc::new(HubResolver(krt.map(|k| k.hub.clone())));
    let mut cfg = BgpConfig::new(fsm, neighbor.addr, Listeners::global().clone(), resolver);
    cfg.neighbor_port = b.neighbor_port.unwrap_or(179);
    cfg.interface = neighbor.iface.clone().or_else(|| b.interface.clone());
    cfg.local_ip = b.local_ip.or(b.source_address);
    cfg.local_port = b.local_port.unwrap_or(179);
    cfg.strict_bind = b.strict_bind;
    cfg.multihop = match b.hops {
        ast::Hops::Multihop(n) => Some(n),
        ast::Hops::Direct => None,
        ast::Hops::Default if internal => Some(64),
        ast::Hops::Default => None,
    };
    cfg.ttl_security = b.ttl_security;
    cfg.password = b.password.clone();
    cfg.rr_client = b.rr_client;
    cfg.rr_cluster_id = b.rr_cluster_id;
    cfg.rs_client = b.rs_client;
    cfg.allow_local_as = match b.allow_local_as {
        None => 0,
        Some(None) => u32::MAX,
        Some(Some(n)) => n,
    };
    cfg.allow_local_pref = b.allow_bgp_local_pref;
    cfg.default_local_pref = b.default_bgp_local_pref;
    cfg.default_med = b.default_bgp_med;
    cfg.prefer_older = b.prefer_older;
    cfg.med_metric = b.med_metric;
    cfg.igp_metric = b.igp_metric;
    cfg.interpret_communities = b.interpret_communities;
    cfg.channels = bgp_chans;

    let mut pc = ProtoConfig::new(p.name.as_str(), Arc::new(cfg), chans);
    // BIRD shows `---` in the table column of BGP protocols.
    pc.main_channel = None;
    Ok(pc)
}
