//! Rate, errors and duration per service, span name, span kind and status,
//! named as the OpenTelemetry Collector's spanmetrics connector names them
//! once exported to Prometheus: `traces_span_metrics_calls_total` and the
//! histogram `traces_span_metrics_duration_milliseconds` (default buckets),
//! with labels `service_name`, `span_name`, `span_kind`
//! (`SPAN_KIND_SERVER`, …), `status_code` (`STATUS_CODE_ERROR`, …) and `job`
//! (the service, as the Collector's Prometheus exporter adds it), and a
//! `trace_id`/`span_id` exemplar on the bucket each span fell in.
//!
//! Resolving a span to its series ([`Red::resolve`]) and recording it
//! ([`Red::record`]) are separate steps so that a span is counted only once
//! its store write was accepted.

use super::histogram::{
    plain, series_labels, ExemplarData, Histogram, Snapshot, DURATION_BUCKETS_MS,
};
use super::table::Table;
use model::metrics::{Label, TimeSeries};
use model::{Span, SpanKind, StatusCode};
use std::sync::Arc;

/// Counter of spans.
pub const CALLS_TOTAL: &str = "traces_span_metrics_calls_total";
/// Histogram family of span durations, in milliseconds.
pub const DURATION_MS: &str = "traces_span_metrics_duration_milliseconds";
/// Label marking the one series that takes spans past the cardinality limit.
pub const OVERFLOW_LABEL: &str = "otel_metric_overflow";

/// `span_kind` as the connector writes it.
pub fn kind_label(kind: SpanKind) -> &'static str {
    match kind {
        SpanKind::Unspecified => "SPAN_KIND_UNSPECIFIED",
        SpanKind::Internal => "SPAN_KIND_INTERNAL",
        SpanKind::Server => "SPAN_KIND_SERVER",
        SpanKind::Client => "SPAN_KIND_CLIENT",
        SpanKind::Producer => "SPAN_KIND_PRODUCER",
        SpanKind::Consumer => "SPAN_KIND_CONSUMER",
    }
}

/// `status_code` as the connector writes it.
pub fn status_label(code: StatusCode) -> &'static str {
    match code {
        StatusCode::Unset => "STATUS_CODE_UNSET",
        StatusCode::Ok => "STATUS_CODE_OK",
        StatusCode::Error => "STATUS_CODE_ERROR",
    }
}

struct Series {
    /// `None` for the overflow series.
    key: Option<Arc<Key>>,
    calls: u64,
    duration: Histogram,
}

/// What tells one span-metrics series from another.
pub struct Key {
    service: Box<str>,
    span_name: Box<str>,
    kind: SpanKind,
    status: StatusCode,
}

impl Series {
    fn new(key: Option<Arc<Key>>) -> Self {
        Self {
            key,
            calls: 0,
            duration: Histogram::new(&DURATION_BUCKETS_MS),
        }
    }
}

/// The labels of a series key (without `__name__`).
fn key_labels(key: Option<&Key>) -> Vec<Label> {
    let label = |name: &str, value: &str| Label {
        name: name.to_string(),
        value: value.to_string(),
    };
    match key {
        Some(key) => vec![
            label("job", &key.service),
            label("service_name", &key.service),
            label("span_kind", kind_label(key.kind)),
            label("span_name", &key.span_name),
            label("status_code", status_label(key.status)),
        ],
        None => vec![label(OVERFLOW_LABEL, "true")],
    }
}

/// One span, resolved to its series, waiting to be recorded.
#[derive(Debug, Clone, Copy)]
pub struct Observation {
    series: u32,
    duration_ms: f64,
    exemplar: ExemplarData,
}

/// The span-metrics series.
pub struct Red {
    table: Table<Series>,
}

impl Red {
    /// Up to `max_series` label combinations holding `max_key_bytes` of names.
    pub fn new(max_series: usize, max_key_bytes: usize) -> Self {
        Self {
            table: Table::new(max_series, max_key_bytes),
        }
    }

    /// Finds (or creates, or overflows into) the series of `span`. Creating
    /// one costs an allocation; finding one does not.
    pub fn resolve(&mut self, span: &Span) -> Observation {
        let service = span.service();
        let name = span.name.as_str();
        let (kind, status) = (span.kind, span.status.code);
        let hash = self.table.hash((service, name, kind as u8, status as u8));
        let series = self.table.find_or_insert(
            hash,
            |s| {
                s.key.as_ref().is_some_and(|k| {
                    k.kind == kind
                        && k.status == status
                        && &*k.span_name == name
                        && &*k.service == service
                })
            },
            service.len() + name.len(),
            || {
                Series::new(Some(Arc::new(Key {
                    service: service.into(),
                    span_name: name.into(),
                    kind,
                    status,
                })))
            },
            || Series::new(None),
        );
        let duration_ms = span.duration_nanos() as f64 / 1e6;
        Observation {
            series,
            duration_ms,
            exemplar: ExemplarData {
                trace_id: span.trace_id,
                span_id: Some(span.span_id),
                value: duration_ms,
                timestamp_ms: i64::try_from(span.end_unix_nano / 1_000_000).unwrap_or(i64::MAX),
            },
        }
    }

    /// Counts a resolved span.
    pub fn record(&mut self, observation: &Observation) {
        if let Some(series) = self.table.get_mut(observation.series) {
            series.calls += 1;
            series.duration.observe(
                &DURATION_BUCKETS_MS,
                observation.duration_ms,
                Some(observation.exemplar),
            );
        }
    }

    /// The values of every series with at least one span, at
    /// `timestamp_ms` (cheap; see [`RedSnapshot::write`]).
    pub fn snapshot(&mut self, timestamp_ms: i64) -> RedSnapshot {
        RedSnapshot(
            self.table
                .entries_mut()
                // Calls 0: resolved for a write the store refused, nothing to say yet.
                .filter(|series| series.calls > 0)
                .map(|series| {
                    (
                        series.key.clone(),
                        series.calls,
                        series.duration.snapshot(timestamp_ms),
                    )
                })
                .collect(),
        )
    }

    /// Label combinations held (without the overflow series).
    pub fn series(&self) -> usize {
        self.table.series()
    }

    /// Spans sent to the overflow series since start.
    pub fn overflowed(&self) -> u64 {
        self.table.overflowed()
    }
}

/// Span-metrics values at one flush, detached from the live table.
pub struct RedSnapshot(Vec<(Option<Arc<Key>>, u64, Snapshot)>);

impl RedSnapshot {
    /// Appends the series (calls, duration buckets, sum, count) at `timestamp_ms`.
    pub fn write(&self, timestamp_ms: i64, out: &mut Vec<TimeSeries>) {
        for (key, calls, duration) in &self.0 {
            let labels = key_labels(key.as_deref());
            out.push(plain(
                series_labels(CALLS_TOTAL, &labels, None),
                timestamp_ms,
                *calls as f64,
            ));
            duration.write(
                DURATION_MS,
                &DURATION_BUCKETS_MS,
                &labels,
                timestamp_ms,
                out,
            );
        }
    }
}
