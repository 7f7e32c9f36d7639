//! Settings of the metrics store, with Prometheus's defaults where it has
//! them (2 h blocks, 120-sample chunks, compaction by 3×).

use crate::DiskQuota;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How the metrics store is laid out and bounded.
#[derive(Debug, Clone)]
pub struct TsdbConfig {
    /// Root of the store (`DATA_DIR/metrics`): `wal/` and `blocks/` inside.
    pub dir: PathBuf,
    /// Time range of a block cut from the head (ms). The head is cut once
    /// it spans 1.5 ranges; appends may reach half a range back from the
    /// newest sample.
    pub block_range_ms: i64,
    /// Compaction merges adjacent blocks into ranges 3× larger, up to this (ms).
    pub max_block_range_ms: i64,
    /// Blocks entirely older than this (before the newest sample) are deleted.
    pub retention: Duration,
    /// Disk limit, shared with the other stores of the data directory: while
    /// they (blocks and WAL) take more, the oldest block of any of them goes.
    pub disk_quota: Arc<DiskQuota>,
    /// Most active series (0 = no limit).
    pub max_series: u64,
    /// Most active series per metric name (0 = no limit).
    pub max_series_per_metric: u64,
    /// Bytes of accepted samples waiting for the WAL's fdatasync above
    /// which appends are refused with `Overloaded` (the write queue).
    pub memory_budget_bytes: u64,
    /// Bytes the head may hold (series, labels and symbols, postings,
    /// chunks, exemplars; 0 = no limit). A new series that would take the
    /// head over it is refused; existing series keep taking samples, so
    /// their chunks may grow the head past it until the next block cut.
    pub head_budget_bytes: u64,
    /// Exemplars kept (a ring: the oldest go first).
    pub exemplar_capacity: usize,
    /// A WAL segment is closed once it holds this many bytes.
    pub wal_segment_bytes: u64,
    /// How often the head is checked for a cut, compaction and retention.
    pub maintenance_interval: Duration,
}

impl TsdbConfig {
    /// Defaults under `data_dir/metrics`: 2 h blocks compacted up to 18 h,
    /// 15 days retention, no disk, series or head memory limits, 64 MiB
    /// write queue, 100 000 exemplars.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: data_dir.into().join("metrics"),
            block_range_ms: 2 * 3600 * 1000,
            max_block_range_ms: 24 * 3600 * 1000,
            retention: Duration::from_secs(15 * 24 * 3600),
            disk_quota: DiskQuota::unlimited(),
            max_series: 0,
            max_series_per_metric: 0,
            memory_budget_bytes: 64 << 20,
            head_budget_bytes: 0,
            exemplar_capacity: 100_000,
            wal_segment_bytes: 64 << 20,
            maintenance_interval: Duration::from_secs(5),
        }
    }
}
