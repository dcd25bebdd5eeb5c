//! Host benchmark: a dependent pointer chase over 1 Mi shuffled nodes, four
//! ways, in one run — a raw pointer, an intra-object `InvPtr`, a
//! cross-object `InvPtr` through a hot FOT cache, and a PMDK-style
//! `PMEMoid` translation (pool-UUID lookup in a small hash map, then base +
//! offset).
//!
//! Every variant follows the same single cycle through the nodes, so each
//! hop depends on the last and misses the caches the same way. Prints one
//! `bench:` line per variant (ns per hop; the lead's `cargo xtask bench`
//! parses them) and the ratios to the raw pointer on stderr. Figures only:
//! nothing is asserted.
//!
//! Run: `cargo run --release -p objects --features bench --bin objects-bench`.

use std::hint::black_box;
use std::time::Instant;

use objects::host::HeapMapper;
use objects::{InvPtr, Invariant, ObjId, Object, Perms, Ref, Space};
use protocols::object::{ObjFlags, ObjHeader};

/// Nodes in the main chain (16 MiB of nodes: past the caches, so every
/// hop is a memory access).
const NODES: usize = 1 << 20;
/// Nodes in the small chain (256 KiB: cache resident, so the figures show
/// the translation's own instructions).
const SMALL: usize = 1 << 14;
/// Hops per run, whatever the chain's length.
const HOPS: usize = 1 << 20;
/// Objects (and PMDK pools) the cross-object chain spreads over.
const OBJECTS: usize = 4;
/// Timed runs per variant (after one warm-up run each).
const RUNS: usize = 21;

/// A node holding an invariant pointer: 16 bytes, like `RawNode`.
#[derive(Clone, Copy)]
#[repr(C)]
struct Node {
    next: InvPtr<Node>,
    value: u64,
}
// SAFETY: two `Invariant` words, no padding, no address.
unsafe impl Invariant for Node {}

/// A node holding a virtual address.
#[repr(C)]
struct RawNode {
    next: *const RawNode,
    value: u64,
}

/// PMDK's persistent pointer: pool UUID (low half) and offset.
#[derive(Clone, Copy)]
#[repr(C)]
struct PmemOid {
    pool_uuid_lo: u64,
    off: u64,
}

/// A node holding a `PmemOid`: 24 bytes, as in PMDK.
#[derive(Clone, Copy)]
#[repr(C)]
struct PNode {
    next: PmemOid,
    value: u64,
}

/// A single random cycle through `n` nodes (Sattolo's algorithm):
/// `next[i]` follows node `i`.
fn cycle(n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..n).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let j = (x % i as u64) as usize;
        order.swap(i, j);
    }
    let mut next = vec![0; n];
    for w in 0..n {
        next[order[w]] = order[(w + 1) % n];
    }
    next
}

/// Times `runs` runs of `f` (which does `HOPS` hops) after one warm-up;
/// returns ns per hop for each.
fn time(runs: usize, mut f: impl FnMut() -> u64) -> Vec<f64> {
    black_box(f());
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed().as_nanos() as f64 / HOPS as f64
        })
        .collect()
}

fn report(name: &str, mut ns: Vec<f64>) -> f64 {
    ns.sort_by(f64::total_cmp);
    let q = |p: f64| ns[((ns.len() - 1) as f64 * p).round() as usize];
    println!(
        "bench: {name}: median {:.2} ns/hop, p10 {:.2}, p90 {:.2}, runs {}",
        q(0.5),
        q(0.1),
        q(0.9),
        ns.len()
    );
    q(0.5)
}

fn raw_chase(next: &[usize]) -> Vec<f64> {
    let mut nodes: Vec<RawNode> = (0..next.len())
        .map(|i| RawNode {
            next: std::ptr::null(),
            value: i as u64,
        })
        .collect();
    let base = nodes.as_ptr();
    for (i, n) in nodes.iter_mut().enumerate() {
        // SAFETY: `next[i] < nodes.len()`, inside the vector.
        n.next = unsafe { base.add(next[i]) };
    }
    time(RUNS, || {
        let mut p: *const RawNode = black_box(base);
        let mut sum = 0;
        for _ in 0..HOPS {
            // SAFETY: every `next` points at a node of `nodes`, alive here.
            let n = unsafe { &*p };
            sum += n.value;
            p = n.next;
        }
        sum
    })
}

/// Builds the chain in `objs` (node `i` in object `i % objs.len()`) and
/// times following it with `InvPtr::resolve`.
fn invptr_chase(next: &[usize], objs: usize) -> Vec<f64> {
    let mapper = HeapMapper::new(0);
    let ids: Vec<ObjId> = (0..objs)
        .map(|i| ObjId::from_u128(0xbe_0000 + i as u128))
        .collect();
    for &id in &ids {
        mapper.create(
            id,
            &ObjHeader::new(1, ObjId::NIL, Perms::READ, ObjFlags::EMPTY),
        );
    }
    let space = Space::new(mapper);
    let handles: Vec<Object<u64>> = ids
        .iter()
        .map(|&id| space.open(id, Perms::READ | Perms::WRITE).unwrap())
        .collect();
    let nodes: Vec<Ref<'_, Node>> = (0..next.len())
        .map(|i| {
            handles[i % objs]
                .alloc(Node {
                    next: InvPtr::null(),
                    value: i as u64,
                })
                .unwrap()
        })
        .collect();
    for (i, n) in nodes.iter().enumerate() {
        let p = n.holder().ptr_to(&nodes[next[i]]).unwrap();
        n.write(Node {
            next: p,
            value: i as u64,
        })
        .unwrap();
    }
    let start = nodes[0];
    drop(nodes);
    time(RUNS, || {
        let mut r = black_box(start);
        let mut sum = 0;
        for _ in 0..HOPS {
            let n = r.read();
            sum += n.value;
            r = n.next.resolve(&r).expect("the chain resolves");
        }
        sum
    })
}

/// A small open-addressing hash map from pool UUID to base address, as
/// PMDK keeps its open pools.
struct Pools {
    keys: [u64; 16],
    bases: [usize; 16],
}

impl Pools {
    fn slot(uuid: u64) -> usize {
        (uuid.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 60) as usize
    }
    fn insert(&mut self, uuid: u64, base: usize) {
        let mut i = Self::slot(uuid);
        while self.keys[i] != 0 {
            i = (i + 1) % 16;
        }
        self.keys[i] = uuid;
        self.bases[i] = base;
    }
    #[inline]
    fn get(&self, uuid: u64) -> Option<usize> {
        let mut i = Self::slot(uuid);
        loop {
            match self.keys[i] {
                0 => return None,
                k if k == uuid => return Some(self.bases[i]),
                _ => i = (i + 1) % 16,
            }
        }
    }
    /// `pmemobj_direct`: null check, pool lookup, base + offset.
    #[inline]
    fn direct(&self, oid: PmemOid) -> *const PNode {
        if oid.off == 0 || oid.pool_uuid_lo == 0 {
            return std::ptr::null();
        }
        match self.get(oid.pool_uuid_lo) {
            Some(base) => (base + oid.off as usize) as *const PNode,
            None => std::ptr::null(),
        }
    }
}

fn pmdk_chase(next: &[usize]) -> Vec<f64> {
    let n = next.len();
    let per_pool = n.div_ceil(OBJECTS);
    let header = 64; // offset 0 stays the null offset
    let mut pools: Vec<Vec<PNode>> = (0..OBJECTS)
        .map(|_| Vec::with_capacity(per_pool + header))
        .collect();
    let uuid = |p: usize| 0x5eed_0000_0000_0001u64.wrapping_mul(p as u64 + 1);
    let off = |i: usize| ((i / OBJECTS + header) * std::mem::size_of::<PNode>()) as u64;
    for pool in pools.iter_mut() {
        pool.resize(
            per_pool + header,
            PNode {
                next: PmemOid {
                    pool_uuid_lo: 0,
                    off: 0,
                },
                value: 0,
            },
        );
    }
    for (i, &j) in next.iter().enumerate() {
        pools[i % OBJECTS][i / OBJECTS + header] = PNode {
            next: PmemOid {
                pool_uuid_lo: uuid(j % OBJECTS),
                off: off(j),
            },
            value: i as u64,
        };
    }
    let mut map = Pools {
        keys: [0; 16],
        bases: [0; 16],
    };
    for (p, pool) in pools.iter().enumerate() {
        map.insert(uuid(p), pool.as_ptr() as usize);
    }
    let start = PmemOid {
        pool_uuid_lo: uuid(0),
        off: off(0),
    };
    time(RUNS, || {
        let mut oid = black_box(start);
        let mut sum = 0;
        for _ in 0..HOPS {
            let p = map.direct(oid);
            assert!(!p.is_null());
            // SAFETY: every oid names a node inside its pool, alive here.
            let n = unsafe { &*p };
            sum += n.value;
            oid = n.next;
        }
        sum
    })
}

fn main() {
    for (nodes, tag) in [(NODES, ""), (SMALL, " cache-resident")] {
        let next = cycle(nodes);
        let raw = report(&format!("chase raw pointer{tag}"), raw_chase(&next));
        let intra = report(
            &format!("chase invptr intra-object{tag}"),
            invptr_chase(&next, 1),
        );
        let cross = report(
            &format!("chase invptr cross-object hot FOT cache{tag}"),
            invptr_chase(&next, OBJECTS),
        );
        let pmdk = report(
            &format!("chase pmdk-style oid lookup{tag}"),
            pmdk_chase(&next),
        );
        eprintln!(
            "objects-bench: {nodes} nodes, {HOPS} hops, {OBJECTS} objects; ratio to raw: intra {:.2}x, cross {:.2}x, pmdk {:.2}x",
            intra / raw,
            cross / raw,
            pmdk / raw
        );
    }
}
