//! Unit tests of `translate.rs`: every metric type, names, labels, delta
//! accumulation, staleness, exemplars and rejections.

use super::*;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope};
use opentelemetry_proto::tonic::metrics::v1::{
    exponential_histogram_data_point::Buckets, summary_data_point::ValueAtQuantile,
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, ResourceMetrics,
    ScopeMetrics, Sum, Summary,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

const T: u64 = 1_700_000_000_000_000_000;
const T_MS: i64 = 1_700_000_000_000;

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn request(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", "cart"),
                    kv("service.instance.id", "i1"),
                    kv("host.name", "h1"),
                ],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "lib".into(),
                    version: "2".into(),
                    ..Default::default()
                }),
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

fn metric(name: &str, unit: &str, data: Data) -> Metric {
    Metric {
        name: name.into(),
        description: format!("{name} help"),
        unit: unit.into(),
        metadata: Vec::new(),
        data: Some(data),
    }
}

fn number(time: u64, value: f64, attrs: &[(&str, &str)]) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs.iter().map(|(k, v)| kv(k, v)).collect(),
        time_unix_nano: time,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

fn sum(points: Vec<NumberDataPoint>, temporality: AggregationTemporality, monotonic: bool) -> Data {
    Data::Sum(Sum {
        data_points: points,
        aggregation_temporality: temporality as i32,
        is_monotonic: monotonic,
    })
}

/// `series{labels} -> [(t, v)]`, printed; scope/identity labels elided for brevity.
fn run(state: &DeltaState, metrics: Vec<Metric>) -> (Translated, Vec<String>) {
    let t = translate(&request(metrics), &Limits::default(), state);
    let mut lines: Vec<String> = t
        .batch
        .series
        .iter()
        .map(|s| {
            let mut labels = s.labels.clone();
            for name in ["instance", "job", "otel_scope_name", "otel_scope_version"] {
                labels.set(name, "");
            }
            let samples: Vec<String> = s
                .samples
                .iter()
                .map(|x| format!("{}@{}", x.value, x.timestamp_ms - T_MS))
                .collect();
            format!("{labels} {}", samples.join(" "))
        })
        .collect();
    lines.sort();
    (t, lines)
}

#[test]
fn gauges_and_counters_get_names_labels_and_metadata() {
    let state = DeltaState::default();
    let (t, lines) = run(
        &state,
        vec![
            metric(
                "cpu.utilization",
                "1",
                Data::Gauge(Gauge {
                    data_points: vec![number(T, 0.5, &[("cpu", "0")])],
                }),
            ),
            metric(
                "http.requests",
                "{request}",
                sum(
                    vec![number(T, 3.0, &[("http.route", "/a")])],
                    AggregationTemporality::Cumulative,
                    true,
                ),
            ),
            metric(
                "queue.size",
                "By",
                sum(
                    vec![number(T, -2.0, &[])],
                    AggregationTemporality::Cumulative,
                    false,
                ),
            ),
            metric(
                "pool.usage",
                "1",
                sum(
                    vec![number(T, 0.5, &[])],
                    AggregationTemporality::Cumulative,
                    false,
                ),
            ),
        ],
    );
    assert_eq!(
        lines,
        [
            r#"cpu_utilization_ratio{cpu="0"} 0.5@0"#,
            r#"http_requests_total{http_route="/a"} 3@0"#,
            "pool_usage 0.5@0",
            "queue_size_bytes -2@0",
            r#"target_info{host_name="h1"} 1@0"#,
        ]
    );
    let labels = &t.batch.series[0].labels;
    assert_eq!(labels.get("job"), Some("cart"));
    assert_eq!(labels.get("instance"), Some("i1"));
    assert_eq!(labels.get("otel_scope_name"), Some("lib"));
    assert_eq!(labels.get("otel_scope_version"), Some("2"));
    let meta: Vec<(String, MetricType, String)> = t
        .batch
        .metadata
        .iter()
        .map(|m| (m.metric_family_name.clone(), m.metric_type, m.unit.clone()))
        .collect();
    assert_eq!(
        meta,
        [
            (
                "cpu_utilization_ratio".into(),
                MetricType::Gauge,
                String::new()
            ),
            (
                "http_requests_total".into(),
                MetricType::Counter,
                String::new()
            ),
            ("pool_usage".into(), MetricType::Gauge, String::new()),
            ("queue_size_bytes".into(), MetricType::Gauge, "bytes".into()),
            ("target_info".into(), MetricType::Gauge, String::new()),
        ]
    );
    assert_eq!(t.batch.metadata[1].help, "http.requests help");
    assert_eq!((t.points, t.rejected_points), (4, 0));
}

#[test]
fn delta_sums_accumulate_across_requests_once_committed() {
    let state = DeltaState::default();
    let counter = |points| {
        vec![metric(
            "jobs",
            "",
            sum(points, AggregationTemporality::Delta, true),
        )]
    };
    let (t, lines) = run(
        &state,
        counter(vec![
            number(T, 2.0, &[]),
            number(T + 1_000_000_000, 3.0, &[]),
        ]),
    );
    assert_eq!(lines[0], "jobs_total 2@0 5@1000");
    state.commit(t.deltas);
    let (t, lines) = run(&state, counter(vec![number(T + 2_000_000_000, 1.0, &[])]));
    assert_eq!(lines[0], "jobs_total 6@2000");
    state.commit(t.deltas);
    // A resent point is refused, not counted twice.
    let (t, _) = run(&state, counter(vec![number(T + 2_000_000_000, 1.0, &[])]));
    assert_eq!(t.rejected_points, 1);
    assert!(t.reasons[0].contains("already counted"), "{:?}", t.reasons);
}

#[test]
fn histograms_become_cumulative_buckets_with_exemplars() {
    let state = DeltaState::default();
    let point = HistogramDataPoint {
        attributes: vec![kv("route", "/a")],
        time_unix_nano: T,
        count: 6,
        sum: Some(12.5),
        bucket_counts: vec![1, 2, 3],
        explicit_bounds: vec![0.5, 1.0],
        exemplars: vec![OtlpExemplar {
            time_unix_nano: T,
            trace_id: vec![0xab; 16],
            span_id: vec![0xcd; 8],
            value: Some(exemplar::Value::AsDouble(0.75)),
            ..Default::default()
        }],
        ..Default::default()
    };
    let (t, lines) = run(
        &state,
        vec![metric(
            "http.server.duration",
            "s",
            Data::Histogram(Histogram {
                data_points: vec![point],
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
            }),
        )],
    );
    assert_eq!(
        lines,
        [
            r#"http_server_duration_seconds_bucket{le="+Inf", route="/a"} 6@0"#,
            r#"http_server_duration_seconds_bucket{le="0.5", route="/a"} 1@0"#,
            r#"http_server_duration_seconds_bucket{le="1", route="/a"} 3@0"#,
            r#"http_server_duration_seconds_count{route="/a"} 6@0"#,
            r#"http_server_duration_seconds_sum{route="/a"} 12.5@0"#,
            r#"target_info{host_name="h1"} 1@0"#,
        ]
    );
    let with_exemplar: Vec<&TimeSeries> = t
        .batch
        .series
        .iter()
        .filter(|s| !s.exemplars.is_empty())
        .collect();
    assert_eq!(with_exemplar.len(), 1);
    assert_eq!(with_exemplar[0].labels.get("le"), Some("1"));
    let e = &with_exemplar[0].exemplars[0];
    assert_eq!(
        e.labels.get("trace_id"),
        Some("abababababababababababababababab")
    );
    assert_eq!(e.labels.get("span_id"), Some("cdcdcdcdcdcdcdcd"));
    assert_eq!((e.value, e.timestamp_ms), (0.75, T_MS));
}

#[test]
fn delta_histograms_accumulate_per_bucket() {
    let state = DeltaState::default();
    let hist = |time, counts: Vec<u64>, sum| {
        vec![metric(
            "latency",
            "ms",
            Data::Histogram(Histogram {
                data_points: vec![HistogramDataPoint {
                    time_unix_nano: time,
                    count: counts.iter().sum(),
                    sum: Some(sum),
                    bucket_counts: counts,
                    explicit_bounds: vec![10.0],
                    ..Default::default()
                }],
                aggregation_temporality: AggregationTemporality::Delta as i32,
            }),
        )]
    };
    let (t, _) = run(&state, hist(T, vec![1, 1], 15.0));
    state.commit(t.deltas);
    let (_, lines) = run(&state, hist(T + 1_000_000, vec![2, 0], 4.0));
    assert_eq!(
        lines,
        [
            r#"latency_milliseconds_bucket{le="+Inf"} 4@1"#,
            r#"latency_milliseconds_bucket{le="10"} 3@1"#,
            "latency_milliseconds_count 4@1",
            "latency_milliseconds_sum 19@1",
            r#"target_info{host_name="h1"} 1@1"#,
        ]
    );
}

#[test]
fn exponential_histograms_and_summaries() {
    let state = DeltaState::default();
    let (_, lines) = run(
        &state,
        vec![
            metric(
                "size",
                "By",
                Data::ExponentialHistogram(ExponentialHistogram {
                    data_points: vec![ExponentialHistogramDataPoint {
                        time_unix_nano: T,
                        count: 4,
                        sum: Some(9.0),
                        scale: 0,
                        zero_count: 1,
                        positive: Some(Buckets {
                            offset: 0,
                            bucket_counts: vec![1, 2],
                        }),
                        ..Default::default()
                    }],
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                }),
            ),
            metric(
                "rpc.latency",
                "s",
                Data::Summary(Summary {
                    data_points: vec![SummaryDataPoint {
                        time_unix_nano: T,
                        count: 10,
                        sum: 2.5,
                        quantile_values: vec![
                            ValueAtQuantile {
                                quantile: 0.5,
                                value: 0.2,
                            },
                            ValueAtQuantile {
                                quantile: 0.99,
                                value: 0.9,
                            },
                        ],
                        ..Default::default()
                    }],
                }),
            ),
        ],
    );
    assert_eq!(
        lines,
        [
            "rpc_latency_seconds_count 10@0",
            "rpc_latency_seconds_sum 2.5@0",
            r#"rpc_latency_seconds{quantile="0.5"} 0.2@0"#,
            r#"rpc_latency_seconds{quantile="0.99"} 0.9@0"#,
            r#"size_bytes_bucket{le="+Inf"} 4@0"#,
            r#"size_bytes_bucket{le="0"} 1@0"#,
            r#"size_bytes_bucket{le="2"} 2@0"#,
            r#"size_bytes_bucket{le="4"} 4@0"#,
            "size_bytes_count 4@0",
            "size_bytes_sum 9@0",
            r#"target_info{host_name="h1"} 1@0"#,
        ]
    );
}

#[test]
fn no_recorded_value_writes_staleness_markers() {
    let state = DeltaState::default();
    let mut point = number(T, 1.0, &[]);
    point.flags = 1;
    point.value = None;
    let (t, _) = run(
        &state,
        vec![metric(
            "g",
            "",
            Data::Gauge(Gauge {
                data_points: vec![point],
            }),
        )],
    );
    let g = t
        .batch
        .series
        .iter()
        .find(|s| s.labels.metric_name() == Some("g"))
        .expect("g");
    assert!(model::metrics::is_stale_nan(g.samples[0].value));
}

#[test]
fn invalid_points_are_rejected_and_named() {
    let state = DeltaState::default();
    let limits = Limits {
        max_attribute_value_bytes: 8,
        ..Limits::default()
    };
    let mut no_value = number(T, 1.0, &[]);
    no_value.value = None;
    let bad_histogram = HistogramDataPoint {
        time_unix_nano: T,
        count: 1,
        bucket_counts: vec![1],
        explicit_bounds: vec![1.0, 2.0],
        ..Default::default()
    };
    let request = request(vec![
        metric(
            "g",
            "",
            Data::Gauge(Gauge {
                data_points: vec![
                    number(0, 1.0, &[]),
                    no_value,
                    number(T, 1.0, &[("big", "0123456789")]),
                    number(T, 1.0, &[]),
                ],
            }),
        ),
        metric(
            "s",
            "",
            sum(
                vec![number(T, 1.0, &[])],
                AggregationTemporality::Unspecified,
                true,
            ),
        ),
        metric(
            "h",
            "",
            Data::Histogram(Histogram {
                data_points: vec![bad_histogram],
                aggregation_temporality: 2,
            }),
        ),
    ]);
    let t = translate(&request, &limits, &state);
    assert_eq!((t.points, t.rejected_points), (6, 5));
    let reasons = t.reasons.join("\n");
    for expected in [
        "a data point of g has no time_unix_nano",
        "a data point of g has no value",
        "a data point of g has label big of 10 bytes, over the limit of 8",
        "metric s has AGGREGATION_TEMPORALITY_UNSPECIFIED",
        "a data point of h has 1 bucket counts for 2 explicit bounds (needs 3)",
    ] {
        assert!(reasons.contains(expected), "{expected} not in\n{reasons}");
    }
}
