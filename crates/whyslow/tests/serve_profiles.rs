//! End-to-end: continuous-profiling ingest and query in the real `whyslow
//! serve`. Grafana's own `pyroscope-io` SDK (PyPI) profiles a CPU-bound
//! Python app and pushes to serve, `pyroscope-otel` links the app's span to
//! its samples while the OTel SDK sends that span over OTLP; Pyroscope's
//! render API and the Connect querier (as Grafana calls them) must return
//! the hot function, the span's own profile, and the same data after a
//! `kill -9`.
#![allow(clippy::unwrap_used)]

#[path = "common/flamebearer.rs"]
mod flamebearer;
#[path = "serve_metrics/support.rs"]
mod support;

use flamebearer::totals;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{encode, now_ms, try_http, workspace_root, Serve, TempDir};

const CPU: &str = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";
const APP: &str = "wsprof-app";

fn python() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("WHYSLOW_OTLP_PYTHON") {
        return Some(PathBuf::from(path));
    }
    let python = workspace_root().join("target/otlp-venv/bin/python");
    python.exists().then_some(python)
}

fn render(http: &str) -> serde_json::Value {
    let query = format!("{CPU}{{service_name=\"{APP}\"}}");
    let path = format!(
        "/pyroscope/render?query={}&from=now-10m&until=now&format=json",
        support::encode(&query)
    );
    let (status, body) = try_http(http, "GET", &path, &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn connect_json(http: &str, method: &str, body: &serde_json::Value) -> serde_json::Value {
    let (status, text) = try_http(
        http,
        "POST",
        &format!("/querier.v1.QuerierService/{method}"),
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(status, 200, "{method}: {text}");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn pyroscope_sdk_profiles_are_stored_queried_linked_to_spans_and_survive_kill_9() {
    let Some(python) = python() else {
        assert!(
            std::env::var_os("WHYSLOW_REQUIRE_OTLP_VENV").is_none(),
            "target/otlp-venv is missing but WHYSLOW_REQUIRE_OTLP_VENV is set"
        );
        eprintln!("SKIPPED: no target/otlp-venv; dev/test installs pyroscope-io into it");
        return;
    };
    let data = TempDir::new("serve-profiles");
    let serve = Serve::start(&data.0, 0);
    let started_ms = now_ms();
    let output = Command::new(&python)
        .arg(workspace_root().join("tests/pyroscope/push_cpu.py"))
        .args(["--server", &format!("http://{}", serve.http)])
        .args(["--otlp", &format!("http://{}", serve.otlp_http)])
        .args(["--seconds", "6", "--app", APP])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "push_cpu.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let ids: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let span_id = ids["span_id"].as_str().unwrap().to_string();

    // The render API: the hot loop dominates the app's CPU.
    let rendered = render(&serve.http);
    let (by_name, ticks) = totals(&rendered["flamebearer"]);
    let hot = by_name.get("wsprof_hot_loop").copied().unwrap_or(0);
    let cold = by_name.get("wsprof_cold_loop").copied().unwrap_or(0);
    eprintln!("ticks {ticks}, hot {hot}, cold {cold}");
    assert!(ticks > 0);
    assert!(
        hot as f64 / ticks as f64 > 0.5,
        "wsprof_hot_loop has {hot} of {ticks}"
    );
    assert!(cold > 0, "wsprof_cold_loop is missing: {by_name:?}");

    // Grafana's calls: profile types, label values, the span's profile.
    let end_ms = now_ms() + 1000;
    let range =
        serde_json::json!({"start": (started_ms - 60_000).to_string(), "end": end_ms.to_string()});
    let types = connect_json(&serve.http, "ProfileTypes", &range);
    assert!(
        types["profileTypes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["ID"] == CPU),
        "{types}"
    );
    let values = connect_json(
        &serve.http,
        "LabelValues",
        &serde_json::json!({"name": "service_name", "start": range["start"], "end": range["end"]}),
    );
    assert!(
        values["names"].as_array().unwrap().iter().any(|v| v == APP),
        "{values}"
    );
    let span_profile = connect_json(
        &serve.http,
        "SelectMergeSpanProfile",
        &serde_json::json!({
            "profileTypeID": CPU,
            "labelSelector": format!("{{service_name=\"{APP}\"}}"),
            "spanSelector": [span_id],
            "start": range["start"], "end": range["end"],
        }),
    );
    let names: Vec<&str> = span_profile["flamegraph"]["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(names.contains(&"wsprof_hot_loop"), "{names:?}");
    assert!(!names.contains(&"wsprof_cold_loop"), "{names:?}");

    // The UI's links: the span's Profile section, and the spans (with their
    // trace, found through the span's pyroscope.profile.id attribute) whose
    // samples ran through the hot loop.
    let trace_id = ids["trace_id"].as_str().unwrap().to_string();
    let (status, body) = try_http(
        &serve.http,
        "GET",
        &format!("/api/profiles/span?spanID={span_id}"),
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let section: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(section["type"], CPU, "{section}");
    let (by_name, _) = totals(&section["flamebearer"]);
    assert!(by_name.contains_key("wsprof_hot_loop"), "{by_name:?}");
    let query = encode(&format!("{CPU}{{service_name=\"{APP}\"}}"));
    let (status, body) = try_http(
        &serve.http,
        "GET",
        &format!(
            "/api/profiles/span-hits?query={query}&from=now-1h&until=now&frame=wsprof_hot_loop"
        ),
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let hits: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        hits.as_array()
            .unwrap()
            .iter()
            .any(|h| h["spanID"] == span_id.as_str() && h["traceID"] == trace_id.as_str()),
        "span {span_id} of trace {trace_id} is not among {hits}"
    );

    // Acknowledged profiles survive kill -9.
    serve.kill9();
    let serve = Serve::start(&data.0, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    let after = loop {
        let (by_name, ticks) = totals(&render(&serve.http)["flamebearer"]);
        if ticks > 0 || Instant::now() > deadline {
            break (by_name, ticks);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(after.1, ticks, "ticks after kill -9");
    assert_eq!(after.0.get("wsprof_hot_loop").copied(), Some(hot));
    serve.stop();
}
