//! Measures how much heap one request takes while a receiver holds it: the
//! body bytes, the decoded message and the converted `model::Span`s, as a
//! multiple of the body's size on the wire. These are the factors behind
//! `ingest::admission::EXPANSION_*`, which size each request's share of the
//! in-flight budget.
//!
//!     cargo run --release -p ingest --example decode_expansion
//!
//! A counting global allocator records the peak of live heap bytes from
//! reading the body to holding the converted batch (the moment before the
//! batch is handed to the store). Not a benchmark; it prints ratios.
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::kv;

use ingest::Limits;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span as OtlpSpan};
use prost::Message;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counters are only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            let live = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(live, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak heap above what was live before, while `work` runs and keeps its result.
fn peak_during<T>(work: impl FnOnce() -> T) -> usize {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let kept = work();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    drop(kept);
    peak
}

/// What OpenTelemetry SDKs send for HTTP servers: 512 spans, 10 attributes
/// each (the ingest benchmark's request).
fn sdk_request() -> ExportTraceServiceRequest {
    common::sdk_like_request(0, 1_700_000_000_000_000_000)
}

/// Spans with nothing but ids, times and a short name: the most structure per byte.
fn bare_request() -> ExportTraceServiceRequest {
    let spans = (0..4096u64)
        .map(|i| OtlpSpan {
            trace_id: [(i / 32 + 1) as u8; 16].to_vec(),
            span_id: (i + 1).to_be_bytes().to_vec(),
            name: "q".into(),
            start_time_unix_nano: 1_700_000_000_000_000_000 + i,
            end_time_unix_nano: 1_700_000_000_000_000_100 + i,
            ..Default::default()
        })
        .collect();
    one_resource(spans)
}

/// The shape of the `overload` end-to-end test: 1000 traces of 4 spans with
/// 400-byte names, one resource each.
fn long_name_request() -> ExportTraceServiceRequest {
    let name = "x".repeat(400);
    let resource_spans = (0..1000u64)
        .map(|t| {
            let spans = (1..=4u64)
                .map(|i| OtlpSpan {
                    trace_id: [(t % 250 + 1) as u8; 16].to_vec(),
                    span_id: (t * 8 + i).to_be_bytes().to_vec(),
                    name: format!("op-{name}-{i}"),
                    kind: 2,
                    start_time_unix_nano: 1_700_000_000_000_000_000 + i,
                    end_time_unix_nano: 1_700_000_000_001_000_000,
                    attributes: vec![kv("i", Value::IntValue(i as i64))],
                    ..Default::default()
                })
                .collect();
            one_resource(spans).resource_spans.remove(0)
        })
        .collect();
    ExportTraceServiceRequest { resource_spans }
}

fn one_resource(spans: Vec<OtlpSpan>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
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
    }
}

/// Zipkin v2 JSON for the same spans (service, name, kind, times, tags).
fn zipkin_json(request: &ExportTraceServiceRequest) -> Vec<u8> {
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mut spans = Vec::new();
    for span in request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
    {
        let tags: serde_json::Map<String, serde_json::Value> = span
            .attributes
            .iter()
            .map(|kv| {
                let text = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                    Some(Value::StringValue(s)) => s.clone(),
                    Some(Value::IntValue(n)) => n.to_string(),
                    Some(Value::BoolValue(b)) => b.to_string(),
                    Some(Value::DoubleValue(d)) => d.to_string(),
                    _ => String::new(),
                };
                (kv.key.clone(), serde_json::Value::String(text))
            })
            .collect();
        let mut json = serde_json::json!({
            "traceId": hex(&span.trace_id),
            "id": hex(&span.span_id),
            "name": span.name,
            "kind": "SERVER",
            "timestamp": span.start_time_unix_nano / 1000,
            "duration": (span.end_time_unix_nano - span.start_time_unix_nano) / 1000,
            "localEndpoint": {"serviceName": "items"},
            "tags": tags,
        });
        if !span.parent_span_id.is_empty() {
            json["parentId"] = serde_json::Value::String(hex(&span.parent_span_id));
        }
        spans.push(json);
    }
    serde_json::to_vec(&spans).unwrap()
}

fn main() {
    let limits = Limits::default();
    println!("peak heap while a request is held (body + decoded + converted), ÷ wire bytes");
    println!(
        "{:<34} {:>10} {:>10} {:>10}",
        "payload", "wire KiB", "peak KiB", "factor"
    );
    let report = |what: &str, wire: usize, peak: usize| {
        println!(
            "{what:<34} {:>10} {:>10} {:>10.2}",
            wire / 1024,
            peak / 1024,
            peak as f64 / wire as f64
        );
    };
    for (shape, request) in [
        ("SDK spans, 10 attributes", sdk_request()),
        ("bare spans", bare_request()),
        ("overload test (400-byte names)", long_name_request()),
    ] {
        let protobuf = request.encode_to_vec();
        let peak = peak_during(|| {
            let body = protobuf.clone();
            let decoded = ExportTraceServiceRequest::decode(&body[..]).unwrap();
            ingest::otlp_convert::convert_request(decoded, &limits)
        });
        report(&format!("protobuf: {shape}"), protobuf.len(), peak);

        let json = serde_json::to_vec(&request).unwrap();
        let peak = peak_during(|| {
            let body = json.clone();
            let decoded = ingest::otlp_json::decode_request(&body).unwrap();
            ingest::otlp_convert::convert_request(decoded, &limits)
        });
        report(&format!("OTLP JSON: {shape}"), json.len(), peak);

        let zipkin = zipkin_json(&request);
        let peak = peak_during(|| {
            let body = zipkin.clone();
            ingest::zipkin::decode_spans(&body, &limits).unwrap()
        });
        report(&format!("Zipkin JSON: {shape}"), zipkin.len(), peak);
    }
}
