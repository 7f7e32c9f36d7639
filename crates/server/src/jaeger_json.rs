//! Spans in Jaeger's UI JSON model (what `/api/traces` returns and jaeger-ui
//! and Grafana's Jaeger datasource read): `traceID`, `spans` with
//! `references`, typed `tags`, `logs` and a `processID`, and `processes`.
//!
//! OpenTelemetry fields with no Jaeger field become tags, as Jaeger v2 does:
//! `span.kind`, `otel.status_code`, `otel.status_description`, `error=true`,
//! `otel.scope.name`/`otel.scope.version`, `w3c.tracestate`. Parents become
//! `CHILD_OF` references and links `FOLLOWS_FROM`. Times are microseconds.
//!
//! Two extensions keep what Jaeger v2 drops (clients ignore unknown keys):
//! scope attributes become tags `otel.scope.attributes.KEY`, and a link's
//! OTLP flags go in its reference's `flags`.

use base64::Engine;
use model::{AttrValue, KeyValue, Resource, Span, SpanKind, StatusCode};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A trace.
#[derive(Debug, Serialize)]
pub struct JaegerTrace {
    /// 32 hex digits.
    #[serde(rename = "traceID")]
    pub trace_id: String,
    /// Spans, by start time.
    pub spans: Vec<JaegerSpan>,
    /// `p1`, `p2`, … → process.
    pub processes: BTreeMap<String, JaegerProcess>,
    /// Trace-level warnings (`null` when none).
    pub warnings: Option<Vec<String>>,
}

/// A span.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JaegerSpan {
    /// Trace id, hex.
    #[serde(rename = "traceID")]
    pub trace_id: String,
    /// Span id, hex.
    #[serde(rename = "spanID")]
    pub span_id: String,
    /// Trace flags (bit 0 = sampled).
    pub flags: u32,
    /// Span name.
    pub operation_name: String,
    /// Parent (`CHILD_OF`) then links (`FOLLOWS_FROM`).
    pub references: Vec<JaegerReference>,
    /// Start, Unix µs.
    pub start_time: u64,
    /// Duration, µs.
    pub duration: u64,
    /// Attributes plus the OpenTelemetry fields as tags.
    pub tags: Vec<JaegerKeyValue>,
    /// Events.
    pub logs: Vec<JaegerLog>,
    /// Key into the trace's `processes`.
    #[serde(rename = "processID")]
    pub process_id: String,
    /// Span-level warnings (`null` when none).
    pub warnings: Option<Vec<String>>,
}

/// A reference to another span.
#[derive(Debug, Serialize)]
pub struct JaegerReference {
    /// `CHILD_OF` or `FOLLOWS_FROM`.
    #[serde(rename = "refType")]
    pub ref_type: &'static str,
    /// Trace id, hex.
    #[serde(rename = "traceID")]
    pub trace_id: String,
    /// Span id, hex.
    #[serde(rename = "spanID")]
    pub span_id: String,
    /// A link's OTLP flags (W3C trace flags, bits 8–9 = is-remote); absent
    /// on the parent reference. Not in Jaeger's model: an extension.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<u32>,
}

/// The tag-key prefix of scope attributes (an extension; Jaeger drops them).
pub const SCOPE_ATTRIBUTE_PREFIX: &str = "otel.scope.attributes.";

/// A typed tag.
#[derive(Debug, Serialize, PartialEq)]
pub struct JaegerKeyValue {
    /// Name.
    pub key: String,
    /// `string`, `bool`, `int64`, `float64` or `binary`.
    #[serde(rename = "type")]
    pub value_type: &'static str,
    /// Value (binary as base64, arrays and maps as JSON text).
    pub value: Value,
}

/// A span event.
#[derive(Debug, Serialize)]
pub struct JaegerLog {
    /// Unix µs.
    pub timestamp: u64,
    /// `event` = name, then the event's attributes.
    pub fields: Vec<JaegerKeyValue>,
}

/// A process (service).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JaegerProcess {
    /// `service.name`.
    pub service_name: String,
    /// The other resource attributes.
    pub tags: Vec<JaegerKeyValue>,
}

/// Converts one trace (all spans share a trace id; any order).
pub fn to_jaeger_trace(spans: &[Span]) -> JaegerTrace {
    to_jaeger_trace_with_warnings(spans, &[])
}

/// Converts one trace, adding `warnings[i]` to the `warnings` of `spans[i]`
/// (`warnings` may be shorter than `spans`, e.g. empty).
pub fn to_jaeger_trace_with_warnings(spans: &[Span], warnings: &[Vec<String>]) -> JaegerTrace {
    let mut ordered: Vec<usize> = (0..spans.len()).collect();
    ordered.sort_by_key(|&i| (spans[i].start_unix_nano, spans[i].span_id));
    let mut processes: Vec<(Arc<Resource>, String)> = Vec::new();
    let mut out = Vec::with_capacity(spans.len());
    for i in ordered {
        let span = &spans[i];
        let process_id = match processes
            .iter()
            .find(|(r, _)| Arc::ptr_eq(r, &span.resource) || **r == *span.resource)
        {
            Some((_, id)) => id.clone(),
            None => {
                let id = format!("p{}", processes.len() + 1);
                processes.push((span.resource.clone(), id.clone()));
                id
            }
        };
        let mut jaeger_span = to_jaeger_span(span, process_id);
        if let Some(extra) = warnings.get(i).filter(|w| !w.is_empty()) {
            jaeger_span
                .warnings
                .get_or_insert_with(Vec::new)
                .extend(extra.iter().cloned());
        }
        out.push(jaeger_span);
    }
    JaegerTrace {
        trace_id: spans
            .first()
            .map(|s| s.trace_id.to_string())
            .unwrap_or_default(),
        spans: out,
        processes: processes
            .into_iter()
            .map(|(r, id)| (id, to_process(&r)))
            .collect(),
        warnings: None,
    }
}

fn to_process(resource: &Resource) -> JaegerProcess {
    JaegerProcess {
        service_name: resource.service_name.clone(),
        tags: resource
            .attributes
            .iter()
            .filter(|kv| kv.key != "service.name")
            .map(to_tag)
            .collect(),
    }
}

fn to_jaeger_span(span: &Span, process_id: String) -> JaegerSpan {
    let trace_id = span.trace_id.to_string();
    let mut references = Vec::with_capacity(1 + span.links.len());
    if let Some(parent) = span.parent_span_id {
        references.push(JaegerReference {
            ref_type: "CHILD_OF",
            trace_id: trace_id.clone(),
            span_id: parent.to_string(),
            flags: None,
        });
    }
    references.extend(span.links.iter().map(|l| JaegerReference {
        ref_type: "FOLLOWS_FROM",
        trace_id: l.trace_id.to_string(),
        span_id: l.span_id.to_string(),
        flags: Some(l.flags),
    }));
    let logs = span
        .events
        .iter()
        .map(|e| JaegerLog {
            timestamp: e.time_unix_nano / 1000,
            // The name as an `event` field first, unless an attribute already has that key.
            fields: (!e.name.is_empty() && !e.attributes.iter().any(|kv| kv.key == "event"))
                .then(|| string_tag("event", &e.name))
                .into_iter()
                .chain(e.attributes.iter().map(to_tag))
                .collect(),
        })
        .collect();
    let mut warnings = Vec::new();
    if span.dropped_attributes_count + span.dropped_events_count + span.dropped_links_count > 0 {
        warnings.push(format!(
            "dropped by the sender or by limits: {} attributes, {} events, {} links",
            span.dropped_attributes_count, span.dropped_events_count, span.dropped_links_count
        ));
    }
    JaegerSpan {
        trace_id,
        span_id: span.span_id.to_string(),
        flags: span.flags & 0xff,
        operation_name: span.name.clone(),
        references,
        start_time: span.start_unix_nano / 1000,
        duration: span.duration_nanos() / 1000,
        tags: span_tags(span),
        logs,
        process_id,
        warnings: (!warnings.is_empty()).then_some(warnings),
    }
}

/// The span's attributes followed by the OpenTelemetry fields Jaeger shows as tags.
fn span_tags(span: &Span) -> Vec<JaegerKeyValue> {
    let mut tags: Vec<JaegerKeyValue> = span.attributes.iter().map(to_tag).collect();
    if !span.scope.name.is_empty() {
        tags.push(string_tag("otel.scope.name", &span.scope.name));
    }
    if !span.scope.version.is_empty() {
        tags.push(string_tag("otel.scope.version", &span.scope.version));
    }
    tags.extend(span.scope.attributes.iter().map(|kv| {
        let mut tag = to_tag(kv);
        tag.key = format!("{SCOPE_ATTRIBUTE_PREFIX}{}", kv.key);
        tag
    }));
    if span.kind != SpanKind::Unspecified {
        tags.push(string_tag("span.kind", span.kind.as_jaeger()));
    }
    match span.status.code {
        StatusCode::Unset => {}
        StatusCode::Ok => tags.push(string_tag("otel.status_code", "OK")),
        StatusCode::Error => {
            tags.push(string_tag("otel.status_code", "ERROR"));
            if !tags.iter().any(|t| t.key == "error") {
                tags.push(JaegerKeyValue {
                    key: "error".into(),
                    value_type: "bool",
                    value: Value::Bool(true),
                });
            }
        }
    }
    if !span.status.message.is_empty() {
        tags.push(string_tag("otel.status_description", &span.status.message));
    }
    if !span.trace_state.is_empty() {
        tags.push(string_tag("w3c.tracestate", &span.trace_state));
    }
    tags
}

fn string_tag(key: &str, value: &str) -> JaegerKeyValue {
    JaegerKeyValue {
        key: key.to_string(),
        value_type: "string",
        value: Value::String(value.to_string()),
    }
}

/// One attribute as a typed Jaeger tag.
pub fn to_tag(kv: &KeyValue) -> JaegerKeyValue {
    let (value_type, value) = match &kv.value {
        AttrValue::Str(s) => ("string", Value::String(s.clone())),
        AttrValue::Bool(b) => ("bool", Value::Bool(*b)),
        AttrValue::Int(i) => ("int64", Value::from(*i)),
        AttrValue::Double(d) => ("float64", Value::from(*d)),
        AttrValue::Bytes(b) => (
            "binary",
            Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
        ),
        v @ (AttrValue::Array(_) | AttrValue::Map(_)) => {
            ("string", Value::String(plain_json(v).to_string()))
        }
        AttrValue::Empty => ("string", Value::String(String::new())),
    };
    JaegerKeyValue {
        key: kv.key.clone(),
        value_type,
        value,
    }
}

/// A value as plain JSON (arrays as arrays, maps as objects), for array/map tags.
fn plain_json(v: &AttrValue) -> Value {
    match v {
        AttrValue::Str(s) => Value::String(s.clone()),
        AttrValue::Bool(b) => Value::Bool(*b),
        AttrValue::Int(i) => json!(i),
        AttrValue::Double(d) => json!(d),
        AttrValue::Bytes(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
        AttrValue::Array(items) => Value::Array(items.iter().map(plain_json).collect()),
        AttrValue::Map(kvs) => Value::Object(
            kvs.iter()
                .map(|kv| (kv.key.clone(), plain_json(&kv.value)))
                .collect(),
        ),
        AttrValue::Empty => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(key: &str, value: AttrValue) -> KeyValue {
        KeyValue {
            key: key.into(),
            value,
        }
    }

    #[test]
    fn arrays_and_maps_become_json_text_like_jaeger_does() {
        let array = kv(
            "a",
            AttrValue::Array(vec![AttrValue::Str("x".into()), AttrValue::Int(2)]),
        );
        assert_eq!(
            to_tag(&array),
            JaegerKeyValue {
                key: "a".into(),
                value_type: "string",
                value: json!(r#"["x",2]"#)
            }
        );
        let map = kv("m", AttrValue::Map(vec![kv("k", AttrValue::Bool(true))]));
        assert_eq!(to_tag(&map).value, json!(r#"{"k":true}"#));
        assert_eq!(to_tag(&kv("e", AttrValue::Empty)).value, json!(""));
    }
}
