//! The embedded profile store: a write-ahead log (the span store's framing,
//! the metrics store's group-commit writer thread) in `DIR/wal/`, the
//! [`Head`] in memory and immutable blocks in `DIR/blocks/`
//! ([`super::block`]).
//!
//! A write is interned and applied under the head's write lock, its record
//! queued to the log in the same critical section, and acknowledged after
//! the commit's `fdatasync`; opening the store replays the segments no
//! block covers, so an acknowledged profile survives `kill -9`.
//!
//! Background upkeep ([`super::maintenance`]) cuts the head into a block
//! when it is `block_duration` old or `max_head_bytes` big, merges the
//! blocks of one `compact_window` and deletes blocks past retention or over
//! the data directory's shared disk quota. Queries read the head, heads
//! being written out and the blocks that can hold matching series (decoded
//! blocks are cached up to `cache_bytes`) and join the answers
//! ([`super::combine`]).
//!
//! [`EmbeddedProfileStore::in_memory`] is the same store without a log or
//! blocks.

use super::block::{self, BlockMeta};
use super::combine::{self, MergeBuilder, TotalsBuilder};
use super::head::Head;
use super::maintenance;
use super::record;
use super::tables::Tables;
use super::{
    MergedStacks, ObjectFile, ProfileQuery, ProfileStore, ProfileWrite, SpanHit, TickMerge,
    TotalSeries,
};
use crate::disk_quota::{DiskQuota, QuotaMember};
use crate::embedded::wal::{self, WalWriter};
use crate::series::Matcher;
use crate::tsdb::writer::{self, WalQueue};
use crate::{StoreError, WriteAck};
use model::metrics::Labels;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Where and how the profile store keeps its data.
#[derive(Debug, Clone)]
pub struct ProfileStoreConfig {
    /// The store's directory (`DATA_DIR/profiles`).
    pub dir: PathBuf,
    /// Segment size after which the log starts a new file.
    pub wal_segment_bytes: u64,
    /// Log bytes queued and not yet durable above which writes are refused
    /// with [`StoreError::Overloaded`].
    pub max_queued_bytes: u64,
    /// The head is cut into a block once it has taken writes this long.
    pub block_duration: Duration,
    /// … or once it holds about this many bytes.
    pub max_head_bytes: u64,
    /// Blocks whose data starts in one window of this length merge into one.
    pub compact_window: Duration,
    /// Blocks whose data is older than this before the newest data go.
    pub retention: Duration,
    /// The data directory's shared disk limit.
    pub disk_quota: Arc<DiskQuota>,
    /// Decoded blocks kept for queries, bytes.
    pub cache_bytes: u64,
    /// How often upkeep runs.
    pub check_interval: Duration,
}

impl ProfileStoreConfig {
    /// Defaults for `dir`: 64 MiB segments and queue, 1 h or 64 MiB heads,
    /// daily compaction, 15 days retention, no disk limit, 256 MiB cache.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            wal_segment_bytes: 64 << 20,
            max_queued_bytes: 64 << 20,
            block_duration: Duration::from_secs(3600),
            max_head_bytes: 64 << 20,
            compact_window: Duration::from_secs(24 * 3600),
            retention: Duration::from_secs(15 * 24 * 3600),
            disk_quota: DiskQuota::unlimited(),
            cache_bytes: 256 << 20,
            check_interval: Duration::from_secs(10),
        }
    }
}

/// What opening found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileRecovery {
    /// Blocks opened.
    pub blocks: usize,
    /// Log records replayed.
    pub records: u64,
    /// Records skipped for a bad checksum.
    pub skipped: u64,
    /// Bytes of torn tail cut off.
    pub truncated_bytes: u64,
}

/// A block on disk: its meta stays in memory, its samples are read on use.
pub(super) struct BlockHandle {
    pub(super) id: u64,
    pub(super) meta: BlockMeta,
    pub(super) bytes: u64,
}

/// A head cut from the write path whose block is not written yet, and the
/// last WAL segment holding it.
pub(super) struct Frozen {
    pub(super) tables: Arc<Tables>,
    pub(super) wal_through: u64,
}

/// Everything but the live head.
#[derive(Default)]
pub(super) struct Parts {
    pub(super) frozen: Vec<Frozen>,
    /// Sorted by `(min_t, id)`.
    pub(super) blocks: Vec<Arc<BlockHandle>>,
}

/// Decoded blocks, least recently used first.
#[derive(Default)]
pub(super) struct Cache {
    entries: Vec<(u64, Arc<Tables>, u64)>,
}

pub(super) struct Shared {
    pub(super) head: RwLock<Head>,
    pub(super) parts: RwLock<Parts>,
    pub(super) wal: WalQueue,
    /// `None` in memory only ([`EmbeddedProfileStore::in_memory`]).
    pub(super) config: Option<ProfileStoreConfig>,
    pub(super) blocks_dir: PathBuf,
    pub(super) wal_dir: PathBuf,
    pub(super) next_block: AtomicU64,
    /// When the head took its first write (ms since `epoch`; 0: empty).
    pub(super) head_since_ms: AtomicU64,
    pub(super) epoch: Instant,
    pub(super) cache: Mutex<Cache>,
    pub(super) disk: Option<QuotaMember>,
    /// Serialises upkeep passes.
    pub(super) upkeep: Mutex<()>,
    stop: (Mutex<bool>, Condvar),
}

/// The default [`ProfileStore`].
pub struct EmbeddedProfileStore {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    recovery: ProfileRecovery,
}

fn io_err(context: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

impl Shared {
    /// The shared state over `head` and `parts`; directories and the disk
    /// quota come from `config` (none in memory only).
    fn new(head: Head, parts: Parts, config: Option<ProfileStoreConfig>, next_block: u64) -> Self {
        let dir = |name: &str| {
            config
                .as_ref()
                .map_or_else(PathBuf::new, |c| c.dir.join(name))
        };
        Self {
            head_since_ms: AtomicU64::new(if head.is_empty() { 0 } else { 1 }),
            head: RwLock::new(head),
            parts: RwLock::new(parts),
            wal: WalQueue::default(),
            blocks_dir: dir("blocks"),
            wal_dir: dir("wal"),
            disk: config.as_ref().map(|c| c.disk_quota.join("profiles")),
            config,
            next_block: AtomicU64::new(next_block),
            epoch: Instant::now(),
            cache: Mutex::new(Cache::default()),
            upkeep: Mutex::new(()),
            stop: (Mutex::new(false), Condvar::new()),
        }
    }

    /// `(oldest profile start, newest profile end)` over every part.
    pub(super) fn time_bounds(&self) -> Option<(i64, i64)> {
        let mut bounds = self.head_read().time_bounds();
        let parts = self.parts_read();
        let more = parts
            .frozen
            .iter()
            .filter_map(|f| f.tables.time_bounds())
            .chain(parts.blocks.iter().map(|b| (b.meta.min_t, b.meta.max_t)));
        for (lo, hi) in more {
            bounds = Some(match bounds {
                Some((a, b)) => (a.min(lo), b.max(hi)),
                None => (lo, hi),
            });
        }
        bounds
    }

    pub(super) fn head_read(&self) -> std::sync::RwLockReadGuard<'_, Head> {
        self.head.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn head_write(&self) -> std::sync::RwLockWriteGuard<'_, Head> {
        self.head.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn parts_read(&self) -> std::sync::RwLockReadGuard<'_, Parts> {
        self.parts.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn parts_write(&self) -> std::sync::RwLockWriteGuard<'_, Parts> {
        self.parts.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64 + 1
    }

    /// A block's samples, from the cache or the disk.
    pub(super) fn tables(&self, block: &BlockHandle) -> Result<Arc<Tables>, StoreError> {
        {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(i) = cache.entries.iter().position(|e| e.0 == block.id) {
                let entry = cache.entries.remove(i);
                let tables = Arc::clone(&entry.1);
                cache.entries.push(entry);
                return Ok(tables);
            }
        }
        let tables = Arc::new(block::read_tables(&self.blocks_dir, block.id)?);
        self.cache_insert(block.id, Arc::clone(&tables));
        Ok(tables)
    }

    pub(super) fn cache_insert(&self, id: u64, tables: Arc<Tables>) {
        let budget = self.config.as_ref().map_or(0, |c| c.cache_bytes);
        let size = tables.approx_bytes();
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache.entries.retain(|e| e.0 != id);
        cache.entries.push((id, tables, size));
        let mut used: u64 = cache.entries.iter().map(|e| e.2).sum();
        while used > budget && !cache.entries.is_empty() {
            used -= cache.entries.remove(0).2;
        }
    }

    pub(super) fn cache_forget(&self, ids: &[u64]) {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache.entries.retain(|e| !ids.contains(&e.0));
    }
}

impl EmbeddedProfileStore {
    /// Opens (or creates) the store: opens the blocks, replays the log the
    /// blocks do not cover, starts the writer and upkeep threads.
    pub fn open(config: ProfileStoreConfig) -> Result<Self, StoreError> {
        let wal_dir = config.dir.join("wal");
        let blocks_dir = config.dir.join("blocks");
        for dir in [&wal_dir, &blocks_dir] {
            std::fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
        }
        let mut recovery = ProfileRecovery::default();
        let mut parts = Parts::default();
        let ids = block::list_blocks(&blocks_dir)?;
        for &id in &ids {
            let (meta, bytes) = block::read_meta(&blocks_dir, id)?;
            parts.blocks.push(Arc::new(BlockHandle { id, meta, bytes }));
        }
        // A compaction interrupted after writing its block: its sources go.
        let replaced: Vec<u64> = parts
            .blocks
            .iter()
            .flat_map(|b| b.meta.sources.iter().copied())
            .collect();
        for &id in &replaced {
            block::delete(&blocks_dir, id)?;
        }
        parts.blocks.retain(|b| !replaced.contains(&b.id));
        recovery.blocks = parts.blocks.len();
        let covered = parts
            .blocks
            .iter()
            .map(|b| b.meta.wal_through)
            .max()
            .unwrap_or(0);
        let mut next_block = ids.last().copied().unwrap_or(0) + 1;
        let mut head = Head::default();
        let segments = wal::list_segments(&wal_dir)?;
        let mut previous = covered;
        for &seq in &segments {
            let path = wal::segment_path(&wal_dir, seq);
            if seq <= covered {
                std::fs::remove_file(&path)
                    .map_err(io_err(format!("removing {}", path.display())))?;
                continue;
            }
            let replay = wal::replay_segment(&path)?;
            recovery.skipped += replay.skipped as u64;
            recovery.truncated_bytes += replay.truncated_bytes;
            for payload in replay.records {
                let record = record::decode(&payload).map_err(|e| StoreError::Corrupt {
                    what: path.display().to_string(),
                    detail: format!("undecodable profile record: {e}"),
                })?;
                if head.starts_over(&record) {
                    // A cut whose block was not written before a crash:
                    // write it now, covering the segments before this one.
                    let old = std::mem::take(&mut head).into_tables();
                    let (meta, bytes) = block::write(&blocks_dir, next_block, &old, previous, &[])?;
                    parts.blocks.push(Arc::new(BlockHandle {
                        id: next_block,
                        meta,
                        bytes,
                    }));
                    next_block += 1;
                }
                head.apply(record)?;
                recovery.records += 1;
            }
            previous = seq;
        }
        parts.blocks.sort_by_key(|b| (b.meta.min_t, b.id));
        let next_seq = segments.last().copied().unwrap_or(0).max(covered) + 1;
        let wal = WalWriter::create(&wal_dir, next_seq)?;
        let segment_bytes = config.wal_segment_bytes;
        let shared = Arc::new(Shared::new(head, parts, Some(config), next_block));
        let writer = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("profiles-wal".into())
                .spawn(move || writer::run(&shared.wal, wal, segment_bytes, "profile"))
                .map_err(io_err("starting the profile WAL writer thread".into()))?
        };
        let upkeep = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("profiles-upkeep".into())
                .spawn(move || upkeep_loop(&shared))
                .map_err(io_err("starting the profile upkeep thread".into()))?
        };
        Ok(Self {
            shared,
            threads: Mutex::new(vec![upkeep, writer]),
            recovery,
        })
    }

    /// A store in memory only, without a log: writes are acknowledged at
    /// once and gone with the process. For tests and servers without a
    /// profile directory.
    pub fn in_memory() -> Self {
        Self {
            shared: Arc::new(Shared::new(Head::default(), Parts::default(), None, 1)),
            threads: Mutex::new(Vec::new()),
            recovery: ProfileRecovery::default(),
        }
    }

    /// What opening found.
    pub fn recovery(&self) -> &ProfileRecovery {
        &self.recovery
    }

    /// `(series, samples, distinct stacks)` in the head.
    pub fn stats(&self) -> (usize, u64, usize) {
        let head = self.shared.head_read();
        (head.series_count(), head.sample_count(), head.node_count())
    }

    /// `(blocks, samples in them, their bytes on disk)`.
    pub fn block_stats(&self) -> (usize, u64, u64) {
        let parts = self.shared.parts_read();
        (
            parts.blocks.len(),
            parts.blocks.iter().map(|b| b.meta.samples).sum(),
            parts.blocks.iter().map(|b| b.bytes).sum(),
        )
    }

    /// Every stored profile, as writes (for export and benchmarks).
    pub fn export(&self) -> Result<Vec<ProfileWrite>, StoreError> {
        let mut out = Vec::new();
        let dir = &self.shared.blocks_dir;
        self.each_part("", &[], i64::MIN, i64::MAX, |t, block| {
            match block {
                None => out.extend(t.to_writes()),
                Some(b) => out.extend(block::read_tables_full(dir, b.id)?.to_writes()),
            }
            Ok(())
        })?;
        out.sort_by_key(|w| w.time_ns);
        Ok(out)
    }

    /// Runs one upkeep pass now (cut when due, compact, retention).
    pub fn upkeep(&self) -> Result<(), StoreError> {
        maintenance::run(&self.shared, false)
    }

    /// Cuts the head into a block now, whatever its age, then compacts and
    /// applies retention.
    pub fn flush(&self) -> Result<(), StoreError> {
        maintenance::run(&self.shared, true)
    }

    /// Stops upkeep, then the writer after it commits what is queued.
    pub fn close(&self) {
        {
            let (lock, cvar) = &self.shared.stop;
            *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
            cvar.notify_all();
        }
        self.shared.wal.close();
        let handles: Vec<_> = self
            .threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
            .collect();
        for handle in handles {
            let _ = handle.join();
        }
    }

    /// Calls `f` with every part that may hold series of `profile_type`
    /// (any when empty) matching `matchers` in `[start_ns, end_ns)`: the
    /// tables and, for a block (whose cached tables hold no timed samples),
    /// its handle.
    fn each_part(
        &self,
        profile_type: &str,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
        mut f: impl FnMut(&Tables, Option<&BlockHandle>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        // The parts are listed under the head's read lock, so a cut (which
        // moves the head into the parts under its write lock) is seen
        // either before or after, never half.
        let (frozen, blocks) = {
            let head = self.shared.head_read();
            f(&head, None)?;
            let parts = self.shared.parts_read();
            let frozen: Vec<Arc<Tables>> =
                parts.frozen.iter().map(|p| Arc::clone(&p.tables)).collect();
            let blocks: Vec<Arc<BlockHandle>> = parts
                .blocks
                .iter()
                .filter(|b| {
                    b.meta.min_t < end_ns
                        && b.meta.max_t >= start_ns
                        && b.meta.series.iter().any(|s| {
                            (profile_type.is_empty() || s.profile_type == profile_type)
                                && s.min_t < end_ns
                                && s.max_t >= start_ns
                                && Matcher::all_match(matchers, &s.labels)
                        })
                })
                .cloned()
                .collect();
            (frozen, blocks)
        };
        for tables in &frozen {
            f(tables, None)?;
        }
        for block in &blocks {
            let tables = self.shared.tables(block)?;
            f(&tables, Some(block))?;
        }
        Ok(())
    }

    /// What `f` lists of every part [`Self::each_part`] selects, sorted and
    /// without repeats.
    fn distinct<T: Ord>(
        &self,
        profile_type: &str,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
        f: impl Fn(&Tables) -> Vec<T>,
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        self.each_part(profile_type, matchers, start_ns, end_ns, |t, _| {
            out.extend(f(t));
            Ok(())
        })?;
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}

fn upkeep_loop(shared: &Shared) {
    let Some(interval) = shared.config.as_ref().map(|c| c.check_interval) else {
        return;
    };
    let (lock, cvar) = &shared.stop;
    loop {
        {
            let stopped = lock.lock().unwrap_or_else(PoisonError::into_inner);
            let (stopped, _) = cvar
                .wait_timeout_while(stopped, interval, |s| !*s)
                .unwrap_or_else(PoisonError::into_inner);
            if *stopped {
                return;
            }
        }
        if let Err(e) = maintenance::run(shared, false) {
            eprintln!("whyslow: profile store upkeep: {e}");
        }
    }
}

impl Drop for EmbeddedProfileStore {
    fn drop(&mut self) {
        self.close();
    }
}

impl ProfileStore for EmbeddedProfileStore {
    fn write(&self, profiles: Vec<ProfileWrite>) -> Result<WriteAck, StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if profiles.is_empty() {
            // Nothing to log (and an empty record could not tell replay
            // which head it belongs to).
            let _ = tx.send(Ok(()));
            return Ok(rx);
        }
        let Some(config) = &self.shared.config else {
            let mut head = self.shared.head_write();
            let record = head.intern(&profiles);
            head.apply(record)?;
            let _ = tx.send(Ok(()));
            return Ok(rx);
        };
        let queued = self.shared.wal.queued_bytes.load(Ordering::Relaxed);
        if queued > config.max_queued_bytes {
            return Err(StoreError::Overloaded {
                used_bytes: queued,
                budget_bytes: config.max_queued_bytes,
                retry_after_ms: 1000,
            });
        }
        let mut head = self.shared.head_write();
        let record = head.intern(&profiles);
        let payload = record::encode(&record);
        head.apply(record)?;
        let _ = self.shared.head_since_ms.compare_exchange(
            0,
            self.shared.now_ms(),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        self.shared.wal.push(payload, tx);
        Ok(rx)
    }

    fn profile_types(&self, start_ns: i64, end_ns: i64) -> Result<Vec<String>, StoreError> {
        self.distinct("", &[], start_ns, end_ns, |t| {
            t.profile_types(start_ns, end_ns)
        })
    }

    fn series(
        &self,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<Labels>, StoreError> {
        self.distinct("", matchers, start_ns, end_ns, |t| {
            t.series(matchers, start_ns, end_ns)
        })
    }

    fn merge(&self, query: &ProfileQuery) -> Result<MergedStacks, StoreError> {
        let mut builder = MergeBuilder::default();
        self.each_part(
            &query.profile_type,
            &query.matchers,
            query.start_ns,
            query.end_ns,
            |t, _| {
                builder.add(t.merge(query));
                Ok(())
            },
        )?;
        Ok(builder.finish())
    }

    fn totals(
        &self,
        query: &ProfileQuery,
        step_ns: i64,
        group_by: &[String],
    ) -> Result<Vec<TotalSeries>, StoreError> {
        let mut builder = TotalsBuilder::default();
        self.each_part(
            &query.profile_type,
            &query.matchers,
            query.start_ns,
            query.end_ns,
            |t, _| {
                builder.add(t.totals(query, step_ns, group_by));
                Ok(())
            },
        )?;
        Ok(builder.finish())
    }

    fn span_hits(
        &self,
        query: &ProfileQuery,
        frame: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SpanHit>, StoreError> {
        let mut parts = Vec::new();
        self.each_part(
            &query.profile_type,
            &query.matchers,
            query.start_ns,
            query.end_ns,
            |t, _| {
                parts.push(t.span_hits(query, frame, usize::MAX));
                Ok(())
            },
        )?;
        Ok(combine::span_hits(parts, limit))
    }

    fn merge_ticks(&self, query: &ProfileQuery, threads: &[u32]) -> Result<TickMerge, StoreError> {
        let mut parts = Vec::new();
        self.each_part(
            &query.profile_type,
            &query.matchers,
            query.start_ns,
            query.end_ns,
            |t, block| {
                parts.push(match block {
                    None => t.merge_ticks(query, threads),
                    Some(b) => {
                        let selected = t.tick_series(query);
                        let columns =
                            block::read_ticks(&self.shared.blocks_dir, b.id, t, &selected)?;
                        t.merge_tick_columns(query, threads, columns.iter())
                    }
                });
                Ok(())
            },
        )?;
        Ok(combine::tick_merges(parts))
    }

    fn objects(&self, query: &ProfileQuery) -> Result<Vec<ObjectFile>, StoreError> {
        self.distinct(
            &query.profile_type,
            &query.matchers,
            query.start_ns,
            query.end_ns,
            |t| t.objects(query),
        )
    }

    fn time_bounds(&self) -> Result<Option<(i64, i64)>, StoreError> {
        Ok(self.shared.time_bounds())
    }
}

#[cfg(test)]
#[path = "embedded_tests.rs"]
mod tests;
