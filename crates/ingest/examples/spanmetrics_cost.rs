//! What the span-metrics tee costs per ingested span: batches of 512 spans
//! (16 traces of 32: a root server span, then client/server pairs across 8
//! services, 20 span names, 10 attributes each) resolved and counted as the
//! tee does after a write the store accepted, plus the cost of one
//! collection of every series.
//!
//!     cargo run --release -p ingest --example spanmetrics_cost -- [BATCHES] [THREADS]
//!
//! Not a benchmark harness; it prints ns/span for a quick look (CPU time of
//! the measuring threads, so a busy machine does not inflate it; Linux).
#![allow(clippy::unwrap_used)]

use ingest::spanmetrics::{SpanMetrics, SpanMetricsOptions};
use model::{KeyValue, Resource, Scope, Span, SpanId, SpanKind, Status, TraceId};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

const SPANS_PER_BATCH: u64 = 512;

fn batch(index: u64, now_ns: u64, resources: &[Arc<Resource>]) -> Vec<Span> {
    let scope = Arc::new(Scope::default());
    (0..SPANS_PER_BATCH)
        .map(|i| {
            let trace = index * 16 + i / 32 + 1;
            let mut trace_id = [0u8; 16];
            trace_id[..8].copy_from_slice(&trace.to_be_bytes());
            trace_id[8..].copy_from_slice(&(trace ^ 0x9e37_79b9_7f4a_7c15).to_be_bytes());
            let in_trace = i % 32;
            let id = |n: u64| SpanId(((index << 20) | (i - in_trace + n) | 1 << 40).to_be_bytes());
            // 0: root server; odd: client of the root's service; even: its server.
            let (kind, parent, service) = match in_trace {
                0 => (SpanKind::Server, None, 0),
                n if n % 2 == 1 => (SpanKind::Client, Some(id(0)), 0),
                n => (SpanKind::Server, Some(id(n - 1)), 1 + (n as usize / 2) % 7),
            };
            let kind = if std::env::var_os("INTERNAL_ONLY").is_some() {
                SpanKind::Internal
            } else {
                kind
            };
            let start = now_ns + i * 1_000;
            Span {
                trace_id: TraceId(trace_id),
                span_id: id(in_trace),
                parent_span_id: parent,
                trace_state: String::new(),
                flags: 1,
                name: format!("GET /api/v1/items/{}", i % 20),
                kind,
                start_unix_nano: start,
                end_unix_nano: start + 250_000 + i * 10_000,
                attributes: (0..10)
                    .map(|a| KeyValue::str(&format!("attr.{a}"), "value"))
                    .collect(),
                dropped_attributes_count: 0,
                events: Vec::new(),
                dropped_events_count: 0,
                links: Vec::new(),
                dropped_links_count: 0,
                status: Status::default(),
                resource: Arc::clone(&resources[service]),
                scope: Arc::clone(&scope),
            }
        })
        .collect()
}

/// CPU time this thread has run, from /proc/thread-self/schedstat (Linux).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let batches: u64 = args.next().map_or(2000, |a| a.parse().unwrap());
    let threads: u64 = args.next().map_or(1, |a| a.parse().unwrap());
    let now_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let resources: Vec<Arc<Resource>> = (0..8)
        .map(|s| {
            Arc::new(Resource {
                service_name: format!("service-{s}"),
                // As an SDK's resource detectors fill it.
                attributes: [
                    "service.name",
                    "service.version",
                    "service.instance.id",
                    "telemetry.sdk.name",
                    "telemetry.sdk.language",
                    "telemetry.sdk.version",
                    "host.name",
                    "host.arch",
                    "os.type",
                    "process.pid",
                    "process.runtime.name",
                    "process.runtime.version",
                ]
                .iter()
                .map(|k| KeyValue::str(k, "value"))
                .collect(),
                dropped_attributes_count: 0,
            })
        })
        .collect();
    // A few distinct batches, cycled: spans are cache-warm, as a receiver's
    // freshly decoded batch is when it reaches the tee.
    const DISTINCT: u64 = 8;
    let per_thread: Vec<Vec<Vec<Span>>> = (0..threads)
        .map(|t| {
            (0..DISTINCT)
                .map(|b| batch(t * DISTINCT + b, now_ns, &resources))
                .collect()
        })
        .collect();
    let rounds = batches / threads;
    let spans = rounds * threads * SPANS_PER_BATCH;
    let metrics = Arc::new(SpanMetrics::new(SpanMetricsOptions::default()));

    let started = Instant::now();
    let cpu_ns: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = per_thread
            .iter()
            .map(|batches| {
                let metrics = Arc::clone(&metrics);
                scope.spawn(move || {
                    let cpu_before = thread_cpu_ns();
                    for spans in batches.iter().cycle().take(rounds as usize) {
                        let prepared = metrics.prepare(spans);
                        metrics.commit(prepared, Instant::now());
                    }
                    thread_cpu_ns() - cpu_before
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    let elapsed = started.elapsed();
    let stats = metrics.stats();
    println!(
        "{spans} spans on {threads} thread(s): {:.0} ns CPU/span ({:.0} ns wall/span, {:.0} spans/s); {} series, {} edges, {} pending",
        cpu_ns as f64 / spans as f64,
        elapsed.as_nanos() as f64 / spans as f64,
        spans as f64 / elapsed.as_secs_f64(),
        stats.series,
        stats.edges,
        stats.pending_edges
    );

    // One collection with the table full (10,000 series).
    let full = SpanMetrics::new(SpanMetricsOptions::default());
    let many: Vec<Span> = (0..10_000u64)
        .map(|i| {
            let mut span = per_thread[0][0][1].clone();
            span.name = format!("operation {i}");
            span.kind = SpanKind::Internal;
            span
        })
        .collect();
    full.observe(&many, Instant::now());
    let (started, cpu_before) = (Instant::now(), thread_cpu_ns());
    let collected = full.collect(i64::MAX / 2, Instant::now());
    println!(
        "collect of 10,000 series: {} samples in {:.1} ms CPU ({:.1} ms wall)",
        collected.sample_count(),
        (thread_cpu_ns() - cpu_before) as f64 / 1e6,
        started.elapsed().as_secs_f64() * 1e3
    );
}
