//! The negotiated parameters of an established session and their `show protocols all` rendering.

use std::net::Ipv4Addr;

use super::{ConnId, FsmConfig};
use crate::wire::{AfiSafi, Capabilities, Open, Role, SessionCtx};

/// What both OPENs agreed on: everything the routing glue and `show protocols all` need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The connection the session runs on.
    pub conn: ConnId,
    /// Codec parameters.
    pub ctx: SessionCtx,
    /// The OPEN we sent.
    pub local_open: Open,
    /// The OPEN the peer sent.
    pub remote_open: Open,
    /// Families both sides advertised (IPv4 unicast when the peer sent no multiprotocol capability).
    pub families: Vec<AfiSafi>,
    /// Negotiated hold time (the smaller proposal; 0 disables keepalives).
    pub hold_time: u16,
    /// Keepalive interval: configured, else a third of the hold time.
    pub keepalive_time: u16,
    /// The peer accepts ROUTE-REFRESH.
    pub route_refresh: bool,
    /// Both sides support enhanced route refresh (BoRR/EoRR).
    pub enhanced_refresh: bool,
    /// The peer's ASN.
    pub peer_as: u32,
    /// The peer's BGP identifier.
    pub peer_id: Ipv4Addr,
    /// The peer's role, if it announced one (RFC 9234).
    pub peer_role: Option<Role>,
    /// Our role.
    pub local_role: Option<Role>,
}

impl Session {
    /// Negotiate from the two OPENs.
    pub fn negotiate(cfg: &FsmConfig, conn: ConnId, local: Open, remote: Open) -> Session {
        let lc = &local.caps;
        let rc = &remote.caps;
        let as4 = lc.as4.is_some() && rc.as4.is_some();
        let remote_mp: Vec<AfiSafi> =
            if rc.multiprotocol.is_empty() { vec![AfiSafi::IPV4_UNICAST] } else { rc.multiprotocol.clone() };
        let local_mp: Vec<AfiSafi> =
            if lc.multiprotocol.is_empty() { vec![AfiSafi::IPV4_UNICAST] } else { lc.multiprotocol.clone() };
        let families: Vec<AfiSafi> = local_mp.iter().copied().filter(|a| remote_mp.contains(a)).collect();
        let mut add_path_rx = Vec::new();
        let mut add_path_tx = Vec::new();
        for &af in &families {
            if let (Some(l), Some(r)) = (lc.add_path_mode(af), rc.add_path_mode(af)) {
                if l.receives() && r.sends() {
                    add_path_rx.push(af);
                }
                if l.sends() && r.receives() {
                    add_path_tx.push(af);
                }
            }
        }
        let ext_next_hop_tx = families.iter().copied().filter(|&af| rc.ext_next_hop_for(af)).collect();
        let hold_time = local.hold_time.min(remote.hold_time);
        let keepalive_time = match (hold_time, cfg.keepalive_time) {
            (0, _) => 0,
            (_, Some(k)) => k,
            (h, None) => h / 3,
        };
        let internal = cfg.is_internal(remote.asn);
        Session {
            conn,
            ctx: SessionCtx {
                as4,
                ext_message: lc.ext_message && rc.ext_message,
                add_path_rx,
                add_path_tx,
                ext_next_hop_tx,
                internal,
            },
            families,
            hold_time,
            keepalive_time,
            route_refresh: rc.route_refresh,
            enhanced_refresh: lc.enhanced_refresh && rc.enhanced_refresh,
            peer_as: remote.asn,
            peer_id: remote.router_id,
            peer_role: rc.role,
            local_role: lc.role,
            local_open: local,
            remote_open: remote,
        }
    }

    /// BIRD's `Session:` line value (`external multihop AS4`); `multihop`, `rr_client` and `rs_client`
    /// come from the configuration, which the FSM does not hold.
    pub fn session_line(&self, multihop: bool, rr_client: bool, rs_client: bool) -> String {
        format!(
            "{}{}{}{}{}",
            if self.ctx.internal { "internal" } else { "external" },
            if multihop { " multihop" } else { "" },
            if rr_client { " route-reflector" } else { "" },
            if rs_client { " route-server" } else { "" },
            if self.ctx.as4 { " AS4" } else { "" },
        )
    }
}

fn af_list(prefix: &str, afs: impl Iterator<Item = AfiSafi>) -> String {
    let mut s = prefix.to_string();
    for af in afs {
        s.push(' ');
        s.push_str(&af.bird_name());
    }
    s
}

/// The capability lines of `show protocols all` (`Local capabilities` / `Neighbor capabilities`), in
/// BIRD's order and indentation (six spaces, eight for details).
pub fn capability_lines(c: &Capabilities) -> Vec<String> {
    let mut v = Vec::new();
    if !c.multiprotocol.is_empty() {
        v.push("      Multiprotocol".to_string());
        v.push(af_list("        AF announced:", c.multiprotocol.iter().copied()));
    }
    if c.route_refresh {
        v.push("      Route refresh".to_string());
    }
    let enh: Vec<AfiSafi> = c.ext_next_hop.iter().filter(|e| e.nh_afi == 2).map(|e| e.afi_safi).collect();
    if !enh.is_empty() {
        v.push("      Extended next hop".to_string());
        v.push(af_list("        IPv6 nexthop:", enh.into_iter()));
    }
    if c.ext_message {
        v.push("      Extended message".to_string());
    }
    if let Some(gr) = &c.graceful_restart {
        v.push("      Graceful restart".to_string());
        if !gr.families.is_empty() {
            v.push(format!("        Restart time: {}", gr.restart_time));
            if gr.restarting {
                v.push("        Restart recovery".to_string());
            }
            v.push(af_list("        AF supported:", gr.families.iter().map(|f| f.afi_safi)));
            v.push(af_list(
                "        AF preserved:",
                gr.families.iter().filter(|f| f.forwarding).map(|f| f.afi_safi),
            ));
        }
    }
    if c.as4.is_some() {
        v.push("      4-octet AS numbers".to_string());
    }
    if !c.add_path.is_empty() {
        v.push("      ADD-PATH".to_string());
        v.push(af_list("        RX:", c.add_path.iter().filter(|(_, m)| m.receives()).map(|(a, _)| *a)));
        v.push(af_list("        TX:", c.add_path.iter().filter(|(_, m)| m.sends()).map(|(a, _)| *a)));
    }
    if c.enhanced_refresh {
        v.push("      Enhanced refresh".to_string());
    }
    if let Some(ll) = &c.llgr {
        v.push("      Long-lived graceful restart".to_string());
        let able: Vec<_> = ll.iter().filter(|f| f.stale_time > 0).collect();
        if !able.is_empty() {
            let stale = ll.iter().map(|f| f.stale_time).max().unwrap_or(0);
            v.push(format!("        LL stale time: {stale}"));
            v.push(af_list("        AF supported:", able.iter().map(|f| f.afi_safi)));
            v.push(af_list("        AF preserved:", ll.iter().filter(|f| f.forwarding).map(|f| f.afi_safi)));
        }
    }
    if let Some(h) = &c.hostname {
        v.push(format!("      Hostname: {}", h.host));
    }
    if let Some(r) = c.role {
        v.push(format!("      Role: {}", r.name()));
    }
    v
}
