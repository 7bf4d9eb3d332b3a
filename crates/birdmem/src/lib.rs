//! birdmem (doc being written)
// Unsafe is needed for raw page memory: the intrusive free lists, index pages, slab slots and arena bumps.
#![allow(unsafe_code)]

pub mod idmap;
pub mod page;
pub mod pool;
pub mod slab;
pub(crate) mod sync;
pub mod sys;
pub mod tmp;

/// Size of a page, the allocation unit of [`page`].
pub const PAGE_SIZE: usize = 4096;

pub use idmap::IdMap;
pub use page::{page_head, Page, PageAllocator, PageParams, PageStats};
pub use pool::{Block, MemSize, Pool, PoolReport, Resource, ResourceId};
pub use slab::{Slab, SlabId};
pub use tmp::TmpArena;
