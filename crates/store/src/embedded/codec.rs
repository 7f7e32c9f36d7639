//! Compact binary form of span batches, shared by the WAL and the block
//! `details` column: postcard (a small, stable serde format) over mirror
//! structs that replace each span's `Arc<Resource>`/`Arc<Scope>` with an index
//! into a per-batch table, so a 512-span batch of one service stores its
//! resource once. Not for wire protocols (OTLP decoding lives in `ingest`).

use model::{
    KeyValue, Resource, Scope, Span, SpanEvent, SpanId, SpanKind, SpanLink, Status, TraceId,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::StoreError;

/// Borrowed span for encoding; field order must match [`SpanOwned`].
#[derive(Serialize)]
struct SpanRef<'a> {
    trace_id: TraceId,
    span_id: SpanId,
    parent_span_id: Option<SpanId>,
    trace_state: &'a str,
    flags: u32,
    name: &'a str,
    kind: SpanKind,
    start_unix_nano: u64,
    end_unix_nano: u64,
    attributes: &'a [KeyValue],
    dropped_attributes_count: u32,
    events: &'a [SpanEvent],
    dropped_events_count: u32,
    links: &'a [SpanLink],
    dropped_links_count: u32,
    status: &'a Status,
    resource: u32,
    scope: u32,
}

/// Owned span for decoding; field order must match [`SpanRef`].
#[derive(Deserialize)]
struct SpanOwned {
    trace_id: TraceId,
    span_id: SpanId,
    parent_span_id: Option<SpanId>,
    trace_state: String,
    flags: u32,
    name: String,
    kind: SpanKind,
    start_unix_nano: u64,
    end_unix_nano: u64,
    attributes: Vec<KeyValue>,
    dropped_attributes_count: u32,
    events: Vec<SpanEvent>,
    dropped_events_count: u32,
    links: Vec<SpanLink>,
    dropped_links_count: u32,
    status: Status,
    resource: u32,
    scope: u32,
}

#[derive(Serialize)]
struct BatchRef<'a> {
    resources: Vec<&'a Resource>,
    scopes: Vec<&'a Scope>,
    spans: Vec<SpanRef<'a>>,
}

#[derive(Deserialize)]
struct BatchOwned {
    resources: Vec<Resource>,
    scopes: Vec<Scope>,
    spans: Vec<SpanOwned>,
}

/// Index of `item` in `table`, adding it when new. Batches carry few distinct
/// resources, so a linear scan by pointer (then by value) is cheapest.
fn intern<'a, T: PartialEq>(
    table: &mut Vec<&'a T>,
    arcs: &mut Vec<*const T>,
    item: &'a Arc<T>,
) -> u32 {
    let ptr = Arc::as_ptr(item);
    if let Some(i) = arcs.iter().position(|p| *p == ptr) {
        return i as u32;
    }
    if let Some(i) = table.iter().position(|t| **t == **item) {
        return i as u32;
    }
    table.push(item);
    arcs.push(ptr);
    (table.len() - 1) as u32
}

/// Encodes spans into one compact payload.
pub fn encode_spans(spans: &[Span]) -> Result<Vec<u8>, StoreError> {
    let mut resources = Vec::new();
    let mut resource_ptrs = Vec::new();
    let mut scopes = Vec::new();
    let mut scope_ptrs = Vec::new();
    let mut out = Vec::with_capacity(spans.len());
    for s in spans {
        let resource = intern(&mut resources, &mut resource_ptrs, &s.resource);
        let scope = intern(&mut scopes, &mut scope_ptrs, &s.scope);
        out.push(SpanRef {
            trace_id: s.trace_id,
            span_id: s.span_id,
            parent_span_id: s.parent_span_id,
            trace_state: &s.trace_state,
            flags: s.flags,
            name: &s.name,
            kind: s.kind,
            start_unix_nano: s.start_unix_nano,
            end_unix_nano: s.end_unix_nano,
            attributes: &s.attributes,
            dropped_attributes_count: s.dropped_attributes_count,
            events: &s.events,
            dropped_events_count: s.dropped_events_count,
            links: &s.links,
            dropped_links_count: s.dropped_links_count,
            status: &s.status,
            resource,
            scope,
        });
    }
    let batch = BatchRef {
        resources,
        scopes,
        spans: out,
    };
    postcard::to_stdvec(&batch).map_err(|e| StoreError::Corrupt {
        what: "span batch".into(),
        detail: format!("cannot encode: {e}"),
    })
}

/// Decodes a payload written by [`encode_spans`]; spans of one batch share
/// their `Arc<Resource>`/`Arc<Scope>` again.
pub fn decode_spans(bytes: &[u8]) -> Result<Vec<Span>, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt {
        what: "span batch".into(),
        detail,
    };
    let batch: BatchOwned =
        postcard::from_bytes(bytes).map_err(|e| corrupt(format!("cannot decode: {e}")))?;
    let resources: Vec<Arc<Resource>> = batch.resources.into_iter().map(Arc::new).collect();
    let scopes: Vec<Arc<Scope>> = batch.scopes.into_iter().map(Arc::new).collect();
    let mut spans = Vec::with_capacity(batch.spans.len());
    for s in batch.spans {
        let resource = resources
            .get(s.resource as usize)
            .ok_or_else(|| corrupt(format!("resource index {} out of range", s.resource)))?;
        let scope = scopes
            .get(s.scope as usize)
            .ok_or_else(|| corrupt(format!("scope index {} out of range", s.scope)))?;
        spans.push(Span {
            trace_id: s.trace_id,
            span_id: s.span_id,
            parent_span_id: s.parent_span_id,
            trace_state: s.trace_state,
            flags: s.flags,
            name: s.name,
            kind: s.kind,
            start_unix_nano: s.start_unix_nano,
            end_unix_nano: s.end_unix_nano,
            attributes: s.attributes,
            dropped_attributes_count: s.dropped_attributes_count,
            events: s.events,
            dropped_events_count: s.dropped_events_count,
            links: s.links,
            dropped_links_count: s.dropped_links_count,
            status: s.status,
            resource: Arc::clone(resource),
            scope: Arc::clone(scope),
        });
    }
    Ok(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::testdata::sample_spans;

    #[test]
    fn round_trip_keeps_every_field_and_shares_resources() {
        let spans = sample_spans(7, 3);
        let bytes = encode_spans(&spans).unwrap();
        let back = decode_spans(&bytes).unwrap();
        assert_eq!(back, spans);
        assert!(
            Arc::ptr_eq(&back[0].resource, &back[1].resource)
                || back[0].resource != back[1].resource
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode_spans(&[0xff, 0xff, 0xff, 0x01]).is_err());
    }
}
