//! The profile router end to end, through `tower::ServiceExt::oneshot`
//! into an in-memory [`EmbeddedProfileStore`]: push (protobuf and JSON), `/ingest`
//! (multipart, raw pprof, folded), and the error answers.

use super::multipart::tests::form;
use super::testutil::{
    go_cpu, gzip, post, push_request, router, send, series_labels, stacks, Full, CPU, PUSH_LABELS,
};
use super::{pyroscope_router, PUSH_PATH};
use crate::limits::Limits;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::Engine;
use http_body_util::BodyExt;
use prost::Message;
use std::sync::Arc;
use store::profiles::ProfileStore;

#[tokio::test]
async fn push_protobuf_gzip_is_stored_with_spans() {
    let (router, store) = router(Limits::default());
    let body = gzip(&push_request(PUSH_LABELS).encode_to_vec());
    let mut request = post(PUSH_PATH, "application/proto", body);
    request
        .headers_mut()
        .insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());
    assert_eq!(
        send(router, request).await,
        (StatusCode::OK, "application/proto".into(), String::new())
    );
    assert_eq!(
        stacks(&store, CPU, "py-app", vec![]),
        vec![("main;idle".into(), 10), ("main;work".into(), 30)]
    );
    assert_eq!(
        stacks(&store, CPU, "py-app", vec![1]),
        vec![("main;work".into(), 30)]
    );
    let counts = stacks(
        &store,
        "process_cpu:samples:count:cpu:nanoseconds",
        "py-app",
        vec![],
    );
    assert_eq!(
        counts,
        vec![("main;idle".into(), 1), ("main;work".into(), 3)]
    );
    let labels = &series_labels(&store)[0];
    assert_eq!(labels.get("region"), Some("eu"));
    assert_eq!(labels.get("__delta__"), None);
}

#[tokio::test]
async fn push_json_is_stored_and_answered_with_an_empty_object() {
    let (router, store) = router(Limits::default());
    let request = push_request(PUSH_LABELS);
    let raw =
        base64::engine::general_purpose::STANDARD.encode(&request.series[0].samples[0].raw_profile);
    let body = serde_json::json!({"series": [{
        "labels": [{"name": "__name__", "value": "process_cpu"}, {"name": "service_name", "value": "json-app"}],
        "samples": [{"rawProfile": raw, "ID": "x"}],
        "annotations": [],
    }]});
    let request = post(
        PUSH_PATH,
        "application/json; charset=utf-8",
        body.to_string().into_bytes(),
    );
    assert_eq!(
        send(router, request).await,
        (StatusCode::OK, "application/json".into(), "{}".into())
    );
    assert_eq!(stacks(&store, CPU, "json-app", vec![]).len(), 2);
}

#[tokio::test]
async fn push_errors_are_connect_json() {
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "text/plain",
            b"x".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported Content-Type",
        ),
        (
            "application/proto",
            vec![0x0a, 0xff],
            StatusCode::BAD_REQUEST,
            "malformed protobuf push.v1.PushRequest",
        ),
        (
            "application/json",
            b"{\"series\":[{\"samples\":[{\"rawProfile\":\"!!\"}]}]}".to_vec(),
            StatusCode::BAD_REQUEST,
            "not base64",
        ),
        (
            "application/json",
            b"{\"series\":7}".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            "application/proto",
            push_request(&[("__name__", "process_cpu")]).encode_to_vec(),
            StatusCode::BAD_REQUEST,
            "no service_name",
        ),
        (
            "application/proto",
            push_request(&[("service_name", "a"), ("service_name", "b")]).encode_to_vec(),
            StatusCode::BAD_REQUEST,
            "duplicate label name",
        ),
    ];
    for (content_type, body, status, message) in cases {
        let (router, store) = router(Limits::default());
        let (got, content, text) = send(router, post(PUSH_PATH, content_type, body)).await;
        assert_eq!(
            (got, content.as_str()),
            (status, "application/json"),
            "{text}"
        );
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["code"], "invalid_argument", "{text}");
        assert!(
            json["message"].as_str().unwrap().contains(message),
            "{text}"
        );
        assert!(series_labels(&store).is_empty());
    }
    let mut bad = push_request(PUSH_LABELS);
    bad.series[0].samples[0].raw_profile = b"\x0a\xff".to_vec();
    let (router, _) = router(Limits::default());
    let (status, _, text) = send(
        router,
        post(PUSH_PATH, "application/proto", bad.encode_to_vec()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        text.contains("series 0 profile 0: malformed pprof protobuf"),
        "{text}"
    );
}

#[tokio::test]
async fn ingest_multipart_pprof_as_pyroscope_go_sends_it() {
    let mut b = go_cpu();
    b.sample("main;work", &[2, 20], &[]);
    for path in ["/ingest", "/pyroscope/ingest"] {
        let (router, store) = router(Limits::default());
        let body = form(
            "bNd",
            &[("profile", &b.gzip()), ("sample_type_config", b"{}")],
        );
        let uri = format!("{path}?name=go-app%7Benv%3Dprod%2C__session_id__%3D1%7D&from=1700000000000000000&until=1700000010000000000&spyName=gospy&sampleRate=100");
        let request = post(&uri, "multipart/form-data; boundary=bNd", body);
        assert_eq!(
            send(router, request).await,
            (StatusCode::OK, String::new(), String::new())
        );
        assert_eq!(
            stacks(&store, CPU, "go-app", vec![]),
            vec![("main;work".into(), 20)]
        );
        let labels = &series_labels(&store)[0];
        assert_eq!(labels.get("env"), Some("prod"));
        assert_eq!(labels.get("pyroscope_spy"), Some("gospy"));
        assert_eq!(labels.get("__name__"), Some("process_cpu"));
        assert_eq!(labels.get("__session_id__"), None);
    }
}

#[tokio::test]
async fn ingest_raw_pprof_and_folded() {
    let mut b = go_cpu();
    b.sample("main;work", &[2, 20], &[]);
    let (router_a, store) = router(Limits::default());
    let request = post(
        "/ingest?name=rs-app.cpu&from=1700000000&until=1700000010&format=pprof",
        "binary/octet-stream",
        b.encode(),
    );
    assert_eq!(send(router_a, request).await.0, StatusCode::OK);
    assert_eq!(
        stacks(&store, CPU, "rs-app", vec![]),
        vec![("main;work".into(), 20)]
    );

    let (router_b, store) = router(Limits::default());
    let request = post(
        "/ingest?name=folded.cpu&from=1700000000&until=1700000010&sampleRate=100",
        "text/plain",
        b"a;b 3\na;c 1\n".to_vec(),
    );
    assert_eq!(
        send(router_b, request).await,
        (StatusCode::OK, String::new(), String::new())
    );
    assert_eq!(
        stacks(&store, CPU, "folded", vec![]),
        vec![("a;b".into(), 30_000_000), ("a;c".into(), 10_000_000)]
    );
    let bounds = store.time_bounds().unwrap();
    assert_eq!(
        bounds,
        Some((1_700_000_000_000_000_000, 1_700_000_010_000_000_000))
    );
}

#[tokio::test]
async fn ingest_errors() {
    let profile = go_cpu().gzip();
    let cases: Vec<(String, String, Vec<u8>, StatusCode, &str)> = vec![
        (
            "/ingest?from=1".into(),
            "text/plain".into(),
            b"a 1".to_vec(),
            StatusCode::BAD_REQUEST,
            "name query parameter is required",
        ),
        (
            "/ingest?name=app".into(),
            "multipart/form-data; boundary=q".into(),
            form("q", &[("profile", &profile), ("prev_profile", &profile)]),
            StatusCode::BAD_REQUEST,
            "unsupported client version",
        ),
        (
            "/ingest?name=app".into(),
            "multipart/form-data; boundary=q".into(),
            form("q", &[("other", b"x")]),
            StatusCode::BAD_REQUEST,
            "no 'profile' field",
        ),
        (
            "/ingest?name=app&format=pprof".into(),
            "binary/octet-stream".into(),
            b"\x0a\xff".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed pprof protobuf",
        ),
        (
            "/ingest?name=app".into(),
            "text/plain".into(),
            vec![b'a'; 2000],
            StatusCode::PAYLOAD_TOO_LARGE,
            "exceeds the 1000-byte limit",
        ),
    ];
    for (uri, content_type, body, status, message) in cases {
        let limits = Limits {
            max_request_bytes: 1000,
            ..Limits::default()
        };
        let (router, store) = router(limits);
        let (got, content, text) = send(router, post(&uri, &content_type, body)).await;
        assert_eq!(
            (got, content.as_str()),
            (status, "application/json"),
            "{uri}: {text}"
        );
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["code"], "invalid_argument", "{text}");
        assert!(
            json["message"].as_str().unwrap().contains(message),
            "{uri}: {text}"
        );
        assert!(series_labels(&store).is_empty());
    }
    let (router, _) = router(Limits::default());
    let request = Request::get("/ingest?name=app")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send(router, request).await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn an_overloaded_store_answers_429_with_retry_after() {
    use tower::ServiceExt;
    for (uri, content_type, body) in [
        ("/ingest?name=app", "text/plain", b"a 1".to_vec()),
        (
            PUSH_PATH,
            "application/proto",
            push_request(PUSH_LABELS).encode_to_vec(),
        ),
    ] {
        let router = pyroscope_router(Arc::new(Full), Limits::default());
        let response = router.oneshot(post(uri, content_type, body)).await.unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{uri}");
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["code"], "resource_exhausted");
    }
}
