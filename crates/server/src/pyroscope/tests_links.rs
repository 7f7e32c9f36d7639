//! Router-level tests of the UI's span ↔ profile routes
//! (`/api/profiles/span`, `/api/profiles/span-hits`) over the in-memory
//! fixture of [`super::testutil`] (in `app`'s CPU profile, `main;a;b` (30)
//! ran in span 1 (no trace id), `main;c` (50) in span 2 of trace 0xabc,
//! `main;a` (20) in no span; nothing else is linked; no spans stored), and
//! over a fixture with stored spans for the span look-ups of `span-hits`.

use super::links::PROFILE_ID_ATTRIBUTE;
use super::testutil::{app, expand, expected, get_json, StoredSpans, CPU, MEM, T0_MS};
use crate::{AppState, QueryOptions};
use axum::http::StatusCode;
use model::metrics::Labels;
use model::{
    AttrValue, KeyValue, Resource, Scope, Span, SpanId, SpanKind, Status, StatusCode as Otel,
    TraceId,
};
use serde_json::{json, Value};
use std::sync::Arc;
use store::profiles::{EmbeddedProfileStore, ProfileWrite, StackSample};
use store::series::MemorySeriesStore;
use store::ProfileStore;

const SPAN_1: &str = "0000000000000001";
const SPAN_2: &str = "0000000000000002";
const TRACE_ABC: &str = "00000000000000000000000000000abc";

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// `&from=&until=` a minute around the fixture, in ms.
fn range() -> String {
    format!("&from={}&until={}", T0_MS - 60_000, T0_MS + 60_000)
}

fn flame(fb: &Value) -> std::collections::BTreeMap<String, i64> {
    let names: Vec<String> = serde_json::from_value(fb["names"].clone()).expect("names");
    let levels: Vec<Vec<i64>> = serde_json::from_value(fb["levels"].clone()).expect("levels");
    expand(&names, &levels, 4).expect("valid levels").remove(0)
}

#[tokio::test]
async fn a_span_lists_its_profile_types_and_shows_the_cpu_flamegraph() {
    let app = app();
    let (status, body) = get_json(
        &app,
        &format!("/api/profiles/span?spanID={SPAN_1}{}", range()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["spanID"], SPAN_1);
    assert_eq!(body["traceID"], Value::Null);
    assert_eq!(
        body["types"],
        json!([{"id": CPU, "value": 30, "samples": 1}])
    );
    assert_eq!(body["type"], CPU);
    assert_eq!(body["flamebearer"]["numTicks"], 30);
    assert_eq!(flame(&body["flamebearer"]), expected(&[("main;a;b", 30)]));

    // Leading zeros may be dropped; the range defaults to all time.
    let (status, body) = get_json(&app, "/api/profiles/span?spanID=2").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["spanID"], SPAN_2);
    assert_eq!(flame(&body["flamebearer"]), expected(&[("main;c", 50)]));
}

#[tokio::test]
async fn a_trace_id_alone_selects_the_samples_of_the_trace() {
    let app = app();
    let (status, body) =
        get_json(&app, &format!("/api/profiles/span?traceID=abc{}", range())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["spanID"], &body["traceID"]),
        (&Value::Null, &json!(TRACE_ABC))
    );
    assert_eq!(flame(&body["flamebearer"]), expected(&[("main;c", 50)]));
}

#[tokio::test]
async fn a_span_without_samples_is_an_empty_answer_not_an_error() {
    let app = app();
    let (status, body) = get_json(&app, "/api/profiles/span?spanID=00000000000000ff").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"spanID": "00000000000000ff", "traceID": null, "types": [], "type": null, "flamebearer": null, "matched": null})
    );
    // Outside the range: nothing either.
    let (_, body) = get_json(
        &app,
        &format!("/api/profiles/span?spanID={SPAN_1}&until={}", T0_MS - 1),
    )
    .await;
    assert_eq!(body["types"], json!([]));
}

#[tokio::test]
async fn a_chosen_type_without_samples_of_the_span_has_an_empty_flamegraph() {
    let app = app();
    let uri = format!("/api/profiles/span?spanID={SPAN_1}&type={}", encode(MEM));
    let (status, body) = get_json(&app, &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["type"], MEM);
    assert_eq!(body["types"][0]["id"], CPU);
    assert_eq!(body["flamebearer"]["numTicks"], 0);
    assert_eq!(body["flamebearer"]["names"], json!(["total"]));
}

#[tokio::test]
async fn span_profile_parameters_are_checked() {
    let app = app();
    for (query, message) in [
        (
            "",
            "spanID (16 hex digits) or traceID (32 hex digits) is required",
        ),
        ("spanID=xyz", "spanID: invalid span id \"xyz\""),
        (
            "spanID=00000000000000001",
            "spanID: invalid span id \"00000000000000001\": expected 16 hex digits",
        ),
        ("traceID=zz", "traceID: invalid trace id \"zz\""),
        (
            "spanID=0",
            "an all-zero spanID or traceID names no span or trace",
        ),
        ("spanID=1&from=yesterday", "from: bad time \"yesterday\""),
        ("spanID=1&type=cpu", "invalid profile type ID \"cpu\""),
        (
            "spanID=1&max-nodes=many",
            "bad max-nodes \"many\": expected a whole number",
        ),
    ] {
        let (status, body) = get_json(&app, &format!("/api/profiles/span?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["code"], "invalid_argument", "{query}");
        let text = body["message"].as_str().unwrap_or_default();
        assert!(text.starts_with(message), "{query}: {text}");
    }
}

#[tokio::test]
async fn span_hits_list_the_spans_through_a_frame_heaviest_first() {
    let app = app();
    let query = encode(&format!("{CPU}{{service_name=\"app\"}}"));
    let hits = |frame: &str| {
        let uri = format!(
            "/api/profiles/span-hits?query={query}{}&frame={}",
            range(),
            encode(frame)
        );
        let app = app.clone();
        async move { get_json(&app, &uri).await }
    };
    let (status, body) = hits("main").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!([
            {"traceID": TRACE_ABC, "spanID": SPAN_2, "value": 50, "samples": 1, "start": T0_MS,
             "service": null, "operation": null},
            {"traceID": null, "spanID": SPAN_1, "value": 30, "samples": 1, "start": T0_MS,
             "service": null, "operation": null},
        ])
    );
    assert_eq!(
        hits("b").await.1,
        json!([{"traceID": null, "spanID": SPAN_1, "value": 30, "samples": 1, "start": T0_MS,
                "service": null, "operation": null}])
    );
    assert_eq!(hits("c").await.1[0]["spanID"], SPAN_2);
    assert_eq!(hits("no such function").await.1, json!([]));

    // No frame: every linked sample; a limit; another service has none.
    let uri = format!("/api/profiles/span-hits?query={query}{}&limit=1", range());
    let (_, body) = get_json(&app, &uri).await;
    assert_eq!(body.as_array().map(Vec::len), Some(1));
    assert_eq!(body[0]["spanID"], SPAN_2);
    let db = encode(&format!("{CPU}{{service_name=\"db\"}}"));
    let (_, body) = get_json(
        &app,
        &format!("/api/profiles/span-hits?query={db}{}", range()),
    )
    .await;
    assert_eq!(body, json!([]));
}

#[tokio::test]
async fn span_hits_parameters_are_checked() {
    let app = app();
    let cpu = encode(CPU);
    for (query, message) in [
        (String::new(), "query is required"),
        ("query=cpu".to_string(), "invalid profile type ID \"cpu\""),
        (
            format!("query={}", encode(&format!("{CPU}{{service_name=}}"))),
            "bad label selector",
        ),
        (
            format!("query={cpu}&limit=0"),
            "bad limit \"0\": expected 1 to 100",
        ),
        (
            format!("query={cpu}&limit=ten"),
            "bad limit \"ten\": expected 1 to 100",
        ),
        (format!("query={cpu}&from=later"), "bad time \"later\""),
    ] {
        let (status, body) = get_json(&app, &format!("/api/profiles/span-hits?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        let text = body["message"].as_str().unwrap_or_default();
        assert!(text.starts_with(message), "{query}: {text}");
    }
}

/// A span of service `shop` started at `start_ms`, with `attributes`.
fn span(trace: u128, id: u64, name: &str, start_ms: i64, attributes: &[(&str, &str)]) -> Span {
    let start = u64::try_from(start_ms).expect("positive") * 1_000_000;
    Span {
        trace_id: TraceId(trace.to_be_bytes()),
        span_id: SpanId(id.to_be_bytes()),
        parent_span_id: None,
        trace_state: String::new(),
        flags: 1,
        name: name.into(),
        kind: SpanKind::Server,
        start_unix_nano: start,
        end_unix_nano: start + 1_000_000_000,
        attributes: attributes
            .iter()
            .map(|(k, v)| KeyValue {
                key: (*k).into(),
                value: AttrValue::Str((*v).into()),
            })
            .collect(),
        dropped_attributes_count: 0,
        events: Vec::new(),
        dropped_events_count: 0,
        links: Vec::new(),
        dropped_links_count: 0,
        status: Status {
            code: Otel::Unset,
            message: String::new(),
        },
        resource: Arc::new(Resource {
            service_name: "shop".into(),
            attributes: Vec::new(),
            dropped_attributes_count: 0,
        }),
        scope: Arc::new(Scope::default()),
    }
}

/// Spans 0x10 (`checkout`, tagged `pyroscope.profile.id`, as pyroscope-otel
/// does) and 0x20 (`GET /`, untagged) of trace 0xfeed, and 0x30 (`late`,
/// tagged, but two hours after the profile); CPU samples at T0: `main;hot`
/// 70 in span 0x10, `main;warm` 20 in span 0x20 with its trace id, `main;hot`
/// 5 in span 0x30, `main;hot` 3 in span 0x40 (not stored); none carry a trace
/// id but the one of 0x20.
fn app_with_spans() -> axum::Router {
    let spans = vec![
        span(
            0xfeed,
            0x10,
            "checkout",
            T0_MS - 5_000,
            &[(PROFILE_ID_ATTRIBUTE, "0000000000000010")],
        ),
        span(0xfeed, 0x20, "GET /", T0_MS - 6_000, &[]),
        span(
            0xbeef,
            0x30,
            "late",
            T0_MS + 7_200_000,
            &[(PROFILE_ID_ATTRIBUTE, "0000000000000030")],
        ),
    ];
    let sample = |path: &str, value, span_id, trace_id| StackSample {
        frames: path.split(';').map(String::from).collect(),
        value,
        span_id: Some(span_id),
        trace_id,
    };
    let profiles = EmbeddedProfileStore::in_memory();
    let write = ProfileWrite {
        labels: Labels::from_pairs([
            ("__name__", "process_cpu"),
            ("__profile_type__", CPU),
            ("service_name", "shop"),
        ]),
        time_ns: T0_MS * 1_000_000,
        duration_ns: 10_000_000_000,
        samples: vec![
            sample("main;hot", 70, 0x10, None),
            sample("main;warm", 20, 0x20, Some(0xfeed)),
            sample("main;hot", 5, 0x30, None),
            sample("main;hot", 3, 0x40, None),
        ],
        ticks: Vec::new(),
        objects: Vec::new(),
    };
    drop(profiles.write(vec![write]).expect("write"));
    let mut state = AppState::new(
        Arc::new(StoredSpans(spans)),
        Arc::new(MemorySeriesStore::new()),
        QueryOptions::default(),
    );
    state.profiles = Arc::new(profiles);
    crate::router_for(state)
}

#[tokio::test]
async fn span_hits_name_each_span_and_find_the_trace_of_untraced_samples() {
    let app = app_with_spans();
    let query = encode(&format!("{CPU}{{service_name=\"shop\"}}"));
    let uri = format!("/api/profiles/span-hits?query={query}{}", range());
    let (status, body) = get_json(&app, &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let feed = "0000000000000000000000000000feed";
    let fact = |hit: &Value| {
        (
            hit["spanID"].as_str().unwrap_or_default().to_string(),
            hit["traceID"].clone(),
            hit["service"].clone(),
            hit["operation"].clone(),
        )
    };
    let facts: Vec<_> = body.as_array().expect("array").iter().map(fact).collect();
    assert_eq!(
        facts,
        [
            // Found by pyroscope.profile.id.
            (
                "0000000000000010".into(),
                json!(feed),
                json!("shop"),
                json!("checkout")
            ),
            // Named by its trace id.
            (
                "0000000000000020".into(),
                json!(feed),
                json!("shop"),
                json!("GET /")
            ),
            // Tagged, but outside the look-up window; and not stored at all.
            (
                "0000000000000030".into(),
                Value::Null,
                Value::Null,
                Value::Null
            ),
            (
                "0000000000000040".into(),
                Value::Null,
                Value::Null,
                Value::Null
            ),
        ]
    );
}

/// Spans of trace 0xd00d in process 4200 on host `box`: 0x51 on thread 4201
/// (T0 + 0..1 s), 0x52 on a managed thread id no OS thread has (T0 + 2..3 s),
/// and 0x53 of a process the agent never saw; agent CPU samples of pid 4200
/// with their threads and times: thread 4201 in `main;parse` at T0 + 100 ms
/// and 200 ms, thread 4202 in `main;gc` at T0 + 300 ms and T0 + 2.5 s.
fn app_with_agent_samples() -> axum::Router {
    let t0 = T0_MS * 1_000_000;
    let in_process = |mut s: Span, pid: &str, thread: &str| {
        s.attributes = vec![KeyValue {
            key: "thread.id".into(),
            value: AttrValue::Int(thread.parse().expect("number")),
        }];
        s.resource = Arc::new(Resource {
            service_name: "shop".into(),
            attributes: vec![
                KeyValue {
                    key: "process.pid".into(),
                    value: AttrValue::Int(pid.parse().expect("number")),
                },
                KeyValue {
                    key: "host.name".into(),
                    value: AttrValue::Str("box".into()),
                },
            ],
            dropped_attributes_count: 0,
        });
        s
    };
    let spans = vec![
        in_process(span(0xd00d, 0x51, "parse", T0_MS, &[]), "4200", "4201"),
        in_process(
            span(0xd00d, 0x52, "later", T0_MS + 2_000, &[]),
            "4200",
            "77",
        ),
        in_process(span(0xd00d, 0x53, "elsewhere", T0_MS, &[]), "999", "1"),
    ];
    let stack = |path: &str| StackSample {
        frames: path.split(';').map(String::from).collect(),
        value: 100,
        span_id: None,
        trace_id: None,
    };
    let tick = |sample, thread_id, ms: i64| store::profiles::Tick {
        sample,
        thread_id,
        time_ns: t0 + ms * 1_000_000,
        value: 50,
    };
    let write = ProfileWrite {
        labels: Labels::from_pairs([
            ("__name__", "process_cpu"),
            ("__profile_type__", CPU),
            ("service_name", "shop"),
            ("pid", "4200"),
            ("host", "box"),
        ]),
        time_ns: t0,
        duration_ns: 10_000_000_000,
        samples: vec![stack("main;parse"), stack("main;gc")],
        ticks: vec![
            tick(0, 4201, 100),
            tick(0, 4201, 200),
            tick(1, 4202, 300),
            tick(1, 4202, 2_500),
        ],
        objects: Vec::new(),
    };
    let profiles = EmbeddedProfileStore::in_memory();
    drop(profiles.write(vec![write]).expect("write"));
    let mut state = AppState::new(
        Arc::new(StoredSpans(spans)),
        Arc::new(MemorySeriesStore::new()),
        QueryOptions::default(),
    );
    state.profiles = Arc::new(profiles);
    crate::router_for(state)
}

#[tokio::test]
async fn a_span_without_tagged_samples_gets_its_threads_samples_from_the_agent() {
    let app = app_with_agent_samples();
    let get = |span: &str| format!("/api/profiles/span?spanID={span}&traceID=d00d{}", range());
    let (status, body) = get_json(&app, &get("51")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["matched"], "thread");
    assert_eq!(body["threadID"], 4201);
    assert_eq!(body["selector"], r#"{pid="4200",host="box"}"#);
    assert_eq!(
        body["types"],
        json!([{"id": CPU, "value": 100, "samples": 2}])
    );
    assert_eq!(
        flame(&body["flamebearer"]),
        expected(&[("main;parse", 100)])
    );

    // A thread id no sampled OS thread has: the whole process, during the span.
    let (_, body) = get_json(&app, &get("52")).await;
    assert_eq!(body["matched"], "process");
    assert_eq!(body["threadID"], Value::Null);
    assert_eq!(flame(&body["flamebearer"]), expected(&[("main;gc", 50)]));

    // Another process: nothing, and no error.
    let (status, body) = get_json(&app, &get("53")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["types"], &body["matched"], &body["flamebearer"]),
        (&json!([]), &Value::Null, &Value::Null)
    );
    // Without the trace id the span cannot be looked up: nothing either;
    // traceID works as inTrace does.
    let (_, body) = get_json(&app, &format!("/api/profiles/span?spanID=51{}", range())).await;
    assert_eq!(body["matched"], Value::Null);
    let uri = format!("/api/profiles/span?spanID=51&traceID=d00d{}", range());
    assert_eq!(get_json(&app, &uri).await.1["matched"], "thread");
    let uri = format!("/api/profiles/span?spanID=51&inTrace=xyz{}", range());
    assert_eq!(get_json(&app, &uri).await.0, StatusCode::BAD_REQUEST);
}
