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
use prost::Message;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use store::SpanStore;

const SPANS_PER_REQUEST: usize = 512;

/// One request of [`common::sdk_like_request`], encoded.
fn request(index: u64, now: u64) -> Bytes {
    Bytes::from(common::sdk_like_request(index, now).encode_to_vec())
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
                let series = Arc::new(store::series::MemorySeriesStore::new());
                tokio::spawn(ingest::serve_grpc(listener, store, series, Limits::default(), None, std::future::pending()));
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
