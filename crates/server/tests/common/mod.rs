//! Test support: an in-memory `SpanStore` (a Vec behind a Mutex), a hand-built
//! two-service trace, and a helper that sends one request through the router.
#![allow(dead_code)]

pub mod prom;
pub mod prometheus;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use model::{
    AttrValue, KeyValue, Resource, Scope, Span, SpanEvent, SpanId, SpanKind, SpanLink, Status,
    StatusCode as OtelStatus, TraceId,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use store::{DependencyLink, Operation, SpanStore, StoreError, TraceQuery, WriteAck};
use tower::ServiceExt;

/// Spans in memory; searches scan them all.
#[derive(Default)]
pub struct MemStore {
    pub spans: Mutex<Vec<Span>>,
}

impl MemStore {
    fn all(&self) -> Vec<Span> {
        self.spans.lock().unwrap().clone()
    }
}

fn matches(span: &Span, q: &TraceQuery) -> bool {
    q.service.as_deref().is_none_or(|s| span.service() == s)
        && q.operation.as_deref().is_none_or(|o| span.name == o)
        && q.start_min.is_none_or(|t| span.start_unix_nano >= t)
        && q.start_max.is_none_or(|t| span.start_unix_nano <= t)
        && q.duration_min.is_none_or(|d| span.duration_nanos() >= d)
        && q.duration_max.is_none_or(|d| span.duration_nanos() <= d)
        && q.tags.iter().all(|(k, v)| {
            (k == "error" && v == "true" && span.status.code == OtelStatus::Error)
                || span
                    .attributes
                    .iter()
                    .any(|kv| &kv.key == k && &kv.value.to_text() == v)
        })
}

impl SpanStore for MemStore {
    fn write(&self, spans: Vec<Span>) -> Result<WriteAck, StoreError> {
        self.spans.lock().unwrap().extend(spans);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let _ = tx.send(Ok(()));
        Ok(rx)
    }
    fn services(&self) -> Result<Vec<String>, StoreError> {
        let mut s: Vec<String> = self.all().iter().map(|s| s.service().to_string()).collect();
        s.sort();
        s.dedup();
        Ok(s)
    }
    fn operations(
        &self,
        service: &str,
        kind: Option<SpanKind>,
    ) -> Result<Vec<Operation>, StoreError> {
        let mut ops: Vec<Operation> = self
            .all()
            .iter()
            .filter(|s| s.service() == service && kind.is_none_or(|k| s.kind == k))
            .map(|s| Operation {
                name: s.name.clone(),
                kind: s.kind,
            })
            .collect();
        ops.sort();
        ops.dedup();
        Ok(ops)
    }
    fn find_traces(&self, q: &TraceQuery) -> Result<Vec<Vec<Span>>, StoreError> {
        let all = self.all();
        let mut by_trace: BTreeMap<TraceId, Vec<Span>> = BTreeMap::new();
        for s in &all {
            by_trace.entry(s.trace_id).or_default().push(s.clone());
        }
        let mut hits: Vec<Vec<Span>> = by_trace
            .into_values()
            .filter(|t| t.iter().any(|s| matches(s, q)))
            .collect();
        hits.sort_by_key(|t| std::cmp::Reverse(t.iter().map(|s| s.start_unix_nano).min()));
        hits.truncate(if q.limit == 0 { 20 } else { q.limit });
        Ok(hits)
    }
    fn trace(&self, id: TraceId) -> Result<Option<Vec<Span>>, StoreError> {
        let spans: Vec<Span> = self
            .all()
            .into_iter()
            .filter(|s| s.trace_id == id)
            .collect();
        Ok((!spans.is_empty()).then_some(spans))
    }
    fn dependencies(&self, end: u64, lookback: u64) -> Result<Vec<DependencyLink>, StoreError> {
        let all = self.all();
        let mut out = Vec::new();
        for child in &all {
            if child.start_unix_nano > end || child.start_unix_nano < end.saturating_sub(lookback) {
                continue;
            }
            if let Some(parent) = all.iter().find(|p| Some(p.span_id) == child.parent_span_id) {
                if parent.service() != child.service() {
                    out.push(DependencyLink {
                        parent: parent.service().into(),
                        child: child.service().into(),
                        call_count: 1,
                    });
                }
            }
        }
        Ok(out)
    }
}

/// Trace id of the sample trace.
pub const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
/// Start of the sample trace: 1 s before "now" so default lookbacks find it, rounded to µs.
pub fn t0() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    (now - 1_000_000_000) / 1000 * 1000
}

fn base(
    id: u8,
    parent: Option<u8>,
    resource: &Arc<Resource>,
    name: &str,
    start: u64,
    end: u64,
) -> Span {
    Span {
        trace_id: TraceId::from_hex(TRACE).unwrap(),
        span_id: SpanId([0xa0, 0, 0, 0, 0, 0, 0, id]),
        parent_span_id: parent.map(|p| SpanId([0xa0, 0, 0, 0, 0, 0, 0, p])),
        trace_state: String::new(),
        flags: 1,
        name: name.into(),
        kind: SpanKind::Internal,
        start_unix_nano: start,
        end_unix_nano: end,
        attributes: vec![],
        dropped_attributes_count: 0,
        events: vec![],
        dropped_events_count: 0,
        links: vec![],
        dropped_links_count: 0,
        status: Status::default(),
        resource: resource.clone(),
        scope: Arc::new(Scope {
            name: "test-scope".into(),
            version: "1.0".into(),
            attributes: vec![KeyValue::str("scope.attr", "s")],
            dropped_attributes_count: 0,
        }),
    }
}

/// frontend `GET /dispatch` (server, 0–242 ms) → frontend `HTTP GET` (client, 10–200 ms)
/// → driver `FindNearest` (server, 20–190 ms, error, event, link).
pub fn sample_trace(t0: u64) -> Vec<Span> {
    let ms = 1_000_000;
    let front = Arc::new(Resource {
        service_name: "frontend".into(),
        attributes: vec![
            KeyValue::str("service.name", "frontend"),
            KeyValue::str("host.name", "box1"),
        ],
        dropped_attributes_count: 0,
    });
    let driver = Arc::new(Resource {
        service_name: "driver".into(),
        attributes: vec![KeyValue::str("service.name", "driver")],
        dropped_attributes_count: 0,
    });
    let mut root = base(1, None, &front, "GET /dispatch", t0, t0 + 242_170_000);
    root.kind = SpanKind::Server;
    root.attributes = vec![
        KeyValue::str("http.request.method", "GET"),
        KeyValue {
            key: "http.response.status_code".into(),
            value: AttrValue::Int(200),
        },
        KeyValue {
            key: "sampled.ratio".into(),
            value: AttrValue::Double(0.5),
        },
        KeyValue {
            key: "cached".into(),
            value: AttrValue::Bool(false),
        },
        KeyValue {
            key: "blob".into(),
            value: AttrValue::Bytes(vec![1, 2, 255]),
        },
    ];
    let mut client = base(2, Some(1), &front, "HTTP GET", t0 + 10 * ms, t0 + 200 * ms);
    client.kind = SpanKind::Client;
    let mut server = base(
        3,
        Some(2),
        &driver,
        "FindNearest",
        t0 + 20 * ms,
        t0 + 190 * ms,
    );
    server.kind = SpanKind::Server;
    server.status = Status {
        code: OtelStatus::Error,
        message: "redis timeout".into(),
    };
    server.events = vec![SpanEvent {
        time_unix_nano: t0 + 50 * ms,
        name: "exception".into(),
        attributes: vec![KeyValue::str("exception.message", "timeout")],
        dropped_attributes_count: 0,
    }];
    server.links = vec![SpanLink {
        trace_id: TraceId([7; 16]),
        span_id: SpanId([8; 8]),
        trace_state: String::new(),
        attributes: vec![],
        dropped_attributes_count: 0,
        flags: 0x301,
    }];
    vec![root, client, server]
}

/// A router over a store holding the sample trace.
pub fn app_with_sample() -> (axum::Router, u64) {
    let store = MemStore::default();
    let t0 = t0();
    store.spans.lock().unwrap().extend(sample_trace(t0));
    (server::router(Arc::new(store)), t0)
}

/// GETs `uri`; returns status and body parsed as JSON (or `Null` when not JSON).
pub async fn get(app: &axum::Router, uri: &str) -> (StatusCode, serde_json::Value, String) {
    let resp = app
        .clone()
        .oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        text,
    )
}
