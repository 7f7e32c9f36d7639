//! Where metric series live: the [`SeriesStore`] trait every backend
//! implements (the embedded TSDB in [`crate::tsdb`] now, ClickHouse later)
//! and the types the PromQL engine and the Prometheus API ask it with.
//!
//! Writes follow the span store's contract: [`SeriesStore::append`] validates
//! at once (out-of-order and duplicate samples and series over the
//! cardinality limits are refused and counted, the rest are taken) and
//! returns a receiver that resolves once the accepted samples are durable.
//! Reads are synchronous; servers call them from `spawn_blocking`.
//!
//! Times are Unix milliseconds, ranges inclusive at both ends, as in
//! Prometheus. A label that is absent reads as the empty string, so
//! `{foo=""}` matches series without `foo`.

mod matcher;
mod memory;

pub use matcher::{MatchOp, Matcher, MatcherError};
pub use memory::MemorySeriesStore;

use crate::{StoreError, WriteAck};
use model::metrics::{Exemplar, Labels, MetricMetadata, Sample, TimeSeries};

/// New samples for several series, plus metric metadata seen with them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeriesBatch {
    /// Series with their new samples (and exemplars), each ascending by time.
    pub series: Vec<TimeSeries>,
    /// Family metadata (type, help, unit); the latest per family wins.
    pub metadata: Vec<MetricMetadata>,
}

impl SeriesBatch {
    /// Number of samples in the batch.
    pub fn sample_count(&self) -> usize {
        self.series.iter().map(|s| s.samples.len()).sum()
    }
}

/// Why samples of a batch were refused. Counts, plus the first message of
/// each kind, naming the series (Prometheus's words where it has them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rejections {
    /// Samples older than the series' newest sample ("out of order sample").
    pub out_of_order: u64,
    /// Samples at the newest sample's timestamp with another value
    /// ("duplicate sample for timestamp"). Same value again is accepted silently.
    pub duplicate: u64,
    /// Samples older than the store accepts (before the head's window, or
    /// outside retention) ("out of bounds").
    pub too_old: u64,
    /// Samples of new series refused by `--max-series`, the per-metric
    /// cardinality limit or the metrics head's memory budget.
    pub over_limit: u64,
    /// One message per kind that occurred, e.g. `out of order sample for
    /// series http_requests_total{job="a"} at 1700000000000`.
    pub messages: Vec<String>,
}

impl Rejections {
    /// Samples refused in total.
    pub fn total(&self) -> u64 {
        self.out_of_order + self.duplicate + self.too_old + self.over_limit
    }

    /// Whether nothing was refused.
    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }
}

/// What [`SeriesStore::append`] took and refused.
#[derive(Debug)]
pub struct Appended {
    /// Resolves `Ok(())` once the accepted samples are durable.
    pub ack: WriteAck,
    /// Samples taken.
    pub accepted_samples: u64,
    /// Samples refused, and why.
    pub rejected: Rejections,
}

/// Samples of the series matching every matcher, in `[start_ms, end_ms]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    /// All must match (a series' absent label reads as "").
    pub matchers: Vec<Matcher>,
    /// First timestamp, inclusive (Unix ms).
    pub start_ms: i64,
    /// Last timestamp, inclusive (Unix ms).
    pub end_ms: i64,
    /// Stop with [`StoreError::TooManySamples`] past this many samples (0 = no limit).
    pub max_samples: u64,
}

/// One series and its samples in the selected range, ascending, staleness
/// markers included (the engine interprets them).
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesData {
    /// The series identity.
    pub labels: Labels,
    /// Samples, ascending by time.
    pub samples: Vec<Sample>,
}

/// Which series a metadata query (series, label names, label values) covers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeriesQuery {
    /// Union of matcher sets (`match[]`); empty means every series.
    pub matcher_sets: Vec<Vec<Matcher>>,
    /// Series with a sample at or after (Unix ms); `i64::MIN` = any.
    pub start_ms: i64,
    /// Series with a sample at or before (Unix ms); `i64::MAX` = any.
    pub end_ms: i64,
    /// Most results (0 = no limit).
    pub limit: usize,
}

impl SeriesQuery {
    /// Every series, any time.
    pub fn all() -> Self {
        Self {
            matcher_sets: Vec::new(),
            start_ms: i64::MIN,
            end_ms: i64::MAX,
            limit: 0,
        }
    }
}

/// Exemplars of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesExemplars {
    /// The series identity.
    pub labels: Labels,
    /// Exemplars in the range, ascending by time.
    pub exemplars: Vec<Exemplar>,
}

/// Sizes and counters for `serve`'s own `/metrics` and the benchmarks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeriesStats {
    /// Series with samples in the head.
    pub active_series: u64,
    /// Samples held in the head.
    pub head_samples: u64,
    /// Bytes the head holds (labels, index, chunks).
    pub head_bytes: u64,
    /// Immutable blocks on disk.
    pub blocks: u64,
    /// Bytes of blocks and WAL on disk.
    pub disk_bytes: u64,
    /// Samples appended since start.
    pub samples_appended: u64,
    /// Samples refused since start (any reason).
    pub samples_rejected: u64,
    /// Series refused by the cardinality limits since start.
    pub series_over_limit: u64,
    /// New series refused since start because the head was at its memory budget.
    pub series_over_budget: u64,
    /// Bytes charged to the store's memory budget now: the head and the
    /// write queue (0 when the store does not count).
    pub memory_bytes: u64,
}

/// A metrics store.
pub trait SeriesStore: Send + Sync + 'static {
    /// Validates and queues samples for a durable write. `Err(Overloaded)`
    /// when the memory budget is exhausted (nothing was taken); otherwise
    /// what was accepted, what was refused, and an acknowledgement that
    /// resolves once the accepted samples are durable and queryable.
    fn append(&self, batch: SeriesBatch) -> Result<Appended, StoreError>;

    /// Series matching `select.matchers` with their samples in range,
    /// sorted by labels. Series without samples in range are left out.
    fn select(&self, select: &Select) -> Result<Vec<SeriesData>, StoreError>;

    /// Label sets of the series that match, sorted, deduplicated.
    fn series(&self, query: &SeriesQuery) -> Result<Vec<Labels>, StoreError>;

    /// Label names of the series that match, sorted.
    fn label_names(&self, query: &SeriesQuery) -> Result<Vec<String>, StoreError>;

    /// Values of label `name` among the series that match, sorted.
    fn label_values(&self, name: &str, query: &SeriesQuery) -> Result<Vec<String>, StoreError>;

    /// Metadata of every family seen (latest per family), sorted by name.
    fn metadata(&self) -> Result<Vec<MetricMetadata>, StoreError>;

    /// Exemplars of the series matching any matcher set, in `[start_ms, end_ms]`.
    fn exemplars(
        &self,
        matcher_sets: &[Vec<Matcher>],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<SeriesExemplars>, StoreError>;

    /// Current sizes and counters.
    fn stats(&self) -> SeriesStats;
}
