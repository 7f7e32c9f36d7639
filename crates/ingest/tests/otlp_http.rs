//! OTLP/HTTP receiver against a real HTTP client: every field survives protobuf
//! and JSON, gzip works, partial success is reported, and each refusal has its
//! status code and a message that says what to fix.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use ingest::Limits;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span as OtlpSpan};
use prost::Message;
use std::sync::Arc;

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

async fn post(
    addr: std::net::SocketAddr,
    content_type: &str,
    encoding: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("http://{addr}/v1/traces"))
        .header("content-type", content_type)
        .body(body);
    if let Some(encoding) = encoding {
        request = request.header("content-encoding", encoding);
    }
    request.send().await.unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The `google.rpc.Status` message of a protobuf error answer.
async fn protobuf_error(response: reqwest::Response) -> String {
    assert_eq!(header(&response, "content-type"), PROTOBUF);
    let body = response.bytes().await.unwrap();
    tonic_types::pb::Status::decode(&body[..]).unwrap().message
}

async fn json_error(response: reqwest::Response) -> String {
    assert_eq!(header(&response, "content-type"), JSON);
    let body: serde_json::Value = response.json_value().await;
    body["message"].as_str().unwrap().to_string()
}

trait JsonValue {
    async fn json_value(self) -> serde_json::Value;
}

impl JsonValue for reqwest::Response {
    async fn json_value(self) -> serde_json::Value {
        serde_json::from_slice(&self.bytes().await.unwrap()).unwrap()
    }
}

#[tokio::test]
async fn protobuf_keeps_every_field() {
    let store = Arc::new(MemoryStore::default());
    let addr = start_http(store.clone(), Limits::default()).await;
    let response = post(addr, PROTOBUF, None, full_request().encode_to_vec()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), PROTOBUF);
    let answer = ExportTraceServiceResponse::decode(response.bytes().await.unwrap()).unwrap();
    assert_eq!(answer.partial_success, None);
    assert_spans_eq(&store.spans(), &expected_spans());
}

#[tokio::test]
async fn json_keeps_every_field() {
    let store = Arc::new(MemoryStore::default());
    let addr = start_http(store.clone(), Limits::default()).await;
    let fixture = include_bytes!("data/otlp_all_fields.json").to_vec();
    let response = post(addr, "application/json; charset=utf-8", None, fixture).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), JSON);
    assert_eq!(response.json_value().await, serde_json::json!({}));
    assert_spans_eq(&store.spans(), &expected_spans());
}

#[tokio::test]
async fn json_written_by_the_proto_crate_round_trips() {
    let store = Arc::new(MemoryStore::default());
    let addr = start_http(store.clone(), Limits::default()).await;
    let body = serde_json::to_vec(&full_request()).unwrap();
    let response = post(addr, JSON, None, body).await;
    assert_eq!(response.status(), 200);
    assert_spans_eq(&store.spans(), &expected_spans());
}

#[tokio::test]
async fn gzip_bodies_are_inflated() {
    let store = Arc::new(MemoryStore::default());
    let addr = start_http(store.clone(), Limits::default()).await;
    let response = post(
        addr,
        PROTOBUF,
        Some("gzip"),
        gzip(&full_request().encode_to_vec()),
    )
    .await;
    assert_eq!(response.status(), 200);
    let json = gzip(include_bytes!("data/otlp_all_fields.json"));
    let response = post(addr, JSON, Some("gzip"), json).await;
    assert_eq!(response.status(), 200);
    let mut twice = expected_spans();
    twice.extend(expected_spans());
    assert_spans_eq(&store.spans(), &twice);
}

/// One valid span and four invalid ones.
fn mixed_request() -> ExportTraceServiceRequest {
    let good = OtlpSpan {
        trace_id: hex(TRACE),
        span_id: hex("1111111111111111"),
        name: "good".into(),
        start_time_unix_nano: T0,
        end_time_unix_nano: T0 + 5,
        ..Default::default()
    };
    let zero_trace = OtlpSpan {
        trace_id: vec![0; 16],
        name: "zero-trace".into(),
        ..good.clone()
    };
    let short_span = OtlpSpan {
        span_id: vec![1, 2, 3],
        name: "short-span".into(),
        ..good.clone()
    };
    let backwards = OtlpSpan {
        end_time_unix_nano: T0 - 1,
        name: "backwards".into(),
        ..good.clone()
    };
    let bad_parent = OtlpSpan {
        parent_span_id: vec![9; 4],
        name: "bad-parent".into(),
        ..good.clone()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: None,
            scope_spans: vec![ScopeSpans {
                scope: None,
                spans: vec![zero_trace, good, short_span, backwards, bad_parent],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

#[tokio::test]
async fn invalid_spans_are_rejected_and_the_rest_stored() {
    let store = Arc::new(MemoryStore::default());
    let addr = start_http(store.clone(), Limits::default()).await;

    let response = post(addr, PROTOBUF, None, mixed_request().encode_to_vec()).await;
    assert_eq!(response.status(), 200);
    let answer = ExportTraceServiceResponse::decode(response.bytes().await.unwrap()).unwrap();
    let partial = answer.partial_success.unwrap();
    assert_eq!(partial.rejected_spans, 4);
    let message = partial.error_message;
    assert!(message.starts_with("rejected 4 of 5 spans"), "{message}");
    for expected in [
        "spans[0] (name \"zero-trace\"): trace_id is all zeros",
        "spans[2] (name \"short-span\"): span_id must be 8 bytes, got 3 bytes",
        "spans[3] (name \"backwards\"): end_time_unix_nano",
        "spans[4] (name \"bad-parent\"): parent_span_id must be empty or 8 bytes, got 4 bytes",
    ] {
        assert!(message.contains(expected), "{message}\nlacks {expected}");
    }

    let json = serde_json::to_vec(&mixed_request()).unwrap();
    let response = post(addr, JSON, None, json).await;
    assert_eq!(response.status(), 200);
    let answer = response.json_value().await;
    assert_eq!(answer["partialSuccess"]["rejectedSpans"], "4");
    assert!(answer["partialSuccess"]["errorMessage"]
        .as_str()
        .unwrap()
        .contains("zero-trace"));

    let names: Vec<String> = store.spans().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["good", "good"]);
}

#[tokio::test]
async fn malformed_bodies_are_400_with_a_precise_message() {
    let store = Arc::new(MemoryStore::default());
    let addr = start_http(store.clone(), Limits::default()).await;

    let response = post(addr, PROTOBUF, None, vec![0x0a, 0xff, 0xff, 0xff, 0x0f]).await;
    assert_eq!(response.status(), 400);
    let message = protobuf_error(response).await;
    assert!(
        message.starts_with("malformed protobuf ExportTraceServiceRequest"),
        "{message}"
    );

    let response = post(addr, JSON, None, b"{\"resourceSpans\": [".to_vec()).await;
    assert_eq!(response.status(), 400);
    let message = json_error(response).await;
    assert!(
        message.contains("malformed JSON") && message.contains("line 1"),
        "{message}"
    );

    let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"xyz"}]}]}]}"#;
    let response = post(addr, JSON, None, body.to_vec()).await;
    assert_eq!(response.status(), 400);
    let message = json_error(response).await;
    assert!(
        message.contains("resourceSpans[0].scopeSpans[0].spans[0].spanId"),
        "{message}"
    );

    let response = post(addr, PROTOBUF, Some("gzip"), b"not gzip".to_vec()).await;
    assert_eq!(response.status(), 400);
    assert!(protobuf_error(response)
        .await
        .contains("malformed gzip body"));

    // Still serving.
    let response = post(addr, PROTOBUF, None, full_request().encode_to_vec()).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn oversized_bodies_are_413_also_after_decompression() {
    let store = Arc::new(MemoryStore::default());
    let limits = Limits {
        max_request_bytes: 4096,
        ..Limits::default()
    };
    let addr = start_http(store.clone(), limits).await;

    let response = post(addr, PROTOBUF, None, vec![0; 8192]).await;
    assert_eq!(response.status(), 413);
    let message = protobuf_error(response).await;
    assert!(message.contains("exceeds the 4096-byte limit"), "{message}");

    let bomb = gzip(&vec![0; 2 << 20]);
    assert!(bomb.len() < 4096);
    let response = post(addr, JSON, Some("gzip"), bomb).await;
    assert_eq!(response.status(), 413);
    let message = json_error(response).await;
    assert!(message.contains("after decompression"), "{message}");
    assert!(store.spans().is_empty());
}

#[tokio::test]
async fn unknown_content_type_or_encoding_is_415() {
    let store = Arc::new(MemoryStore::default());
    let addr = start_http(store, Limits::default()).await;
    let response = post(addr, "text/plain", None, b"hello".to_vec()).await;
    assert_eq!(response.status(), 415);
    let message = json_error(response).await;
    assert!(message.contains("'text/plain'") && message.contains("application/x-protobuf"));

    let response = post(addr, PROTOBUF, Some("br"), b"x".to_vec()).await;
    assert_eq!(response.status(), 415);
    assert!(protobuf_error(response)
        .await
        .contains("Content-Encoding 'br'"));
}

#[tokio::test]
async fn overload_is_429_with_retry_after() {
    let store = Arc::new(MemoryStore::default());
    let addr = start_http(store.clone(), Limits::default()).await;
    store.set_overloaded(true);
    let response = post(addr, PROTOBUF, None, full_request().encode_to_vec()).await;
    assert_eq!(response.status(), 429);
    assert_eq!(header(&response, "retry-after"), "2"); // 1500 ms, rounded up
    assert!(protobuf_error(response).await.contains("retry in 1500 ms"));
    store.set_overloaded(false);
    let response = post(addr, PROTOBUF, None, full_request().encode_to_vec()).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn wrong_method_is_405_and_unknown_path_404() {
    let store = Arc::new(MemoryStore::default());
    let addr = start_http(store, Limits::default()).await;
    let client = reqwest::Client::new();
    let response = client
        .get(format!("http://{addr}/v1/traces"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(header(&response, "allow"), "POST");
    let response = client
        .post(format!("http://{addr}/v1/logs"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let text = response.text().await.unwrap();
    assert!(
        text.contains("POST /v1/logs")
            && text.contains("/v1/traces")
            && text.contains("/v1/metrics"),
        "{text}"
    );
}

#[tokio::test]
async fn limits_truncate_and_drop_but_never_reject() {
    let store = Arc::new(MemoryStore::default());
    let limits = Limits {
        max_attributes_per_span: 4,
        max_attribute_value_bytes: 5,
        max_events_per_span: 0,
        ..Limits::default()
    };
    let addr = start_http(store.clone(), limits).await;
    let response = post(addr, PROTOBUF, None, full_request().encode_to_vec()).await;
    assert_eq!(response.status(), 200);
    let answer = ExportTraceServiceResponse::decode(response.bytes().await.unwrap()).unwrap();
    let partial = answer.partial_success.unwrap();
    assert_eq!(partial.rejected_spans, 0);
    assert_eq!(
        partial.error_message,
        // 11 values: ten in spans and resources, and the scope's name.
        "accepted with limits applied: 11 values truncated to 5 bytes; \
         5 attributes dropped (limit 4 per span, 128 per event, 128 per link); \
         1 events dropped (limit 0 per span)"
    );
    let spans = store.spans();
    assert_eq!(spans.len(), 7);
    let root = &spans[0];
    assert_eq!(root.attributes.len(), 4);
    assert_eq!(root.dropped_attributes_count, 2 + 5);
    assert_eq!(root.name, "GET /"); // "GET /checkout" cut to 5 bytes
    assert_eq!(root.scope.name, "io.op"); // "io.opentelemetry.test"
    assert_eq!(root.status.message, "payme");
    assert!(root.events.is_empty());
    assert_eq!(root.dropped_events_count, 3 + 1);
    assert_eq!(
        root.resource.attributes[0].value,
        model::AttrValue::Str("check".into())
    );
    assert_eq!(root.resource.service_name, "check");
}
