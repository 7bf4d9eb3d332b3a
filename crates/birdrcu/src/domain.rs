//! Lock domains: mutexes that know their level and check the lock order on every acquisition.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};

use crate::levels::{Level, LevelId};
use crate::tls::{self, DomainInfo};

/// Identities of domains dropped while a leaked guard still held them. Never shrinks.
static ORPHANS: Mutex<Vec<Arc<DomainInfo>>> = Mutex::new(Vec::new());

/// Owns the domain's `Arc<DomainInfo>` and, on drop, keeps it alive forever if a guard of the domain was
/// leaked.
///
/// A leaked guard (`mem::forget`) never clears its thread's locking-stack slot, which keeps pointing at
/// the info. Moving the `Arc` to [`ORPHANS`] keeps that pointer valid for the rest of the process; the
/// cost (one small allocation) is paid only by programs that leak guards.
struct InfoOwner(Arc<DomainInfo>);

impl Drop for InfoOwner {
    fn drop(&mut self) {
        // The domain is being dropped, so no guard borrows it any more: if `held` is still set, its guard
        // was leaked. Relaxed suffices: whoever passed the domain to this thread for dropping
        // synchronised with the thread that set the flag.
        if self.0.held.load(Ordering::Relaxed) {
            ORPHANS.lock().unwrap_or_else(PoisonError::into_inner).push(Arc::clone(&self.0));
        }
    }
}

/// The level-independent part of [`Domain`] and [`DynDomain`].
struct RawDomain<T> {
    info: InfoOwner,
    mutex: Mutex<T>,
}

impl<T> RawDomain<T> {
    fn new(name: Arc<str>, level: LevelId, rcu_lockable: bool, value: T) -> Self {
        RawDomain {
            info: InfoOwner(Arc::new(DomainInfo { name, level, rcu_lockable, held: AtomicBool::new(false) })),
            mutex: Mutex::new(value),
        }
    }

    #[inline]
    fn info(&self) -> &DomainInfo {
        &self.info.0
    }

    #[inline]
    fn lock(&self) -> DomainGuard<'_, T> {
        let info = self.info();
        let guard = tls::lock_with(info, || {
            // Poisoning is ignored: a panic while holding a domain is a bug that is reported where it
            // happens, and the daemon's policy for panics is decided elsewhere.
            let g = self.mutex.lock().unwrap_or_else(PoisonError::into_inner);
            info.held.store(true, Ordering::Relaxed);
            g
        });
        DomainGuard { info, guard }
    }

    fn into_inner(self) -> T {
        let RawDomain { info, mutex } = self;
        drop(info);
        mutex.into_inner().unwrap_or_else(PoisonError::into_inner)
    }

    fn get_mut(&mut self) -> &mut T {
        self.mutex.get_mut().unwrap_or_else(PoisonError::into_inner)
    }

    fn fmt(&self, kind: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result
    where
        T: fmt::Debug,
    {
        let info = self.info();
        let mut d = f.debug_struct(kind);
        d.field("name", &info.name).field("level", &info.level).field("rcu_lockable", &info.rcu_lockable);
        // Only peek at the value when that cannot block or break the lock order.
        match self.mutex.try_lock() {
            Ok(v) => d.field("value", &*v),
            Err(TryLockError::Poisoned(e)) => d.field("value", &*e.into_inner()),
            Err(TryLockError::WouldBlock) => d.field("value", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// A mutex with a compile-time lock level `L`.
///
/// Locking checks, at run time and in every build, that the calling thread holds no domain of level `L`
/// or later, and that it is not inside an RCU read section unless the domain is RCU-lockable. See the
/// crate documentation for the protocol.
pub struct Domain<L: Level, T> {
    raw: RawDomain<T>,
    _level: PhantomData<fn() -> L>,
}

impl<L: Level, T> Domain<L, T> {
    /// A domain of level `L`. It is RCU-lockable iff `L` is [`Resource`](crate::level::Resource);
    /// otherwise it is RCU-waited: `synchronize()` may be called while holding it, and locking it inside
    /// a read section panics.
    pub fn new(name: impl Into<Arc<str>>, value: T) -> Self {
        Domain {
            raw: RawDomain::new(name.into(), L::ID, L::ID.default_rcu_lockable(), value),
            _level: PhantomData,
        }
    }

    /// A domain that may be locked inside an RCU read section. Calling `synchronize()` while holding it
    /// panics, because a reader could be blocked on it.
    pub fn new_rcu_lockable(name: impl Into<Arc<str>>, value: T) -> Self {
        Domain { raw: RawDomain::new(name.into(), L::ID, true, value), _level: PhantomData }
    }

    /// Lock the domain, blocking until it is free.
    ///
    /// # Panics
    /// On a lock-order or RCU violation (see the crate documentation); nothing is locked then.
    #[inline]
    pub fn lock(&self) -> DomainGuard<'_, T> {
        self.raw.lock()
    }

    /// Whether the calling thread holds this domain.
    #[inline]
    pub fn is_held(&self) -> bool {
        tls::is_held(self.raw.info())
    }

    /// A shareable handle to this domain's identity (name, level), for pools and diagnostics.
    pub fn handle(&self) -> DomainRef {
        DomainRef(Arc::clone(&self.raw.info.0))
    }

    /// The domain's name.
    pub fn name(&self) -> &str {
        &self.raw.info().name
    }

    /// The domain's level (`L::ID`).
    pub fn level(&self) -> LevelId {
        L::ID
    }

    /// Whether the domain may be locked inside an RCU read section.
    pub fn is_rcu_lockable(&self) -> bool {
        self.raw.info().rcu_lockable
    }

    /// Mutable access without locking: `&mut self` proves no one else can hold the domain.
    pub fn get_mut(&mut self) -> &mut T {
        self.raw.get_mut()
    }

    /// Consume the domain and return its value.
    pub fn into_inner(self) -> T {
        self.raw.into_inner()
    }
}

impl<L: Level, T: fmt::Debug> fmt::Debug for Domain<L, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.raw.fmt("Domain", f)
    }
}

/// A mutex whose lock level is chosen at run time; otherwise identical to [`Domain`].
pub struct DynDomain<T> {
    raw: RawDomain<T>,
}

impl<T> DynDomain<T> {
    /// A domain of level `level`, RCU-lockable iff `level` is `Resource`.
    pub fn new(name: impl Into<Arc<str>>, level: LevelId, value: T) -> Self {
        DynDomain { raw: RawDomain::new(name.into(), level, level.default_rcu_lockable(), value) }
    }

    /// A domain of level `level` that may be locked inside an RCU read section.
    pub fn new_rcu_lockable(name: impl Into<Arc<str>>, level: LevelId, value: T) -> Self {
        DynDomain { raw: RawDomain::new(name.into(), level, true, value) }
    }

    /// Lock the domain, blocking until it is free.
    ///
    /// # Panics
    /// On a lock-order or RCU violation (see the crate documentation); nothing is locked then.
    #[inline]
    pub fn lock(&self) -> DomainGuard<'_, T> {
        self.raw.lock()
    }

    /// Whether the calling thread holds this domain.
    #[inline]
    pub fn is_held(&self) -> bool {
        tls::is_held(self.raw.info())
    }

    /// A shareable handle to this domain's identity.
    pub fn handle(&self) -> DomainRef {
        DomainRef(Arc::clone(&self.raw.info.0))
    }

    /// The domain's name.
    pub fn name(&self) -> &str {
        &self.raw.info().name
    }

    /// The domain's level.
    pub fn level(&self) -> LevelId {
        self.raw.info().level
    }

    /// Whether the domain may be locked inside an RCU read section.
    pub fn is_rcu_lockable(&self) -> bool {
        self.raw.info().rcu_lockable
    }

    /// Mutable access without locking.
    pub fn get_mut(&mut self) -> &mut T {
        self.raw.get_mut()
    }

    /// Consume the domain and return its value.
    pub fn into_inner(self) -> T {
        self.raw.into_inner()
    }
}

impl<T: fmt::Debug> fmt::Debug for DynDomain<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.raw.fmt("DynDomain", f)
    }
}

/// Proof that the calling thread holds a domain; gives access to its value. Dropping it unlocks.
///
/// `!Send`: a domain is unlocked by the thread that locked it, whose locking stack records it. Guards
/// may be dropped in any order.
pub struct DomainGuard<'a, T> {
    info: &'a DomainInfo,
    // `MutexGuard` is `!Send`, which makes this guard `!Send` too (checked by a test).
    guard: MutexGuard<'a, T>,
}

impl<T> DomainGuard<'_, T> {
    /// The name of the held domain.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// The level of the held domain.
    pub fn level(&self) -> LevelId {
        self.info.level
    }
}

impl<T> Deref for DomainGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for DomainGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T> Drop for DomainGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // Leave the stack and clear `held` before the mutex field is dropped (unlocking it), so the next
        // owner's `held = true` is ordered after our `false` by the mutex.
        self.info.held.store(false, Ordering::Relaxed);
        tls::unlocked(self.info);
    }
}

impl<T: fmt::Debug> fmt::Debug for DomainGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DomainGuard")
            .field("name", &self.info.name)
            .field("level", &self.info.level)
            .field("value", &*self.guard)
            .finish()
    }
}

/// A cheap, shareable handle naming a domain: its name, level and whether this thread holds it.
///
/// Holding a `DomainRef` keeps the domain's identity alive, not the domain or its value.
#[derive(Clone)]
pub struct DomainRef(Arc<DomainInfo>);

impl DomainRef {
    /// The domain's name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The domain's level.
    pub fn level(&self) -> LevelId {
        self.0.level
    }

    /// Whether the domain may be locked inside an RCU read section.
    pub fn is_rcu_lockable(&self) -> bool {
        self.0.rcu_lockable
    }

    /// Whether the calling thread holds the domain.
    #[inline]
    pub fn is_held(&self) -> bool {
        tls::is_held(&self.0)
    }

    /// Whether both handles name the same domain.
    pub fn ptr_eq(&self, other: &DomainRef) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for DomainRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DomainRef").field("name", &self.0.name).field("level", &self.0.level).finish()
    }
}

impl fmt::Display for DomainRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\" ({})", self.0.name, self.0.level)
    }
}

/// Number of domains the calling thread holds.
pub fn lock_depth() -> usize {
    tls::lock_depth()
}
