//! Glue between `protocol bgp` blocks and bird-bgp: options this build refuses, and the mapping of the
//! parsed options onto [`bird_bgp::proto::BgpConfig`] (FSM, transport, routing, channels).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use bird_bgp::fsm::{FsmConfig, PeerAs};
use bird_bgp::proto::{BgpChannel, BgpConfig, Dynamic, Listeners, NextHopMode};
use bird_bgp::wire::{AddPathMode, AfiSafi, Role};
use birdconf::ast::{self, Aware, FilterSpec, ProtocolConfig};
use birdconf::ConfigError;
use birdfilter::Program;
use birdnet::NetType;
use birdproto::ProtoConfig;
use birdtable::Table;

use crate::dynamic::DynQueue;
use crate::protocols::{channel, HubResolver, Krt};

/// Refuses what this build cannot run, naming the protocol (`file:line:col Protocol bgp (name): ...`).
pub fn check(p: &ProtocolConfig, b: &ast::BgpConfig) -> Result<(), ConfigError> {
    if b.neighbor.is_some() && b.neighbor_range.is_some() {
        return Err(p.loc.error(format!(
            "Protocol bgp ({}): neighbor and neighbor range cannot be used together",
            p.name
        )));
    }
    check_options(p, b)
}

/// What [`check`] refuses apart from the neighbour (also run on spawned protocols' configurations).
fn check_options(p: &ProtocolConfig, b: &ast::BgpConfig) -> Result<(), ConfigError> {
    let no = |what: &str| {
        Err(p.loc.error(format!("Protocol bgp ({}): {what} is not available in this build", p.name)))
    };
    if b.password.as_ref().is_some_and(|p| p.len() > birdloop::sockopt::TCP_MD5_MAX_KEY) {
        return Err(p.loc.error(format!("Protocol bgp ({}): password longer than 80 characters", p.name)));
    }
    if b.neighbor_range.is_some() && b.password.is_some() {
        return no("a password with a neighbor range (TCP-MD5 keys for a prefix)");
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

/// The configuration of the protocol spawned for the peer `remote` of the range protocol `parent`
/// (dynamic BGP): the parent's, named `name`, with `neighbor remote`, passive (the session is the
/// connection the peer opened). [`proto_config`] recognises it by the range and neighbour both set.
pub fn spawned_ast(parent: &ProtocolConfig, name: &str, remote: IpAddr) -> ProtocolConfig {
    let mut pc = parent.clone();
    pc.name = name.to_owned();
    if let ast::ProtoSpecific::Bgp(b) = &mut pc.specific {
        b.neighbor = Some(ast::ScopedIp { addr: remote, iface: None });
        b.passive = true;
    }
    pc
}

/// The peer of a spawned protocol's configuration (see [`spawned_ast`]).
pub fn spawned_remote(pc: &ProtocolConfig) -> Option<IpAddr> {
    match &pc.specific {
        ast::ProtoSpecific::Bgp(b) if b.neighbor_range.is_some() => b.neighbor.as_ref().map(|n| n.addr),
        _ => None,
    }
}

/// The birdproto configuration of a checked `protocol bgp`. A `neighbor range` protocol gives its
/// connections to `dynq`; so does the down notification of one spawned from it.
pub fn proto_config(
    p: &ProtocolConfig,
    b: &ast::BgpConfig,
    program: &Program,
    tables: &HashMap<String, Table>,
    krt: Option<&Krt>,
    router_id: Option<u32>,
    dynq: &Arc<DynQueue>,
) -> Result<ProtoConfig, ConfigError> {
    check_options(p, b)?;
    let table =
        |name: &str| tables.get(name).cloned().ok_or_else(|| p.loc.error(format!("Table {name} not found")));
    let dynamic = match (&b.neighbor_range, &b.neighbor) {
        (Some(range), None) => Dynamic::Range { range: *range, spawn: dynq.spawner(&p.name) },
        (Some(_), Some(_)) => Dynamic::Spawned { down: dynq.down_notifier(&p.name) },
        (None, _) => Dynamic::None,
    };
    // A range protocol never uses its neighbour address: any of the range's family will do.
    let range_addr = b.neighbor_range.map(|r| ast::ScopedIp { addr: r.addr(), iface: None });
    let neighbor = b
        .neighbor
        .as_ref()
        .or(range_addr.as_ref())
        .ok_or_else(|| p.end_loc.error("Neighbor must be configured"))?;
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
    cfg.dynamic = dynamic;

    let mut pc = ProtoConfig::new(p.name.as_str(), Arc::new(cfg), chans);
    // BIRD shows `---` in the table column of BGP protocols.
    pc.main_channel = None;
    Ok(pc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bgp_of(text: &str) -> (ProtocolConfig, ast::BgpConfig) {
        let cfg = birdconf::parse_str("x.conf", text).expect("parses");
        let p = cfg.protocols.first().expect("a protocol").clone();
        match &p.specific {
            ast::ProtoSpecific::Bgp(b) => {
                let b = (**b).clone();
                (p, b)
            }
            _ => panic!("not bgp"),
        }
    }

    #[test]
    fn a_neighbor_range_is_accepted_and_its_spawned_copies_have_the_peer_as_neighbor() {
        let (p, b) = bgp_of(
            "protocol bgp peers { local as 1; neighbor range 198.18.0.0/15 external; \
             dynamic name \"peer\"; dynamic name digits 3; ipv4 { import all; export all; }; }\n",
        );
        check(&p, &b).expect("accepted");
        assert_eq!(b.dynamic_name.as_deref(), Some("peer"));
        assert_eq!(b.dynamic_name_digits, 3);
        assert_eq!(spawned_remote(&p), None, "the range protocol itself is not spawned");
        let remote: IpAddr = "198.18.7.7".parse().expect("address");
        let s = spawned_ast(&p, "peer001", remote);
        assert_eq!(s.name, "peer001");
        assert_eq!(spawned_remote(&s), Some(remote));
        match &s.specific {
            ast::ProtoSpecific::Bgp(sb) => assert!(sb.passive, "the spawned protocol waits for its peer"),
            _ => panic!("not bgp"),
        }
    }

    #[test]
    fn a_neighbor_range_with_a_neighbor_or_a_password_is_refused() {
        let (p, b) = bgp_of(
            "protocol bgp peers { local as 1; neighbor 198.18.0.2 as 2; neighbor range 198.18.0.0/15 external; \
             ipv4 { import all; export all; }; }\n",
        );
        let e = check(&p, &b).expect_err("refused").to_string();
        assert!(e.contains("Protocol bgp (peers): neighbor and neighbor range"), "{e}");
        let (p, b) = bgp_of(
            "protocol bgp peers { local as 1; neighbor range 198.18.0.0/15 external; password \"x\"; \
             ipv4 { import all; export all; }; }\n",
        );
        let e = check(&p, &b).expect_err("refused").to_string();
        assert!(e.contains("password with a neighbor range"), "{e}");
    }
}
