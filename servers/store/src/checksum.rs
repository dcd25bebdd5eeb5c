//! The 64-bit checksum of the store's records (superblock, directory
//! entries, log transactions): FNV-1a over the bytes, then a final
//! avalanche (the splitmix64 finaliser) so that nearby inputs spread.
//!
//! It detects torn and damaged records, not adversaries: nothing the store
//! trusts depends on a checksum being unforgeable (commits are ordered by
//! the 8-byte commit word; see the crate docs).

/// Checksum of `parts`, as if concatenated.
pub(crate) fn checksum(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::checksum;

    #[test]
    fn parts_concatenate_and_single_flips_change_the_sum() {
        let data: [u8; 100] = core::array::from_fn(|i| i as u8);
        assert_eq!(checksum(&[&data]), checksum(&[&data[..40], &data[40..]]));
        let base = checksum(&[&data]);
        for i in 0..data.len() {
            for bit in 0..8 {
                let mut d = data;
                d[i] ^= 1 << bit;
                assert_ne!(checksum(&[&d]), base);
            }
        }
    }
}
