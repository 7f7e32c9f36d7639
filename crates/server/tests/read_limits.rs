//! `--query-max-range` and `--query-max-traces` on every data query route:
//! within the limits answers, beyond them 400 naming the limit and the flag.
#![allow(clippy::unwrap_used)] // test helpers may panic

mod common;

use axum::http::StatusCode;
use common::{get, sample_trace, t0, MemStore};
use server::{QueryOptions, ReadLimits};
use std::sync::Arc;
use std::time::Duration;
use store::series::MemorySeriesStore;

const DAY_US: u64 = 86_400_000_000;

/// A router with a one-week range limit and at most 50 traces a search.
fn app() -> (axum::Router, u64) {
    let store = MemStore::default();
    let t0 = t0();
    store.spans.lock().unwrap().extend(sample_trace(t0));
    let options = QueryOptions {
        limits: ReadLimits {
            max_range: Duration::from_secs(7 * 86_400),
            max_traces: 50,
        },
        ..QueryOptions::default()
    };
    let app =
        server::router_with_options(Arc::new(store), Arc::new(MemorySeriesStore::new()), options);
    (app, t0)
}

fn assert_refused(status: StatusCode, text: &str, flag: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert!(text.contains(flag), "{text}");
}

#[tokio::test]
async fn trace_search_range_and_limit_are_bounded() {
    let (app, t0) = app();
    let end_us = t0 / 1000 + 1_000_000;
    let search = |days: u64, limit: u64| {
        format!(
            "/api/traces?service=frontend&start={}&end={end_us}&limit={limit}",
            end_us - days * DAY_US
        )
    };
    let (status, body, _) = get(&app, &search(7, 50)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    let (status, _, text) = get(&app, &search(8, 50)).await;
    assert_refused(status, &text, "--query-max-range");
    assert!(text.contains("query length: 1w1d, limit: 1w"), "{text}");
    let (status, _, text) = get(&app, &search(1, 51)).await;
    assert_refused(status, &text, "--query-max-traces");
    // jaeger-ui's lookbacks go through the same check.
    let (status, _, text) = get(&app, "/api/traces?service=frontend&lookback=30d").await;
    assert_refused(status, &text, "--query-max-range");
    // A search by trace id reads no range.
    let (status, _, _) = get(
        &app,
        "/api/traces?traceID=00000000000000000000000000000001&start=0&limit=9999",
    )
    .await;
    assert_ne!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn dependencies_lookback_is_bounded() {
    let (app, _) = app();
    let day_ms = 86_400_000u64;
    let (status, _, _) = get(&app, &format!("/api/dependencies?lookback={}", 7 * day_ms)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, text) = get(&app, &format!("/api/dependencies?lookback={}", 30 * day_ms)).await;
    assert_refused(status, &text, "--query-max-range");
}

#[tokio::test]
async fn promql_range_queries_are_bounded() {
    let (app, _) = app();
    let range = |days: u64| {
        format!(
            "/api/v1/query_range?query=up&start=0&end={}&step=3600",
            days * 86_400
        )
    };
    let (status, _, _) = get(&app, &range(7)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body, text) = get(&app, &range(8)).await;
    assert_refused(status, &text, "--query-max-range");
    assert_eq!(body["errorType"], "bad_data");
}

#[tokio::test]
async fn profile_queries_are_bounded() {
    let (app, _) = app();
    let render = |from: &str| {
        format!("/pyroscope/render?query=process_cpu:cpu:nanoseconds:cpu:nanoseconds{{}}&from={from}&until=now")
    };
    let (status, _, _) = get(&app, &render("now-7d")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, text) = get(&app, &render("now-8d")).await;
    assert_refused(status, &text, "--query-max-range");
}
