//! The embedded metrics store behind `whyslow serve`: a Prometheus-style
//! TSDB in `DATA_DIR/metrics/`.
//!
//! - **WAL** (`wal/`): every append's accepted samples, new series,
//!   exemplars and changed metadata as one payload ([`record`]) in the span
//!   store's framing ([`crate::embedded::wal`]); a writer thread
//!   group-commits with one `fdatasync` ([`writer`]) and only then resolves
//!   the append's ack. Restart replays the newest checkpoint and the
//!   segments after it (torn tail cut, damaged records skipped).
//! - **Head** ([`head`]): interned series, postings index, compressed
//!   chunks ([`chunk`]). Appends are validated synchronously (out of order,
//!   duplicate with another value, out of bounds, cardinality limits, and
//!   the head's memory budget for new series: the head keeps a running
//!   count of the bytes it holds).
//! - **Blocks** (`blocks/`, [`block`]): once the head spans 1.5 block
//!   ranges, the oldest range is written as an immutable block, dropped from
//!   the head, and the WAL is truncated behind a checkpoint of the head
//!   ([`maintenance`]), which also compacts adjacent blocks 3× at a time and
//!   applies retention by age and by bytes.
//!
//! Queries ([`query`]) merge blocks and head.

mod bits;
mod block;
mod chunk;
mod config;
mod head;
mod maintenance;
mod postings;
mod query;
mod record;
mod replay;
mod series;
mod symbols;
#[cfg(test)]
mod tests;
pub(crate) mod writer;

pub use block::BlockMeta;
pub use config::TsdbConfig;
pub use replay::TsdbRecovery;

use crate::series::{Appended, SeriesBatch};
use crate::StoreError;
use block::Block;
use head::{AppendOutcome, Head, Limits};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;
use writer::WalQueue;

/// State shared by callers and the background threads.
struct Shared {
    config: TsdbConfig,
    wal_dir: PathBuf,
    blocks_dir: PathBuf,
    head: RwLock<Head>,
    /// Sorted by time range.
    blocks: RwLock<Vec<Arc<Block>>>,
    wal: WalQueue,
    next_block_seq: AtomicU64,
    appended: AtomicU64,
    rejected: AtomicU64,
    series_over_limit: AtomicU64,
    series_over_budget: AtomicU64,
    /// Serialises cuts, compaction and retention.
    maintenance: Mutex<()>,
    maintenance_error: Mutex<Option<String>>,
    /// This store's share of the data directory's `--max-disk`.
    disk: crate::QuotaMember,
}

impl Shared {
    fn head(&self) -> RwLockReadGuard<'_, Head> {
        self.head.read().unwrap_or_else(PoisonError::into_inner)
    }
    fn head_mut(&self) -> RwLockWriteGuard<'_, Head> {
        self.head.write().unwrap_or_else(PoisonError::into_inner)
    }
    fn blocks(&self) -> Vec<Arc<Block>> {
        self.blocks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
    fn blocks_mut(&self) -> RwLockWriteGuard<'_, Vec<Arc<Block>>> {
        self.blocks.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The embedded metrics store. Dropping it commits every queued append and
/// stops the background threads.
pub struct Tsdb {
    shared: Arc<Shared>,
    recovery: TsdbRecovery,
    writer: Mutex<Option<JoinHandle<()>>>,
    maintenance: Mutex<Option<JoinHandle<()>>>,
    maintenance_stop: Mutex<Option<mpsc::Sender<()>>>,
}

fn io_err(context: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

impl Tsdb {
    /// Opens (or creates) the store in `config.dir`: loads blocks, replays
    /// the WAL into the head, starts the WAL writer and maintenance threads.
    pub fn open(config: TsdbConfig) -> Result<Self, StoreError> {
        let wal_dir = config.dir.join("wal");
        let blocks_dir = config.dir.join("blocks");
        for dir in [&wal_dir, &blocks_dir] {
            std::fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
        }
        let opened = replay::recover(&config, &wal_dir, &blocks_dir)?;
        let next_block_seq = opened.blocks.iter().map(Block::seq).max().unwrap_or(0) + 1;
        let shared = Arc::new(Shared {
            wal_dir,
            blocks_dir,
            head: RwLock::new(opened.head),
            blocks: RwLock::new(opened.blocks.into_iter().map(Arc::new).collect()),
            wal: WalQueue::default(),
            next_block_seq: AtomicU64::new(next_block_seq),
            appended: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            series_over_limit: AtomicU64::new(0),
            series_over_budget: AtomicU64::new(0),
            maintenance: Mutex::new(()),
            maintenance_error: Mutex::new(None),
            disk: config.disk_quota.join("metrics"),
            config,
        });
        let writer = {
            let shared = Arc::clone(&shared);
            let wal = opened.wal;
            std::thread::Builder::new()
                .name("tsdb-wal".into())
                .spawn(move || {
                    writer::run(&shared.wal, wal, shared.config.wal_segment_bytes, "metrics");
                })
                .map_err(io_err("starting the metrics WAL writer thread".into()))?
        };
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let maintenance = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("tsdb-maintenance".into())
                .spawn(move || {
                    let interval = shared.config.maintenance_interval;
                    while let Err(mpsc::RecvTimeoutError::Timeout) = stop_rx.recv_timeout(interval)
                    {
                        let result = maintenance::run(&shared);
                        *shared
                            .maintenance_error
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner) =
                            result.err().map(|e| e.to_string());
                    }
                })
                .map_err(io_err("starting the metrics maintenance thread".into()))?
        };
        Ok(Self {
            shared,
            recovery: opened.report,
            writer: Mutex::new(Some(writer)),
            maintenance: Mutex::new(Some(maintenance)),
            maintenance_stop: Mutex::new(Some(stop_tx)),
        })
    }

    /// What recovery found when the store was opened.
    pub fn recovery(&self) -> &TsdbRecovery {
        &self.recovery
    }

    /// Cuts blocks from the head if due, checkpoints the WAL, compacts and
    /// applies retention now (the maintenance thread does this every
    /// `maintenance_interval`).
    pub fn maintain(&self) -> Result<(), StoreError> {
        maintenance::run(&self.shared)
    }

    /// The last background maintenance failure, if the last run failed.
    pub fn maintenance_error(&self) -> Option<String> {
        self.shared
            .maintenance_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Blocks on disk and their time ranges `(min_t, max_t exclusive, level)`.
    pub fn block_ranges(&self) -> Vec<(i64, i64, u32)> {
        self.shared
            .blocks()
            .iter()
            .map(|b| (b.meta().min_t, b.meta().max_t, b.meta().level))
            .collect()
    }

    /// `meta.json` of every block, oldest first.
    pub fn block_metas(&self) -> Vec<BlockMeta> {
        self.shared
            .blocks()
            .iter()
            .map(|b| b.meta().clone())
            .collect()
    }

    fn append_batch(&self, batch: SeriesBatch) -> Result<Appended, StoreError> {
        let shared = &self.shared;
        let budget = shared.config.memory_budget_bytes;
        let used = shared.wal.queued_bytes.load(Ordering::Relaxed);
        let estimate = (batch.sample_count() * 12 + batch.series.len() * 16) as u64;
        // An idle queue takes any batch, so one oversized batch cannot wedge it.
        if used > 0 && used + estimate > budget {
            return Err(StoreError::Overloaded {
                used_bytes: used,
                budget_bytes: budget,
                retry_after_ms: 200,
            });
        }
        let limits = Limits {
            max_series: shared.config.max_series,
            max_series_per_metric: shared.config.max_series_per_metric,
            max_head_bytes: shared.config.head_budget_bytes,
        };
        let mut payload = record::Payload::with_capacity(estimate as usize);
        let mut scratch = Vec::new();
        let mut out = AppendOutcome::default();
        let (tx, rx) = tokio::sync::oneshot::channel();
        {
            let mut head = shared.head_mut();
            for meta in batch.metadata {
                let mut entry = Vec::new();
                record::put_metadata(&mut entry, &meta);
                if head.set_metadata(meta) {
                    payload.buf.extend_from_slice(&entry);
                }
            }
            for ts in &batch.series {
                head.append_series(ts, limits, &mut payload, &mut scratch, &mut out);
            }
            if payload.buf.is_empty() {
                let _ = tx.send(Ok(()));
            } else {
                // Under the head lock: the log's order is the head's order.
                shared.wal.push(payload.buf, tx);
            }
        }
        shared.appended.fetch_add(out.accepted, Ordering::Relaxed);
        shared
            .rejected
            .fetch_add(out.rejected.total(), Ordering::Relaxed);
        shared
            .series_over_limit
            .fetch_add(out.series_over_limit, Ordering::Relaxed);
        shared
            .series_over_budget
            .fetch_add(out.series_over_budget, Ordering::Relaxed);
        Ok(Appended {
            ack: rx,
            accepted_samples: out.accepted,
            rejected: out.rejected,
        })
    }

    fn stop(&self) {
        drop(
            self.maintenance_stop
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let maintenance = self
            .maintenance
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = maintenance {
            let _ = handle.join();
        }
        self.shared.wal.close();
        let writer = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = writer {
            let _ = handle.join();
        }
    }
}

impl Drop for Tsdb {
    fn drop(&mut self) {
        self.stop();
    }
}
