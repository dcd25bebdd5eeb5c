//! Power-cut campaigns: many boots on one persistent-memory file, the power
//! cut (QEMU killed with SIGKILL) at a random moment while a workload runs,
//! and a check that whatever the workload acknowledged before each cut is
//! there after the next boot, exactly.
//!
//! The workload program (`pcut`) prints one line per durable operation:
//! `pcut: ack create <id> <len> <fnv>`, `pcut: ack write <id> <len> <fnv>`,
//! `pcut: ack delete <id>`. Every boot first dumps the store
//! (`pcut: object <id> <len> <fnv>` …, `pcut: dump done <n>`) and runs
//! `fsck`, then starts the workload. The check replays each boot's
//! acknowledgements over the previous dump and compares with the next one.
//! The workload is single-threaded, so at a cut at most one operation was in
//! flight: at most one object may differ from the replay (created but not
//! yet acknowledged, deleted but not yet acknowledged, or being rewritten).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::scenario::{Exit, Outcome};

/// One campaign.
#[derive(Clone, Debug)]
pub struct Campaign {
    /// Unique name, printed by the harness.
    pub name: &'static str,
    /// Size of the NVDIMM (fresh and zeroed at the start).
    pub pmem_size: u64,
    /// How many power cuts; one more clean boot follows the last.
    pub cuts: usize,
    /// What a cut boot types at the shell (`{seed}` is replaced per boot).
    pub work_script: &'static str,
    /// The line after which the cut may fall.
    pub ready_marker: &'static str,
    /// The cut falls uniformly in this window after the marker appears.
    pub cut_window: (Duration, Duration),
    /// What the final, clean boot types.
    pub final_script: &'static str,
    /// How long one boot may take.
    pub boot_timeout: Duration,
    /// What must hold over every boot's outcome ([`check`] for `pcut`
    /// workloads).
    pub check: fn(&[Outcome]) -> Result<(), String>,
}

/// An object as a dump or an acknowledgement describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Content {
    /// Byte length.
    pub len: u64,
    /// FNV-1a 64 of the bytes.
    pub fnv: u64,
}

/// One acknowledged operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ack {
    /// Created (or wholly rewritten) with this content.
    Put(String, Content),
    /// Deleted.
    Delete(String),
}

/// The acknowledgements a boot printed, in order. A last line the power
/// cut interrupted (no newline) is not counted: the operation may be
/// durable, but its acknowledgement never fully reached the console.
pub fn acks(console: &str) -> Vec<Ack> {
    acks_of(console, "pcut")
}

/// [`acks`] of workload `prefix` (`pcut`, `ptx`).
pub fn acks_of(console: &str, prefix: &str) -> Vec<Ack> {
    let complete = &console[..console.rfind('\n').map_or(0, |end| end + 1)];
    let marker = format!("{prefix}: ack ");
    complete
        .lines()
        .filter_map(|l| {
            let rest = &l[l.find(&marker)? + marker.len()..];
            let words: Vec<&str> = rest.split_whitespace().collect();
            match words.as_slice() {
                ["create" | "write", id, len, fnv] => {
                    Some(Ack::Put(id.to_string(), content(len, fnv)?))
                }
                ["delete", id] => Some(Ack::Delete(id.to_string())),
                _ => None,
            }
        })
        .collect()
}

fn content(len: &str, fnv: &str) -> Option<Content> {
    Some(Content {
        len: len.parse().ok()?,
        fnv: u64::from_str_radix(fnv, 16).ok()?,
    })
}

/// The store's contents as a boot's dump printed them; `Err` when the dump
/// is missing or its count disagrees with its lines.
pub fn dump(console: &str) -> Result<BTreeMap<String, Content>, String> {
    dump_of(console, "pcut")
}

/// [`dump`] of workload `prefix`; a `<prefix>: damaged` line (the
/// workload found a record or structure broken) is an error too.
pub fn dump_of(console: &str, prefix: &str) -> Result<BTreeMap<String, Content>, String> {
    if let Some(damaged) = crate::console::line(console, &format!("{prefix}: damaged")) {
        return Err(format!("the workload found damage: {damaged:?}"));
    }
    let object = format!("{prefix}: object ");
    let mut objects = BTreeMap::new();
    for line in console.lines() {
        let Some(at) = line.find(&object) else {
            continue;
        };
        let words: Vec<&str> = line[at + object.len()..].split_whitespace().collect();
        let [id, len, fnv] = words.as_slice() else {
            return Err(format!("malformed dump line {line:?}"));
        };
        let c = content(len, fnv).ok_or_else(|| format!("malformed dump line {line:?}"))?;
        if objects.insert(id.to_string(), c).is_some() {
            return Err(format!("object {id} listed twice"));
        }
    }
    let done_marker = format!("{prefix}: dump done ");
    let done = crate::console::line(console, &done_marker)
        .ok_or_else(|| format!("no `{done_marker}` line: the dump did not finish"))?;
    let count = crate::console::number_after(done, &done_marker).ok_or("malformed dump count")?;
    if count != objects.len() as u64 {
        return Err(format!(
            "dump says {count} objects but listed {}",
            objects.len()
        ));
    }
    Ok(objects)
}

/// Checks every boot of a campaign: each dump against the previous dump
/// with that boot's acknowledgements applied, `fsck: clean` every time, the
/// planned exits, and that the workload made progress.
pub fn check(outcomes: &[Outcome]) -> Result<(), String> {
    check_with(outcomes, "pcut")
}

/// [`check`] for the `ptx` (durable transactions) workload.
pub fn check_ptx(outcomes: &[Outcome]) -> Result<(), String> {
    check_with(outcomes, "ptx")
}

/// [`check`] for the `pmix` workload (files, transactions and names).
pub fn check_pmix(outcomes: &[Outcome]) -> Result<(), String> {
    check_with(outcomes, "pmix")
}

/// [`check`] for workload `prefix`, whose lines follow `pcut`'s format.
pub fn check_with(outcomes: &[Outcome], prefix: &str) -> Result<(), String> {
    let (last, cuts) = outcomes.split_last().ok_or("no boots")?;
    let mut expected: BTreeMap<String, Content> = BTreeMap::new();
    let mut total_acks = 0;
    for (i, out) in outcomes.iter().enumerate() {
        let boot = format!("boot {i}");
        if !out.console.lines().any(|l| l.trim_end() == "fsck: clean") {
            let found = crate::console::line(&out.console, "fsck: ").unwrap_or("no fsck output");
            return Err(format!("{boot}: store not clean after recovery: {found}"));
        }
        let seen = dump_of(&out.console, prefix).map_err(|e| format!("{boot}: {e}"))?;
        let differing: Vec<&String> = expected
            .keys()
            .chain(seen.keys())
            .filter(|id| expected.get(*id) != seen.get(*id))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        // The first boot starts fresh: nothing may differ. After a cut, the
        // one operation in flight may have happened or not.
        let allowed = usize::from(i > 0);
        if differing.len() > allowed {
            let detail: Vec<String> = differing
                .iter()
                .take(4)
                .map(|id| {
                    format!(
                        "{id}: expected {:?}, found {:?}",
                        expected.get(*id),
                        seen.get(*id)
                    )
                })
                .collect();
            return Err(format!(
                "{boot}: {} objects differ from what was acknowledged before the cut (at most {allowed} may):\n  {}",
                differing.len(),
                detail.join("\n  ")
            ));
        }
        expected = seen;
        let acked = acks_of(&out.console, prefix);
        total_acks += acked.len();
        for ack in acked {
            match ack {
                Ack::Put(id, c) => expected.insert(id, c),
                Ack::Delete(id) => expected.remove(&id),
            };
        }
    }
    for (i, out) in cuts.iter().enumerate() {
        if out.exit != Exit::Cut {
            return Err(format!(
                "boot {i} should have been cut but ended {:?}",
                out.exit
            ));
        }
    }
    if !matches!(last.exit, Exit::Guest(crate::scenario::GuestExit::Success)) {
        return Err(format!("the final boot ended {:?}", last.exit));
    }
    if total_acks == 0 {
        return Err("the workload acknowledged nothing in any boot".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::GuestExit;

    fn boot(lines: &[&str], exit: Exit) -> Outcome {
        Outcome {
            console: lines.join("\n") + "\n",
            exit,
            banner_after: None,
        }
    }

    const A: &str = "0000000000000000000000000000000a";
    const B: &str = "0000000000000000000000000000000b";

    fn good() -> Vec<Outcome> {
        vec![
            boot(
                &[
                    "pcut: dump done 0",
                    "fsck: clean",
                    "pcut: working",
                    &format!("pcut: ack create {A} 10 00000000000000aa"),
                    &format!("pcut: ack create {B} 20 00000000000000bb"),
                ],
                Exit::Cut,
            ),
            boot(
                &[
                    &format!("pcut: object {A} 10 00000000000000aa"),
                    &format!("pcut: object {B} 20 00000000000000bb"),
                    "pcut: dump done 2",
                    "fsck: clean",
                    "pcut: working",
                    &format!("pcut: ack delete {A}"),
                ],
                Exit::Cut,
            ),
            boot(
                &[
                    &format!("pcut: object {B} 20 00000000000000bb"),
                    "pcut: dump done 1",
                    "fsck: clean",
                ],
                Exit::Guest(GuestExit::Success),
            ),
        ]
    }

    #[test]
    fn a_faithful_campaign_passes() {
        assert_eq!(check(&good()), Ok(()));
    }

    /// `good()` as the `ptx` workload prints it.
    fn good_ptx() -> Vec<Outcome> {
        good()
            .into_iter()
            .map(|mut o| {
                o.console = o
                    .console
                    .replace("pcut: ", "ptx: ")
                    .replace("ack create", "ack write");
                o
            })
            .collect()
    }

    #[test]
    fn the_transaction_workload_is_checked_the_same_way_and_damage_fails_it() {
        assert_eq!(check_ptx(&good_ptx()), Ok(()));
        // The other workload's lines are not this one's.
        assert!(check_ptx(&good()).is_err());
        let mut torn = good_ptx();
        torn[1].console += "ptx: damaged pair 3: record Some(40) bytes, mirror None bytes\n";
        let why = check_ptx(&torn).unwrap_err();
        assert!(why.contains("boot 1") && why.contains("damaged"), "{why}");
    }

    #[test]
    fn one_in_flight_operation_is_tolerated_two_are_not() {
        const C: &str = "0000000000000000000000000000000c";
        let extra = format!("pcut: object {C} 1 0000000000000001\n");
        // A create of C was in flight at the second cut and reached the store.
        let mut runs = good();
        runs[2].console = extra.clone() + &runs[2].console.replace("dump done 1", "dump done 2");
        assert_eq!(check(&runs), Ok(()));
        // ... but C present *and* the acknowledged B lost: two differences.
        let mut runs = good();
        runs[2].console = extra + "pcut: dump done 1\nfsck: clean\n";
        assert!(check(&runs).unwrap_err().contains("2 objects differ"));
        // The first boot starts from a fresh store: nothing may differ there.
        let mut runs = good();
        runs[0].console = format!("pcut: object {C} 1 0000000000000001\n")
            + &runs[0].console.replace("dump done 0", "dump done 1");
        assert!(check(&runs).is_err());
    }

    #[test]
    fn lost_or_changed_acknowledged_data_fails() {
        let mut runs = good();
        runs[1].console = runs[1]
            .console
            .replace("20 00000000000000bb", "20 00000000000000bc");
        runs[1].console = runs[1]
            .console
            .replace(&format!("pcut: object {A} 10 00000000000000aa\n"), "")
            .replace("dump done 2", "dump done 1");
        assert!(check(&runs).unwrap_err().contains("differ"));
    }

    #[test]
    fn unclean_fsck_wrong_count_and_missing_cut_fail() {
        let mut runs = good();
        runs[1].console = runs[1].console.replace("fsck: clean", "fsck: 1 problems");
        assert!(check(&runs).unwrap_err().contains("not clean"));
        let mut runs = good();
        runs[1].console = runs[1].console.replace("dump done 2", "dump done 3");
        assert!(check(&runs).is_err());
        let mut runs = good();
        runs[0].exit = Exit::Guest(GuestExit::Success);
        assert!(check(&runs).unwrap_err().contains("should have been cut"));
    }

    #[test]
    fn an_acknowledgement_cut_off_mid_line_does_not_count() {
        let text = format!(
            "pcut: ack create {A} 5 0000000000000010\npcut: ack delete {}",
            &A[..30]
        );
        assert_eq!(
            acks(&text),
            vec![Ack::Put(A.into(), Content { len: 5, fnv: 16 })]
        );
    }

    #[test]
    fn parses_acks_and_ignores_noise() {
        let text = format!(
            "\x1b[0mpcut: ack create {A} 5 0000000000000010\npcut: ack delete {A}\npcut: ack bogus\n"
        );
        assert_eq!(
            acks(&text),
            vec![
                Ack::Put(A.into(), Content { len: 5, fnv: 16 }),
                Ack::Delete(A.into())
            ]
        );
    }
}
