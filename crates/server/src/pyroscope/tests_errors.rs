//! Router-level tests of Connect errors (status codes, `{"code","message"}`
//! bodies, unknown procedures, content types) and gzip request bodies.

use super::proto::*;
use super::testutil::{app, json_call, proto_call, send, CPU, T0_MS};
use axum::http::StatusCode;
use serde_json::json;
use std::io::Write;

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

#[tokio::test]
async fn connect_errors_and_gzip() {
    let app = app();
    let err = proto_call::<_, SelectMergeStacktracesResponse>(
        &app,
        "SelectMergeStacktraces",
        &merge_request("{service_name=}"),
    )
    .await
    .expect_err("bad selector");
    assert_eq!(err.0, StatusCode::BAD_REQUEST);
    assert_eq!(err.1["code"], "invalid_argument");
    assert!(err.1["message"]
        .as_str()
        .unwrap_or_default()
        .contains("selector"));

    let body = json!({"profileTypeID": "cpu", "start": 1, "end": 2});
    let (status, resp) = json_call(
        &app,
        "/querier.v1.QuerierService/SelectMergeStacktraces",
        body,
    )
    .await;
    assert_eq!(
        (status, resp["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_argument"))
    );

    let (status, resp) = json_call(&app, "/querier.v1.QuerierService/Nope", json!({})).await;
    assert_eq!(
        (status, resp["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unimplemented"))
    );
    let (status, _) = json_call(&app, "/querier.v1.QuerierService/SelectHeatmap", json!({})).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    let (status, _, _) = send(
        &app,
        "POST",
        "/querier.v1.QuerierService/ProfileTypes",
        &[("content-type", "text/plain")],
        vec![],
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, resp) = json_call(
        &app,
        "/querier.v1.QuerierService/ProfileTypes",
        json!({"start": "x"}),
    )
    .await;
    assert_eq!(
        (status, resp["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_argument"))
    );

    let req = ProfileTypesRequest {
        start: T0_MS - HOUR,
        end: T0_MS + HOUR,
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&prost::Message::encode_to_vec(&req))
        .expect("write");
    let headers = [
        ("content-type", "application/proto"),
        ("content-encoding", "gzip"),
    ];
    let (status, _, body) = send(
        &app,
        "POST",
        "/querier.v1.QuerierService/ProfileTypes",
        &headers,
        gz.finish().expect("gzip"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let resp: ProfileTypesResponse = prost::Message::decode(body.as_slice()).expect("proto");
    assert_eq!(resp.profile_types.len(), 2);
}
