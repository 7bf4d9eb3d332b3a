//! The device protocol: turns interface tracking on, rescans links and addresses every `scan time`, and
//! offers the router id chosen from the interfaces. Stopping it flushes the interface list.

use std::any::Any;
use std::net::Ipv4Addr;
use std::time::Duration;

use birdloop::TimerKey;
use birdproto::{PState, ProtoConfig, ProtoCtx, ProtoKind, Protocol, Reconfigured};

use crate::ifaces::IfaceHub;

/// `protocol device { scan time N; }`.
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    /// The interface list to keep.
    pub hub: IfaceHub,
    /// `scan time` (default 60 s).
    pub scan_time: Duration,
    /// The configured `router id`, if any.
    pub router_id: Option<Ipv4Addr>,
}

impl DeviceConfig {
    /// Defaults: scan time 60 s, router id from the interfaces.
    pub fn new(hub: IfaceHub) -> DeviceConfig {
        DeviceConfig { hub, scan_time: Duration::from_secs(60), router_id: None }
    }

    /// The router id: the configured one, else the lowest global IPv4 address of an up, non-loopback
    /// interface.
    pub fn chosen_router_id(&self) -> Option<Ipv4Addr> {
        self.router_id.or_else(|| self.hub.router_id())
    }
}

impl ProtoKind for DeviceConfig {
    fn type_name(&self) -> &'static str {
        "Device"
    }
    fn create(&self, _cfg: &ProtoConfig) -> Box<dyn Protocol> {
        Box::new(Device { cfg: self.clone(), timer: None })
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A device protocol instance.
#[derive(Debug)]
pub struct Device {
    cfg: DeviceConfig,
    timer: Option<TimerKey>,
}

impl Device {
    fn arm(&mut self) {
        let hub = self.cfg.hub.clone();
        let period = self.cfg.scan_time.max(Duration::from_millis(1));
        if let Some(k) = self.timer.take() {
            birdloop::with_current(|g| g.remove_timer(k));
        }
        self.timer = birdloop::with_current(|g| {
            let k = g.timer("device scan", move |_, _| hub.rescan());
            g.set_recurrent(k, period, Duration::ZERO);
            k
        });
    }
}

impl Protocol for Device {
    fn start(&mut self, _ctx: &mut ProtoCtx<'_>) -> PState {
        self.cfg.hub.activate();
        self.arm();
        PState::Up
    }

    fn shutdown(&mut self, _ctx: &mut ProtoCtx<'_>) -> PState {
        if let Some(k) = self.timer.take() {
            birdloop::with_current(|g| g.remove_timer(k));
        }
        self.cfg.hub.flush();
        PState::Down
    }

    fn reconfigure(&mut self, _ctx: &mut ProtoCtx<'_>, new: &ProtoConfig) -> Reconfigured {
        let Some(n) = new.kind.as_any().downcast_ref::<DeviceConfig>() else {
            return Reconfigured::NeedsRestart;
        };
        if n.scan_time == self.cfg.scan_time && n.router_id == self.cfg.router_id {
            return Reconfigured::Same;
        }
        self.cfg.scan_time = n.scan_time;
        self.cfg.router_id = n.router_id;
        if self.timer.is_some() {
            self.arm();
        }
        Reconfigured::Applied
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
