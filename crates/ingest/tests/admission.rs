//! Admission against the in-flight budget, end to end: while another request
//! holds the budget, OTLP/HTTP answers 429 + `Retry-After` and OTLP/gRPC
//! RESOURCE_EXHAUSTED + `RetryInfo` before reading the body, a sender still
//! writing its body reads the refusal (not a reset), the HTTP and gRPC
//! receivers share one budget, and a request larger than the whole budget is
//! served when nothing else is in flight.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use ingest::admission::EXPANSION_PROTOBUF;
use ingest::{InFlightBudget, Limits};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use prost::Message;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::Code;
use tonic_types::StatusExt;

const PROTOBUF: &str = "application/x-protobuf";
const BUDGET_BYTES: u64 = 1 << 20;

/// Starts a request whose declared size takes the whole budget and leaves it
/// waiting for its body; the budget is held until the stream is dropped.
async fn hold_budget(addr: SocketAddr) -> TcpStream {
    let declared = BUDGET_BYTES / EXPANSION_PROTOBUF;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: {PROTOBUF}\r\nContent-Length: {declared}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[0u8; 100]).await.unwrap();
    stream
}

/// Waits until the budget is back to `bytes` in use (a dropped request
/// returns its share when the server notices the closed connection).
async fn wait_for_in_use(budget: &InFlightBudget, bytes: u64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while budget.in_use_bytes() != bytes {
        assert!(Instant::now() < deadline, "{budget:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn post(addr: SocketAddr, body: Vec<u8>) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://{addr}/v1/traces"))
        .header("content-type", PROTOBUF)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_full_budget_refuses_http_and_grpc_at_once_with_retry_hints() {
    let store = Arc::new(MemoryStore::default());
    let limits = Limits {
        in_flight: InFlightBudget::new(BUDGET_BYTES),
        ..Limits::default()
    };
    let budget = limits.in_flight.clone();
    let http = start_http(store.clone(), limits.clone()).await;
    let grpc = start_grpc(store.clone(), limits).await;

    let held = hold_budget(http).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while budget.in_use_bytes() == 0 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let response = post(http, full_request().encode_to_vec()).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    let body = response.bytes().await.unwrap();
    let message = tonic_types::pb::Status::decode(&body[..]).unwrap().message;
    assert!(
        message.contains("of the 1048576-byte in-flight budget")
            && message.contains("--memory-budget"),
        "{message}"
    );

    // The gRPC receiver draws from the same budget.
    let status = TraceServiceClient::connect(format!("http://{grpc}"))
        .await
        .unwrap()
        .export(full_request())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("in-flight budget"), "{status:?}");
    let retry = status.get_error_details().retry_info().cloned().unwrap();
    assert_eq!(retry.retry_delay, Some(Duration::from_secs(1)));
    assert!(store.spans().is_empty());

    // The held request ends; both receivers take requests again.
    drop(held);
    wait_for_in_use(&budget, 0).await;
    let response = post(http, full_request().encode_to_vec()).await;
    assert_eq!(response.status(), 200);
    TraceServiceClient::connect(format!("http://{grpc}"))
        .await
        .unwrap()
        .export(full_request())
        .await
        .unwrap();
    assert_eq!(store.spans().len(), 2 * expected_spans().len());
    assert_eq!(budget.in_use_bytes(), 0);
}

#[tokio::test]
async fn a_sender_still_writing_its_body_reads_the_refusal() {
    let store = Arc::new(MemoryStore::default());
    let limits = Limits {
        in_flight: InFlightBudget::new(BUDGET_BYTES),
        ..Limits::default()
    };
    let http = start_http(store, limits).await;
    let _held = hold_budget(http).await;
    tokio::time::sleep(Duration::from_millis(50)).await;

    // 4 MiB: far more than socket buffers hold, so the write only finishes
    // if the server reads (and drops) the refused body.
    let body = vec![0u8; 4 << 20];
    let mut stream = TcpStream::connect(http).await.unwrap();
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: {PROTOBUF}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 429"), "{response}");
}

#[tokio::test]
async fn requests_larger_than_the_budget_are_served_one_at_a_time() {
    let store = Arc::new(MemoryStore::default());
    // 1 KiB: every request is larger than the whole budget.
    let limits = Limits {
        in_flight: InFlightBudget::new(0),
        ..Limits::default()
    };
    let budget = limits.in_flight.clone();
    let http = start_http(store.clone(), limits.clone()).await;
    let grpc = start_grpc(store.clone(), limits).await;
    for _ in 0..3 {
        assert_eq!(
            post(http, full_request().encode_to_vec()).await.status(),
            200
        );
        TraceServiceClient::connect(format!("http://{grpc}"))
            .await
            .unwrap()
            .export(full_request())
            .await
            .unwrap();
    }
    assert_eq!(store.spans().len(), 6 * expected_spans().len());
    assert_eq!(budget.in_use_bytes(), 0);
}
