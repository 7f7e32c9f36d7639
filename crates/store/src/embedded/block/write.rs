//! Writes spans as one block: a Parquet file sorted by (trace start, trace
//! id, span start) in pages of one granule, its trace-id index, per-granule
//! Bloom filters and `meta.json`. The
//! block is built in `<id>.tmp/` and renamed into place, so a crash never
//! leaves a half-written block that recovery would trust.

use bytes::Bytes;
use model::{Resource, Scope, Span};
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::data_type::{
    ByteArray, ByteArrayType, FixedLenByteArray, FixedLenByteArrayType, Int32Type, Int64Type,
};
use parquet::file::properties::{WriterProperties, WriterVersion};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::ColumnPath;
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use super::granule_bloom::{GranuleBloomWriter, GRANULE_ROWS};
use super::meta::{BlockMeta, RowGroupMeta};
use super::schema::{self, DetailsRef, SCHEMA};
use super::{parquet_err, trace_index, DATA_FILE, GRANULE_FILE, INDEX_FILE, META_FILE};
use crate::embedded::wal::sync_dir;
use crate::StoreError;

/// Rows per row group: small enough that a trace lookup decodes little.
pub const ROW_GROUP_ROWS: usize = 8192;
/// Rows per data page of the `details` column: one granule of the tag
/// filters, so a skipped granule is a page never decompressed (at 10 M
/// spans, 512-row pages cost 0.8 B/span more than one page per row group and
/// make a rare tag pair search take 20 % less CPU than 1024-row pages).
const DETAILS_PAGE_ROWS: usize = GRANULE_ROWS;

fn io_err(context: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

fn properties() -> Result<WriterProperties, StoreError> {
    let zstd = ZstdLevel::try_new(6).map_err(parquet_err("zstd level"))?;
    let plain =
        |b: parquet::file::properties::WriterPropertiesBuilder, name: &str, enc: Encoding| {
            b.set_column_dictionary_enabled(ColumnPath::from(name), false)
                .set_column_encoding(ColumnPath::from(name), enc)
        };
    let mut b = WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_2_0)
        .set_compression(Compression::ZSTD(zstd))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        // Small `details` pages, so a search skips the pages of granules its
        // Bloom filters rule out without decompressing them.
        .set_write_batch_size(DETAILS_PAGE_ROWS)
        .set_column_data_page_row_count_limit(ColumnPath::from("details"), DETAILS_PAGE_ROWS);
    b = plain(b, "span_id", Encoding::PLAIN);
    b = plain(b, "parent_span_id", Encoding::PLAIN);
    b = plain(b, "start_unix_nano", Encoding::DELTA_BINARY_PACKED);
    b = plain(b, "duration_nanos", Encoding::DELTA_BINARY_PACKED);
    b = plain(b, "details", Encoding::PLAIN);
    Ok(b.build())
}

/// Encodes `value` with postcard, caching by `Arc` pointer.
fn encode_shared<T: serde::Serialize>(
    cache: &mut FxHashMap<*const T, ByteArray>,
    value: &Arc<T>,
) -> Result<ByteArray, StoreError> {
    if let Some(b) = cache.get(&Arc::as_ptr(value)) {
        return Ok(b.clone());
    }
    let bytes = postcard::to_stdvec(value.as_ref()).map_err(|e| StoreError::Corrupt {
        what: "block".into(),
        detail: format!("cannot encode: {e}"),
    })?;
    let b = ByteArray::from(bytes);
    cache.insert(Arc::as_ptr(value), b.clone());
    Ok(b)
}

/// Writes a block row group by row group, so compaction can stream blocks
/// through it with bounded memory.
pub struct BlockWriter {
    blocks_dir: std::path::PathBuf,
    id: String,
    tmp: std::path::PathBuf,
    writer: SerializedFileWriter<File>,
    row_groups: Vec<RowGroupMeta>,
    index: Vec<([u8; 16], u32)>,
    services: BTreeSet<String>,
    operations: BTreeSet<(String, String, model::SpanKind)>,
    granule_blooms: GranuleBloomWriter,
    rows: u64,
    wal_upto: u64,
    replaces: Vec<String>,
}

impl BlockWriter {
    /// Starts block `id` in `<blocks_dir>/<id>.tmp/`.
    pub fn create(
        blocks_dir: &Path,
        id: &str,
        wal_upto: u64,
        replaces: Vec<String>,
    ) -> Result<Self, StoreError> {
        let tmp = blocks_dir.join(format!("{id}.tmp"));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp).map_err(io_err(format!("creating {}", tmp.display())))?;
        let data_path = tmp.join(DATA_FILE);
        let file = File::create(&data_path)
            .map_err(io_err(format!("creating {}", data_path.display())))?;
        let schema = Arc::new(parse_message_type(SCHEMA).map_err(parquet_err("block schema"))?);
        let writer = SerializedFileWriter::new(file, schema, Arc::new(properties()?))
            .map_err(parquet_err("starting block file"))?;
        Ok(Self {
            blocks_dir: blocks_dir.to_path_buf(),
            id: id.to_string(),
            tmp,
            writer,
            row_groups: Vec::new(),
            index: Vec::new(),
            services: BTreeSet::new(),
            operations: BTreeSet::new(),
            granule_blooms: GranuleBloomWriter::default(),
            rows: 0,
            wal_upto,
            replaces,
        })
    }

    /// Writes `chunk` (at most [`ROW_GROUP_ROWS`] spans, in the block's sort
    /// order) as the next row group.
    pub fn write_row_group(&mut self, chunk: &[&Span]) -> Result<(), StoreError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let rg_no = self.row_groups.len() as u32;
        // Keyed by pointer: valid only while `chunk` keeps the Arcs alive.
        let mut resources: FxHashMap<*const Resource, ByteArray> = FxHashMap::default();
        let mut scopes: FxHashMap<*const Scope, ByteArray> = FxHashMap::default();
        let mut operations = BTreeSet::new();
        // Ids, names and details go into one buffer each and the column
        // values are slices of it: one allocation per column, not per row.
        let mut ids = Vec::with_capacity(chunk.len() * ID_BYTES);
        let mut text = Vec::new();
        let mut text_ends = Vec::with_capacity(chunk.len() * 2);
        let mut detail_bytes = Vec::with_capacity(chunk.len() * 256);
        let mut detail_ends = Vec::with_capacity(chunk.len());
        let mut kinds = Vec::with_capacity(chunk.len());
        let mut starts = Vec::with_capacity(chunk.len());
        let mut durations = Vec::with_capacity(chunk.len());
        let mut statuses = Vec::with_capacity(chunk.len());
        let mut resource_col = Vec::with_capacity(chunk.len());
        let mut scope_col = Vec::with_capacity(chunk.len());
        let mut rg_meta = RowGroupMeta {
            rows: chunk.len() as u64,
            min_start: u64::MAX,
            max_start: 0,
            services: Vec::new(),
        };
        self.granule_blooms.add_row_group(chunk);
        for s in chunk {
            if self.index.last() != Some(&(s.trace_id.0, rg_no)) {
                self.index.push((s.trace_id.0, rg_no));
            }
            if !rg_meta.services.iter().any(|x| x == s.service()) {
                rg_meta.services.push(s.service().to_string());
            }
            operations.insert((s.service(), s.name.as_str(), s.kind));
            rg_meta.min_start = rg_meta.min_start.min(s.start_unix_nano);
            rg_meta.max_start = rg_meta.max_start.max(s.start_unix_nano);
            ids.extend_from_slice(&s.trace_id.0);
            ids.extend_from_slice(&s.span_id.0);
            ids.extend_from_slice(&s.parent_span_id.unwrap_or_default().0);
            text.extend_from_slice(s.service().as_bytes());
            text_ends.push(text.len());
            text.extend_from_slice(s.name.as_bytes());
            text_ends.push(text.len());
            kinds.push(schema::kind_code(s.kind));
            starts.push(s.start_unix_nano as i64);
            durations.push(s.duration_nanos() as i64);
            statuses.push(schema::status_code(s.status.code));
            resource_col.push(encode_shared(&mut resources, &s.resource)?);
            scope_col.push(encode_shared(&mut scopes, &s.scope)?);
            let d = DetailsRef {
                trace_state: &s.trace_state,
                flags: s.flags,
                attributes: &s.attributes,
                dropped_attributes_count: s.dropped_attributes_count,
                events: &s.events,
                dropped_events_count: s.dropped_events_count,
                links: &s.links,
                dropped_links_count: s.dropped_links_count,
                status_message: &s.status.message,
                end_if_before_start: (s.end_unix_nano < s.start_unix_nano)
                    .then_some(s.end_unix_nano),
            };
            detail_bytes =
                postcard::to_extend(&d, detail_bytes).map_err(|e| StoreError::Corrupt {
                    what: "block".into(),
                    detail: format!("cannot encode span details: {e}"),
                })?;
            detail_ends.push(detail_bytes.len());
        }
        let ids = Bytes::from(ids);
        let id_column = |offset: usize, len: usize| -> Vec<FixedLenByteArray> {
            (0..chunk.len())
                .map(|i| {
                    let at = i * ID_BYTES + offset;
                    FixedLenByteArray::from(ByteArray::from(ids.slice(at..at + len)))
                })
                .collect()
        };
        let trace_ids = id_column(0, 16);
        let span_ids = id_column(16, 8);
        let parents = id_column(24, 8);
        let text_values = slices(Bytes::from(text), &text_ends);
        let (service_col, names): (Vec<ByteArray>, Vec<ByteArray>) = text_values
            .chunks_exact(2)
            .map(|pair| (pair[0].clone(), pair[1].clone()))
            .unzip();
        let details = slices(Bytes::from(detail_bytes), &detail_ends);
        let mut rg = self
            .writer
            .next_row_group()
            .map_err(parquet_err("starting row group"))?;
        let mut column = 0;
        while let Some(mut c) = rg.next_column().map_err(parquet_err("starting column"))? {
            let written = match column {
                schema::col::TRACE_ID => c
                    .typed::<FixedLenByteArrayType>()
                    .write_batch(&trace_ids, None, None),
                schema::col::SPAN_ID => c
                    .typed::<FixedLenByteArrayType>()
                    .write_batch(&span_ids, None, None),
                schema::col::PARENT_SPAN_ID => c
                    .typed::<FixedLenByteArrayType>()
                    .write_batch(&parents, None, None),
                schema::col::SERVICE => {
                    c.typed::<ByteArrayType>()
                        .write_batch(&service_col, None, None)
                }
                schema::col::NAME => c.typed::<ByteArrayType>().write_batch(&names, None, None),
                schema::col::KIND => c.typed::<Int32Type>().write_batch(&kinds, None, None),
                schema::col::START => c.typed::<Int64Type>().write_batch(&starts, None, None),
                schema::col::DURATION => c.typed::<Int64Type>().write_batch(&durations, None, None),
                schema::col::STATUS_CODE => {
                    c.typed::<Int32Type>().write_batch(&statuses, None, None)
                }
                schema::col::RESOURCE => {
                    c.typed::<ByteArrayType>()
                        .write_batch(&resource_col, None, None)
                }
                schema::col::SCOPE => c
                    .typed::<ByteArrayType>()
                    .write_batch(&scope_col, None, None),
                _ => c.typed::<ByteArrayType>().write_batch(&details, None, None),
            };
            written.map_err(parquet_err("writing column"))?;
            c.close().map_err(parquet_err("closing column"))?;
            column += 1;
        }
        rg.close().map_err(parquet_err("closing row group"))?;
        rg_meta.services.sort();
        for service in &rg_meta.services {
            if !self.services.contains(service) {
                self.services.insert(service.clone());
            }
        }
        for (s, n, k) in operations {
            if !self.operations.contains(&(s.to_string(), n.to_string(), k)) {
                self.operations.insert((s.to_string(), n.to_string(), k));
            }
        }
        self.rows += chunk.len() as u64;
        self.row_groups.push(rg_meta);
        Ok(())
    }

    /// Closes the file, writes the index, Bloom filters and metadata, and
    /// renames the block into place.
    pub fn finish(self) -> Result<BlockMeta, StoreError> {
        let tmp = self.tmp;
        self.writer
            .close()
            .map_err(parquet_err("closing block file"))?;
        let data_path = tmp.join(DATA_FILE);
        File::open(&data_path)
            .and_then(|f| f.sync_all())
            .map_err(io_err(format!("syncing {}", data_path.display())))?;

        let mut index = self.index;
        index.sort_unstable();
        index.dedup();
        let index_path = tmp.join(INDEX_FILE);
        write_synced(&index_path, &trace_index::encode(&index))?;
        let bloom_path = tmp.join(GRANULE_FILE);
        write_synced(&bloom_path, &self.granule_blooms.finish())?;

        let bytes = [&data_path, &index_path, &bloom_path]
            .iter()
            .map(|p| fs::metadata(p).map(|m| m.len()).unwrap_or(0))
            .sum();
        let row_groups = self.row_groups;
        let meta = BlockMeta {
            id: self.id.clone(),
            rows: self.rows,
            min_start: row_groups.iter().map(|r| r.min_start).min().unwrap_or(0),
            max_start: row_groups.iter().map(|r| r.max_start).max().unwrap_or(0),
            services: self.services.into_iter().collect(),
            operations: self.operations.into_iter().collect(),
            row_groups,
            wal_upto: self.wal_upto,
            replaces: self.replaces,
            bytes,
            format: schema::FORMAT,
        };
        let meta_json = serde_json::to_vec_pretty(&meta).map_err(|e| StoreError::Corrupt {
            what: "block meta".into(),
            detail: e.to_string(),
        })?;
        write_synced(&tmp.join(META_FILE), &meta_json)?;
        sync_dir(&tmp)?;
        let final_dir = self.blocks_dir.join(&self.id);
        fs::rename(&tmp, &final_dir)
            .map_err(io_err(format!("publishing block {}", final_dir.display())))?;
        sync_dir(&self.blocks_dir)?;
        Ok(meta)
    }
}

/// Writes `spans` (any order) as block `id` under `blocks_dir`.
pub fn write_block(
    blocks_dir: &Path,
    id: &str,
    spans: &[&Span],
    wal_upto: u64,
    replaces: Vec<String>,
) -> Result<BlockMeta, StoreError> {
    // Sorted by (trace start, trace id, span start): a trace's spans are
    // contiguous (one row group per lookup, trace ids run-length encode) and
    // row groups are time-ordered (searches read newest first and stop early).
    let mut trace_start: FxHashMap<model::TraceId, u64> = FxHashMap::default();
    for s in spans {
        let e = trace_start.entry(s.trace_id).or_insert(u64::MAX);
        *e = (*e).min(s.start_unix_nano);
    }
    let mut order: Vec<&Span> = spans.to_vec();
    order.sort_by_cached_key(|s| {
        (
            trace_start.get(&s.trace_id).copied().unwrap_or(0),
            s.trace_id,
            s.start_unix_nano,
        )
    });
    let mut writer = BlockWriter::create(blocks_dir, id, wal_upto, replaces)?;
    for chunk in order.chunks(ROW_GROUP_ROWS) {
        writer.write_row_group(chunk)?;
    }
    writer.finish()
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut f = File::create(path).map_err(io_err(format!("creating {}", path.display())))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(io_err(format!("writing {}", path.display())))
}

/// Bytes of one row's trace id, span id and parent span id in the id buffer.
const ID_BYTES: usize = 32;

/// Splits `buffer` at `ends` (each value's end offset) into column values
/// sharing it.
fn slices(buffer: Bytes, ends: &[usize]) -> Vec<ByteArray> {
    let mut start = 0;
    ends.iter()
        .map(|&end| {
            let value = ByteArray::from(buffer.slice(start..end));
            start = end;
            value
        })
        .collect()
}
