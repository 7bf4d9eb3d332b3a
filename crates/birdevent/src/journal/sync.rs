//! The journal's additions to the crate's `sync` shim: `Arc`, fences and a tracked `UnsafeCell` for slots,
//! from `loom` under `--cfg loom` so the models see the final drop's synchronization and every slot access.

pub(super) use crate::sync::{AtomicPtr, AtomicU64, AtomicUsize, Ordering, RwLock};

#[cfg(loom)]
pub(super) use loom::cell::{ConstPtr, UnsafeCell};
#[cfg(loom)]
pub(super) use loom::sync::atomic::fence;
#[cfg(loom)]
pub(super) use loom::sync::Arc;
#[cfg(not(loom))]
pub(super) use std::sync::atomic::fence;
#[cfg(not(loom))]
pub(super) use std::sync::Arc;

#[cfg(not(loom))]
pub(super) use plain::{ConstPtr, UnsafeCell};

#[cfg(not(loom))]
mod plain {
    /// `UnsafeCell` with loom's `get`/`with_mut` interface.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    /// A shared pointer into an [`UnsafeCell`], loom's `ConstPtr`.
    #[derive(Debug)]
    pub(crate) struct ConstPtr<T>(*const T);

    impl<T> UnsafeCell<T> {
        pub(crate) fn new(v: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(v))
        }

        pub(crate) fn get(&self) -> ConstPtr<T> {
            ConstPtr(self.0.get())
        }

        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }

    impl<T> ConstPtr<T> {
        /// # Safety
        /// The cell must not be written while the returned reference lives.
        pub(crate) unsafe fn deref(&self) -> &T {
            // SAFETY: the pointer comes from a live cell; no writer by the caller's contract.
            unsafe { &*self.0 }
        }
    }
}
