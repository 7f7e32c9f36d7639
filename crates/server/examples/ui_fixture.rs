//! The UI test fixture traces: the three-span sample trace of the API tests, a
//! slower copy of it, a 10 000-span trace, and a 12-service trace with one
//! span on a skewed clock.
//!
//! `cargo run --release -p server --example ui_fixture -- --otlp-json FILE`
//! writes them as an OTLP/JSON export request, which the browser tests POST to
//! a real `whyslow serve`. `… -- [ADDR]` (default 127.0.0.1:0) instead serves
//! the router over an in-memory store holding them (for UI development) and
//! prints `listening on http://ADDR` once ready.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a dev tool: failing loudly is right

#[path = "../tests/common/mod.rs"]
mod common;

use model::{KeyValue, Resource, Span, SpanId, TraceId};
use std::sync::Arc;

/// Trace id of the large fixture trace.
const BIG_TRACE: &str = "ffffffffffffffff0000000000010000";

/// A 10 000-span trace over 8 services: a fan-out tree, each span inside its parent.
fn big_trace(t0: u64) -> Vec<Span> {
    let services: Vec<Arc<Resource>> = (0..8)
        .map(|i| {
            let name = format!("svc-{i}");
            Arc::new(Resource {
                service_name: name.clone(),
                attributes: vec![KeyValue::str("service.name", &name)],
                dropped_attributes_count: 0,
            })
        })
        .collect();
    let template = common::sample_trace(t0).remove(0);
    let trace_id = TraceId::from_hex(BIG_TRACE).unwrap();
    let mut spans: Vec<Span> = Vec::with_capacity(10_000);
    let mut seed: u64 = 42;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        seed >> 33
    };
    for i in 0..10_000u64 {
        let mut span = template.clone();
        span.trace_id = trace_id;
        span.span_id = SpanId((i + 1).to_be_bytes());
        if i == 0 {
            span.parent_span_id = None;
            span.start_unix_nano = t0;
            span.end_unix_nano = t0 + 5_000_000_000;
        } else {
            // Parents are uniformly random earlier spans: depth grows like ln(n).
            let parent = &spans[(next() % i) as usize];
            let (p_start, p_len) = (parent.start_unix_nano, parent.duration_nanos().max(2));
            let start = p_start + next() % (p_len / 2).max(1);
            let len = 1 + next() % (p_start + p_len - start).max(1);
            span.parent_span_id = Some(parent.span_id);
            span.start_unix_nano = start;
            span.end_unix_nano = start + len;
        }
        span.name = format!("op-{}", next() % 30);
        span.resource = services[(next() % 8) as usize].clone();
        spans.push(span);
    }
    spans
}

/// Trace id of the slower copy of the sample trace.
const SLOW_TRACE: &str = "0af7651916cd43dd8448eb211c80319d";

/// The sample trace again, 5 s earlier, with FindNearest (and its callers) 400 ms slower.
fn slow_trace(t0: u64) -> Vec<Span> {
    let mut spans = common::sample_trace(t0);
    for span in &mut spans {
        span.trace_id = TraceId::from_hex(SLOW_TRACE).unwrap();
        span.end_unix_nano += 400_000_000;
    }
    spans
}

/// Trace id of the 12-service trace.
const SERVICES_TRACE: &str = "0af7651916cd43dd8448eb211c80319e";

/// `gateway` (host h0, 0–300 ms) calling 11 services, each on its own host,
/// one after the other; `payment`'s host clock runs 250 ms ahead, so it
/// reports its call as ending after the gateway span ended.
fn many_services_trace(t0: u64) -> Vec<Span> {
    const NAMES: [&str; 12] = [
        "gateway",
        "auth",
        "cart",
        "catalog",
        "checkout",
        "currency",
        "email",
        "payment",
        "quote",
        "recommend",
        "shipping",
        "ad",
    ];
    let ms = 1_000_000;
    let template = common::sample_trace(t0).remove(0);
    let trace_id = TraceId::from_hex(SERVICES_TRACE).unwrap();
    NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut span = template.clone();
            span.trace_id = trace_id;
            span.span_id = SpanId([0xb0, 0, 0, 0, 0, 0, 0, i as u8 + 1]);
            span.parent_span_id = (i > 0).then_some(SpanId([0xb0, 0, 0, 0, 0, 0, 0, 1]));
            span.name = if i == 0 {
                "GET /order".into()
            } else {
                format!("{name}.call")
            };
            span.resource = Arc::new(Resource {
                service_name: name.to_string(),
                attributes: vec![
                    KeyValue::str("service.name", name),
                    KeyValue::str("host.name", &format!("h{i}")),
                ],
                dropped_attributes_count: 0,
            });
            let (start, end) = if i == 0 {
                (0, 300)
            } else {
                (i as u64 * 25, i as u64 * 25 + 20)
            };
            let skew = if *name == "payment" { 250 } else { 0 };
            span.start_unix_nano = t0 + (start + skew) * ms;
            span.end_unix_nano = t0 + (end + skew) * ms;
            span.links.clear();
            span
        })
        .collect()
}

/// Every fixture span.
fn fixture_spans() -> Vec<Span> {
    let t0 = common::t0();
    let mut spans = common::sample_trace(t0);
    spans.extend(slow_trace(t0 - 5_000_000_000));
    spans.extend(big_trace(t0 - 60_000_000_000));
    spans.extend(many_services_trace(t0 - 10_000_000_000));
    spans
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--otlp-json") {
        let out = args.get(1).expect("--otlp-json FILE");
        let json = server::otlp_json::to_otlp_traces_data(&fixture_spans());
        std::fs::write(out, serde_json::to_vec(&json).unwrap()).expect("write the fixture");
        return;
    }
    let addr = args
        .first()
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let store = common::MemStore::default();
    store.spans.lock().unwrap().extend(fixture_spans());
    let app = server::router(Arc::new(store));
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    println!("listening on http://{}", listener.local_addr().unwrap());
    println!(
        "sample trace {}, slower copy {SLOW_TRACE}, big trace {BIG_TRACE}, 12 services {SERVICES_TRACE}",
        common::TRACE
    );
    axum::serve(listener, app).await.expect("serve");
}
