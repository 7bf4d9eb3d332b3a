//! `show interfaces [summary]`.

use std::net::IpAddr;

use birdnet::DisplayIp;

use crate::reply::{code, ReplyWriter};

/// Which addresses an interface address entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrRole {
    /// `Preferred`
    Preferred,
    /// `Secondary`
    Secondary,
    /// `Unselected`
    Unselected,
}

/// One interface address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfaceAddr {
    /// Address.
    pub ip: IpAddr,
    /// Prefix length.
    pub len: u8,
    /// Role.
    pub role: AddrRole,
    /// Scope text (`host`, `link`, `site`, `univ`, ...).
    pub scope: String,
    /// Point-to-point peer (`, peer X`).
    pub peer: Option<IpAddr>,
    /// Opposite address on /30, /31 (`, opposite X`).
    pub opposite: Option<IpAddr>,
}

/// Interface flags (`\tMultiAccess Broadcast ... MTU=1500`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IfaceFlags {
    /// Multi-access (else `PtP`).
    pub multiaccess: bool,
    /// Broadcast.
    pub broadcast: bool,
    /// Multicast.
    pub multicast: bool,
    /// Administratively up.
    pub admin_up: bool,
    /// Link up.
    pub link_up: bool,
    /// Loopback.
    pub loopback: bool,
    /// Ignored by BIRD.
    pub ignored: bool,
}

/// Data for one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    /// Name.
    pub name: String,
    /// Up.
    pub up: bool,
    /// Kernel index.
    pub index: u32,
    /// Master (VRF) device, if any.
    pub master: Option<String>,
    /// Flags.
    pub flags: IfaceFlags,
    /// MTU.
    pub mtu: u32,
    /// Addresses in display order.
    pub addrs: Vec<IfaceAddr>,
    /// Preferred IPv4 address for the summary.
    pub primary4: Option<(IpAddr, u8)>,
    /// Preferred IPv6 address for the summary.
    pub primary6: Option<(IpAddr, u8)>,
}

/// Writes the whole `show interfaces` reply.
pub fn show_interfaces(w: &mut ReplyWriter, ifaces: &[InterfaceInfo]) {
    for i in ifaces {
        let master = i.master.as_ref().map(|m| format!(" master={m}")).unwrap_or_default();
        w.line_fmt(
            code::IFACE,
            format_args!("{} {}{master} (index={})", i.name, if i.up { "up" } else { "down" }, i.index),
        );
        let f = i.flags;
        w.line_fmt(
            code::IFACE_FLAGS,
            format_args!(
                "\t{}{}{} Admin{} Link{}{}{} MTU={}",
                if f.multiaccess { "MultiAccess" } else { "PtP" },
                if f.broadcast { " Broadcast" } else { "" },
                if f.multicast { " Multicast" } else { "" },
                if f.admin_up { "Up" } else { "Down" },
                if f.link_up { "Up" } else { "Down" },
                if f.loopback { " Loopback" } else { "" },
                if f.ignored { " Ignored" } else { "" },
                i.mtu
            ),
        );
        for a in &i.addrs {
            let role = match a.role {
                AddrRole::Preferred => "Preferred",
                AddrRole::Secondary => "Secondary",
                AddrRole::Unselected => "Unselected",
            };
            let opp = match (a.peer, a.opposite) {
                (Some(p), _) => format!(", peer {}", DisplayIp(p)),
                (None, Some(o)) => format!(", opposite {}", DisplayIp(o)),
                _ => String::new(),
            };
            w.line_fmt(
                code::IFACE_ADDR,
                format_args!("\t{}/{} ({role}{opp}, scope {})", DisplayIp(a.ip), a.len, a.scope),
            );
        }
    }
    w.finish(code::OK, "");
}

/// Writes the whole `show interfaces summary` reply.
pub fn show_interfaces_summary(w: &mut ReplyWriter, ifaces: &[InterfaceInfo]) {
    w.line_fmt(
        code::IFACE_SUMMARY_HEADER,
        format_args!("{:<10} {:<6} {:<18} {}", "Interface", "State", "IPv4 address", "IPv6 address"),
    );
    let a = |x: Option<(IpAddr, u8)>| x.map(|(ip, l)| format!("{}/{l}", DisplayIp(ip))).unwrap_or_default();
    for i in ifaces {
        w.line_fmt(
            code::IFACE_SUMMARY,
            format_args!(
                "{:<10} {:<6} {:<18} {}",
                i.name,
                if i.up { "up" } else { "down" },
                a(i.primary4),
                a(i.primary6)
            ),
        );
    }
    w.finish(code::OK, "");
}
