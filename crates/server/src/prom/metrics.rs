//! Counters of PromQL queries served (`/api/v1/query`, `/api/v1/query_range`):
//! how many, how many failed, and a fixed-bucket latency histogram. Atomics
//! only, so handlers update them without locks; `serve`'s `/metrics` reads a
//! [`QueryMetricsSnapshot`] and renders it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, seconds (`+Inf` is implied).
pub const LATENCY_BUCKETS_S: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0,
];

/// Which endpoint a query came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// `/api/v1/query`.
    Instant,
    /// `/api/v1/query_range`.
    Range,
}

/// Live counters (shared through `Arc` in the app state).
#[derive(Debug, Default)]
pub struct QueryMetrics {
    instant: AtomicU64,
    range: AtomicU64,
    failed: AtomicU64,
    /// Per bucket (not cumulative), the last one is `+Inf`.
    buckets: [AtomicU64; LATENCY_BUCKETS_S.len() + 1],
    latency_sum_ns: AtomicU64,
}

/// A consistent-enough copy of the counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryMetricsSnapshot {
    /// Instant queries served (failed ones included).
    pub instant_queries: u64,
    /// Range queries served (failed ones included).
    pub range_queries: u64,
    /// Queries answered with an error.
    pub failed_queries: u64,
    /// Cumulative counts per bound of [`LATENCY_BUCKETS_S`], then `+Inf`
    /// (Prometheus histogram `_bucket` values).
    pub latency_cumulative: Vec<u64>,
    /// Sum of latencies, seconds.
    pub latency_sum_s: f64,
}

impl QueryMetrics {
    /// Records one query.
    pub fn observe(&self, kind: QueryKind, latency: Duration, ok: bool) {
        match kind {
            QueryKind::Instant => &self.instant,
            QueryKind::Range => &self.range,
        }
        .fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        let seconds = latency.as_secs_f64();
        let bucket = LATENCY_BUCKETS_S
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(LATENCY_BUCKETS_S.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.latency_sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> QueryMetricsSnapshot {
        let mut running = 0;
        let latency_cumulative = self
            .buckets
            .iter()
            .map(|b| {
                running += b.load(Ordering::Relaxed);
                running
            })
            .collect();
        QueryMetricsSnapshot {
            instant_queries: self.instant.load(Ordering::Relaxed),
            range_queries: self.range.load(Ordering::Relaxed),
            failed_queries: self.failed.load(Ordering::Relaxed),
            latency_cumulative,
            latency_sum_s: self.latency_sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_counters_and_buckets() {
        let metrics = QueryMetrics::default();
        metrics.observe(QueryKind::Instant, Duration::from_millis(3), true);
        metrics.observe(QueryKind::Range, Duration::from_millis(300), false);
        metrics.observe(QueryKind::Range, Duration::from_secs(100), true);
        let snap = metrics.snapshot();
        assert_eq!(
            (
                snap.instant_queries,
                snap.range_queries,
                snap.failed_queries
            ),
            (1, 2, 1)
        );
        assert_eq!(snap.latency_cumulative.len(), LATENCY_BUCKETS_S.len() + 1);
        assert_eq!(snap.latency_cumulative[0], 0); // <= 1 ms
        assert_eq!(snap.latency_cumulative[1], 1); // <= 5 ms
        assert_eq!(snap.latency_cumulative[7], 2); // <= 500 ms
        assert_eq!(snap.latency_cumulative[11], 2); // <= 60 s
        assert_eq!(snap.latency_cumulative[12], 3); // +Inf
        assert!((snap.latency_sum_s - 100.303).abs() < 1e-9);
    }
}
