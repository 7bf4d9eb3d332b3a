//! Global options, thread groups, CLI sockets and tables.

use birdnet::NetType;

use super::{name_text, string_text, Ctx, Pair, Res, Sym};
use crate::ast::{
    AttributeDecl, CliSocket, DebugFlags, IfacePattern, LogClass, LogConfig, LogTarget, TableConfig,
    ThreadGroup, TimeFormat,
};
use crate::grammar::Rule;

fn children<'i>(p: &Pair<'i>) -> Vec<Pair<'i>> {
    p.clone().into_inner().collect()
}

fn inner<'i>(p: &Pair<'i>) -> Option<Pair<'i>> {
    p.clone().into_inner().next()
}

impl Ctx<'_> {
    pub(crate) fn global_item(&mut self, p: Pair<'_>) -> Res<()> {
        let kids = children(&p);
        match p.as_rule() {
            Rule::router_id_item => {
                let v = &kids[2];
                if v.as_rule() == Rule::router_id_from {
                    let pats = children(v);
                    self.cfg.router_id_from = Some(self.iface_patterns(&pats[1])?);
                } else {
                    self.cfg.router_id = Some(self.router_id(v)?);
                }
            }
            Rule::log_item => {
                let target = self.log_target(&kids[1])?;
                let classes = log_classes(&kids[2]);
                self.cfg.logs.push(LogConfig { target, classes });
            }
            Rule::timeformat_item => {
                let which = inner(&kids[1]).map(|k| k.as_rule());
                let tf = self.timeformat_spec(&kids[2])?;
                let slot = match which {
                    Some(Rule::kw_route) => &mut self.cfg.timeformat.route,
                    Some(Rule::kw_protocol) => &mut self.cfg.timeformat.protocol,
                    Some(Rule::kw_base) => &mut self.cfg.timeformat.base,
                    _ => &mut self.cfg.timeformat.log,
                };
                *slot = tf;
            }
            Rule::hostname_item => self.cfg.hostname = Some(string_text(&kids[1])),
            Rule::debug_protocols_item => self.cfg.debug_protocols = debug_mask(&kids[2]),
            Rule::debug_latency_item => {
                if kids[2].as_rule() == Rule::kw_limit {
                    self.cfg.debug_latency_limit = Some(self.time_val(&kids[3])?);
                } else {
                    self.cfg.debug_latency = self.bool_opt(Some(kids[2].clone()))?;
                }
            }
            Rule::gr_wait_item => self.cfg.graceful_restart_wait = Some(self.cexpr(&kids[3])?),
            Rule::watchdog_item => {
                let t = self.time_val(&kids[2])?;
                if kids[1].as_rule() == Rule::kw_warning {
                    self.cfg.watchdog_warning = Some(t);
                } else {
                    self.cfg.watchdog_timeout = Some(t);
                }
            }
            Rule::attribute_item => {
                let ty = self.type_name(&kids[1])?;
                let name = self.define(&kids[2], Sym::Attribute(ty.clone()))?;
                let loc = self.loc(&kids[2]);
                self.cfg.attributes.push(AttributeDecl { name, ty, loc });
            }
            Rule::mrtdump_item => return self.err(&p, "birdd does not support mrtdump"),
            Rule::threads_item => self.threads_item(&p, &kids)?,
            Rule::thread_group_item => self.thread_group_item(&p, &kids)?,
            Rule::cli_item => {
                let mut s = CliSocket { path: string_text(&kids[1]), restrict: false, v2_attributes: false };
                for o in &kids[2..] {
                    match inner(o).map(|k| k.as_rule()) {
                        Some(Rule::cli_restrict) => s.restrict = true,
                        Some(Rule::cli_v2) => s.v2_attributes = true,
                        _ => {}
                    }
                }
                self.cfg.cli.push(s);
            }
            _ => return self.err(&p, "syntax error"),
        }
        Ok(())
    }

    fn log_target(&mut self, p: &Pair<'_>) -> Res<LogTarget> {
        let Some(t) = inner(p) else { return self.err(p, "Log target expected") };
        let kids = children(&t);
        Ok(match t.as_rule() {
            Rule::log_file => {
                let limit = match (kids.get(1), kids.get(2)) {
                    (Some(n), Some(f)) => Some((self.cexpr(n)?, string_text(f))),
                    _ => None,
                };
                LogTarget::File { path: string_text(&kids[0]), limit }
            }
            Rule::log_syslog => LogTarget::Syslog(kids.get(2).map(string_text)),
            _ => LogTarget::Stderr,
        })
    }

    fn timeformat_spec(&mut self, p: &Pair<'_>) -> Res<TimeFormat> {
        let Some(t) = inner(p) else { return self.err(p, "Time format expected") };
        let kids = children(&t);
        Ok(match t.as_rule() {
            Rule::timeformat_iso => TimeFormat::Iso {
                long: kids[1].as_rule() == Rule::kw_long,
                frac_digits: match kids.get(2).map(|k| k.as_rule()) {
                    Some(Rule::kw_ms) => 3,
                    Some(Rule::kw_us) => 6,
                    _ => 0,
                },
            },
            _ => {
                let older = match (kids.get(1), kids.get(2)) {
                    (Some(n), Some(f)) => Some((self.cexpr(n)?, string_text(f))),
                    _ => None,
                };
                TimeFormat::Custom { fmt: string_text(&kids[0]), older }
            }
        })
    }

    pub(crate) fn iface_patterns(&mut self, p: &Pair<'_>) -> Res<Vec<IfacePattern>> {
        let mut out = Vec::new();
        for pat in p.clone().into_inner() {
            let parts = children(&pat);
            let negated = parts.len() == 2;
            let v = &parts[parts.len() - 1];
            if v.as_rule() == Rule::string {
                let s = string_text(v);
                // `"-eth*"` excludes too (the minus inside the string).
                match s.strip_prefix('-') {
                    Some(rest) => out.push(IfacePattern::Name { glob: rest.to_string(), negated: true }),
                    None => out.push(IfacePattern::Name { glob: s, negated }),
                }
            } else {
                out.push(IfacePattern::Prefix { net: self.prefix_lit(v)?, negated });
            }
        }
        Ok(out)
    }

    fn threads_item(&mut self, p: &Pair<'_>, kids: &[Pair<'_>]) -> Res<()> {
        if self.seen_thread_group {
            return self.err(p, "Mixing of `threads NUM` and `threads worker {}` is not allowed");
        }
        if self.seen_table_or_proto {
            return self.err(p, "Threads must be configured before any table or protocol");
        }
        let n = self.cexpr(&kids[1])?;
        if n < 1 {
            return Err(self.end_loc(p).error("At least one thread is needed"));
        }
        self.seen_threads = true;
        self.cfg.threads.threads_shorthand = Some(n);
        if let Some(w) = self.cfg.threads.groups.iter_mut().find(|g| g.name == "worker") {
            w.threads = n;
        }
        Ok(())
    }

    fn thread_group_item(&mut self, p: &Pair<'_>, kids: &[Pair<'_>]) -> Res<()> {
        if self.seen_threads {
            return self.err(p, "Mixing of `threads NUM` and `threads worker {}` is not allowed");
        }
        if self.seen_table_or_proto {
            return self.err(p, "Thread groups must be configured before any table or protocol");
        }
        let name_p = &kids[2];
        let name = if name_p.as_rule() == Rule::kw_express {
            self.warn(&self.loc(name_p), "Symbol 'express' overrides existing keyword");
            "express".to_string()
        } else {
            name_text(name_p)
        };
        // The implicit groups may be redefined once; others are new symbols.
        let implicit = matches!(name.as_str(), "worker" | "express")
            && self.cfg.threads.group(&name).is_some_and(|g| g.loc.is_none());
        if !implicit {
            if name_p.as_rule() == Rule::kw_express {
                return self.err(name_p, "Symbol 'express' already defined");
            }
            self.define(name_p, Sym::ThreadGroup)?;
        }
        self.seen_thread_group = true;
        let mut g = if name == "express" {
            ThreadGroup::express_defaults()
        } else {
            ThreadGroup::worker_defaults(&name)
        };
        g.loc = Some(self.loc(p));
        let mut set_default = false;
        for opt in &kids[3..] {
            let Some(o) = inner(opt) else { continue };
            let ok = children(&o);
            match o.as_rule() {
                Rule::tg_threads => g.threads = self.cexpr(&ok[1])?,
                Rule::tg_default => {
                    g.default = self.bool_opt(ok.get(1).cloned())?;
                    set_default = g.default;
                }
                Rule::tg_max_latency => g.max_latency = self.time_val(&ok[2])?,
                Rule::tg_min_time => g.min_time = self.time_val(&ok[2])?,
                Rule::tg_max_time => g.max_time = self.time_val(&ok[2])?,
                Rule::tg_wakeup_time => g.wakeup_time = self.time_val(&ok[2])?,
                _ => {}
            }
        }
        if g.max_time > std::time::Duration::from_secs(60) {
            return self.err(p, "Max time must be at most 60 s");
        }
        if g.min_time > g.max_time {
            return self.err(p, "Min time must be at most max time");
        }
        if g.max_latency < g.max_time {
            return self.err(p, "Max latency must be at least max time");
        }
        let groups = &mut self.cfg.threads.groups;
        if set_default {
            for other in groups.iter_mut() {
                other.default = false;
            }
        }
        match groups.iter_mut().find(|x| x.name == name) {
            Some(slot) => {
                if !set_default && slot.default {
                    g.default = true;
                }
                *slot = g;
            }
            None => groups.push(g),
        }
        Ok(())
    }

    pub(crate) fn table_decl(&mut self, p: Pair<'_>) -> Res<()> {
        let kids = children(&p);
        let net_type = self.net_type(&kids[0])?;
        let name = self.define(&kids[2], Sym::Table(net_type))?;
        self.seen_table_or_proto = true;
        let mut t = TableConfig::new(&name, net_type);
        t.loc = Some(self.loc(&p));
        if let Some(opts) = kids.get(3) {
            for opt in opts.clone().into_inner() {
                let Some(o) = inner(&opt) else { continue };
                let ok = children(&o);
                match o.as_rule() {
                    Rule::t_sorted => t.sorted = self.bool_opt(ok.get(1).cloned())?,
                    Rule::t_trie => t.trie = self.bool_opt(ok.get(1).cloned())?,
                    Rule::t_gc_threshold => t.gc_threshold = Some(self.cexpr(&ok[2])?),
                    Rule::t_gc_period => t.gc_period = Some(self.time_val(&ok[2])?),
                    Rule::t_cork => t.cork_threshold = Some((self.cexpr(&ok[2])?, self.cexpr(&ok[3])?)),
                    Rule::t_export_settle => {
                        t.export_settle = Some((self.time_val(&ok[3])?, self.time_val(&ok[4])?))
                    }
                    Rule::t_rr_settle => {
                        t.route_refresh_export_settle = Some((self.time_val(&ok[5])?, self.time_val(&ok[6])?))
                    }
                    Rule::t_digest_settle => {
                        t.digest_settle = Some((self.time_val(&ok[3])?, self.time_val(&ok[4])?))
                    }
                    Rule::t_min_settle => t.min_settle_time = Some(self.time_val(&ok[3])?),
                    Rule::t_max_settle => t.max_settle_time = Some(self.time_val(&ok[3])?),
                    Rule::t_thread_group => t.thread_group = Some(self.thread_group_ref(&ok[2])?),
                    Rule::t_debug => t.debug = Some(debug_mask(&ok[1])),
                    _ => {}
                }
            }
        }
        match self.cfg.tables.iter_mut().find(|x| x.name == name) {
            Some(slot) => *slot = t,
            None => self.cfg.tables.push(t),
        }
        Ok(())
    }

    pub(crate) fn thread_group_ref(&self, p: &Pair<'_>) -> Res<String> {
        if p.as_rule() == Rule::kw_express {
            return Ok("express".into());
        }
        let n = name_text(p);
        if self.cfg.threads.group(&n).is_some() {
            return Ok(n);
        }
        match self.lookup(p, "thread group")? {
            (n, Sym::ThreadGroup) => Ok(n),
            _ => self.err(p, "Thread group name required"),
        }
    }

    pub(crate) fn net_type(&self, p: &Pair<'_>) -> Res<NetType> {
        let Some(k) = inner(p) else { return self.err(p, "Net type expected") };
        match k.as_rule() {
            Rule::kw_ipv4 => Ok(NetType::Ipv4),
            Rule::kw_ipv6 => Ok(NetType::Ipv6),
            _ => self.err(&k, format!("birdd does not support {} tables and channels", k.as_str())),
        }
    }
}

fn log_classes(p: &Pair<'_>) -> Vec<LogClass> {
    let kids = children(p);
    if kids.first().map(|k| k.as_rule()) == Some(Rule::kw_all) {
        return LogClass::ALL.to_vec();
    }
    kids.iter()
        .filter_map(|c| inner(c))
        .map(|k| match k.as_rule() {
            Rule::kw_debug => LogClass::Debug,
            Rule::kw_trace => LogClass::Trace,
            Rule::kw_info => LogClass::Info,
            Rule::kw_remote => LogClass::Remote,
            Rule::kw_warning => LogClass::Warning,
            Rule::kw_error => LogClass::Error,
            Rule::kw_auth => LogClass::Auth,
            Rule::kw_fatal => LogClass::Fatal,
            _ => LogClass::Bug,
        })
        .collect()
}

/// `all`, `off` or `{ states, routes, ... }`.
pub(crate) fn debug_mask(p: &Pair<'_>) -> DebugFlags {
    let kids = children(p);
    match kids.first().map(|k| k.as_rule()) {
        Some(Rule::kw_all) => return DebugFlags::ALL,
        Some(Rule::kw_off) => return DebugFlags::OFF,
        _ => {}
    }
    let mut d = DebugFlags::OFF;
    for f in kids.iter().filter_map(|c| inner(c)) {
        match f.as_rule() {
            Rule::kw_states => d.states = true,
            Rule::kw_routes => d.routes = true,
            Rule::kw_filters => d.filters = true,
            Rule::kw_interfaces => d.interfaces = true,
            Rule::kw_events => d.events = true,
            _ => d.packets = true,
        }
    }
    d
}
