//! End-to-end: the metrics backend of the real `whyslow serve` binary with
//! real senders, killed with SIGKILL while they send. Every remote_write
//! batch answered 2xx is queryable after restart; Debian's Prometheus
//! remote_writing its own scrapes loses nothing across kill -9 (compared
//! sample by sample with what that Prometheus stored); the official
//! OpenTelemetry Python SDK's counters and histograms (OTLP/gRPC and
//! OTLP/HTTP) answer through `/api/v1/query` before and after a restart.
#![allow(clippy::unwrap_used)]

#[path = "serve_metrics/prometheus.rs"]
mod prometheus;
#[path = "common/prometheus.rs"]
mod prometheus_bin;
#[path = "serve_metrics/support.rs"]
mod support;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{
    instant_query, now_ms, points, try_http, workspace_root, write_request, Serve, TempDir,
    REMOTE_WRITE_HEADERS,
};

/// Series per remote_write batch and samples per series in it.
const SERIES: usize = 3;
const PER_SERIES: i64 = 4;

/// The value of series `s` at `t`: not an integer, so float round trips show.
fn kill9_value(s: usize, t: i64) -> f64 {
    t as f64 / 7.0 + s as f64 * 1000.0
}

/// Batch `n`: `PER_SERIES` samples of each series at `base + n*PER_SERIES + j` ms.
fn kill9_batch(base: i64, n: i64) -> Vec<u8> {
    let series: Vec<_> = (0..SERIES)
        .map(|s| {
            let labels = vec![
                ("__name__", "kill9_samples".to_string()),
                ("series", s.to_string()),
            ];
            let samples = (0..PER_SERIES)
                .map(|j| {
                    let t = base + n * PER_SERIES + j;
                    (t, kill9_value(s, t))
                })
                .collect();
            (labels, samples)
        })
        .collect();
    write_request(&series)
}

#[test]
fn every_acknowledged_sample_survives_kill_9_in_a_loop() {
    let dir = TempDir::new("metrics-kill9");
    // Half an hour ago: well inside the head, and 1 ms per sample stays in the past.
    let base = now_ms() - 30 * 60 * 1000;
    let mut acknowledged: Vec<i64> = Vec::new(); // batch numbers answered 2xx
    let mut next_batch = 0i64;
    let end = |next: i64| base + next * PER_SERIES + 1;
    for iteration in 0..12u64 {
        let serve = Serve::start(&dir.0, 0);
        // Everything acknowledged in earlier lives is counted after restart.
        let counted: f64 = instant_query(
            &serve.http,
            "sum(count_over_time(kill9_samples[1h]))",
            end(next_batch),
        )
        .first()
        .map_or(0.0, |r| r["value"][1].as_str().unwrap().parse().unwrap());
        let want = acknowledged.len() as f64 * (SERIES as i64 * PER_SERIES) as f64;
        assert!(
            counted >= want,
            "iteration {iteration}: {counted} samples after restart, {want} acknowledged"
        );
        // A sender posts batches back to back while the server is killed.
        let addr = serve.http.clone();
        let first = next_batch;
        let sender = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut acked = Vec::new();
            let mut n = first;
            while n < first + 20_000 && Instant::now() < deadline {
                let body = kill9_batch(base, n);
                match try_http(&addr, "POST", "/api/v1/write", REMOTE_WRITE_HEADERS, &body) {
                    Some((204, _)) => acked.push(n),
                    Some((429, _)) => std::thread::sleep(Duration::from_millis(20)),
                    Some((status, body)) => panic!("batch {n}: {status} {body}"),
                    None => return (acked, n + 1), // killed (batch n may or may not be stored)
                }
                n += 1;
            }
            (acked, n)
        });
        // The ClickHouse store answers a write once its batch (at most a
        // second) is inserted: give it time to acknowledge some.
        let batching = if support::clickhouse_store(&dir.0).is_empty() {
            0
        } else {
            1500
        };
        std::thread::sleep(Duration::from_millis(150 + 53 * (iteration % 7) + batching));
        serve.kill9();
        let (acked, next) = sender.join().unwrap();
        assert!(
            !acked.is_empty(),
            "iteration {iteration}: nothing was acknowledged"
        );
        acknowledged.extend(acked);
        next_batch = next;
    }

    // After the last restart, every acknowledged sample, exactly.
    let serve = Serve::start(&dir.0, 0);
    let result = instant_query(&serve.http, "kill9_samples[1h]", end(next_batch));
    let mut stored: BTreeMap<usize, BTreeMap<i64, f64>> = BTreeMap::new();
    for series in &result {
        let s: usize = series["metric"]["series"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(series["metric"]["__name__"], "kill9_samples", "{series}");
        stored.entry(s).or_default().extend(points(series));
    }
    for (s, samples) in &stored {
        for (t, v) in samples {
            assert_eq!(
                *v,
                kill9_value(*s, *t),
                "series {s} at {t}: a value never sent"
            );
        }
    }
    let mut lost = Vec::new();
    for n in &acknowledged {
        for s in 0..SERIES {
            for j in 0..PER_SERIES {
                let t = base + n * PER_SERIES + j;
                if stored.get(&s).and_then(|m| m.get(&t)) != Some(&kill9_value(s, t)) {
                    lost.push((*n, s, t));
                }
            }
        }
    }
    eprintln!(
        "kill -9 loop: {} batches acknowledged of {next_batch} sent, {} samples stored",
        acknowledged.len(),
        stored.values().map(BTreeMap::len).sum::<usize>()
    );
    assert!(
        lost.is_empty(),
        "{} acknowledged samples lost (batch, series, t): {:?}",
        lost.len(),
        &lost[..lost.len().min(20)]
    );
    serve.stop();
}

/// The venv dev/test installs from tests/otlp/requirements.txt.
fn otlp_python() -> Option<std::path::PathBuf> {
    if let Ok(path) = std::env::var("WHYSLOW_OTLP_PYTHON") {
        return Some(path.into());
    }
    let python = workspace_root().join("target/otlp-venv/bin/python");
    python.exists().then_some(python)
}

/// The one value `query` answers at `time_ms` (a one-element vector).
fn one_value(addr: &str, query: &str, time_ms: i64) -> f64 {
    let result = instant_query(addr, query, time_ms);
    assert_eq!(result.len(), 1, "{query}: {result:?}");
    result[0]["value"][1].as_str().unwrap().parse().unwrap()
}

/// What send_metrics.py leaves for `job`, read through PromQL.
fn check_sdk_series(addr: &str, job: &str, time_ms: i64) {
    let q = |name: &str, extra: &str| format!("{name}{{job=\"{job}\",instance=\"inst-1\"{extra}}}");
    let route = ",http_route=\"/checkout\"";
    for (query, want) in [
        (
            q(
                "shop_orders_total",
                ",payment_method=\"card\",otel_scope_name=\"shop.meter\"",
            ),
            5.0,
        ),
        (q("shop_queue_size", ""), 4.0),
        (
            q(
                "http_server_request_duration_seconds_bucket",
                &format!("{route},le=\"+Inf\""),
            ),
            4.0,
        ),
        (
            q(
                "http_server_request_duration_seconds_bucket",
                &format!("{route},le=\"0\""),
            ),
            0.0,
        ),
        (q("http_server_request_duration_seconds_count", route), 4.0),
        (q("payload_size_bytes_count", ""), 4.0),
        (q("payload_size_bytes_sum", ""), 6150.0),
        (q("room_temperature_celsius", ",room=\"lab\""), 21.5),
        (q("process_cpu_utilization_ratio", ",cpu=\"0\""), 0.25),
        (q("target_info", ",host_name=\"h1\""), 1.0),
    ] {
        assert_eq!(one_value(addr, &query, time_ms), want, "{query}");
    }
    let sum = one_value(
        addr,
        &q("http_server_request_duration_seconds_sum", route),
        time_ms,
    );
    assert!((sum - 2.6).abs() < 1e-9, "sum {sum}");
    // PromQL over the translated histogram: the SDK's default boundaries
    // (0, 5, 10, ...) put all 4 observations in (0, 5]; the median
    // interpolates to the middle of that bucket.
    let median = one_value(
        addr,
        &format!(
            "histogram_quantile(0.5, sum by (le) ({}))",
            q("http_server_request_duration_seconds_bucket", route)
        ),
        time_ms,
    );
    assert_eq!(median, 2.5, "median");
}

#[test]
fn otel_python_metrics_reach_serve_and_survive_a_restart() {
    let Some(python) = otlp_python() else {
        assert!(
            std::env::var_os("WHYSLOW_REQUIRE_OTLP_VENV").is_none(),
            "target/otlp-venv is missing but WHYSLOW_REQUIRE_OTLP_VENV is set"
        );
        eprintln!(
            "SKIPPED otel_python_metrics_reach_serve_and_survive_a_restart: no target/otlp-venv; \
             dev/test installs it from tests/otlp/requirements.txt"
        );
        return;
    };
    let dir = TempDir::new("metrics-otel");
    let serve = Serve::start(&dir.0, 0);
    let sends = [
        ("grpc", serve.grpc.clone(), "cumulative"),
        ("http", format!("http://{}", serve.otlp_http), "delta"),
    ];
    let mut jobs = Vec::new();
    for (protocol, endpoint, temporality) in &sends {
        let service = format!("checkout-{protocol}-{temporality}");
        let output = Command::new(&python)
            .arg(workspace_root().join("tests/otlp/send_metrics.py"))
            .args([format!("--{protocol}"), endpoint.clone()])
            .args(["--service", &service, "--temporality", temporality])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "send_metrics.py ({protocol}) failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        jobs.push(format!("shop/{service}"));
    }
    let time = now_ms();
    for job in &jobs {
        check_sdk_series(&serve.http, job, time);
    }
    serve.kill9();
    let serve = Serve::start(&dir.0, 0);
    for job in &jobs {
        check_sdk_series(&serve.http, job, time);
    }
    serve.stop();
}

#[test]
fn prometheus_remote_write_loses_nothing_across_kill_9() {
    prometheus::remote_write_across_kill_9();
}
