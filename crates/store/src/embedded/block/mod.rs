//! Immutable Parquet blocks under `DATA_DIR/blocks/<id>/`: `spans.parquet`
//! (one row per span, see `schema`), `trace_index.bin` (trace id → row
//! groups), `tag_bloom.bin` (per row group, which `key=value` attributes may
//! occur) and `meta.json` (time range, services, operations, row-group
//! ranges) so queries skip blocks and row groups they cannot match.

mod meta;
mod read;
mod schema;
mod tag_bloom;
mod trace_index;
mod write;

pub use meta::BlockMeta;

use model::{Span, SpanKind, TraceId};
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::filter::SpanFilter;
use super::search::{Candidates, DependencyRow};
use crate::{Operation, StoreError};
use read::SharedDecoded;
use schema::col;

/// The Parquet file of a block.
pub const DATA_FILE: &str = "spans.parquet";
/// The trace-id index of a block.
pub const INDEX_FILE: &str = "trace_index.bin";
/// The metadata of a block.
pub const META_FILE: &str = "meta.json";
/// Per-row-group Bloom filters of `key=value` attribute tokens.
pub const BLOOM_FILE: &str = "tag_bloom.bin";

/// Columns every search reads.
const CHEAP: [usize; 5] = [
    col::TRACE_ID,
    col::SERVICE,
    col::NAME,
    col::START,
    col::DURATION,
];
/// Further columns a search with tags reads for row groups with candidates.
const TAG_COLUMNS: [usize; 4] = [col::KIND, col::STATUS_CODE, col::RESOURCE, col::DETAILS];

/// Maps a parquet error to a store error saying what was being done.
pub fn parquet_err(context: &'static str) -> impl Fn(parquet::errors::ParquetError) -> StoreError {
    move |e| StoreError::Corrupt {
        what: "block".into(),
        detail: format!("{context}: {e}"),
    }
}

/// Service names shared as `Arc<str>` while collecting dependency rows.
#[derive(Default)]
struct ServiceNames(rustc_hash::FxHashMap<String, std::sync::Arc<str>>);

impl ServiceNames {
    fn intern(&mut self, name: &str) -> std::sync::Arc<str> {
        if let Some(a) = self.0.get(name) {
            return a.clone();
        }
        let a: std::sync::Arc<str> = name.into();
        self.0.insert(name.to_string(), a.clone());
        a
    }
}

/// One block, with its metadata and trace index in memory.
pub struct Block {
    dir: PathBuf,
    meta: BlockMeta,
    trace_index: Vec<([u8; 16], u32)>,
    tag_blooms: tag_bloom::TagBlooms,
    reader: read::BlockReader,
}

fn new_block_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    format!(
        "{nanos:020}-{:06}",
        COUNTER.fetch_add(1, Ordering::Relaxed) % 1_000_000
    )
}

/// Opens every block under `blocks_dir`, removing leftovers of interrupted
/// flushes (`*.tmp`) and blocks that a compacted block replaced.
pub fn load_all(blocks_dir: &Path) -> Result<Vec<Block>, StoreError> {
    let mut blocks = Vec::new();
    let entries = fs::read_dir(blocks_dir).map_err(|source| StoreError::Io {
        context: format!("listing {}", blocks_dir.display()),
        source,
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.extension().is_some_and(|e| e == "tmp") {
            let _ = fs::remove_dir_all(&path);
            continue;
        }
        blocks.push(Block::open(&path)?);
    }
    let replaced: HashSet<String> = blocks
        .iter()
        .flat_map(|b| b.meta.replaces.iter().cloned())
        .collect();
    let (gone, mut kept): (Vec<Block>, Vec<Block>) = blocks
        .into_iter()
        .partition(|b| replaced.contains(&b.meta.id));
    for block in gone {
        block.remove()?;
    }
    kept.sort_by(|a, b| a.meta.id.cmp(&b.meta.id));
    Ok(kept)
}

impl Block {
    /// Writes `spans` as a new block.
    pub fn write(
        blocks_dir: &Path,
        spans: &[Span],
        wal_upto: u64,
        replaces: Vec<String>,
    ) -> Result<Self, StoreError> {
        let refs: Vec<&Span> = spans.iter().collect();
        Self::write_refs(blocks_dir, &refs, wal_upto, replaces)
    }

    /// Writes borrowed `spans` as a new block.
    pub fn write_refs(
        blocks_dir: &Path,
        spans: &[&Span],
        wal_upto: u64,
        replaces: Vec<String>,
    ) -> Result<Self, StoreError> {
        let id = new_block_id();
        write::write_block(blocks_dir, &id, spans, wal_upto, replaces)?;
        Self::open(&blocks_dir.join(&id))
    }

    /// Opens the block in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let corrupt = |detail: String| StoreError::Corrupt {
            what: dir.display().to_string(),
            detail,
        };
        let read = |name: &str| {
            let path = dir.join(name);
            fs::read(&path).map_err(|source| StoreError::Io {
                context: format!("reading {}", path.display()),
                source,
            })
        };
        let meta: BlockMeta = serde_json::from_slice(&read(META_FILE)?)
            .map_err(|e| corrupt(format!("{META_FILE}: {e}")))?;
        let trace_index = trace_index::decode(&read(INDEX_FILE)?)
            .ok_or_else(|| corrupt(format!("{INDEX_FILE}: bad length")))?;
        let tag_blooms = tag_bloom::TagBlooms::decode(&read(BLOOM_FILE)?)
            .ok_or_else(|| corrupt(format!("{BLOOM_FILE}: malformed")))?;
        let reader = read::open(&dir.join(DATA_FILE))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            meta,
            trace_index,
            tag_blooms,
            reader,
        })
    }

    /// Metadata.
    pub fn meta(&self) -> &BlockMeta {
        &self.meta
    }

    /// Deletes the block's directory.
    pub fn remove(&self) -> Result<(), StoreError> {
        fs::remove_dir_all(&self.dir).map_err(|source| StoreError::Io {
            context: format!("removing block {}", self.dir.display()),
            source,
        })
    }

    /// Operations of `service`.
    pub fn operations(&self, service: &str, kind: Option<SpanKind>, out: &mut Vec<Operation>) {
        out.extend(
            self.meta
                .operations
                .iter()
                .filter(|(s, _, k)| s == service && kind.is_none_or(|want| want == *k))
                .map(|(_, name, k)| Operation {
                    name: name.clone(),
                    kind: *k,
                }),
        );
    }

    /// Appends the spans of trace `ids[k]` to `outs[k]`, decoding each row
    /// group that holds any of them once.
    pub fn traces(&self, ids: &[TraceId], outs: &mut [Vec<Span>]) -> Result<(), StoreError> {
        let mut wanted: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (k, id) in ids.iter().enumerate() {
            for rg in trace_index::row_groups(&self.trace_index, &id.0) {
                wanted.entry(rg).or_default().push(k);
            }
        }
        let mut cache = SharedDecoded::default();
        for (rg, ks) in wanted {
            let columns = read::read_row_group(&self.reader, rg as usize, &read::ALL)?;
            for i in 0..columns.rows() {
                let Some(trace_id) = columns.trace_id(i) else {
                    continue;
                };
                for &k in &ks {
                    if ids.get(k) == Some(&trace_id) {
                        if let Some(out) = outs.get_mut(k) {
                            out.push(columns.span(i, &mut cache)?);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Offers the `filter.limit` newest matching traces of this block.
    pub fn search(&self, filter: &SpanFilter<'_>, out: &mut Candidates) -> Result<(), StoreError> {
        let meta = &self.meta;
        if meta.max_start < filter.start_min || meta.min_start > filter.start_max {
            return Ok(());
        }
        if let Some(service) = filter.service {
            let has_op = meta
                .operations
                .iter()
                .any(|(s, n, _)| s == service && filter.operation.is_none_or(|o| o == n));
            if !has_op {
                return Ok(());
            }
        }
        let reader = &self.reader;
        let mut groups: Vec<usize> = (0..meta.row_groups.len())
            .filter(|&i| {
                let rg = &meta.row_groups[i];
                rg.max_start >= filter.start_min
                    && rg.min_start <= filter.start_max
                    && filter
                        .service
                        .is_none_or(|s| rg.services.iter().any(|x| x == s))
            })
            .collect();
        // Newest first: once `limit` traces are found, older row groups cannot
        // displace them.
        groups.sort_by(|a, b| {
            meta.row_groups[*b]
                .max_start
                .cmp(&meta.row_groups[*a].max_start)
        });
        let mut local = Candidates::default();
        let mut cache = SharedDecoded::default();
        for rg_no in groups {
            let cutoff = local.cutoff(filter.limit).max(out.cutoff(filter.limit));
            if cutoff.is_some_and(|c| meta.row_groups[rg_no].max_start < c) {
                break;
            }
            if filter.has_tags() && !self.tag_blooms.may_match(rg_no, filter) {
                continue;
            }
            let mut columns = read::read_row_group(reader, rg_no, &CHEAP)?;
            let rows: Vec<usize> = (0..columns.rows())
                .filter(|&i| {
                    filter.matches_columns(
                        columns.service(i),
                        columns.name(i),
                        columns.start(i),
                        columns.duration(i),
                    )
                })
                .collect();
            if rows.is_empty() {
                continue;
            }
            if filter.has_tags() {
                read::read_into(reader, rg_no, &TAG_COLUMNS, &mut columns)?;
            }
            for i in rows {
                if filter.has_tags() && !columns.tags_match(i, filter, &mut cache)? {
                    continue;
                }
                if let Some(trace_id) = columns.trace_id(i) {
                    local.offer(trace_id, columns.start(i));
                }
            }
            local.keep_newest(filter.limit);
        }
        for (trace_id, start) in local.newest_with_starts(filter.limit) {
            out.offer(trace_id, start);
        }
        Ok(())
    }

    /// Appends one row per span that started in `[from, to]`.
    pub fn dependency_rows(
        &self,
        from: u64,
        to: u64,
        out: &mut Vec<DependencyRow>,
    ) -> Result<(), StoreError> {
        if self.meta.max_start < from || self.meta.min_start > to {
            return Ok(());
        }
        let reader = &self.reader;
        let projection = [
            col::TRACE_ID,
            col::SPAN_ID,
            col::PARENT_SPAN_ID,
            col::SERVICE,
            col::START,
        ];
        for (rg_no, rg) in self.meta.row_groups.iter().enumerate() {
            if rg.max_start < from || rg.min_start > to {
                continue;
            }
            let c = read::read_row_group(reader, rg_no, &projection)?;
            let mut services = ServiceNames::default();
            for i in 0..c.rows() {
                if !(from..=to).contains(&c.start(i)) {
                    continue;
                }
                if let (Some(trace_id), Some(span_id)) = (c.trace_id(i), c.span_id(i)) {
                    out.push(DependencyRow {
                        trace_id,
                        span_id,
                        parent_span_id: c.parent_span_id(i),
                        service: services.intern(c.service(i)),
                    });
                }
            }
        }
        Ok(())
    }

    /// Merges `sources` (oldest first) into one new block, streaming one
    /// row group at a time (memory stays at about two row groups of spans);
    /// gives up with `Closed` once `cancel` is set.
    pub fn merge(
        blocks_dir: &Path,
        sources: &[std::sync::Arc<Block>],
        wal_upto: u64,
        replaces: Vec<String>,
        cancel: &std::sync::atomic::AtomicBool,
    ) -> Result<Self, StoreError> {
        let id = new_block_id();
        let mut writer = write::BlockWriter::create(blocks_dir, &id, wal_upto, replaces)?;
        let mut buffer: Vec<Span> = Vec::new();
        let flush_full = |buffer: &mut Vec<Span>, writer: &mut write::BlockWriter| {
            while buffer.len() >= write::ROW_GROUP_ROWS {
                let rest = buffer.split_off(write::ROW_GROUP_ROWS);
                let refs: Vec<&Span> = buffer.iter().collect();
                writer.write_row_group(&refs)?;
                *buffer = rest;
            }
            Ok::<(), StoreError>(())
        };
        for block in sources {
            for rg in 0..block.meta.row_groups.len() {
                if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                    return Err(StoreError::Closed); // the `.tmp` dir is removed on next open
                }
                let columns = read::read_row_group(&block.reader, rg, &read::ALL)?;
                let mut cache = SharedDecoded::default();
                for i in 0..columns.rows() {
                    buffer.push(columns.span(i, &mut cache)?);
                }
                flush_full(&mut buffer, &mut writer)?;
            }
        }
        let refs: Vec<&Span> = buffer.iter().collect();
        writer.write_row_group(&refs)?;
        writer.finish()?;
        Self::open(&blocks_dir.join(&id))
    }
}
