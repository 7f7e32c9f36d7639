//! Timestamps of block chunks: delta-of-deltas with runs of zeros
//! run-length coded. Scrapes are regular (Prometheus snaps a timestamp
//! within 2 ms of the expected one onto it), so most delta-of-deltas are 0:
//! a run of `L` zeros costs one Elias-gamma code of `L + 1` (21 bits for a
//! whole 1,024-sample chunk) instead of `L` bits, and a non-zero one is
//! bucketed as in the head's XOR chunks.
//!
//! The stream interleaves with the values: before sample `i` the writer
//! writes, when no run is pending, the length of the zero run starting at
//! `i` (and, if it is empty, `i`'s non-zero delta-of-delta); the sample right
//! after a run is known to be non-zero and is written without a length.

use super::{read_bucketed, write_bucketed, T_BUCKETS};
use crate::tsdb::bits::{BitReader, BitWriter};
use model::metrics::Sample;

/// Writes `x >= 1` as an Elias-gamma code: `n` zeros, then `x` in `n + 1` bits.
pub fn write_gamma(w: &mut BitWriter, x: u64) {
    let n = 63 - x.max(1).leading_zeros();
    w.write(0, n);
    w.write(x.max(1), n + 1);
}

/// Reads an Elias-gamma code.
pub fn read_gamma(r: &mut BitReader<'_>) -> Option<u64> {
    let mut n = 0;
    while !r.bit()? {
        n += 1;
        if n > 63 {
            return None;
        }
    }
    // The leading one is already read.
    let rest = r.read(n)?;
    Some((1u64 << n) | rest)
}

/// Writer side: the chunk's delta-of-deltas, known up front.
pub struct RleTimeWriter {
    dods: Vec<i64>,
    pending: usize,
    after_run: bool,
}

impl RleTimeWriter {
    /// For `samples` (ascending; the first is the chunk's `min_t`).
    pub fn new(samples: &[Sample]) -> Self {
        let mut dods = vec![0; samples.len()];
        let mut delta = 0i64;
        for i in 1..samples.len() {
            let d = samples[i]
                .timestamp_ms
                .wrapping_sub(samples[i - 1].timestamp_ms);
            dods[i] = d.wrapping_sub(delta);
            delta = d;
        }
        Self {
            dods,
            pending: 0,
            after_run: false,
        }
    }

    /// Writes what sample `i >= 1` needs.
    pub fn push(&mut self, w: &mut BitWriter, i: usize) {
        if self.pending > 0 {
            self.pending -= 1;
            return;
        }
        let dod = self.dods[i];
        if self.after_run {
            self.after_run = false;
            write_bucketed(w, dod, &T_BUCKETS, 4);
            return;
        }
        let run = self.dods[i..].iter().take_while(|&&d| d == 0).count();
        write_gamma(w, run as u64 + 1);
        if run == 0 {
            write_bucketed(w, dod, &T_BUCKETS, 4);
        } else {
            self.pending = run - 1;
            self.after_run = true;
        }
    }
}

/// Reader side.
pub struct RleTimeReader {
    /// The newest timestamp.
    pub t: i64,
    delta: i64,
    pending: u64,
    after_run: bool,
}

impl RleTimeReader {
    /// Starting at the chunk's first timestamp.
    pub fn new(min_t: i64) -> Self {
        Self {
            t: min_t,
            delta: 0,
            pending: 0,
            after_run: false,
        }
    }

    /// The next timestamp.
    pub fn next(&mut self, r: &mut BitReader<'_>) -> Option<i64> {
        let dod = if self.pending > 0 {
            self.pending -= 1;
            0
        } else if self.after_run {
            self.after_run = false;
            read_bucketed(r, &T_BUCKETS)?
        } else {
            let run = read_gamma(r)? - 1;
            if run == 0 {
                read_bucketed(r, &T_BUCKETS)?
            } else {
                self.pending = run - 1;
                self.after_run = true;
                0
            }
        };
        self.delta = self.delta.wrapping_add(dod);
        self.t = self.t.wrapping_add(self.delta);
        Some(self.t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_codes_round_trip() {
        let mut w = BitWriter::default();
        let xs = [1u64, 2, 3, 4, 1023, 1024, u64::MAX, 1 << 40];
        for &x in &xs {
            write_gamma(&mut w, x);
        }
        let bytes = w.into_boxed();
        let mut r = BitReader::new(&bytes);
        for &x in &xs {
            assert_eq!(read_gamma(&mut r), Some(x));
        }
        assert_eq!(
            read_gamma(&mut BitReader::new(&[0, 0, 0, 0, 0, 0, 0, 0, 0])),
            None
        );
    }

    fn round_trip(ts: &[i64]) -> usize {
        let samples: Vec<Sample> = ts
            .iter()
            .map(|&timestamp_ms| Sample {
                timestamp_ms,
                value: 0.0,
            })
            .collect();
        let mut w = BitWriter::default();
        let mut enc = RleTimeWriter::new(&samples);
        for i in 1..samples.len() {
            enc.push(&mut w, i);
        }
        let bytes = w.into_boxed();
        let mut r = BitReader::new(&bytes);
        let mut dec = RleTimeReader::new(ts[0]);
        let back: Vec<i64> = std::iter::once(ts[0])
            .chain((1..ts.len()).map(|_| dec.next(&mut r).expect("decodes")))
            .collect();
        assert_eq!(back, ts);
        bytes.len()
    }

    #[test]
    fn runs_of_regular_scrapes_cost_a_few_bytes() {
        let regular: Vec<i64> = (0..1024).map(|i| 1_700_000_000_000 + i * 15_000).collect();
        assert!(round_trip(&regular) <= 8, "{}", round_trip(&regular));
        let mut jittered = regular.clone();
        for i in (7..1024).step_by(50) {
            jittered[i] += 7;
        }
        jittered[1023] += 1;
        round_trip(&jittered);
        let irregular: Vec<i64> = (0..300).map(|i| i * 1000 + (i * i) % 13).collect();
        round_trip(&irregular);
        round_trip(&[5]);
        round_trip(&[5, 6]);
        round_trip(&[i64::MIN, 0, i64::MAX]);
    }
}
