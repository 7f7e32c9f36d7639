//! The Jaeger query API through the router: shapes, parameters, errors.
#![allow(clippy::unwrap_used)] // test helpers may panic

mod common;

use axum::http::StatusCode;
use common::{app_with_sample, get, TRACE};
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn services_and_operations() {
    let (app, _) = app_with_sample();
    let (status, body, _) = get(&app, "/api/services").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"data": ["driver", "frontend"], "total": 2, "limit": 0, "offset": 0, "errors": null})
    );
    let (_, body, _) = get(&app, "/api/services/frontend/operations").await;
    assert_eq!(body["data"], json!(["GET /dispatch", "HTTP GET"]));
    assert_eq!(body["total"], 2);
    let (_, body, _) = get(&app, "/api/operations?service=frontend&spanKind=server").await;
    assert_eq!(
        body["data"],
        json!([{"name": "GET /dispatch", "spanKind": "server"}])
    );
    let (_, body, _) = get(&app, "/api/operations?service=frontend").await;
    assert_eq!(body["total"], 2);
    let (status, body, _) = get(&app, "/api/operations").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"data": null, "total": 0, "limit": 0, "offset": 0,
               "errors": [{"code": 400, "msg": "parameter 'service' is required"}]})
    );
}

#[tokio::test]
async fn trace_by_id_has_jaeger_shape() {
    let (app, t0) = app_with_sample();
    let (status, body, _) = get(&app, &format!("/api/traces/{TRACE}")).await;
    assert_eq!(status, StatusCode::OK);
    let trace = &body["data"][0];
    assert_eq!(trace["traceID"], TRACE);
    let spans = trace["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 3);
    let root = &spans[0];
    assert_eq!(root["spanID"], "a000000000000001");
    assert_eq!(root["operationName"], "GET /dispatch");
    assert_eq!(root["references"], json!([]));
    assert_eq!(root["startTime"], json!(t0 / 1000));
    assert_eq!(root["duration"], json!(242_170));
    assert_eq!(root["flags"], 1);
    assert_eq!(root["processID"], "p1");
    let tags = root["tags"].as_array().unwrap();
    let tag = |k: &str| tags.iter().find(|t| t["key"] == k).cloned().unwrap();
    assert_eq!(
        tag("http.request.method"),
        json!({"key": "http.request.method", "type": "string", "value": "GET"})
    );
    assert_eq!(tag("http.response.status_code")["type"], "int64");
    assert_eq!(tag("http.response.status_code")["value"], 200);
    assert_eq!(
        tag("sampled.ratio"),
        json!({"key": "sampled.ratio", "type": "float64", "value": 0.5})
    );
    assert_eq!(tag("cached")["type"], "bool");
    assert_eq!(
        tag("blob"),
        json!({"key": "blob", "type": "binary", "value": "AQL/"})
    );
    assert_eq!(tag("span.kind")["value"], "server");
    assert_eq!(tag("otel.scope.name")["value"], "test-scope");
    assert_eq!(tag("otel.scope.version")["value"], "1.0");
    assert_eq!(
        tag("otel.scope.attributes.scope.attr"),
        json!({"key": "otel.scope.attributes.scope.attr", "type": "string", "value": "s"})
    );

    let driver = &spans[2];
    assert_eq!(
        driver["references"],
        json!([
            {"refType": "CHILD_OF", "traceID": TRACE, "spanID": "a000000000000002"},
            // `flags`: whyslow's extension carrying the OTLP link flags.
            {"refType": "FOLLOWS_FROM", "traceID": "07".repeat(16), "spanID": "08".repeat(8), "flags": 0x301}
        ])
    );
    assert_eq!(driver["processID"], "p2");
    let dtags = driver["tags"].as_array().unwrap();
    assert!(dtags.contains(&json!({"key": "otel.status_code", "type": "string", "value": "ERROR"})));
    assert!(dtags.contains(&json!({"key": "error", "type": "bool", "value": true})));
    assert!(dtags.contains(
        &json!({"key": "otel.status_description", "type": "string", "value": "redis timeout"})
    ));
    assert_eq!(
        driver["logs"],
        json!([{"timestamp": (t0 + 50_000_000) / 1000, "fields": [
            {"key": "event", "type": "string", "value": "exception"},
            {"key": "exception.message", "type": "string", "value": "timeout"}
        ]}])
    );
    assert_eq!(
        trace["processes"],
        json!({
            "p1": {"serviceName": "frontend", "tags": [{"key": "host.name", "type": "string", "value": "box1"}]},
            "p2": {"serviceName": "driver", "tags": []}
        })
    );
}

#[tokio::test]
async fn unknown_and_malformed_trace_ids() {
    let (app, _) = app_with_sample();
    let (status, body, _) = get(&app, "/api/traces/00000000000000000000000000000bad").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"data": null, "total": 0, "limit": 0, "offset": 0,
               "errors": [{"code": 404, "msg": "trace not found"}]})
    );
    let (status, body, _) = get(&app, "/api/traces/not-hex").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["code"], 400);
    let (status, body, _) = get(&app, "/api/v3/traces/00000000000000000000000000000bad").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"error": {"httpCode": 404, "message": "trace not found"}})
    );
    let (status, body, _) = get(&app, "/api/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["errors"][0]["code"], 404);
}

#[tokio::test]
async fn search_filters_and_parameters() {
    let (app, t0) = app_with_sample();
    let found = |body: &serde_json::Value| body["data"].as_array().unwrap().len();
    let (status, body, _) = get(&app, "/api/traces?service=frontend").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found(&body), 1);
    assert_eq!(body["data"][0]["spans"].as_array().unwrap().len(), 3);

    for (query, hits) in [
        ("service=driver&operation=FindNearest", 1),
        ("service=driver&operation=Other", 0),
        ("service=frontend&minDuration=200ms", 1),
        ("service=frontend&minDuration=1.2s", 0),
        ("service=frontend&maxDuration=100ms", 0),
        ("service=frontend&lookback=1h", 1),
        ("service=frontend&lookback=custom", 1),
        ("service=driver&tags=%7B%22error%22%3A%22true%22%7D", 1),
        (
            "service=frontend&tags=%7B%22http.request.method%22%3A%22POST%22%7D",
            0,
        ),
        ("service=frontend&tag=http.request.method:GET", 1),
        ("service=frontend&limit=0", 1),
    ] {
        let (status, body, text) = get(&app, &format!("/api/traces?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {text}");
        assert_eq!(found(&body), hits, "{query}");
    }
    let start = (t0 + 15_000_000) / 1000;
    let (_, body, _) = get(&app, &format!("/api/traces?service=frontend&start={start}")).await;
    assert_eq!(found(&body), 0, "both frontend spans start before `start`");
    let (_, body, _) = get(
        &app,
        &format!(
            "/api/traces?service=frontend&start={}&end={}",
            t0 / 1000,
            t0 / 1000
        ),
    )
    .await;
    assert_eq!(found(&body), 1);

    let (_, body, _) = get(&app, &format!("/api/traces?traceID={TRACE}&traceID=abc")).await;
    assert_eq!(found(&body), 1);
    assert_eq!(body["errors"][0]["msg"], "trace not found");
    assert_eq!(body["errors"][0]["traceID"], format!("{:0>32}", "abc"));
}

#[tokio::test]
async fn bad_search_parameters_are_400_with_a_precise_message() {
    let (app, _) = app_with_sample();
    for (query, msg) in [
        ("", "parameter 'service' is required"),
        (
            "service=a&minDuration=fast",
            "unable to parse param 'minDuration'",
        ),
        (
            "service=a&maxDuration=10",
            "unable to parse param 'maxDuration'",
        ),
        (
            "service=a&minDuration=2s&maxDuration=1s",
            "'maxDuration' should be greater than 'minDuration'",
        ),
        ("service=a&start=yesterday", "unable to parse param 'start'"),
        ("service=a&limit=ten", "unable to parse param 'limit'"),
        (
            "service=a&lookback=forever",
            "unable to parse param 'lookback'",
        ),
        ("service=a&tags=%7Bnope", "malformed 'tags' parameter"),
        ("service=a&tag=novalue", "malformed 'tag' parameter"),
    ] {
        let (status, body, text) = get(&app, &format!("/api/traces?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {text}");
        assert_eq!(body["data"], serde_json::Value::Null);
        let got = body["errors"][0]["msg"].as_str().unwrap();
        assert!(got.starts_with(msg), "{query}: {got}");
        assert_eq!(body["errors"][0]["code"], 400);
    }
    let (status, _, _) = get(&app, "/api/operations?service=a&spanKind=sideways").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = get(&app, "/api/dependencies?endTs=later").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn dependencies_count_cross_service_calls() {
    let (app, t0) = app_with_sample();
    let (status, body, _) = get(&app, "/api/dependencies").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"data": [{"parent": "frontend", "child": "driver", "callCount": 1}],
               "total": 0, "limit": 0, "offset": 0, "errors": null})
    );
    let end_ms = t0 / 1_000_000 - 10_000;
    let (_, body, _) = get(
        &app,
        &format!("/api/dependencies?endTs={end_ms}&lookback=1000"),
    )
    .await;
    assert_eq!(body["data"], json!([]));
}

/// The sample trace with `driver` on another host whose clock runs 300 ms
/// ahead: its server span ends after the frontend's client span ended.
fn skewed_spans(t0: u64) -> Vec<model::Span> {
    let mut spans = common::sample_trace(t0);
    let driver_host = Arc::new(model::Resource {
        service_name: "driver".into(),
        attributes: vec![
            model::KeyValue::str("service.name", "driver"),
            model::KeyValue::str("host.name", "box2"),
        ],
        dropped_attributes_count: 0,
    });
    for span in spans.iter_mut().filter(|s| s.service() == "driver") {
        span.start_unix_nano += 300_000_000;
        span.end_unix_nano += 300_000_000;
        for e in &mut span.events {
            e.time_unix_nano += 300_000_000;
        }
        span.resource = Arc::clone(&driver_host);
    }
    spans
}

fn skewed_app_with(options: server::QueryOptions) -> (axum::Router, u64) {
    let t0 = common::t0();
    let store = Arc::new(common::MemStore::default());
    store::SpanStore::write(store.as_ref(), skewed_spans(t0)).unwrap();
    let series = Arc::new(store::series::MemorySeriesStore::new());
    (server::router_with_options(store, series, options), t0)
}

fn skewed_app() -> (axum::Router, u64) {
    skewed_app_with(server::QueryOptions::default())
}

#[tokio::test]
async fn clock_skew_is_corrected_with_a_warning_unless_raw() {
    let (app, t0) = skewed_app();
    let driver = |body: &serde_json::Value| {
        body["data"][0]["spans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["operationName"] == "FindNearest")
            .cloned()
            .unwrap_or_else(|| panic!("no driver span: {body}"))
    };
    let client = |body: &serde_json::Value| {
        body["data"][0]["spans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["spanID"] == "a000000000000002")
            .cloned()
            .unwrap()
    };
    let (status, adjusted, _) = get(&app, &format!("/api/traces/{TRACE}")).await;
    assert_eq!(status, StatusCode::OK);
    let (d, c) = (driver(&adjusted), client(&adjusted));
    let (d_start, d_dur) = (
        d["startTime"].as_u64().unwrap(),
        d["duration"].as_u64().unwrap(),
    );
    let (c_start, c_dur) = (
        c["startTime"].as_u64().unwrap(),
        c["duration"].as_u64().unwrap(),
    );
    // Centred inside its parent, duration kept.
    assert!(
        d_start >= c_start && d_start + d_dur <= c_start + c_dur,
        "{d} in {c}"
    );
    assert_eq!(d_start - c_start, (c_dur - d_dur) / 2);
    let warnings = d["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap()
            .starts_with("This span's timestamps were adjusted by -")),
        "{d}"
    );
    // Its event moved with it.
    assert!(d["logs"][0]["timestamp"].as_u64().unwrap() < (t0 + 300_000_000) / 1000);
    assert!(client(&adjusted)["warnings"].is_null());

    // raw=true: the stored timestamps, no warning; the store was not changed.
    let (_, raw, _) = get(&app, &format!("/api/traces/{TRACE}?raw=true")).await;
    let raw_driver = driver(&raw);
    assert!(raw_driver["startTime"].as_u64().unwrap() > c_start + c_dur);
    assert!(
        raw_driver["warnings"].is_null()
            || !raw_driver["warnings"].to_string().contains("adjusted")
    );
    let (_, again, _) = get(&app, &format!("/api/traces/{TRACE}")).await;
    assert_eq!(driver(&again)["startTime"], d["startTime"]);

    // Search results are adjusted the same way.
    let (_, found, _) = get(&app, "/api/traces?service=frontend&lookback=1h").await;
    assert_eq!(driver(&found)["startTime"], d["startTime"]);

    // /api/v3 (OTLP JSON): adjusted with Jaeger v2's warnings attribute; raw_traces skips it.
    let v3_driver = |body: &serde_json::Value| {
        body["result"]["resourceSpans"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|rs| rs["scopeSpans"][0]["spans"].as_array().unwrap().clone())
            .find(|s| s["name"] == "FindNearest")
            .unwrap()
    };
    let (_, v3, _) = get(&app, &format!("/api/v3/traces/{TRACE}")).await;
    let span = v3_driver(&v3);
    assert_eq!(
        span["startTimeUnixNano"].as_str().unwrap(),
        (d_start * 1000).to_string()
    );
    assert!(span["attributes"].to_string().contains("@jaeger@warnings"));
    for raw_param in ["raw_traces=true", "rawTraces=true"] {
        let (_, v3_raw, _) = get(&app, &format!("/api/v3/traces/{TRACE}?{raw_param}")).await;
        let span = v3_driver(&v3_raw);
        assert!(!span["attributes"].to_string().contains("@jaeger@warnings"));
        assert_eq!(
            span["startTimeUnixNano"],
            raw_driver["startTime"]
                .as_u64()
                .map(|us| (us * 1000).to_string())
                .unwrap()
        );
    }
    let (status, body, _) = get(&app, &format!("/api/traces/{TRACE}?raw=maybe")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // The analysis sees the adjusted trace: the driver call is inside the root.
    let (_, analysis, _) = get(&app, &format!("/api/traces/{TRACE}/analysis")).await;
    assert_eq!(analysis["data"]["summary"]["duration_nanos"], 242_170_000);
    let (_, raw_analysis, _) = get(&app, &format!("/api/traces/{TRACE}/analysis?raw=true")).await;
    assert!(
        raw_analysis["data"]["summary"]["duration_nanos"]
            .as_u64()
            .unwrap()
            > 242_170_000
    );
}

#[tokio::test]
async fn a_zero_limit_reports_skew_without_moving_spans() {
    let (app, t0) = skewed_app_with(server::QueryOptions {
        max_clock_skew_adjustment_nanos: 0,
        ..server::QueryOptions::default()
    });
    let (_, body, _) = get(&app, &format!("/api/traces/{TRACE}")).await;
    let driver = body["data"][0]["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["operationName"] == "FindNearest")
        .cloned()
        .unwrap();
    assert_eq!(driver["startTime"], json!((t0 + 320_000_000) / 1000));
    assert_eq!(
        driver["warnings"],
        json!(["clock skew adjustment disabled; not applying calculated delta of -300ms"])
    );
}
