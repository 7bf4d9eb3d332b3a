//! Pools: exact accounting against a model, the domain and level checks, and subtree teardown.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use birdmem::pool::{Block, MemSize, Pool, Resource, ResourceId};
use birdrcu::{DynDomain, LevelId};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// A resource of a given size that counts its drops.
struct Res {
    size: usize,
    drops: Arc<AtomicUsize>,
}

impl Resource for Res {
    fn name(&self) -> &str {
        "test resource"
    }
    fn memsize(&self) -> MemSize {
        MemSize { effective: self.size, overhead: 8 }
    }
}

impl Drop for Res {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn dom(name: &str, level: LevelId) -> DynDomain<()> {
    DynDomain::new(name, level, ())
}

#[test]
fn accounting_matches_model() {
    let bird = dom("the_bird", LevelId::TheBird);
    let proto = dom("proto1", LevelId::Proto);
    let _g = bird.lock();
    let _p = proto.lock();
    let root = Pool::root("root", bird.handle());
    let kids = [root.child("Protocols", proto.handle()), root.child("Route attributes", bird.handle())];
    let drops = Arc::new(AtomicUsize::new(0));
    let mut rng = SmallRng::seed_from_u64(42);

    // Model per pool: live resources (id, size), live blocks.
    let mut res: [Vec<(ResourceId, usize)>; 2] = [Vec::new(), Vec::new()];
    let mut blocks: [Vec<Block>; 2] = [Vec::new(), Vec::new()];
    let expect = |res: &Vec<(ResourceId, usize)>, blocks: &Vec<Block>| {
        Pool::OVERHEAD
            + res.iter().map(|&(_, s)| MemSize { effective: s, overhead: 8 }).sum()
            + blocks.iter().map(|b| Block::memsize_of(b.len())).sum()
    };
    for _ in 0..if cfg!(miri) { 300 } else { 3000 } {
        let k = rng.gen_range(0..2);
        let pool = &kids[k];
        match rng.gen_range(0..4) {
            0 => {
                let size = rng.gen_range(0..5000);
                let id = pool.add(Res { size, drops: Arc::clone(&drops) });
                res[k].push((id, size));
            }
            1 if !res[k].is_empty() => {
                let (id, size) = res[k].swap_remove(rng.gen_range(0..res[k].len()));
                let r = pool.take::<Res>(id).expect("resource present");
                assert_eq!(r.size, size);
                assert!(pool.remove(id).is_none(), "removed twice");
            }
            2 => blocks[k].push(pool.alloc_block(rng.gen_range(0..3000))),
            _ if !blocks[k].is_empty() => drop(blocks[k].swap_remove(rng.gen_range(0..blocks[k].len()))),
            _ => {}
        }
        assert_eq!(pool.memsize(), expect(&res[k], &blocks[k]));
    }
    let want = Pool::OVERHEAD + expect(&res[0], &blocks[0]) + expect(&res[1], &blocks[1]);
    assert_eq!(root.subtree_memsize(), want);
    let report = root.report();
    assert_eq!(report.find("Protocols").expect("category").subtree, expect(&res[0], &blocks[0]));
    assert_eq!(report.children.len(), 2);
    assert!(root.dump().contains("pool \"Route attributes\""));
    assert_eq!(kids[0].resource_count(), res[0].len());

    let live = res[0].len() + res[1].len();
    let dropped_before = drops.load(Ordering::SeqCst);
    drop(blocks);
    drop(kids);
    assert_eq!(drops.load(Ordering::SeqCst), dropped_before + live, "every remaining resource freed");
    assert_eq!(root.subtree_memsize(), Pool::OVERHEAD, "children detached when dropped");
}

#[test]
fn dropping_a_pool_frees_its_subtree() {
    let bird = dom("the_bird", LevelId::TheBird);
    let proto = dom("bgp1", LevelId::Proto);
    let table = dom("master4", LevelId::Rtable);
    let drops = Arc::new(AtomicUsize::new(0));
    let r = || Res { size: 1, drops: Arc::clone(&drops) };
    let _g = bird.lock();
    let _p = proto.lock();
    let _t = table.lock();
    let root = Pool::root("root", bird.handle());
    let child = root.child("bgp1", proto.handle());
    let grandchild = child.child("bgp1 table", table.handle());
    root.add(r());
    child.add(r());
    child.add(r());
    grandchild.add(r());
    let kept = child.alloc_block(100);
    drop(root);
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    assert!(!child.is_alive() && !grandchild.is_alive());
    // Blocks are owned by the caller and survive; dropping handles of freed pools is harmless.
    assert_eq!(kept.len(), 100);
    drop(kept);
    drop(grandchild);
    drop(child);
    assert_eq!(drops.load(Ordering::SeqCst), 4);
}

#[test]
#[should_panic(expected = "used after being freed with its parent")]
fn freed_child_cannot_be_used() {
    let bird = dom("the_bird", LevelId::TheBird);
    let _g = bird.lock();
    let root = Pool::root("root", bird.handle());
    let child = root.child("c", bird.handle());
    drop(root);
    child.alloc_block(1);
}

#[test]
#[should_panic(
    expected = "pool \"root\": adding a resource without holding its domain \"the_bird\" (the_bird)"
)]
fn add_without_domain_panics() {
    let bird = dom("the_bird", LevelId::TheBird);
    let root = Pool::root("root", bird.handle());
    root.add(Res { size: 1, drops: Arc::default() });
}

#[test]
#[should_panic(expected = "allocating a block without holding its domain")]
fn block_without_domain_panics() {
    let bird = dom("the_bird", LevelId::TheBird);
    let root = Pool::root("root", bird.handle());
    let _b = root.alloc_block(10);
}

#[test]
fn remove_needs_the_domain_too() {
    let bird = dom("the_bird", LevelId::TheBird);
    let root = Pool::root("root", bird.handle());
    let id = {
        let _g = bird.lock();
        root.add(Res { size: 1, drops: Arc::default() })
    };
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| root.remove(id)));
    assert!(res.is_err(), "remove without the domain must panic");
    let _g = bird.lock();
    assert!(root.remove(id).is_some());
    drop(root);
}

#[test]
#[should_panic(expected = "level meta is before proto")]
fn child_on_earlier_level_panics() {
    let proto = dom("ospf1", LevelId::Proto);
    let meta = dom("thread 1", LevelId::Meta);
    let _p = proto.lock();
    let parent = Pool::root("ospf1", proto.handle());
    let _child = parent.child("bad", meta.handle());
}

#[test]
#[should_panic(
    expected = "pool \"p2\" on domain \"bgp2\" (proto) cannot be a child of pool \"p1\" on domain \"bgp1\" (proto): another domain of the same level"
)]
fn child_on_other_domain_of_same_level_panics() {
    let a = dom("bgp1", LevelId::Proto);
    let b = dom("bgp2", LevelId::Proto);
    let _a = a.lock();
    let parent = Pool::root("p1", a.handle());
    let _child = parent.child("p2", b.handle());
}
