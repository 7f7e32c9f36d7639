//! The embedded engine behind `whyslow serve`'s default data directory:
//! write-ahead log with group commit (`wal`, `writer`) → in-memory head with
//! indexes (`head`) → immutable Parquet blocks (`block`) → compaction and
//! retention (`maintenance`). A write is acknowledged only once its WAL
//! record is `fdatasync`ed; restart replays the WAL. Queries read the head,
//! the head being flushed, and the blocks, under one consistent snapshot.

mod block;
pub mod codec;
mod config;
mod filter;
mod flusher;
mod head;
mod legacy;
mod maintenance;
mod pending;
mod search;
mod span_store;
#[cfg(test)]
mod testdata;
#[cfg(test)]
mod tests;
pub(crate) mod wal;
mod writer;

pub use config::EmbeddedConfig;
pub use filter::DEFAULT_LIMIT;

use model::{Span, TraceId};
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;

use block::Block;
use head::Head;
use pending::PendingQueue;

use crate::StoreError;

/// What queries read: the head, the head being flushed, and the blocks
/// (oldest first).
#[derive(Default)]
struct Layers {
    head: Head,
    frozen: Option<Arc<Head>>,
    blocks: Vec<Arc<Block>>,
}

/// State shared by callers and the background threads.
struct Shared {
    config: EmbeddedConfig,
    wal_dir: PathBuf,
    blocks_dir: PathBuf,
    pending: PendingQueue,
    /// Bytes of batches accepted but not yet durable.
    queued_bytes: AtomicU64,
    /// Bytes held by the head and the head being flushed.
    head_bytes: AtomicU64,
    layers: RwLock<Layers>,
    /// Serialises compaction and retention.
    maintenance: Mutex<()>,
    /// Set when the store closes: long maintenance work stops early.
    closing: AtomicBool,
    /// This store's share of the data directory's `--max-disk`.
    disk: crate::QuotaMember,
}

impl Shared {
    fn read_layers(&self) -> std::sync::RwLockReadGuard<'_, Layers> {
        self.layers.read().unwrap_or_else(PoisonError::into_inner)
    }
    fn write_layers(&self) -> std::sync::RwLockWriteGuard<'_, Layers> {
        self.layers.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What recovery found on open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Blocks loaded.
    pub blocks: usize,
    /// WAL records replayed into the head.
    pub wal_records: usize,
    /// Spans replayed into the head.
    pub wal_spans: usize,
    /// Records skipped for checksum mismatches.
    pub skipped_records: usize,
    /// Bytes cut off torn WAL tails.
    pub truncated_bytes: u64,
}

/// The embedded span store. Dropping it stops the background threads after
/// committing every queued batch.
pub struct EmbeddedStore {
    shared: Arc<Shared>,
    recovery: RecoveryReport,
    writer: Mutex<Option<JoinHandle<()>>>,
    flusher: Mutex<Option<JoinHandle<()>>>,
    maintenance: Mutex<Option<JoinHandle<()>>>,
    /// Dropped on close to stop the maintenance thread.
    maintenance_stop: Mutex<Option<mpsc::Sender<()>>>,
}

fn io_err(context: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

impl EmbeddedStore {
    /// Opens (or creates) the store in `config.data_dir`: loads blocks,
    /// replays the WAL into the head, and starts the writer and flusher.
    pub fn open(config: EmbeddedConfig) -> Result<Self, StoreError> {
        let wal_dir = config.data_dir.join("wal");
        let blocks_dir = config.data_dir.join("blocks");
        for dir in [&wal_dir, &blocks_dir] {
            fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
        }
        let mut recovery = RecoveryReport::default();
        let blocks = block::load_all(&blocks_dir)?;
        recovery.blocks = blocks.len();
        let flushed_upto = blocks.iter().map(|b| b.meta().wal_upto).max().unwrap_or(0);
        wal::remove_segments_upto(&wal_dir, flushed_upto)?;
        let mut head = Head::default();
        let segments = wal::list_segments(&wal_dir)?;
        for seq in &segments {
            let replay = wal::replay_segment(&wal::segment_path(&wal_dir, *seq))?;
            recovery.skipped_records += replay.skipped;
            recovery.truncated_bytes += replay.truncated_bytes;
            for record in replay.records {
                match codec::decode_spans(&record) {
                    Ok(spans) => {
                        recovery.wal_records += 1;
                        recovery.wal_spans += spans.len();
                        head.insert(spans);
                    }
                    // A record with a valid checksum that does not decode was
                    // written by an incompatible version: skip it, keep the rest.
                    Err(_) => recovery.skipped_records += 1,
                }
            }
        }
        let next_seq = segments
            .last()
            .copied()
            .unwrap_or(flushed_upto)
            .max(flushed_upto)
            + 1;
        let wal = wal::WalWriter::create(&wal_dir, next_seq)?;
        let shared = Arc::new(Shared {
            wal_dir,
            blocks_dir,
            pending: PendingQueue::default(),
            queued_bytes: AtomicU64::new(0),
            head_bytes: AtomicU64::new(head.bytes()),
            layers: RwLock::new(Layers {
                head,
                frozen: None,
                blocks: blocks.into_iter().map(Arc::new).collect(),
            }),
            maintenance: Mutex::new(()),
            closing: AtomicBool::new(false),
            disk: config.disk_quota.join("spans"),
            config,
        });
        let (flush_tx, flush_rx) = mpsc::channel();
        let writer = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("store-wal".into())
                .spawn(move || writer::run(&shared, wal, flush_tx, next_seq - 1))
                .map_err(io_err("starting the WAL writer thread".into()))?
        };
        let flusher = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("store-flush".into())
                .spawn(move || flusher::run(&shared, &flush_rx))
                .map_err(io_err("starting the block flusher thread".into()))?
        };
        let (stop_tx, stop_rx) = mpsc::channel();
        let maintenance = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("store-maintenance".into())
                .spawn(move || maintenance::run_loop(&shared, &stop_rx))
                .map_err(io_err("starting the maintenance thread".into()))?
        };
        Ok(Self {
            shared,
            recovery,
            writer: Mutex::new(Some(writer)),
            flusher: Mutex::new(Some(flusher)),
            maintenance: Mutex::new(Some(maintenance)),
            maintenance_stop: Mutex::new(Some(stop_tx)),
        })
    }

    /// What recovery found when this store was opened.
    pub fn recovery(&self) -> &RecoveryReport {
        &self.recovery
    }

    /// Bytes counted against the memory budget now.
    pub fn used_bytes(&self) -> u64 {
        self.shared.queued_bytes.load(Ordering::Relaxed)
            + self.shared.head_bytes.load(Ordering::Relaxed)
    }

    /// Number of Parquet blocks.
    pub fn block_count(&self) -> usize {
        self.shared.read_layers().blocks.len()
    }

    /// Bytes of all Parquet blocks on disk.
    pub fn block_bytes(&self) -> u64 {
        self.shared
            .read_layers()
            .blocks
            .iter()
            .map(|b| b.meta().bytes)
            .sum()
    }

    /// Spans in the in-memory head (including one being flushed).
    pub fn head_spans(&self) -> usize {
        let layers = self.shared.read_layers();
        layers.head.len() + layers.frozen.as_ref().map_or(0, |f| f.len())
    }

    /// Flushes the head to a block now and waits until it is written
    /// (for tests, benchmarks and shutdown paths that want blocks).
    pub fn flush(&self) -> Result<(), StoreError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.shared
            .pending
            .add(|queue| queue.flush_requests.push(tx))?;
        rx.recv().map_err(|_| StoreError::Closed)?
    }

    /// Runs compaction and retention now.
    pub fn run_maintenance(&self) -> Result<(), StoreError> {
        maintenance::run(&self.shared)
    }

    /// All spans of `ids` from every layer, per trace, deduplicated.
    fn collect_traces(&self, ids: &[TraceId]) -> Result<Vec<Vec<Span>>, StoreError> {
        let mut traces: Vec<Vec<Span>> = vec![Vec::new(); ids.len()];
        let blocks = {
            let layers = self.shared.read_layers();
            for (id, out) in ids.iter().zip(traces.iter_mut()) {
                layers.head.trace(*id, out);
                if let Some(frozen) = &layers.frozen {
                    frozen.trace(*id, out);
                }
            }
            layers.blocks.clone()
        };
        for block in &blocks {
            block.traces(ids, &mut traces)?;
        }
        for trace in &mut traces {
            trace.sort_by(|a, b| {
                a.start_unix_nano
                    .cmp(&b.start_unix_nano)
                    .then(a.span_id.cmp(&b.span_id))
            });
            trace.dedup_by(|a, b| a.span_id == b.span_id && a.start_unix_nano == b.start_unix_nano);
        }
        Ok(traces)
    }

    fn stop(&self) {
        self.shared.pending.lock().closed = true;
        self.shared.pending.ready.notify_all();
        self.shared.closing.store(true, Ordering::Relaxed);
        drop(
            self.maintenance_stop
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        for slot in [&self.writer, &self.flusher, &self.maintenance] {
            let handle = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
            if let Some(handle) = handle {
                let _ = handle.join();
            }
        }
    }
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        self.stop();
    }
}
