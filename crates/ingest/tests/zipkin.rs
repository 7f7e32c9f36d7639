//! Zipkin v2 JSON receiver: the field mapping to OpenTelemetry-shaped spans,
//! and its refusals.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use ingest::Limits;
use model::{AttrValue, KeyValue, SpanId, SpanKind, StatusCode, TraceId};
use std::sync::Arc;

async fn post(addr: std::net::SocketAddr, content_type: &str, body: &[u8]) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://{addr}/api/v2/spans"))
        .header("content-type", content_type)
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

const SPANS: &str = r#"[
  {
    "traceId": "86154a4ba6e91385",
    "parentId": "86154a4ba6e91385",
    "id": "4d1e00c0db9010db",
    "kind": "CLIENT",
    "name": "get /api",
    "timestamp": 1472470996199000,
    "duration": 207000,
    "localEndpoint": { "serviceName": "frontend", "ipv4": "127.0.0.1" },
    "remoteEndpoint": { "serviceName": "backend", "ipv4": "192.168.99.101", "port": 9000 },
    "annotations": [ { "timestamp": 1472470996238000, "value": "ws" } ],
    "tags": { "http.method": "GET", "http.path": "/api", "error": "connection reset" },
    "shared": false
  },
  {
    "traceId": "5b8efff798038103d269b633813fc60c",
    "id": "4d1e00c0db9010dc",
    "kind": "SERVER",
    "name": "handle",
    "timestamp": 1472470996200000,
    "duration": 5,
    "localEndpoint": { "serviceName": "backend" },
    "tags": { "otel.status_code": "ERROR", "otel.status_description": "bad", "retries": 3 },
    "shared": true
  },
  { "traceId": "86154a4ba6e91385", "id": "4d1e00c0db9010dd", "timestamp": 1472470996200000 }
]"#;

#[tokio::test]
async fn zipkin_spans_map_to_the_model() {
    let store = Arc::new(MemoryStore::default());
    let addr = start_http(store.clone(), Limits::default()).await;
    let response = post(addr, "application/json", SPANS.as_bytes()).await;
    assert_eq!(response.status(), 202);
    let spans = store.spans();
    assert_eq!(spans.len(), 3);

    let client = &spans[0];
    assert_eq!(
        client.trace_id,
        TraceId::from_hex("000000000000000086154a4ba6e91385").unwrap()
    );
    assert_eq!(
        client.span_id,
        SpanId::from_hex("4d1e00c0db9010db").unwrap()
    );
    assert_eq!(
        client.parent_span_id,
        SpanId::from_hex("86154a4ba6e91385").ok()
    );
    assert_eq!(client.kind, SpanKind::Client);
    assert_eq!(client.name, "get /api");
    assert_eq!(client.start_unix_nano, 1_472_470_996_199_000_000);
    assert_eq!(client.duration_nanos(), 207_000_000);
    assert_eq!(client.service(), "frontend");
    assert_eq!(
        client.resource.attributes,
        [KeyValue::str("service.name", "frontend")]
    );
    assert_eq!(client.status.code, StatusCode::Error);
    assert_eq!(client.status.message, "connection reset");
    assert_eq!(
        client.attributes,
        [
            KeyValue::str("http.method", "GET"),
            KeyValue::str("http.path", "/api"),
            KeyValue::str("peer.service", "backend"),
            KeyValue::str("network.peer.address", "192.168.99.101"),
            KeyValue {
                key: "network.peer.port".into(),
                value: AttrValue::Int(9000)
            },
        ]
    );
    assert_eq!(client.events.len(), 1);
    assert_eq!(client.events[0].name, "ws");
    assert_eq!(client.events[0].time_unix_nano, 1_472_470_996_238_000_000);

    let server = &spans[1];
    assert_eq!(
        server.trace_id,
        TraceId::from_hex("5b8efff798038103d269b633813fc60c").unwrap()
    );
    assert_eq!(server.parent_span_id, None);
    assert_eq!(server.kind, SpanKind::Server);
    assert_eq!(server.service(), "backend");
    assert_eq!(server.duration_nanos(), 5_000);
    assert_eq!(server.status.code, StatusCode::Error);
    assert_eq!(server.status.message, "bad");
    assert_eq!(server.attributes, [KeyValue::str("retries", "3")]);

    let bare = &spans[2];
    assert_eq!(bare.service(), "unknown_service");
    assert_eq!(bare.kind, SpanKind::Unspecified);
    assert_eq!(bare.duration_nanos(), 0);
}

#[tokio::test]
async fn zipkin_refusals() {
    let store = Arc::new(MemoryStore::default());
    let addr = start_http(store.clone(), Limits::default()).await;

    let response = post(addr, "application/json", b"{\"traceId\": 1}").await;
    assert_eq!(response.status(), 400);
    let text = response.text().await.unwrap();
    assert!(text.contains("malformed Zipkin v2 JSON"), "{text}");

    let response = post(
        addr,
        "application/json",
        br#"[{"traceId":"abc","id":"zz","timestamp":1}]"#,
    )
    .await;
    assert_eq!(response.status(), 400);
    let text = response.text().await.unwrap();
    assert!(text.contains("id \"zz\" is not 16 hex digits"), "{text}");

    // One bad span among good ones: the good ones are stored.
    let mixed = br#"[{"traceId":"abc","id":"01","timestamp":1},{"traceId":"abc","id":"02"}]"#;
    let response = post(addr, "application/json", mixed).await;
    assert_eq!(response.status(), 202);
    let text = response.text().await.unwrap();
    assert!(
        text.contains("rejected 1 of 2 spans: span [1]") && text.contains("timestamp is missing"),
        "{text}"
    );
    assert_eq!(store.spans().len(), 1);

    let response = post(addr, "application/x-protobuf", b"\x0a\x00").await;
    assert_eq!(response.status(), 415);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("protobuf encoding is not supported"));
}
