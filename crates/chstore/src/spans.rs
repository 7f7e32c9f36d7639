//! [`ClickHouseSpanStore`]: the [`SpanStore`] over the `spans`, `span_index`
//! and `span_ops` tables of [`crate::schema`].
//!
//! Writes are batched per instance: spans wait in memory (bounded by the
//! store's budget; past it writes are refused with `Overloaded`, which
//! senders see as 429 / RESOURCE_EXHAUSTED) until [`BATCH_ROWS`] are queued
//! or [`FLUSH_EVERY`] has passed, then go in as one RowBinary insert per
//! table, about one a second as ClickHouse asks. A write is acknowledged
//! once all its inserts succeeded; a failed insert is retried (the tables
//! are `ReplacingMergeTree`, and reads drop duplicate spans, so a retry
//! after a partial success is harmless) while new writes are refused once
//! the queue is full. Reads ask ClickHouse directly.

use crate::client::{Client, ClientHandle};
use crate::rowbinary::{day_of_ns, RowReader, RowWriter};
use crate::schema::columns_of;
use crate::span_sql;
use crate::ClickHouseError;
use model::{Span, SpanKind, StatusCode, TraceId};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use store::embedded::codec::{decode_spans, encode_spans};
use store::{DependencyLink, Operation, SpanStore, StoreError, TraceQuery, WriteAck};
use tokio::sync::{oneshot, Notify};

/// Rows that make a batch go out before [`FLUSH_EVERY`].
pub const BATCH_ROWS: usize = 20_000;
/// Longest a span waits for its batch.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Trace ids per `IN (…)` list when fetching traces (about 45 bytes each).
const IDS_PER_QUERY: usize = 2000;
/// How long closing waits for the last batch.
const CLOSE_GRACE: Duration = Duration::from_secs(15);
/// How long a batch's insert is retried before its writes are answered
/// with an error (senders see 503 and send again later).
const RETRY_FOR: Duration = Duration::from_secs(10);

/// A batch being filled.
#[derive(Default)]
struct Pending {
    spans: RowWriter,
    index: RowWriter,
    ops: BTreeSet<(u16, String, String, u8)>,
    acks: Vec<oneshot::Sender<Result<(), StoreError>>>,
    bytes: u64,
    since: Option<Instant>,
}

/// What the store and its flusher share.
struct Shared {
    pending: Mutex<Pending>,
    wake: Notify,
    closed: AtomicBool,
    /// Bytes queued or being inserted.
    queued: AtomicU64,
    budget: u64,
}

/// Spans in ClickHouse.
pub struct ClickHouseSpanStore {
    client: Arc<Client>,
    shared: Arc<Shared>,
    finished: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
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
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending::default()),
            wake: Notify::new(),
            closed: AtomicBool::new(false),
            queued: AtomicU64::new(0),
            budget: budget_bytes.max(1 << 20),
        });
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let flusher = flush_loop(client.handle(), Arc::clone(&shared));
        client.spawn(async move {
            flusher.await;
            let _ = done_tx.send(());
        });
        Self {
            client,
            shared,
            finished: Mutex::new(Some(done_rx)),
        }
    }

    fn query(&self, sql: String) -> Result<bytes::Bytes, StoreError> {
        let handle = self.client.handle();
        Ok(self.client.wait(async move { handle.query(sql).await })?)
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
            let answer = self.query(format!("{} FORMAT RowBinary", span_sql::spans_of(&list)))?;
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

impl Drop for ClickHouseSpanStore {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
        let finished = self
            .finished
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(finished) = finished {
            let _ = finished.recv_timeout(CLOSE_GRACE);
        }
    }
}

impl SpanStore for ClickHouseSpanStore {
    fn write(&self, spans: Vec<Span>) -> Result<WriteAck, StoreError> {
        if self.shared.closed.load(Ordering::SeqCst) {
            return Err(StoreError::Closed);
        }
        let mut rows = Rows::default();
        for span in &spans {
            rows.add(span)?;
        }
        let bytes = (rows.spans.len() + rows.index.len()) as u64;
        let used = self.shared.queued.load(Ordering::SeqCst);
        if used + bytes > self.shared.budget && used > 0 {
            return Err(StoreError::Overloaded {
                used_bytes: used,
                budget_bytes: self.shared.budget,
                retry_after_ms: 1000,
            });
        }
        self.shared.queued.fetch_add(bytes, Ordering::SeqCst);
        let (tx, rx) = oneshot::channel();
        let full = {
            let mut pending = self
                .shared
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            pending.spans.extend_rows(rows.spans);
            pending.index.extend_rows(rows.index);
            pending.ops.extend(rows.ops);
            pending.acks.push(tx);
            pending.bytes += bytes;
            pending.since.get_or_insert_with(Instant::now);
            pending.spans.rows() >= BATCH_ROWS
        };
        if full {
            self.shared.wake.notify_one();
        }
        Ok(rx)
    }

    fn services(&self) -> Result<Vec<String>, StoreError> {
        let answer = self.query(format!("{} FORMAT RowBinary", span_sql::services()))?;
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
        let answer = self.query(format!(
            "{} FORMAT RowBinary",
            span_sql::operations(service, kind.map(SpanKind::otlp_number))
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
        let answer = self.query(format!("{} FORMAT RowBinary", span_sql::search(query)))?;
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
        let answer = self.query(format!(
            "{} FORMAT RowBinary",
            span_sql::dependencies(end_unix_nano, lookback_nanos)
        ))?;
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

/// The rows of one write.
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

/// Inserts batches until closed; see the module doc.
async fn flush_loop(client: ClientHandle, shared: Arc<Shared>) {
    let mut failing = false;
    loop {
        let closed = shared.closed.load(Ordering::SeqCst);
        let due = {
            let pending = shared
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            pending.spans.rows() >= BATCH_ROWS
                || closed
                || pending.since.is_some_and(|t| t.elapsed() >= FLUSH_EVERY)
        };
        if due {
            let batch = std::mem::take(
                &mut *shared
                    .pending
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner),
            );
            if !batch.acks.is_empty() {
                insert_batch(&client, &shared, batch, &mut failing).await;
            }
        }
        if closed
            && shared
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .acks
                .is_empty()
        {
            return;
        }
        tokio::select! {
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep(FLUSH_EVERY / 4) => {}
        }
    }
}

/// Inserts one batch into the three tables, retrying failures; acks its writes.
async fn insert_batch(client: &ClientHandle, shared: &Shared, batch: Pending, failing: &mut bool) {
    let Pending {
        spans,
        index,
        ops,
        acks,
        bytes,
        ..
    } = batch;
    let mut op_rows = RowWriter::new();
    for (day, service, name, kind) in &ops {
        op_rows.u16(*day);
        op_rows.str(service);
        op_rows.str(name);
        op_rows.u8(*kind);
        op_rows.end_row();
    }
    let mut tables = vec![
        ("spans", spans.into_bytes()),
        ("span_index", index.into_bytes()),
        ("span_ops", op_rows.into_bytes()),
    ];
    // A retry sends the same bytes again.
    let mut backoff = Duration::from_millis(200);
    let give_up_at = Instant::now() + RETRY_FOR;
    let result = loop {
        let mut failure: Option<ClickHouseError> = None;
        while let Some((table, body)) = tables.first() {
            match client.insert(table, &columns_of(table), body.clone()).await {
                Ok(()) => {
                    tables.remove(0);
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let Some(error) = failure else { break Ok(()) };
        if !*failing {
            eprintln!(
                "whyslow: ClickHouse insert failed; retrying each batch for {} s, then its senders get 503: {error}",
                RETRY_FOR.as_secs()
            );
            *failing = true;
        }
        if Instant::now() >= give_up_at {
            break Err(error);
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    };
    if result.is_ok() && *failing {
        eprintln!("whyslow: ClickHouse inserts succeed again");
        *failing = false;
    }
    shared.queued.fetch_sub(bytes, Ordering::SeqCst);
    for ack in acks {
        let _ = ack.send(match &result {
            Ok(()) => Ok(()),
            Err(e) => Err(StoreError::Unavailable(e.to_string())),
        });
    }
}
