//! A streaming 64-bit checksum for the header and log entries: FNV-1a over
//! the bytes, then the splitmix64 finaliser so nearby inputs spread.
//!
//! It detects torn and damaged entries, not adversaries: what the
//! transaction trusts is ordered by fences, not by the checksum being
//! unforgeable.

/// A checksum being computed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Checksum(u64);

impl Checksum {
    /// An empty checksum.
    pub(crate) const fn new() -> Checksum {
        Checksum(0xcbf2_9ce4_8422_2325)
    }

    /// Adds `bytes`.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// The sum of everything added.
    pub(crate) fn finish(self) -> u64 {
        let mut h = self.0;
        h ^= h >> 30;
        h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h ^= h >> 27;
        h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^ (h >> 31)
    }
}

/// The checksum of `bytes`.
pub(crate) fn checksum(bytes: &[u8]) -> u64 {
    let mut c = Checksum::new();
    c.update(bytes);
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::{Checksum, checksum};

    #[test]
    fn streaming_equals_one_shot_and_single_flips_change_the_sum() {
        let data: [u8; 100] = core::array::from_fn(|i| (i * 7) as u8);
        let mut c = Checksum::new();
        c.update(&data[..33]);
        c.update(&data[33..]);
        assert_eq!(c.finish(), checksum(&data));
        let base = checksum(&data);
        for i in 0..data.len() {
            for bit in 0..8 {
                let mut d = data;
                d[i] ^= 1 << bit;
                assert_ne!(checksum(&d), base, "flip of byte {i} bit {bit}");
            }
        }
    }
}
