//! Destinations and next hops: the `dest`, `gw`, `ifname` and `ifindex` of a route.

use std::cmp::Ordering;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use birdnet::DisplayIp;

/// A cheap handle naming an interface: its name and kernel index.
///
/// Two handles are equal when both name and index are. Cloning bumps one reference count.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Iface {
    name: Arc<str>,
    index: u32,
}

impl Iface {
    /// An interface handle.
    pub fn new(name: impl Into<Arc<str>>, index: u32) -> Iface {
        Iface { name: name.into(), index }
    }

    /// The interface name (`ifname`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The shared name, for callers that keep it.
    pub fn name_arc(&self) -> &Arc<str> {
        &self.name
    }

    /// The kernel interface index (`ifindex`).
    pub fn index(&self) -> u32 {
        self.index
    }
}

impl PartialOrd for Iface {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Iface {
    fn cmp(&self, other: &Self) -> Ordering {
        self.index.cmp(&other.index).then_with(|| self.name.cmp(&other.name))
    }
}

/// One next hop of a unicast route.
///
/// `weight` is the ECMP weight as configured (1..=256 in BIRD; stored minus one so the default,
/// `weight 1`, is 0).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NextHop {
    /// The gateway; `None` for a device route (`dev eth0`).
    pub gw: Option<IpAddr>,
    /// The outgoing interface; `None` only for a not yet resolved gateway.
    pub iface: Option<Iface>,
    /// ECMP weight minus one.
    pub weight: u8,
    /// The gateway is reachable on `iface` without a matching prefix (`onlink`).
    pub onlink: bool,
}

impl NextHop {
    /// A next hop through `gw` on `iface`, weight 1.
    pub fn via(gw: IpAddr, iface: Iface) -> NextHop {
        NextHop { gw: Some(gw), iface: Some(iface), weight: 0, onlink: false }
    }

    /// A direct next hop on `iface` (no gateway).
    pub fn dev(iface: Iface) -> NextHop {
        NextHop { gw: None, iface: Some(iface), weight: 0, onlink: false }
    }

    /// The line `show route` prints for this next hop, with its leading tab:
    /// `\tvia 192.0.2.254 on vethA`, `\tdev vethA`; ` onlink` and, for ECMP (`ecmp`), ` weight N`.
    pub fn show_line(&self, ecmp: bool) -> String {
        let mut s = String::with_capacity(48);
        let iface = self.iface.as_ref().map(|i| i.name());
        match (self.gw, iface) {
            (Some(gw), Some(ifn)) => s.push_str(&format!("\tvia {} on {}", DisplayIp(gw), ifn)),
            (Some(gw), None) => {
                s.push_str(&format!("\tvia {}", DisplayIp(gw)));
                return s;
            }
            (None, ifn) => s.push_str(&format!("\tdev {}", ifn.unwrap_or("???"))),
        }
        if self.onlink {
            s.push_str(" onlink");
        }
        if ecmp {
            s.push_str(&format!(" weight {}", u32::from(self.weight) + 1));
        }
        s
    }

    /// The canonical ECMP order: higher weight first, then gateway, then interface index.
    pub fn canonical_cmp(&self, other: &NextHop) -> Ordering {
        other
            .weight
            .cmp(&self.weight)
            .then_with(|| self.gw.cmp(&other.gw))
            .then_with(|| self.iface.cmp(&other.iface))
            .then_with(|| self.onlink.cmp(&other.onlink))
    }
}

/// Where a route sends packets: the filter attribute `dest` (`RTD_*`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Dest {
    /// `RTD_UNICAST`: one or more next hops, kept in canonical order (see [`Dest::unicast`]). Shared:
    /// every attribute set of a BGP session resolved through the same next hop holds one allocation
    /// (a route server's feeder sends thousands of sets with one next hop).
    Unicast(Arc<[NextHop]>),
    /// `RTD_BLACKHOLE`: silently drop.
    Blackhole,
    /// `RTD_UNREACHABLE`: drop with ICMP unreachable.
    Unreachable,
    /// `RTD_PROHIBIT`: drop with ICMP administratively prohibited.
    Prohibit,
}

impl Dest {
    /// A unicast destination; the next hops are sorted into canonical ECMP order and exact duplicates
    /// removed, so equal next-hop sets give equal (and equally interned) attributes.
    pub fn unicast(hops: impl IntoIterator<Item = NextHop>) -> Dest {
        let mut v: Vec<NextHop> = hops.into_iter().collect();
        v.sort_by(NextHop::canonical_cmp);
        v.dedup();
        Dest::Unicast(v.into())
    }

    /// A unicast destination with a single next hop.
    pub fn one(hop: NextHop) -> Dest {
        Dest::Unicast(Arc::new([hop]))
    }

    /// The route type word of `show route` (`unicast`, `blackhole`, `unreachable`, `prohibit`).
    pub fn name(&self) -> &'static str {
        match self {
            Dest::Unicast(_) => "unicast",
            Dest::Blackhole => "blackhole",
            Dest::Unreachable => "unreachable",
            Dest::Prohibit => "prohibit",
        }
    }

    /// The filter constant (`RTD_UNICAST`, ...).
    pub fn filter_name(&self) -> &'static str {
        match self {
            Dest::Unicast(_) => "RTD_UNICAST",
            Dest::Blackhole => "RTD_BLACKHOLE",
            Dest::Unreachable => "RTD_UNREACHABLE",
            Dest::Prohibit => "RTD_PROHIBIT",
        }
    }

    /// BIRD's numeric `RTD_*` value.
    pub fn code(&self) -> u32 {
        match self {
            Dest::Unicast(_) => 1,
            Dest::Blackhole => 2,
            Dest::Unreachable => 3,
            Dest::Prohibit => 4,
        }
    }

    /// The next hops (empty unless unicast).
    pub fn next_hops(&self) -> &[NextHop] {
        match self {
            Dest::Unicast(h) => h,
            _ => &[],
        }
    }

    /// The `show route` next-hop lines (each with its leading tab), in canonical order.
    pub fn show_lines(&self) -> impl Iterator<Item = String> + '_ {
        let hops = self.next_hops();
        let ecmp = hops.len() > 1;
        hops.iter().map(move |h| h.show_line(ecmp))
    }
}

impl fmt::Display for Dest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
