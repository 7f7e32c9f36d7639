//! RED and service-graph metrics end to end: OTLP/HTTP requests into the real
//! receiver, through the span-metrics tee into a span store, flushed by the
//! flush loop into an in-memory series store, then read back as series,
//! labels, bucket counts and exemplars. A write the span store refuses (429)
//! is not counted. (spanmetrics_python.rs does the same with the OTel Python SDK.)
#![allow(clippy::unwrap_used)]

mod common;

mod spanmetrics_common;

use common::{hex, kv, MemoryStore};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use spanmetrics_common::{labels, latest, red, with, Pipeline};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use store::series::{Matcher, SeriesStore};

const TRACE: &str = "11111111111111111111111111111111";

struct Spec<'a> {
    id: &'a str,
    parent: &'a str,
    name: &'a str,
    kind: i32,
    ms: u64,
    error: bool,
    attrs: &'a [(&'a str, &'a str)],
}

fn otlp_span(spec: &Spec, start_ns: u64) -> Span {
    Span {
        trace_id: hex(TRACE),
        span_id: hex(spec.id),
        parent_span_id: hex(spec.parent),
        name: spec.name.into(),
        kind: spec.kind,
        start_time_unix_nano: start_ns,
        end_time_unix_nano: start_ns + spec.ms * 1_000_000,
        attributes: spec
            .attrs
            .iter()
            .map(|(k, v)| kv(k, Value::StringValue((*v).into())))
            .collect(),
        status: spec.error.then(|| Status {
            message: "failed".into(),
            code: 2,
        }),
        ..Default::default()
    }
}

fn request(services: &[(&str, &[Spec])], start_ns: u64) -> Vec<u8> {
    ExportTraceServiceRequest {
        resource_spans: services
            .iter()
            .map(|(service, specs)| ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", Value::StringValue((*service).into()))],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans: specs.iter().map(|s| otlp_span(s, start_ns)).collect(),
                    ..Default::default()
                }],
                schema_url: String::new(),
            })
            .collect(),
    }
    .encode_to_vec()
}

const SERVER: i32 = 2;
const CLIENT: i32 = 3;

fn spec<'a>(id: &'a str, parent: &'a str, name: &'a str, kind: i32, ms: u64) -> Spec<'a> {
    Spec {
        id,
        parent,
        name,
        kind,
        ms,
        error: false,
        attrs: &[],
    }
}

/// frontend → payments (both failing) → its database; frontend → inventory.
fn checkout_requests(start_ns: u64) -> (Vec<u8>, Vec<u8>) {
    let frontend = [
        spec("00000000000000a1", "", "GET /checkout", SERVER, 120),
        Spec {
            error: true,
            ..spec(
                "00000000000000b2",
                "00000000000000a1",
                "POST /pay",
                CLIENT,
                80,
            )
        },
        spec(
            "00000000000000e5",
            "00000000000000a1",
            "GET /stock",
            CLIENT,
            30,
        ),
    ];
    let payments = [
        Spec {
            error: true,
            ..spec(
                "00000000000000c3",
                "00000000000000b2",
                "POST /pay",
                SERVER,
                70,
            )
        },
        Spec {
            attrs: &[("db.system", "postgresql"), ("db.name", "orders_db")],
            ..spec("00000000000000d4", "00000000000000c3", "INSERT", CLIENT, 5)
        },
    ];
    let inventory = [spec(
        "00000000000000f6",
        "00000000000000e5",
        "GET /stock",
        SERVER,
        25,
    )];
    (
        request(
            &[("frontend", &frontend), ("payments", &payments)],
            start_ns,
        ),
        request(&[("inventory", &inventory)], start_ns),
    )
}

async fn post(addr: std::net::SocketAddr, body: Vec<u8>) -> u16 {
    reqwest::Client::new()
        .post(format!("http://{addr}/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_sent_over_otlp_http_become_red_and_service_graph_series() {
    let inner = Arc::new(MemoryStore::default());
    let pipeline = Pipeline::start(Arc::clone(&inner)).await;
    let (addr, series) = (pipeline.addr, Arc::clone(&pipeline.series));

    let start_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        - 2_000_000_000;
    let (first, second) = checkout_requests(start_ns);
    assert_eq!(post(addr, first.clone()).await, 200);
    assert_eq!(post(addr, second).await, 200);
    // Refused by the span store: must not be counted again.
    inner.set_overloaded(true);
    assert_eq!(post(addr, first).await, 429);
    inner.set_overloaded(false);
    assert_eq!(inner.spans().len(), 6);

    // The periodic flush writes the series without being asked.
    let checkout = red(
        "frontend",
        "GET /checkout",
        "SPAN_KIND_SERVER",
        "STATUS_CODE_UNSET",
    );
    let calls = labels("traces_span_metrics_calls_total", &with(&checkout, &[]));
    let mut waited = 0;
    while latest(&series, &calls).is_none() {
        assert!(waited < 100, "no flush within 5 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    let (_, metrics) = pipeline.stop().await;

    // RED: one series per service, span name, kind and status.
    assert_eq!(latest(&series, &calls), Some(1.0));
    for (service, name, kind, status) in [
        (
            "frontend",
            "POST /pay",
            "SPAN_KIND_CLIENT",
            "STATUS_CODE_ERROR",
        ),
        (
            "frontend",
            "GET /stock",
            "SPAN_KIND_CLIENT",
            "STATUS_CODE_UNSET",
        ),
        (
            "payments",
            "POST /pay",
            "SPAN_KIND_SERVER",
            "STATUS_CODE_ERROR",
        ),
        (
            "payments",
            "INSERT",
            "SPAN_KIND_CLIENT",
            "STATUS_CODE_UNSET",
        ),
        (
            "inventory",
            "GET /stock",
            "SPAN_KIND_SERVER",
            "STATUS_CODE_UNSET",
        ),
    ] {
        let pairs = red(service, name, kind, status);
        let calls = labels("traces_span_metrics_calls_total", &with(&pairs, &[]));
        assert_eq!(latest(&series, &calls), Some(1.0), "{calls}");
    }
    let bucket = |le| {
        let l = labels(
            "traces_span_metrics_duration_milliseconds_bucket",
            &with(&checkout, &[("le", le)]),
        );
        latest(&series, &l)
    };
    assert_eq!(bucket("100"), Some(0.0));
    assert_eq!(bucket("200"), Some(1.0));
    assert_eq!(bucket("+Inf"), Some(1.0));
    let sum = labels(
        "traces_span_metrics_duration_milliseconds_sum",
        &with(&checkout, &[]),
    );
    assert_eq!(latest(&series, &sum), Some(120.0));

    // The exemplar on the bucket the 120 ms span fell in names its trace and span.
    let le_200: Vec<Matcher> = with(&checkout, &[("le", "200")])
        .into_iter()
        .map(|(n, v)| Matcher::equal(n, v))
        .chain([Matcher::equal(
            "__name__",
            "traces_span_metrics_duration_milliseconds_bucket",
        )])
        .collect();
    let exemplars = series.exemplars(&[le_200], 0, i64::MAX).unwrap();
    assert_eq!(exemplars.len(), 1);
    assert_eq!(
        exemplars[0].exemplars.len(),
        1,
        "sent once, not every flush"
    );
    let exemplar = &exemplars[0].exemplars[0];
    assert_eq!(exemplar.labels.get("trace_id"), Some(TRACE));
    assert_eq!(exemplar.labels.get("span_id"), Some("00000000000000a1"));
    assert_eq!(exemplar.value, 120.0);
    assert_eq!(exemplar.timestamp_ms, (start_ns / 1_000_000 + 120) as i64);

    // Service graph: user → frontend → payments (failed) → orders_db; frontend → inventory.
    let edge = |client: &str, server: &str, connection: &str| {
        vec![
            ("client", client.to_string()),
            ("server", server.to_string()),
            ("connection_type", connection.to_string()),
        ]
    };
    let total = |pairs: &[(&'static str, String)]| {
        latest(
            &series,
            &labels("traces_service_graph_request_total", &with(pairs, &[])),
        )
    };
    let failed = |pairs: &[(&'static str, String)]| {
        latest(
            &series,
            &labels(
                "traces_service_graph_request_failed_total",
                &with(pairs, &[]),
            ),
        )
    };
    let pay = edge("frontend", "payments", "");
    assert_eq!((total(&pay), failed(&pay)), (Some(1.0), Some(1.0)));
    let stock = edge("frontend", "inventory", "");
    assert_eq!((total(&stock), failed(&stock)), (Some(1.0), Some(0.0)));
    let user = edge("user", "frontend", "virtual_node");
    assert_eq!(total(&user), Some(1.0));
    let db = edge("payments", "orders_db", "database");
    assert_eq!(total(&db), Some(1.0));
    let client_bucket = |le| {
        latest(
            &series,
            &labels(
                "traces_service_graph_request_client_seconds_bucket",
                &with(&pay, &[("le", le)]),
            ),
        )
    };
    assert_eq!(client_bucket("0.1"), Some(1.0));
    assert_eq!(client_bucket("+Inf"), Some(1.0));
    let server_sum = labels(
        "traces_service_graph_request_server_seconds_sum",
        &with(&pay, &[]),
    );
    assert!((latest(&series, &server_sum).unwrap() - 0.07).abs() < 1e-9);

    // Families carry their metadata.
    let metadata = series.metadata().unwrap();
    let histogram = metadata
        .iter()
        .find(|m| m.metric_family_name == "traces_span_metrics_duration_milliseconds")
        .unwrap();
    assert_eq!(histogram.metric_type.as_str(), "histogram");
    let stats = metrics.stats();
    assert_eq!(
        (stats.spans, stats.pending_edges, stats.flush_errors),
        (6, 0, 0)
    );
}
