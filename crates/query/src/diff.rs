//! Comparison of two profiles: a merged call tree with before/after values per
//! node (what a differential flamegraph draws) and per-function changes in
//! self share (what `whyslow diff` prints).
//!
//! Raw values are kept; fractions of each profile's own grand total make two
//! recordings of different lengths comparable. Not a renderer.

use crate::top::top_functions;
use crate::tree::{CallTree, NodeId, ROOT_NAME};
use crate::view::ValueView;
use model::Profile;
use std::collections::BTreeMap;

/// One node of the merged tree: a call path present in either profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffNode {
    /// Frame name; [`ROOT_NAME`] for the root.
    pub name: String,
    /// Value through this path in the before profile (0 when absent there).
    pub before_total: i64,
    /// Value through this path in the after profile (0 when absent there).
    pub after_total: i64,
    /// Value ending at this path in the before profile.
    pub before_self: i64,
    /// Value ending at this path in the after profile.
    pub after_self: i64,
    /// Child node ids, sorted by name.
    pub children: Vec<NodeId>,
}

/// The union of two call trees with both profiles' values at every node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffTree {
    /// All nodes; `nodes[0]` is the root.
    pub nodes: Vec<DiffNode>,
}

/// `part / whole`, 0 when `whole` is 0.
fn fraction(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

impl DiffTree {
    /// The root node (grand totals of both profiles).
    pub fn root(&self) -> &DiffNode {
        &self.nodes[0]
    }

    /// Grand total of the before profile.
    pub fn before_grand_total(&self) -> i64 {
        self.root().before_total
    }

    /// Grand total of the after profile.
    pub fn after_grand_total(&self) -> i64 {
        self.root().after_total
    }

    /// Share (0..=1) of the before profile's total that passes through `id`.
    pub fn before_fraction(&self, id: NodeId) -> f64 {
        self.nodes
            .get(id)
            .map_or(0.0, |n| fraction(n.before_total, self.before_grand_total()))
    }

    /// Share (0..=1) of the after profile's total that passes through `id`.
    pub fn after_fraction(&self, id: NodeId) -> f64 {
        self.nodes
            .get(id)
            .map_or(0.0, |n| fraction(n.after_total, self.after_grand_total()))
    }

    /// Change of the share of the total through `id` (after − before, −1..=1):
    /// comparable even when the two recordings differ in length.
    pub fn delta_fraction(&self, id: NodeId) -> f64 {
        self.after_fraction(id) - self.before_fraction(id)
    }

    /// Change of the share of the total ending at `id` (after − before self share).
    pub fn self_delta_fraction(&self, id: NodeId) -> f64 {
        self.nodes.get(id).map_or(0.0, |n| {
            fraction(n.after_self, self.after_grand_total())
                - fraction(n.before_self, self.before_grand_total())
        })
    }

    /// The after value through `id`, scaled so the after grand total equals the
    /// before grand total (the normalization of differential flamegraphs).
    pub fn normalized_after_total(&self, id: NodeId) -> f64 {
        self.after_fraction(id) * self.before_grand_total() as f64
    }

    /// The node at the end of `path` (names from the root's child down), if any.
    pub fn find(&self, path: &[&str]) -> Option<NodeId> {
        path.iter().try_fold(0, |node, name| {
            let children = &self.nodes.get(node)?.children;
            children
                .binary_search_by(|&c| self.nodes[c].name.as_str().cmp(name))
                .ok()
                .map(|i| children[i])
        })
    }
}

/// Merges the call trees of `before` and `after` under `view`.
pub fn diff_tree(before: &Profile, after: &Profile, view: ValueView) -> DiffTree {
    let a = CallTree::new(before, view);
    let b = CallTree::new(after, view);
    let mut nodes = vec![DiffNode {
        name: ROOT_NAME.to_string(),
        before_total: a.root().total,
        after_total: b.root().total,
        before_self: a.root().self_value,
        after_self: b.root().self_value,
        children: Vec::new(),
    }];
    // (merged node, node in before, node in after)
    let mut pending: Vec<(NodeId, Option<NodeId>, Option<NodeId>)> = vec![(0, Some(0), Some(0))];
    while let Some((merged, in_a, in_b)) = pending.pop() {
        let mut children: BTreeMap<&str, (Option<NodeId>, Option<NodeId>)> = BTreeMap::new();
        for &c in in_a.map_or(&[][..], |n| &a.nodes[n].children) {
            children.entry(&a.nodes[c].name).or_default().0 = Some(c);
        }
        for &c in in_b.map_or(&[][..], |n| &b.nodes[n].children) {
            children.entry(&b.nodes[c].name).or_default().1 = Some(c);
        }
        for (name, (ca, cb)) in children {
            let id = nodes.len();
            let na = ca.map(|c| &a.nodes[c]);
            let nb = cb.map(|c| &b.nodes[c]);
            nodes.push(DiffNode {
                name: name.to_string(),
                before_total: na.map_or(0, |n| n.total),
                after_total: nb.map_or(0, |n| n.total),
                before_self: na.map_or(0, |n| n.self_value),
                after_self: nb.map_or(0, |n| n.self_value),
                children: Vec::new(),
            });
            nodes[merged].children.push(id);
            pending.push((id, ca, cb));
        }
    }
    DiffTree { nodes }
}

/// How one function's share of self time changed between two profiles.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRow {
    /// Function name.
    pub name: String,
    /// Self value in the before profile, in the view's unit.
    pub before_self: i64,
    /// Self value in the after profile, in the view's unit.
    pub after_self: i64,
    /// Self value as a percentage (0..=100) of the before profile's total.
    pub before_percent: f64,
    /// Self value as a percentage (0..=100) of the after profile's total.
    pub after_percent: f64,
    /// `after_percent - before_percent`, in percentage points.
    pub delta_points: f64,
}

/// Every function with self value in either profile, with its self share
/// before and after, sorted by the size of the change (largest first), then name.
pub fn top_changes(before: &Profile, after: &Profile, view: ValueView) -> Vec<ChangeRow> {
    let before_total = view.total(before);
    let after_total = view.total(after);
    let mut selfs: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for row in top_functions(before, view) {
        selfs.entry(row.name).or_default().0 += row.self_value;
    }
    for row in top_functions(after, view) {
        selfs.entry(row.name).or_default().1 += row.self_value;
    }
    let mut rows: Vec<ChangeRow> = selfs
        .into_iter()
        .filter(|(_, (a, b))| *a != 0 || *b != 0)
        .map(|(name, (a, b))| {
            let before_percent = 100.0 * fraction(a, before_total);
            let after_percent = 100.0 * fraction(b, after_total);
            ChangeRow {
                name,
                before_self: a,
                after_self: b,
                before_percent,
                after_percent,
                delta_points: after_percent - before_percent,
            }
        })
        .collect();
    rows.sort_by(|x, y| {
        y.delta_points
            .abs()
            .total_cmp(&x.delta_points.abs())
            .then_with(|| x.name.cmp(&y.name))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::profile_of;

    #[test]
    fn merged_tree_keeps_both_sides() {
        let before = profile_of(&[(&["main", "a"], 70), (&["main", "b"], 30)]);
        let after = profile_of(&[(&["main", "a"], 80), (&["main", "c"], 120)]);
        let tree = diff_tree(&before, &after, ValueView::Cpu);
        assert_eq!(tree.before_grand_total(), 100);
        assert_eq!(tree.after_grand_total(), 200);
        let a = tree.find(&["main", "a"]).unwrap();
        assert_eq!(
            (tree.nodes[a].before_total, tree.nodes[a].after_total),
            (70, 80)
        );
        assert!((tree.before_fraction(a) - 0.7).abs() < 1e-9);
        assert!((tree.after_fraction(a) - 0.4).abs() < 1e-9);
        assert!((tree.delta_fraction(a) + 0.3).abs() < 1e-9);
        assert!((tree.normalized_after_total(a) - 40.0).abs() < 1e-9);
        let b = tree.find(&["main", "b"]).unwrap();
        assert_eq!(
            (tree.nodes[b].before_self, tree.nodes[b].after_self),
            (30, 0)
        );
        let c = tree.find(&["main", "c"]).unwrap();
        assert!((tree.self_delta_fraction(c) - 0.6).abs() < 1e-9);
        let main = tree.find(&["main"]).unwrap();
        let names: Vec<&str> = tree.nodes[main]
            .children
            .iter()
            .map(|&c| tree.nodes[c].name.as_str())
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn changes_sorted_by_absolute_delta() {
        let before = profile_of(&[(&["main", "a"], 70), (&["main", "b"], 30)]);
        let after = profile_of(&[
            (&["main", "a"], 40),
            (&["main", "b"], 55),
            (&["main", "c"], 5),
        ]);
        let rows = top_changes(&before, &after, ValueView::Cpu);
        let order: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(order, ["a", "b", "c"]);
        assert!((rows[0].delta_points + 30.0).abs() < 1e-9);
        assert!((rows[1].delta_points - 25.0).abs() < 1e-9);
        assert!((rows[2].before_percent).abs() < 1e-9);
        assert!((rows[2].after_percent - 5.0).abs() < 1e-9);
    }

    #[test]
    fn empty_profiles_compare_without_dividing_by_zero() {
        let empty = profile_of(&[]);
        let tree = diff_tree(&empty, &empty, ValueView::Cpu);
        assert_eq!(tree.nodes.len(), 1);
        assert_eq!(tree.delta_fraction(0), 0.0);
        assert!(top_changes(&empty, &empty, ValueView::Cpu).is_empty());
    }
}
