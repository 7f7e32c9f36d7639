//! The in-memory head: spans made durable by the WAL but not yet in a block,
//! with the indexes queries need — trace id → spans, per service its
//! operations and a start-time-ordered list of its spans (newest-first search
//! stops after `limit` traces). Not thread-safe by itself: the store wraps it
//! in a lock.

use model::{Span, SpanKind, TraceId};
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use super::filter::SpanFilter;
use super::search::{Candidates, DependencyRow};
use crate::Operation;

/// All span kinds, in bit order of [`ServiceIndex::operations`].
const KINDS: [SpanKind; 6] = [
    SpanKind::Unspecified,
    SpanKind::Internal,
    SpanKind::Server,
    SpanKind::Client,
    SpanKind::Producer,
    SpanKind::Consumer,
];

fn kind_bit(kind: SpanKind) -> u8 {
    1 << KINDS.iter().position(|k| *k == kind).unwrap_or(0)
}

/// Per-service indexes.
#[derive(Debug, Default)]
struct ServiceIndex {
    /// Operation name → bit set of kinds seen.
    operations: FxHashMap<String, u8>,
    /// `(start_unix_nano, span index)`, ordered by start. A B-tree, not a
    /// sorted Vec: batches from concurrent clients interleave in time, and
    /// mid-Vec inserts made ingest memmove-bound.
    by_start: BTreeSet<(u64, u32)>,
}

/// Spans in fixed-size chunks, addressed by a `u32` index. A single `Vec`
/// would move every span on each doubling (a quarter of the head's insert
/// time at 500 k spans); chunks never move.
#[derive(Debug, Default)]
struct SpanArena {
    chunks: Vec<Vec<Span>>,
    len: usize,
}

/// Spans per chunk.
const CHUNK: usize = 4096;

impl SpanArena {
    fn push(&mut self, span: Span) -> u32 {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(chunk) = self.chunks.last_mut() {
            chunk.push(span);
        }
        self.len += 1;
        (self.len - 1) as u32
    }

    fn get(&self, idx: u32) -> Option<&Span> {
        let idx = idx as usize;
        self.chunks.get(idx / CHUNK)?.get(idx % CHUNK)
    }

    fn iter(&self) -> impl Iterator<Item = &Span> {
        self.chunks.iter().flatten()
    }
}

/// The in-memory head.
#[derive(Debug, Default)]
pub struct Head {
    spans: SpanArena,
    by_trace: FxHashMap<TraceId, Vec<u32>>,
    services: BTreeMap<String, ServiceIndex>,
    bytes: u64,
    first_insert: Option<Instant>,
}

/// Allocator bookkeeping and rounding per heap allocation (glibc malloc
/// chunks carry 8–16 bytes and round up to 16).
const ALLOCATION_OVERHEAD: usize = 24;

/// Heap bytes of a string or byte buffer, 0 when it has no allocation.
fn buffer_bytes(len: usize) -> usize {
    if len == 0 {
        0
    } else {
        len + ALLOCATION_OVERHEAD
    }
}

fn attrs_bytes(kvs: &[model::KeyValue]) -> usize {
    buffer_bytes(std::mem::size_of_val(kvs))
        + kvs
            .iter()
            .map(|kv| buffer_bytes(kv.key.len()) + value_bytes(&kv.value))
            .sum::<usize>()
}

fn value_bytes(v: &model::AttrValue) -> usize {
    match v {
        model::AttrValue::Str(s) => buffer_bytes(s.len()),
        model::AttrValue::Bytes(b) => buffer_bytes(b.len()),
        model::AttrValue::Array(a) => {
            buffer_bytes(std::mem::size_of_val(a.as_slice()))
                + a.iter().map(value_bytes).sum::<usize>()
        }
        model::AttrValue::Map(m) => attrs_bytes(m),
        _ => 0,
    }
}

/// Approximate heap bytes a span occupies in the head, allocator overhead
/// and indexes included (the memory budget is accounted with this).
pub fn span_bytes(span: &Span) -> u64 {
    let events: usize = buffer_bytes(std::mem::size_of_val(span.events.as_slice()))
        + span
            .events
            .iter()
            .map(|e| buffer_bytes(e.name.len()) + attrs_bytes(&e.attributes))
            .sum::<usize>();
    let links: usize = buffer_bytes(std::mem::size_of_val(span.links.as_slice()))
        + span
            .links
            .iter()
            .map(|l| buffer_bytes(l.trace_state.len()) + attrs_bytes(&l.attributes))
            .sum::<usize>();
    // The span itself sits in a doubling `Vec`: count 1.5× its size on average.
    (std::mem::size_of::<Span>() * 3 / 2
        + buffer_bytes(span.name.len())
        + buffer_bytes(span.trace_state.len())
        + buffer_bytes(span.status.message.len())
        + attrs_bytes(&span.attributes)
        + events
        + links
        // by_trace and by_start entries, hash-map slack
        + 64) as u64
}

impl Head {
    /// Adds spans; returns the bytes they added.
    pub fn insert(&mut self, spans: Vec<Span>) -> u64 {
        let mut added = 0;
        self.first_insert.get_or_insert_with(Instant::now);
        for span in spans {
            let idx = self.spans.len as u32;
            added += span_bytes(&span);
            self.by_trace.entry(span.trace_id).or_default().push(idx);
            let service = match self.services.get_mut(span.service()) {
                Some(s) => s,
                None => self.services.entry(span.service().to_string()).or_default(),
            };
            let bit = kind_bit(span.kind);
            match service.operations.get_mut(span.name.as_str()) {
                Some(kinds) => *kinds |= bit,
                None => {
                    service.operations.insert(span.name.clone(), bit);
                }
            }
            service.by_start.insert((span.start_unix_nano, idx));
            self.spans.push(span);
        }
        self.bytes += added;
        added
    }

    /// Approximate heap bytes held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Number of spans held.
    pub fn len(&self) -> usize {
        self.spans.len
    }

    /// Whether the head holds no spans.
    pub fn is_empty(&self) -> bool {
        self.spans.len == 0
    }

    /// When the first span since creation arrived.
    pub fn first_insert(&self) -> Option<Instant> {
        self.first_insert
    }

    /// All spans in insertion order (for flushing to a block).
    pub fn spans(&self) -> Vec<&Span> {
        self.spans.iter().collect()
    }

    /// Service names.
    pub fn service_names(&self) -> impl Iterator<Item = &str> {
        self.services.keys().map(String::as_str)
    }

    /// Operations of `service`, optionally of one kind.
    pub fn operations(&self, service: &str, kind: Option<SpanKind>, out: &mut Vec<Operation>) {
        let Some(index) = self.services.get(service) else {
            return;
        };
        for (name, kinds) in &index.operations {
            for k in KINDS {
                if kinds & kind_bit(k) != 0 && kind.is_none_or(|want| want == k) {
                    out.push(Operation {
                        name: name.clone(),
                        kind: k,
                    });
                }
            }
        }
    }

    /// Appends the spans of trace `id` to `out`.
    pub fn trace(&self, id: TraceId, out: &mut Vec<Span>) {
        if let Some(idxs) = self.by_trace.get(&id) {
            out.extend(idxs.iter().filter_map(|i| self.spans.get(*i)).cloned());
        }
    }

    /// Offers the traces of spans matching `filter`, newest first, stopping
    /// after `filter.limit` distinct traces per service.
    pub fn search(&self, filter: &SpanFilter<'_>, out: &mut Candidates) {
        let indexes: Vec<&ServiceIndex> = match filter.service {
            Some(name) => self.services.get(name).into_iter().collect(),
            None => self.services.values().collect(),
        };
        for index in indexes {
            if filter.start_min > filter.start_max {
                continue;
            }
            let range = (filter.start_min, 0)..=(filter.start_max, u32::MAX);
            let mut found = 0;
            for (start, idx) in index.by_start.range(range).rev() {
                let Some(span) = self.spans.get(*idx) else {
                    continue;
                };
                if filter.matches(span) && out.offer(span.trace_id, *start) {
                    found += 1;
                    if found >= filter.limit {
                        break;
                    }
                }
            }
        }
    }

    /// Appends one row per span that started in `[from, to]`.
    pub fn dependency_rows(&self, from: u64, to: u64, out: &mut Vec<DependencyRow>) {
        for (service, index) in &self.services {
            let service: std::sync::Arc<str> = service.as_str().into();
            if from > to {
                continue;
            }
            for (_, idx) in index.by_start.range((from, 0)..=(to, u32::MAX)) {
                if let Some(span) = self.spans.get(*idx) {
                    out.push(DependencyRow {
                        trace_id: span.trace_id,
                        span_id: span.span_id,
                        parent_span_id: span.parent_span_id,
                        service: service.clone(),
                    });
                }
            }
        }
    }
}
