//! The OTLP JSON trace API, the analysis API and the embedded UI routes.
#![allow(clippy::unwrap_used)] // test helpers may panic

mod common;

use axum::http::StatusCode;
use common::{app_with_sample, get, TRACE};
use serde_json::json;

#[tokio::test]
async fn v3_trace_is_otlp_json() {
    let (app, t0) = app_with_sample();
    let (status, body, _) = get(&app, &format!("/api/v3/traces/{TRACE}")).await;
    assert_eq!(status, StatusCode::OK);
    let rs = body["result"]["resourceSpans"].as_array().unwrap();
    assert_eq!(rs.len(), 2);
    assert_eq!(
        rs[0]["resource"]["attributes"][1],
        json!({"key": "host.name", "value": {"stringValue": "box1"}})
    );
    let scope_spans = &rs[0]["scopeSpans"][0];
    assert_eq!(
        scope_spans["scope"],
        json!({"name": "test-scope", "version": "1.0",
               "attributes": [{"key": "scope.attr", "value": {"stringValue": "s"}}]})
    );
    let root = &scope_spans["spans"][0];
    assert_eq!(root["traceId"], TRACE);
    assert_eq!(root["spanId"], "a000000000000001");
    assert_eq!(root["kind"], 2);
    assert_eq!(root["startTimeUnixNano"], t0.to_string());
    assert!(root.get("parentSpanId").is_none());
    let attrs = root["attributes"].as_array().unwrap();
    assert!(
        attrs.contains(&json!({"key": "http.response.status_code", "value": {"intValue": "200"}}))
    );
    assert!(attrs.contains(&json!({"key": "blob", "value": {"bytesValue": "AQL/"}})));
    let driver = &rs[1]["scopeSpans"][0]["spans"][0];
    assert_eq!(driver["parentSpanId"], "a000000000000002");
    assert_eq!(
        driver["status"],
        json!({"code": 2, "message": "redis timeout"})
    );
    assert_eq!(driver["events"][0]["name"], "exception");
    assert_eq!(driver["links"][0]["spanId"], "0808080808080808");
    assert_eq!(driver["links"][0]["flags"], 0x301);
}

#[tokio::test]
async fn analysis_reports_summary_critical_path_and_stats() {
    let (app, _) = app_with_sample();
    let (status, body, text) = get(&app, &format!("/api/traces/{TRACE}/analysis")).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let a = &body["data"];
    assert_eq!(a["summary"]["duration_nanos"], 242_170_000);
    assert_eq!(a["summary"]["services"], 2);
    assert_eq!(a["summary"]["depth"], 3);
    assert_eq!(a["summary"]["total_spans"], 3);
    assert_eq!(a["summary"]["errors"], 1);
    assert_eq!(
        a["critical_span_ids"],
        json!(["a000000000000001", "a000000000000002", "a000000000000003"])
    );
    assert_eq!(a["spans"][0]["self_nanos"], 242_170_000 - 190_000_000);
    assert_eq!(a["spans"][2]["self_nanos"], 170_000_000);
    assert_eq!(a["stats"][0]["service"], "driver");
    let (status, _, _) = get(
        &app,
        "/api/traces/00000000000000000000000000000bad/analysis",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body, _) = get(&app, &format!("/api/compare?a={TRACE}&b={TRACE}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["duration_delta_nanos"], 0);
    let (status, _, _) = get(&app, &format!("/api/compare?a={TRACE}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn ui_pages_and_assets_are_embedded() {
    let (app, _) = app_with_sample();
    for page in ["/", "/search", "/services", &format!("/trace/{TRACE}")] {
        let (status, _, text) = get(&app, page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(text.contains("<script type=\"module\""), "{page}");
    }
    let (status, _, text) = get(&app, "/static/app.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("import"));
    let (status, _, _) = get(&app, "/static/nope.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
