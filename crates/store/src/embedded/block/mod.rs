//! Immutable Parquet blocks under `DATA_DIR/blocks/<id>/`: `spans.parquet`
//! (one row per span, see `schema`), `trace_index.bin` (trace id → row
//! groups), `tag_granules.bin` (per granule of rows, which `key=value`
//! attributes may occur; blocks written before it have `tag_bloom.bin`, per
//! row group) and `meta.json` (time range, services, operations, row-group
//! ranges) so queries skip blocks, row groups and pages they cannot match.

mod attr_check;
mod find;
#[cfg(test)]
mod format_1_tests;
mod granule_bloom;
mod meta;
mod read;
mod schema;
mod tag_bloom;
mod token;
mod trace_index;
mod write;

pub use meta::BlockMeta;

use model::{Span, SpanKind, TraceId};
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::search::DependencyRow;
use crate::{Operation, StoreError};
use read::SharedDecoded;
use schema::col;

/// The Parquet file of a block.
pub const DATA_FILE: &str = "spans.parquet";
/// The trace-id index of a block.
pub const INDEX_FILE: &str = "trace_index.bin";
/// The metadata of a block.
pub const META_FILE: &str = "meta.json";
/// Per-row-group Bloom filters of `key=value` attribute tokens (blocks
/// written before [`GRANULE_FILE`]).
pub const BLOOM_FILE: &str = "tag_bloom.bin";
/// Per-granule Bloom filters of `key=value` attribute tokens.
pub const GRANULE_FILE: &str = "tag_granules.bin";

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

/// Which attribute-token filters a block has.
enum TagFilters {
    /// Per granule (blocks written now).
    Granules(granule_bloom::GranuleBlooms),
    /// Per row group (older blocks).
    RowGroups(tag_bloom::TagBlooms),
    /// None usable: tag searches read every row.
    None,
}

/// One block, with its metadata and trace index in memory.
pub struct Block {
    dir: PathBuf,
    meta: BlockMeta,
    trace_index: Vec<([u8; 16], u32)>,
    tag_filters: TagFilters,
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
        if meta.format > schema::FORMAT {
            return Err(corrupt(format!(
                "written in storage format {}, this whyslow reads up to {}: upgrade whyslow",
                meta.format,
                schema::FORMAT
            )));
        }
        let trace_index = trace_index::decode(&read(INDEX_FILE)?)
            .ok_or_else(|| corrupt(format!("{INDEX_FILE}: bad length")))?;
        let optional = |name: &str| match read(name) {
            Err(StoreError::Io { source, .. }) if source.kind() == ErrorKind::NotFound => Ok(None),
            other => other.map(Some),
        };
        // A damaged granule file only costs speed: searches read every row.
        let granules = optional(GRANULE_FILE)?
            .and_then(|bytes| granule_bloom::GranuleBlooms::decode(&bytes, &meta.row_groups));
        let tag_filters = match (granules, optional(BLOOM_FILE)?) {
            (Some(granules), _) => TagFilters::Granules(granules),
            (None, Some(bytes)) => TagFilters::RowGroups(
                tag_bloom::TagBlooms::decode(&bytes)
                    .ok_or_else(|| corrupt(format!("{BLOOM_FILE}: malformed")))?,
            ),
            (None, None) => TagFilters::None,
        };
        let reader = read::open(&dir.join(DATA_FILE))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            meta,
            trace_index,
            tag_filters,
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
        let mut cache = SharedDecoded::for_format(self.meta.format);
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
                let mut cache = SharedDecoded::for_format(block.meta.format);
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
