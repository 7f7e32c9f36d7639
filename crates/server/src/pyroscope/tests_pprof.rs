//! Tests of pprof output: `SelectMergeProfile` over Connect protobuf and
//! JSON, and `GET /pyroscope/pprof` (gzip, headers, 400s), over the
//! in-memory fixture of [`super::testutil`]; plus the conversion on its own
//! (truncation into `"other"`, malformed stacks).

use super::pprof::from_stacks;
use super::pprof_download::file_stem;
use super::pprof_proto::{Profile, SelectMergeProfileRequest};
use super::selector::{parse_single_selector, ProfileType};
use super::testutil::{app, expected, json_call, proto_call, stacks, APP, CPU, T0_MS};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use prost::Message;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Read;
use store::profiles::MergedStacks;
use tower::ServiceExt;

/// `"root;…;leaf" -> value` of a profile, checking the string table, that
/// every location is one line of its own function, and ids are in range.
fn stacks_of(p: &Profile) -> BTreeMap<String, i64> {
    assert_eq!(p.string_table.first().map(String::as_str), Some(""));
    let string = |i: i64| p.string_table[usize::try_from(i).expect("index")].clone();
    let mut function_names = BTreeMap::new();
    for f in &p.function {
        assert_eq!(f.name, f.system_name);
        assert!(function_names.insert(f.id, string(f.name)).is_none());
    }
    let mut names = BTreeMap::new();
    for l in &p.location {
        assert_eq!(l.line.len(), 1, "one line per location");
        names.insert(l.id, function_names[&l.line[0].function_id].clone());
    }
    let distinct: std::collections::BTreeSet<&String> = names.values().collect();
    assert_eq!(distinct.len(), names.len(), "one location per name");
    let mut out = BTreeMap::new();
    for s in &p.sample {
        assert_eq!(s.value.len(), 1);
        let mut frames: Vec<&str> = s.location_id.iter().map(|id| names[id].as_str()).collect();
        frames.reverse();
        *out.entry(frames.join(";")).or_insert(0) += s.value[0];
    }
    out
}

fn request(selector: &str) -> SelectMergeProfileRequest {
    SelectMergeProfileRequest {
        profile_type_id: CPU.into(),
        label_selector: selector.into(),
        start: T0_MS - 60_000,
        end: T0_MS + 60_000,
        ..Default::default()
    }
}

#[tokio::test]
async fn select_merge_profile_over_protobuf_keeps_stacks_leaf_first() {
    let app = app();
    let p: Profile = proto_call(
        &app,
        "SelectMergeProfile",
        &request("{service_name=\"app\"}"),
    )
    .await
    .expect("served");
    assert_eq!(stacks_of(&p), expected(&APP));
    let text = |i: i64| p.string_table[i as usize].as_str();
    let st = p.sample_type[0];
    assert_eq!((text(st.r#type), text(st.unit)), ("cpu", "nanoseconds"));
    let pt = p.period_type.expect("period type");
    assert_eq!((text(pt.r#type), text(pt.unit)), ("cpu", "nanoseconds"));
    assert_eq!(p.time_nanos, (T0_MS - 60_000) * 1_000_000);
    assert_eq!(p.duration_nanos, 120_001 * 1_000_000);
    // Leaf first: main;a;b is [b, a, main].
    let name_of = |id: u64| {
        let f = p.location[id as usize - 1].line[0].function_id;
        text(p.function[f as usize - 1].name)
    };
    let deepest = p
        .sample
        .iter()
        .find(|s| s.location_id.len() == 3)
        .expect("main;a;b");
    let frames: Vec<&str> = deepest.location_id.iter().map(|&id| name_of(id)).collect();
    assert_eq!(frames, ["b", "a", "main"]);
    assert_eq!(deepest.value, [30]);

    // max_nodes 3 keeps main, a, c; b's 30 becomes a's "other".
    let truncated: Profile = proto_call(
        &app,
        "SelectMergeProfile",
        &SelectMergeProfileRequest {
            max_nodes: Some(3),
            ..request("{service_name=\"app\"}")
        },
    )
    .await
    .expect("served");
    assert_eq!(
        stacks_of(&truncated),
        expected(&[("main;a", 20), ("main;a;other", 30), ("main;c", 50)])
    );
}

#[tokio::test]
async fn select_merge_profile_over_json_and_of_nothing() {
    let app = app();
    let (status, body) = json_call(
        &app,
        "/querier.v1.QuerierService/SelectMergeProfile",
        json!({"profileTypeID": CPU, "labelSelector": "{service_name=\"db\"}",
               "start": (T0_MS - 60_000).to_string(), "end": T0_MS + 60_000}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let strings: Vec<&str> = body["stringTable"]
        .as_array()
        .expect("stringTable")
        .iter()
        .map(|s| s.as_str().expect("a string"))
        .collect();
    assert_eq!(strings[0], "");
    assert_eq!(
        body["timeNanos"],
        json!(((T0_MS - 60_000) * 1_000_000).to_string())
    );
    let samples = body["sample"].as_array().expect("samples");
    assert_eq!(samples.len(), 1);
    assert_eq!(samples[0]["value"], json!(["40"]));
    // Location ids as strings, leaf first: query, db, main.
    let location_of = |id: &Value| -> &str {
        let location = body["location"]
            .as_array()
            .expect("locations")
            .iter()
            .find(|l| &l["id"] == id)
            .expect("location");
        let function_id = &location["line"][0]["functionId"];
        let function = body["function"]
            .as_array()
            .expect("functions")
            .iter()
            .find(|f| &f["id"] == function_id)
            .expect("function");
        let name: usize = function["name"]
            .as_str()
            .expect("int64 string")
            .parse()
            .expect("index");
        strings[name]
    };
    let frames: Vec<&str> = samples[0]["locationId"]
        .as_array()
        .expect("locationId")
        .iter()
        .map(location_of)
        .collect();
    assert_eq!(frames, ["query", "db", "main"]);

    // Nothing matched: an empty profile that still says what it measures.
    let p: Profile = proto_call(
        &app,
        "SelectMergeProfile",
        &request("{service_name=\"nope\"}"),
    )
    .await
    .expect("empty, not an error");
    assert!(p.sample.is_empty() && p.location.is_empty() && p.function.is_empty());
    assert_eq!(p.string_table, ["", "cpu", "nanoseconds"]);
    assert_eq!(p.sample_type.len(), 1);
}

#[tokio::test]
async fn select_merge_profile_refuses_bad_requests() {
    let app = app();
    let call = |body: Value| {
        let app = app.clone();
        async move { json_call(&app, "/querier.v1.QuerierService/SelectMergeProfile", body).await }
    };
    let (status, body) = call(json!({"profileTypeID": "cpu", "labelSelector": "{}"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"]
        .as_str()
        .expect("message")
        .contains("profile type ID"));
    let (status, _) = call(json!({"profileTypeID": CPU, "labelSelector": "{a=}"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = call(json!({"profileTypeID": CPU, "labelSelector": "{}",
        "stackTraceSelector": {"callSite": [{"name": "main"}]}}))
    .await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert!(body["message"]
        .as_str()
        .expect("message")
        .contains("stack_trace_selector"));
    // An empty stack trace selector is no selector.
    let (status, _) = call(json!({"profileTypeID": CPU, "stackTraceSelector": {},
        "start": T0_MS, "end": T0_MS + 60_000}))
    .await;
    assert_eq!(status, StatusCode::OK);
    // No end is an unbounded range, longer than --query-max-range allows.
    let (status, body) = call(json!({"profileTypeID": CPU, "start": T0_MS})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"]
        .as_str()
        .expect("message")
        .contains("query-max-range"));
}

/// A GET through the router: status, headers, body.
async fn get(app: &axum::Router, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    (parts.status, parts.headers, bytes.to_vec())
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn pprof_download_is_a_gzipped_profile_with_a_file_name() {
    let app = app();
    let query = encode(&format!("{CPU}{{service_name=\"app\"}}"));
    let (from, until) = (T0_MS - 60_000, T0_MS + 60_000);
    let uri = format!("/pyroscope/pprof?query={query}&from={from}&until={until}");
    let (status, headers, body) = get(&app, &uri).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"app.pb.gz\""
    );
    assert_eq!(body[..2], [0x1f, 0x8b]);
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(body.as_slice())
        .read_to_end(&mut raw)
        .expect("gzip");
    let p = Profile::decode(raw.as_slice()).expect("pprof");
    assert_eq!(stacks_of(&p), expected(&APP));
    assert_eq!(p.time_nanos, from * 1_000_000);
    assert_eq!(p.duration_nanos, (until - from) * 1_000_000 + 1);

    // Without a service the file is named after the type; max-nodes truncates.
    let uri = format!(
        "/pyroscope/pprof?query={}&from={from}&until={until}&max-nodes=1",
        encode(CPU)
    );
    let (status, headers, body) = get(&app, &uri).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"process_cpu.pb.gz\""
    );
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(body.as_slice())
        .read_to_end(&mut raw)
        .expect("gzip");
    let p = Profile::decode(raw.as_slice()).expect("pprof");
    assert_eq!(stacks_of(&p), expected(&[("main;other", 140)]));
}

#[tokio::test]
async fn pprof_download_rejects_bad_parameters_with_400() {
    let app = app();
    for (uri, says) in [
        ("/pyroscope/pprof".to_string(), "query is required"),
        (
            format!("/pyroscope/pprof?query={}", encode("cpu{}")),
            "invalid profile type ID",
        ),
        (
            format!("/pyroscope/pprof?query={}", encode(&format!("{CPU}{{a=}}"))),
            "bad label selector",
        ),
        (
            format!("/pyroscope/pprof?query={}&from=yesterday", encode(CPU)),
            "bad time",
        ),
        (
            format!(
                "/pyroscope/pprof?query={}&from=now&until=now-1h",
                encode(CPU)
            ),
            "range start",
        ),
        (
            format!("/pyroscope/pprof?query={}&max-nodes=lots", encode(CPU)),
            "bad max-nodes",
        ),
    ] {
        let (status, headers, body) = get(&app, &uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(headers["content-type"], "application/json");
        let body: Value = serde_json::from_slice(&body).expect("JSON error");
        assert_eq!(body["code"], "invalid_argument");
        let message = body["message"].as_str().expect("message");
        assert!(message.contains(says), "{uri}: {message}");
    }
}

#[test]
fn conversion_tolerates_malformed_stacks_and_names_files_safely() {
    let t = ProfileType::require(CPU).expect("valid");
    // A forward parent pointer is a root; an unknown name is "?"; negative values drop.
    let bad = MergedStacks {
        names: vec!["main".into()],
        nodes: vec![(0, 0), (5, 0), (1, 9), (1, 0)],
        self_values: vec![1, 2, 3, -4],
    };
    let p = from_stacks(&bad, &[], &t, 0, 0, None);
    assert_eq!(stacks_of(&p), expected(&[("main", 3), ("main;?", 3)]));
    let p = from_stacks(&stacks(&[]), &[], &t, 0, 0, Some(1));
    assert!(p.sample.is_empty());
    // Truncation to one node: everything below the root is "other".
    let p = from_stacks(&stacks(&APP), &[], &t, 0, 0, Some(1));
    assert_eq!(stacks_of(&p), expected(&[("main;other", 100)]));

    let matchers = parse_single_selector("{service_name=\"a b/../\\\"x\\\"\"}").expect("valid");
    assert_eq!(file_stem(&matchers, &t), "a_b_..__x_");
    let matchers = parse_single_selector("{service_name=~\"a.*\"}").expect("valid");
    assert_eq!(file_stem(&matchers, &t), "process_cpu");
    let matchers = parse_single_selector("{service_name=\"..\"}").expect("valid");
    assert_eq!(file_stem(&matchers, &t), "profile");
}

#[test]
fn unsymbolized_frames_become_addresses_in_their_object_file() {
    let t = ProfileType::require(CPU).expect("valid");
    let object = store::profiles::ObjectFile {
        path: "/opt/app/server".into(),
        build_id: "ab12cd".into(),
        offset: 0x3000,
        size: 0x1_0000,
    };
    let merged = stacks(&[
        ("main;server+0x3456;server+0x4000", 5),
        ("main;server+0x99999", 1),
    ]);
    let p = from_stacks(&merged, std::slice::from_ref(&object), &t, 0, 0, None);
    // Names stay as they were stored until something symbolizes them.
    assert_eq!(
        stacks_of(&p),
        expected(&[
            ("main;server+0x3456;server+0x4000", 5),
            ("main;server+0x99999", 1)
        ])
    );
    assert_eq!(p.mapping.len(), 1, "one mapping per object file used");
    let m = &p.mapping[0];
    let string = |i: i64| p.string_table[usize::try_from(i).expect("index")].as_str();
    assert_eq!(
        (m.id, m.memory_start, m.memory_limit, m.file_offset),
        (1, 0x3000, 0x1_3000, 0x3000)
    );
    assert_eq!(
        (string(m.filename), string(m.build_id)),
        ("/opt/app/server", "ab12cd")
    );
    assert!(!m.has_functions);
    let mut placed: Vec<(u64, u64)> = p
        .location
        .iter()
        .map(|l| (l.mapping_id, l.address))
        .filter(|&(m, _)| m != 0)
        .collect();
    placed.sort_unstable();
    assert_eq!(placed, [(1, 0x3456), (1, 0x4000)]);
}
