//! Which interface reaches a gateway, for static routes given as `via <ip>` without `dev`.
//!
//! birdd has no device protocol yet, so it reads the kernel's connected routes from procfs (read-only,
//! no privileges needed): `/proc/net/route` and `/proc/net/ipv6_route`, longest match wins; addresses in
//! 127.0.0.0/8 and ::1 are on `lo`. A gateway that no interface reaches leaves the route uninstalled, as
//! BIRD does for unreachable next hops.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A connected network on an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Connected {
    net: IpAddr,
    len: u8,
    iface: String,
}

fn parse_v4(text: &str) -> Vec<Connected> {
    let mut v = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 {
            continue;
        }
        let (Ok(dst), Ok(gw), Ok(mask)) =
            (u32::from_str_radix(f[1], 16), u32::from_str_radix(f[2], 16), u32::from_str_radix(f[7], 16))
        else {
            continue;
        };
        if gw != 0 {
            continue;
        }
        // procfs prints the words in host (little-endian) order.
        let dst = Ipv4Addr::from(dst.to_le_bytes());
        let len = mask.count_ones() as u8;
        v.push(Connected { net: IpAddr::V4(dst), len, iface: f[0].to_owned() });
    }
    v
}

fn parse_v6(text: &str) -> Vec<Connected> {
    let mut v = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 || f[0].len() != 32 {
            continue;
        }
        let (Ok(dst), Ok(len), Ok(flags)) =
            (u128::from_str_radix(f[0], 16), u8::from_str_radix(f[1], 16), u32::from_str_radix(f[8], 16))
        else {
            continue;
        };
        // RTF_GATEWAY = 0x2; RTF_REJECT = 0x200 (the "lo" unreachable entries).
        if flags & 0x2 != 0 || flags & 0x200 != 0 || f[4] != "00000000000000000000000000000000" {
            continue;
        }
        v.push(Connected { net: IpAddr::V6(Ipv6Addr::from(dst)), len, iface: f[9].to_owned() });
    }
    v
}

fn contains(c: &Connected, a: IpAddr) -> bool {
    match (c.net, a) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let m = if c.len == 0 { 0 } else { u32::MAX << (32 - u32::from(c.len)) };
            u32::from(n) & m == u32::from(a) & m
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let m = if c.len == 0 { 0 } else { u128::MAX << (128 - u32::from(c.len)) };
            u128::from(n) & m == u128::from(a) & m
        }
        _ => false,
    }
}

fn best(list: &[Connected], gw: IpAddr) -> Option<String> {
    list.iter().filter(|c| c.len > 0 && contains(c, gw)).max_by_key(|c| c.len).map(|c| c.iface.clone())
}

/// The interface a gateway is reachable on, if any.
pub fn resolve_gateway(gw: IpAddr) -> Option<String> {
    match gw {
        IpAddr::V4(a) if a.is_loopback() => return Some("lo".into()),
        IpAddr::V6(a) if a.is_loopback() => return Some("lo".into()),
        _ => {}
    }
    let list = match gw {
        IpAddr::V4(_) => parse_v4(&std::fs::read_to_string("/proc/net/route").ok()?),
        IpAddr::V6(_) => parse_v6(&std::fs::read_to_string("/proc/net/ipv6_route").ok()?),
    };
    best(&list, gw)
}

/// The kernel's index of an interface (0 when unknown).
pub fn ifindex(name: &str) -> u32 {
    std::fs::read_to_string(format!("/sys/class/net/{name}/ifindex"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// The first global IPv6 address of interface `name`, from procfs (`/proc/net/if_inet6`).
pub fn global_ipv6(name: &str) -> Option<IpAddr> {
    let text = std::fs::read_to_string("/proc/net/if_inet6").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        // address, ifindex, prefix length, scope (00: global), flags, name
        if f.len() < 6 || f[5] != name || f[3] != "00" || f[0].len() != 32 {
            return None;
        }
        let v = u128::from_str_radix(f[0], 16).ok()?;
        Some(IpAddr::V6(std::net::Ipv6Addr::from(v)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procfs_v4() {
        let t = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                 eth0\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
                 eth0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
                 vethA\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        let l = parse_v4(t);
        assert_eq!(l.len(), 2);
        assert_eq!(best(&l, "192.0.2.254".parse().unwrap()).as_deref(), Some("vethA"));
        assert_eq!(best(&l, "192.168.2.7".parse().unwrap()).as_deref(), Some("eth0"));
        assert_eq!(best(&l, "203.0.113.1".parse().unwrap()), None);
    }

    #[test]
    fn procfs_v6() {
        let t = "20010db8000100000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001    vethA\n\
                 00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0\n";
        let l = parse_v6(t);
        assert_eq!(l.len(), 1);
        assert_eq!(best(&l, "2001:db8:1::fe".parse().unwrap()).as_deref(), Some("vethA"));
        assert_eq!(resolve_gateway("127.0.0.2".parse().unwrap()).as_deref(), Some("lo"));
    }
}
