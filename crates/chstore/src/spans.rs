//! [`ClickHouseSpanStore`]: the [`SpanStore`] over the `spans`, `span_index`
//! and `span_ops` tables of [`crate::schema`].
//!
//! Writes go through [`crate::batch`] (acknowledged once inserted); reads
//! ask ClickHouse directly and drop the duplicates a retried insert may
//! have left before merges collapse them.

use crate::batch::{self, Batcher};
use crate::client::Client;
use crate::rowbinary::{day_of_ns, RowReader, RowWriter};
use crate::span_sql;
use model::{Span, SpanKind, StatusCode, TraceId};
use std::collections::BTreeSet;
use std::sync::Arc;
use store::embedded::codec::{decode_spans, encode_spans};
use store::{DependencyLink, Operation, SpanStore, StoreError, TraceQuery, WriteAck};

/// Trace ids per `IN (…)` list when fetching traces (about 45 bytes each).
const IDS_PER_QUERY: usize = 2000;

/// Spans in ClickHouse.
pub struct ClickHouseSpanStore {
    client: Arc<Client>,
    writer: Batcher<Rows>,
}

impl std::fmt::Debug for ClickHouseSpanStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouseSpanStore")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl ClickHouseSpanStore {
    /// A store over `client` (whose schema is migrated) holding at most
    /// `budget_bytes` of spans not yet inserted.
    pub fn new(client: Arc<Client>, budget_bytes: u64) -> Self {
        let writer = Batcher::new(&client, budget_bytes, None);
        Self { client, writer }
    }

    fn query(&self, sql: String) -> Result<bytes::Bytes, StoreError> {
        Ok(self.client.rows(&sql)?)
    }

    /// Spans of the given traces, grouped by trace.
    fn spans_of(&self, ids: &[TraceId]) -> Result<Vec<(TraceId, Vec<Span>)>, StoreError> {
        let mut by_trace: Vec<(TraceId, Vec<Span>)> =
            ids.iter().map(|&id| (id, Vec::new())).collect();
        let position: std::collections::HashMap<TraceId, usize> =
            ids.iter().enumerate().map(|(i, &id)| (id, i)).collect();
        let mut seen = BTreeSet::new();
        // Chunks keep each statement far below ClickHouse's max_query_size (256 KiB).
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let list: Vec<[u8; 16]> = chunk.iter().map(|id| id.0).collect();
            let answer = self.query(span_sql::spans_of(&list))?;
            let mut rows = RowReader::new(&answer);
            while !rows.is_done() {
                let trace = TraceId(rows.fixed::<16>().map_err(StoreError::from)?);
                let data = rows.bytes().map_err(StoreError::from)?;
                let Some(&at) = position.get(&trace) else {
                    continue;
                };
                for span in decode_spans(data)? {
                    // A retried insert may have stored a span twice.
                    if seen.insert((span.trace_id, span.span_id)) {
                        by_trace[at].1.push(span);
                    }
                }
            }
        }
        for (_, spans) in &mut by_trace {
            spans.sort_by_key(|s| (s.start_unix_nano, s.span_id));
        }
        Ok(by_trace)
    }
}

impl SpanStore for ClickHouseSpanStore {
    fn write(&self, spans: Vec<Span>) -> Result<WriteAck, StoreError> {
        let mut rows = Rows::default();
        for span in &spans {
            rows.add(span)?;
        }
        self.writer.push(rows)
    }

    fn services(&self) -> Result<Vec<String>, StoreError> {
        let answer = self.query(span_sql::services())?;
        let mut rows = RowReader::new(&answer);
        let mut services = Vec::new();
        while !rows.is_done() {
            services.push(rows.string().map_err(StoreError::from)?);
        }
        Ok(services)
    }

    fn operations(
        &self,
        service: &str,
        kind: Option<SpanKind>,
    ) -> Result<Vec<Operation>, StoreError> {
        let answer = self.query(span_sql::operations(
            service,
            kind.map(SpanKind::otlp_number),
        ))?;
        let mut rows = RowReader::new(&answer);
        let mut operations = Vec::new();
        while !rows.is_done() {
            let name = rows.string().map_err(StoreError::from)?;
            let kind = SpanKind::from_otlp_number(rows.u8().map_err(StoreError::from)?);
            operations.push(Operation { name, kind });
        }
        Ok(operations)
    }

    fn find_traces(&self, query: &TraceQuery) -> Result<Vec<Vec<Span>>, StoreError> {
        let answer = self.query(span_sql::search(query))?;
        let mut rows = RowReader::new(&answer);
        let mut ids = Vec::new();
        while !rows.is_done() {
            ids.push(TraceId(rows.fixed::<16>().map_err(StoreError::from)?));
            rows.u64().map_err(StoreError::from)?;
        }
        Ok(self
            .spans_of(&ids)?
            .into_iter()
            .map(|(_, spans)| spans)
            .filter(|spans| !spans.is_empty())
            .collect())
    }

    fn trace(&self, id: TraceId) -> Result<Option<Vec<Span>>, StoreError> {
        let spans = self
            .spans_of(&[id])?
            .into_iter()
            .next()
            .map(|(_, spans)| spans);
        Ok(spans.filter(|s| !s.is_empty()))
    }

    fn dependencies(
        &self,
        end_unix_nano: u64,
        lookback_nanos: u64,
    ) -> Result<Vec<DependencyLink>, StoreError> {
        let answer = self.query(span_sql::dependencies(end_unix_nano, lookback_nanos))?;
        let mut rows = RowReader::new(&answer);
        let mut links = Vec::new();
        while !rows.is_done() {
            links.push(DependencyLink {
                parent: rows.string().map_err(StoreError::from)?,
                child: rows.string().map_err(StoreError::from)?,
                call_count: rows.u64().map_err(StoreError::from)?,
            });
        }
        Ok(links)
    }
}

/// The rows of one write or batch.
#[derive(Default)]
struct Rows {
    spans: RowWriter,
    index: RowWriter,
    ops: BTreeSet<(u16, String, String, u8)>,
}

impl Rows {
    fn add(&mut self, span: &Span) -> Result<(), StoreError> {
        let day = day_of_ns(span.start_unix_nano);
        let data = encode_spans(std::slice::from_ref(span))?;
        let s = &mut self.spans;
        s.u16(day);
        s.fixed(&span.trace_id.0);
        s.fixed(&span.span_id.0);
        s.u64(span.start_unix_nano);
        s.bytes(&data);
        s.end_row();

        let kind = span.kind.otlp_number();
        let i = &mut self.index;
        i.u16(day);
        i.str(span.service());
        i.str(&span.name);
        i.u8(kind);
        i.u64(span.start_unix_nano);
        i.u64(span.duration_nanos());
        i.fixed(&span.trace_id.0);
        i.fixed(&span.span_id.0);
        i.fixed(&span.parent_span_id.map_or([0; 8], |p| p.0));
        i.strings(&tags_of(span));
        i.end_row();

        self.ops
            .insert((day, span.service().to_string(), span.name.clone(), kind));
        Ok(())
    }
}

impl batch::Rows for Rows {
    fn rows(&self) -> usize {
        self.spans.rows()
    }

    fn bytes(&self) -> u64 {
        (self.spans.len() + self.index.len()) as u64
    }

    fn append(&mut self, other: Self) {
        self.spans.extend_rows(other.spans);
        self.index.extend_rows(other.index);
        self.ops.extend(other.ops);
    }

    fn into_inserts(self) -> Vec<(&'static str, Vec<u8>)> {
        let mut ops = RowWriter::new();
        for (day, service, name, kind) in &self.ops {
            ops.u16(*day);
            ops.str(service);
            ops.str(name);
            ops.u8(*kind);
            ops.end_row();
        }
        vec![
            ("spans", self.spans.into_bytes()),
            ("span_index", self.index.into_bytes()),
            ("span_ops", ops.into_bytes()),
        ]
    }
}

/// A tag as the index stores it: `key\0value`.
pub(crate) fn tag(key: &str, value: &str) -> String {
    format!("{key}\0{value}")
}

/// Every tag a search can match on this span: its attributes and its
/// resource's (as text), and Jaeger's virtual tags `error`, `span.kind`
/// and `otel.status_code` (the embedded store's `SpanFilter` semantics).
fn tags_of(span: &Span) -> Vec<String> {
    let mut tags: Vec<String> = span
        .attributes
        .iter()
        .chain(span.resource.attributes.iter())
        .map(|kv| tag(&kv.key, &kv.value.to_text()))
        .collect();
    if span.status.code == StatusCode::Error {
        tags.push(tag("error", "true"));
        tags.push(tag("otel.status_code", "ERROR"));
    } else if span.status.code == StatusCode::Ok {
        tags.push(tag("otel.status_code", "OK"));
    }
    if span.kind != SpanKind::Unspecified {
        tags.push(tag("span.kind", span.kind.as_jaeger()));
    }
    tags.sort_unstable();
    tags.dedup();
    tags
}
