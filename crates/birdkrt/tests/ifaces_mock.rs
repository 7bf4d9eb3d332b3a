//! Interface tracking, the device and the direct protocols against the mock kernel.

#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use birdevent::{Callback, Event, EventList};
use birdkrt::ifaces::AddrRole;
use birdkrt::sys::mock::MockKernel;
use birdkrt::sys::{KAddr, KLink, KScope};
use birdkrt::{DeviceConfig, DirectConfig, IfaceHub, IfacePatterns};
use birdloop::{Clock, ThreadGroup, Time};
use birdnet::{Net, NetType};
use birdproto::{ChannelConfig, ProtoConfig, ProtoRegistry};
use birdtable::attrs::RouteSource;
use birdtable::{Table, TableConfig};

fn link(index: u32, name: &str, up: bool) -> KLink {
    KLink {
        index,
        name: name.into(),
        admin_up: up,
        link_up: up,
        loopback: name == "lo",
        broadcast: name != "lo",
        multicast: name != "lo",
        ptp: false,
        mtu: if name == "lo" { 65536 } else { 1500 },
        master: None,
    }
}

fn addr(index: u32, ip: &str, len: u8, scope: KScope) -> KAddr {
    KAddr { index, ip: ip.parse::<IpAddr>().unwrap(), len, peer: None, scope, secondary: false }
}

fn net(s: &str) -> Net {
    s.parse().unwrap()
}

struct W {
    g: ThreadGroup,
    t4: Table,
    t6: Table,
    reg: ProtoRegistry,
    mock: MockKernel,
    hub: IfaceHub,
}

impl W {
    fn new() -> W {
        let g =
            ThreadGroup::deterministic("ifaces", Clock::virtual_at(Time::from_nanos(1_000_000_000))).unwrap();
        let mock = MockKernel::new();
        let hub = IfaceHub::new(Arc::new(mock.clone()));
        W {
            t4: Table::new(TableConfig::new("master4", NetType::Ipv4), &g),
            t6: Table::new(TableConfig::new("master6", NetType::Ipv6), &g),
            reg: ProtoRegistry::new(&g),
            g,
            mock,
            hub,
        }
    }

    fn settle(&self) {
        for _ in 0..10 {
            self.g.advance(Duration::from_millis(150));
            birdrcu::synchronize();
            birdrcu::flush();
        }
    }
}

#[test]
fn device_and_direct_follow_addresses() {
    let w = W::new();
    w.mock.set_link(link(1, "lo", true));
    w.mock.set_addr(true, addr(1, "127.0.0.1", 8, KScope::Host));
    w.mock.set_link(link(2, "veth0", true));
    w.mock.set_link(link(3, "veth1", true));
    w.mock.set_addr(true, addr(2, "198.18.1.1", 24, KScope::Univ));
    w.mock.set_addr(true, addr(2, "fe80::1", 64, KScope::Link));
    w.mock.set_addr(true, addr(3, "198.18.3.1", 24, KScope::Univ));

    let mut dev = DeviceConfig::new(w.hub.clone());
    dev.scan_time = Duration::from_secs(10);
    let _device = w.reg.spawn(ProtoConfig::new("device1", Arc::new(dev.clone()), vec![]));
    let direct =
        DirectConfig { hub: w.hub.clone(), interfaces: IfacePatterns::parse(["-\"veth1\"", "\"*\""]) };
    let chans = vec![ChannelConfig::new("ipv4", &w.t4, 240), ChannelConfig::new("ipv6", &w.t6, 240)];
    let mut pc = ProtoConfig::new("direct1", Arc::new(direct), chans);
    pc.main_channel = Some(0);
    let _direct = w.reg.spawn(pc);
    w.settle();

    assert_eq!(w.hub.len(), 3);
    assert_eq!(dev.chosen_router_id(), Some("198.18.1.1".parse().unwrap()));
    let r = w.t4.best(&net("198.18.1.0/24")).expect("connected route");
    assert_eq!(r.attrs().source, RouteSource::Device);
    assert_eq!(r.attrs().dest.next_hops()[0].iface.as_ref().unwrap().name(), "veth0");
    assert!(w.t4.best(&net("127.0.0.0/8")).is_none(), "host scope gives no route");
    assert!(w.t4.best(&net("198.18.3.0/24")).is_none(), "excluded interface");
    assert_eq!(w.t6.stats().routes, 0, "link-local gives no route");

    // show interfaces data.
    let ifs = w.hub.interfaces();
    let v0 = ifs.iter().find(|i| i.name == "veth0").unwrap();
    assert!(v0.up && v0.flags.multiaccess && v0.flags.broadcast);
    assert_eq!(v0.addrs.len(), 2);
    assert_eq!(v0.addrs[0].role, AddrRole::Preferred);
    assert_eq!(v0.addrs[1].scope, "link");
    assert_eq!(v0.primary4, Some(("198.18.1.1".parse().unwrap(), 24)));
    assert!(ifs.iter().find(|i| i.name == "lo").unwrap().flags.ignored);

    // A new address appears, then goes.
    w.mock.set_addr(true, addr(2, "2001:db8:1::1", 64, KScope::Univ));
    w.settle();
    assert!(w.t6.best(&net("2001:db8:1::/64")).is_some());
    w.mock.set_addr(false, addr(2, "2001:db8:1::1", 64, KScope::Univ));
    w.settle();
    assert!(w.t6.best(&net("2001:db8:1::/64")).is_none());

    // Link down withdraws, link up announces again.
    w.mock.set_link(link(2, "veth0", false));
    w.settle();
    assert!(w.t4.best(&net("198.18.1.0/24")).is_none());
    w.mock.set_link(link(2, "veth0", true));
    w.settle();
    assert!(w.t4.best(&net("198.18.1.0/24")).is_some());

    // An overrun makes the hub dump again.
    let dumps = w.mock.ops().link_dumps;
    w.mock.overrun();
    w.settle();
    assert_eq!(w.mock.ops().link_dumps, dumps + 1);
    // The scan timer dumps too.
    w.g.advance(Duration::from_secs(10));
    w.settle();
    assert!(w.mock.ops().link_dumps >= dumps + 2);

    // Stopping the device protocol flushes the list: direct withdraws everything.
    let list = EventList::new("done");
    assert!(w.reg.remove("device1", Callback::new(Event::new("done", || {}), list.clone())));
    w.settle();
    assert!(w.hub.is_empty());
    assert!(w.t4.best(&net("198.18.1.0/24")).is_none());
}
