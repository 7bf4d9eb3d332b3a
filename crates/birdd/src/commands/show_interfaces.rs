//! `show interfaces [summary]`: the device protocol's interface list (birdkrt's IfaceHub) through
//! birdcli's formatter. Without a device protocol the list is empty, as in BIRD.

use birdcli::format::interfaces::{self as fmt, AddrRole, IfaceAddr, IfaceFlags, InterfaceInfo};
use birdcli::ReplyWriter;

use crate::daemon::Daemon;

fn convert(i: birdkrt::InterfaceInfo) -> InterfaceInfo {
    let f = i.flags;
    InterfaceInfo {
        name: i.name,
        up: i.up,
        index: i.index,
        master: i.master,
        flags: IfaceFlags {
            multiaccess: f.multiaccess,
            broadcast: f.broadcast,
            multicast: f.multicast,
            admin_up: f.admin_up,
            link_up: f.link_up,
            loopback: f.loopback,
            ignored: f.ignored,
        },
        mtu: i.mtu,
        addrs: i
            .addrs
            .into_iter()
            .map(|a| IfaceAddr {
                ip: a.ip,
                len: a.len,
                role: match a.role {
                    birdkrt::ifaces::AddrRole::Preferred => AddrRole::Preferred,
                    birdkrt::ifaces::AddrRole::Secondary => AddrRole::Secondary,
                    birdkrt::ifaces::AddrRole::Unselected => AddrRole::Unselected,
                },
                scope: a.scope,
                peer: a.peer,
                opposite: a.opposite,
            })
            .collect(),
        primary4: i.primary4,
        primary6: i.primary6,
    }
}

/// Writes the reply.
pub fn run(d: &Daemon, summary: bool, w: &mut ReplyWriter) {
    let list: Vec<InterfaceInfo> = d.rt.interfaces().into_iter().map(convert).collect();
    if summary {
        fmt::show_interfaces_summary(w, &list);
    } else {
        fmt::show_interfaces(w, &list);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    #[test]
    fn conversion_keeps_every_field() {
        let ip: IpAddr = "198.18.0.1".parse().unwrap();
        let k = birdkrt::InterfaceInfo {
            name: "veth0".into(),
            up: true,
            index: 7,
            master: Some("vrf1".into()),
            flags: birdkrt::ifaces::IfaceFlags {
                multiaccess: true,
                broadcast: true,
                multicast: false,
                admin_up: true,
                link_up: false,
                loopback: false,
                ignored: true,
            },
            mtu: 1500,
            addrs: vec![birdkrt::ifaces::IfaceAddr {
                ip,
                len: 31,
                role: birdkrt::ifaces::AddrRole::Secondary,
                scope: "univ".into(),
                peer: None,
                opposite: Some("198.18.0.0".parse().unwrap()),
            }],
            primary4: Some((ip, 31)),
            primary6: None,
        };
        let c = convert(k);
        assert_eq!(c.name, "veth0");
        assert_eq!((c.up, c.index, c.mtu), (true, 7, 1500));
        assert_eq!(c.master.as_deref(), Some("vrf1"));
        assert!(c.flags.multiaccess && c.flags.broadcast && !c.flags.multicast && c.flags.ignored);
        assert!(c.flags.admin_up && !c.flags.link_up);
        assert_eq!(c.addrs[0].role, AddrRole::Secondary);
        assert_eq!(c.addrs[0].opposite, Some("198.18.0.0".parse().unwrap()));
        assert_eq!(c.primary4, Some((ip, 31)));
    }
}
