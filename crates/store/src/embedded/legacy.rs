//! Decoding of data written by storage format 1, before span links kept their
//! `flags` and instrumentation scopes their `attributes`: WAL records without
//! the format marker and blocks whose `meta.json` has no `format`.
//!
//! postcard is not self-describing, so format-1 bytes read with today's types
//! would misalign silently; these mirror structs read them exactly and fill
//! the new fields with their "not set" values (flags 0, no attributes).
//! Nothing here writes format 1.

use model::{KeyValue, Scope, SpanId, SpanLink, TraceId};
use serde::Deserialize;

/// A scope as format 1 stored it.
#[derive(Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
pub struct ScopeV1 {
    pub name: String,
    pub version: String,
}

impl From<ScopeV1> for Scope {
    fn from(s: ScopeV1) -> Self {
        Scope {
            name: s.name,
            version: s.version,
            attributes: Vec::new(),
            dropped_attributes_count: 0,
        }
    }
}

/// A span link as format 1 stored it.
#[derive(Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
pub struct SpanLinkV1 {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub trace_state: String,
    pub attributes: Vec<KeyValue>,
    pub dropped_attributes_count: u32,
}

impl From<SpanLinkV1> for SpanLink {
    fn from(l: SpanLinkV1) -> Self {
        SpanLink {
            trace_id: l.trace_id,
            span_id: l.span_id,
            trace_state: l.trace_state,
            attributes: l.attributes,
            dropped_attributes_count: l.dropped_attributes_count,
            flags: 0,
        }
    }
}
