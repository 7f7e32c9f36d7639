//! The Prometheus API against the real thing: the same series are
//! backfilled into Debian's `prometheus` (with `promtool tsdb
//! create-blocks-from openmetrics`, no scrape jobs) and appended to a
//! `MemorySeriesStore`; then the same requests go to both and the answers
//! must be byte-identical (status and body): every endpoint, parameter
//! errors included, and (once the evaluator is merged) query results with
//! tricky values and timestamps. Metadata and exemplars are compared with a
//! Prometheus scraping a fixture exporter.
//!
//! Skipped (with a note) where `/usr/bin/prometheus` or `promtool` is missing.

#![allow(clippy::unwrap_used)] // the shared test helpers (common/) may panic

mod common;

use axum::body::Body;
use axum::http::Request;
use common::prom::{post, sample_batch, send, Reply};
use common::prometheus::{self as real, http_get, http_post};
use model::metrics::{Exemplar, Labels, MetricMetadata, MetricType, Sample, TimeSeries};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use store::series::{MemorySeriesStore, SeriesBatch};
use store::SeriesStore;

/// The batch as OpenMetrics text for `promtool` (timestamps in seconds).
fn openmetrics(batch: &SeriesBatch) -> String {
    let mut text = String::new();
    for series in &batch.series {
        let name = series.labels.metric_name().unwrap_or("");
        let labels: Vec<String> = series
            .labels
            .iter()
            .filter(|(n, _)| *n != "__name__")
            .map(|(n, v)| format!("{n}=\"{v}\""))
            .collect();
        for sample in &series.samples {
            text.push_str(&format!(
                "{name}{{{}}} {} {}.{:03}\n",
                labels.join(","),
                sample.value,
                sample.timestamp_ms / 1000,
                sample.timestamp_ms % 1000
            ));
        }
    }
    text.push_str("# EOF\n");
    text
}

async fn ours_get(app: &axum::Router, uri: &str) -> Reply {
    let request = Request::get(uri).body(Body::empty()).expect("request");
    send(app, request).await
}

fn error_type(body: &str) -> Value {
    serde_json::from_str::<Value>(body).unwrap_or(Value::Null)["errorType"].clone()
}

/// Requests whose answers must be identical, byte for byte.
const SAME: &[&str] = &[
    "/api/v1/series?match[]=http_requests_total",
    "/api/v1/series?match[]=temp&match[]=http_requests_total%7Bcode%3D%22500%22%7D",
    "/api/v1/series?match[]=temp&start=1700000000.1",
    "/api/v1/series?match[]=temp&end=1600000000",
    "/api/v1/series?match[]=%7B__name__%3D~%22t.*%22%7D&start=2023-11-14T22:13:20Z&end=2023-11-14T22:13:21Z",
    "/api/v1/series?match[]=nothing",
    "/api/v1/series",
    "/api/v1/series?match[]=%7Bjob%3D~%22.*%22%7D",
    "/api/v1/series?match[]=temp&start=abc",
    "/api/v1/labels",
    "/api/v1/labels?match[]=temp",
    "/api/v1/labels?match[]=nothing",
    "/api/v1/labels?start=abc",
    "/api/v1/label/__name__/values",
    "/api/v1/label/room/values?match[]=temp%7Broom!%3D%22a%22%7D",
    "/api/v1/label/nope/values",
    "/api/v1/label/1bad/values",
    "/api/v1/label/job/values?end=abc",
    "/api/v1/metadata",
    "/api/v1/metadata?limit=abc",
    "/api/v1/query_exemplars?query=temp&start=0&end=2000000000",
    "/api/v1/query_exemplars?query=1",
    "/api/v1/query_exemplars?query=temp&start=10&end=5",
    "/api/v1/query_exemplars?query=temp&start=abc",
    "/api/v1/query_exemplars",
    "/api/v1/rules",
    "/api/v1/alerts",
    "/api/v1/targets",
    "/api/v1/query",
    "/api/v1/query?query=1&time=abc",
    "/api/v1/query?query=1&time=2023-11-14",
    "/api/v1/query?query=1&timeout=abc",
    "/api/v1/query_range?query=1",
    "/api/v1/query_range?query=1&start=10",
    "/api/v1/query_range?query=1&start=10&end=5&step=1",
    "/api/v1/query_range?query=1&start=10&end=20",
    "/api/v1/query_range?query=1&start=10&end=20&step=0",
    "/api/v1/query_range?query=1&start=10&end=20&step=-1",
    "/api/v1/query_range?query=1&start=10&end=20&step=1.5m",
    "/api/v1/query_range?query=1&start=0&end=20000&step=1",
    "/api/v1/query_range?query=1&start=10&end=20&step=0.0001",
    "/api/v1/query_range?query=1&start=10&end=20&step=5&timeout=x",
    "/api/v1/query_range?query=&start=10&end=20&step=5",
    "/api/v1/format_query?query=sum(x)by(y)",
];

/// Same status and `errorType`: parse errors (the parsers word them
/// differently) and a zero timeout (Prometheus names the queue or the
/// execution, whichever it reaches first).
const SAME_TYPE: &[&str] = &[
    "/api/v1/query?query=1&timeout=0",
    "/api/v1/series?match[]=rate(x%5B1m%5D)",
    "/api/v1/series?match[]=foo(",
    "/api/v1/series?match[]=",
    "/api/v1/labels?match[]=foo(",
];

/// Evaluator: queries whose whole answers must be identical; skipped while
/// `promql` is a stub (its "not implemented" answer). Not here: `limit` and
/// `lookback_delta`, which Prometheus 2.42 ignores and newer versions honour
/// (as we do).
const QUERY_SAME: &[&str] = &[
    "/api/v1/query?query=1%2B1&time=4",
    "/api/v1/query?query=temp&time=1700000010.12",
    "/api/v1/query?query=http_requests_total&time=2023-11-14T22:13:40.5%2B00:00",
    "/api/v1/query?query=http_requests_total%5B1m%5D&time=1700000030",
    "/api/v1/query?query=%22a%3Cb%22&time=1",
    "/api/v1/query?query=vector(1e21)&time=-1.5",
    "/api/v1/query?query=1e-7&time=1700000000.001",
    "/api/v1/query?query=-temp&time=1700000010",
    "/api/v1/query_range?query=http_requests_total&start=1700000000&end=1700000030&step=15",
    "/api/v1/query_range?query=temp&start=1700000000&end=1700000001&step=0.25",
    "/api/v1/query_range?query=1&start=10&end=20&step=1.5",
    "/api/v1/query_range?query=1&start=10.0015&end=20&step=5",
    "/api/v1/query_range?query=time()&start=10&end=20&step=1m30s",
];

/// POSTed forms (path, body) whose answers must be identical.
const SAME_POST: &[(&str, &str)] = &[
    ("/api/v1/series", "match%5B%5D=http_requests_total"),
    ("/api/v1/series?match[]=temp", "match[]=http_requests_total"),
    ("/api/v1/labels", "match[]=temp"),
    ("/api/v1/query_range", "query=1&start=10&end=5&step=1"),
    ("/api/v1/query", "query=1&timeout=abc"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_answer_like_real_prometheus() {
    if !real::installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let batch = sample_batch();
    let prometheus = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        let text = openmetrics(&batch);
        move || {
            real::backfill(&dir, &text);
            real::start(&dir, "global:\n  scrape_interval: 15s\n", &[])
        }
    })
    .await
    .expect("start task");
    let store = Arc::new(MemorySeriesStore::new());
    store.append(batch).expect("append");
    let app = server::router_with_options(
        Arc::new(common::MemStore::default()),
        store,
        server::QueryOptions::default(),
    );
    let port = prometheus.port;
    let mut mismatches = Vec::new();
    for path in SAME {
        let theirs = tokio::task::spawn_blocking(move || http_get(port, path))
            .await
            .expect("request task")
            .expect("prometheus answers");
        let ours = ours_get(&app, path).await;
        if (ours.status.as_u16(), ours.text.trim_end()) != (theirs.0, theirs.1.trim_end()) {
            mismatches.push(format!(
                "GET {path}\n  prometheus: {} {}\n  whyslow:    {} {}",
                theirs.0, theirs.1, ours.status, ours.text
            ));
        }
    }
    let mut stub = false;
    for path in QUERY_SAME {
        let ours = ours_get(&app, path).await;
        if ours.text.contains("not implemented") {
            stub = true;
            continue;
        }
        let theirs = tokio::task::spawn_blocking(move || http_get(port, path))
            .await
            .expect("request task")
            .expect("prometheus answers");
        if (ours.status.as_u16(), ours.text.trim_end()) != (theirs.0, theirs.1.trim_end()) {
            mismatches.push(format!(
                "GET {path}\n  prometheus: {} {}\n  whyslow:    {} {}",
                theirs.0, theirs.1, ours.status, ours.text
            ));
        }
    }
    if stub {
        eprintln!("promql engine is a stub here: query answers were not compared");
    }
    for path in SAME_TYPE {
        let theirs = tokio::task::spawn_blocking(move || http_get(port, path))
            .await
            .expect("request task")
            .expect("prometheus answers");
        let ours = ours_get(&app, path).await;
        if ours.status.as_u16() != theirs.0 || ours.json["errorType"] != error_type(&theirs.1) {
            mismatches.push(format!(
                "GET {path} (type)\n  prometheus: {} {}\n  whyslow:    {} {}",
                theirs.0, theirs.1, ours.status, ours.text
            ));
        }
    }
    for (path, form) in SAME_POST {
        let theirs = tokio::task::spawn_blocking(move || http_post(port, path, form))
            .await
            .expect("request task")
            .expect("prometheus answers");
        let ours = post(&app, path, form).await;
        if (ours.status.as_u16(), ours.text.trim_end()) != (theirs.0, theirs.1.trim_end()) {
            mismatches.push(format!(
                "POST {path} {form}\n  prometheus: {} {}\n  whyslow:    {} {}",
                theirs.0, theirs.1, ours.status, ours.text
            ));
        }
    }
    // Build info: the same keys (values differ by design), no `features`.
    let theirs = tokio::task::spawn_blocking(move || http_get(port, "/api/v1/status/buildinfo"))
        .await
        .expect("request task")
        .expect("prometheus answers");
    let theirs: Value = serde_json::from_str(&theirs.1).expect("buildinfo JSON");
    let ours = ours_get(&app, "/api/v1/status/buildinfo").await.json;
    let keys = |v: &Value| -> Vec<String> {
        v["data"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    assert_eq!(keys(&ours), keys(&theirs), "buildinfo keys");
    drop(prometheus);
    let queries = if stub { 0 } else { QUERY_SAME.len() };
    let checked = SAME.len() + queries + SAME_TYPE.len() + SAME_POST.len() + 1;
    println!(
        "{} of {checked} requests answered like Prometheus",
        checked - mismatches.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// What the fixture exporter serves: metadata with a unit and escapes,
/// exemplars with explicit timestamps.
const EXPOSITION: &str = r#"# TYPE latency_seconds histogram
# HELP latency_seconds Request latency <ms>.
# UNIT latency_seconds seconds
latency_seconds_bucket{le="0.5"} 3 # {trace_id="abc"} 0.25 1600096945.479
latency_seconds_bucket{le="+Inf"} 4 # {trace_id="def",span_id="1"} 1e-7 1600096950.000
latency_seconds_sum 1.5
latency_seconds_count 4
# TYPE jobs counter
# HELP jobs Jobs done.
jobs_total 7
# EOF
"#;

/// The exposition as our store holds it after a scrape by `job="fixture"`.
fn scraped_batch(instance: &str) -> SeriesBatch {
    let bucket = |le: &str, exemplar: (&str, &str, f64, i64)| {
        let (trace_id, span_id, value, timestamp_ms) = exemplar;
        TimeSeries {
            labels: Labels::from_pairs([
                ("__name__", "latency_seconds_bucket"),
                ("instance", instance),
                ("job", "fixture"),
                ("le", le),
            ]),
            samples: vec![Sample {
                timestamp_ms: 1_700_000_000_000,
                value: 3.0,
            }],
            exemplars: vec![Exemplar {
                labels: Labels::from_pairs([("trace_id", trace_id), ("span_id", span_id)]),
                value,
                timestamp_ms,
            }],
        }
    };
    let meta = |name: &str, metric_type, help: &str, unit: &str| MetricMetadata {
        metric_family_name: name.into(),
        metric_type,
        help: help.into(),
        unit: unit.into(),
    };
    SeriesBatch {
        series: vec![
            bucket("0.5", ("abc", "", 0.25, 1_600_096_945_479)),
            bucket("+Inf", ("def", "1", 1e-7, 1_600_096_950_000)),
        ],
        metadata: vec![
            meta("jobs", MetricType::Counter, "Jobs done.", ""),
            meta(
                "latency_seconds",
                MetricType::Histogram,
                "Request latency <ms>.",
                "seconds",
            ),
        ],
    }
}

/// Requests compared after Prometheus has scraped the fixture.
const SCRAPED_SAME: &[&str] = &[
    "/api/v1/metadata",
    "/api/v1/metadata?metric=jobs",
    "/api/v1/metadata?metric=nope",
    "/api/v1/query_exemplars?query=latency_seconds_bucket&start=1600000000&end=1700000000",
    "/api/v1/query_exemplars?query=histogram_quantile(0.9%2Csum(rate(latency_seconds_bucket%7Ble%3D%220.5%22%7D%5B5m%5D))by(le))&start=1600000000&end=1700000000",
    "/api/v1/query_exemplars?query=latency_seconds_bucket&start=1600096946&end=1700000000",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_and_exemplars_answer_like_real_prometheus() {
    if !real::installed() {
        return;
    }
    let exporter = real::Exporter::start(EXPOSITION);
    let instance = format!("127.0.0.1:{}", exporter.port);
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: fixture\n    static_configs:\n      - targets: ['{instance}']\n"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let prometheus = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        move || {
            let running = real::start(&dir, &config, &["--enable-feature=exemplar-storage"]);
            let port = running.port;
            let scraped = real::wait_for(Duration::from_secs(30), || {
                let exemplars = http_get(port, SCRAPED_SAME[3]).map(|r| r.1);
                let metadata = http_get(port, SCRAPED_SAME[0]).map(|r| r.1);
                exemplars.is_some_and(|b| b.contains("\"def\""))
                    && metadata.is_some_and(|b| b.contains("\"jobs\""))
            });
            assert!(scraped, "prometheus did not scrape the fixture in 30 s");
            running
        }
    })
    .await
    .expect("start task");
    let store = Arc::new(MemorySeriesStore::new());
    store.append(scraped_batch(&instance)).expect("append");
    let app = server::router_with_options(
        Arc::new(common::MemStore::default()),
        store,
        server::QueryOptions::default(),
    );
    let port = prometheus.port;
    let mut mismatches = Vec::new();
    for path in SCRAPED_SAME {
        let theirs = tokio::task::spawn_blocking(move || http_get(port, path))
            .await
            .expect("request task")
            .expect("prometheus answers");
        let ours = ours_get(&app, path).await;
        if (ours.status.as_u16(), ours.text.trim_end()) != (theirs.0, theirs.1.trim_end()) {
            mismatches.push(format!(
                "GET {path}\n  prometheus: {} {}\n  whyslow:    {} {}",
                theirs.0, theirs.1, ours.status, ours.text
            ));
        }
    }
    drop(prometheus);
    drop(exporter);
    println!(
        "{} of {} metadata and exemplar requests answered like Prometheus",
        SCRAPED_SAME.len() - mismatches.len(),
        SCRAPED_SAME.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
