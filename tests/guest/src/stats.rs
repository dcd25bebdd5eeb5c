//! Summaries of repeated measurements, as `cargo xtask bench` prints them.

use alloc::string::String;
use core::fmt::Write;

/// Median and spread of a set of samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The median (the upper one for an even count).
    pub median: u64,
    /// 10th percentile.
    pub p10: u64,
    /// 90th percentile.
    pub p90: u64,
    /// How many samples.
    pub runs: usize,
}

impl Summary {
    /// Summarises `samples` (sorted in place); `None` when empty.
    pub fn of(samples: &mut [u64]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let at = |q: usize| samples[(samples.len() - 1) * q / 100];
        Some(Summary {
            median: samples[samples.len() / 2],
            p10: at(10),
            p90: at(90),
            runs: samples.len(),
        })
    }

    /// The line `cargo xtask bench` reads:
    /// `bench: <name>: median <m> <unit>, p10 <a>, p90 <b>, runs <n>`.
    pub fn line(&self, name: &str, unit: &str) -> String {
        let mut line = String::new();
        let _ = write!(
            line,
            "bench: {name}: median {} {unit}, p10 {}, p90 {}, runs {}",
            self.median, self.p10, self.p90, self.runs
        );
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_known_samples() {
        let mut s: alloc::vec::Vec<u64> = (1..=100).rev().collect();
        let sum = Summary::of(&mut s).unwrap();
        assert_eq!((sum.median, sum.p10, sum.p90, sum.runs), (51, 10, 90, 100));
        assert_eq!(Summary::of(&mut []), None);
        assert_eq!(Summary::of(&mut [7]).unwrap().median, 7);
        assert_eq!(
            sum.line("null syscall", "cycles"),
            "bench: null syscall: median 51 cycles, p10 10, p90 90, runs 100"
        );
    }
}
