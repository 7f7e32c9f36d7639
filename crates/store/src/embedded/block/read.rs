//! Reads row groups of a block's Parquet file into column vectors, decoding
//! only the projected columns (and, when asked, only some rows), and rebuilds full spans for the rows a query
//! needs. The file is memory-mapped once per block: reads are slices (no
//! shared file offset between concurrent queries, no syscalls), and a block
//! deleted by retention stays readable by queries that still hold it.

use bytes::Bytes;
use model::{Resource, Scope, Span, SpanId, Status, TraceId};
use parquet::column::reader::get_typed_column_reader;
use parquet::data_type::{
    ByteArray, ByteArrayType, DataType, FixedLenByteArray, FixedLenByteArrayType, Int32Type,
    Int64Type,
};
use parquet::file::reader::{FileReader, RowGroupReader};
use parquet::file::serialized_reader::SerializedFileReader;
use rustc_hash::FxHashMap;
use std::fs::File;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use super::schema::{self, col, DetailsAttributes, DetailsOwned};
use super::{attr_check, parquet_err};
use crate::embedded::filter::SpanFilter;
use crate::embedded::legacy::{ScopeV1, SpanLinkV1};
use crate::StoreError;

/// Columns of one row group; columns not projected are empty.
#[derive(Default)]
pub struct Columns {
    pub trace_id: Vec<FixedLenByteArray>,
    pub span_id: Vec<FixedLenByteArray>,
    pub parent_span_id: Vec<FixedLenByteArray>,
    pub service: Vec<ByteArray>,
    pub name: Vec<ByteArray>,
    pub kind: Vec<i32>,
    pub start: Vec<i64>,
    pub duration: Vec<i64>,
    pub status_code: Vec<i32>,
    pub resource: Vec<ByteArray>,
    pub scope: Vec<ByteArray>,
    pub details: Vec<ByteArray>,
}

/// Every column.
pub const ALL: [usize; col::COUNT] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

/// A block's Parquet file, mapped.
pub type BlockReader = SerializedFileReader<Bytes>;

/// Maps a block's Parquet file and parses its footer.
pub fn open(path: &Path) -> Result<BlockReader, StoreError> {
    let io = |source| StoreError::Io {
        context: format!("mapping block file {}", path.display()),
        source,
    };
    let file = File::open(path).map_err(io)?;
    // SAFETY: block files are immutable once renamed into place and are only
    // ever unlinked, never truncated or rewritten, so the mapping stays valid.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
    SerializedFileReader::new(Bytes::from_owner(map)).map_err(parquet_err("reading block footer"))
}

/// Reads the rows `ranges` (ascending, within `rows`) of one column,
/// skipping the rest: pages holding none of them are not decompressed.
fn read_column<T: DataType>(
    rg: &dyn RowGroupReader,
    column: usize,
    rows: usize,
    ranges: Option<&[Range<usize>]>,
) -> Result<Vec<T::T>, StoreError> {
    let reader = rg
        .get_column_reader(column)
        .map_err(parquet_err("opening column"))?;
    let mut typed = get_typed_column_reader::<T>(reader);
    let all = [Range {
        start: 0,
        end: rows,
    }];
    let ranges = ranges.unwrap_or(&all);
    let mut values = Vec::with_capacity(ranges.iter().map(|r| r.len()).sum());
    let mut at = 0;
    let short = || corrupt(format!("column {column} has fewer rows than its row group"));
    for range in ranges {
        let gap = range.start.saturating_sub(at);
        if gap > 0
            && typed
                .skip_records(gap)
                .map_err(parquet_err("skipping rows"))?
                < gap
        {
            return Err(short());
        }
        let want = values.len() + range.len();
        while values.len() < want {
            let (records, _, _) = typed
                .read_records(want - values.len(), None, None, &mut values)
                .map_err(parquet_err("reading column"))?;
            if records == 0 {
                return Err(short());
            }
        }
        at = range.end;
    }
    Ok(values)
}

/// Reads row group `index` with the columns in `projection`.
pub fn read_row_group(
    reader: &BlockReader,
    index: usize,
    projection: &[usize],
) -> Result<Columns, StoreError> {
    let mut c = Columns::default();
    read_into(reader, index, projection, None, &mut c)?;
    Ok(c)
}

/// Reads the columns in `projection` of row group `index` into `c`: only
/// the rows in `ranges` (ascending row numbers) when given, else all rows.
pub fn read_into(
    reader: &BlockReader,
    index: usize,
    projection: &[usize],
    ranges: Option<&[Range<usize>]>,
    c: &mut Columns,
) -> Result<(), StoreError> {
    let rg = reader
        .get_row_group(index)
        .map_err(parquet_err("opening row group"))?;
    let rows = usize::try_from(rg.metadata().num_rows()).unwrap_or(0);
    let rg = rg.as_ref();
    for &column in projection {
        match column {
            col::TRACE_ID => {
                c.trace_id = read_column::<FixedLenByteArrayType>(rg, column, rows, ranges)?
            }
            col::SPAN_ID => {
                c.span_id = read_column::<FixedLenByteArrayType>(rg, column, rows, ranges)?
            }
            col::PARENT_SPAN_ID => {
                c.parent_span_id = read_column::<FixedLenByteArrayType>(rg, column, rows, ranges)?
            }
            col::SERVICE => c.service = read_column::<ByteArrayType>(rg, column, rows, ranges)?,
            col::NAME => c.name = read_column::<ByteArrayType>(rg, column, rows, ranges)?,
            col::KIND => c.kind = read_column::<Int32Type>(rg, column, rows, ranges)?,
            col::START => c.start = read_column::<Int64Type>(rg, column, rows, ranges)?,
            col::DURATION => c.duration = read_column::<Int64Type>(rg, column, rows, ranges)?,
            col::STATUS_CODE => c.status_code = read_column::<Int32Type>(rg, column, rows, ranges)?,
            col::RESOURCE => c.resource = read_column::<ByteArrayType>(rg, column, rows, ranges)?,
            col::SCOPE => c.scope = read_column::<ByteArrayType>(rg, column, rows, ranges)?,
            col::DETAILS => c.details = read_column::<ByteArrayType>(rg, column, rows, ranges)?,
            _ => {}
        }
    }
    Ok(())
}

fn corrupt(detail: String) -> StoreError {
    StoreError::Corrupt {
        what: "block".into(),
        detail,
    }
}

/// Decoded resources and scopes shared across rows, so spans of one service
/// share one `Arc` as they did before the flush.
#[derive(Default)]
pub struct SharedDecoded {
    resources: FxHashMap<Vec<u8>, Arc<Resource>>,
    scopes: FxHashMap<Vec<u8>, Arc<Scope>>,
    /// Block format 1 (`schema::FORMAT`): scopes and links in their old layout.
    format_1: bool,
}

impl SharedDecoded {
    /// An empty cache for a block of storage format `format`.
    pub fn for_format(format: u32) -> Self {
        Self {
            format_1: format < 2,
            ..Self::default()
        }
    }
}

fn shared<T: serde::de::DeserializeOwned>(
    cache: &mut FxHashMap<Vec<u8>, Arc<T>>,
    bytes: &[u8],
) -> Result<Arc<T>, StoreError> {
    shared_as::<T, T>(cache, bytes)
}

/// [`shared`] for a value stored as `S` (an older layout of `T`).
fn shared_as<S: serde::de::DeserializeOwned + Into<T>, T>(
    cache: &mut FxHashMap<Vec<u8>, Arc<T>>,
    bytes: &[u8],
) -> Result<Arc<T>, StoreError> {
    if let Some(v) = cache.get(bytes) {
        return Ok(Arc::clone(v));
    }
    let stored: S =
        postcard::from_bytes(bytes).map_err(|e| corrupt(format!("resource/scope: {e}")))?;
    let v = Arc::new(stored.into());
    cache.insert(bytes.to_vec(), Arc::clone(&v));
    Ok(v)
}

impl Columns {
    /// Number of rows (of the trace id column, always projected).
    pub fn rows(&self) -> usize {
        self.trace_id.len().max(self.start.len())
    }

    /// Trace id of row `i`.
    pub fn trace_id(&self, i: usize) -> Option<TraceId> {
        self.trace_id
            .get(i)
            .and_then(|b| TraceId::from_slice(b.data()))
    }

    /// Service of row `i` (empty when not UTF-8).
    pub fn service(&self, i: usize) -> &str {
        self.service
            .get(i)
            .and_then(|b| std::str::from_utf8(b.data()).ok())
            .unwrap_or("")
    }

    /// Operation of row `i`.
    pub fn name(&self, i: usize) -> &str {
        self.name
            .get(i)
            .and_then(|b| std::str::from_utf8(b.data()).ok())
            .unwrap_or("")
    }

    /// Start of row `i`.
    pub fn start(&self, i: usize) -> u64 {
        self.start.get(i).map_or(0, |v| *v as u64)
    }

    /// Duration of row `i`.
    pub fn duration(&self, i: usize) -> u64 {
        self.duration.get(i).map_or(0, |v| *v as u64)
    }

    /// Parent of row `i` (`None` for roots).
    pub fn parent_span_id(&self, i: usize) -> Option<SpanId> {
        self.parent_span_id
            .get(i)
            .and_then(|b| SpanId::from_slice(b.data()))
            .filter(|p| !p.is_zero())
    }

    /// Span id of row `i`.
    pub fn span_id(&self, i: usize) -> Option<SpanId> {
        self.span_id
            .get(i)
            .and_then(|b| SpanId::from_slice(b.data()))
    }

    /// Whether row `i` passes the tag part of `filter` (needs the kind,
    /// status, resource and details columns). Decodes only the attributes,
    /// borrowing their strings.
    pub fn tags_match(
        &self,
        i: usize,
        filter: &SpanFilter<'_>,
        cache: &mut SharedDecoded,
    ) -> Result<bool, StoreError> {
        let missing = || corrupt(format!("row {i} is missing a column"));
        let details = self.details.get(i).ok_or_else(missing)?.data();
        let (head, _): (DetailsAttributes<'_>, _) = postcard::take_from_bytes(details)
            .map_err(|e| corrupt(format!("span details: {e}")))?;
        let resource = shared(
            &mut cache.resources,
            self.resource.get(i).ok_or_else(missing)?.data(),
        )?;
        let kind = schema::kind_from_code(self.kind.get(i).copied().unwrap_or(0));
        let status = schema::status_from_code(self.status_code.get(i).copied().unwrap_or(0));
        Ok(filter.tags_match(kind, status, |key, value| {
            head.attributes
                .iter()
                .any(|kv| kv.key == key && kv.value.text_is(value))
                || resource
                    .attributes
                    .iter()
                    .any(|kv| kv.key == key && kv.value.to_text() == value)
        }))
    }

    /// Whether the span attributes of row `i` (needs the details column)
    /// include every `(key, text)` of `tags` (at most
    /// [`attr_check::MAX_TAGS`]); resources are not consulted.
    pub fn has_span_attributes(&self, i: usize, tags: &[(&str, &str)]) -> Result<bool, StoreError> {
        let details = self
            .details
            .get(i)
            .ok_or_else(|| corrupt(format!("row {i} is missing its details")))?;
        attr_check::has_attributes(details.data(), tags)
            .map_err(|e| corrupt(format!("span details: {e}")))
    }

    /// Rebuilds the full span of row `i` (needs every column).
    pub fn span(&self, i: usize, cache: &mut SharedDecoded) -> Result<Span, StoreError> {
        let missing = || corrupt(format!("row {i} is missing a column"));
        let trace_id = self.trace_id(i).ok_or_else(missing)?;
        let span_id = self.span_id(i).ok_or_else(missing)?;
        let details_bytes = self.details.get(i).ok_or_else(missing)?.data();
        let scope_bytes = self.scope.get(i).ok_or_else(missing)?.data();
        let details_error = |e: postcard::Error| corrupt(format!("span details: {e}"));
        let (details, scope): (DetailsOwned, _) = if cache.format_1 {
            let d: DetailsOwned<SpanLinkV1> =
                postcard::from_bytes(details_bytes).map_err(details_error)?;
            let details = DetailsOwned {
                links: d.links.into_iter().map(Into::into).collect(),
                trace_state: d.trace_state,
                flags: d.flags,
                attributes: d.attributes,
                dropped_attributes_count: d.dropped_attributes_count,
                events: d.events,
                dropped_events_count: d.dropped_events_count,
                dropped_links_count: d.dropped_links_count,
                status_message: d.status_message,
                end_if_before_start: d.end_if_before_start,
            };
            (
                details,
                shared_as::<ScopeV1, _>(&mut cache.scopes, scope_bytes)?,
            )
        } else {
            (
                postcard::from_bytes(details_bytes).map_err(details_error)?,
                shared(&mut cache.scopes, scope_bytes)?,
            )
        };
        let resource = shared(
            &mut cache.resources,
            self.resource.get(i).ok_or_else(missing)?.data(),
        )?;
        let start = self.start(i);
        Ok(Span {
            trace_id,
            span_id,
            parent_span_id: self.parent_span_id(i),
            trace_state: details.trace_state,
            flags: details.flags,
            name: self.name(i).to_string(),
            kind: schema::kind_from_code(self.kind.get(i).copied().unwrap_or(0)),
            start_unix_nano: start,
            end_unix_nano: details
                .end_if_before_start
                .unwrap_or(start.saturating_add(self.duration(i))),
            attributes: details.attributes,
            dropped_attributes_count: details.dropped_attributes_count,
            events: details.events,
            dropped_events_count: details.dropped_events_count,
            links: details.links,
            dropped_links_count: details.dropped_links_count,
            status: Status {
                code: schema::status_from_code(self.status_code.get(i).copied().unwrap_or(0)),
                message: details.status_message,
            },
            resource,
            scope,
        })
    }
}
