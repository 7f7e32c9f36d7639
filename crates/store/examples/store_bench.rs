//! Benchmark of the embedded store: writes N spans (512-span batches, 10
//! attributes each, 8 spans per trace over 4 services) from 4 threads with
//! several batches in flight, flushes to Parquet, then measures trace-by-id
//! and search latency over head-less blocks.
//!
//! `cargo run --release -p store --example store_bench -- [SPANS] [DATA_DIR]
//! [MEMORY_BUDGET_MIB] [IN_FLIGHT_PER_WRITER]` — a small budget with many
//! batches in flight shows backpressure (`Overloaded`) keeping RSS bounded.
//! With `STORE_BENCH_QUERY_ONLY=1` and a DATA_DIR written by an earlier run
//! (same SPANS), writing is skipped and only the queries run;
//! `STORE_BENCH_ONLY=TEXT` runs only the searches whose label contains TEXT
//! (`trace by id` or `dependencies` for those lines alone).

use model::{
    AttrValue, KeyValue, Resource, Scope, Span, SpanId, SpanKind, Status, StatusCode, TraceId,
};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{EmbeddedConfig, EmbeddedStore, SpanStore, StoreError, TraceQuery};

const BATCH: usize = 512;
const SPANS_PER_TRACE: u64 = 8;
const SERVICES: [&str; 4] = ["frontend", "checkout", "payments", "inventory"];
const ROUTES: [&str; 8] = [
    "/",
    "/cart",
    "/checkout",
    "/pay",
    "/items",
    "/items/{id}",
    "/login",
    "/search",
];

fn trace_id(n: u64) -> TraceId {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&n.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes());
    b[8..].copy_from_slice(&n.to_be_bytes());
    TraceId(b)
}

/// A well-mixed 8-byte span id for span `s` of trace `t`.
fn span_id(t: u64, s: u64) -> [u8; 8] {
    (t.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (s + 1).wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
        .rotate_left(29)
        .to_be_bytes()
}

fn make_batch(
    first_trace: u64,
    resources: &[Arc<Resource>],
    scope: &Arc<Scope>,
    base: u64,
    rng: &mut fastrand::Rng,
) -> Vec<Span> {
    let mut spans = Vec::with_capacity(BATCH);
    let traces = BATCH as u64 / SPANS_PER_TRACE;
    for t in first_trace..first_trace + traces {
        let start = base + t * 20_000;
        for s in 0..SPANS_PER_TRACE {
            let service = (s % 4) as usize;
            let status = if rng.u8(..100) < 2 { 500 } else { 200 };
            let attributes = vec![
                KeyValue::str(
                    "http.method",
                    ["GET", "POST", "PUT", "DELETE"][rng.usize(..4)],
                ),
                KeyValue::str("http.route", ROUTES[rng.usize(..ROUTES.len())]),
                KeyValue {
                    key: "http.status_code".into(),
                    value: AttrValue::Int(status),
                },
                KeyValue::str("net.peer.name", SERVICES[rng.usize(..4)]),
                KeyValue {
                    key: "net.peer.port".into(),
                    value: AttrValue::Int(8080),
                },
                KeyValue::str("db.system", "postgresql"),
                KeyValue {
                    key: "user.id".into(),
                    value: AttrValue::Int(rng.i64(0..10_000)),
                },
                KeyValue {
                    key: "request.bytes".into(),
                    value: AttrValue::Int(rng.i64(0..4096)),
                },
                KeyValue {
                    key: "thread.id".into(),
                    value: AttrValue::Int(rng.i64(1..64)),
                },
                KeyValue::str("region", ["eu-west-1", "us-east-1"][rng.usize(..2)]),
            ];
            let span_start = start + s * 1_000;
            spans.push(Span {
                trace_id: trace_id(t),
                span_id: SpanId(span_id(t, s)),
                // A chain: each span calls the next service.
                parent_span_id: (s > 0).then(|| SpanId(span_id(t, s - 1))),
                trace_state: String::new(),
                flags: 1,
                name: format!(
                    "{} {}",
                    SERVICES[service],
                    ROUTES[(s as usize + t as usize) % ROUTES.len()]
                ),
                kind: if s % 2 == 0 {
                    SpanKind::Server
                } else {
                    SpanKind::Client
                },
                start_unix_nano: span_start,
                end_unix_nano: span_start + rng.u64(10_000..50_000_000),
                attributes,
                dropped_attributes_count: 0,
                events: Vec::new(),
                dropped_events_count: 0,
                links: Vec::new(),
                dropped_links_count: 0,
                status: Status {
                    code: if status == 500 {
                        StatusCode::Error
                    } else {
                        StatusCode::Unset
                    },
                    message: String::new(),
                },
                resource: Arc::clone(&resources[service]),
                scope: Arc::clone(scope),
            });
        }
    }
    spans
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

/// Builds query `i` of a kind, given a random window start.
type MakeQuery<'a> = &'a dyn Fn(usize, u64) -> TraceQuery;

/// A `/proc/self/status` field in MiB (`VmHWM` = peak RSS).
fn status_mib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

/// CPU time (user + system) this process has used so far.
fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct we pass it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Peak resident set size of this process, MiB.
fn peak_rss_mib() -> u64 {
    status_mib("VmHWM:")
}

fn main() -> Result<(), StoreError> {
    let args: Vec<String> = std::env::args().collect();
    let total: u64 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let tmp = tempfile::tempdir().map_err(|source| StoreError::Io {
        context: "temp dir".into(),
        source,
    })?;
    let dir = match args.get(2).filter(|d| !d.is_empty() && *d != "-") {
        Some(d) => std::path::PathBuf::from(d),
        None => tmp.path().to_path_buf(),
    };
    let mut config = EmbeddedConfig::new(&dir);
    let budget_mib: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1024);
    let max_in_flight: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(8);
    config.memory_budget_bytes = budget_mib << 20;
    config.head_flush_bytes = config.memory_budget_bytes / 4;
    config.retention = Duration::from_secs(3650 * 24 * 3600);
    let query_only = std::env::var_os("STORE_BENCH_QUERY_ONLY").is_some();
    if query_only {
        // Measure the blocks as written: no compaction while querying.
        config.maintenance_interval = Duration::from_secs(24 * 3600);
    }
    let store = Arc::new(EmbeddedStore::open(config)?);
    let resources: Vec<Arc<Resource>> = SERVICES
        .iter()
        .map(|s| {
            Arc::new(Resource {
                service_name: s.to_string(),
                attributes: vec![
                    KeyValue::str("service.name", s),
                    KeyValue::str("host.name", "bench-host"),
                    KeyValue::str("telemetry.sdk.language", "rust"),
                ],
                dropped_attributes_count: 0,
            })
        })
        .collect();
    let scope = Arc::new(Scope {
        name: "bench".into(),
        version: "1.0".into(),
        ..Scope::default()
    });
    let base = 1_767_225_600_000_000_000u64;
    let batches = total / BATCH as u64;
    let threads = 4u64;
    let traces_per_batch = BATCH as u64 / SPANS_PER_TRACE;
    let mut overloaded = 0u64;

    let started = Instant::now();
    std::thread::scope(|scope_| {
        if query_only {
            return;
        }
        let handles: Vec<_> = (0..threads)
            .map(|w| {
                let store = Arc::clone(&store);
                let resources = resources.clone();
                let scope = Arc::clone(&scope);
                scope_.spawn(move || -> Result<u64, StoreError> {
                    let mut rng = fastrand::Rng::with_seed(w);
                    let mut in_flight = VecDeque::new();
                    let mut refused = 0;
                    for b in (w..batches).step_by(threads as usize) {
                        let batch =
                            make_batch(b * traces_per_batch, &resources, &scope, base, &mut rng);
                        let mut pending = batch;
                        loop {
                            match store.write(pending) {
                                Ok(ack) => break in_flight.push_back(ack),
                                Err(StoreError::Overloaded { retry_after_ms, .. }) => {
                                    refused += 1;
                                    // Wait for our own acks first, then back off.
                                    if let Some(ack) = in_flight.pop_front() {
                                        ack.blocking_recv().map_err(|_| StoreError::Closed)??;
                                    } else {
                                        std::thread::sleep(Duration::from_millis(retry_after_ms));
                                    }
                                    pending = make_batch(
                                        b * traces_per_batch,
                                        &resources,
                                        &scope,
                                        base,
                                        &mut rng,
                                    );
                                }
                                Err(e) => return Err(e),
                            }
                        }
                        while in_flight.len() > max_in_flight {
                            if let Some(ack) = in_flight.pop_front() {
                                ack.blocking_recv().map_err(|_| StoreError::Closed)??;
                            }
                        }
                    }
                    for ack in in_flight {
                        ack.blocking_recv().map_err(|_| StoreError::Closed)??;
                    }
                    Ok(refused)
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(Ok(refused)) => overloaded += refused,
                Ok(Err(e)) => eprintln!("writer failed: {e}"),
                Err(_) => eprintln!("writer panicked"),
            }
        }
    });
    let written = batches * BATCH as u64;
    let write_secs = started.elapsed().as_secs_f64();
    println!("wrote {written} spans in {write_secs:.2} s: {:.0} spans/s durable (4 writers, group commit; {overloaded} Overloaded retries)", written as f64 / write_secs);

    println!(
        "peak RSS after writing: {} MiB (now: anon {} MiB, file-backed {} MiB; memory budget {budget_mib} MiB; {} MiB accounted, {} spans in the head)",
        peak_rss_mib(),
        status_mib("RssAnon:"),
        status_mib("RssFile:"),
        store.used_bytes() >> 20,
        store.head_spans()
    );
    let flush_started = Instant::now();
    store.flush()?;
    println!(
        "final flush {:.2} s; {} blocks, {} bytes: {:.1} bytes/span on disk",
        flush_started.elapsed().as_secs_f64(),
        store.block_count(),
        store.block_bytes(),
        store.block_bytes() as f64 / written as f64
    );

    let traces = written / SPANS_PER_TRACE;
    let mut rng = fastrand::Rng::with_seed(42);
    let only = std::env::var("STORE_BENCH_ONLY").ok();
    let lookups = if only.as_deref().is_some_and(|o| !"trace by id".contains(o)) {
        0
    } else {
        500
    };
    let mut by_id = Vec::new();
    for _ in 0..lookups {
        let id = trace_id(rng.u64(..traces));
        let t = Instant::now();
        let found = store.trace(id)?;
        by_id.push(t.elapsed());
        if found.map(|t| t.len() as u64) != Some(SPANS_PER_TRACE) {
            eprintln!("trace {id} incomplete");
        }
    }
    by_id.sort();
    println!(
        "trace by id ({} lookups): p50 {:?} p99 {:?}",
        by_id.len(),
        percentile(&by_id, 0.5),
        percentile(&by_id, 0.99)
    );

    let span_ns = traces * 20_000;
    let kinds: [(&str, MakeQuery<'_>); 7] = [
        (
            "service + absent tag user.id=-1 (Bloom filters skip all)",
            &|i, _| TraceQuery {
                service: Some(SERVICES[i % 4].to_string()),
                tags: vec![("user.id".into(), "-1".into())],
                ..TraceQuery::default()
            },
        ),
        (
            "service + rare tag pair user.id=7 thread.id=1: full scan",
            &|i, _| TraceQuery {
                service: Some(SERVICES[i % 4].to_string()),
                tags: vec![
                    ("user.id".into(), "7".into()),
                    ("thread.id".into(), "1".into()),
                ],
                ..TraceQuery::default()
            },
        ),
        ("no service, newest 20", &|_, _| TraceQuery::default()),
        ("service, newest 20", &|i, _| TraceQuery {
            service: Some(SERVICES[i % 4].to_string()),
            ..TraceQuery::default()
        }),
        ("service + 10% time window", &|i, from| TraceQuery {
            service: Some(SERVICES[i % 4].to_string()),
            start_min: Some(from),
            start_max: Some(from + span_ns / 10),
            ..TraceQuery::default()
        }),
        (
            "service + tag http.status_code=500 + 10% window",
            &|i, from| TraceQuery {
                service: Some(SERVICES[i % 4].to_string()),
                tags: vec![("http.status_code".into(), "500".into())],
                start_min: Some(from),
                start_max: Some(from + span_ns / 10),
                ..TraceQuery::default()
            },
        ),
        ("service + operation + duration >= 45 ms", &|i, _| {
            TraceQuery {
                service: Some(SERVICES[i % 4].to_string()),
                operation: Some(format!("{} {}", SERVICES[i % 4], ROUTES[i % ROUTES.len()])),
                duration_min: Some(45_000_000),
                ..TraceQuery::default()
            }
        }),
    ];
    for (label, make) in kinds {
        if only.as_deref().is_some_and(|o| !label.contains(o)) {
            continue;
        }
        let mut times = Vec::new();
        let mut found = 0;
        let cpu_before = cpu_time();
        let runs = if label.contains("full scan") { 4 } else { 40 };
        for i in 0..runs {
            let q = make(i, base + rng.u64(..span_ns * 9 / 10));
            let t = Instant::now();
            found += store.find_traces(&q)?.len();
            times.push(t.elapsed());
        }
        let cpu_per_query = (cpu_time() - cpu_before) / times.len() as u32;
        times.sort();
        println!(
            "search {label} ({} queries, {:.1} traces each): p50 {:?} p99 {:?} (CPU {:?}/query)",
            times.len(),
            found as f64 / times.len() as f64,
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            cpu_per_query
        );
    }
    if only.as_deref().is_some_and(|o| !"dependencies".contains(o)) {
        return Ok(());
    }
    let t = Instant::now();
    let cpu_before = cpu_time();
    let links = store.dependencies(base + span_ns + 60_000_000_000, span_ns + 120_000_000_000)?;
    println!(
        "dependencies over all {written} spans: {:?}, CPU {:?} ({} links, {} calls)",
        t.elapsed(),
        cpu_time() - cpu_before,
        links.len(),
        links.iter().map(|l| l.call_count).sum::<u64>()
    );
    Ok(())
}
