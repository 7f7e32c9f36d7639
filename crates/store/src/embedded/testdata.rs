//! Spans for unit tests: a few services calling each other, with
//! attributes, events, links and error statuses.

use model::{
    AttrValue, KeyValue, Resource, Scope, Span, SpanEvent, SpanId, SpanKind, SpanLink, Status,
    StatusCode, TraceId,
};
use std::sync::Arc;

/// Base start time of generated spans (2026-01-01, Unix ns).
pub const BASE: u64 = 1_767_225_600_000_000_000;

/// A resource for `service`.
pub fn resource(service: &str) -> Arc<Resource> {
    Arc::new(Resource {
        service_name: service.to_string(),
        attributes: vec![
            KeyValue::str("service.name", service),
            KeyValue::str("host.name", "box-1"),
        ],
        dropped_attributes_count: 0,
    })
}

/// Trace id number `n`.
pub fn trace_id(n: u64) -> TraceId {
    let mut b = [0u8; 16];
    b[8..].copy_from_slice(&(n + 1).to_be_bytes());
    b[0] = 0xab;
    TraceId(b)
}

/// `traces` traces of `spans_per_trace` spans: a `frontend` server root
/// calling `backend` (client → server); trace `n` starts at `BASE + n ms`,
/// lasts `(n + 1) ms`, and every third trace's last span is an error.
pub fn sample_spans(traces: u64, spans_per_trace: u64) -> Vec<Span> {
    let frontend = resource("frontend");
    let backend = resource("backend");
    let scope = Arc::new(Scope {
        name: "test".into(),
        version: "1".into(),
        attributes: vec![KeyValue::str("scope.attr", "x")],
        dropped_attributes_count: 1,
    });
    let mut out = Vec::new();
    for t in 0..traces {
        let start = BASE + t * 1_000_000;
        for s in 0..spans_per_trace {
            let service = if s == 0 { &frontend } else { &backend };
            let error = t % 3 == 0 && s + 1 == spans_per_trace;
            out.push(Span {
                trace_id: trace_id(t),
                span_id: SpanId((t * 100 + s + 1).to_be_bytes()),
                parent_span_id: (s > 0).then(|| SpanId((t * 100 + s).to_be_bytes())),
                trace_state: String::new(),
                flags: 1,
                name: if s == 0 {
                    "GET /".into()
                } else {
                    format!("query-{}", s % 2)
                },
                kind: if s == 0 {
                    SpanKind::Server
                } else {
                    SpanKind::Client
                },
                start_unix_nano: start + s * 1000,
                end_unix_nano: start + s * 1000 + (t + 1) * 1_000_000,
                attributes: vec![
                    KeyValue::str("http.method", if t % 2 == 0 { "GET" } else { "POST" }),
                    KeyValue {
                        key: "http.status_code".into(),
                        value: AttrValue::Int(if error { 500 } else { 200 }),
                    },
                ],
                dropped_attributes_count: 0,
                events: if error {
                    vec![SpanEvent {
                        time_unix_nano: start + 5,
                        name: "exception".into(),
                        attributes: vec![KeyValue::str("exception.message", "boom")],
                        dropped_attributes_count: 0,
                    }]
                } else {
                    Vec::new()
                },
                dropped_events_count: 0,
                links: if s == 1 {
                    vec![SpanLink {
                        trace_id: trace_id(t + 1000),
                        span_id: SpanId([9; 8]),
                        trace_state: String::new(),
                        attributes: Vec::new(),
                        dropped_attributes_count: 0,
                        flags: 0x301,
                    }]
                } else {
                    Vec::new()
                },
                dropped_links_count: 0,
                status: Status {
                    code: if error {
                        StatusCode::Error
                    } else {
                        StatusCode::Unset
                    },
                    message: if error {
                        "failed".into()
                    } else {
                        String::new()
                    },
                },
                resource: Arc::clone(service),
                scope: Arc::clone(&scope),
            });
        }
    }
    out
}
