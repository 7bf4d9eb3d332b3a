//! birdmem (doc being written)
// Unsafe is needed for raw page memory: the intrusive free lists, index pages, slab slots and arena bumps.
#![allow(unsafe_code)]

pub mod page;
pub(crate) mod sync;
pub mod sys;

/// Size of a page, the allocation unit of [`page`].
pub const PAGE_SIZE: usize = 4096;

pub use page::{page_head, Page, PageAllocator, PageParams, PageStats};
