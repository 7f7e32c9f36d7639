//! On-disk artifacts of a metrics block directory: `meta.json` (time range
//! and stats, human-readable), `index` (postcard: sorted symbol table, series
//! sorted by labels with their chunk references, postings per label pair)
//! and `chunks` (encoded chunks back to back, read through mmap).

use serde::{Deserialize, Serialize};

/// Format version written to `meta.json`.
pub const VERSION: u32 = 1;

/// `meta.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockMeta {
    /// Format version.
    pub version: u32,
    /// First millisecond covered (inclusive).
    pub min_t: i64,
    /// End of the range (exclusive); samples are `< max_t`.
    pub max_t: i64,
    /// Series in the block.
    pub series: u64,
    /// Samples in the block.
    pub samples: u64,
    /// Chunks in the block.
    pub chunks: u64,
    /// Bytes of `index` plus `chunks`.
    pub bytes: u64,
    /// 0 for a block cut from the head, +1 per compaction.
    pub level: u32,
}

/// Where one chunk lies in `chunks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkMeta {
    /// First timestamp.
    pub min_t: i64,
    /// Last timestamp.
    pub max_t: i64,
    /// Samples.
    pub count: u32,
    /// Encoding.
    pub enc: u8,
    /// Byte offset in `chunks`.
    pub offset: u64,
    /// Byte length.
    pub len: u32,
}

/// One series of the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexSeries {
    /// `(name, value)` symbol ids, sorted by name.
    pub labels: Vec<(u32, u32)>,
    /// Chunks, oldest first.
    pub chunks: Vec<ChunkMeta>,
}

/// The `index` file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IndexFile {
    /// Every label name and value, sorted (so id order is string order).
    pub symbols: Vec<String>,
    /// Series sorted by labels; a series' id is its position.
    pub series: Vec<IndexSeries>,
    /// `(name, value, sorted series ids)`, sorted by `(name, value)`.
    pub postings: Vec<(u32, u32, Vec<u32>)>,
}
