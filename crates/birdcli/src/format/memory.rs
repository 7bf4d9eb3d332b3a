//! `show memory` (BIRD 2 and BIRD 3 layouts).

use crate::reply::{code, ReplyWriter};

/// Effective and overhead bytes of one pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemSize {
    /// Bytes in use.
    pub effective: u64,
    /// Bookkeeping bytes.
    pub overhead: u64,
}

/// BIRD 3 page allocator figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PageStats {
    /// Bytes in active pages.
    pub active: u64,
    /// Bytes in hot free pages.
    pub kept_free: u64,
    /// Bytes in cold free pages.
    pub cold_free: u64,
    /// Times the hot page cache ran dry inside an RCU read section.
    pub hot_depleted_in_rcu: u64,
}

/// Data for `show memory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryReport {
    /// Routing tables.
    pub routing_tables: MemSize,
    /// Route attributes.
    pub route_attributes: MemSize,
    /// Protocols.
    pub protocols: MemSize,
    /// Current config.
    pub current_config: MemSize,
    /// Standby memory (only its overhead is shown).
    pub standby: MemSize,
    /// Total.
    pub total: MemSize,
    /// Page statistics: present → BIRD 3 layout.
    pub pages: Option<PageStats>,
}

/// BIRD's size text: ` 59.8 kB`, `4232.0  B` (one decimal, switch unit at 10000).
pub fn size_text(bytes: u64) -> String {
    const UNITS: &[u8] = b" kMGT";
    let mut v = bytes.saturating_mul(10);
    let mut i = 0;
    while v >= 100_000 && i < 4 {
        v = (v + 512) / 1024;
        i += 1;
    }
    format!("{:>4}.{} {}B", v / 10, v % 10, UNITS[i] as char)
}

fn row(w: &mut ReplyWriter, label: &str, m: MemSize) {
    w.line_fmt(
        code::MEMORY,
        format_args!("{label:<17} {}   {}", size_text(m.effective), size_text(m.overhead)),
    );
}

fn single(w: &mut ReplyWriter, label: &str, v: u64) {
    w.line_fmt(code::MEMORY, format_args!("{label:<17} {}", size_text(v)));
}

/// Writes the whole reply (ends with `0000␠`).
pub fn show_memory(w: &mut ReplyWriter, m: &MemoryReport) {
    w.line(code::MEMORY, "BIRD memory usage");
    w.line_fmt(code::MEMORY, format_args!("{:<17} Effective    Overhead", ""));
    row(w, "Routing tables:", m.routing_tables);
    row(w, "Route attributes:", m.route_attributes);
    row(w, "Protocols:", m.protocols);
    row(w, "Current config:", m.current_config);
    row(w, "Standby memory:", MemSize { effective: 0, overhead: m.standby.overhead });
    row(w, "Total:", m.total);
    if let Some(p) = m.pages {
        w.separator(code::MEMORY);
        single(w, "Active pages:", p.active);
        single(w, "Kept free pages:", p.kept_free);
        single(w, "Cold free pages:", p.cold_free);
        w.line_fmt(
            code::MEMORY_EXTRA,
            format_args!("Hot page cache depleted while in RCU: {}", p.hot_depleted_in_rcu),
        );
    }
    w.finish(code::OK, "");
}

#[cfg(test)]
mod tests {
    use super::size_text;

    #[test]
    fn sizes() {
        assert_eq!(size_text(0), "   0.0  B");
        assert_eq!(size_text(4232), "4232.0  B");
        assert_eq!(size_text(9999), "9999.0  B");
        assert_eq!(size_text(10000), "   9.8 kB");
        assert_eq!(size_text(1512 * 1024), "1512.0 kB");
        assert_eq!(size_text(100 * 1024 * 1024), " 100.0 MB");
    }
}
