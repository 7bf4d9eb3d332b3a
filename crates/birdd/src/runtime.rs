//! The daemon's running state: tables, protocols, the active configuration, and how a new configuration
//! is applied.
//!
//! ```text
//!   configure ──► config::load ──► Err ──► keep running config, 8002 file:line:col msg
//!                      │
//!                      ▼ Ok
//!   Runtime::apply:  new tables created ─► removed protocols stopped ─► changed ones reconfigured
//!                    (static: route diff; pipe: new filters, resync; table change: restart)
//!                    ─► new ones started ─► removed tables dropped ─► pipes resynchronised
//! ```
//!
//! Everything here runs in the main loop, one command at a time.

use std::collections::HashMap;
use std::sync::Arc;

use birdcli::WallTime;
use birdconf::ast::Config;
use birdloop::ThreadGroup;
use birdproto::state::PState;
use birdtable::{Table, TableConfig};

use crate::config::{proto_fingerprint, Loaded};
use crate::filter::RouteFilter;
use crate::protocols::{new_proto, ProtoImpl, ProtoRt, RouteTimes};

/// The current wall-clock time.
pub fn now() -> WallTime {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    WallTime::from_unix(i64::try_from(d.as_secs()).unwrap_or(i64::MAX), d.subsec_micros())
}

/// Running state.
#[derive(Debug)]
pub struct Runtime {
    /// Group running the tables' service loops.
    pub group: ThreadGroup,
    /// Active configuration.
    pub config: Arc<Config>,
    /// Its compiled filters.
    pub program: Arc<birdfilter::Program>,
    /// Tables by name.
    pub tables: HashMap<String, Table>,
    /// Table names in configuration order.
    pub table_order: Vec<String>,
    /// Protocols in configuration order.
    pub protos: Vec<ProtoRt>,
    /// Route change times.
    pub times: RouteTimes,
    /// Start of the daemon.
    pub boot: WallTime,
    /// Last (re)configuration.
    pub last_reconfig: WallTime,
}

impl Runtime {
    /// Builds tables and starts protocols of a checked configuration.
    pub fn new(loaded: Loaded, group: ThreadGroup) -> Runtime {
        let t = now();
        let mut rt = Runtime {
            group,
            config: Arc::new(Config::default()),
            program: Arc::clone(&loaded.program),
            tables: HashMap::new(),
            table_order: Vec::new(),
            protos: Vec::new(),
            times: HashMap::new(),
            boot: t,
            last_reconfig: t,
        };
        rt.apply(loaded);
        rt
    }

    /// Applies a checked configuration (see the module diagram).
    pub fn apply(&mut self, loaded: Loaded) {
        let new = loaded.config;
        self.program = loaded.program;
        let program = Arc::clone(&self.program);
        let t = now();
        for tc in &new.tables {
            let keep = self.tables.get(&tc.name).is_some_and(|x| x.net_type() == tc.net_type);
            if !keep {
                let mut c = TableConfig::new(tc.name.clone(), tc.net_type);
                c.settle_min = std::time::Duration::ZERO;
                self.tables.insert(tc.name.clone(), Table::new(c, &self.group));
            }
        }
        // Stop and drop removed protocols (and protocols on re-created tables).
        let mut old: Vec<ProtoRt> = std::mem::take(&mut self.protos);
        old.retain_mut(|p| {
            if new.protocol(&p.cfg.name).is_some_and(|n| n.kind == p.cfg.kind) {
                true
            } else {
                tracing::info!("{}: shutting down (removed from configuration)", p.cfg.name);
                p.stop(&mut self.times, t);
                false
            }
        });
        let mut by_name: HashMap<String, ProtoRt> =
            old.into_iter().map(|p| (p.cfg.name.clone(), p)).collect();
        for pc in &new.protocols {
            let fp = proto_fingerprint(&new, pc);
            let p = match by_name.remove(&pc.name) {
                Some(mut p) if p.fingerprint == fp => {
                    p.cfg = pc.clone();
                    p
                }
                Some(mut p) => {
                    self.reconfigure_proto(&mut p, &program, pc, fp, t);
                    p
                }
                None => {
                    let mut p = new_proto(&program, pc, fp, t);
                    if !pc.disabled {
                        tracing::info!("{}: starting", pc.name);
                        p.start(&self.tables, &mut self.times, &program, t);
                    }
                    p
                }
            };
            self.protos.push(p);
        }
        self.tables.retain(|name, _| new.table(name).is_some());
        self.table_order = new.tables.iter().map(|t| t.name.clone()).collect();
        self.config = new;
        self.last_reconfig = t;
        self.sync_pipes();
    }

    fn reconfigure_proto(
        &mut self,
        p: &mut ProtoRt,
        program: &birdfilter::Program,
        pc: &birdconf::ast::ProtocolConfig,
        fp: String,
        t: WallTime,
    ) {
        let old_tables = (p.table_name().to_owned(), p.peer_table().map(str::to_owned));
        let ch = pc.channels.first();
        p.import =
            ch.and_then(|c| RouteFilter::from_spec(&c.import, program).ok()).unwrap_or_else(RouteFilter::all);
        p.export = ch
            .and_then(|c| RouteFilter::from_spec(&c.export, program).ok())
            .unwrap_or_else(RouteFilter::none);
        let was_disabled = p.cfg.disabled;
        p.cfg = pc.clone();
        p.fingerprint = fp;
        let new_tables = (p.table_name().to_owned(), p.peer_table().map(str::to_owned));
        if pc.disabled {
            if p.state != PState::Down {
                tracing::info!("{}: disabled by configuration", pc.name);
                p.stop(&mut self.times, t);
            }
            return;
        }
        if was_disabled && !pc.disabled {
            p.admin_disabled = false;
        }
        if p.admin_disabled {
            return;
        }
        if p.state == PState::Down || old_tables != new_tables {
            tracing::info!("{}: restarting after reconfiguration", pc.name);
            p.stop(&mut self.times, t);
            p.start(&self.tables, &mut self.times, program, t);
            return;
        }
        tracing::info!("{}: reconfigured", pc.name);
        match p.imp {
            ProtoImpl::Static(_) => p.sync_static(&mut self.times, program, t),
            ProtoImpl::Pipe(_) => {} // resynchronised with the new filters by sync_pipes
        }
    }

    /// Resynchronises every pipe until nothing changes (bounded: one round per pipe plus one).
    pub fn sync_pipes(&mut self) {
        for _ in 0..=self.protos.len() {
            let mut changed = false;
            for p in &mut self.protos {
                if p.state == PState::Up {
                    changed |= p.sync_pipe();
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// `disable`: stops a protocol until `enable`.
    pub fn disable(&mut self, idx: usize, message: Option<String>) -> bool {
        let t = now();
        let p = &mut self.protos[idx];
        if p.state == PState::Down {
            return false;
        }
        p.admin_disabled = true;
        p.message = message;
        p.stop(&mut self.times, t);
        self.sync_pipes();
        true
    }

    /// `enable`.
    pub fn enable(&mut self, idx: usize, message: Option<String>) -> bool {
        let t = now();
        let p = &mut self.protos[idx];
        if p.state != PState::Down {
            return false;
        }
        p.admin_disabled = false;
        p.message = message;
        p.start(&self.tables, &mut self.times, &self.program, t);
        self.sync_pipes();
        true
    }

    /// `restart`: false if the protocol is down.
    pub fn restart(&mut self, idx: usize, message: Option<String>) -> bool {
        let t = now();
        let p = &mut self.protos[idx];
        if p.state == PState::Down {
            return false;
        }
        p.message = message;
        p.stop(&mut self.times, t);
        p.start(&self.tables, &mut self.times, &self.program, t);
        self.sync_pipes();
        true
    }

    /// Graceful shutdown: every protocol withdraws its routes.
    pub fn shutdown(&mut self) {
        let t = now();
        for p in self.protos.iter_mut().rev() {
            p.stop(&mut self.times, t);
        }
    }

    /// The time of a route (its last change), or the daemon's start.
    pub fn route_time(&self, source: u64, net: &birdnet::Net) -> WallTime {
        self.times.get(&(source, *net)).copied().unwrap_or(self.boot)
    }

    /// Tables in configuration order.
    pub fn ordered_tables(&self) -> impl Iterator<Item = (&str, &Table)> {
        self.table_order.iter().filter_map(|n| self.tables.get(n).map(|t| (n.as_str(), t)))
    }
}
