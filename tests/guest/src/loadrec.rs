//! The records `loadgen` writes (`restart/kill-each-server-under-load`)
//! and the check of a POSIX record file read back. Every record is
//! derived from its number alone, so a read-back is checked against what
//! must be there without keeping copies.
//!
//! - POSIX record `K`: [`RECORD_LEN`] bytes at offset `K × RECORD_LEN` of
//!   the record file, `rec KKKKKKKK <fnv>` padded with spaces, ending in a
//!   newline ([`posix_record`]);
//! - name `K`: bound to object ID [`name_target`]`(K)`;
//! - object `K`: [`OBJ_LEN`] bytes, [`object_content`]`(K)`.

use alloc::format;
use alloc::string::String;
use core::fmt;

use protocols::object::ObjId;

use crate::pstore::fnv1a;
use crate::rng::Rng;

/// Bytes per POSIX record.
pub const RECORD_LEN: usize = 48;
/// Bytes in each object.
pub const OBJ_LEN: usize = 256;

/// POSIX record `seq`'s bytes.
pub fn posix_record(seq: u64) -> [u8; RECORD_LEN] {
    let text = format!(
        "rec {seq:08} {:016x}",
        fnv1a(format!("posix record {seq}").as_bytes())
    );
    let mut out = [b' '; RECORD_LEN];
    out[..text.len()].copy_from_slice(text.as_bytes());
    out[RECORD_LEN - 1] = b'\n';
    out
}

/// The object name `seq` is bound to.
pub fn name_target(seq: u64) -> ObjId {
    ObjId::from_u128((0x10ad_9e00_u128 << 96) | (u128::from(seq) << 16) | 0x5eed)
}

/// Object `seq`'s bytes.
pub fn object_content(seq: u64) -> [u8; OBJ_LEN] {
    let mut rng = Rng::new(seq ^ 0x0b1e_c7ed);
    let mut out = [0u8; OBJ_LEN];
    for b in &mut out {
        *b = rng.next_u64() as u8;
    }
    out
}

/// What is wrong with a POSIX record file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The file ends before record `seq`.
    Missing {
        /// The first record missing.
        seq: u64,
        /// The file's length.
        file_len: usize,
    },
    /// Record `seq` holds other bytes.
    Damaged {
        /// The first damaged record.
        seq: u64,
        /// What it holds.
        found: String,
    },
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Missing { seq, file_len } => {
                write!(
                    f,
                    "posix record {seq} missing: the file is {file_len} bytes"
                )
            }
            RecordError::Damaged { seq, found } => {
                write!(f, "posix record {seq} damaged: {found:?}")
            }
        }
    }
}

/// Whether `data` (a record file) holds records `0..acked` intact; if
/// not, the first that is missing or damaged. Bytes past them (a record
/// whose append was not acknowledged yet) do not matter.
pub fn check_posix(data: &[u8], acked: u64) -> Result<(), RecordError> {
    for seq in 0..acked {
        let at = seq as usize * RECORD_LEN;
        match data.get(at..at + RECORD_LEN) {
            None => {
                return Err(RecordError::Missing {
                    seq,
                    file_len: data.len(),
                });
            }
            Some(got) if got != posix_record(seq) => {
                return Err(RecordError::Damaged {
                    seq,
                    found: String::from_utf8_lossy(got).into_owned(),
                });
            }
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn file(records: u64) -> Vec<u8> {
        (0..records).flat_map(posix_record).collect()
    }

    #[test]
    fn records_are_one_line_and_differ() {
        let r = posix_record(7);
        assert!(r.starts_with(b"rec 00000007 "));
        assert_eq!(r.iter().filter(|&&b| b == b'\n').count(), 1);
        assert_eq!(r[RECORD_LEN - 1], b'\n');
        assert_ne!(posix_record(7), posix_record(8));
        assert_ne!(object_content(7), object_content(8));
        assert_ne!(name_target(7), name_target(8));
        assert_ne!(name_target(0), ObjId::NIL);
    }

    #[test]
    fn a_whole_file_passes_and_unacknowledged_tails_do_not_matter() {
        assert_eq!(check_posix(&file(30), 30), Ok(()));
        assert_eq!(check_posix(&file(31), 30), Ok(()));
        assert_eq!(check_posix(&[], 0), Ok(()));
    }

    #[test]
    fn a_short_or_damaged_file_names_the_first_bad_record() {
        let f = file(30);
        assert_eq!(
            check_posix(&f[..29 * RECORD_LEN + 5], 30),
            Err(RecordError::Missing {
                seq: 29,
                file_len: 29 * RECORD_LEN + 5
            })
        );
        let mut holed = f.clone();
        holed[12 * RECORD_LEN..14 * RECORD_LEN].fill(0);
        assert!(matches!(
            check_posix(&holed, 30),
            Err(RecordError::Damaged { seq: 12, .. })
        ));
        let mut swapped = f;
        swapped[..RECORD_LEN].copy_from_slice(&posix_record(1));
        let err = check_posix(&swapped, 30).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "posix record 0 damaged: {:?}",
                String::from_utf8_lossy(&posix_record(1))
            )
        );
    }
}
