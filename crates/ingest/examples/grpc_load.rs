//! Quick ingest throughput check: OTLP/gRPC batches of 512 spans with 10
//! attributes each, sent by concurrent tonic clients to `serve_grpc` backed by
//! the embedded store (durable) or by a store that discards, next to the
//! ceiling of decoding (prost) and converting the same bytes in one thread.
//!
//!     cargo run --release -p ingest --example grpc_load -- [embedded|discard|remote=ADDR] [REQUESTS] [CLIENTS]
//!
//! `remote=127.0.0.1:4317` sends to a running `whyslow serve` instead of an
//! in-process server (loopback addresses only).
//!
//! Not a benchmark harness (dev/bench is); it prints spans/s for a quick look.
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use bytes::Bytes;
use ingest::Limits;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span as OtlpSpan};
use prost::Message;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use store::SpanStore;

const SPANS_PER_REQUEST: usize = 512;

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// One request: 16 traces of 32 spans, 10 attributes per span.
fn request(index: u64, now: u64) -> Bytes {
    let mut spans = Vec::with_capacity(SPANS_PER_REQUEST);
    for i in 0..SPANS_PER_REQUEST as u64 {
        let trace = index * 16 + i / 32 + 1;
        let mut trace_id = [0u8; 16];
        trace_id[..8].copy_from_slice(&trace.to_be_bytes());
        trace_id[8..].copy_from_slice(&(trace ^ 0x9e37_79b9_7f4a_7c15).to_be_bytes());
        let span_id = (index << 20 | i) + 1;
        let parent = if i % 32 == 0 {
            Vec::new()
        } else {
            ((index << 20 | (i - i % 32)) + 1).to_be_bytes().to_vec()
        };
        let start = now + i * 1_000;
        spans.push(OtlpSpan {
            trace_id: trace_id.to_vec(),
            span_id: span_id.to_be_bytes().to_vec(),
            parent_span_id: parent,
            name: format!("GET /api/v1/items/{}", i % 20),
            kind: 2,
            start_time_unix_nano: start,
            end_time_unix_nano: start + 250_000 + i * 100,
            attributes: vec![
                kv("http.request.method", Value::StringValue("GET".into())),
                kv(
                    "http.route",
                    Value::StringValue("/api/v1/items/{id}".into()),
                ),
                kv("http.response.status_code", Value::IntValue(200)),
                kv("url.path", Value::StringValue(format!("/api/v1/items/{i}"))),
                kv(
                    "server.address",
                    Value::StringValue("items.internal".into()),
                ),
                kv("server.port", Value::IntValue(8080)),
                kv("user_agent.original", Value::StringValue("load/1.0".into())),
                kv("network.protocol.version", Value::StringValue("1.1".into())),
                kv("items.cache_hit", Value::BoolValue(i % 3 == 0)),
                kv("items.score", Value::DoubleValue(i as f64 / 7.0)),
            ],
            ..Default::default()
        });
    }
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", Value::StringValue("items".into()))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            schema_url: String::new(),
        }],
    };
    Bytes::from(request.encode_to_vec())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args
        .first()
        .map(String::as_str)
        .unwrap_or("embedded")
        .to_string();
    let requests: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(400);
    let clients: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(4);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let bodies: Vec<Bytes> = (0..requests as u64).map(|i| request(i, now)).collect();
    let spans = requests * SPANS_PER_REQUEST;
    let mb = bodies.iter().map(Bytes::len).sum::<usize>() as f64 / 1e6;
    println!("{requests} requests × {SPANS_PER_REQUEST} spans ({mb:.1} MB protobuf), {clients} clients, store: {mode}");

    let started = Instant::now();
    for body in &bodies {
        std::hint::black_box(ExportTraceServiceRequest::decode(&body[..]).unwrap());
    }
    let decode_rate = spans as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for body in &bodies {
        let request = ExportTraceServiceRequest::decode(&body[..]).unwrap();
        std::hint::black_box(ingest::otlp_convert::convert_request(
            request,
            &Limits::default(),
        ));
    }
    let convert_rate = spans as f64 / started.elapsed().as_secs_f64();
    println!("ceiling, one thread: prost decode {decode_rate:.0} spans/s; decode + convert to model {convert_rate:.0} spans/s");

    let data_dir = std::env::temp_dir().join(format!("whyslow-grpc-load-{}", std::process::id()));
    let remote: Option<std::net::SocketAddr> = mode
        .strip_prefix("remote=")
        .map(|a| a.parse().expect("remote=IP:PORT"));
    assert!(
        remote.is_none_or(|a| a.ip().is_loopback()),
        "load tests target loopback only"
    );
    let store: Option<Arc<dyn SpanStore>> = match mode.as_str() {
        _ if remote.is_some() => None,
        "discard" => Some(Arc::new(common::MemoryStore::discarding())),
        _ => Some(Arc::new(
            store::EmbeddedStore::open(store::EmbeddedConfig::new(&data_dir)).unwrap(),
        )),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let addr = match (remote, store) {
            (Some(addr), _) => addr,
            (None, Some(store)) => {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                tokio::spawn(ingest::serve_grpc(listener, store, Limits::default(), std::future::pending()));
                addr
            }
            (None, None) => unreachable!("a store exists unless remote"),
        };
        let bodies = Arc::new(bodies);
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        let mut overloaded = 0usize;
        for _ in 0..clients {
            let (bodies, next) = (Arc::clone(&bodies), Arc::clone(&next));
            tasks.push(tokio::spawn(async move {
                let channel = tonic::transport::Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
                let mut grpc = tonic::client::Grpc::new(channel);
                let mut refused = 0usize;
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    loop {
                        grpc.ready().await.unwrap();
                        let path = tonic::codegen::http::uri::PathAndQuery::from_static(ingest::otlp_grpc::EXPORT_PATH);
                        match grpc.unary(tonic::Request::new(body.clone()), path, common::RawCodec).await {
                            Ok(_) => break,
                            Err(status) if status.code() == tonic::Code::ResourceExhausted => {
                                refused += 1;
                                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            }
                            Err(status) => panic!("export failed: {status}"),
                        }
                    }
                }
                refused
            }));
        }
        for task in tasks {
            overloaded += task.await.unwrap();
        }
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "OTLP/gRPC into {mode}: {:.0} spans/s ({spans} spans in {elapsed:.2} s, {overloaded} RESOURCE_EXHAUSTED retries)",
            spans as f64 / elapsed
        );
    });
    drop(runtime);
    let _ = std::fs::remove_dir_all(&data_dir);
}
