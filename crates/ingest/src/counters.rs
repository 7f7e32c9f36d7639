//! Process-wide ingest counters for `whyslow serve`'s own `/metrics`: spans
//! the receivers stored durably or had refused by the store (counted where
//! every receiver meets the store, `batch::store_durably`), and metric
//! samples accepted and refused per source. Scrapes count themselves; the
//! remote_write, OTLP metrics and span-metrics paths add one
//! [`samples`] call each where they append to the series store.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Where metric samples came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleSource {
    /// Prometheus remote_write (`POST /api/v1/write`).
    RemoteWrite,
    /// OTLP metrics (gRPC and HTTP).
    OtlpMetrics,
    /// Scrapes (`--scrape-config` and serve's own `/metrics`).
    Scrape,
    /// RED and service-graph metrics derived from spans.
    SpanMetrics,
}

impl SampleSource {
    /// Every source, in the order [`snapshot`] lists them.
    pub const ALL: [SampleSource; 4] = [
        Self::RemoteWrite,
        Self::OtlpMetrics,
        Self::Scrape,
        Self::SpanMetrics,
    ];

    /// The `source` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RemoteWrite => "remote_write",
            Self::OtlpMetrics => "otlp_metrics",
            Self::Scrape => "scrape",
            Self::SpanMetrics => "span_metrics",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

struct Counters {
    spans_stored: AtomicU64,
    spans_refused: AtomicU64,
    samples_accepted: [AtomicU64; 4],
    samples_rejected: [AtomicU64; 4],
}

static COUNTERS: Counters = Counters {
    spans_stored: AtomicU64::new(0),
    spans_refused: AtomicU64::new(0),
    samples_accepted: [const { AtomicU64::new(0) }; 4],
    samples_rejected: [const { AtomicU64::new(0) }; 4],
};

/// Counts spans the store acknowledged as durable.
pub fn spans_stored(count: u64) {
    COUNTERS.spans_stored.fetch_add(count, Relaxed);
}

/// Counts spans the store refused (overloaded, or the write failed).
pub fn spans_refused(count: u64) {
    COUNTERS.spans_refused.fetch_add(count, Relaxed);
}

/// Counts samples the series store took and refused from `source`.
pub fn samples(source: SampleSource, accepted: u64, rejected: u64) {
    COUNTERS.samples_accepted[source.index()].fetch_add(accepted, Relaxed);
    COUNTERS.samples_rejected[source.index()].fetch_add(rejected, Relaxed);
}

/// The counters at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestSnapshot {
    /// Spans stored durably since start.
    pub spans_stored: u64,
    /// Spans the store refused since start.
    pub spans_refused: u64,
    /// Per source: (source, samples accepted, samples refused) since start.
    pub samples: Vec<(SampleSource, u64, u64)>,
}

/// Reads every counter.
pub fn snapshot() -> IngestSnapshot {
    IngestSnapshot {
        spans_stored: COUNTERS.spans_stored.load(Relaxed),
        spans_refused: COUNTERS.spans_refused.load(Relaxed),
        samples: SampleSource::ALL
            .iter()
            .map(|&s| {
                (
                    s,
                    COUNTERS.samples_accepted[s.index()].load(Relaxed),
                    COUNTERS.samples_rejected[s.index()].load(Relaxed),
                )
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_per_source() {
        let before = snapshot();
        samples(SampleSource::RemoteWrite, 5, 1);
        spans_stored(3);
        let after = snapshot();
        assert!(after.spans_stored >= before.spans_stored + 3);
        let (source, accepted, rejected) = after.samples[0];
        assert_eq!(source, SampleSource::RemoteWrite);
        assert!(accepted >= before.samples[0].1 + 5 && rejected > before.samples[0].2);
    }
}
