//! BGP session and channel options, and the checks BIRD makes when a BGP
//! protocol block ends (reported at its closing `}`).

use super::proto::children;
use super::{string_text, Ctx, Pair, Res};
use crate::ast::{
    AddPaths, Aware, BgpConfig, BgpRole, ChannelConfig, GatewayMode, Hops, NextHopMode, PeerAs,
    ProtoSpecific, ProtocolConfig, ScopedIp,
};
use crate::grammar::Rule;

fn inner<'i>(p: &Pair<'i>) -> Option<Pair<'i>> {
    p.clone().into_inner().next()
}

impl Ctx<'_> {
    fn aware(&mut self, p: Option<&Pair<'_>>) -> Res<Aware> {
        match p {
            Some(a) if a.as_rule() == Rule::kw_aware => Ok(Aware::Aware),
            other => Ok(if self.bool_opt(other.cloned())? { Aware::On } else { Aware::Off }),
        }
    }

    fn u16_opt(&mut self, p: &Pair<'_>, item: &Pair<'_>, what: &str) -> Res<u16> {
        let v = self.cexpr(p)?;
        u16::try_from(v).map_err(|_| self.end_loc(item).error(format!("{what} out of range (0-65535)")))
    }

    fn hold_time(&mut self, p: &Pair<'_>, item: &Pair<'_>, what: &str) -> Res<u32> {
        let v = self.cexpr(p)?;
        if (v != 0 && v < 3) || v > 65535 {
            return Err(self.end_loc(item).error(format!("{what} must be in range 3-65535 or zero")));
        }
        Ok(v)
    }

    pub(crate) fn bgp_opt(&mut self, b: &mut BgpConfig, item: &Pair<'_>, k: &[Pair<'_>]) -> Res<()> {
        match item.as_rule() {
            Rule::b_local => {
                for part in &k[1..] {
                    if part.as_rule() == Rule::ipa {
                        b.local_ip = Some(self.ipa(part)?);
                        continue;
                    }
                    let pk = children(part);
                    if pk[0].as_rule() == Rule::kw_port {
                        b.local_port = Some(self.u16_opt(&pk[1], item, "Port number")?);
                    } else {
                        b.local_as = Some(self.cexpr(&pk[1])?);
                    }
                }
            }
            Rule::b_local_role => {
                b.local_role = Some(match inner(&k[2]).map(|r| r.as_rule()) {
                    Some(Rule::kw_provider) => BgpRole::Provider,
                    Some(Rule::kw_rs_server) => BgpRole::RsServer,
                    Some(Rule::kw_rs_client) => BgpRole::RsClient,
                    Some(Rule::kw_customer) => BgpRole::Customer,
                    _ => BgpRole::Peer,
                })
            }
            Rule::b_neighbor => {
                for opt in &k[1..] {
                    let ok = children(opt);
                    match ok.first().map(|x| x.as_rule()) {
                        Some(Rule::nbr_range) => {
                            let rk = children(&ok[0]);
                            b.neighbor_range = Some(self.prefix_lit(&rk[1])?);
                        }
                        Some(Rule::nbr_addr) => {
                            let ak = children(&ok[0]);
                            let addr = self.ipa(&ak[0])?;
                            let iface = ak.get(1).and_then(inner).map(|i| {
                                if i.as_rule() == Rule::string {
                                    string_text(&i)
                                } else {
                                    super::name_text(&i)
                                }
                            });
                            b.neighbor = Some(ScopedIp { addr, iface });
                        }
                        Some(Rule::kw_port) => {
                            b.neighbor_port = Some(self.u16_opt(&ok[1], item, "Port number")?)
                        }
                        Some(Rule::kw_as) => b.peer_as = PeerAs::As(self.cexpr(&ok[1])?),
                        Some(Rule::kw_internal) => b.peer_as = PeerAs::Internal,
                        _ => b.peer_as = PeerAs::External,
                    }
                }
            }
            Rule::b_interface => b.interface = Some(string_text(&k[1])),
            Rule::b_source_address => b.source_address = Some(self.ipa(&k[2])?),
            Rule::b_multihop => {
                let n = match k.get(1) {
                    Some(c) => self.cexpr(c)?,
                    None => 64,
                };
                if !(1..=255).contains(&n) {
                    return Err(self.end_loc(item).error("Multihop must be in range 1-255"));
                }
                b.hops = Hops::Multihop(n as u8);
            }
            Rule::b_direct => b.hops = Hops::Direct,
            Rule::b_ttl_security => b.ttl_security = self.bool_opt(k.get(2).cloned())?,
            Rule::b_password => b.password = Some(string_text(&k[1])),
            Rule::b_strict_bind => b.strict_bind = self.bool_opt(k.get(2).cloned())?,
            Rule::b_free_bind => b.free_bind = self.bool_opt(k.get(2).cloned())?,
            Rule::b_passive => b.passive = self.bool_opt(k.get(1).cloned())?,
            Rule::b_dynamic_name => {
                if k[2].as_rule() == Rule::w_digits {
                    let n = self.cexpr(&k[3])?;
                    if n > 10 {
                        return Err(self.end_loc(item).error("Dynamic name digits must be at most 10"));
                    }
                    b.dynamic_name_digits = n as u8;
                } else {
                    b.dynamic_name = Some(string_text(&k[2]));
                }
            }
            Rule::b_hold_time => b.hold_time = self.hold_time(&k[2], item, "Hold time")?,
            Rule::b_startup_hold_time => {
                b.startup_hold_time = self.hold_time(&k[3], item, "Startup hold time")?
            }
            Rule::b_keepalive_time => {
                let v = self.cexpr(&k[2])?;
                if v > 65535 {
                    return Err(self.end_loc(item).error("Keepalive time must be in range 0-65535"));
                }
                b.keepalive_time = Some(v);
            }
            Rule::b_connect_retry_time => b.connect_retry_time = self.cexpr(&k[3])?,
            Rule::b_connect_delay_time => b.connect_delay_time = self.cexpr(&k[3])?,
            Rule::b_error_wait_time => {
                let lo = self.cexpr(&k[3])?;
                let hi = self.cexpr(&k[4])?;
                if lo > hi {
                    return Err(self.end_loc(item).error("Error wait time must be a valid range"));
                }
                b.error_wait_time = (lo, hi);
            }
            Rule::b_error_forget_time => b.error_forget_time = self.cexpr(&k[3])?,
            Rule::b_disable_after_error => b.disable_after_error = self.bool_opt(k.get(3).cloned())?,
            Rule::b_rr_client => b.rr_client = self.bool_opt(k.get(2).cloned())?,
            Rule::b_rr_cluster_id => b.rr_cluster_id = Some(self.router_id(&k[3])?),
            Rule::b_rs_client => b.rs_client = self.bool_opt(k.get(2).cloned())?,
            Rule::b_gr_time => b.graceful_restart_time = self.cexpr(&k[3])?,
            Rule::b_graceful_restart => b.graceful_restart = self.aware(k.get(2))?,
            Rule::b_llgr => b.long_lived_graceful_restart = self.aware(k.get(4))?,
            Rule::b_interpret_communities => b.interpret_communities = self.bool_opt(k.get(2).cloned())?,
            Rule::b_route_refresh => b.enable_route_refresh = self.bool_opt(k.get(3).cloned())?,
            Rule::b_enable_as4 => b.enable_as4 = self.bool_opt(k.get(2).cloned())?,
            Rule::b_extended_messages => b.enable_extended_messages = self.bool_opt(k.get(3).cloned())?,
            Rule::b_capabilities => b.capabilities = self.bool_opt(k.get(1).cloned())?,
            Rule::b_advertise_hostname => b.advertise_hostname = self.bool_opt(k.get(2).cloned())?,
            Rule::b_advertise_ipv4 => b.advertise_ipv4 = self.bool_opt(k.get(2).cloned())?,
            Rule::b_allow_local_as => {
                b.allow_local_as = Some(match k.get(3) {
                    Some(c) => Some(self.cexpr(c)?),
                    None => None,
                })
            }
            Rule::b_allow_local_pref => b.allow_bgp_local_pref = self.bool_opt(k.get(2).cloned())?,
            Rule::b_allow_med => b.allow_bgp_med = self.bool_opt(k.get(2).cloned())?,
            Rule::b_prefer_older => b.prefer_older = self.bool_opt(k.get(2).cloned())?,
            Rule::b_deterministic_med => b.deterministic_med = self.bool_opt(k.get(2).cloned())?,
            Rule::b_igp_metric => b.igp_metric = self.bool_opt(k.get(2).cloned())?,
            Rule::b_path_metric => b.path_metric = self.bool_opt(k.get(2).cloned())?,
            Rule::b_med_metric => b.med_metric = self.bool_opt(k.get(2).cloned())?,
            Rule::b_default_med => b.default_bgp_med = Some(self.cexpr(&k[2])?),
            Rule::b_default_local_pref => b.default_bgp_local_pref = Some(self.cexpr(&k[2])?),
            Rule::b_require_roles => b.require_roles = self.bool_opt(k.get(2).cloned())?,
            Rule::b_check_link => b.check_link = self.bool_opt(k.get(2).cloned())?,
            Rule::b_bfd => {
                b.bfd = Some(match k.get(1) {
                    Some(g) if g.as_rule() == Rule::kw_graceful => true,
                    other => self.bool_opt(other.cloned())?,
                })
            }
            Rule::b_confederation => b.confederation = Some(self.cexpr(&k[1])?),
            Rule::b_confederation_member => b.confederation_member = self.bool_opt(k.get(2).cloned())?,
            _ => return self.err(item, "syntax error"),
        }
        Ok(())
    }

    fn nh_mode(&mut self, p: Option<&Pair<'_>>) -> Res<NextHopMode> {
        let Some(p) = p else { return Ok(NextHopMode::On) };
        match inner(p) {
            Some(m) if m.as_rule() == Rule::kw_ibgp => Ok(NextHopMode::Ibgp),
            Some(m) if m.as_rule() == Rule::kw_ebgp => Ok(NextHopMode::Ebgp),
            Some(m) => Ok(if self.bool_opt(Some(m))? { NextHopMode::On } else { NextHopMode::Off }),
            None => Ok(NextHopMode::On),
        }
    }

    pub(crate) fn bgp_channel_opt(
        &mut self,
        ch: &mut ChannelConfig,
        opt: &Pair<'_>,
        k: &[Pair<'_>],
    ) -> Res<()> {
        let c = &mut ch.bgp;
        match opt.as_rule() {
            Rule::c_next_hop_self => c.next_hop_self = Some(self.nh_mode(k.get(3))?),
            Rule::c_next_hop_keep => c.next_hop_keep = Some(self.nh_mode(k.get(3))?),
            Rule::c_next_hop_address => c.next_hop_address = Some(self.ipa(&k[3])?),
            Rule::c_next_hop_prefer => c.next_hop_prefer_global = Some(k[3].as_rule() == Rule::kw_global),
            Rule::c_gateway => {
                c.gateway = Some(if k[1].as_rule() == Rule::kw_direct {
                    GatewayMode::Direct
                } else {
                    GatewayMode::Recursive
                })
            }
            Rule::c_igp_table => {
                let (n, t) = self.table_ref(&k[2])?;
                match t {
                    birdnet::NetType::Ipv6 => c.igp_table_ipv6 = Some(n),
                    _ => c.igp_table_ipv4 = Some(n),
                }
            }
            Rule::c_ext_next_hop => c.extended_next_hop = self.bool_opt(k.get(3).cloned())?,
            Rule::c_add_paths => {
                c.add_paths = match k.get(2) {
                    Some(m) if m.as_rule() == Rule::kw_rx => AddPaths::Rx,
                    Some(m) if m.as_rule() == Rule::kw_tx => AddPaths::Tx,
                    other => {
                        if self.bool_opt(other.cloned())? {
                            AddPaths::Both
                        } else {
                            AddPaths::Off
                        }
                    }
                }
            }
            Rule::c_mandatory => c.mandatory = self.bool_opt(k.get(1).cloned())?,
            Rule::c_secondary => c.secondary = self.bool_opt(k.get(1).cloned())?,
            Rule::c_validate => c.validate = self.bool_opt(k.get(1).cloned())?,
            Rule::c_aigp => match k.get(1) {
                Some(o) if o.as_rule() == Rule::kw_originate => {
                    c.aigp = Some(true);
                    c.aigp_originate = true;
                }
                other => c.aigp = Some(self.bool_opt(other.cloned())?),
            },
            Rule::c_cost => c.cost = Some(self.cexpr(&k[1])?),
            Rule::c_missing_lladdr => c.missing_lladdr = Some(k[2].as_str().to_string()),
            Rule::c_ch_graceful_restart => c.graceful_restart = Some(self.bool_opt(k.get(2).cloned())?),
            Rule::c_ch_llgr => c.long_lived_graceful_restart = Some(self.aware(k.get(4))?),
            Rule::c_base_table => c.base_table = Some(self.table_ref(&k[2])?.0),
            _ => return self.err(opt, "syntax error"),
        }
        Ok(())
    }

    /// BIRD's end-of-block checks for a BGP protocol.
    pub(crate) fn bgp_postconfig(&mut self, cfg: &mut ProtocolConfig) -> Res<()> {
        let ProtoSpecific::Bgp(b) = &cfg.specific else { return Ok(()) };
        let end = cfg.end_loc.clone();
        if b.local_as.is_none() {
            return Err(end.error("Local AS number must be set"));
        }
        if b.neighbor.is_none() && b.neighbor_range.is_none() && b.interface.is_none() {
            return Err(end.error("Neighbor must be configured"));
        }
        if b.peer_as == PeerAs::Unset {
            return Err(end.error("Remote AS number (or peer type) must be set"));
        }
        let internal = b.is_internal();
        for ch in &cfg.channels {
            if !internal && !ch.import_explicit {
                return Err(end.error("EBGP requires explicit import policy"));
            }
            if !internal && !ch.export_explicit {
                return Err(end.error("EBGP requires explicit export policy"));
            }
        }
        Ok(())
    }
}
