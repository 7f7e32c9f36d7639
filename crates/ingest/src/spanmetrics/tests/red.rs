//! Span metrics: names and labels as the spanmetrics connector exports them,
//! bucket placement, exemplars, cumulative values, the cardinality bound, and
//! counting only what the store accepted.

use super::*;
use crate::spanmetrics::{metadata, SpanMetrics, SpanMetricsOptions};
use model::metrics::TimeSeries;
use model::{Span, SpanKind};
use std::time::Instant;

#[test]
fn span_metrics_are_named_and_labelled_as_the_spanmetrics_connector_exports_them() {
    let metrics = SpanMetrics::new(SpanMetricsOptions::default());
    let now = Instant::now();
    metrics.observe(
        &[
            span("shop", "GET /cart", SpanKind::Server, (1, 1, None), 3.0),
            failed(span(
                "shop",
                "GET /cart",
                SpanKind::Server,
                (2, 2, None),
                60.0,
            )),
            span("shop", "charge", SpanKind::Client, (1, 3, Some(1)), 1.0),
        ],
        now,
    );
    let batch = metrics.collect(1_000, now);
    let red: Vec<String> = names(&batch)
        .into_iter()
        .filter(|n| n.starts_with("traces_span"))
        .collect();
    assert_eq!(
        red,
        [
            "traces_span_metrics_calls_total",
            "traces_span_metrics_duration_milliseconds_bucket",
            "traces_span_metrics_duration_milliseconds_count",
            "traces_span_metrics_duration_milliseconds_sum",
        ]
    );
    let server =
        r#"job="shop", service_name="shop", span_kind="SPAN_KIND_SERVER", span_name="GET /cart""#;
    assert_eq!(
        value(
            &batch,
            &format!(
                r#"traces_span_metrics_calls_total{{{server}, status_code="STATUS_CODE_UNSET"}}"#
            )
        ),
        1.0
    );
    assert_eq!(
        value(
            &batch,
            &format!(
                r#"traces_span_metrics_calls_total{{{server}, status_code="STATUS_CODE_ERROR"}}"#
            )
        ),
        1.0
    );
    let client = r#"traces_span_metrics_calls_total{job="shop", service_name="shop", span_kind="SPAN_KIND_CLIENT", span_name="charge", status_code="STATUS_CODE_UNSET"}"#;
    assert_eq!(value(&batch, client), 1.0);
    assert!(batch
        .series
        .iter()
        .all(|s| s.samples[0].timestamp_ms == 1_000));
    assert_eq!(batch.metadata, metadata());
}

#[test]
fn durations_land_in_the_default_millisecond_buckets_with_a_trace_exemplar() {
    let metrics = SpanMetrics::new(SpanMetricsOptions::default());
    let now = Instant::now();
    let durations = [0.5, 2.0, 2.5, 10.0, 49.0, 999.0, 15_000.0, 20_000.0];
    let spans: Vec<Span> = durations
        .iter()
        .enumerate()
        .map(|(i, &ms)| span("api", "op", SpanKind::Internal, (9, i as u8 + 1, None), ms))
        .collect();
    metrics.observe(&spans, now);
    let batch = metrics.collect((T0_NS / 1_000_000) as i64 + 60_000, now);
    let rest = r#"service_name="api", span_kind="SPAN_KIND_INTERNAL", span_name="op", status_code="STATUS_CODE_UNSET""#;
    let labels = format!(r#"job="api", {rest}"#);
    let bucket_series = |le: &str| {
        format!(
            r#"traces_span_metrics_duration_milliseconds_bucket{{job="api", le="{le}", {rest}}}"#
        )
    };
    let bucket = |le: &str| value(&batch, &bucket_series(le));
    let expected = [
        ("2", 2.0),
        ("4", 3.0),
        ("6", 3.0),
        ("8", 3.0),
        ("10", 4.0),
        ("50", 5.0),
        ("100", 5.0),
        ("1000", 6.0),
        ("1400", 6.0),
        ("15000", 7.0),
        ("+Inf", 8.0),
    ];
    for (le, count) in expected {
        assert_eq!(bucket(le), count, "le={le}");
    }
    let count = format!("traces_span_metrics_duration_milliseconds_count{{{labels}}}");
    let sum = format!("traces_span_metrics_duration_milliseconds_sum{{{labels}}}");
    assert_eq!(value(&batch, &count), 8.0);
    assert!((value(&batch, &sum) - durations.iter().sum::<f64>()).abs() < 1e-6);

    let le_50 = find(&batch, &bucket_series("50")).expect("le=50 bucket");
    assert_eq!(le_50.exemplars.len(), 1);
    let exemplar = &le_50.exemplars[0];
    assert_eq!(exemplar.value, 49.0);
    assert_eq!(exemplar.labels.get("trace_id"), Some(&*"09".repeat(16)));
    assert_eq!(exemplar.labels.get("span_id"), Some(&*"05".repeat(8)));
    assert_eq!(exemplar.timestamp_ms, (T0_NS / 1_000_000) as i64 + 49);
}

#[test]
fn values_are_cumulative_and_timestamps_only_move_forward() {
    let metrics = SpanMetrics::new(SpanMetricsOptions::default());
    let now = Instant::now();
    let one = || span("a", "x", SpanKind::Server, (1, 1, None), 1.0);
    metrics.observe(&[one()], now);
    let first = metrics.collect(10_000, now);
    metrics.observe(&[one(), one()], now);
    // A clock that stepped back still yields a later timestamp.
    let second = metrics.collect(9_000, now);
    let calls = r#"traces_span_metrics_calls_total{job="a", service_name="a", span_kind="SPAN_KIND_SERVER", span_name="x", status_code="STATUS_CODE_UNSET"}"#;
    assert_eq!(value(&first, calls), 1.0);
    assert_eq!(value(&second, calls), 3.0);
    assert_eq!(
        find(&second, calls).map(|s| s.samples[0].timestamp_ms),
        Some(10_001)
    );
}

#[test]
fn label_combinations_past_the_limit_go_to_one_overflow_series() {
    let options = SpanMetricsOptions {
        max_series: 3,
        ..SpanMetricsOptions::default()
    };
    let metrics = SpanMetrics::new(options);
    let now = Instant::now();
    let spans: Vec<Span> = (0..1000)
        .map(|i| {
            span(
                "svc",
                &format!("GET /user/{i}"),
                SpanKind::Server,
                (1, 1, None),
                1.0,
            )
        })
        .collect();
    metrics.observe(&spans, now);
    let batch = metrics.collect(1, now);
    let calls: Vec<&TimeSeries> = batch
        .series
        .iter()
        .filter(|s| s.labels.metric_name() == Some("traces_span_metrics_calls_total"))
        .collect();
    assert_eq!(calls.len(), 4, "3 series plus the overflow series");
    assert_eq!(
        value(
            &batch,
            r#"traces_span_metrics_calls_total{otel_metric_overflow="true"}"#
        ),
        997.0
    );
    assert_eq!(
        value(
            &batch,
            r#"traces_span_metrics_duration_milliseconds_bucket{le="+Inf", otel_metric_overflow="true"}"#
        ),
        997.0
    );
    let stats = metrics.stats();
    assert_eq!(
        (stats.series, stats.overflowed_spans, stats.spans),
        (3, 997, 1000)
    );
}

#[test]
fn spans_prepared_for_a_refused_write_are_not_counted() {
    let metrics = SpanMetrics::new(SpanMetricsOptions::default());
    let now = Instant::now();
    let spans = [span("a", "x", SpanKind::Server, (1, 1, None), 1.0)];
    let _refused = metrics.prepare(&spans);
    assert!(metrics.collect(1, now).series.is_empty());
    metrics.observe(&spans, now);
    let batch = metrics.collect(2, now);
    let calls = r#"traces_span_metrics_calls_total{job="a", service_name="a", span_kind="SPAN_KIND_SERVER", span_name="x", status_code="STATUS_CODE_UNSET"}"#;
    assert_eq!(value(&batch, calls), 1.0);
}
