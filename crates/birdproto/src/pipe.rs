//! The pipe protocol: copies routes between two tables in both directions.
//!
//! ```text
//!   table ──(export filter)──► channel 0 ──rt_notify──► import into channel 1 ──► peer table
//!   table ◄── import into channel 0 ◄──rt_notify── channel 1 ◄──(import filter)── peer table
//! ```
//!
//! Every route is copied with its original [`RouteSrc`](birdtable::RouteSrc), preference and its
//! generation plus one. Keeping the source means the upstream author's shutdown waits for the copies: its source is
//! released only after the pipe exported the withdrawals and the peer table dropped them. Loops are cut
//! twice: a pipe never offers a route to itself that it imported into that table (`sender` is its own
//! importer), and routes whose generation reached `max generation` are not piped further. A table
//! holding a route of the same source from another importer ignores the copy (birdtable).

use std::any::Any;
use std::sync::Arc;

use birdnet::Net;
use birdtable::{ExportMode, Route, Table};

use crate::channel::ChannelConfig;
use crate::filter::{accept_all, RouteFilter};
use crate::proto::{Preexport, ProtoConfig, ProtoCtx, ProtoKind, Protocol, Reconfigured};
use crate::published::ProtoState;
use crate::state::PState;

/// BIRD's default `max generation`.
pub const DEFAULT_MAX_GENERATION: u8 = 16;

/// The pipe's configuration (the `kind` of its [`ProtoConfig`]; build the whole config with
/// [`PipeConfig::proto_config`]).
#[derive(Debug, Clone, Copy)]
pub struct PipeConfig {
    /// `max generation`.
    pub max_generation: u8,
}

impl PipeConfig {
    /// `protocol pipe name { table t; peer table p; import ...; export ...; }`: channel 0 (`main`) on
    /// `table` exports through `export`, channel 1 on `peer` exports through `import`.
    pub fn proto_config(
        name: &str,
        table: &Table,
        peer: &Table,
        import: Arc<dyn RouteFilter>,
        export: Arc<dyn RouteFilter>,
        max_generation: u8,
    ) -> ProtoConfig {
        let mk = |t: &Table, out: Arc<dyn RouteFilter>| ChannelConfig {
            import_filter: accept_all(),
            export_filter: out,
            export_mode: Some(ExportMode::All),
            ..ChannelConfig::new("main", t, 0)
        };
        let mut cfg = ProtoConfig::new(
            name,
            Arc::new(PipeConfig { max_generation }),
            vec![mk(table, export), mk(peer, import)],
        );
        cfg.main_channel = None;
        cfg
    }
}

impl ProtoKind for PipeConfig {
    fn type_name(&self) -> &'static str {
        "Pipe"
    }
    fn create(&self, cfg: &ProtoConfig) -> Box<dyn Protocol> {
        let names = cfg.channels.iter().map(|c| c.table.name().to_owned()).collect::<Vec<_>>();
        Box::new(Pipe { cfg: *self, info: names.join(" <=> ") })
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A running pipe.
#[derive(Debug)]
pub struct Pipe {
    cfg: PipeConfig,
    info: String,
}

impl Protocol for Pipe {
    fn start(&mut self, ctx: &mut ProtoCtx<'_>) -> PState {
        let peer = ctx.table(1).name().to_owned();
        ctx.set_peer_table(0, Some(peer));
        ctx.set_info(self.info.clone());
        PState::Up
    }

    fn rt_notify(
        &mut self,
        ctx: &mut ProtoCtx<'_>,
        ch: usize,
        net: Net,
        new: Option<&Route>,
        old: Option<&Route>,
    ) {
        let to = 1 - ch;
        match (new, old) {
            (Some(r), _) => {
                let copy = Route::new(r.src().clone(), r.attrs().clone(), r.pref())
                    .with_generation(r.generation().saturating_add(1));
                ctx.import_src(to, net, r.src(), Some(copy));
            }
            (None, Some(o)) => ctx.import_src(to, net, o.src(), None),
            (None, None) => {}
        }
    }

    fn preexport(&self, pe: Preexport<'_>, route: &Route) -> bool {
        let own = pe.importers.get(pe.channel).copied().flatten();
        own != Some(route.sender()) && route.generation() < self.cfg.max_generation
    }

    fn reload_routes(&mut self, ctx: &mut ProtoCtx<'_>, ch: usize) -> bool {
        ctx.refeed(1 - ch);
        true
    }

    fn reconfigure(&mut self, _: &mut ProtoCtx<'_>, new: &ProtoConfig) -> Reconfigured {
        match new.kind.as_any().downcast_ref::<PipeConfig>() {
            Some(c) if c.max_generation == self.cfg.max_generation => Reconfigured::Same,
            Some(c) => {
                self.cfg = *c;
                Reconfigured::Applied
            }
            None => Reconfigured::NeedsRestart,
        }
    }

    fn init_state(&self, state: &mut ProtoState) {
        state.info.clone_from(&self.info);
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
