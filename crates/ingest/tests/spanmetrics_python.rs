//! RED and service-graph metrics from a trace the official OpenTelemetry
//! Python SDK sends across three services (tests/otlp/send_red_trace.py) over
//! OTLP/HTTP, through the span-metrics tee into an in-memory series store.
//! Skipped when target/otlp-venv is missing (dev/test installs it) unless
//! WHYSLOW_REQUIRE_OTLP_VENV is set.
#![allow(clippy::unwrap_used)]

mod common;
mod spanmetrics_common;

use common::MemoryStore;
use spanmetrics_common::{labels, latest, red, with, Pipeline};
use std::sync::Arc;
use store::series::{Matcher, SeriesStore};

/// The venv dev/test installs from tests/otlp/requirements.txt.
fn otlp_python() -> Option<std::path::PathBuf> {
    if let Ok(path) = std::env::var("WHYSLOW_OTLP_PYTHON") {
        return Some(path.into());
    }
    let python = workspace_root().join("target/otlp-venv/bin/python");
    python.exists().then_some(python)
}

fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_from_the_python_sdk_across_three_services_becomes_red_and_a_service_graph() {
    let Some(python) = otlp_python() else {
        assert!(
            std::env::var_os("WHYSLOW_REQUIRE_OTLP_VENV").is_none(),
            "target/otlp-venv is missing but WHYSLOW_REQUIRE_OTLP_VENV is set"
        );
        eprintln!(
            "SKIPPED a_trace_from_the_python_sdk_across_three_services_becomes_red_and_a_service_graph: \
             no target/otlp-venv; dev/test installs it from tests/otlp/requirements.txt"
        );
        return;
    };
    let inner = Arc::new(MemoryStore::default());
    let pipeline = Pipeline::start(Arc::clone(&inner)).await;
    let endpoint = format!("http://{}", pipeline.addr);
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(workspace_root().join("tests/otlp/send_red_trace.py"))
            .args(["--http", &endpoint])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "send_red_trace.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sent: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let trace_id = sent["trace_id"].as_str().unwrap().to_string();
    let (series, metrics) = pipeline.stop().await;
    assert_eq!(inner.spans().len(), 6);

    for (service, name, kind, status) in [
        (
            "frontend",
            "GET /checkout",
            "SPAN_KIND_SERVER",
            "STATUS_CODE_UNSET",
        ),
        (
            "frontend",
            "POST /orders",
            "SPAN_KIND_CLIENT",
            "STATUS_CODE_UNSET",
        ),
        (
            "orders",
            "POST /orders",
            "SPAN_KIND_SERVER",
            "STATUS_CODE_ERROR",
        ),
        (
            "orders",
            "INSERT orders",
            "SPAN_KIND_CLIENT",
            "STATUS_CODE_UNSET",
        ),
        (
            "orders",
            "GET /stock",
            "SPAN_KIND_CLIENT",
            "STATUS_CODE_UNSET",
        ),
        (
            "inventory",
            "GET /stock",
            "SPAN_KIND_SERVER",
            "STATUS_CODE_UNSET",
        ),
    ] {
        let pairs = red(service, name, kind, status);
        let calls = labels("traces_span_metrics_calls_total", &with(&pairs, &[]));
        assert_eq!(latest(&series, &calls), Some(1.0), "{calls}");
        let count = labels(
            "traces_span_metrics_duration_milliseconds_count",
            &with(&pairs, &[]),
        );
        assert_eq!(latest(&series, &count), Some(1.0), "{count}");
    }

    // The root span's exemplar points at the trace the SDK made.
    let root = red(
        "frontend",
        "GET /checkout",
        "SPAN_KIND_SERVER",
        "STATUS_CODE_UNSET",
    );
    let matchers: Vec<Matcher> = with(&root, &[])
        .into_iter()
        .map(|(n, v)| Matcher::equal(n, v))
        .chain([Matcher::equal(
            "__name__",
            "traces_span_metrics_duration_milliseconds_bucket",
        )])
        .collect();
    let exemplars: Vec<_> = series
        .exemplars(&[matchers], 0, i64::MAX)
        .unwrap()
        .into_iter()
        .flat_map(|s| s.exemplars)
        .collect();
    assert_eq!(exemplars.len(), 1, "{exemplars:?}");
    assert_eq!(exemplars[0].labels.get("trace_id"), Some(trace_id.as_str()));
    assert_eq!(
        exemplars[0].labels.get("span_id"),
        sent["spans"]["GET /checkout"][0].as_str()
    );
    assert!(exemplars[0].value >= 3.0, "{}", exemplars[0].value);

    fn edge<'a>(client: &'a str, server: &'a str, connection: &'a str) -> Vec<(&'a str, &'a str)> {
        let mut pairs = vec![("client", client), ("server", server)];
        if !connection.is_empty() {
            pairs.push(("connection_type", connection));
        }
        pairs
    }
    for (pairs, failed) in [
        (edge("user", "frontend", "virtual_node"), 0.0),
        (edge("frontend", "orders", ""), 1.0),
        (edge("orders", "orders_db", "database"), 0.0),
        (edge("orders", "inventory", ""), 0.0),
    ] {
        let total = labels("traces_service_graph_request_total", &pairs);
        assert_eq!(latest(&series, &total), Some(1.0), "{total}");
        let failures = labels("traces_service_graph_request_failed_total", &pairs);
        assert_eq!(latest(&series, &failures), Some(failed), "{failures}");
    }
    let stats = metrics.stats();
    assert_eq!((stats.spans, stats.edges, stats.pending_edges), (6, 4, 0));
}
