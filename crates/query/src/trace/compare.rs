//! Comparison of two traces (typically a fast and a slow request of the same
//! endpoint): per (service, operation), how span counts, total and self time changed.

use super::stats::{operation_stats, OperationStats};
use super::{summarize, SpanTree, TraceSummary};
use model::Span;
use serde::Serialize;
use std::collections::BTreeMap;

/// How one (service, operation) pair differs between trace A and trace B.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperationDelta {
    /// Service name.
    pub service: String,
    /// Operation (span name).
    pub operation: String,
    /// Spans in A.
    pub count_a: usize,
    /// Spans in B.
    pub count_b: usize,
    /// Total duration in A, ns.
    pub total_nanos_a: u64,
    /// Total duration in B, ns.
    pub total_nanos_b: u64,
    /// Self time in A, ns.
    pub self_nanos_a: u64,
    /// Self time in B, ns.
    pub self_nanos_b: u64,
}

impl OperationDelta {
    /// `count_b - count_a`.
    pub fn count_delta(&self) -> i64 {
        self.count_b as i64 - self.count_a as i64
    }
    /// `total_nanos_b - total_nanos_a`.
    pub fn total_delta_nanos(&self) -> i64 {
        self.total_nanos_b as i64 - self.total_nanos_a as i64
    }
    /// `self_nanos_b - self_nanos_a`.
    pub fn self_delta_nanos(&self) -> i64 {
        self.self_nanos_b as i64 - self.self_nanos_a as i64
    }
}

/// The comparison of two traces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceComparison {
    /// Summary of A.
    pub a: TraceSummary,
    /// Summary of B.
    pub b: TraceSummary,
    /// Per pair, sorted by absolute self-time change, largest first.
    pub operations: Vec<OperationDelta>,
}

/// Compares trace `a` with trace `b` (B − A in every delta).
pub fn compare_traces(a: &[Span], b: &[Span]) -> TraceComparison {
    let (tree_a, tree_b) = (SpanTree::build(a), SpanTree::build(b));
    let stats_a = operation_stats(&tree_a, &tree_a.self_times());
    let stats_b = operation_stats(&tree_b, &tree_b.self_times());
    let mut rows: BTreeMap<(String, String), OperationDelta> = BTreeMap::new();
    let mut add = |stats: Vec<OperationStats>, is_a: bool| {
        for s in stats {
            let row = rows
                .entry((s.service.clone(), s.operation.clone()))
                .or_insert_with(|| OperationDelta {
                    service: s.service.clone(),
                    operation: s.operation.clone(),
                    count_a: 0,
                    count_b: 0,
                    total_nanos_a: 0,
                    total_nanos_b: 0,
                    self_nanos_a: 0,
                    self_nanos_b: 0,
                });
            if is_a {
                (row.count_a, row.total_nanos_a, row.self_nanos_a) =
                    (s.count, s.total_nanos, s.self_total_nanos);
            } else {
                (row.count_b, row.total_nanos_b, row.self_nanos_b) =
                    (s.count, s.total_nanos, s.self_total_nanos);
            }
        }
    };
    add(stats_a, true);
    add(stats_b, false);
    let mut operations: Vec<OperationDelta> = rows.into_values().collect();
    operations.sort_by_key(|r| std::cmp::Reverse(r.self_delta_nanos().unsigned_abs()));
    TraceComparison {
        a: summarize(&tree_a),
        b: summarize(&tree_b),
        operations,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::span;
    use super::*;

    #[test]
    fn deltas_cover_pairs_on_either_side() {
        let a = vec![
            span(1, 0, "front", "GET /", 0, 100),
            span(2, 1, "db", "query", 10, 30),
        ];
        let b = vec![
            span(1, 0, "front", "GET /", 0, 300),
            span(2, 1, "db", "query", 10, 30),
            span(3, 1, "db", "query", 40, 240),
            span(4, 1, "cache", "get", 250, 260),
        ];
        let cmp = compare_traces(&a, &b);
        assert_eq!((cmp.a.duration_nanos, cmp.b.duration_nanos), (100, 300));
        let db = &cmp.operations[0];
        assert_eq!((db.service.as_str(), db.count_delta()), ("db", 1));
        assert_eq!(db.total_delta_nanos(), 200);
        let cache = cmp
            .operations
            .iter()
            .find(|r| r.service == "cache")
            .unwrap();
        assert_eq!((cache.count_a, cache.count_b), (0, 1));
        let front = cmp
            .operations
            .iter()
            .find(|r| r.service == "front")
            .unwrap();
        assert_eq!(front.self_delta_nanos(), (300 - 220 - 10) - (100 - 20));
    }
}
