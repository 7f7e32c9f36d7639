//! Recovery on open: blocks are loaded (a block whose range another, newer
//! block covers is a compaction input left by a crash and is deleted), then
//! the newest WAL checkpoint and every segment after it are replayed into a
//! fresh head. Replay skips samples already in blocks and samples not newer
//! than their series' last one, so overlapping checkpoint and segments are
//! harmless.

use super::block::{self, Block};
use super::chunk;
use super::head::Head;
use super::record::{self, Entry};
use super::TsdbConfig;
use crate::embedded::wal::{self, WalWriter};
use crate::StoreError;
use model::metrics::Labels;
use rustc_hash::FxHashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// What recovery found on open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TsdbRecovery {
    /// Blocks loaded.
    pub blocks: usize,
    /// Series in the head after replay.
    pub series: usize,
    /// Samples in the head after replay.
    pub samples: u64,
    /// WAL records (checkpoint and segments) replayed.
    pub wal_records: usize,
    /// Records skipped for checksum mismatches or undecodable payloads.
    pub skipped_records: usize,
    /// Bytes cut off torn WAL tails.
    pub truncated_bytes: u64,
}

/// The state recovery hands to the store.
pub struct Opened {
    pub head: Head,
    pub blocks: Vec<Block>,
    pub wal: WalWriter,
    pub report: TsdbRecovery,
}

const CHECKPOINT_PREFIX: &str = "checkpoint.";

/// Path of checkpoint `seq` (it covers segments `<= seq`).
pub fn checkpoint_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{CHECKPOINT_PREFIX}{seq:020}"))
}

/// Checkpoint numbers in `dir`, ascending.
pub fn list_checkpoints(dir: &Path) -> Result<Vec<u64>, StoreError> {
    let entries = fs::read_dir(dir).map_err(|source| StoreError::Io {
        context: format!("listing {}", dir.display()),
        source,
    })?;
    let mut out: Vec<u64> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_prefix(CHECKPOINT_PREFIX)?
                .parse()
                .ok()
        })
        .collect();
    out.sort_unstable();
    Ok(out)
}

/// Loads blocks and replays the WAL.
pub fn recover(
    config: &TsdbConfig,
    wal_dir: &Path,
    blocks_dir: &Path,
) -> Result<Opened, StoreError> {
    let mut blocks = block::load_all(blocks_dir)?;
    let covered: Vec<usize> = (0..blocks.len())
        .filter(|&i| {
            let b = blocks[i].meta();
            blocks.iter().any(|o| {
                o.seq() > blocks[i].seq() && o.meta().min_t <= b.min_t && o.meta().max_t >= b.max_t
            })
        })
        .collect();
    for &i in covered.iter().rev() {
        block::delete(&blocks.remove(i))?;
    }
    let mut report = TsdbRecovery {
        blocks: blocks.len(),
        ..TsdbRecovery::default()
    };
    let mut head = Head::new(config.block_range_ms, config.exemplar_capacity);
    head.min_valid_t = blocks
        .iter()
        .map(|b| b.meta().max_t)
        .max()
        .unwrap_or(i64::MIN);

    let mut refs: FxHashMap<u32, Labels> = FxHashMap::default();
    let checkpoints = list_checkpoints(wal_dir)?;
    let from = checkpoints.last().copied().unwrap_or(0);
    if let Some(&seq) = checkpoints.last() {
        let path = checkpoint_path(wal_dir, seq);
        let bytes = fs::read(&path).map_err(|source| StoreError::Io {
            context: format!("reading WAL checkpoint {}", path.display()),
            source,
        })?;
        let (parsed, _) = wal::parse_records(&bytes);
        report.skipped_records += parsed.skipped;
        for payload in parsed.records {
            apply(&mut head, &mut refs, &payload, &mut report);
        }
        for old in &checkpoints[..checkpoints.len() - 1] {
            let _ = fs::remove_file(checkpoint_path(wal_dir, *old));
        }
        wal::remove_segments_upto(wal_dir, seq)?;
    }
    let segments = wal::list_segments(wal_dir)?;
    for seq in &segments {
        let replay = wal::replay_segment(&wal::segment_path(wal_dir, *seq))?;
        report.skipped_records += replay.skipped;
        report.truncated_bytes += replay.truncated_bytes;
        for payload in replay.records {
            apply(&mut head, &mut refs, &payload, &mut report);
        }
    }
    let next = segments.last().copied().unwrap_or(from).max(from) + 1;
    let wal = WalWriter::create(wal_dir, next)?;
    report.series = head.active;
    report.samples = head.sample_count();
    Ok(Opened {
        head,
        blocks,
        wal,
        report,
    })
}

fn apply(
    head: &mut Head,
    refs: &mut FxHashMap<u32, Labels>,
    payload: &[u8],
    report: &mut TsdbRecovery,
) {
    let Some(entries) = record::decode(payload) else {
        // A record with a valid checksum that does not decode was written by
        // an incompatible version: skip it, keep the rest.
        report.skipped_records += 1;
        return;
    };
    report.wal_records += 1;
    let mut samples = Vec::new();
    for entry in entries {
        match entry {
            Entry::Series { id, labels } => {
                refs.insert(id, labels);
            }
            Entry::Samples { id, samples } => {
                if let Some(labels) = refs.get(&id) {
                    head.replay_samples(labels, &samples);
                }
            }
            Entry::Chunk {
                id,
                enc,
                min_t,
                count,
                data,
            } => {
                samples.clear();
                let decoded = chunk::decode(
                    enc,
                    min_t,
                    count as usize,
                    &data,
                    i64::MIN,
                    i64::MAX,
                    &mut samples,
                );
                if let (Some(()), Some(labels)) = (decoded, refs.get(&id)) {
                    head.replay_samples(labels, &samples);
                }
            }
            Entry::Exemplar { id, exemplar } => {
                if let Some(labels) = refs.get(&id) {
                    head.replay_exemplar(labels, exemplar);
                }
            }
            Entry::Metadata(meta) => {
                head.set_metadata(meta);
            }
        }
    }
}
