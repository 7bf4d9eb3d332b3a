//! Resource pools: an accounting and teardown tree bound to lock domains.
//!
//! A [`Pool`] is a node of a tree. It owns resources (`Box<dyn Resource>`, handed back by id), accounts
//! memory blocks ([`Block`], owned by the caller), and owns its child pools' contents: dropping a pool frees
//! its whole subtree, children first, each pool's resources in reverse order of addition.
//!
//! Every pool records a [`DomainRef`]. Every operation that allocates or frees through a pool (creating a
//! child, adding or removing a resource, allocating or dropping a block, dropping the pool) checks that the
//! calling thread holds that domain, and panics naming the pool and the domain otherwise. A child's domain
//! level may not be before its parent's, and a child may not be bound to a different domain of the parent's
//! own level: pool trees therefore follow the lock order. (Subtrees freed because their parent is dropped are
//! covered by the parent's domain, which is earlier or equal in the lock order.)
//!
//! Memory figures: [`Pool::memsize`] is the pool's own usage, [`Pool::subtree_memsize`] includes
//! descendants, and [`Pool::report`] returns the whole tree, which is how `show memory` gets its
//! per-category lines (the daemon creates one pool per category under the root, such as "Routing tables",
//! "Route attributes" or "Protocols", and prints their subtree totals).
//!
//! Internally each node is behind a `Mutex`. The domain check is the contract with callers; the mutex is
//! what keeps the node sound when its parent (under the parent's domain) frees it, or `show memory` walks
//! the tree, concurrently with its owner. The mutex is never held while user code runs, except
//! [`Resource::memsize`] and the closure of [`Pool::with_resource`], which must not use the same pool.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::iter::Sum;
use std::ops::{Add, AddAssign, Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use birdrcu::DomainRef;

/// Memory used by something: `effective` bytes of payload plus `overhead` bytes of bookkeeping and slack.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemSize {
    /// Bytes holding the payload.
    pub effective: usize,
    /// Bytes of headers, unused slots, page tails.
    pub overhead: usize,
}

impl MemSize {
    /// No memory.
    pub const ZERO: MemSize = MemSize { effective: 0, overhead: 0 };

    /// `effective + overhead`.
    pub fn total(self) -> usize {
        self.effective + self.overhead
    }
}

impl Add for MemSize {
    type Output = MemSize;
    fn add(self, o: MemSize) -> MemSize {
        MemSize { effective: self.effective + o.effective, overhead: self.overhead + o.overhead }
    }
}

impl AddAssign for MemSize {
    fn add_assign(&mut self, o: MemSize) {
        *self = *self + o;
    }
}

impl Sum for MemSize {
    fn sum<I: Iterator<Item = MemSize>>(iter: I) -> MemSize {
        iter.fold(MemSize::ZERO, Add::add)
    }
}

/// Something a pool owns: freed (dropped) with the pool, counted in its memory.
pub trait Resource: Any + Send {
    /// A short name for dumps.
    fn name(&self) -> &str;

    /// Memory held. Called with the pool's node locked: must not use the pool.
    fn memsize(&self) -> MemSize;

    /// One line describing the resource (for `dump resources`).
    fn dump(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        let m = self.memsize();
        write!(out, "{}: {} B effective, {} B overhead", self.name(), m.effective, m.overhead)
    }
}

/// Id of a resource in a pool, returned by [`Pool::add`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceId {
    pool: u64,
    index: u64,
}

static NEXT_POOL: AtomicU64 = AtomicU64::new(1);

struct NodeState {
    /// False once the pool has been freed (by its handle or with its parent).
    alive: bool,
    resources: BTreeMap<u64, Box<dyn Resource>>,
    next_index: u64,
    children: Vec<Arc<Node>>,
    /// Sum over the live blocks allocated from this pool.
    blocks: MemSize,
}

struct Node {
    id: u64,
    name: Arc<str>,
    domain: DomainRef,
    parent: Option<Weak<Node>>,
    state: Mutex<NodeState>,
}

impl Node {
    fn lock(&self) -> MutexGuard<'_, NodeState> {
        // Nothing under this lock leaves the state half-updated when it panics (user code there only reads).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[track_caller]
    fn check_held(&self, op: &str) {
        if !self.domain.is_held() {
            panic!("pool \"{}\": {op} without holding its domain {}", self.name, self.domain);
        }
    }

    /// Frees the node's contents (children first) if not freed yet.
    fn free(&self) {
        let (children, resources) = {
            let mut st = self.lock();
            if !st.alive {
                return;
            }
            st.alive = false;
            (std::mem::take(&mut st.children), std::mem::take(&mut st.resources))
        };
        for c in children {
            c.free();
        }
        // Reverse order of addition; dropped with no lock held, so destructors may use other pools, or this
        // one's blocks.
        for (_, r) in resources.into_iter().rev() {
            drop(r);
        }
    }

    fn own_memsize(&self) -> MemSize {
        let st = self.lock();
        Pool::OVERHEAD + st.blocks + st.resources.values().map(|r| r.memsize()).sum()
    }
}

/// A node of the pool tree. See the module documentation.
///
/// The handle owns the pool: dropping it frees the pool's subtree (and requires the domain to be held). A
/// child's handle that outlives its parent refers to a freed pool; using it panics.
pub struct Pool {
    node: Arc<Node>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool").field("name", &self.node.name).field("domain", &self.node.domain).finish()
    }
}

impl Pool {
    /// Fixed bookkeeping charged to every pool (its node).
    pub const OVERHEAD: MemSize =
        MemSize { effective: 0, overhead: size_of::<Node>() + size_of::<NodeState>() };

    fn new_node(name: Arc<str>, domain: DomainRef, parent: Option<Weak<Node>>) -> Arc<Node> {
        Arc::new(Node {
            id: NEXT_POOL.fetch_add(1, Ordering::Relaxed),
            name,
            domain,
            parent,
            state: Mutex::new(NodeState {
                alive: true,
                resources: BTreeMap::new(),
                next_index: 0,
                children: Vec::new(),
                blocks: MemSize::ZERO,
            }),
        })
    }

    /// A root pool bound to `domain` (normally the_bird's).
    pub fn root(name: impl Into<Arc<str>>, domain: DomainRef) -> Pool {
        Pool { node: Self::new_node(name.into(), domain, None) }
    }

    /// A child pool bound to `domain`. Needs this pool's domain held.
    ///
    /// # Panics
    ///
    /// If this pool's domain is not held, if this pool was freed, if `domain`'s level is before this pool's
    /// level, or if it is a different domain of the same level.
    #[track_caller]
    pub fn child(&self, name: impl Into<Arc<str>>, domain: DomainRef) -> Pool {
        let name = name.into();
        let me = &self.node;
        me.check_held("creating a child pool");
        let (pl, cl) = (me.domain.level(), domain.level());
        if cl < pl {
            panic!(
                "pool \"{name}\" on domain {domain} cannot be a child of pool \"{}\" on domain {}: level {cl} is before {pl}",
                me.name, me.domain
            );
        }
        if cl == pl && !domain.ptr_eq(&me.domain) {
            panic!(
                "pool \"{name}\" on domain {domain} cannot be a child of pool \"{}\" on domain {}: another domain of the same level",
                me.name, me.domain
            );
        }
        let node = Self::new_node(name, domain, Some(Arc::downgrade(me)));
        let mut st = me.lock();
        self.assert_alive(&st);
        st.children.push(Arc::clone(&node));
        Pool { node }
    }

    #[track_caller]
    fn assert_alive(&self, st: &NodeState) {
        assert!(st.alive, "pool \"{}\" was used after being freed with its parent", self.node.name);
    }

    /// The pool's name.
    pub fn name(&self) -> &str {
        &self.node.name
    }

    /// The domain the pool is bound to.
    pub fn domain(&self) -> &DomainRef {
        &self.node.domain
    }

    /// Whether the pool is still alive (not freed together with its parent).
    pub fn is_alive(&self) -> bool {
        self.node.lock().alive
    }

    /// Adds a resource; the pool owns it until [`Pool::remove`] or until the pool is freed.
    #[track_caller]
    pub fn add<R: Resource>(&self, r: R) -> ResourceId {
        self.add_boxed(Box::new(r))
    }

    /// [`Pool::add`] for an already boxed resource.
    #[track_caller]
    pub fn add_boxed(&self, r: Box<dyn Resource>) -> ResourceId {
        self.node.check_held("adding a resource");
        let mut st = self.node.lock();
        self.assert_alive(&st);
        let index = st.next_index;
        st.next_index += 1;
        st.resources.insert(index, r);
        ResourceId { pool: self.node.id, index }
    }

    #[track_caller]
    fn check_id(&self, id: ResourceId) {
        assert!(id.pool == self.node.id, "resource id {id:?} does not belong to pool \"{}\"", self.node.name);
    }

    /// Takes a resource back out of the pool; `None` if it was already removed.
    #[track_caller]
    pub fn remove(&self, id: ResourceId) -> Option<Box<dyn Resource>> {
        self.node.check_held("removing a resource");
        self.check_id(id);
        let mut st = self.node.lock();
        self.assert_alive(&st);
        st.resources.remove(&id.index)
    }

    /// [`Pool::remove`] with the concrete type; `None` (and the resource stays) if absent or of another type.
    #[track_caller]
    pub fn take<R: Resource>(&self, id: ResourceId) -> Option<R> {
        self.node.check_held("removing a resource");
        self.check_id(id);
        let mut st = self.node.lock();
        self.assert_alive(&st);
        let is_r = st.resources.get(&id.index).is_some_and(|r| (&**r as &dyn Any).is::<R>());
        if !is_r {
            return None;
        }
        let boxed: Box<dyn Any> = st.resources.remove(&id.index)?;
        boxed.downcast::<R>().ok().map(|b| *b)
    }

    /// Runs `f` on a resource of type `R`. `f` runs with the pool's node locked and must not use this pool.
    #[track_caller]
    pub fn with_resource<R: Resource, X>(&self, id: ResourceId, f: impl FnOnce(&mut R) -> X) -> Option<X> {
        self.node.check_held("using a resource");
        self.check_id(id);
        let mut st = self.node.lock();
        let r = st.resources.get_mut(&id.index)?;
        let r: &mut dyn Any = &mut **r;
        r.downcast_mut::<R>().map(f)
    }

    /// Number of resources in this pool (not counting children).
    pub fn resource_count(&self) -> usize {
        self.node.lock().resources.len()
    }

    /// Allocates a zeroed memory block of `size` bytes accounted to this pool.
    #[track_caller]
    pub fn alloc_block(&self, size: usize) -> Block {
        self.node.check_held("allocating a block");
        let mut st = self.node.lock();
        self.assert_alive(&st);
        st.blocks += Block::memsize_of(size);
        drop(st);
        Block { data: vec![0u8; size].into_boxed_slice(), node: Arc::clone(&self.node) }
    }

    /// The pool's own memory: its resources, its live blocks and [`Pool::OVERHEAD`].
    pub fn memsize(&self) -> MemSize {
        self.node.own_memsize()
    }

    /// The memory of the pool and all its descendants.
    pub fn subtree_memsize(&self) -> MemSize {
        self.report().subtree
    }

    /// The pool tree below (and including) this pool with memory figures.
    pub fn report(&self) -> PoolReport {
        fn walk(n: &Arc<Node>) -> PoolReport {
            let own = n.own_memsize();
            let children: Vec<Arc<Node>> = n.lock().children.clone();
            let children: Vec<PoolReport> = children.iter().map(walk).collect();
            let subtree = own + children.iter().map(|c| c.subtree).sum();
            PoolReport { name: Arc::clone(&n.name), domain: n.domain.name().into(), own, subtree, children }
        }
        walk(&self.node)
    }

    /// A textual dump of the subtree: pools with their domains and memory, and every resource.
    pub fn dump(&self) -> String {
        fn walk(n: &Arc<Node>, depth: usize, out: &mut String) {
            let own = n.own_memsize();
            let _ = writeln!(
                out,
                "{:indent$}pool \"{}\" ({}): {} B",
                "",
                n.name,
                n.domain,
                own.total(),
                indent = depth * 2
            );
            let children = {
                let st = n.lock();
                for r in st.resources.values() {
                    let _ = write!(out, "{:indent$}", "", indent = depth * 2 + 2);
                    let _ = r.dump(out);
                    out.push('\n');
                }
                st.children.clone()
            };
            for c in &children {
                walk(c, depth + 1, out);
            }
        }
        let mut out = String::new();
        walk(&self.node, 0, &mut out);
        out
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // During unwinding a second panic would abort; the check is for bugs, not for teardown after one.
        if !std::thread::panicking() {
            self.node.check_held("freeing the pool");
        }
        if let Some(parent) = self.node.parent.as_ref().and_then(Weak::upgrade) {
            parent.lock().children.retain(|c| !Arc::ptr_eq(c, &self.node));
        }
        self.node.free();
    }
}

/// Memory figures of a pool subtree, from [`Pool::report`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolReport {
    /// The pool's name.
    pub name: Arc<str>,
    /// The name of its domain.
    pub domain: Arc<str>,
    /// The pool's own memory.
    pub own: MemSize,
    /// Own plus all descendants.
    pub subtree: MemSize,
    /// Child pools, in creation order.
    pub children: Vec<PoolReport>,
}

impl PoolReport {
    /// The first pool named `name` in this subtree (depth first), e.g. a `show memory` category.
    pub fn find(&self, name: &str) -> Option<&PoolReport> {
        if &*self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }
}

/// A zeroed memory block accounted to a pool (the `mb_alloc` of BIRD). Owned by the caller; dropping it
/// updates the pool's figures and requires the pool's domain to be held. Blocks are not freed with the pool
/// (Rust ownership decides their lifetime); they keep being counted until dropped.
pub struct Block {
    data: Box<[u8]>,
    node: Arc<Node>,
}

impl Block {
    /// Bookkeeping charged per block (the allocator header of a heap block, approximately).
    pub const OVERHEAD: usize = 2 * size_of::<usize>();

    /// The memory charged for a block of `size` bytes.
    pub fn memsize_of(size: usize) -> MemSize {
        MemSize { effective: size, overhead: Self::OVERHEAD }
    }

    /// The pool's name.
    pub fn pool_name(&self) -> &str {
        &self.node.name
    }
}

impl Deref for Block {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.data
    }
}

impl DerefMut for Block {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }
}

impl fmt::Debug for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Block").field("pool", &self.node.name).field("len", &self.data.len()).finish()
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.node.check_held("freeing a block");
        }
        let mut st = self.node.lock();
        let m = Self::memsize_of(self.data.len());
        st.blocks.effective -= m.effective;
        st.blocks.overhead -= m.overhead;
    }
}
