//! Router-level tests of the Connect API over the in-memory fixture of
//! [`super::testutil`]: protobuf and JSON codecs, flame graphs that decode
//! back to the stored stacks, truncation, span / trace filtering, series,
//! diff, stats and settings (errors: `tests_errors.rs`).

use super::proto::*;
use super::testutil::{app, expand, expected, json_call, proto_call, APP, CPU, DB, MEM, T0_MS};
use axum::http::StatusCode;
use serde_json::json;

const HOUR: i64 = 3_600_000;

fn merge_request(selector: &str) -> SelectMergeStacktracesRequest {
    SelectMergeStacktracesRequest {
        profile_type_id: CPU.into(),
        label_selector: selector.into(),
        start: T0_MS - HOUR,
        end: T0_MS + HOUR,
        ..Default::default()
    }
}

fn both() -> Vec<(&'static str, i64)> {
    APP.iter().chain(DB.iter()).copied().collect()
}

#[tokio::test]
async fn profile_types_in_protobuf_and_json() {
    let app = app();
    let req = ProfileTypesRequest {
        start: T0_MS - HOUR,
        end: T0_MS + HOUR,
    };
    let resp: ProfileTypesResponse = proto_call(&app, "ProfileTypes", &req).await.expect("ok");
    let ids: Vec<&str> = resp.profile_types.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, [MEM, CPU]);
    let cpu = &resp.profile_types[1];
    assert_eq!(
        (
            cpu.name.as_str(),
            cpu.sample_type.as_str(),
            cpu.sample_unit.as_str()
        ),
        ("process_cpu", "cpu", "nanoseconds")
    );
    assert_eq!(
        (cpu.period_type.as_str(), cpu.period_unit.as_str()),
        ("cpu", "nanoseconds")
    );

    let body = json!({"start": (T0_MS - HOUR).to_string(), "end": T0_MS + HOUR});
    let (status, resp) = json_call(&app, "/querier.v1.QuerierService/ProfileTypes", body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resp["profileTypes"][1]["ID"], CPU);
    assert_eq!(resp["profileTypes"][1]["sampleType"], "cpu");
    // Outside the range: none.
    let (_, resp) = json_call(
        &app,
        "/querier.v1.QuerierService/ProfileTypes",
        json!({"start": 1, "end": 2}),
    )
    .await;
    assert_eq!(resp["profileTypes"], json!([]));
}

#[tokio::test]
async fn label_names_values_and_series() {
    let app = app();
    let path = "/querier.v1.QuerierService/LabelValues";
    let body = json!({"name": "service_name", "matchers": ["{}"], "start": T0_MS - HOUR, "end": T0_MS + HOUR});
    let (status, resp) = json_call(&app, path, body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resp["names"], json!(["app", "db"]));
    let req = LabelValuesRequest {
        name: "service_name".into(),
        matchers: vec![format!(
            "{{__profile_type__=\"{CPU}\", service_name=~\"d.*\"}}"
        )],
        start: T0_MS - HOUR,
        end: T0_MS + HOUR,
    };
    let resp: NamesResponse = proto_call(&app, "LabelValues", &req).await.expect("ok");
    assert_eq!(resp.names, ["db"]);

    let req = LabelNamesRequest {
        matchers: vec![],
        start: T0_MS - HOUR,
        end: T0_MS + HOUR,
    };
    let resp: NamesResponse = proto_call(&app, "LabelNames", &req).await.expect("ok");
    assert_eq!(resp.names, ["__name__", "__profile_type__", "service_name"]);

    let body = json!({"matchers": ["{service_name=\"app\"}"], "labelNames": ["service_name", "__profile_type__"],
        "start": T0_MS - HOUR, "end": T0_MS + HOUR});
    let (_, resp) = json_call(&app, "/querier.v1.QuerierService/Series", body).await;
    assert_eq!(
        resp["labelsSet"],
        json!([
            {"labels": [{"name": "__profile_type__", "value": MEM}, {"name": "service_name", "value": "app"}]},
            {"labels": [{"name": "__profile_type__", "value": CPU}, {"name": "service_name", "value": "app"}]},
        ])
    );
}

#[tokio::test]
async fn merged_flamegraph_decodes_to_the_stored_stacks() {
    let app = app();
    let resp: SelectMergeStacktracesResponse =
        proto_call(&app, "SelectMergeStacktraces", &merge_request("{}"))
            .await
            .expect("ok");
    let fg = resp.flamegraph.expect("flamegraph");
    assert_eq!((fg.total, fg.max_self), (140, 50));
    assert_eq!(fg.names[0], "total");
    let levels: Vec<Vec<i64>> = fg.levels.into_iter().map(|l| l.values).collect();
    let got = expand(&fg.names, &levels, 4).expect("valid levels");
    assert_eq!(got[0], expected(&both()));

    let resp: SelectMergeStacktracesResponse = proto_call(
        &app,
        "SelectMergeStacktraces",
        &merge_request("{service_name=\"app\"}"),
    )
    .await
    .expect("ok");
    let fg = resp.flamegraph.expect("flamegraph");
    let levels: Vec<Vec<i64>> = fg.levels.into_iter().map(|l| l.values).collect();
    assert_eq!(
        expand(&fg.names, &levels, 4).expect("valid")[0],
        expected(&APP)
    );

    // JSON: the same graph with int64 as strings.
    let body = json!({"profileTypeID": CPU, "labelSelector": "{}", "start": T0_MS - HOUR,
        "end": (T0_MS + HOUR).to_string(), "format": "PROFILE_FORMAT_FLAMEGRAPH"});
    let (status, resp) = json_call(
        &app,
        "/querier.v1.QuerierService/SelectMergeStacktraces",
        body,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resp["flamegraph"]["total"], "140");
    assert_eq!(resp["flamegraph"]["maxSelf"], "50");
    assert_eq!(
        resp["flamegraph"]["levels"][0]["values"],
        json!(["0", "140", "0", "0"])
    );
}

#[tokio::test]
async fn max_nodes_truncates_but_keeps_the_total() {
    let app = app();
    let req = SelectMergeStacktracesRequest {
        max_nodes: Some(2),
        ..merge_request("{}")
    };
    let resp: SelectMergeStacktracesResponse = proto_call(&app, "SelectMergeStacktraces", &req)
        .await
        .expect("ok");
    let fg = resp.flamegraph.expect("flamegraph");
    assert_eq!(fg.total, 140);
    let levels: Vec<Vec<i64>> = fg.levels.into_iter().map(|l| l.values).collect();
    let got = expand(&fg.names, &levels, 4).expect("valid levels");
    // main (140) and a (50, tied with c: the first by name wins) stay.
    assert_eq!(
        got[0],
        expected(&[("main;a", 20), ("main;a;other", 30), ("main;other", 90)])
    );
}

#[tokio::test]
async fn span_and_trace_selectors_filter_samples() {
    let app = app();
    let req = SelectMergeStacktracesRequest {
        span_selector: vec!["0000000000000001".into()],
        ..merge_request("{}")
    };
    let resp: SelectMergeStacktracesResponse = proto_call(&app, "SelectMergeStacktraces", &req)
        .await
        .expect("ok");
    let fg = resp.flamegraph.expect("flamegraph");
    let levels: Vec<Vec<i64>> = fg.levels.into_iter().map(|l| l.values).collect();
    assert_eq!(
        expand(&fg.names, &levels, 4).expect("valid")[0],
        expected(&[("main;a;b", 30)])
    );

    let req = SelectMergeStacktracesRequest {
        trace_id_selector: vec!["00000000000000000000000000000abc".into()],
        ..merge_request("{}")
    };
    let resp: SelectMergeStacktracesResponse = proto_call(&app, "SelectMergeStacktraces", &req)
        .await
        .expect("ok");
    assert_eq!(resp.flamegraph.expect("flamegraph").total, 50);

    let body = json!({"profileTypeID": CPU, "labelSelector": "{service_name=\"app\"}",
        "spanSelector": ["0000000000000002", "0000000000000001"], "start": T0_MS - HOUR, "end": T0_MS + HOUR});
    let (status, resp) = json_call(
        &app,
        "/querier.v1.QuerierService/SelectMergeSpanProfile",
        body,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resp["flamegraph"]["total"], "80");

    let req = SelectMergeStacktracesRequest {
        span_selector: vec!["not-hex".into()],
        ..merge_request("{}")
    };
    let err = proto_call::<_, SelectMergeStacktracesResponse>(&app, "SelectMergeStacktraces", &req)
        .await
        .expect_err("bad span id");
    assert_eq!(err.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn empty_results_have_no_flamegraph() {
    let app = app();
    let resp: SelectMergeStacktracesResponse = proto_call(
        &app,
        "SelectMergeStacktraces",
        &merge_request("{service_name=\"nope\"}"),
    )
    .await
    .expect("ok");
    assert!(resp.flamegraph.is_none());
    let body = json!({"profileTypeID": CPU, "labelSelector": "{}", "start": 1, "end": 2});
    let (status, resp) = json_call(
        &app,
        "/querier.v1.QuerierService/SelectMergeStacktraces",
        body,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resp, json!({}));
}

#[tokio::test]
async fn select_series_sums_per_step_and_group() {
    let app = app();
    let req = SelectSeriesRequest {
        profile_type_id: CPU.into(),
        label_selector: "{}".into(),
        start: T0_MS,
        end: T0_MS + 60_000,
        group_by: vec!["service_name".into()],
        step: 15.0,
        ..Default::default()
    };
    let resp: SelectSeriesResponse = proto_call(&app, "SelectSeries", &req).await.expect("ok");
    let got: Vec<(String, Vec<(i64, f64)>)> = resp
        .series
        .iter()
        .map(|s| {
            let labels = s
                .labels
                .iter()
                .map(|l| format!("{}={}", l.name, l.value))
                .collect();
            (
                labels,
                s.points.iter().map(|p| (p.timestamp, p.value)).collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("service_name=app".to_string(), vec![(T0_MS, 100.0)]),
            ("service_name=db".to_string(), vec![(T0_MS + 15_000, 40.0)]),
        ]
    );
    // No grouping, one bucket of 60 s, top 1; AVERAGE over the two series.
    let req = SelectSeriesRequest {
        group_by: vec![],
        step: 60.0,
        limit: Some(1),
        ..req
    };
    let resp: SelectSeriesResponse = proto_call(&app, "SelectSeries", &req).await.expect("ok");
    assert_eq!(resp.series.len(), 1);
    assert_eq!(resp.series[0].points[0].value, 140.0);
    let body = json!({"profileTypeID": CPU, "labelSelector": "{}", "start": T0_MS, "end": T0_MS + 60_000,
        "step": 60, "aggregation": "TIME_SERIES_AGGREGATION_TYPE_AVERAGE"});
    let (_, resp) = json_call(&app, "/querier.v1.QuerierService/SelectSeries", body).await;
    assert_eq!(
        resp["series"][0]["points"],
        json!([{"value": 70.0, "timestamp": T0_MS.to_string()}])
    );
}

#[tokio::test]
async fn diff_stats_and_settings() {
    let app = app();
    let req = DiffRequest {
        left: Some(merge_request("{service_name=\"app\"}")),
        right: Some(merge_request("{service_name=\"db\"}")),
    };
    let resp: DiffResponse = proto_call(&app, "Diff", &req).await.expect("ok");
    let fg = resp.flamegraph.expect("flamegraph");
    assert_eq!((fg.left_ticks, fg.right_ticks, fg.total), (100, 40, 140));
    let levels: Vec<Vec<i64>> = fg.levels.into_iter().map(|l| l.values).collect();
    let got = expand(&fg.names, &levels, 7).expect("valid levels");
    assert_eq!(
        (got[0].clone(), got[1].clone()),
        (expected(&APP), expected(&DB))
    );

    let (_, stats) = json_call(
        &app,
        "/querier.v1.QuerierService/GetProfileStats",
        json!({}),
    )
    .await;
    assert_eq!(
        stats,
        json!({"dataIngested": true, "oldestProfileTime": T0_MS.to_string(),
            "newestProfileTime": (T0_MS + 15_000 + 10_000).to_string()})
    );
    let (status, settings) = json_call(&app, "/settings.v1.SettingsService/Get", json!({})).await;
    assert_eq!(
        (status, settings),
        (StatusCode::OK, json!({"settings": []}))
    );
}
