//! The Jaeger query API through the router: shapes, parameters, errors.
#![allow(clippy::unwrap_used)] // test helpers may panic

mod common;

use axum::http::StatusCode;
use common::{app_with_sample, get, TRACE};
use serde_json::json;

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

    let driver = &spans[2];
    assert_eq!(
        driver["references"],
        json!([
            {"refType": "CHILD_OF", "traceID": TRACE, "spanID": "a000000000000002"},
            {"refType": "FOLLOWS_FROM", "traceID": "07".repeat(16), "spanID": "08".repeat(8)}
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
