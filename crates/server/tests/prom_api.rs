//! The Prometheus HTTP API over a `MemorySeriesStore`: the shape of every
//! endpoint on GET and POST, parameter errors with Prometheus's words and
//! statuses, and time, duration and value handling. The expectations were
//! taken from Debian's Prometheus 2.42; `prom_vs_prometheus.rs` compares
//! with the running binary.
//!
//! Query tests that need the evaluator are marked "evaluator": on a branch
//! where `promql` is still a stub they only check the error envelope.

#![allow(clippy::unwrap_used)] // the shared test helpers (common/) may panic

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::prom::{assert_error, get, post, sample_batch, send, Reply};
use model::metrics::{Exemplar, Labels, MetricMetadata, MetricType, Sample, TimeSeries};
use serde_json::json;
use std::sync::Arc;
use store::series::{MemorySeriesStore, SeriesBatch};
use store::SeriesStore;

fn store_with_samples() -> Arc<MemorySeriesStore> {
    let store = Arc::new(MemorySeriesStore::new());
    store.append(sample_batch()).expect("append");
    store
}

fn app_over(series: Arc<MemorySeriesStore>) -> (axum::Router, server::AppState) {
    let state = server::AppState::new(
        Arc::new(common::MemStore::default()),
        series,
        server::QueryOptions::default(),
    );
    (server::router_for(state.clone()), state)
}

fn app() -> axum::Router {
    app_over(store_with_samples()).0
}

#[tokio::test]
async fn buildinfo_reports_a_grafana_friendly_version_without_features() {
    let reply = get(&app(), "/api/v1/status/buildinfo").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type, "application/json");
    let data = &reply.json["data"];
    assert_eq!(reply.json["status"], "success");
    assert_eq!(data["version"], server::prom::PROMETHEUS_COMPATIBLE_VERSION);
    for key in ["revision", "branch", "buildUser", "buildDate", "goVersion"] {
        assert!(data[key].is_string(), "{key} in {}", reply.text);
    }
    assert!(data.get("features").is_none(), "{}", reply.text);
}

#[tokio::test]
async fn series_lists_label_sets_on_get_and_post() {
    let app = app();
    let expected = r#"{"status":"success","data":[{"__name__":"http_requests_total","code":"200","job":"api"},{"__name__":"http_requests_total","code":"500","job":"api"}]}"#;
    let reply = get(&app, "/api/v1/series?match[]=http_requests_total").await;
    assert_eq!(reply.text, expected);
    let reply = post(&app, "/api/v1/series", "match%5B%5D=http_requests_total").await;
    assert_eq!(reply.text, expected);
    // Body and query string both contribute match[] values.
    let reply = post(
        &app,
        "/api/v1/series?match[]=temp%7Broom%3D%22a%22%7D",
        "match[]=http_requests_total%7Bcode%3D%22500%22%7D",
    )
    .await;
    assert_eq!(
        reply.json["data"],
        json!([
            {"__name__": "http_requests_total", "code": "500", "job": "api"},
            {"__name__": "temp", "room": "a"},
        ])
    );
    // Time bounds select series with samples in range.
    let reply = get(&app, "/api/v1/series?match[]=temp&start=1700000000.1").await;
    assert_eq!(
        reply.json["data"],
        json!([{"__name__": "temp", "room": "a"}])
    );
    let reply = get(&app, "/api/v1/series?match[]=temp&end=2023-11-14T22:13:19Z").await;
    assert_eq!(reply.json["data"], json!([]));
}

#[tokio::test]
async fn series_limit_truncates_with_a_warning() {
    let reply = get(
        &app(),
        "/api/v1/series?match[]={__name__=~\".%2B\"}&limit=2",
    )
    .await;
    assert_eq!(reply.json["data"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        reply.json["warnings"],
        json!(["results truncated due to limit"])
    );
    let reply = get(&app(), "/api/v1/series?match[]=temp&limit=3").await;
    assert_eq!(reply.json["data"].as_array().map(Vec::len), Some(3));
    assert!(reply.json.get("warnings").is_none());
}

#[tokio::test]
async fn series_errors_match_prometheus() {
    let app = app();
    assert_error(
        &get(&app, "/api/v1/series").await,
        400,
        "bad_data",
        "no match[] parameter provided",
    );
    assert_error(
        &get(&app, "/api/v1/series?match[]={job=~\".*\"}").await,
        400,
        "bad_data",
        "invalid parameter \"match[]\": match[] must contain at least one non-empty matcher",
    );
    assert_error(
        &get(&app, "/api/v1/series?match[]=temp&start=abc").await,
        400,
        "bad_data",
        "invalid parameter \"start\": Invalid time value for 'start': cannot parse \"abc\" to a valid timestamp",
    );
    let reply = get(&app, "/api/v1/series?match[]=rate(x[1m])").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json["errorType"], "bad_data");
    let message = reply.json["error"].as_str().unwrap_or("");
    assert!(
        message.starts_with("invalid parameter \"match[]\": "),
        "{message}"
    );
}

#[tokio::test]
async fn labels_and_label_values() {
    let app = app();
    let reply = get(&app, "/api/v1/labels").await;
    assert_eq!(
        reply.text,
        r#"{"status":"success","data":["__name__","code","job","room"]}"#
    );
    let reply = post(&app, "/api/v1/labels", "match[]=temp").await;
    assert_eq!(reply.json["data"], json!(["__name__", "room"]));
    let reply = get(&app, "/api/v1/labels?match[]=nothing").await;
    assert_eq!(reply.text, r#"{"status":"success","data":[]}"#);
    let reply = get(&app, "/api/v1/label/__name__/values").await;
    assert_eq!(reply.json["data"], json!(["http_requests_total", "temp"]));
    let reply = get(&app, "/api/v1/label/room/values?match[]=temp{room!=\"a\"}").await;
    assert_eq!(reply.json["data"], json!(["b", "c"]));
    let reply = get(&app, "/api/v1/label/room/values?limit=1").await;
    assert_eq!(reply.json["data"], json!(["a"]));
    assert_eq!(
        reply.json["warnings"],
        json!(["results truncated due to limit"])
    );
    assert_error(
        &get(&app, "/api/v1/label/1bad/values").await,
        400,
        "bad_data",
        "invalid label name: \"1bad\"",
    );
    assert_error(
        &get(&app, "/api/v1/label/job/values?end=abc").await,
        400,
        "bad_data",
        "invalid parameter \"end\": Invalid time value for 'end': cannot parse \"abc\" to a valid timestamp",
    );
}

#[tokio::test]
async fn metadata_lists_families_with_limits() {
    let store = store_with_samples();
    let meta = |name: &str, metric_type, help: &str, unit: &str| MetricMetadata {
        metric_family_name: name.into(),
        metric_type,
        help: help.into(),
        unit: unit.into(),
    };
    store
        .append(SeriesBatch {
            series: vec![],
            metadata: vec![
                meta("http_requests_total", MetricType::Counter, "Requests.", ""),
                meta("temp", MetricType::Gauge, "Temperature <C>.", "celsius"),
            ],
        })
        .expect("append");
    let (app, _) = app_over(store);
    let reply = get(&app, "/api/v1/metadata").await;
    assert_eq!(
        reply.text,
        concat!(
            r#"{"status":"success","data":{"http_requests_total":[{"type":"counter","help":"Requests.","unit":""}],"#,
            r#""temp":[{"type":"gauge","help":"Temperature \u003cC\u003e.","unit":"celsius"}]}}"#
        )
    );
    let reply = get(&app, "/api/v1/metadata?metric=temp").await;
    assert_eq!(
        reply.json["data"],
        json!({"temp": [{"type": "gauge", "help": "Temperature <C>.", "unit": "celsius"}]})
    );
    let reply = get(&app, "/api/v1/metadata?limit=1").await;
    assert_eq!(reply.json["data"].as_object().map(|o| o.len()), Some(1));
    let reply = get(&app, "/api/v1/metadata?limit=0").await;
    assert_eq!(reply.json["data"], json!({}));
    assert_error(
        &get(&app, "/api/v1/metadata?limit=abc").await,
        400,
        "bad_data",
        "limit must be a number",
    );
    assert_error(
        &get(&app, "/api/v1/metadata?limit_per_metric=x").await,
        400,
        "bad_data",
        "limit_per_metric must be a number",
    );
}

#[tokio::test]
async fn query_exemplars_shape_and_errors() {
    let store = store_with_samples();
    let labels = Labels::from_pairs([("__name__", "latency_bucket"), ("le", "0.5")]);
    store
        .append(SeriesBatch {
            series: vec![TimeSeries {
                labels,
                samples: vec![Sample {
                    timestamp_ms: 1_600_096_945_479,
                    value: 3.0,
                }],
                exemplars: vec![Exemplar {
                    labels: Labels::from_pairs([("trace_id", "abc")]),
                    value: 0.25,
                    timestamp_ms: 1_600_096_945_479,
                }],
            }],
            metadata: vec![],
        })
        .expect("append");
    let (app, _) = app_over(store);
    let expected = concat!(
        r#"{"status":"success","data":[{"seriesLabels":{"__name__":"latency_bucket","le":"0.5"},"#,
        r#""exemplars":[{"labels":{"trace_id":"abc"},"value":"0.25","timestamp":1600096945.479}]}]}"#
    );
    let q = "query=histogram_quantile(0.9%2C+rate(latency_bucket%5B5m%5D))&start=1600000000&end=1700000000";
    assert_eq!(
        get(&app, &format!("/api/v1/query_exemplars?{q}"))
            .await
            .text,
        expected
    );
    assert_eq!(
        post(&app, "/api/v1/query_exemplars", q).await.text,
        expected
    );
    let reply = get(&app, "/api/v1/query_exemplars?query=temp").await;
    assert_eq!(reply.text, r#"{"status":"success","data":[]}"#);
    let reply = get(&app, "/api/v1/query_exemplars?query=1").await;
    assert_eq!(
        (reply.status, reply.text.as_str()),
        (StatusCode::NO_CONTENT, "")
    );
    assert_error(
        &get(&app, "/api/v1/query_exemplars?query=temp&start=10&end=5").await,
        400,
        "bad_data",
        "end timestamp must not be before start timestamp",
    );
    assert_error(
        &get(&app, "/api/v1/query_exemplars").await,
        400,
        "bad_data",
        "1:1: parse error: no expression found in input",
    );
}

#[tokio::test]
async fn rules_alerts_targets_are_empty_lists() {
    let app = app();
    for (uri, body) in [
        (
            "/api/v1/rules",
            r#"{"status":"success","data":{"groups":[]}}"#,
        ),
        (
            "/api/v1/alerts",
            r#"{"status":"success","data":{"alerts":[]}}"#,
        ),
        (
            "/api/v1/targets",
            r#"{"status":"success","data":{"activeTargets":[],"droppedTargets":[]}}"#,
        ),
    ] {
        assert_eq!(get(&app, uri).await.text, body, "{uri}");
    }
}

#[tokio::test]
async fn flags_report_the_query_limits() {
    let reply = get(&app(), "/api/v1/status/flags").await;
    assert_eq!(
        reply.json["data"],
        json!({"query.lookback-delta": "5m", "query.max-samples": "50000000", "query.timeout": "2m"})
    );
}

#[tokio::test]
async fn format_query_pretty_prints() {
    let reply = get(&app(), "/api/v1/format_query?query=sum(x)by(y)").await;
    assert_eq!(
        reply.json,
        json!({"status": "success", "data": "sum by (y) (x)"})
    );
    let reply = post(&app(), "/api/v1/format_query", "query=foo(").await;
    assert_eq!(reply.json["errorType"], "bad_data");
}

#[tokio::test]
async fn query_parameter_errors_match_prometheus() {
    let app = app();
    let no_expr = "1:1: parse error: no expression found in input";
    assert_error(
        &get(&app, "/api/v1/query").await,
        400,
        "bad_data",
        &format!("invalid parameter \"query\": {no_expr}"),
    );
    assert_error(
        &post(&app, "/api/v1/query", "query=").await,
        400,
        "bad_data",
        &format!("invalid parameter \"query\": {no_expr}"),
    );
    assert_error(
        &get(&app, "/api/v1/query?query=1&time=abc").await,
        400,
        "bad_data",
        "invalid parameter \"time\": Invalid time value for 'time': cannot parse \"abc\" to a valid timestamp",
    );
    assert_error(
        &get(&app, "/api/v1/query?query=1&timeout=abc").await,
        400,
        "bad_data",
        "invalid parameter \"timeout\": cannot parse \"abc\" to a valid duration",
    );
    assert_error(
        &get(&app, "/api/v1/query?query=1&timeout=0").await,
        503,
        "timeout",
        "query timed out in query queue",
    );
    assert_error(
        &get(&app, "/api/v1/query?query=1&limit=x").await,
        400,
        "bad_data",
        "invalid parameter \"limit\": strconv.Atoi: parsing \"x\": invalid syntax",
    );
}

#[tokio::test]
async fn query_range_parameter_errors_match_prometheus() {
    let app = app();
    let cases = [
        ("query=1", "invalid parameter \"start\": cannot parse \"\" to a valid timestamp"),
        ("query=1&start=10", "invalid parameter \"end\": cannot parse \"\" to a valid timestamp"),
        ("query=1&start=10&end=5&step=1", "invalid parameter \"end\": end timestamp must not be before start time"),
        ("query=1&start=10&end=20", "invalid parameter \"step\": cannot parse \"\" to a valid duration"),
        ("query=1&start=10&end=20&step=1.5m", "invalid parameter \"step\": cannot parse \"1.5m\" to a valid duration"),
        ("query=1&start=10&end=20&step=0", "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer"),
        ("query=1&start=10&end=20&step=-1", "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer"),
        ("query=1&start=0&end=20000&step=1", "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"),
        ("query=1&start=10&end=20&step=0.0001", "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"),
        ("query=1&start=10&end=20&step=5&timeout=x", "invalid parameter \"timeout\": cannot parse \"x\" to a valid duration"),
        ("query=&start=10&end=20&step=5", "1:1: parse error: no expression found in input"),
    ];
    for (params, message) in cases {
        assert_error(
            &get(&app, &format!("/api/v1/query_range?{params}")).await,
            400,
            "bad_data",
            message,
        );
        assert_error(
            &post(&app, "/api/v1/query_range", params).await,
            400,
            "bad_data",
            message,
        );
    }
}

/// Whether the reply is the stub engine's "not implemented" error.
fn engine_is_stub(reply: &Reply) -> bool {
    let stub = reply.json["error"]
        .as_str()
        .is_some_and(|e| e.contains("not implemented"));
    if stub {
        eprintln!("promql engine is a stub here: only the error envelope was checked");
        assert_eq!(reply.status.as_u16(), 422);
        assert_eq!(reply.json["status"], "error");
        assert_eq!(reply.json["errorType"], "execution");
    }
    stub
}

/// Evaluator: Grafana's health check, `1+1` at t=4 on GET and POST.
#[tokio::test]
async fn evaluator_instant_one_plus_one_is_scalar_two() {
    let app = app();
    for reply in [
        get(&app, "/api/v1/query?query=1%2B1&time=4").await,
        post(&app, "/api/v1/query", "query=1%2B1&time=4").await,
        // The body wins over the query string, as in Go's FormValue.
        post(
            &app,
            "/api/v1/query?query=2%2B2&time=9",
            "query=1%2B1&time=4",
        )
        .await,
    ] {
        if engine_is_stub(&reply) {
            return;
        }
        assert_eq!(
            reply.text,
            r#"{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}"#
        );
    }
}

/// Evaluator: vector sample values and timestamps in Prometheus's spelling.
#[tokio::test]
async fn evaluator_instant_vector_formats_values_like_prometheus() {
    let reply = get(&app(), "/api/v1/query?query=temp&time=1700000010.12").await;
    if engine_is_stub(&reply) {
        return;
    }
    assert_eq!(
        reply.text,
        concat!(
            r#"{"status":"success","data":{"resultType":"vector","result":["#,
            r#"{"metric":{"__name__":"temp","room":"a"},"value":[1700000010.120,"1e-07"]},"#,
            r#"{"metric":{"__name__":"temp","room":"b"},"value":[1700000010.120,"-0"]},"#,
            r#"{"metric":{"__name__":"temp","room":"c"},"value":[1700000010.120,"123456789012345680"]}]}}"#
        )
    );
}

/// Evaluator: a range query over stored samples.
#[tokio::test]
async fn evaluator_range_query_returns_a_matrix() {
    let reply = post(
        &app(),
        "/api/v1/query_range",
        "query=http_requests_total&start=1700000000&end=1700000030&step=15s",
    )
    .await;
    if engine_is_stub(&reply) {
        return;
    }
    assert_eq!(
        reply.text,
        concat!(
            r#"{"status":"success","data":{"resultType":"matrix","result":["#,
            r#"{"metric":{"__name__":"http_requests_total","code":"200","job":"api"},"values":[[1700000000,"1"],[1700000015,"1e+21"],[1700000030,"1e+21"]]},"#,
            r#"{"metric":{"__name__":"http_requests_total","code":"500","job":"api"},"values":[[1700000000,"0.1"],[1700000015,"0.1"],[1700000030,"0.1"]]}]}}"#
        )
    );
}

/// Evaluator: PromQL parse errors are `bad_data`, prefixed on instant queries only.
#[tokio::test]
async fn evaluator_parse_errors_are_bad_data() {
    let app = app();
    let reply = get(&app, "/api/v1/query?query=foo(").await;
    if engine_is_stub(&reply) {
        return;
    }
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json["errorType"], "bad_data");
    let message = reply.json["error"].as_str().unwrap_or("");
    assert!(
        message.starts_with("invalid parameter \"query\": "),
        "{message}"
    );
    let reply = get(&app, "/api/v1/query_range?query=foo(&start=1&end=2&step=1").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json["errorType"], "bad_data");
}

#[tokio::test]
async fn queries_are_counted() {
    let (app, state) = app_over(store_with_samples());
    get(&app, "/api/v1/query?query=1").await;
    get(&app, "/api/v1/query?query=1&time=abc").await;
    get(&app, "/api/v1/query_range?query=1&start=1&end=2&step=1").await;
    let snap = state.query_metrics.snapshot();
    assert_eq!((snap.instant_queries, snap.range_queries), (2, 1));
    assert!(snap.failed_queries >= 1, "{snap:?}");
    assert_eq!(snap.latency_cumulative.last().copied(), Some(3));
}

#[tokio::test]
async fn queries_wait_for_a_free_slot_within_their_timeout() {
    let (app, state) = app_over(store_with_samples());
    let busy = state
        .query_slots
        .clone()
        .acquire_many_owned(server::prom::query::MAX_CONCURRENT_QUERIES as u32)
        .await
        .expect("all slots");
    assert_error(
        &get(&app, "/api/v1/query?query=1&timeout=0.2").await,
        503,
        "timeout",
        "query timed out in query queue",
    );
    drop(busy);
    let reply = get(&app, "/api/v1/query?query=1&timeout=5").await;
    assert_ne!(reply.json["errorType"], "timeout", "{}", reply.text);
}

#[tokio::test]
async fn other_methods_are_not_allowed() {
    let app = app();
    for (method, uri) in [("PUT", "/api/v1/query"), ("DELETE", "/api/v1/labels")] {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .expect("request");
        assert_eq!(
            send(&app, request).await.status,
            StatusCode::METHOD_NOT_ALLOWED
        );
    }
}

#[tokio::test]
async fn jaeger_routes_still_answer_beside_the_prometheus_api() {
    let reply = get(&app(), "/api/services").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["data"], json!([]));
}
