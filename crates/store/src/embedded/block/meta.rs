//! Per-block metadata (`meta.json`): what a query needs to skip a block
//! without opening its Parquet file — time range, services and operations,
//! per-row-group time ranges — plus the bookkeeping recovery needs (the WAL
//! segments it covers, the blocks it replaced).

use model::SpanKind;
use serde::{Deserialize, Serialize};

/// Time range and size of one row group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowGroupMeta {
    /// Rows.
    pub rows: u64,
    /// Earliest span start, Unix ns.
    pub min_start: u64,
    /// Latest span start, Unix ns.
    pub max_start: u64,
    /// Services with spans in the row group, sorted.
    pub services: Vec<String>,
}

/// One block's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockMeta {
    /// Directory name (sortable by creation time).
    pub id: String,
    /// Spans stored.
    pub rows: u64,
    /// Earliest span start, Unix ns.
    pub min_start: u64,
    /// Latest span start, Unix ns.
    pub max_start: u64,
    /// Services with spans in the block, sorted.
    pub services: Vec<String>,
    /// `(service, operation, kind)` triples, sorted.
    pub operations: Vec<(String, String, SpanKind)>,
    /// Row groups in file order.
    pub row_groups: Vec<RowGroupMeta>,
    /// Highest WAL segment whose records are all in blocks once this one exists.
    pub wal_upto: u64,
    /// Blocks this one replaces (compaction); recovery deletes them if present.
    pub replaces: Vec<String>,
    /// Bytes of the block's files.
    pub bytes: u64,
    /// Encoding of the `scope` and `details` columns (`schema::FORMAT`);
    /// 1 for blocks written before the field existed.
    #[serde(default = "format_1")]
    pub format: u32,
}

fn format_1() -> u32 {
    1
}
