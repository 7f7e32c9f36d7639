//! Analysis of one distributed trace: the span tree, self time per span, the
//! critical path, per-(service, operation) statistics, the trace summary shown
//! in a trace page header, and the comparison of two traces.
//!
//! Input is a trace as the store returns it (`&[model::Span]`, any order).
//! Spans whose parent is missing from the trace (orphans) hang under a virtual
//! root, as jaeger-ui shows them, so no span is ever lost from an analysis.

pub mod clock_skew;
pub mod compare;
pub mod critical_path;
pub mod stats;

pub use clock_skew::{adjust_clock_skew, SpanWarnings, DEFAULT_MAX_ADJUSTMENT_NANOS};
pub use compare::{compare_traces, OperationDelta, TraceComparison};
pub use critical_path::critical_time_per_span;
pub use critical_path::{critical_path, CriticalPathSection};
pub use stats::{is_error, operation_stats, summarize, OperationStats, TraceSummary};

use model::{Span, SpanId};
use std::collections::HashMap;

/// The parent/child structure of a trace, by index into its span slice.
#[derive(Debug, Clone)]
pub struct SpanTree<'a> {
    /// The spans, in the caller's order.
    pub spans: &'a [Span],
    /// Parent index of each span; `None` for roots and orphans (children of the virtual root).
    pub parent: Vec<Option<usize>>,
    /// Children of each span, sorted by start time (then index).
    pub children: Vec<Vec<usize>>,
    /// Children of the virtual root (real roots and orphans), sorted by start time.
    pub roots: Vec<usize>,
}

impl<'a> SpanTree<'a> {
    /// Builds the tree. A span whose parent id is unknown, or which names
    /// itself as parent, becomes a root; parent cycles are broken at the
    /// span found to close them.
    pub fn build(spans: &'a [Span]) -> Self {
        let index: HashMap<SpanId, usize> = spans
            .iter()
            .enumerate()
            .map(|(i, s)| (s.span_id, i))
            .collect();
        let mut parent: Vec<Option<usize>> = spans
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.parent_span_id
                    .and_then(|p| index.get(&p).copied())
                    .filter(|&p| p != i)
            })
            .collect();
        break_cycles(&mut parent);
        let mut children = vec![Vec::new(); spans.len()];
        let mut roots = Vec::new();
        for (i, p) in parent.iter().enumerate() {
            match p {
                Some(p) => children[*p].push(i),
                None => roots.push(i),
            }
        }
        let by_start = |a: &usize, b: &usize| {
            (spans[*a].start_unix_nano, *a).cmp(&(spans[*b].start_unix_nano, *b))
        };
        roots.sort_by(by_start);
        for c in &mut children {
            c.sort_by(by_start);
        }
        Self {
            spans,
            parent,
            children,
            roots,
        }
    }

    /// Span indexes in depth-first pre-order (a timeline's row order).
    pub fn preorder(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.spans.len());
        let mut stack: Vec<usize> = self.roots.iter().rev().copied().collect();
        while let Some(i) = stack.pop() {
            out.push(i);
            stack.extend(self.children[i].iter().rev());
        }
        out
    }

    /// Depth of every span (roots are 1).
    pub fn depths(&self) -> Vec<usize> {
        let mut depth = vec![0; self.spans.len()];
        for i in self.preorder() {
            depth[i] = self.parent[i].map_or(1, |p| depth[p] + 1);
        }
        depth
    }

    /// Self time of every span in ns: its duration minus the union of its
    /// children's intervals clipped to the span's own interval.
    pub fn self_times(&self) -> Vec<u64> {
        (0..self.spans.len()).map(|i| self.self_time(i)).collect()
    }

    fn self_time(&self, i: usize) -> u64 {
        let span = &self.spans[i];
        let (start, end) = (
            span.start_unix_nano,
            span.end_unix_nano.max(span.start_unix_nano),
        );
        let mut covered = 0u64;
        let mut cursor = start;
        // Children are sorted by start, so one sweep merges their intervals.
        for &c in &self.children[i] {
            let child = &self.spans[c];
            let c_start = child.start_unix_nano.clamp(cursor, end);
            let c_end = child.end_unix_nano.clamp(start, end);
            if c_end > c_start {
                covered += c_end - c_start;
                cursor = c_end;
            }
        }
        span.duration_nanos().saturating_sub(covered)
    }
}

/// Cuts parent links that would form a cycle (malformed input), so every walk terminates.
fn break_cycles(parent: &mut [Option<usize>]) {
    // 0 = unvisited, 1 = on the current path, 2 = done.
    let mut state = vec![0u8; parent.len()];
    for start in 0..parent.len() {
        let mut path = Vec::new();
        let mut node = start;
        loop {
            match state[node] {
                2 => break,
                1 => {
                    // `node` closes a cycle: make it a root.
                    parent[node] = None;
                    break;
                }
                _ => {}
            }
            state[node] = 1;
            path.push(node);
            match parent[node] {
                Some(p) => node = p,
                None => break,
            }
        }
        for n in path {
            state[n] = 2;
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Hand-built traces for the unit tests.
    use model::{Resource, Scope, Span, SpanId, SpanKind, Status, TraceId};
    use std::sync::Arc;

    /// A span `id` (parent `parent`, 0 = none) of `service`/`name` over `[start, end]` ns.
    pub(crate) fn span(
        id: u8,
        parent: u8,
        service: &str,
        name: &str,
        start: u64,
        end: u64,
    ) -> Span {
        Span {
            trace_id: TraceId([1; 16]),
            span_id: SpanId([0, 0, 0, 0, 0, 0, 0, id]),
            parent_span_id: (parent != 0).then_some(SpanId([0, 0, 0, 0, 0, 0, 0, parent])),
            trace_state: String::new(),
            flags: 1,
            name: name.to_string(),
            kind: SpanKind::Internal,
            start_unix_nano: start,
            end_unix_nano: end,
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: Vec::new(),
            dropped_events_count: 0,
            links: Vec::new(),
            dropped_links_count: 0,
            status: Status::default(),
            resource: Arc::new(Resource {
                service_name: service.to_string(),
                ..Resource::default()
            }),
            scope: Arc::new(Scope::default()),
        }
    }

    /// The span id `span(id, …)` gets.
    pub(crate) fn id(id: u8) -> SpanId {
        SpanId([0, 0, 0, 0, 0, 0, 0, id])
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::span;
    use super::*;

    #[test]
    fn orphans_hang_under_the_virtual_root_and_children_sort_by_start() {
        let spans = vec![
            span(1, 0, "a", "root", 0, 100),
            span(3, 1, "a", "late", 50, 90),
            span(2, 1, "a", "early", 10, 40),
            span(4, 9, "b", "orphan", 20, 30),
        ];
        let tree = SpanTree::build(&spans);
        assert_eq!(tree.roots, vec![0, 3]);
        assert_eq!(tree.children[0], vec![2, 1]);
        assert_eq!(tree.preorder(), vec![0, 2, 1, 3]);
        assert_eq!(tree.depths(), vec![1, 2, 2, 1]);
    }

    #[test]
    fn self_time_subtracts_the_union_of_overlapping_children() {
        let spans = vec![
            span(1, 0, "a", "root", 0, 100),
            span(2, 1, "a", "x", 10, 50),
            span(3, 1, "a", "y", 30, 70),  // overlaps x: union is 10..70
            span(4, 1, "a", "z", 90, 130), // sticks out: only 90..100 counts
        ];
        let tree = SpanTree::build(&spans);
        assert_eq!(tree.self_times(), vec![100 - 60 - 10, 40, 40, 40]);
    }

    #[test]
    fn parent_cycles_are_broken() {
        let spans = vec![span(1, 2, "a", "x", 0, 10), span(2, 1, "a", "y", 0, 10)];
        let tree = SpanTree::build(&spans);
        assert_eq!(tree.roots.len(), 1);
        assert_eq!(tree.preorder().len(), 2);
    }
}
