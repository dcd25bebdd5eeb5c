//! Power cuts under a persistent-object workload: the host kills QEMU at
//! random moments while `pcut` creates, rewrites and deletes objects
//! through the object store, reboots on the same pmem file each time, and
//! checks (see [`crate::campaign`]) that the store recovers clean and every
//! acknowledged operation survived.
//!
//! The same holds for durable transactions: `ptx` changes pairs of records
//! of a transactional map (`txn::TxMap`) in one persistent object, one
//! transaction per pair, and every boot's dump must show each pair whole
//! and each acknowledged transaction there.
//!
//! `powercut/mixed-50-cuts` (issue 7's campaign) cuts the power 50 times
//! under `pmix`, which acknowledges records made durable three ways at
//! once — files through the POSIX layer, transactions over the map, name
//! bindings in the hierarchical resolver — and after each recovery asks
//! every one of those servers for every record: all acknowledged records
//! present and intact, none half-written, the store's checker clean, and
//! the workload going on.

use std::time::Duration;

use crate::campaign::Campaign;

/// The campaigns.
pub fn campaigns() -> Vec<Campaign> {
    vec![
        Campaign {
            name: "powercut/object-store-20-cuts",
            pmem_size: 64 << 20,
            cuts: 20,
            work_script: "run pcut dump\nfsck\nrun pcut work {seed}\n",
            ready_marker: "pcut: working",
            cut_window: (Duration::from_millis(50), Duration::from_millis(2500)),
            final_script: "run pcut dump\nfsck\npoweroff\n",
            boot_timeout: Duration::from_secs(90),
            check: crate::campaign::check,
        },
        Campaign {
            name: "powercut/transactions-20-cuts",
            pmem_size: 64 << 20,
            cuts: 20,
            work_script: "run ptx dump\nfsck\nrun ptx work {seed}\n",
            ready_marker: "ptx: working",
            cut_window: (Duration::from_millis(50), Duration::from_millis(2500)),
            final_script: "run ptx dump\nfsck\npoweroff\n",
            boot_timeout: Duration::from_secs(90),
            check: crate::campaign::check_ptx,
        },
        Campaign {
            name: "powercut/mixed-50-cuts",
            pmem_size: 128 << 20,
            cuts: 50,
            work_script: "run pmix dump\nfsck\nrun pmix work {seed}\n",
            ready_marker: "pmix: working",
            cut_window: (Duration::from_millis(50), Duration::from_millis(2500)),
            final_script: "run pmix dump\nfsck\npoweroff\n",
            boot_timeout: Duration::from_secs(120),
            check: crate::campaign::check_pmix,
        },
    ]
}
