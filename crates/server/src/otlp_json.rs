//! Spans as OTLP JSON (the protobuf JSON mapping of `TracesData`), which
//! Jaeger v2's `/api/v3/traces/{id}` returns inside `{"result": …}`.
//!
//! Follows the OTLP/JSON rules: ids as lowercase hex, 64-bit integers as
//! strings, enums as integers, `bytesValue` as base64, and zero-valued fields
//! omitted. Spans are grouped by resource, then by instrumentation scope.

use base64::Engine;
use model::{AttrValue, KeyValue, Resource, Scope, Span, StatusCode};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The span attribute Jaeger v2 keeps query-time warnings in (a string array).
pub const WARNINGS_ATTRIBUTE: &str = "@jaeger@warnings";

/// Appends each span's warnings (same order as `spans`) as its
/// [`WARNINGS_ATTRIBUTE`], as Jaeger v2's adjusters do.
pub fn add_warnings(spans: &mut [Span], warnings: Vec<Vec<String>>) {
    for (span, warnings) in spans.iter_mut().zip(warnings) {
        if !warnings.is_empty() {
            span.attributes.push(KeyValue {
                key: WARNINGS_ATTRIBUTE.into(),
                value: AttrValue::Array(warnings.into_iter().map(AttrValue::Str).collect()),
            });
        }
    }
}

/// `{"resourceSpans": [...]}` for the given spans.
pub fn to_otlp_traces_data(spans: &[Span]) -> Value {
    // (resource, [(scope, [span])]) in order of first appearance.
    type ScopeGroup<'a> = (Arc<Scope>, Vec<&'a Span>);
    let mut groups: Vec<(Arc<Resource>, Vec<ScopeGroup<'_>>)> = Vec::new();
    for span in spans {
        let r = match groups
            .iter()
            .position(|(r, _)| Arc::ptr_eq(r, &span.resource) || **r == *span.resource)
        {
            Some(i) => i,
            None => {
                groups.push((span.resource.clone(), Vec::new()));
                groups.len() - 1
            }
        };
        let scopes = &mut groups[r].1;
        match scopes
            .iter_mut()
            .find(|(s, _)| Arc::ptr_eq(s, &span.scope) || **s == *span.scope)
        {
            Some((_, list)) => list.push(span),
            None => scopes.push((span.scope.clone(), vec![span])),
        }
    }
    let resource_spans: Vec<Value> = groups
        .into_iter()
        .map(|(resource, scopes)| {
            let mut res = Map::new();
            res.insert("attributes".into(), attributes(&resource.attributes));
            if resource.dropped_attributes_count > 0 {
                res.insert(
                    "droppedAttributesCount".into(),
                    json!(resource.dropped_attributes_count),
                );
            }
            let scope_spans: Vec<Value> = scopes
                .into_iter()
                .map(|(scope, spans)| {
                    let mut s = Map::new();
                    s.insert("name".into(), json!(scope.name));
                    if !scope.version.is_empty() {
                        s.insert("version".into(), json!(scope.version));
                    }
                    if !scope.attributes.is_empty() {
                        s.insert("attributes".into(), attributes(&scope.attributes));
                    }
                    put_count(
                        &mut s,
                        "droppedAttributesCount",
                        scope.dropped_attributes_count,
                    );
                    object([
                        ("scope", Value::Object(s)),
                        ("spans", spans.into_iter().map(span_json).collect()),
                    ])
                })
                .collect();
            object([
                ("resource", Value::Object(res)),
                ("scopeSpans", Value::Array(scope_spans)),
            ])
        })
        .collect();
    object([("resourceSpans", Value::Array(resource_spans))])
}

/// A JSON object from owned values (`json!` would deep-copy non-literal values).
fn object<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

fn span_json(span: &Span) -> Value {
    let mut m = Map::new();
    m.insert("traceId".into(), json!(span.trace_id.to_string()));
    m.insert("spanId".into(), json!(span.span_id.to_string()));
    if !span.trace_state.is_empty() {
        m.insert("traceState".into(), json!(span.trace_state));
    }
    if let Some(parent) = span.parent_span_id {
        m.insert("parentSpanId".into(), json!(parent.to_string()));
    }
    if span.flags != 0 {
        m.insert("flags".into(), json!(span.flags));
    }
    m.insert("name".into(), json!(span.name));
    m.insert("kind".into(), json!(span.kind.otlp_number()));
    m.insert(
        "startTimeUnixNano".into(),
        json!(span.start_unix_nano.to_string()),
    );
    m.insert(
        "endTimeUnixNano".into(),
        json!(span.end_unix_nano.to_string()),
    );
    if !span.attributes.is_empty() {
        m.insert("attributes".into(), attributes(&span.attributes));
    }
    put_count(
        &mut m,
        "droppedAttributesCount",
        span.dropped_attributes_count,
    );
    if !span.events.is_empty() {
        let events: Vec<Value> = span
            .events
            .iter()
            .map(|e| {
                let mut ev = Map::new();
                ev.insert("timeUnixNano".into(), json!(e.time_unix_nano.to_string()));
                ev.insert("name".into(), json!(e.name));
                if !e.attributes.is_empty() {
                    ev.insert("attributes".into(), attributes(&e.attributes));
                }
                put_count(
                    &mut ev,
                    "droppedAttributesCount",
                    e.dropped_attributes_count,
                );
                Value::Object(ev)
            })
            .collect();
        m.insert("events".into(), Value::Array(events));
    }
    put_count(&mut m, "droppedEventsCount", span.dropped_events_count);
    if !span.links.is_empty() {
        let links: Vec<Value> = span
            .links
            .iter()
            .map(|l| {
                let mut lk = Map::new();
                lk.insert("traceId".into(), json!(l.trace_id.to_string()));
                lk.insert("spanId".into(), json!(l.span_id.to_string()));
                if !l.trace_state.is_empty() {
                    lk.insert("traceState".into(), json!(l.trace_state));
                }
                if !l.attributes.is_empty() {
                    lk.insert("attributes".into(), attributes(&l.attributes));
                }
                put_count(
                    &mut lk,
                    "droppedAttributesCount",
                    l.dropped_attributes_count,
                );
                put_count(&mut lk, "flags", l.flags);
                Value::Object(lk)
            })
            .collect();
        m.insert("links".into(), Value::Array(links));
    }
    put_count(&mut m, "droppedLinksCount", span.dropped_links_count);
    let mut status = Map::new();
    if !span.status.message.is_empty() {
        status.insert("message".into(), json!(span.status.message));
    }
    match span.status.code {
        StatusCode::Unset => {}
        StatusCode::Ok => {
            status.insert("code".into(), json!(1));
        }
        StatusCode::Error => {
            status.insert("code".into(), json!(2));
        }
    }
    m.insert("status".into(), Value::Object(status));
    Value::Object(m)
}

fn put_count(m: &mut Map<String, Value>, key: &str, count: u32) {
    if count > 0 {
        m.insert(key.into(), json!(count));
    }
}

fn attributes(kvs: &[KeyValue]) -> Value {
    Value::Array(
        kvs.iter()
            .map(|kv| object([("key", json!(kv.key)), ("value", any_value(&kv.value))]))
            .collect(),
    )
}

/// An OTLP `AnyValue` in JSON.
fn any_value(v: &AttrValue) -> Value {
    match v {
        AttrValue::Str(s) => json!({ "stringValue": s }),
        AttrValue::Bool(b) => json!({ "boolValue": b }),
        AttrValue::Int(i) => json!({ "intValue": i.to_string() }),
        AttrValue::Double(d) => json!({ "doubleValue": d }),
        AttrValue::Bytes(b) => {
            json!({ "bytesValue": base64::engine::general_purpose::STANDARD.encode(b) })
        }
        AttrValue::Array(items) => object([(
            "arrayValue",
            object([("values", items.iter().map(any_value).collect())]),
        )]),
        AttrValue::Map(kvs) => object([("kvlistValue", object([("values", attributes(kvs))]))]),
        AttrValue::Empty => json!({}),
    }
}
