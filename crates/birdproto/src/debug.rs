//! Per-protocol debug flags (BIRD's `debug { states, routes, filters, interfaces, events, packets }`):
//! which trace messages an instance writes (log class `trace`). Set from the configuration (`debug
//! protocols` and each protocol's `debug`) and by the `debug` command.

/// State changes (`p1: State changed to up`).
pub const STATES: u32 = 1;
/// Routes imported and removed (`p1 > added [ipv4] 192.0.2.0/24`).
pub const ROUTES: u32 = 2;
/// Filter decisions.
pub const FILTERS: u32 = 4;
/// Interface events.
pub const INTERFACES: u32 = 8;
/// Protocol events.
pub const EVENTS: u32 = 16;
/// Packets sent and received (BGP messages).
pub const PACKETS: u32 = 32;
/// `debug all`.
pub const ALL: u32 = STATES | ROUTES | FILTERS | INTERFACES | EVENTS | PACKETS;

/// The flag of a keyword (`states`, `routes`, ...).
pub fn flag(name: &str) -> Option<u32> {
    Some(match name {
        "states" => STATES,
        "routes" => ROUTES,
        "filters" => FILTERS,
        "interfaces" => INTERFACES,
        "events" => EVENTS,
        "packets" => PACKETS,
        _ => return None,
    })
}
