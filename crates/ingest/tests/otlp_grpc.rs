//! OTLP/gRPC receiver against a real tonic client: every field survives,
//! gzip works, partial success is reported, and refusals carry the status
//! codes OTLP clients act on (INVALID_ARGUMENT, RESOURCE_EXHAUSTED with and
//! without RetryInfo).
#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
use common::*;
use ingest::Limits;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tonic::codec::CompressionEncoding;
use tonic::transport::Channel;
use tonic::Code;
use tonic_types::StatusExt;

async fn client(addr: SocketAddr) -> TraceServiceClient<Channel> {
    TraceServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
}

#[tokio::test]
async fn grpc_keeps_every_field_plain_and_gzip() {
    let store = Arc::new(MemoryStore::default());
    let addr = start_grpc(store.clone(), Limits::default()).await;
    let mut plain = client(addr).await;
    let answer = plain.export(full_request()).await.unwrap().into_inner();
    assert_eq!(answer.partial_success, None);
    assert_spans_eq(&store.spans(), &expected_spans());

    let mut gzipped = client(addr)
        .await
        .send_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Gzip);
    gzipped.export(full_request()).await.unwrap();
    let mut twice = expected_spans();
    twice.extend(expected_spans());
    assert_spans_eq(&store.spans(), &twice);
}

#[tokio::test]
async fn grpc_reports_partial_success() {
    let store = Arc::new(MemoryStore::default());
    let addr = start_grpc(store.clone(), Limits::default()).await;
    let mut request = full_request();
    let spans = &mut request.resource_spans[0].scope_spans[0].spans;
    spans[1].trace_id = vec![1; 15];
    spans[2].end_time_unix_nano = 1;
    let answer = client(addr)
        .await
        .export(request)
        .await
        .unwrap()
        .into_inner();
    let partial = answer.partial_success.unwrap();
    assert_eq!(partial.rejected_spans, 2);
    assert!(
        partial.error_message.starts_with("rejected 2 of 7 spans: resourceSpans[0].scopeSpans[0].spans[1] (name \"charge\"): trace_id must be 16 bytes, got 15 bytes"),
        "{}",
        partial.error_message
    );
    assert_eq!(store.spans().len(), 5);
}

#[tokio::test]
async fn grpc_overload_is_resource_exhausted_with_retry_info() {
    let store = Arc::new(MemoryStore::default());
    let addr = start_grpc(store.clone(), Limits::default()).await;
    store.set_overloaded(true);
    let status = client(addr).await.export(full_request()).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(
        status.message().contains("retry in 1500 ms"),
        "{}",
        status.message()
    );
    let retry = status.get_error_details().retry_info().cloned().unwrap();
    assert_eq!(retry.retry_delay, Some(Duration::from_millis(1500)));
}

#[tokio::test]
async fn grpc_oversized_is_resource_exhausted_without_retry_info() {
    let store = Arc::new(MemoryStore::default());
    let limits = Limits {
        max_request_bytes: 2048,
        ..Limits::default()
    };
    let addr = start_grpc(store.clone(), limits).await;
    let mut big = full_request();
    big.resource_spans[0].scope_spans[0].spans[0]
        .attributes
        .push(KeyValue {
            key: "payload".into(),
            value: Some(AnyValue {
                value: Some(Value::StringValue("x".repeat(4096))),
            }),
            ..Default::default()
        });
    let status = client(addr).await.export(big.clone()).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().contains("exceeds the 2048-byte limit"),
        "{}",
        status.message()
    );
    assert!(status.get_error_details().retry_info().is_none());

    // Compressed below the limit, but inflating past it.
    let status = client(addr)
        .await
        .send_compressed(CompressionEncoding::Gzip)
        .export(big)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(store.spans().is_empty());
}

/// Sends raw bytes as the request message, to test malformed protobuf.
async fn send_raw(addr: SocketAddr, path: &'static str, body: Bytes) -> tonic::Status {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    grpc.unary(
        tonic::Request::new(body),
        tonic::codegen::http::uri::PathAndQuery::from_static(path),
        RawCodec,
    )
    .await
    .unwrap_err()
}

#[tokio::test]
async fn grpc_malformed_protobuf_is_invalid_argument() {
    let store = Arc::new(MemoryStore::default());
    let addr = start_grpc(store.clone(), Limits::default()).await;
    let status = send_raw(
        addr,
        ingest::otlp_grpc::EXPORT_PATH,
        Bytes::from_static(&[0x0a, 0xff, 0xff, 0xff, 0x0f]),
    )
    .await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status
        .message()
        .starts_with("malformed protobuf ExportTraceServiceRequest"));

    let status = send_raw(
        addr,
        "/opentelemetry.proto.collector.trace.v1.TraceService/Nope",
        Bytes::new(),
    )
    .await;
    assert_eq!(status.code(), Code::Unimplemented, "{status:?}");

    // Still serving.
    let request = ExportTraceServiceRequest::default();
    client(addr).await.export(request).await.unwrap();
}
