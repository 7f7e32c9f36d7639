//! Router-level tests of the legacy `/pyroscope/*` endpoints over the
//! in-memory fixture of [`super::testutil`].

use super::testutil::{app, expand, expected, get_json, APP, CPU, DB, MEM, T0_MS};
use axum::http::StatusCode;
use serde_json::{json, Value};

fn levels(fb: &Value) -> (Vec<String>, Vec<Vec<i64>>) {
    let names = serde_json::from_value(fb["names"].clone()).expect("names");
    let levels = serde_json::from_value(fb["levels"].clone()).expect("levels");
    (names, levels)
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn render_returns_flamebearer_json_with_a_timeline() {
    let app = app();
    let query = encode(&format!("{CPU}{{service_name=\"app\"}}"));
    let from = (T0_MS - 60_000) / 1000;
    let until = (T0_MS + 60_000) / 1000;
    let (status, body) = get_json(
        &app,
        &format!("/pyroscope/render?query={query}&from={from}&until={until}&format=json"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["version"], 1);
    assert_eq!(body["flamebearer"]["numTicks"], 100);
    assert_eq!(body["flamebearer"]["maxSelf"], 50);
    let (names, lv) = levels(&body["flamebearer"]);
    assert_eq!(expand(&names, &lv, 4).expect("valid")[0], expected(&APP));
    assert_eq!(
        body["metadata"],
        json!({"format": "single", "spyName": "", "sampleRate": 1_000_000_000u64, "units": "samples", "name": ""})
    );
    let timeline = &body["timeline"];
    assert_eq!(timeline["durationDelta"], 10);
    assert_eq!(timeline["startTime"], from - from % 10);
    let samples: Vec<u64> = serde_json::from_value(timeline["samples"].clone()).expect("samples");
    assert_eq!(samples.iter().sum::<u64>(), 100);
    assert_eq!(samples.len(), 13);
    assert_eq!(body["groups"], json!({}));
    assert_eq!(body["heatmap"], Value::Null);

    // ms times, max-nodes, groupBy: a timeline per service.
    let query = encode(CPU);
    let uri = format!(
        "/pyroscope/render?query={query}&from={}&until={}&max-nodes=1&groupBy=service_name",
        T0_MS - 60_000,
        T0_MS + 60_000
    );
    let (status, body) = get_json(&app, &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["flamebearer"]["numTicks"], 140);
    let (names, lv) = levels(&body["flamebearer"]);
    assert_eq!(
        expand(&names, &lv, 4).expect("valid")[0],
        expected(&[("main;other", 140)])
    );
    let groups = body["groups"].as_object().expect("groups");
    assert_eq!(groups.keys().collect::<Vec<_>>(), ["app", "db"]);
    let db: Vec<u64> = serde_json::from_value(groups["db"]["samples"].clone()).expect("samples");
    assert_eq!(db.iter().sum::<u64>(), 40);
}

#[tokio::test]
async fn render_of_nothing_and_bad_queries() {
    let app = app();
    let (status, body) = get_json(&app, &format!("/pyroscope/render?query={}", encode(CPU))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["flamebearer"]["numTicks"], 0);
    assert_eq!(body["flamebearer"]["names"], json!(["total"]));

    let (status, body) = get_json(&app, "/pyroscope/render").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_argument"))
    );
    let bad = encode(&format!("{CPU}{{service_name=}}"));
    let (status, _) = get_json(&app, &format!("/pyroscope/render?query={bad}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get_json(
        &app,
        &format!("/pyroscope/render?query={}&from=yesterday", encode(CPU)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn render_diff_returns_double_flamebearer() {
    let app = app();
    let left = encode(&format!("{CPU}{{service_name=\"app\"}}"));
    let right = encode(&format!("{CPU}{{service_name=\"db\"}}"));
    let (from, until) = (T0_MS - 60_000, T0_MS + 60_000);
    let uri = format!(
        "/pyroscope/render-diff?leftQuery={left}&leftFrom={from}&leftUntil={until}&rightQuery={right}&rightFrom={from}&rightUntil={until}"
    );
    let (status, body) = get_json(&app, &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["metadata"]["format"], "double");
    assert_eq!(
        (body["leftTicks"].as_i64(), body["rightTicks"].as_i64()),
        (Some(100), Some(40))
    );
    assert_eq!(body["flamebearer"]["numTicks"], 140);
    let (names, lv) = levels(&body["flamebearer"]);
    let got = expand(&names, &lv, 7).expect("valid");
    assert_eq!(
        (got[0].clone(), got[1].clone()),
        (expected(&APP), expected(&DB))
    );

    let mem = encode(MEM);
    let uri = format!("/pyroscope/render-diff?leftQuery={left}&rightQuery={mem}");
    let (status, _) = get_json(&app, &uri).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn label_values_lists_profile_types_and_values() {
    let app = app();
    let (status, body) = get_json(&app, "/pyroscope/label-values?label=__name__").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!([MEM, CPU]));
    let (_, body) = get_json(&app, "/pyroscope/label-values?label=service_name").await;
    assert_eq!(body, json!(["app", "db"]));
    let query = encode(&format!("{MEM}{{}}"));
    let (_, body) = get_json(
        &app,
        &format!("/pyroscope/label-values?label=service_name&query={query}"),
    )
    .await;
    assert_eq!(body, json!(["app"]));
    let (status, _) = get_json(&app, "/pyroscope/label-values").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
