//! Unit tests of the span metrics ([`red`]) and the service graph
//! ([`graph`]), with the spans and lookups they share.

mod graph;
mod red;

use super::*;
use model::metrics::TimeSeries;
use model::{KeyValue, Resource, Scope, SpanId, SpanKind, Status, StatusCode, TraceId};
use std::sync::Arc;

pub(super) const T0_NS: u64 = 1_700_000_000_000_000_000;

pub(super) fn span(
    service: &str,
    name: &str,
    kind: SpanKind,
    ids: (u8, u8, Option<u8>),
    ms: f64,
) -> Span {
    let (trace, id, parent) = ids;
    Span {
        trace_id: TraceId([trace; 16]),
        span_id: SpanId([id; 8]),
        parent_span_id: parent.map(|p| SpanId([p; 8])),
        trace_state: String::new(),
        flags: 0,
        name: name.to_string(),
        kind,
        start_unix_nano: T0_NS,
        end_unix_nano: T0_NS + (ms * 1e6) as u64,
        attributes: Vec::new(),
        dropped_attributes_count: 0,
        events: Vec::new(),
        dropped_events_count: 0,
        links: Vec::new(),
        dropped_links_count: 0,
        status: Status::default(),
        resource: Arc::new(Resource {
            service_name: service.to_string(),
            attributes: vec![KeyValue::str("service.name", service)],
            dropped_attributes_count: 0,
        }),
        scope: Arc::new(Scope::default()),
    }
}

pub(super) fn failed(mut span: Span) -> Span {
    span.status = Status {
        code: StatusCode::Error,
        message: "boom".into(),
    };
    span
}

pub(super) fn with_attrs(mut span: Span, attrs: &[(&str, &str)]) -> Span {
    span.attributes = attrs.iter().map(|(k, v)| KeyValue::str(k, v)).collect();
    span
}

pub(super) fn find<'a>(batch: &'a SeriesBatch, series: &str) -> Option<&'a TimeSeries> {
    batch.series.iter().find(|s| s.labels.to_string() == series)
}

pub(super) fn value(batch: &SeriesBatch, series: &str) -> f64 {
    find(batch, series)
        .unwrap_or_else(|| {
            let all: Vec<String> = batch.series.iter().map(|s| s.labels.to_string()).collect();
            panic!("no series {series} among:\n{}", all.join("\n"))
        })
        .samples[0]
        .value
}

pub(super) fn names(batch: &SeriesBatch) -> Vec<String> {
    let mut names: Vec<String> = batch
        .series
        .iter()
        .filter_map(|s| s.labels.metric_name().map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    names
}
