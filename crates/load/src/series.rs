//! Per-interval aggregates over the run (throughput, errors, a coarse latency
//! histogram per interval for the heatmap), in bounded memory: past
//! [`MAX_INTERVALS`] intervals, neighbours merge and the interval doubles, so an
//! hour-long run costs the same as a five-minute one.

use serde::Serialize;

/// Most intervals kept; the interval doubles when a run outgrows them.
pub const MAX_INTERVALS: usize = 1024;
/// Number of latency buckets per interval: half-octaves from 1 µs up to ~16.8 s.
pub const LATENCY_BUCKETS: usize = 48;

/// Lower bound in µs of latency bucket `index` (bucket 0 also holds 0 µs).
pub fn bucket_lower_us(index: usize) -> f64 {
    2f64.powf(index as f64 / 2.0)
}

/// The heatmap bucket of a latency in µs.
pub fn bucket_of(latency_us: u64) -> usize {
    if latency_us <= 1 {
        return 0;
    }
    let index = (2.0 * (latency_us as f64).log2()).floor() as usize;
    index.min(LATENCY_BUCKETS - 1)
}

/// One interval's aggregate.
#[derive(Debug, Clone, Serialize)]
pub struct Interval {
    /// Responses completed in the interval (any status).
    pub responses: u64,
    /// Requests that failed (connect, timeout, reset, other) in the interval.
    pub errors: u64,
    /// Largest corrected latency in the interval, µs.
    pub max_us: u64,
    /// Corrected-latency counts per half-octave bucket (see [`bucket_lower_us`]).
    pub latency_buckets: Vec<u32>,
}

impl Default for Interval {
    fn default() -> Self {
        Interval {
            responses: 0,
            errors: 0,
            max_us: 0,
            latency_buckets: vec![0; LATENCY_BUCKETS],
        }
    }
}

impl Interval {
    fn merge(&mut self, other: &Interval) {
        self.responses += other.responses;
        self.errors += other.errors;
        self.max_us = self.max_us.max(other.max_us);
        for (a, b) in self.latency_buckets.iter_mut().zip(&other.latency_buckets) {
            *a = a.saturating_add(*b);
        }
    }
}

/// The run's time series.
#[derive(Debug, Clone, Serialize)]
pub struct TimeSeries {
    /// Length of one interval in milliseconds (1000 until the run outgrows [`MAX_INTERVALS`]).
    pub interval_ms: u64,
    /// Intervals from the start of the run.
    pub intervals: Vec<Interval>,
}

impl Default for TimeSeries {
    fn default() -> Self {
        TimeSeries {
            interval_ms: 1000,
            intervals: Vec::new(),
        }
    }
}

impl TimeSeries {
    fn slot(&mut self, elapsed_ms: u64) -> &mut Interval {
        let mut index = (elapsed_ms / self.interval_ms) as usize;
        while index >= MAX_INTERVALS {
            self.coarsen();
            index = (elapsed_ms / self.interval_ms) as usize;
        }
        if self.intervals.len() <= index {
            self.intervals.resize_with(index + 1, Interval::default);
        }
        &mut self.intervals[index]
    }

    /// Doubles the interval, merging neighbours.
    fn coarsen(&mut self) {
        let old = std::mem::take(&mut self.intervals);
        self.intervals = old
            .chunks(2)
            .map(|pair| {
                let mut merged = pair[0].clone();
                if let Some(second) = pair.get(1) {
                    merged.merge(second);
                }
                merged
            })
            .collect();
        self.interval_ms *= 2;
    }

    /// Counts a response completed `elapsed_ms` into the run.
    pub fn record_response(&mut self, elapsed_ms: u64, corrected_us: u64) {
        let slot = self.slot(elapsed_ms);
        slot.responses += 1;
        slot.max_us = slot.max_us.max(corrected_us);
        let bucket = &mut slot.latency_buckets[bucket_of(corrected_us)];
        *bucket = bucket.saturating_add(1);
    }

    /// Counts a failed request.
    pub fn record_error(&mut self, elapsed_ms: u64) {
        self.slot(elapsed_ms).errors += 1;
    }

    /// Adds another series (another thread's) into this one.
    pub fn merge(&mut self, other: &TimeSeries) {
        let mut other = other.clone();
        while other.interval_ms < self.interval_ms {
            other.coarsen();
        }
        while self.interval_ms < other.interval_ms {
            self.coarsen();
        }
        if self.intervals.len() < other.intervals.len() {
            self.intervals
                .resize_with(other.intervals.len(), Interval::default);
        }
        for (mine, theirs) in self.intervals.iter_mut().zip(&other.intervals) {
            mine.merge(theirs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_half_octaves() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(1000), 19); // 2^9.5 = 724 ≤ 1000 < 1024
        assert_eq!(bucket_of(1024), 20);
        assert_eq!(bucket_of(u64::MAX), LATENCY_BUCKETS - 1);
        assert!(bucket_lower_us(20) <= 1024.0 && 1024.0 < bucket_lower_us(21));
    }

    #[test]
    fn long_runs_coarsen_instead_of_growing() {
        let mut series = TimeSeries::default();
        for second in 0..(3 * MAX_INTERVALS as u64) {
            series.record_response(second * 1000, 100);
        }
        assert!(series.intervals.len() <= MAX_INTERVALS);
        assert_eq!(series.interval_ms, 4000);
        let total: u64 = series.intervals.iter().map(|i| i.responses).sum();
        assert_eq!(total, 3 * MAX_INTERVALS as u64);
    }

    #[test]
    fn merging_aligns_intervals() {
        let mut a = TimeSeries::default();
        a.record_response(500, 10);
        let mut b = TimeSeries::default();
        b.record_response(1500, 10);
        b.record_error(1600);
        a.merge(&b);
        assert_eq!(a.intervals.len(), 2);
        assert_eq!(a.intervals[1].responses, 1);
        assert_eq!(a.intervals[1].errors, 1);
    }
}
