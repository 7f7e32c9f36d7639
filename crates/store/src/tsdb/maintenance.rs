//! Background upkeep of the metrics store, serialised by one lock:
//! 1. **Cut**: while the head spans more than 1.5 block ranges, the oldest
//!    aligned range is written as a block, appends before its end are
//!    refused from then on, and its samples leave the head.
//! 2. **Checkpoint**: after a cut (or once segments exceed 4 segment
//!    sizes) the WAL is rotated, the head is written
//!    as `checkpoint.N` (series, chunks, exemplars, metadata) and segments
//!    `<= N` are deleted.
//! 3. **Compaction**: blocks inside one aligned window 3× (9×, …) the block
//!    range, up to `max_block_range_ms`, merge once the head has moved past
//!    the window.
//! 4. **Retention**: blocks entirely older than `retention` before the
//!    newest sample go, then the oldest while the data directory's stores
//!    exceed their shared disk quota (see [`crate::disk_quota`]).

use super::block::{self, write_block, Block};
use super::replay::{checkpoint_path, list_checkpoints};
use super::Shared;
use crate::embedded::wal;
use crate::StoreError;
use model::metrics::{Labels, Sample};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

fn io_err(context: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

/// One pass of every step.
pub fn run(shared: &Shared) -> Result<(), StoreError> {
    let _guard = shared
        .maintenance
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let range = shared.config.block_range_ms;
    let mut cut = false;
    loop {
        let (min_t, max_t, active) = {
            let head = shared.head();
            (head.min_t, head.max_t, head.active)
        };
        if active == 0 || max_t.saturating_sub(min_t) <= range / 2 * 3 {
            break;
        }
        let start = min_t.div_euclid(range) * range;
        cut_block(shared, start, start + range)?;
        cut = true;
    }
    // Also checkpoint when segments pile up between cuts (a fast sender
    // writes ~20 bytes per sample to the WAL, the checkpoint ~1.5).
    if cut || segment_bytes(shared) > 4 * shared.config.wal_segment_bytes {
        checkpoint(shared)?;
    }
    compact(shared)?;
    retention(shared)
}

fn write_and_open(
    shared: &Shared,
    min_t: i64,
    max_t: i64,
    level: u32,
    series: &[(Labels, Vec<Sample>)],
) -> Result<Block, StoreError> {
    let seq = shared.next_block_seq.fetch_add(1, Ordering::Relaxed);
    let dir = block::block_path(&shared.blocks_dir, seq);
    write_block(&dir, min_t, max_t, level, series)?;
    Block::open(&dir, seq)
}

fn insert_block(shared: &Shared, block: Block, replaces: &[u64]) {
    let mut blocks = shared.blocks_mut();
    blocks.retain(|b| !replaces.contains(&b.seq()));
    blocks.push(Arc::new(block));
    blocks.sort_by_key(|b| (b.meta().min_t, b.seq()));
}

/// Writes head samples in `[start, end)` as a block and drops them from the head.
fn cut_block(shared: &Shared, start: i64, end: i64) -> Result<(), StoreError> {
    {
        // From here on appends before `end` are out of bounds, so the
        // samples collected below are all there will be.
        let mut head = shared.head_mut();
        head.min_valid_t = head.min_valid_t.max(end);
    }
    let mut series: Vec<(Labels, Vec<Sample>)> = {
        let head = shared.head();
        let mut out = Vec::new();
        for id in head.ids() {
            let mut samples = Vec::new();
            head.samples(id, i64::MIN, end - 1, &mut samples);
            if !samples.is_empty() {
                out.push((head.labels(id), samples));
            }
        }
        out
    };
    series.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    if !series.is_empty() {
        let block = write_and_open(shared, start, end, 0, &series)?;
        insert_block(shared, block, &[]);
    }
    shared.head_mut().truncate(end);
    Ok(())
}

/// Rotates the WAL, writes the head as a checkpoint covering the closed
/// segments, and deletes them.
fn checkpoint(shared: &Shared) -> Result<(), StoreError> {
    let dir = &shared.wal_dir;
    let seq = shared.wal.rotate()?;
    let tmp = dir.join("checkpoint.tmp");
    let file = File::create(&tmp).map_err(io_err(format!("creating {}", tmp.display())))?;
    let mut out = BufWriter::new(file);
    let mut failed: Option<std::io::Error> = None;
    let mut framed = Vec::new();
    shared.head().checkpoint(1 << 20, &mut |payload| {
        if failed.is_none() {
            framed.clear();
            wal::frame(payload, &mut framed);
            if let Err(e) = out.write_all(&framed) {
                failed = Some(e);
            }
        }
    });
    if let Some(e) = failed {
        return Err(io_err(format!("writing {}", tmp.display()))(e));
    }
    let file = out
        .into_inner()
        .map_err(|e| io_err(format!("writing {}", tmp.display()))(e.into_error()))?;
    file.sync_all()
        .map_err(io_err(format!("syncing {}", tmp.display())))?;
    let path = checkpoint_path(dir, seq);
    fs::rename(&tmp, &path).map_err(io_err(format!("renaming {}", tmp.display())))?;
    wal::sync_dir(dir)?;
    wal::remove_segments_upto(dir, seq)?;
    for old in list_checkpoints(dir)? {
        if old < seq {
            let old = checkpoint_path(dir, old);
            fs::remove_file(&old).map_err(io_err(format!("removing {}", old.display())))?;
        }
    }
    Ok(())
}

/// Merges blocks within aligned windows of 3^k block ranges.
fn compact(shared: &Shared) -> Result<(), StoreError> {
    let range = shared.config.block_range_ms;
    let mut window = range.saturating_mul(3);
    while window <= shared.config.max_block_range_ms {
        loop {
            let done_before = shared.head().min_valid_t;
            let blocks = shared.blocks();
            let mut groups: BTreeMap<i64, Vec<Arc<Block>>> = BTreeMap::new();
            for b in &blocks {
                let m = b.meta();
                let k = m.min_t.div_euclid(window);
                if m.max_t - m.min_t < window && m.max_t <= (k + 1) * window {
                    groups.entry(k).or_default().push(Arc::clone(b));
                }
            }
            let Some((k, group)) = groups
                .into_iter()
                .find(|(k, g)| g.len() > 1 && (k + 1) * window <= done_before)
            else {
                break;
            };
            merge(shared, k * window, (k + 1) * window, &group)?;
        }
        window = window.saturating_mul(3);
    }
    Ok(())
}

fn merge(shared: &Shared, min_t: i64, max_t: i64, group: &[Arc<Block>]) -> Result<(), StoreError> {
    let mut series: BTreeMap<Labels, Vec<Sample>> = BTreeMap::new();
    for b in group {
        for id in 0..b.series_count() {
            let samples = series.entry(b.labels(id)).or_default();
            let mut more = Vec::new();
            b.samples(id, i64::MIN, i64::MAX, &mut more)?;
            let last = samples.last().map_or(i64::MIN, |s| s.timestamp_ms);
            samples.extend(more.into_iter().filter(|s| s.timestamp_ms > last));
        }
    }
    let series: Vec<(Labels, Vec<Sample>)> = series.into_iter().collect();
    let level = group.iter().map(|b| b.meta().level).max().unwrap_or(0) + 1;
    let block = write_and_open(shared, min_t, max_t, level, &series)?;
    let replaced: Vec<u64> = group.iter().map(|b| b.seq()).collect();
    insert_block(shared, block, &replaced);
    for b in group {
        block::delete(b)?;
    }
    Ok(())
}

/// Bytes of the WAL's segments (not its checkpoint).
fn segment_bytes(shared: &Shared) -> u64 {
    wal::list_segments(&shared.wal_dir)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|seq| fs::metadata(wal::segment_path(&shared.wal_dir, seq)).ok())
        .map(|m| m.len())
        .sum()
}

/// Bytes of the WAL directory.
pub fn wal_bytes(shared: &Shared) -> u64 {
    crate::disk_quota::dir_bytes(&shared.wal_dir)
}

fn retention(shared: &Shared) -> Result<(), StoreError> {
    let blocks = shared.blocks();
    let newest = blocks
        .iter()
        .map(|b| b.meta().max_t - 1)
        .chain(std::iter::once(shared.head().max_t))
        .max()
        .unwrap_or(i64::MIN);
    let keep_ms = i64::try_from(shared.config.retention.as_millis()).unwrap_or(i64::MAX);
    let cutoff = newest.saturating_sub(keep_ms);
    let mut doomed: Vec<Arc<Block>> = blocks
        .iter()
        .filter(|b| b.meta().max_t <= cutoff)
        .cloned()
        .collect();
    // Then the oldest (blocks are sorted by time) while the stores of the
    // data directory together are over the quota and ours is the oldest.
    let mut kept: std::collections::VecDeque<&Arc<Block>> = blocks
        .iter()
        .filter(|b| !doomed.iter().any(|d| d.seq() == b.seq()))
        .collect();
    let mut total = wal_bytes(shared) + kept.iter().map(|b| b.meta().bytes).sum::<u64>();
    let oldest_ms =
        |kept: &std::collections::VecDeque<&Arc<Block>>| kept.front().map(|b| b.meta().max_t - 1);
    shared.disk.report(total, oldest_ms(&kept));
    while shared.disk.should_evict() {
        let Some(b) = kept.pop_front() else { break };
        total = total.saturating_sub(b.meta().bytes);
        doomed.push(Arc::clone(b));
        shared.disk.report(total, oldest_ms(&kept));
    }
    if doomed.is_empty() {
        return Ok(());
    }
    let seqs: Vec<u64> = doomed.iter().map(|b| b.seq()).collect();
    shared.blocks_mut().retain(|b| !seqs.contains(&b.seq()));
    for b in &doomed {
        block::delete(b)?;
    }
    Ok(())
}
