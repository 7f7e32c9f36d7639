//! Background upkeep of blocks: retention (drop blocks whose newest span is
//! older than `retention`, then the oldest while the data directory's stores
//! exceed their shared disk quota, see [`crate::disk_quota`]) and compaction (merge small blocks, oldest first, into
//! one of at most `compaction_max_spans` spans, streamed row group by row
//! group, so queries open fewer files). The merged
//! block lists the blocks it replaces, so a crash between writing it and
//! deleting them never duplicates spans.

use std::sync::{Arc, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use super::block::Block;
use super::Shared;
use crate::StoreError;

/// Most blocks merged in one compaction.
const MAX_MERGE: usize = 8;

/// The maintenance thread: runs [`run`] every `maintenance_interval` until
/// the store closes (the sender of `stop` is dropped).
pub fn run_loop(shared: &Shared, stop: &std::sync::mpsc::Receiver<()>) {
    loop {
        match stop.recv_timeout(shared.config.maintenance_interval) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let _ = run(shared);
            }
            _ => return,
        }
    }
}

/// Runs retention, then compaction.
pub fn run(shared: &Shared) -> Result<(), StoreError> {
    let _guard = shared
        .maintenance
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    retention(shared)?;
    compact(shared)
}

fn now_unix_nano() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

fn retention(shared: &Shared) -> Result<(), StoreError> {
    let config = &shared.config;
    let cutoff = now_unix_nano().saturating_sub(config.retention.as_nanos() as u64);
    let removed: Vec<Arc<Block>> = {
        let mut layers = shared.write_layers();
        let (expired, mut kept): (Vec<_>, Vec<_>) = layers
            .blocks
            .drain(..)
            .partition(|b| b.meta().max_start < cutoff);
        let mut removed = expired;
        kept.sort_by_key(|b| b.meta().max_start);
        let wal = crate::disk_quota::dir_bytes(&shared.wal_dir);
        let mut total: u64 = wal + kept.iter().map(|b| b.meta().bytes).sum::<u64>();
        let oldest_ms = |kept: &[Arc<Block>]| kept.first().map(|b| newest_ms(b));
        shared.disk.report(total, oldest_ms(&kept));
        while shared.disk.should_evict() {
            let oldest = kept.remove(0);
            total = total.saturating_sub(oldest.meta().bytes);
            removed.push(oldest);
            shared.disk.report(total, oldest_ms(&kept));
        }
        kept.sort_by(|a, b| a.meta().id.cmp(&b.meta().id));
        layers.blocks = kept;
        removed
    };
    for block in removed {
        block.remove()?;
    }
    Ok(())
}

/// A block's newest span start in Unix ms (the quota compares stores by it).
fn newest_ms(block: &Block) -> i64 {
    i64::try_from(block.meta().max_start / 1_000_000).unwrap_or(i64::MAX)
}

fn compact(shared: &Shared) -> Result<(), StoreError> {
    let config = &shared.config;
    let mut small: Vec<Arc<Block>> = Vec::new();
    let mut rows = 0;
    for block in &shared.read_layers().blocks {
        let n = block.meta().rows;
        if n >= config.compaction_small_block_spans {
            continue;
        }
        if small.len() >= MAX_MERGE || rows + n > config.compaction_max_spans {
            break;
        }
        rows += n;
        small.push(Arc::clone(block));
    }
    if small.len() < config.compaction_min_blocks.max(2) {
        return Ok(());
    }
    let wal_upto = small.iter().map(|b| b.meta().wal_upto).max().unwrap_or(0);
    let replaces: Vec<String> = small.iter().map(|b| b.meta().id.clone()).collect();
    let merged = Block::merge(
        &shared.blocks_dir,
        &small,
        wal_upto,
        replaces.clone(),
        &shared.closing,
    )?;
    {
        let mut layers = shared.write_layers();
        layers.blocks.retain(|b| !replaces.contains(&b.meta().id));
        layers.blocks.push(Arc::new(merged));
        layers.blocks.sort_by(|a, b| a.meta().id.cmp(&b.meta().id));
    }
    for block in small {
        block.remove()?;
    }
    Ok(())
}
