//! Settings of the embedded engine, with defaults that suit one `serve`
//! process on a developer machine.

use crate::DiskQuota;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How the embedded store is laid out and bounded.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// Root of `wal/` and `blocks/`; created when missing.
    pub data_dir: PathBuf,
    /// Bytes of spans queued for the WAL plus held in the head (and in the
    /// head being flushed) above which writes are refused with `Overloaded`.
    pub memory_budget_bytes: u64,
    /// Blocks whose newest span is older than this are deleted.
    pub retention: Duration,
    /// Disk limit, shared with the other stores of the data directory: while
    /// they take more, the oldest block of any of them is deleted.
    pub disk_quota: Arc<DiskQuota>,
    /// The head is flushed to a block once it holds this many bytes.
    pub head_flush_bytes: u64,
    /// …or once its first span is this old.
    pub flush_interval: Duration,
    /// Blocks with fewer spans than this are merged by compaction.
    pub compaction_small_block_spans: u64,
    /// Compaction runs once at least this many small blocks exist.
    pub compaction_min_blocks: usize,
    /// Most spans one compaction merges into a block.
    pub compaction_max_spans: u64,
    /// How often compaction and retention run.
    pub maintenance_interval: Duration,
}

impl EmbeddedConfig {
    /// Defaults: 512 MiB memory budget, 7 days retention, no disk limit,
    /// head flushed at a quarter of the budget or after 5 minutes.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let memory_budget_bytes = 512 << 20;
        Self {
            data_dir: data_dir.into(),
            memory_budget_bytes,
            retention: Duration::from_secs(7 * 24 * 3600),
            disk_quota: DiskQuota::unlimited(),
            head_flush_bytes: memory_budget_bytes / 4,
            flush_interval: Duration::from_secs(300),
            compaction_small_block_spans: 500_000,
            compaction_min_blocks: 4,
            compaction_max_spans: 2_000_000,
            maintenance_interval: Duration::from_secs(30),
        }
    }
}
