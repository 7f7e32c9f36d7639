//! Upkeep of the embedded profile store, one pass at a time:
//! 1. **Cut**: once the head has taken writes for `block_duration` (or
//!    holds `max_head_bytes`), under its write lock the WAL is rotated and
//!    the head moves to the frozen parts (still queried); its block is
//!    written, replaces it, and the segments it covers are deleted. A
//!    failed write is retried on the next pass, oldest first, and nothing
//!    is deleted until it succeeds.
//! 2. **Compaction**: blocks whose data starts in one aligned
//!    `compact_window` merge into one (sharing names and stacks) once four
//!    are there or the newest data has left the window. The merged block
//!    names its sources, so an interrupted compaction is finished on open.
//! 3. **Retention**: blocks entirely older than `retention` before the
//!    newest data go, then the oldest while the data directory's stores
//!    exceed their shared disk quota (see [`crate::disk_quota`]).

use super::block;
use super::embedded::{BlockHandle, Frozen, Parts, ProfileStoreConfig, Shared};
use super::head::Head;
use crate::embedded::wal;
use crate::StoreError;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

/// Blocks of one window that merge even before the window is over.
const COMPACT_AT: usize = 4;

/// One pass; `force_cut` cuts a non-empty head whatever its age.
pub(super) fn run(shared: &Shared, force_cut: bool) -> Result<(), StoreError> {
    let Some(config) = &shared.config else {
        return Ok(());
    };
    let _pass = shared.upkeep.lock().unwrap_or_else(PoisonError::into_inner);
    write_frozen(shared)?;
    if cut_due(shared, config, force_cut) {
        cut(shared)?;
    }
    compact(shared, config)?;
    retention(shared, config)
}

fn cut_due(shared: &Shared, config: &ProfileStoreConfig, force: bool) -> bool {
    let since = shared.head_since_ms.load(Ordering::Relaxed);
    if since == 0 {
        return false;
    }
    force
        || shared.now_ms().saturating_sub(since) >= config.block_duration.as_millis() as u64
        || shared.head_read().approx_bytes() >= config.max_head_bytes
}

fn cut(shared: &Shared) -> Result<(), StoreError> {
    {
        let mut head = shared.head_write();
        shared.head_since_ms.store(0, Ordering::Relaxed);
        if head.is_empty() {
            return Ok(());
        }
        // Every record of this head is queued (they are queued under this
        // lock); the rotation commits them and closes their segment, so
        // the next head's records start a segment of their own.
        let wal_through = shared.wal.rotate()?;
        let tables = Arc::new(std::mem::take(&mut *head).into_tables());
        shared.parts_write().frozen.push(Frozen {
            tables,
            wal_through,
        });
    }
    write_frozen(shared)
}

fn insert_block(parts: &mut Parts, block: BlockHandle) {
    parts.blocks.push(Arc::new(block));
    parts.blocks.sort_by_key(|b| (b.meta.min_t, b.id));
}

/// Writes the frozen heads' blocks, oldest first.
fn write_frozen(shared: &Shared) -> Result<(), StoreError> {
    loop {
        let next = shared
            .parts_read()
            .frozen
            .first()
            .map(|f| (Arc::clone(&f.tables), f.wal_through));
        let Some((tables, wal_through)) = next else {
            return Ok(());
        };
        let written = if tables.sample_count() == 0 {
            None
        } else {
            let id = shared.next_block.fetch_add(1, Ordering::Relaxed);
            let (meta, bytes) = block::write(&shared.blocks_dir, id, &tables, wal_through, &[])?;
            Some(BlockHandle { id, meta, bytes })
        };
        {
            let mut parts = shared.parts_write();
            parts.frozen.remove(0);
            if let Some(block) = written {
                shared.cache_insert(block.id, Arc::clone(&tables));
                insert_block(&mut parts, block);
            }
        }
        delete_segments(shared, wal_through)?;
    }
}

fn delete_segments(shared: &Shared, through: u64) -> Result<(), StoreError> {
    for seq in wal::list_segments(&shared.wal_dir)? {
        if seq <= through {
            let path = wal::segment_path(&shared.wal_dir, seq);
            std::fs::remove_file(&path).map_err(|source| StoreError::Io {
                context: format!("removing {}", path.display()),
                source,
            })?;
        }
    }
    Ok(())
}

/// Newest data time in the store, Unix ns.
fn newest(shared: &Shared) -> i64 {
    shared.time_bounds().map_or(i64::MIN, |(_, newest)| newest)
}

fn compact(shared: &Shared, config: &ProfileStoreConfig) -> Result<(), StoreError> {
    let window = i64::try_from(config.compact_window.as_nanos())
        .unwrap_or(i64::MAX)
        .max(1);
    let newest = newest(shared);
    let mut groups: BTreeMap<i64, Vec<Arc<BlockHandle>>> = BTreeMap::new();
    for b in shared.parts_read().blocks.iter() {
        groups
            .entry(b.meta.min_t.div_euclid(window))
            .or_default()
            .push(Arc::clone(b));
    }
    for (w, group) in groups {
        let window_over = newest >= (w + 1).saturating_mul(window);
        if group.len() < 2 || (group.len() < COMPACT_AT && !window_over) {
            continue;
        }
        let mut merged = Head::default();
        for b in &group {
            // Whole, timed samples too (cached tables hold none).
            let tables = block::read_tables_full(&shared.blocks_dir, b.id)?;
            merged.absorb(&tables);
        }
        let tables = Arc::new(merged.into_tables());
        let sources: Vec<u64> = group.iter().map(|b| b.id).collect();
        let wal_through = group.iter().map(|b| b.meta.wal_through).max().unwrap_or(0);
        let id = shared.next_block.fetch_add(1, Ordering::Relaxed);
        let (meta, bytes) = block::write(&shared.blocks_dir, id, &tables, wal_through, &sources)?;
        {
            let mut parts = shared.parts_write();
            parts.blocks.retain(|b| !sources.contains(&b.id));
            insert_block(&mut parts, BlockHandle { id, meta, bytes });
        }
        shared.cache_forget(&sources);
        shared.cache_insert(id, tables);
        for &source in &sources {
            block::delete(&shared.blocks_dir, source)?;
        }
    }
    Ok(())
}

fn retention(shared: &Shared, config: &ProfileStoreConfig) -> Result<(), StoreError> {
    let keep = i64::try_from(config.retention.as_nanos()).unwrap_or(i64::MAX);
    let cutoff = newest(shared).saturating_sub(keep);
    let blocks: Vec<Arc<BlockHandle>> = shared.parts_read().blocks.clone();
    let mut by_age = blocks.clone();
    by_age.sort_by_key(|b| (b.meta.max_t, b.id));
    let (mut doomed, kept): (Vec<_>, Vec<_>) =
        by_age.into_iter().partition(|b| b.meta.max_t <= cutoff);
    let mut kept = std::collections::VecDeque::from(kept);
    let wal_bytes = crate::disk_quota::dir_bytes(&shared.wal_dir);
    let mut total = wal_bytes + kept.iter().map(|b| b.bytes).sum::<u64>();
    let oldest_ms = |kept: &std::collections::VecDeque<Arc<BlockHandle>>| {
        kept.front().map(|b| b.meta.max_t.div_euclid(1_000_000))
    };
    if let Some(disk) = &shared.disk {
        disk.report(total, oldest_ms(&kept));
        while disk.should_evict() {
            let Some(b) = kept.pop_front() else { break };
            total = total.saturating_sub(b.bytes);
            doomed.push(b);
            disk.report(total, oldest_ms(&kept));
        }
    }
    if doomed.is_empty() {
        return Ok(());
    }
    let ids: Vec<u64> = doomed.iter().map(|b| b.id).collect();
    shared.parts_write().blocks.retain(|b| !ids.contains(&b.id));
    shared.cache_forget(&ids);
    for id in ids {
        block::delete(&shared.blocks_dir, id)?;
    }
    Ok(())
}
