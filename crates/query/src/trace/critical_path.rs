//! The critical path of a trace: the sections of spans that determine when the
//! trace ends, computed the way jaeger-ui does.
//!
//! For each root, children are first clipped to their parent's interval
//! (children entirely outside it are dropped with their subtrees). Then, from
//! the root's end, the walk repeatedly descends into the last-finishing child;
//! when a span has no child finishing before the current point, the span's own
//! time back to its start is on the path and the walk returns to its parent,
//! looking for the child that finished last before that start. The walk is a
//! loop, not recursion, so deep traces cannot overflow the stack.

use super::SpanTree;
use model::SpanId;
use serde::Serialize;

/// A stretch of time during which one span is on the critical path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CriticalPathSection {
    /// Index of the span in the trace's span slice.
    pub span_index: usize,
    /// The span.
    #[serde(serialize_with = "serialize_span_id")]
    pub span_id: SpanId,
    /// Section start, Unix ns.
    pub start_unix_nano: u64,
    /// Section end, Unix ns (> start).
    pub end_unix_nano: u64,
}

fn serialize_span_id<S: serde::Serializer>(id: &SpanId, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id)
}

/// The critical path sections of every root's tree, latest first within a root.
pub fn critical_path(tree: &SpanTree<'_>) -> Vec<CriticalPathSection> {
    let mut sections = Vec::new();
    for &root in &tree.roots {
        let clipped = clip_to_parents(tree, root);
        walk(tree, &clipped, root, &mut sections);
    }
    sections
}

/// The sum of critical-path time per span, in ns, indexed like the trace's spans.
pub fn critical_time_per_span(tree: &SpanTree<'_>, sections: &[CriticalPathSection]) -> Vec<u64> {
    let mut out = vec![0; tree.spans.len()];
    for s in sections {
        out[s.span_index] += s.end_unix_nano - s.start_unix_nano;
    }
    out
}

/// Interval of each span after clipping to its (clipped) parent; `None` when
/// dropped (outside its parent, or under a dropped span, or not in this root's tree).
fn clip_to_parents(tree: &SpanTree<'_>, root: usize) -> Vec<Option<(u64, u64)>> {
    let mut clipped = vec![None; tree.spans.len()];
    let r = &tree.spans[root];
    clipped[root] = Some((r.start_unix_nano, r.end_unix_nano.max(r.start_unix_nano)));
    let mut stack = vec![root];
    while let Some(i) = stack.pop() {
        let Some((p_start, p_end)) = clipped[i] else {
            continue;
        };
        for &c in &tree.children[i] {
            let child = &tree.spans[c];
            let (c_start, c_end) = (
                child.start_unix_nano,
                child.end_unix_nano.max(child.start_unix_nano),
            );
            let outside = if c_start >= p_start {
                c_start >= p_end
            } else {
                c_end <= p_start
            };
            if !outside {
                clipped[c] = Some((c_start.max(p_start), c_end.min(p_end)));
                stack.push(c);
            }
        }
    }
    clipped
}

fn walk(
    tree: &SpanTree<'_>,
    clipped: &[Option<(u64, u64)>],
    root: usize,
    out: &mut Vec<CriticalPathSection>,
) {
    let mut push = |i: usize, start: u64, end: u64| {
        if start < end {
            out.push(CriticalPathSection {
                span_index: i,
                span_id: tree.spans[i].span_id,
                start_unix_nano: start,
                end_unix_nano: end,
            });
        }
    };
    let mut current = root;
    // The start of the child we just returned from, if any.
    let mut returning: Option<u64> = None;
    loop {
        let Some((start, end)) = clipped[current] else {
            return;
        };
        let section_end = returning.unwrap_or(end);
        let last_child = tree.children[current]
            .iter()
            .filter_map(|&c| clipped[c].map(|(_, c_end)| (c_end, c)))
            .filter(|&(c_end, _)| returning.is_none_or(|r| c_end < r))
            // Ties go to the first child, as jaeger-ui's strict `>` does.
            .fold(None::<(u64, usize)>, |best, cand| match best {
                Some(b) if b.0 >= cand.0 => Some(b),
                _ => Some(cand),
            });
        match last_child {
            Some((c_end, c)) => {
                push(current, c_end, section_end);
                current = c;
                returning = None;
            }
            None => {
                push(current, start, section_end);
                if current == root {
                    return;
                }
                match tree.parent[current] {
                    Some(p) => {
                        returning = Some(start);
                        current = p;
                    }
                    None => return,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{id, span};
    use super::*;

    fn path(spans: &[model::Span]) -> Vec<(u8, u64, u64)> {
        let tree = SpanTree::build(spans);
        critical_path(&tree)
            .iter()
            .map(|s| (s.span_id.0[7], s.start_unix_nano, s.end_unix_nano))
            .collect()
    }

    #[test]
    fn sequential_children_are_all_on_the_path() {
        // |-------------A(1)-------------|
        //    |--B(2)--|    |--C(3)--|
        let spans = vec![
            span(1, 0, "a", "A", 0, 100),
            span(2, 1, "a", "B", 10, 40),
            span(3, 1, "a", "C", 50, 80),
        ];
        assert_eq!(
            path(&spans),
            vec![
                (1, 80, 100),
                (3, 50, 80),
                (1, 40, 50),
                (2, 10, 40),
                (1, 0, 10)
            ]
        );
    }

    #[test]
    fn overlapping_children_pick_the_last_finishing_one() {
        // B(10..60) and C(20..90) run in parallel: only C (and A around it) is critical;
        // then walking back from C's start (20), nothing ends before 20.
        let spans = vec![
            span(1, 0, "a", "A", 0, 100),
            span(2, 1, "b", "B", 10, 60),
            span(3, 1, "c", "C", 20, 90),
        ];
        assert_eq!(path(&spans), vec![(1, 90, 100), (3, 20, 90), (1, 0, 20)]);
    }

    #[test]
    fn children_are_clipped_to_their_parent_and_outsiders_dropped() {
        let spans = vec![
            span(1, 0, "a", "A", 0, 100),
            span(2, 1, "a", "B", 80, 150),  // clipped to 80..100
            span(3, 1, "a", "C", 120, 140), // outside: dropped
            span(4, 3, "a", "D", 125, 130), // under a dropped span
        ];
        assert_eq!(path(&spans), vec![(2, 80, 100), (1, 0, 80)]);
    }

    #[test]
    fn nested_descent_and_return() {
        // A(0..100) > B(10..90) > C(20..60); walking back from C returns to B, then A.
        let spans = vec![
            span(1, 0, "a", "A", 0, 100),
            span(2, 1, "a", "B", 10, 90),
            span(3, 2, "a", "C", 20, 60),
        ];
        let tree = SpanTree::build(&spans);
        let sections = critical_path(&tree);
        let per_span = critical_time_per_span(&tree, &sections);
        assert_eq!(per_span, vec![20, 40, 40]);
        assert_eq!(sections[0].span_id, id(1));
    }

    #[test]
    fn deep_chains_do_not_overflow() {
        let spans: Vec<_> = (1..=200u8)
            .map(|i| span(i, i - 1, "a", "x", u64::from(i), 1000 - u64::from(i)))
            .collect();
        assert_eq!(path(&spans).len(), 399);
    }
}
