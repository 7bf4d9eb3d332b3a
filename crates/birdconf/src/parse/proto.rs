//! Protocol and template blocks, `from` inheritance, channels, and the
//! device, direct, kernel, static and pipe protocols.
//!
//! `from T` copies T's whole configuration (channels included) and then
//! applies the block on top of it, option by option, as BIRD does: a channel
//! block for a family the template already has modifies that channel.

use std::sync::Arc;

use birdnet::NetType;

use super::global::debug_mask;
use super::{name_text, string_text, Ctx, Pair, Res, Sym};
use crate::ast::{
    ChannelConfig, DeviceConfig, DirectConfig, FilterSpec, KernelConfig, Learn, Limit, LimitAction,
    PipeConfig, ProtoKind, ProtoSpecific, ProtocolConfig, StaticConfig, StaticDest, StaticNexthop,
    StaticRoute,
};
use crate::grammar::Rule;

pub(crate) fn children<'i>(p: &Pair<'i>) -> Vec<Pair<'i>> {
    p.clone().into_inner().collect()
}

fn inner<'i>(p: &Pair<'i>) -> Option<Pair<'i>> {
    p.clone().into_inner().next()
}

impl Ctx<'_> {
    pub(crate) fn protocol_decl(&mut self, p: Pair<'_>, is_template: bool) -> Res<()> {
        let kids = children(&p);
        let body = &kids[1];
        let kind = match body.as_rule() {
            Rule::device_proto => ProtoKind::Device,
            Rule::direct_proto => ProtoKind::Direct,
            Rule::kernel_proto => ProtoKind::Kernel,
            Rule::static_proto => ProtoKind::Static,
            Rule::pipe_proto => ProtoKind::Pipe,
            Rule::bgp_proto => ProtoKind::Bgp,
            _ => {
                let kw = inner(body).map_or_else(|| body.as_str().to_string(), |k| k.as_str().to_string());
                return self.err(body, format!("birdd does not support protocol {kw}"));
            }
        };
        self.seen_table_or_proto = true;
        let parts = children(body);
        let head = children(&parts[1]);
        let (name_p, from_p) = match head.as_slice() {
            [n, _, f] => (Some(n), Some(f)),
            [_, f] => (None, Some(f)),
            [n] => (Some(n), None),
            _ => (None, None),
        };
        let sym = if is_template { Sym::Template(kind) } else { Sym::Protocol(kind) };
        let name = match name_p {
            Some(n) => self.define(n, sym)?,
            None => {
                let n = self.default_name(kind.keyword());
                self.symbols.insert(n.clone(), sym);
                n
            }
        };
        let mut cfg = match from_p {
            Some(f) => self.copy_from(f, kind)?,
            None => new_protocol(kind),
        };
        cfg.name = name;
        cfg.is_template = is_template;
        if let Some(f) = from_p {
            cfg.from = Some(name_text(f));
        }
        cfg.loc = self.loc(&p);
        let (end, items) = parts[2..].split_last().map_or((&parts[0], &parts[0..0]), |(e, i)| (e, i));
        cfg.end_loc = self.loc(end);
        if kind == ProtoKind::Pipe && cfg.channels.is_empty() {
            let mut ch = ChannelConfig::new(NetType::Ipv4, cfg.loc.clone());
            ch.table = String::new();
            cfg.channels.push(ch);
        }
        for item in items {
            self.proto_item(&mut cfg, item)?;
        }
        if !is_template {
            self.postconfig(&mut cfg)?;
            self.cfg.protocols.push(cfg);
        } else {
            self.cfg.templates.push(cfg);
        }
        Ok(())
    }

    fn copy_from(&mut self, f: &Pair<'_>, kind: ProtoKind) -> Res<ProtocolConfig> {
        let (n, sym) = self.lookup(f, "template")?;
        let src_kind = match sym {
            Sym::Template(k) | Sym::Protocol(k) => k,
            _ => return self.err(f, "Template or protocol name expected"),
        };
        if src_kind != kind {
            return self.err(f, "Can't copy configuration from a different protocol type");
        }
        let src = self.cfg.templates.iter().chain(self.cfg.protocols.iter()).find(|p| p.name == n);
        match src {
            Some(s) => Ok(s.clone()),
            None => self.err(f, "Template or protocol name expected"),
        }
    }

    fn proto_item(&mut self, cfg: &mut ProtocolConfig, item: &Pair<'_>) -> Res<()> {
        let k = children(item);
        match item.as_rule() {
            Rule::p_empty => {}
            Rule::p_disabled => cfg.disabled = self.bool_opt(k.get(1).cloned())?,
            Rule::p_description => cfg.description = Some(string_text(&k[1])),
            Rule::p_debug => cfg.debug = Some(debug_mask(&k[1])),
            Rule::p_router_id => cfg.router_id = Some(self.router_id(&k[2])?),
            Rule::p_vrf => {
                cfg.vrf = Some(if k[1].as_rule() == Rule::string { Some(string_text(&k[1])) } else { None })
            }
            Rule::p_thread_group => cfg.thread_group = Some(self.thread_group_ref(&k[2])?),
            Rule::p_restart_time_limit => cfg.restart_time_limit = Some(self.time_val(&k[3])?),
            Rule::p_mrtdump => return self.err(item, "birdd does not support mrtdump"),
            Rule::channel_decl | Rule::bgp_channel_decl => self.channel_decl(cfg, item)?,
            Rule::p_interface => {
                let pats = self.iface_patterns(&k[1])?;
                match &mut cfg.specific {
                    ProtoSpecific::Device(d) => d.interfaces.extend(pats),
                    ProtoSpecific::Direct(d) => d.interfaces.extend(pats),
                    _ => {}
                }
            }
            Rule::p_check_link => {
                let v = self.bool_opt(k.get(2).cloned())?;
                match &mut cfg.specific {
                    ProtoSpecific::Direct(d) => d.check_link = v,
                    ProtoSpecific::Static(s) => s.check_link = v,
                    _ => {}
                }
            }
            Rule::dev_scan_time => {
                let v = self.cexpr(&k[2])?;
                if let ProtoSpecific::Device(d) = &mut cfg.specific {
                    d.scan_time = Some(v);
                }
            }
            Rule::k_persist
            | Rule::k_scan_time
            | Rule::k_learn
            | Rule::k_kernel_table
            | Rule::k_metric
            | Rule::k_graceful_restart
            | Rule::k_merge_paths
            | Rule::k_netlink_rx_buffer
            | Rule::k_device_routes => {
                if let ProtoSpecific::Kernel(kc) = &mut cfg.specific {
                    let mut kc2 = kc.clone();
                    self.kernel_opt(&mut kc2, item, &k)?;
                    if let ProtoSpecific::Kernel(kc) = &mut cfg.specific {
                        *kc = kc2;
                    }
                }
            }
            Rule::static_route => {
                let r = self.static_route(item, &k)?;
                if let ProtoSpecific::Static(s) = &mut cfg.specific {
                    s.routes.push(r);
                }
            }
            Rule::s_igp_table => {
                let (t, _) = self.table_ref(&k[2])?;
                if let ProtoSpecific::Static(s) = &mut cfg.specific {
                    s.igp_table = Some(t);
                }
            }
            Rule::pipe_peer_table => {
                let (t, _) = self.table_ref(&k[2])?;
                if let ProtoSpecific::Pipe(pc) = &mut cfg.specific {
                    pc.peer_table = Some(t);
                }
            }
            r if format!("{r:?}").starts_with("b_") => {
                if let ProtoSpecific::Bgp(b) = &mut cfg.specific {
                    let mut b2 = (**b).clone();
                    self.bgp_opt(&mut b2, item, &k)?;
                    if let ProtoSpecific::Bgp(b) = &mut cfg.specific {
                        **b = b2;
                    }
                }
            }
            _ => {
                // A channel option directly in the block (pipe).
                let Some(ch) = cfg.channels.first_mut() else { return self.err(item, "Channel expected") };
                let mut ch2 = ch.clone();
                self.channel_opt(&mut ch2, item, cfg.kind)?;
                if let Some(ch) = cfg.channels.first_mut() {
                    *ch = ch2;
                }
            }
        }
        Ok(())
    }

    fn channel_decl(&mut self, cfg: &mut ProtocolConfig, item: &Pair<'_>) -> Res<()> {
        let k = children(item);
        let t = self.net_type(&k[0])?;
        let idx = match cfg.channels.iter().position(|c| c.net_type == t) {
            Some(i) => i,
            None => {
                if matches!(cfg.kind, ProtoKind::Kernel | ProtoKind::Static) && !cfg.channels.is_empty() {
                    return self.err(&k[0], "Multiple channels not supported");
                }
                cfg.channels.push(ChannelConfig::new(t, self.loc(item)));
                cfg.channels.len() - 1
            }
        };
        if let Some(body) = k.get(1) {
            let mut ch = cfg.channels[idx].clone();
            for opt in body.clone().into_inner() {
                self.channel_opt(&mut ch, &opt, cfg.kind)?;
            }
            cfg.channels[idx] = ch;
        }
        Ok(())
    }

    fn channel_opt(&mut self, ch: &mut ChannelConfig, opt: &Pair<'_>, kind: ProtoKind) -> Res<()> {
        let k = children(opt);
        match opt.as_rule() {
            Rule::c_empty => {}
            Rule::c_table => {
                let (name, t) = self.table_ref(&k[1])?;
                if kind == ProtoKind::Pipe {
                    ch.net_type = t;
                } else if t != ch.net_type {
                    return self.err(&k[1], "Incompatible table type");
                }
                ch.table = name;
            }
            Rule::c_import => {
                ch.import = self.filter_spec(&k[1])?;
                ch.import_explicit = true;
            }
            Rule::c_export => {
                ch.export = self.filter_spec(&k[1])?;
                ch.export_explicit = true;
            }
            Rule::c_limit => {
                let limit = if k[2].as_rule() == Rule::kw_off {
                    None
                } else {
                    let n = self.cexpr(&k[2])?;
                    let action = match k.get(4).and_then(inner).map(|a| a.as_rule()) {
                        Some(Rule::kw_block) => LimitAction::Block,
                        Some(Rule::kw_restart) => LimitAction::Restart,
                        Some(Rule::kw_disable) => LimitAction::Disable,
                        _ => LimitAction::Warn,
                    };
                    Some(Limit { limit: n, action })
                };
                match inner(&k[0]).map(|d| d.as_rule()) {
                    Some(Rule::kw_import) => ch.import_limit = limit,
                    Some(Rule::kw_receive) => ch.receive_limit = limit,
                    _ => ch.export_limit = limit,
                }
            }
            Rule::c_keep_filtered => ch.import_keep_filtered = self.bool_opt(k.get(3).cloned())?,
            Rule::c_import_table => ch.import_table = self.bool_opt(k.get(2).cloned())?,
            Rule::c_export_table => ch.export_table = self.bool_opt(k.get(2).cloned())?,
            Rule::c_rpki_reload => ch.rpki_reload = Some(self.bool_opt(k.get(2).cloned())?),
            Rule::c_preference => ch.preference = Some(u32::from(self.cexpr_u16(&k[1], opt)?)),
            Rule::c_export_block => ch.export_block = Some(self.cexpr(&k[2])?),
            Rule::c_debug => ch.debug = Some(debug_mask(&k[1])),
            _ => self.bgp_channel_opt(ch, opt, &k)?,
        }
        Ok(())
    }

    fn filter_spec(&mut self, p: &Pair<'_>) -> Res<FilterSpec> {
        let k = children(p);
        Ok(match k[0].as_rule() {
            Rule::kw_all => FilterSpec::All,
            Rule::kw_none => FilterSpec::None,
            Rule::kw_where => FilterSpec::Where(Arc::new(self.expr(k[1].clone())?)),
            _ => {
                if k.len() == 2 && k[1].as_rule() == Rule::name {
                    match self.lookup(&k[1], "filter")? {
                        (n, Sym::Filter) => FilterSpec::Named(n),
                        _ => return self.err(&k[1], "Filter name required"),
                    }
                } else {
                    FilterSpec::Inline(Arc::new(self.filter_body(None, p, &k[1..])?))
                }
            }
        })
    }

    fn kernel_opt(&mut self, kc: &mut KernelConfig, item: &Pair<'_>, k: &[Pair<'_>]) -> Res<()> {
        match item.as_rule() {
            Rule::k_persist => kc.persist = self.bool_opt(k.get(1).cloned())?,
            Rule::k_scan_time => kc.scan_time = Some(self.cexpr(&k[2])?),
            Rule::k_learn => {
                kc.learn = match k.get(1) {
                    Some(a) if a.as_rule() == Rule::kw_all => Learn::All,
                    other => {
                        if self.bool_opt(other.cloned())? {
                            Learn::On
                        } else {
                            Learn::Off
                        }
                    }
                }
            }
            Rule::k_kernel_table => kc.kernel_table = Some(self.cexpr(&k[2])?),
            Rule::k_metric => kc.metric = Some(self.cexpr(&k[1])?),
            Rule::k_graceful_restart => kc.graceful_restart = self.bool_opt(k.get(2).cloned())?,
            Rule::k_merge_paths => {
                let on = match k.get(2) {
                    Some(b) if b.as_rule() == Rule::bool_val => self.bool_opt(Some(b.clone()))?,
                    _ => true,
                };
                let limit = match k.iter().position(|x| x.as_rule() == Rule::kw_limit) {
                    Some(i) => Some(self.cexpr(&k[i + 1])?),
                    None => None,
                };
                kc.merge_paths = if on { Some(limit) } else { None };
            }
            Rule::k_netlink_rx_buffer => kc.netlink_rx_buffer = Some(self.cexpr(&k[3])?),
            _ => kc.device_routes = self.bool_opt(k.get(2).cloned())?,
        }
        Ok(())
    }

    fn static_route(&mut self, item: &Pair<'_>, k: &[Pair<'_>]) -> Res<StaticRoute> {
        let net = self.prefix_lit(&k[1])?;
        let target = &k[2];
        let tk = children(target);
        let dest = match tk[0].as_rule() {
            Rule::route_via => {
                let mut hops = Vec::new();
                for via in &tk {
                    hops.push(self.static_nexthop(via)?);
                }
                StaticDest::Via(hops)
            }
            Rule::route_recursive => {
                let rk = children(&tk[0]);
                StaticDest::Recursive(self.ip_lit(&rk[1])?)
            }
            Rule::route_blackhole => StaticDest::Blackhole,
            Rule::route_unreachable => StaticDest::Unreachable,
            _ => StaticDest::Prohibit,
        };
        let attrs = match k.get(3) {
            Some(block) => {
                self.open_body();
                let r = self.stmt(block.clone());
                self.scopes.pop();
                match r?.kind {
                    crate::ast::StmtKind::Block(b) => Some(b),
                    other => Some(vec![crate::ast::Stmt { kind: other, loc: self.loc(block) }]),
                }
            }
            None => None,
        };
        Ok(StaticRoute { net, dest, attrs, loc: self.loc(item) })
    }

    fn static_nexthop(&mut self, via: &Pair<'_>) -> Res<StaticNexthop> {
        let vk = children(via);
        let mut nh = StaticNexthop { gw: None, iface: None, weight: None, onlink: false, bfd: false };
        for part in &vk[1..] {
            match part.as_rule() {
                Rule::string => nh.iface = Some(string_text(part)),
                Rule::ip4 | Rule::ip6 => nh.gw = Some(self.ip_lit(part)?),
                Rule::via_iface => {
                    let i = children(part);
                    nh.iface = Some(if i[0].as_rule() == Rule::string {
                        string_text(&i[0])
                    } else {
                        name_text(&i[0])
                    });
                }
                Rule::via_opt => {
                    let Some(o) = inner(part) else { continue };
                    let ok = children(&o);
                    match o.as_rule() {
                        Rule::via_dev => nh.iface = Some(string_text(&ok[1])),
                        Rule::via_weight => nh.weight = Some(self.cexpr(&ok[1])?),
                        Rule::via_onlink => nh.onlink = self.bool_opt(ok.get(1).cloned())?,
                        _ => nh.bfd = self.bool_opt(ok.get(1).cloned())?,
                    }
                }
                _ => {}
            }
        }
        Ok(nh)
    }

    fn postconfig(&mut self, cfg: &mut ProtocolConfig) -> Res<()> {
        let end = cfg.end_loc.clone();
        match &cfg.specific {
            ProtoSpecific::Kernel(_) | ProtoSpecific::Static(_) if cfg.channels.is_empty() => {
                return Err(end.error("Channel not specified"));
            }
            ProtoSpecific::Static(s) => {
                let t = cfg.channels[0].net_type;
                if let Some(r) = s.routes.iter().find(|r| r.net.net_type() != t) {
                    return Err(r.loc.error(format!("Route {} incompatible with channel type", r.net)));
                }
            }
            ProtoSpecific::Pipe(pc) => {
                let ch = &cfg.channels[0];
                if ch.table.is_empty() {
                    return Err(end.error("Primary routing table not specified"));
                }
                let Some(peer) = &pc.peer_table else {
                    return Err(end.error("Secondary routing table not specified"));
                };
                if *peer == ch.table {
                    return Err(end.error("Primary table and peer table must be different"));
                }
                if self.cfg.table(peer).map(|t| t.net_type) != Some(ch.net_type) {
                    return Err(end.error("Primary table and peer table must be same type"));
                }
            }
            ProtoSpecific::Bgp(_) => self.bgp_postconfig(cfg)?,
            _ => {}
        }
        Ok(())
    }
}

fn new_protocol(kind: ProtoKind) -> ProtocolConfig {
    ProtocolConfig {
        name: String::new(),
        kind,
        is_template: false,
        from: None,
        disabled: false,
        description: None,
        debug: None,
        router_id: None,
        vrf: None,
        thread_group: None,
        restart_time_limit: None,
        channels: Vec::new(),
        specific: match kind {
            ProtoKind::Device => ProtoSpecific::Device(DeviceConfig::default()),
            ProtoKind::Direct => ProtoSpecific::Direct(DirectConfig::default()),
            ProtoKind::Kernel => ProtoSpecific::Kernel(KernelConfig::default()),
            ProtoKind::Static => ProtoSpecific::Static(StaticConfig::default()),
            ProtoKind::Pipe => ProtoSpecific::Pipe(PipeConfig::default()),
            ProtoKind::Bgp => ProtoSpecific::Bgp(Box::default()),
        },
        loc: Default::default(),
        end_loc: Default::default(),
    }
}
