//! Protocol instances: the [`Protocol`] trait, its context, the lifecycle driver and the control handle.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use birdevent::{Callback, Event, EventList};
use birdloop::{Clock, Loop, LoopCell, ThreadGroup, Time};
use birdnet::Net;
use birdrcu::level::{Meta, Resource};
use birdrcu::{Domain, LevelId};
use birdtable::attrs::Attrs;
use birdtable::route::merge_ecmp;
use birdtable::{
    Export, ExportMarks, ExportMode, ExportRef, ExportRequest, ImporterId, PlainClass, Prefilter, Route,
    RouteClass, RouteId, RouteSrc, Source,
};

use crate::channel::{Channel, ChannelConfig, Out, Trip};
use crate::limit::{LimitDir, RestartGate, DEFAULT_RESTART_TIME_LIMIT};
use crate::published::{ProtoId, ProtoState, StateTable};
use crate::state::{ChannelState, PState};

/// A protocol type: names it and creates instances (the daemon's `protocol static { ... }` block compiles
/// to a [`ProtoConfig`] whose `kind` is the protocol-specific configuration).
pub trait ProtoKind: Any + Send + Sync {
    /// The type as `show protocols` prints it (`Static`, `Pipe`, `BGP`, ...).
    fn type_name(&self) -> &'static str;
    /// A new instance for `cfg` (whose `kind` is `self`).
    fn create(&self, cfg: &ProtoConfig) -> Box<dyn Protocol>;
    /// For downcasting in [`Protocol::reconfigure`].
    fn as_any(&self) -> &dyn Any;
}

/// A protocol instance's configuration.
#[derive(Clone)]
pub struct ProtoConfig {
    /// Instance name (see [`crate::naming`] for unnamed protocols).
    pub name: String,
    /// `disabled`.
    pub disabled: bool,
    /// `restart time limit` (default 5 s).
    pub restart_time_limit: Duration,
    /// Channels, in configuration order.
    pub channels: Vec<ChannelConfig>,
    /// The channel whose table `show protocols` prints (`None`: `---`).
    pub main_channel: Option<usize>,
    /// The protocol-specific part.
    pub kind: Arc<dyn ProtoKind>,
    /// `debug { ... }`: the [`crate::debug`] flags of the trace messages the instance writes.
    pub debug: u32,
}

impl fmt::Debug for ProtoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtoConfig")
            .field("name", &self.name)
            .field("type", &self.kind.type_name())
            .field("disabled", &self.disabled)
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

impl ProtoConfig {
    /// A configuration with defaults: enabled, restart time limit 5 s, the single channel (if exactly one)
    /// as the main one.
    pub fn new(
        name: impl Into<String>,
        kind: Arc<dyn ProtoKind>,
        channels: Vec<ChannelConfig>,
    ) -> ProtoConfig {
        let main_channel = (channels.len() == 1).then_some(0);
        ProtoConfig {
            name: name.into(),
            disabled: false,
            restart_time_limit: DEFAULT_RESTART_TIME_LIMIT,
            channels,
            main_channel,
            kind,
            debug: 0,
        }
    }
}

/// The result of a reconfiguration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconfigured {
    /// Nothing changed.
    Same,
    /// Changed in place.
    Applied,
    /// The change cannot be applied in place: shut the instance down and start a new one.
    NeedsRestart,
}

/// `reload [in|out]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadDir {
    /// Re-import: the protocol announces its routes again through the import filters.
    In,
    /// Re-export: the channels refeed from their tables through the export filters.
    Out,
    /// Both.
    Both,
}

/// Why a control request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// The instance was shut down.
    #[error("protocol {0} is shut down")]
    Gone(String),
}

/// What [`Protocol::preexport`] knows about the exporting channel.
#[derive(Debug, Clone, Copy)]
pub struct Preexport<'a> {
    /// The channel index.
    pub channel: usize,
    /// Each channel's importer id in its table (`None` while down): a route whose `sender()` is one of
    /// these was imported by this very protocol.
    pub importers: &'a [Option<ImporterId>],
}

impl Preexport<'_> {
    /// Whether `route` was imported by this very protocol, through any of its channels (kernel and BGP
    /// never send such a route back).
    pub fn from_self(&self, route: &Route) -> bool {
        self.importers.iter().flatten().any(|&i| i == route.sender())
    }
}

/// A routing protocol. Every method runs in the instance's own loop (level `proto`), one at a time.
pub trait Protocol: Send + 'static {
    /// Start: channels are open (imports allowed). Return [`PState::Up`] when up at once, or
    /// [`PState::Start`] and call [`ProtoCtx::notify_state`] with `Up` later.
    fn start(&mut self, ctx: &mut ProtoCtx<'_>) -> PState;

    /// Stop: return [`PState::Down`] when done at once, or [`PState::Stop`] and call
    /// [`ProtoCtx::notify_state`] with `Down` later. Routes need not be withdrawn: the framework flushes
    /// every route the instance imported. Drop any [`RouteSrc`] kept.
    fn shutdown(&mut self, ctx: &mut ProtoCtx<'_>) -> PState {
        let _ = ctx;
        PState::Down
    }

    /// Apply `new` (same type; channels already compared by the framework).
    fn reconfigure(&mut self, ctx: &mut ProtoCtx<'_>, new: &ProtoConfig) -> Reconfigured {
        let _ = (ctx, new);
        Reconfigured::NeedsRestart
    }

    /// An export: `new` replaces `old` for `net` on channel `ch`. `new` is the route after the export filter
    /// (in merged mode, the ECMP set merged into one multipath route); `old` is the table's route it replaces
    /// (as BIRD passes it: not re-run through the filter), given only if the channel exported it, so `old`
    /// is `None` when the protocol had nothing for the net.
    fn rt_notify(
        &mut self,
        ctx: &mut ProtoCtx<'_>,
        ch: usize,
        net: Net,
        new: Option<&Route>,
        old: Option<&Route>,
    ) {
        let _ = (ctx, ch, net, new, old);
    }

    /// The (re)feed of channel `ch` is complete: every route of the table was offered (BGP sends its
    /// End-of-RIB here).
    fn feed_done(&mut self, ctx: &mut ProtoCtx<'_>, ch: usize) {
        let _ = (ctx, ch);
    }

    /// A limit with action `restart` (`restart == true`) or `disable` was hit on channel traffic in
    /// direction `dir`. Return true when the protocol handles it itself (BGP closes the session with
    /// a Cease and reconnects after its error wait, not subject to the restart time limit); false lets
    /// the framework restart or disable the instance.
    fn limit_hit(&mut self, ctx: &mut ProtoCtx<'_>, dir: LimitDir, restart: bool) -> bool {
        let _ = (ctx, dir, restart);
        false
    }

    /// Whether to offer `route` to the export filter at all (`false`: counted as rejected).
    fn preexport(&self, pe: Preexport<'_>, route: &Route) -> bool {
        let _ = (pe, route);
        true
    }

    /// Whether [`preexport`](Self::preexport) refuses every route a channel of this protocol imported
    /// ([`Preexport::from_self`]). Then the channels' subscriptions pass over such best-route updates
    /// themselves ([`ExportSub::skip_own`](birdtable::ExportSub::skip_own)), still counted as received
    /// and rejected: a session reads every change its own peer made, and most change nothing for it.
    fn rejects_own_routes(&self) -> bool {
        false
    }

    /// `reload in` for channel `ch`: announce the routes again. Return false when not supported.
    fn reload_routes(&mut self, ctx: &mut ProtoCtx<'_>, ch: usize) -> bool {
        let _ = (ctx, ch);
        false
    }

    /// Add protocol-specific fields (info column, detail lines) to a state snapshot being published.
    fn init_state(&self, state: &mut ProtoState) {
        let _ = state;
    }

    /// The instance reached DOWN (every route flushed).
    fn cleanup(&mut self, ctx: &mut ProtoCtx<'_>) {
        let _ = ctx;
    }

    /// Best-route comparison for this protocol's routes.
    fn route_class(&self) -> Arc<dyn RouteClass> {
        Arc::new(PlainClass)
    }

    /// For [`ProtoHandle::exec_as`].
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

type ExecFn = Box<dyn FnOnce(&mut dyn Protocol, &mut ProtoCtx<'_>) + Send>;

enum Cmd {
    Enable,
    Disable(Option<String>),
    Restart(Option<String>),
    Reload(ReloadDir),
    Shutdown(Callback),
    Exec(ExecFn),
}

pub(crate) struct CoreState {
    cfg: ProtoConfig,
    state: PState,
    since: Time,
    want_up: bool,
    restarting: bool,
    removed: bool,
    gone: bool,
    down_sched: Option<(bool, String)>,
    requested: Option<PState>,
    trips: Vec<(bool, LimitDir)>,
    channels: Vec<Channel>,
    ev_export: Vec<Event>,
    source: Option<Source>,
    srcs: HashMap<u32, RouteSrc>,
    flush_wait: usize,
    shutdown_cbs: Vec<Callback>,
    gate: RestartGate,
    info: String,
    last_error: Option<String>,
    message: Option<String>,
    disabled: bool,
    dirty: bool,
    version: u64,
}

struct Core {
    proto: Box<dyn Protocol>,
    st: CoreState,
}

struct Shared {
    id: ProtoId,
    name: Arc<str>,
    proto_type: &'static str,
    lp: Loop,
    clock: Clock,
    states: StateTable,
    cmds: Domain<Resource, VecDeque<Cmd>>,
    ev_cmd: Event,
    source_id: AtomicU64,
    /// The [`crate::debug`] flags (`debug` in the configuration or the CLI command).
    debug: std::sync::atomic::AtomicU32,
    core: LoopCell<Core>,
}

/// What a protocol method may do: import and withdraw, report state, publish info. Borrowed for the
/// duration of one call.
pub struct ProtoCtx<'a> {
    st: &'a mut CoreState,
    sh: &'a Arc<Shared>,
}

impl fmt::Debug for ProtoCtx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtoCtx").field("name", &self.sh.name).field("state", &self.st.state).finish()
    }
}

/// Imports a hook queued reach the table when the hook returns (one lock per batch of routes, not per
/// route; see `Channel::flush_imports`).
impl Drop for ProtoCtx<'_> {
    fn drop(&mut self) {
        for c in &mut self.st.channels {
            c.flush_imports();
        }
    }
}

impl ProtoCtx<'_> {
    /// The instance name.
    pub fn name(&self) -> &str {
        &self.sh.name
    }

    /// The instance's state.
    pub fn state(&self) -> PState {
        self.st.state
    }

    /// Whether the instance is going down to start again (an operator `restart`, a reconfiguration),
    /// rather than to stay down.
    pub fn is_restarting(&self) -> bool {
        self.st.restarting
    }

    /// The message given with `disable`/`restart` (BGP sends it as the shutdown communication).
    pub fn down_message(&self) -> Option<&str> {
        self.st.message.as_deref()
    }

    /// Whether the instance writes the trace messages of `flag` (a [`crate::debug`] flag).
    pub fn debug(&self, flag: u32) -> bool {
        self.sh.debug.load(Ordering::Relaxed) & flag != 0
    }

    /// The loop clock.
    pub fn now(&self) -> Time {
        self.sh.clock.now()
    }

    /// The current configuration.
    pub fn config(&self) -> &ProtoConfig {
        &self.st.cfg
    }

    /// A handle to this instance (to send it work from elsewhere).
    pub fn handle(&self) -> ProtoHandle {
        ProtoHandle(self.sh.clone())
    }

    /// The route source of `path_id` (0: the main one). `None` unless starting or up.
    pub fn src(&mut self, path_id: u32) -> Option<RouteSrc> {
        let source = self.st.source.as_ref()?;
        Some(self.st.srcs.entry(path_id).or_insert_with(|| RouteSrc::new(source, path_id)).clone())
    }

    /// Announce `attrs` for `net` on channel `ch` (path 0, the channel's preference).
    pub fn import(&mut self, ch: usize, net: Net, attrs: Attrs) {
        self.import_path(ch, net, 0, Some(attrs));
    }

    /// Withdraw the route of `net` on channel `ch` (path 0).
    pub fn withdraw(&mut self, ch: usize, net: Net) {
        self.import_path(ch, net, 0, None);
    }

    /// Announce (`Some`) or withdraw (`None`) the route of path `path_id`.
    pub fn import_path(&mut self, ch: usize, net: Net, path_id: u32, attrs: Option<Attrs>) {
        let Some(src) = self.src(path_id) else { return };
        let pref = self.st.channels[ch].cfg.preference;
        let route = attrs.map(|a| Route::new(src.clone(), a, pref));
        self.import_src(ch, net, &src, route);
    }

    /// Announce or withdraw a route of a foreign source (a pipe keeps the original source, preference
    /// and generation).
    pub fn import_src(&mut self, ch: usize, net: Net, src: &RouteSrc, route: Option<Route>) {
        if self.debug(crate::debug::ROUTES) {
            let what = if route.is_some() { "added" } else { "removed" };
            tracing::trace!(target: "bird::proto", "{} > {what} [{}] {net}", self.sh.name, self.st.channels[ch].cfg.name);
        }
        if let Trip::Down { restart, dir } = self.st.channels[ch].import(&self.sh.name, net, src, route) {
            self.st.trips.push((restart, dir));
        }
    }

    /// Report a state reached by the protocol itself: `Up` (from `Start`), `Down` (from `Stop`), or
    /// `Start` (from `Up`: half-restart, exports paused).
    pub fn notify_state(&mut self, to: PState) {
        self.st.requested = Some(to);
    }

    /// Set the info column.
    pub fn set_info(&mut self, info: impl Into<String>) {
        self.st.info = info.into();
        self.st.dirty = true;
    }

    /// Set or clear the last error.
    pub fn set_error(&mut self, err: Option<String>) {
        self.st.last_error = err;
        self.st.dirty = true;
    }

    /// Republish the state (after changing what [`Protocol::init_state`] reports).
    pub fn announce_state(&mut self) {
        self.st.dirty = true;
    }

    /// Take the protocol down on its own: restart (subject to the restart time limit) or disable, with
    /// `msg`. Only from `Up`; a scheduled disable is never turned into a restart.
    pub fn schedule_down(&mut self, restart: bool, msg: impl Into<String>) {
        schedule_down(self.st, &self.sh.name, restart, msg.into());
    }

    /// Take the instance through STOP, FLUSH and DOWN and start it again at once, like a restart but
    /// not counted against the `restart time limit` and without a message: what BGP does when its session
    /// fails (the instance keeps its own reconnect backoff). From `Start` or `Up` only.
    pub fn cycle(&mut self) {
        if matches!(self.st.state, PState::Start | PState::Up) && self.st.want_up {
            self.st.restarting = true;
            self.st.dirty = true;
        }
    }

    /// Start a refresh of channel `ch`'s routes (BGP enhanced route refresh, graceful restart): every
    /// route imported so far becomes stale until announced again. See
    /// [`birdtable::ImportHandle::refresh_begin`].
    pub fn refresh_begin(&mut self, ch: usize) {
        self.st.channels[ch].flush_imports();
        if let Some(imp) = self.st.channels[ch].importer.as_ref() {
            imp.refresh_begin();
        }
    }

    /// End the refresh of channel `ch`: the table withdraws the routes still stale.
    pub fn refresh_end(&mut self, ch: usize) {
        self.st.channels[ch].flush_imports();
        if let Some(imp) = self.st.channels[ch].importer.as_ref() {
            imp.refresh_end();
        }
    }

    /// The table of channel `ch`.
    pub fn table(&self, ch: usize) -> &birdtable::Table {
        &self.st.channels[ch].cfg.table
    }

    /// Refeed channel `ch` from its table (its exports are offered again).
    pub fn refeed(&mut self, ch: usize) {
        if let Some(sub) = self.st.channels[ch].export.as_mut() {
            let _ = sub.refeed(Prefilter::All);
        }
    }

    /// Set the `Peer table:` of channel `ch` (pipes).
    pub fn set_peer_table(&mut self, ch: usize, name: Option<String>) {
        self.st.channels[ch].peer_table = name;
        self.st.dirty = true;
    }
}

fn schedule_down(st: &mut CoreState, name: &str, restart: bool, msg: String) {
    if st.state != PState::Up {
        return;
    }
    match &st.down_sched {
        Some((false, _)) => {}
        _ => st.down_sched = Some((restart, msg)),
    }
    let _ = name;
}

impl Core {
    fn ctx<'a>(st: &'a mut CoreState, sh: &'a Arc<Shared>) -> ProtoCtx<'a> {
        ProtoCtx { st, sh }
    }

    fn go(&mut self, sh: &Arc<Shared>, to: PState) {
        let from = self.st.state;
        if let Err(e) = self.st.state.go(to) {
            panic!("protocol {}: {e}", sh.name);
        }
        tracing::debug!(target: "bird::proto", proto = %sh.name, "{} -> {}", from, to);
        if sh.debug.load(Ordering::Relaxed) & crate::debug::STATES != 0 {
            tracing::trace!(target: "bird::proto", "{}: State changed to {}", sh.name, to);
        }
        self.st.since = sh.clock.now();
        self.publish(sh);
    }

    fn publish(&mut self, sh: &Arc<Shared>) {
        let st = &mut self.st;
        st.version += 1;
        st.dirty = false;
        let table = st
            .cfg
            .main_channel
            .and_then(|i| st.channels.get(i))
            .map_or_else(|| "---".to_owned(), |c| c.cfg.table.name().to_owned());
        let mut s = ProtoState {
            id: sh.id,
            name: sh.name.clone(),
            proto: sh.proto_type,
            table,
            state: st.state,
            since: st.since,
            info: st.info.clone(),
            last_error: st.last_error.clone(),
            message: st.message.clone(),
            disabled: st.disabled,
            last_restart: st.gate.last_restart,
            channels: st.channels.iter().map(Channel::info).collect(),
            details: Vec::new(),
            live_timers: Vec::new(),
            mem_bytes: (std::mem::size_of::<CoreState>() + st.channels.len() * std::mem::size_of::<Channel>())
                as u64,
            version: st.version,
        };
        self.proto.init_state(&mut s);
        sh.states.publish(sh.id, Arc::new(s));
    }

    /// Apply pending requests until nothing changes, then publish if needed.
    fn settle(&mut self, sh: &Arc<Shared>) {
        while self.step(sh) {}
        if self.st.dirty {
            self.publish(sh);
        }
    }

    fn step(&mut self, sh: &Arc<Shared>) -> bool {
        let now = sh.clock.now();
        if self.st.state == PState::Up {
            for (restart, dir) in std::mem::take(&mut self.st.trips) {
                let Core { proto, st } = self;
                if proto.limit_hit(&mut Self::ctx(st, sh), dir, restart) {
                    continue;
                }
                let msg = match dir {
                    LimitDir::Receive => "Receive limit exceeded",
                    LimitDir::Import => "Import limit exceeded",
                    LimitDir::Export => "Export limit exceeded",
                };
                schedule_down(&mut self.st, &sh.name, restart, msg.to_owned());
            }
        } else if !matches!(self.st.state, PState::Start) {
            self.st.trips.clear();
        }
        if let Some((mut restart, mut msg)) = self.st.down_sched.take() {
            if restart && !self.st.gate.try_restart(now) {
                tracing::error!(target: "bird::proto", "Protocol {}: too frequent restarts, disabling", sh.name);
                restart = false;
                msg = "Too frequent restarts".to_owned();
            }
            if restart {
                self.st.restarting = true;
            } else {
                self.st.want_up = false;
                self.st.disabled = true;
            }
            self.st.message = Some(msg);
            self.st.dirty = true;
        }
        match self.st.state {
            PState::Down => {
                if self.st.removed {
                    if !self.st.gone {
                        self.st.gone = true;
                        sh.states.remove(sh.id);
                        for cb in self.st.shutdown_cbs.drain(..) {
                            cb.activate();
                        }
                        sh.lp.stop(Callback::new(
                            Event::new("proto loop gone", || {}),
                            EventList::new("proto gone"),
                        ));
                    }
                    return false;
                }
                if self.st.want_up {
                    self.do_start(sh);
                    return true;
                }
                false
            }
            PState::Start | PState::Up => {
                if !self.st.want_up || self.st.restarting || self.st.removed {
                    self.do_stop(sh);
                    return true;
                }
                match (self.st.state, self.st.requested.take()) {
                    (PState::Start, Some(PState::Up)) => {
                        self.go(sh, PState::Up);
                        self.channels_up(sh);
                        true
                    }
                    (PState::Up, Some(PState::Start)) => {
                        for c in &mut self.st.channels {
                            if c.state == ChannelState::Up {
                                let _ = c.state.go(ChannelState::Pause);
                                c.drop_export();
                                let _ = c.state.go(ChannelState::Start);
                            }
                        }
                        self.go(sh, PState::Start);
                        true
                    }
                    _ => false,
                }
            }
            PState::Stop => {
                if self.st.requested.take() == Some(PState::Down) {
                    self.do_flush(sh);
                    return true;
                }
                false
            }
            PState::Flush => {
                if self.st.flush_wait > 0 {
                    return false;
                }
                for c in &mut self.st.channels {
                    let _ = c.state.go(ChannelState::Down);
                }
                self.go(sh, PState::Down);
                let Core { proto, st } = self;
                proto.cleanup(&mut Self::ctx(st, sh));
                true
            }
        }
    }

    fn do_start(&mut self, sh: &Arc<Shared>) {
        self.st.restarting = false;
        self.st.requested = None;
        self.st.message = None;
        self.st.last_error = None;
        let source = Source::new(sh.name.clone(), self.proto.route_class());
        sh.source_id.store(source.id(), Ordering::Relaxed);
        self.st.source = Some(source);
        self.st.srcs.clear();
        for c in &mut self.st.channels {
            c.importer = Some(c.cfg.table.add_importer(format!("{}.{}", sh.name, c.cfg.name)));
            c.counters.reset();
            c.reset_limits();
            c.state.go(ChannelState::Start).expect("channel down -> start");
        }
        self.go(sh, PState::Start);
        let Core { proto, st } = self;
        if proto.start(&mut Self::ctx(st, sh)) == PState::Up {
            st.requested = Some(PState::Up);
        }
    }

    fn channels_up(&mut self, sh: &Arc<Shared>) {
        for i in 0..self.st.channels.len() {
            let c = &mut self.st.channels[i];
            if c.state.go(ChannelState::Up).is_err() {
                continue;
            }
            Self::subscribe(c, &self.st.ev_export[i], sh, self.proto.rejects_own_routes());
        }
        self.st.dirty = true;
    }

    fn subscribe(c: &mut Channel, ev: &Event, sh: &Arc<Shared>, skip_own: bool) {
        if !c.cfg.wants_exports() {
            return;
        }
        let mode = c.cfg.export_mode.unwrap_or(ExportMode::Best);
        c.drop_export();
        let mut sub = c.cfg.table.subscribe(ExportRequest {
            mode,
            prefilter: Prefilter::All,
            callback: Callback::new(ev.clone(), sh.lp.events().clone()),
        });
        if let (true, Some(imp)) = (skip_own, c.importer.as_ref()) {
            sub.skip_own(imp.id());
        }
        c.export = Some(Box::new(sub));
    }

    fn do_stop(&mut self, sh: &Arc<Shared>) {
        self.st.requested = None;
        for c in &mut self.st.channels {
            c.drop_export();
        }
        self.go(sh, PState::Stop);
        let Core { proto, st } = self;
        if proto.shutdown(&mut Self::ctx(st, sh)) == PState::Down {
            st.requested = Some(PState::Down);
        }
    }

    fn do_flush(&mut self, sh: &Arc<Shared>) {
        let weak = Arc::downgrade(sh);
        let done = |_what: &'static str| {
            let weak: Weak<Shared> = weak.clone();
            Callback::new(
                Event::new("proto flush step", move || {
                    if let Some(sh) = weak.upgrade() {
                        with_core(&sh, |core, _| core.st.flush_wait -= 1);
                    }
                }),
                sh.lp.events().clone(),
            )
        };
        for c in &mut self.st.channels {
            let _ = c.state.go(ChannelState::Stop);
            c.drop_export();
            c.flush_imports();
            if let Some(imp) = c.importer.take() {
                self.st.flush_wait += 1;
                imp.stop(done("importer"));
            }
        }
        self.st.srcs.clear();
        if let Some(source) = self.st.source.take() {
            self.st.flush_wait += 1;
            source.when_released(done("source"));
        }
        self.go(sh, PState::Flush);
    }

    fn command(&mut self, sh: &Arc<Shared>, cmd: Cmd) {
        let st = &mut self.st;
        st.dirty = true;
        match cmd {
            Cmd::Enable => {
                if !st.removed {
                    st.want_up = true;
                    st.disabled = false;
                }
            }
            Cmd::Disable(msg) => {
                st.want_up = false;
                st.disabled = true;
                st.message = msg;
            }
            Cmd::Restart(msg) => {
                if st.want_up && st.state != PState::Down {
                    st.restarting = true;
                    st.message = msg;
                }
            }
            Cmd::Reload(dir) => {
                if st.state != PState::Up {
                    return;
                }
                if matches!(dir, ReloadDir::Out | ReloadDir::Both) {
                    for c in &mut st.channels {
                        if let Some(sub) = c.export.as_mut() {
                            let _ = sub.refeed(Prefilter::All);
                        }
                    }
                }
                if matches!(dir, ReloadDir::In | ReloadDir::Both) {
                    for ch in 0..st.channels.len() {
                        let Core { proto, st } = self;
                        if !proto.reload_routes(&mut Self::ctx(st, sh), ch) {
                            tracing::warn!(target: "bird::proto", "{}: reload in not supported", sh.name);
                        }
                    }
                }
            }
            Cmd::Shutdown(cb) => {
                st.removed = true;
                st.want_up = false;
                if st.gone {
                    cb.activate();
                } else {
                    st.shutdown_cbs.push(cb);
                }
            }
            Cmd::Exec(f) => {
                let Core { proto, st } = self;
                f(&mut **proto, &mut Self::ctx(st, sh));
            }
        }
    }

    fn drain_exports(&mut self, sh: &Arc<Shared>, i: usize) {
        let importers: Vec<Option<ImporterId>> =
            self.st.channels.iter().map(|c| c.importer.as_ref().map(|h| h.id())).collect();
        let mut budget_check: u32 = 0;
        loop {
            let c = &mut self.st.channels[i];
            let mode = c.cfg.export_mode.unwrap_or(ExportMode::Best);
            let merge_limit = c.cfg.merge_limit;
            // Out of the channel while its routes are borrowed (the protocol gets the core state mutably);
            // put back before anything but an update is handled.
            let Some(mut sub) = c.export.take() else { return };
            let Some((x, mut marks)) = sub.next_ref() else {
                c.export = Some(sub);
                let before = c.out_limit.map(|l| l.hit);
                c.sync_export_count();
                self.st.dirty |= c.out_limit.map(|l| l.hit) != before;
                return;
            };
            let x = match x {
                // Routes read in place from the journal: no clones.
                ExportRef::Update { net, old, new, .. } => {
                    self.offer(sh, i, &mut marks, net, new.map(|r| (r, r.id())), old, &importers);
                    None
                }
                ExportRef::Owned(x) => Some(x),
            };
            let Some(x) = x else {
                self.st.channels[i].export = Some(sub);
                if self.budget_spent(sh, i, &mut budget_check) {
                    return;
                }
                continue;
            };
            match x {
                Export::Feed { net, routes, .. } => {
                    match mode {
                        // A feed replaces the net: every route the channel accepted is among the fed ones (the
                        // table delivers removals before refeeding a net, see birdtable's refeeds).
                        ExportMode::All => {
                            for r in &routes {
                                self.offer(
                                    sh,
                                    i,
                                    &mut sub.marks(),
                                    net,
                                    Some((r, r.id())),
                                    Some(r),
                                    &importers,
                                );
                            }
                        }
                        ExportMode::Best => {
                            let best = routes.first();
                            self.offer(
                                sh,
                                i,
                                &mut sub.marks(),
                                net,
                                best.map(|r| (r, r.id())),
                                best,
                                &importers,
                            );
                        }
                        ExportMode::Merged => {
                            // The merged route is marked by its best route's id. What the protocol has for the net
                            // is the accepted one among the fed and the obsolete routes; others accepted are
                            // leftovers of feeds ahead of the journal, forgotten quietly.
                            let obsolete = sub.obsolete().to_vec();
                            let mut accepted =
                                routes.iter().chain(&obsolete).filter(|r| sub.was_accepted(r.id()));
                            let old = accepted.next().cloned();
                            let extra: Vec<RouteId> = accepted.map(Route::id).collect();
                            for id in extra {
                                sub.unmark(id);
                            }
                            let set = &routes[..routes.len().min(merge_limit.unwrap_or(usize::MAX).max(1))];
                            let cand = merge_ecmp(set);
                            self.offer(
                                sh,
                                i,
                                &mut sub.marks(),
                                net,
                                cand.as_ref().map(|r| (r, r.id())),
                                old.as_ref(),
                                &importers,
                            );
                        }
                    }
                    self.st.channels[i].export = Some(sub);
                }
                Export::Update { net, old, new, .. } => {
                    self.offer(
                        sh,
                        i,
                        &mut sub.marks(),
                        net,
                        new.as_ref().map(|r| (r, r.id())),
                        old.as_ref(),
                        &importers,
                    );
                    self.st.channels[i].export = Some(sub);
                }
                Export::Fed => {
                    // A refeed with an export filter changed to `none` withdrew everything: unsubscribe.
                    let c = &mut self.st.channels[i];
                    c.export = Some(sub);
                    if !c.cfg.wants_exports() {
                        c.drop_export();
                        return;
                    }
                    let Core { proto, st } = self;
                    proto.feed_done(&mut Self::ctx(st, sh), i);
                }
                Export::Stop => {
                    drop(sub);
                    let c = &mut self.st.channels[i];
                    c.drop_export();
                    if c.state == ChannelState::Up {
                        Self::subscribe(c, &self.st.ev_export[i], sh, self.proto.rejects_own_routes());
                    }
                }
            }
            if self.budget_spent(sh, i, &mut budget_check) {
                return;
            }
        }
    }

    /// Reading the clock per item costs more than a route's export: check every 32 items. When the loop's
    /// budget is spent, publish the export count and come back later.
    fn budget_spent(&mut self, sh: &Arc<Shared>, i: usize, n: &mut u32) -> bool {
        *n = n.wrapping_add(1);
        if n.is_multiple_of(32) && !birdloop::task_still_in_limit() {
            self.st.channels[i].sync_export_count();
            sh.lp.events().send(&self.st.ev_export[i]);
            return true;
        }
        false
    }

    #[allow(clippy::too_many_arguments)]
    fn offer(
        &mut self,
        sh: &Arc<Shared>,
        i: usize,
        marks: &mut ExportMarks<'_>,
        net: Net,
        cand: Option<(&Route, RouteId)>,
        old: Option<&Route>,
        importers: &[Option<ImporterId>],
    ) {
        let Core { proto, st } = self;
        let ok = cand.is_none_or(|(r, _)| proto.preexport(Preexport { channel: i, importers }, r));
        let hit = |st: &CoreState| st.channels[i].out_limit.map(|l| (l.hit, l.tripped));
        let before = hit(st);
        let (change, trip) = st.channels[i].offer(marks, &sh.name, net, cand, old, |_| ok);
        if hit(st) != before {
            // The limit's state is part of the published state.
            st.dirty = true;
        }
        if let Trip::Down { restart, dir } = trip {
            st.trips.push((restart, dir));
        }
        if let Some((new, old)) = change {
            proto.rt_notify(&mut Self::ctx(st, sh), i, net, new.as_ref().map(Out::route), old);
        }
    }
}

/// Run `f` on the core from inside the instance's loop, then settle.
fn with_core(sh: &Arc<Shared>, f: impl FnOnce(&mut Core, &Arc<Shared>)) {
    birdloop::with_current(|g| {
        let mut core = sh.core.borrow_mut(g);
        f(&mut core, sh);
        core.settle(sh);
    })
    .expect("birdproto: protocol event run outside its loop");
}

fn run_commands(sh: &Arc<Shared>) {
    with_core(sh, |core, sh| loop {
        let Some(cmd) = sh.cmds.lock().pop_front() else { break };
        core.command(sh, cmd);
        while core.step(sh) {}
    });
}

/// A handle to a protocol instance: the control API (callable from any thread; requests travel as
/// events to the instance's loop) and lock-free state snapshots. Cheap to clone.
#[derive(Clone)]
pub struct ProtoHandle(Arc<Shared>);

impl fmt::Debug for ProtoHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtoHandle").field("id", &self.0.id).field("name", &self.0.name).finish()
    }
}

impl ProtoHandle {
    /// Create an instance of `cfg` in its own loop (level `proto`) in `group`, register it in `states`
    /// and, unless disabled, start it.
    pub fn spawn(cfg: ProtoConfig, group: &ThreadGroup, states: &StateTable) -> ProtoHandle {
        let name: Arc<str> = cfg.name.as_str().into();
        let disabled = cfg.disabled;
        let debug = cfg.debug;
        let lp = Loop::new(format!("proto {name}"), LevelId::Proto, group);
        let id = states.register();
        let clock = group.clock().clone();
        let now = clock.now();
        let proto = cfg.kind.create(&cfg);
        let sh = Arc::new_cyclic(|weak: &Weak<Shared>| {
            let w = weak.clone();
            let ev_cmd = Event::new("proto control", move || {
                if let Some(sh) = w.upgrade() {
                    run_commands(&sh);
                }
            });
            let ev_export = (0..cfg.channels.len())
                .map(|i| {
                    let w = weak.clone();
                    Event::new("proto export", move || {
                        if let Some(sh) = w.upgrade() {
                            with_core(&sh, |core, sh| core.drain_exports(sh, i));
                        }
                    })
                })
                .collect();
            let st = CoreState {
                state: PState::Down,
                since: now,
                want_up: !cfg.disabled,
                restarting: false,
                removed: false,
                gone: false,
                down_sched: None,
                requested: None,
                trips: Vec::new(),
                channels: cfg.channels.iter().cloned().map(Channel::new).collect(),
                ev_export,
                source: None,
                srcs: HashMap::new(),
                flush_wait: 0,
                shutdown_cbs: Vec::new(),
                gate: RestartGate::new(now, cfg.restart_time_limit),
                info: String::new(),
                last_error: None,
                message: None,
                disabled: cfg.disabled,
                dirty: false,
                version: 0,
                cfg,
            };
            Shared {
                id,
                proto_type: st.cfg.kind.type_name(),
                name: name.clone(),
                clock,
                states: states.clone(),
                cmds: Domain::new(format!("proto {name} commands"), VecDeque::new()),
                ev_cmd,
                source_id: AtomicU64::new(0),
                debug: std::sync::atomic::AtomicU32::new(debug),
                core: LoopCell::new(&lp, Core { proto, st }),
                lp: lp.clone(),
            }
        });
        {
            // ENTER: once at creation, before anyone else knows the loop, to publish the initial state.
            let g = sh.lp.enter();
            sh.core.borrow_mut(&g).publish(&sh);
        }
        let h = ProtoHandle(sh);
        if !disabled {
            h.send(Cmd::Enable);
        }
        h
    }

    fn send(&self, cmd: Cmd) {
        self.0.cmds.lock().push_back(cmd);
        self.0.lp.events().send(&self.0.ev_cmd);
    }

    /// Dense id in the state table.
    pub fn id(&self) -> ProtoId {
        self.0.id
    }

    /// Name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The instance's loop.
    pub fn loop_handle(&self) -> &Loop {
        &self.0.lp
    }

    /// The latest published state (lock-free). `None` once the instance is shut down.
    pub fn state(&self) -> Option<Arc<ProtoState>> {
        self.0.states.get(self.0.id).filter(|s| Arc::ptr_eq(&s.name, &self.0.name) || *s.name == *self.0.name)
    }

    /// `enable`.
    pub fn enable(&self) {
        self.send(Cmd::Enable);
    }

    /// `disable ["msg"]`.
    pub fn disable(&self, msg: Option<String>) {
        self.send(Cmd::Disable(msg));
    }

    /// `restart ["msg"]`: down (flushing everything), then up again.
    pub fn restart(&self, msg: Option<String>) {
        self.send(Cmd::Restart(msg));
    }

    /// `reload [in|out]`.
    pub fn reload(&self, dir: ReloadDir) {
        self.send(Cmd::Reload(dir));
    }

    /// Remove the instance: stop it, wait until every route it authored is gone everywhere, unpublish its
    /// state, stop its loop, then activate `done`.
    pub fn shutdown(&self, done: Callback) {
        self.send(Cmd::Shutdown(done));
    }

    /// Run `f` with the protocol in its loop.
    pub fn exec(&self, f: impl FnOnce(&mut dyn Protocol, &mut ProtoCtx<'_>) + Send + 'static) {
        self.send(Cmd::Exec(Box::new(f)));
    }

    /// Run `f` with the protocol downcast to `P` (nothing happens if it is another type).
    pub fn exec_as<P: Protocol>(&self, f: impl FnOnce(&mut P, &mut ProtoCtx<'_>) + Send + 'static) {
        self.exec(move |p, ctx| {
            if let Some(p) = p.as_any_mut().downcast_mut::<P>() {
                f(p, ctx);
            }
        });
    }

    /// Set the [`crate::debug`] flags (the `debug` command).
    pub fn set_debug(&self, flags: u32) {
        self.0.debug.store(flags, Ordering::Relaxed);
    }

    /// The [`crate::debug`] flags.
    pub fn debug(&self) -> u32 {
        self.0.debug.load(Ordering::Relaxed)
    }

    /// Apply a new configuration of the same instance. Enters the instance's loop (call it from the
    /// control context, never from inside another protocol's loop).
    ///
    /// Channels must keep their number, names and tables, else [`Reconfigured::NeedsRestart`]. Changed
    /// filters and limits are applied in place; a changed export filter refeeds the channel, a changed
    /// import filter reloads its routes (or needs a restart when the protocol cannot reload).
    ///
    /// # Errors
    /// [`ControlError::Gone`] when the instance was shut down.
    pub fn reconfigure(&self, new: ProtoConfig) -> Result<Reconfigured, ControlError> {
        let sh = &self.0;
        // ENTER: reconfiguration runs synchronously from the control loop, as BIRD does (the answer decides
        // whether the daemon replaces the instance).
        let g = sh.lp.enter();
        let mut core = sh.core.borrow_mut(&g);
        if core.st.removed {
            return Err(ControlError::Gone(sh.name.to_string()));
        }
        let old = &core.st.cfg;
        if old.kind.type_name() != new.kind.type_name()
            || old.channels.len() != new.channels.len()
            || old.main_channel != new.main_channel
            || old.channels.iter().zip(&new.channels).any(|(a, b)| {
                a.name != b.name
                    || a.table.name() != b.table.name()
                    || a.preference != b.preference
                    || a.export_mode != b.export_mode
                    || a.keep_filtered != b.keep_filtered
            })
        {
            return Ok(Reconfigured::NeedsRestart);
        }
        sh.debug.store(new.debug, Ordering::Relaxed);
        let Core { proto, st } = &mut *core;
        let r = proto.reconfigure(&mut Core::ctx(st, sh), &new);
        if r == Reconfigured::NeedsRestart {
            return Ok(r);
        }
        let mut changed = r == Reconfigured::Applied;
        let mut reload_in = Vec::new();
        for (i, (c, n)) in st.channels.iter_mut().zip(&new.channels).enumerate() {
            let out_changed = !c.cfg.export_filter.same_as(&*n.export_filter);
            let in_changed = !c.cfg.import_filter.same_as(&*n.import_filter);
            let lim_changed = (c.cfg.receive_limit, c.cfg.import_limit, c.cfg.export_limit)
                != (n.receive_limit, n.import_limit, n.export_limit);
            let was_exporting = c.cfg.wants_exports();
            c.cfg = n.clone();
            c.apply_limits();
            if out_changed && c.state == ChannelState::Up {
                {
                    match (was_exporting, c.cfg.wants_exports(), c.export.as_mut()) {
                        (_, true, Some(sub)) => {
                            let _ = sub.refeed(Prefilter::All);
                        }
                        (_, true, None) => {
                            Core::subscribe(c, &st.ev_export[i], sh, proto.rejects_own_routes())
                        }
                        (_, false, Some(sub)) => {
                            // Refeed through the new filter, which rejects everything: each accepted route
                            // is withdrawn; the subscription is dropped once fed.
                            let _ = sub.refeed(Prefilter::All);
                        }
                        (_, false, None) => {}
                    }
                }
            }
            if in_changed && st.state == PState::Up {
                reload_in.push(i);
            }
            changed |= out_changed || in_changed || lim_changed;
        }
        for ch in reload_in {
            if !proto.reload_routes(&mut Core::ctx(st, sh), ch) {
                return Ok(Reconfigured::NeedsRestart);
            }
        }
        let was_disabled = st.cfg.disabled;
        st.gate.limit = new.restart_time_limit;
        if new.disabled != was_disabled {
            changed = true;
            st.want_up = !new.disabled;
            st.disabled = new.disabled;
        }
        st.cfg = new;
        core.st.dirty |= changed;
        core.settle(sh);
        drop(core);
        drop(g);
        // Changes of `disabled` take effect through the normal command path.
        self.0.lp.events().send(&self.0.ev_cmd);
        Ok(if changed { Reconfigured::Applied } else { Reconfigured::Same })
    }

    /// Routes of this instance that are the best of their net in channel `ch`'s table (a table walk, for
    /// the `preferred` count of `show protocols all`).
    pub fn preferred_routes(&self, table: &birdtable::Table) -> u64 {
        let id = self.0.source_id.load(Ordering::Relaxed);
        let mut n = 0;
        table.walk(|_, l| {
            if l.best().is_some_and(|r| r.src().source().id() == id) {
                n += 1;
            }
            ControlFlow::Continue(())
        });
        n
    }
}

/// Every protocol instance of the daemon, with their published states.
pub struct ProtoRegistry {
    group: ThreadGroup,
    states: StateTable,
    protos: Domain<Meta, Vec<ProtoHandle>>,
}

impl fmt::Debug for ProtoRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtoRegistry").field("states", &self.states).finish_non_exhaustive()
    }
}

impl ProtoRegistry {
    /// A registry whose instances run in `group`.
    pub fn new(group: &ThreadGroup) -> ProtoRegistry {
        ProtoRegistry {
            group: group.clone(),
            states: StateTable::new(),
            protos: Domain::new("protocols", Vec::new()),
        }
    }

    /// The state table.
    pub fn states(&self) -> &StateTable {
        &self.states
    }

    /// Create and start an instance.
    pub fn spawn(&self, cfg: ProtoConfig) -> ProtoHandle {
        let h = ProtoHandle::spawn(cfg, &self.group, &self.states);
        self.protos.lock().push(h.clone());
        h
    }

    /// The instance called `name`.
    pub fn find(&self, name: &str) -> Option<ProtoHandle> {
        self.protos.lock().iter().find(|h| h.name() == name).cloned()
    }

    /// Every instance, in creation order.
    pub fn list(&self) -> Vec<ProtoHandle> {
        self.protos.lock().clone()
    }

    /// Shut `name` down (see [`ProtoHandle::shutdown`]) and forget it. Returns false if unknown.
    pub fn remove(&self, name: &str, done: Callback) -> bool {
        let h = {
            let mut v = self.protos.lock();
            let Some(i) = v.iter().position(|h| h.name() == name) else { return false };
            v.remove(i)
        };
        h.shutdown(done);
        true
    }
}
