//! Per-(service, operation) statistics of one trace and the trace summary a
//! trace page shows in its header (start, duration, services, depth, spans, errors).

use super::SpanTree;
use model::{attr, AttrValue, Span, StatusCode};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What the header of a trace page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceSummary {
    /// Earliest span start, Unix ns (0 for an empty trace).
    pub start_unix_nano: u64,
    /// Latest span end minus earliest start, ns.
    pub duration_nanos: u64,
    /// Distinct service names.
    pub services: usize,
    /// Levels of the span tree (a lone root is 1).
    pub depth: usize,
    /// Number of spans.
    pub total_spans: usize,
    /// Spans with error status (or an `error=true` attribute).
    pub errors: usize,
    /// The root span's service and name ("" when the trace has no span).
    pub root_service: String,
    /// The root span's operation.
    pub root_operation: String,
}

/// Statistics of one (service, operation) pair in a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperationStats {
    /// Service name.
    pub service: String,
    /// Operation (span name).
    pub operation: String,
    /// Spans of this pair.
    pub count: usize,
    /// Sum of their durations, ns.
    pub total_nanos: u64,
    /// Sum of their self times, ns.
    pub self_total_nanos: u64,
    /// Shortest duration, ns.
    pub min_nanos: u64,
    /// Longest duration, ns.
    pub max_nanos: u64,
    /// Mean duration, ns (rounded down).
    pub avg_nanos: u64,
    /// Spans of this pair with errors.
    pub errors: usize,
}

/// Whether a span failed: error status, or an `error` attribute that is `true`.
pub fn is_error(span: &Span) -> bool {
    span.status.code == StatusCode::Error
        || matches!(attr(&span.attributes, "error"), Some(AttrValue::Bool(true)))
        || matches!(attr(&span.attributes, "error"), Some(AttrValue::Str(s)) if s == "true")
}

/// The header numbers of a trace.
pub fn summarize(tree: &SpanTree<'_>) -> TraceSummary {
    let spans = tree.spans;
    let start = spans.iter().map(|s| s.start_unix_nano).min().unwrap_or(0);
    let end = spans.iter().map(|s| s.end_unix_nano).max().unwrap_or(0);
    let services: BTreeSet<&str> = spans.iter().map(|s| s.service()).collect();
    let root = tree.roots.first().map(|&i| &spans[i]);
    TraceSummary {
        start_unix_nano: start,
        duration_nanos: end.saturating_sub(start),
        services: services.len(),
        depth: tree.depths().into_iter().max().unwrap_or(0),
        total_spans: spans.len(),
        errors: spans.iter().filter(|s| is_error(s)).count(),
        root_service: root.map(|s| s.service().to_string()).unwrap_or_default(),
        root_operation: root.map(|s| s.name.clone()).unwrap_or_default(),
    }
}

/// Statistics per (service, operation), sorted by self time, largest first.
/// `self_times` is [`SpanTree::self_times`] of the same tree.
pub fn operation_stats(tree: &SpanTree<'_>, self_times: &[u64]) -> Vec<OperationStats> {
    let mut by_key: BTreeMap<(&str, &str), OperationStats> = BTreeMap::new();
    for (span, &self_nanos) in tree.spans.iter().zip(self_times) {
        let duration = span.duration_nanos();
        let entry = by_key
            .entry((span.service(), span.name.as_str()))
            .or_insert_with(|| OperationStats {
                service: span.service().to_string(),
                operation: span.name.clone(),
                count: 0,
                total_nanos: 0,
                self_total_nanos: 0,
                min_nanos: u64::MAX,
                max_nanos: 0,
                avg_nanos: 0,
                errors: 0,
            });
        entry.count += 1;
        entry.total_nanos += duration;
        entry.self_total_nanos += self_nanos;
        entry.min_nanos = entry.min_nanos.min(duration);
        entry.max_nanos = entry.max_nanos.max(duration);
        entry.errors += usize::from(is_error(span));
    }
    let mut rows: Vec<OperationStats> = by_key
        .into_values()
        .map(|mut row| {
            row.avg_nanos = row.total_nanos / row.count as u64;
            row
        })
        .collect();
    rows.sort_by(|a, b| {
        b.self_total_nanos
            .cmp(&a.self_total_nanos)
            .then_with(|| (&a.service, &a.operation).cmp(&(&b.service, &b.operation)))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::super::test_support::span;
    use super::*;

    fn trace() -> Vec<Span> {
        let mut err = span(4, 2, "db", "query", 30, 60);
        err.status.code = StatusCode::Error;
        vec![
            span(1, 0, "front", "GET /", 0, 100),
            span(2, 1, "api", "list", 10, 90),
            span(3, 2, "db", "query", 15, 25),
            err,
        ]
    }

    #[test]
    fn summary_counts_services_depth_spans_and_errors() {
        let spans = trace();
        let summary = summarize(&SpanTree::build(&spans));
        assert_eq!(
            summary,
            TraceSummary {
                start_unix_nano: 0,
                duration_nanos: 100,
                services: 3,
                depth: 3,
                total_spans: 4,
                errors: 1,
                root_service: "front".into(),
                root_operation: "GET /".into(),
            }
        );
    }

    #[test]
    fn stats_group_by_service_and_operation() {
        let spans = trace();
        let tree = SpanTree::build(&spans);
        let rows = operation_stats(&tree, &tree.self_times());
        let db = rows.iter().find(|r| r.service == "db").unwrap();
        assert_eq!(
            (
                db.count,
                db.total_nanos,
                db.self_total_nanos,
                db.min_nanos,
                db.max_nanos
            ),
            (2, 40, 40, 10, 30)
        );
        assert_eq!((db.avg_nanos, db.errors), (20, 1));
        let api = rows.iter().find(|r| r.service == "api").unwrap();
        assert_eq!(api.self_total_nanos, 80 - 40);
        // Sorted by self time: api 40, db 40 (ties by name), front 20.
        assert_eq!(rows[0].service, "api");
        assert_eq!(rows[2].service, "front");
    }

    #[test]
    fn empty_trace_summarizes_to_zeroes() {
        let summary = summarize(&SpanTree::build(&[]));
        assert_eq!(
            (summary.total_spans, summary.depth, summary.duration_nanos),
            (0, 0, 0)
        );
    }
}
