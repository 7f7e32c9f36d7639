//! Compact binary form of span batches, shared by the WAL and the block
//! `details` column: postcard (a small, stable serde format) over mirror
//! structs that replace each span's `Arc<Resource>`/`Arc<Scope>` with an index
//! into a per-batch table, so a 512-span batch of one service stores its
//! resource once. Not for wire protocols (OTLP decoding lives in `ingest`).
//!
//! A payload starts with [`FORMAT_MARKER`]; payloads without it are format 1
//! (before link flags and scope attributes) and decode through `legacy`.

use model::{
    KeyValue, Resource, Scope, Span, SpanEvent, SpanId, SpanKind, SpanLink, Status, TraceId,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::legacy::{ScopeV1, SpanLinkV1};
use crate::StoreError;

/// First bytes of every payload of the current format (2). A format-1
/// payload starts with its resource count, and one with zero resources can
/// hold no span (every span indexes a resource), so a format-1 payload that
/// carries spans never starts with a zero byte.
pub const FORMAT_MARKER: [u8; 2] = [0x00, 0x02];

/// Borrowed span for encoding; field order must match [`SpanOwned`]. `L`
/// is the stored link list (tests write format 1's with it).
#[derive(Serialize)]
struct SpanRef<'a, L = &'a [SpanLink]> {
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
    links: L,
    dropped_links_count: u32,
    status: &'a Status,
    resource: u32,
    scope: u32,
}

impl<'a, L> SpanRef<'a, L> {
    /// `span` with `links` in its stored form, pointing at its resource and
    /// scope in the batch's tables.
    fn new(span: &'a Span, links: L, resource: u32, scope: u32) -> Self {
        Self {
            trace_id: span.trace_id,
            span_id: span.span_id,
            parent_span_id: span.parent_span_id,
            trace_state: &span.trace_state,
            flags: span.flags,
            name: &span.name,
            kind: span.kind,
            start_unix_nano: span.start_unix_nano,
            end_unix_nano: span.end_unix_nano,
            attributes: &span.attributes,
            dropped_attributes_count: span.dropped_attributes_count,
            events: &span.events,
            dropped_events_count: span.dropped_events_count,
            links,
            dropped_links_count: span.dropped_links_count,
            status: &span.status,
            resource,
            scope,
        }
    }
}

/// Owned span for decoding; field order must match [`SpanRef`]. `L` is the
/// stored link type (format 1 had no link flags).
#[derive(Deserialize)]
struct SpanOwned<L = SpanLink> {
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
    links: Vec<L>,
    dropped_links_count: u32,
    status: Status,
    resource: u32,
    scope: u32,
}

/// `S` and `L` are the stored scope and link types (tests write format 1's).
#[derive(Serialize)]
struct BatchRef<'a, S = &'a Scope, L = &'a [SpanLink]> {
    resources: Vec<&'a Resource>,
    scopes: Vec<S>,
    spans: Vec<SpanRef<'a, L>>,
}

/// `S` and `L` are the stored scope and link types (they changed in format 2).
#[derive(Deserialize)]
struct BatchOwned<S = Scope, L = SpanLink> {
    resources: Vec<Resource>,
    scopes: Vec<S>,
    spans: Vec<SpanOwned<L>>,
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
        out.push(SpanRef::new(s, &s.links[..], resource, scope));
    }
    let batch = BatchRef {
        resources,
        scopes,
        spans: out,
    };
    postcard::to_extend(&batch, FORMAT_MARKER.to_vec()).map_err(|e| StoreError::Corrupt {
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
    let decode_error = |e: postcard::Error| corrupt(format!("cannot decode: {e}"));
    match bytes.strip_prefix(&FORMAT_MARKER) {
        Some(current) => {
            rebuild(postcard::from_bytes::<BatchOwned>(current).map_err(decode_error)?)
        }
        None => rebuild(
            postcard::from_bytes::<BatchOwned<ScopeV1, SpanLinkV1>>(bytes).map_err(decode_error)?,
        ),
    }
}

/// Spans from a decoded batch of any format.
fn rebuild<S: Into<Scope>, L: Into<SpanLink>>(
    batch: BatchOwned<S, L>,
) -> Result<Vec<Span>, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt {
        what: "span batch".into(),
        detail,
    };
    let resources: Vec<Arc<Resource>> = batch.resources.into_iter().map(Arc::new).collect();
    let scopes: Vec<Arc<Scope>> = batch
        .scopes
        .into_iter()
        .map(|s| Arc::new(s.into()))
        .collect();
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
            links: s.links.into_iter().map(Into::into).collect(),
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

    /// Format 1 as the previous release wrote it (no marker, no link flags,
    /// no scope attributes), built from the legacy mirror types.
    fn encode_v1(spans: &[Span]) -> Vec<u8> {
        use crate::embedded::legacy::{ScopeV1, SpanLinkV1};
        let batch: BatchRef<'_, ScopeV1, Vec<SpanLinkV1>> = BatchRef {
            resources: vec![&spans[0].resource],
            scopes: vec![ScopeV1 {
                name: spans[0].scope.name.clone(),
                version: spans[0].scope.version.clone(),
            }],
            spans: spans
                .iter()
                .map(|s| {
                    let links = s
                        .links
                        .iter()
                        .map(|l| SpanLinkV1 {
                            trace_id: l.trace_id,
                            span_id: l.span_id,
                            trace_state: l.trace_state.clone(),
                            attributes: l.attributes.clone(),
                            dropped_attributes_count: l.dropped_attributes_count,
                        })
                        .collect();
                    SpanRef::new(s, links, 0, 0)
                })
                .collect(),
        };
        postcard::to_stdvec(&batch).unwrap()
    }

    #[test]
    fn format_1_records_decode_with_the_new_fields_unset() {
        // One service, so the v1 encoder's single resource/scope tables fit.
        let spans: Vec<Span> = sample_spans(3, 3)
            .into_iter()
            .filter(|s| s.service() == "backend")
            .collect();
        assert!(spans.iter().any(|s| !s.links.is_empty()));
        let bytes = encode_v1(&spans);
        assert_ne!(bytes[..2], FORMAT_MARKER);
        let back = decode_spans(&bytes).unwrap();
        assert_eq!(back.len(), spans.len());
        for (old, new) in spans.iter().zip(&back) {
            assert_eq!(new.name, old.name);
            assert_eq!(new.attributes, old.attributes);
            assert_eq!(new.status, old.status);
            assert_eq!(new.scope.name, old.scope.name);
            assert!(new.scope.attributes.is_empty());
            assert_eq!(new.links.len(), old.links.len());
            for (lo, ln) in old.links.iter().zip(&new.links) {
                assert_eq!((ln.trace_id, ln.span_id), (lo.trace_id, lo.span_id));
                assert_eq!(ln.flags, 0);
            }
        }
    }

    #[test]
    fn current_records_keep_link_flags_and_scope_attributes() {
        let spans = sample_spans(2, 3);
        let bytes = encode_spans(&spans).unwrap();
        assert_eq!(bytes[..2], FORMAT_MARKER);
        let back = decode_spans(&bytes).unwrap();
        let linked = back.iter().find(|s| !s.links.is_empty()).unwrap();
        assert_eq!(linked.links[0].flags, 0x301);
        assert_eq!(back[0].scope.attributes.len(), 1);
        assert_eq!(back[0].scope.dropped_attributes_count, 1);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode_spans(&[0xff, 0xff, 0xff, 0x01]).is_err());
    }
}
