//! OTLP metrics receivers against real clients: the official OpenTelemetry
//! Python SDK (target/otlp-venv, installed by dev/test) sending counters,
//! up-down counters, histograms, exponential histograms and gauges with
//! cumulative and delta temporality over gRPC and HTTP, checked series by
//! series in the store; and bad input over HTTP and gRPC answered precisely
//! while the receivers keep serving.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::MemoryStore;
use ingest::Limits;
use model::metrics::{Labels, MetricType};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    metrics_service_client::MetricsServiceClient, ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
};
use prost::Message;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use store::series::{Matcher, MemorySeriesStore, Select, SeriesQuery, SeriesStore};

struct Servers {
    series: Arc<MemorySeriesStore>,
    grpc: SocketAddr,
    http: SocketAddr,
}

async fn start() -> Servers {
    let series = Arc::new(MemorySeriesStore::new());
    let spans = Arc::new(MemoryStore::default());
    let grpc_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (grpc, http) = (
        grpc_listener.local_addr().unwrap(),
        http_listener.local_addr().unwrap(),
    );
    tokio::spawn(ingest::serve_grpc(
        grpc_listener,
        spans.clone(),
        series.clone(),
        Limits::default(),
        None,
        std::future::pending(),
    ));
    tokio::spawn(ingest::serve_http(
        http_listener,
        spans,
        series.clone(),
        Limits::default(),
        None,
        std::future::pending(),
    ));
    Servers { series, grpc, http }
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn otlp_python(test: &str) -> Option<PathBuf> {
    let python = workspace_root().join("target/otlp-venv/bin/python");
    if python.exists() {
        return Some(python);
    }
    assert!(
        std::env::var_os("WHYSLOW_REQUIRE_OTLP_VENV").is_none(),
        "target/otlp-venv is missing but WHYSLOW_REQUIRE_OTLP_VENV is set"
    );
    eprintln!("SKIPPED {test}: no target/otlp-venv; run dev/test once to create it");
    None
}

/// The newest value of the one series matching `matchers`.
fn latest(store: &MemorySeriesStore, matchers: &[(&str, &str)]) -> f64 {
    let data = store
        .select(&Select {
            matchers: matchers
                .iter()
                .map(|(n, v)| Matcher::equal(*n, *v))
                .collect(),
            start_ms: 0,
            end_ms: i64::MAX,
            max_samples: 0,
        })
        .unwrap();
    assert_eq!(data.len(), 1, "series matching {matchers:?}: {data:?}");
    data[0].samples.last().expect("a sample").value
}

/// Runs the SDK script against the receivers and checks every series it sends.
async fn python_sdk_sends(python: PathBuf, servers: &Servers, grpc: bool, temporality: &str) {
    let service = format!(
        "checkout-{}-{temporality}",
        if grpc { "grpc" } else { "http" }
    );
    let mut command = Command::new(python);
    command.arg(workspace_root().join("tests/otlp/send_metrics.py"));
    if grpc {
        command.args(["--grpc", &servers.grpc.to_string()]);
    } else {
        command.args(["--http", &format!("http://{}", servers.http)]);
    }
    command.args(["--service", &service, "--temporality", temporality]);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("running send_metrics.py");
    assert!(
        output.status.success(),
        "send_metrics.py failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let store = servers.series.as_ref();
    let job = format!("shop/{service}");
    let job = job.as_str();
    let id = [("job", job), ("instance", "inst-1")];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        id.iter().copied().chain(extra.iter().copied()).collect()
    };
    assert_eq!(
        latest(
            store,
            &with(&[
                ("__name__", "shop_orders_total"),
                ("payment_method", "card"),
                ("otel_scope_name", "shop.meter"),
                ("otel_scope_version", "1.0"),
            ])
        ),
        5.0
    );
    assert_eq!(
        latest(store, &with(&[("__name__", "shop_queue_size")])),
        4.0
    );
    let route = ("http_route", "/checkout");
    let bucket = |le: &'static str| {
        with(&[
            ("__name__", "http_server_request_duration_seconds_bucket"),
            route,
            ("le", le),
        ])
    };
    assert_eq!(latest(store, &bucket("0")), 0.0);
    assert_eq!(latest(store, &bucket("5")), 4.0);
    assert_eq!(latest(store, &bucket("+Inf")), 4.0);
    assert_eq!(
        latest(
            store,
            &with(&[
                ("__name__", "http_server_request_duration_seconds_count"),
                route
            ])
        ),
        4.0
    );
    let sum = latest(
        store,
        &with(&[
            ("__name__", "http_server_request_duration_seconds_sum"),
            route,
        ]),
    );
    assert!((sum - 2.6).abs() < 1e-9, "sum {sum}");
    assert_eq!(
        latest(store, &with(&[("__name__", "payload_size_bytes_count")])),
        4.0
    );
    assert_eq!(
        latest(store, &with(&[("__name__", "payload_size_bytes_sum")])),
        6150.0
    );
    assert_eq!(
        latest(
            store,
            &with(&[("__name__", "payload_size_bytes_bucket"), ("le", "+Inf")])
        ),
        4.0
    );
    // Exponential buckets: cumulative counts at power-of-two-ish boundaries.
    let buckets = store
        .select(&Select {
            matchers: vec![
                Matcher::equal("__name__", "payload_size_bytes_bucket"),
                Matcher::equal("job", job),
            ],
            start_ms: 0,
            end_ms: i64::MAX,
            max_samples: 0,
        })
        .unwrap();
    let mut by_le: Vec<(f64, f64)> = buckets
        .iter()
        .filter_map(|s| {
            let le = s.labels.get("le")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, s.samples.last()?.value))
        })
        .collect();
    by_le.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(by_le.len() > 4, "{by_le:?}");
    assert!(
        by_le.windows(2).all(|w| w[0].1 <= w[1].1),
        "not cumulative: {by_le:?}"
    );
    let at = |v: f64| by_le.iter().find(|(le, _)| *le >= v).map(|(_, c)| *c);
    assert_eq!(at(50.0), Some(1.0), "{by_le:?}");
    assert_eq!(at(1000.0), Some(3.0), "{by_le:?}");
    assert_eq!(at(5000.0), Some(4.0), "{by_le:?}");

    assert_eq!(
        latest(
            store,
            &with(&[("__name__", "room_temperature_celsius"), ("room", "lab")])
        ),
        21.5
    );
    assert_eq!(
        latest(
            store,
            &with(&[("__name__", "process_cpu_utilization_ratio"), ("cpu", "0")])
        ),
        0.25
    );
    assert_eq!(
        latest(
            store,
            &with(&[("__name__", "target_info"), ("host_name", "h1")])
        ),
        1.0
    );

    // Exemplars from the span around the first three observations.
    let exemplars = store
        .exemplars(
            &[vec![
                Matcher::equal("__name__", "http_server_request_duration_seconds_bucket"),
                Matcher::equal("job", job),
            ]],
            0,
            i64::MAX,
        )
        .unwrap();
    let traced: Vec<&Labels> = exemplars
        .iter()
        .flat_map(|s| s.exemplars.iter().map(|e| &e.labels))
        .filter(|l| l.get("trace_id").is_some_and(|t| t.len() == 32))
        .collect();
    assert!(
        !traced.is_empty(),
        "no exemplar with a trace_id: {exemplars:?}"
    );
    assert!(traced
        .iter()
        .all(|l| l.get("span_id").is_some_and(|s| s.len() == 16)));

    let metadata = store.metadata().unwrap();
    let meta = |name: &str| {
        metadata
            .iter()
            .find(|m| m.metric_family_name == name)
            .unwrap_or_else(|| panic!("no metadata for {name}: {metadata:?}"))
    };
    assert_eq!(meta("shop_orders_total").metric_type, MetricType::Counter);
    assert_eq!(meta("shop_orders_total").help, "Orders placed");
    assert_eq!(meta("shop_queue_size").metric_type, MetricType::Gauge);
    let duration = meta("http_server_request_duration_seconds");
    assert_eq!(duration.metric_type, MetricType::Histogram);
    assert_eq!(duration.unit, "seconds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_metrics_over_grpc_and_http_cumulative_and_delta() {
    let Some(python) = otlp_python("python_sdk_metrics_over_grpc_and_http_cumulative_and_delta")
    else {
        return;
    };
    let servers = start().await;
    for (grpc, temporality) in [
        (true, "cumulative"),
        (true, "delta"),
        (false, "cumulative"),
        (false, "delta"),
    ] {
        python_sdk_sends(python.clone(), &servers, grpc, temporality).await;
    }
}

async fn post(addr: SocketAddr, content_type: &str, body: Vec<u8>) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/v1/metrics"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn bad_input_is_refused_precisely_and_partial_success_is_reported() {
    let servers = start().await;
    // Malformed protobuf: 400 with a google.rpc.Status naming the message.
    let response = reqwest::Client::new()
        .post(format!("http://{}/v1/metrics", servers.http))
        .header("content-type", "application/x-protobuf")
        .body(b"\x0a\xff\xff\xff\xff\x0f".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let status = tonic_types::pb::Status::decode(response.bytes().await.unwrap()).unwrap();
    assert!(
        status
            .message
            .starts_with("malformed protobuf ExportMetricsServiceRequest"),
        "{}",
        status.message
    );

    // Malformed JSON.
    let (code, text) = post(
        servers.http,
        "application/json",
        b"{\"resourceMetrics\": [".to_vec(),
    )
    .await;
    assert_eq!(code, 400);
    assert!(
        text.contains("malformed JSON ExportMetricsServiceRequest"),
        "{text}"
    );

    // JSON with one good and one bad point: 200, partial success.
    let body = br#"{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"j"}}]},
        "scopeMetrics":[{"metrics":[{"name":"temp","unit":"Cel","gauge":{"dataPoints":[
            {"timeUnixNano":"1700000000000000000","asDouble":20.5},
            {"asDouble":1}]}}]}]}]}"#;
    let (code, text) = post(servers.http, "application/json", body.to_vec()).await;
    assert_eq!(code, 200, "{text}");
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["partialSuccess"]["rejectedDataPoints"], "1");
    assert!(
        answer["partialSuccess"]["errorMessage"]
            .as_str()
            .unwrap()
            .contains("a data point of temp has no time_unix_nano"),
        "{text}"
    );
    assert_eq!(
        latest(
            &servers.series,
            &[("__name__", "temp_celsius"), ("job", "j")]
        ),
        20.5
    );

    // Out of order over gRPC: the store refuses it, partial success names the series.
    let mut client = MetricsServiceClient::connect(format!("http://{}", servers.grpc))
        .await
        .unwrap();
    let earlier = std::str::from_utf8(body)
        .unwrap()
        .replace("1700000000000000000", "1600000000000000000");
    let request: ExportMetricsServiceRequest =
        serde_json::from_str(&earlier).expect("the JSON above as a request");
    let response: ExportMetricsServiceResponse = client.export(request).await.unwrap().into_inner();
    let partial = response.partial_success.expect("partial success");
    assert!(
        partial
            .error_message
            .contains(r#"out of order sample for series temp_celsius{job="j"}"#),
        "{}",
        partial.error_message
    );
    assert_eq!(partial.rejected_data_points, 2);

    // Malformed protobuf over gRPC: INVALID_ARGUMENT, and the server still serves.
    let status = common_raw_export(servers.grpc, b"\x0a\xff\xff\xff\xff\x0f").await;
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert!(
        status
            .message()
            .starts_with("malformed protobuf ExportMetricsServiceRequest"),
        "{}",
        status.message()
    );
    let (code, _) = post(servers.http, "application/json", body.to_vec()).await;
    assert_eq!(code, 200);
    assert_eq!(
        servers
            .series
            .series(&SeriesQuery::all())
            .unwrap()
            .iter()
            .filter(|l| l.metric_name() == Some("temp_celsius"))
            .count(),
        1
    );
}

/// Sends raw bytes as the Export message and returns the gRPC status.
async fn common_raw_export(addr: SocketAddr, bytes: &'static [u8]) -> tonic::Status {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    );
    grpc.unary::<bytes::Bytes, opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse, _>(
        tonic::Request::new(bytes::Bytes::from_static(bytes)),
        path,
        common::RawCodec,
    )
    .await
    .expect_err("malformed request refused")
}
