//! `show memory`: figures from birdmem's page allocator, birdtable's table statistics and its attribute
//! cache, and the protocols' own estimates of what they hold (published with their state).

use birdcli::format::memory::{show_memory, MemSize, MemoryReport, PageStats};
use birdcli::ReplyWriter;

use crate::daemon::Daemon;

const ROUTE_BYTES: u64 = std::mem::size_of::<birdtable::Route>() as u64;

/// Writes the reply.
pub fn run(d: &Daemon, w: &mut ReplyWriter) {
    let mut tables = MemSize::default();
    for (_, t) in d.rt.ordered_tables() {
        let s = t.stats();
        tables.effective += s.routes * ROUTE_BYTES;
        tables.overhead += (t.index_heap_bytes() + t.list_pool_bytes()) as u64;
    }
    let a = birdtable::attrs::stats();
    let attrs = MemSize { effective: a.effective_bytes as u64, overhead: a.overhead_bytes as u64 };
    let config = MemSize { effective: d.config_text_len as u64, overhead: 0 };
    let protocols = MemSize {
        effective: d.rt.protos.iter().filter_map(|e| e.handle.state()).map(|s| s.mem_bytes).sum(),
        overhead: 0,
    };
    let ps = birdmem::PageAllocator::global().stats();
    let page = d.page_size as u64;
    let free = (ps.hot_local + ps.hot_global) as u64;
    let cold = (ps.cold + ps.cold_index) as u64;
    let active = (ps.total as u64).saturating_sub(free + cold);
    let standby = MemSize { effective: 0, overhead: free * page };
    let total = MemSize {
        effective: tables.effective + attrs.effective + protocols.effective + config.effective,
        overhead: tables.overhead + attrs.overhead + standby.overhead,
    };
    let report = MemoryReport {
        routing_tables: tables,
        route_attributes: attrs,
        protocols,
        current_config: config,
        standby,
        total,
        pages: Some(PageStats {
            active: active * page,
            kept_free: free * page,
            cold_free: cold * page,
            hot_depleted_in_rcu: ps.depleted_in_rcu,
        }),
    };
    show_memory(w, &report);
}
