//! Merged stacks to Pyroscope's flame graph level encoding (PYRO
//! pkg/model/flamegraph.go `NewFlameGraph`); the diff form is in
//! [`super::diff`].
//!
//! Level 0 is the root, named `"total"` (`names[0]`). Every node is
//! `[x_offset, total, self, name_index]` (a diff node is `[xl, totl, selfl,
//! xr, totr, selfr, name_index]`), each x offset delta-encoded against the end
//! of the previous node on the same level. Within a parent its self part
//! comes first and its children follow, sorted by name, so every child lies
//! inside its parent (what Grafana's `levelsToTree` needs).
//!
//! Truncation keeps the `max_nodes` nodes with the biggest totals (the
//! biggest of left and right for a diff); ties are kept in walk order while
//! the budget lasts, so the kept nodes always include their ancestors. What
//! a parent loses is one `"other"` child holding the cut totals, so every
//! total still adds up.
//!
//! The work is a few passes over flat arrays (totals bottom-up, a heap or
//! `select_nth` for the threshold, the nodes that may be kept bucketed by
//! parent with their data and name rank, a depth-first walk appending to
//! each level, which reads the stores' id-ordered call chains sequentially):
//! no allocation per node, one `String` per distinct name emitted. A cut
//! child is never visited: `"other"` is what its parent's total leaves over.
//! Negative self values count as 0. Siblings sharing a name (the stores
//! never produce them) are merged through a hashed re-interning pass.

use super::tree::{combine, name_ranks, well_formed, DuplicateSiblings, Encoded, Tree};
use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use store::profiles::MergedStacks;

/// Nodes kept when a request does not say (Pyroscope's
/// `querier.max-flamegraph-nodes-default`).
pub const DEFAULT_MAX_NODES: usize = 8192;
/// The most nodes a request may ask for (`max-flamegraph-nodes-max`).
pub const MAX_MAX_NODES: usize = 1_048_576;
/// The root's name.
pub const TOTAL_NAME: &str = "total";
/// The name of the node that holds what truncation cut.
pub const OTHER_NAME: &str = "other";

/// The `max_nodes` to use for a requested value (missing or <= 0: the default).
pub fn max_nodes(requested: Option<i64>) -> usize {
    match requested {
        Some(n) if n > 0 => usize::try_from(n)
            .unwrap_or(MAX_MAX_NODES)
            .min(MAX_MAX_NODES),
        _ => DEFAULT_MAX_NODES,
    }
}

/// A flame graph in level encoding.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlameGraph {
    /// Names; `names[0]` is `"total"`.
    pub names: Vec<String>,
    /// Levels of 4-int nodes.
    pub levels: Vec<Vec<i64>>,
    /// The root's total.
    pub total: i64,
    /// The biggest self value.
    pub max_self: i64,
}

/// The flame graph of `stacks` with at most about `max_nodes` nodes (plus
/// `"other"`s); `None` when there is nothing to show.
pub fn flamegraph(stacks: &MergedStacks, max_nodes: usize) -> Option<FlameGraph> {
    let encoded = if well_formed(stacks) {
        let tree = Tree {
            names: stacks.names.iter().map(String::as_str).collect(),
            nodes: Cow::Borrowed(&stacks.nodes),
            selfs: Cow::Borrowed(stacks.self_values.as_chunks::<1>().0),
        };
        match encode(&tree, max_nodes) {
            Ok(encoded) => encoded,
            Err(DuplicateSiblings) => encode(&combine([stacks]), max_nodes).ok()?,
        }
    } else {
        encode(&combine([stacks]), max_nodes).ok()?
    };
    let encoded = encoded?;
    Some(FlameGraph {
        names: encoded.names,
        levels: encoded.levels,
        total: encoded.totals[0],
        max_self: encoded.max_self,
    })
}

/// What the walk reads of one node, kept together for locality.
#[derive(Clone, Copy)]
struct Node<const K: usize> {
    total: [i64; K],
    self_value: [i64; K],
    name: u32,
}

impl<const K: usize> Node<K> {
    /// The biggest total of any column: what truncation ranks by.
    fn rank(&self) -> i64 {
        self.total.iter().copied().max().unwrap_or(0)
    }
}

/// Above this many distinct names, and more than 4 per kept node, siblings
/// are sorted by comparing strings instead of ranking every name first.
const RANK_NAMES_UP_TO: usize = 1 << 16;

/// Truncates and level-encodes a tree whose parents come first; `Ok(None)`
/// when every total is 0.
pub(super) fn encode<const K: usize>(
    tree: &Tree<'_, K>,
    max_nodes: usize,
) -> Result<Option<Encoded<K>>, DuplicateSiblings> {
    let n = tree.nodes.len();
    let max_nodes = max_nodes.max(1);
    let mut data: Vec<Node<K>> = tree
        .selfs
        .iter()
        .zip(tree.nodes.iter())
        .map(|(s, &(_, name))| {
            let s = s.map(|v| v.max(0));
            Node {
                total: s,
                self_value: s,
                name,
            }
        })
        .collect();
    // Totals bottom-up (children come after their parents).
    let (mut root, mut positive) = ([0i64; K], 0);
    for i in (0..n).rev() {
        let (p, total) = (tree.nodes[i].0 as usize, data[i].total);
        if total.iter().any(|&v| v > 0) {
            positive += 1;
            add(
                if p == 0 {
                    &mut root
                } else {
                    &mut data[p - 1].total
                },
                total,
            );
        }
    }
    let (threshold, mut ties) = threshold(&data, positive, max_nodes);
    // Sibling order: by name rank when affordable, else by string.
    let ranks = (tree.names.len() <= RANK_NAMES_UP_TO.max(max_nodes.saturating_mul(4)))
        .then(|| name_ranks(&tree.names));
    // The children that may be kept (rank >= threshold; the cut ones only
    // count towards "other", as what their parent's total leaves over) of
    // slot p (0 = root, i + 1 = node i) end up at children[off[p+1]..off[p+2]]
    // as (`name rank << 32 | node`, node data), so the walk reads each
    // sibling list in one place: counts, prefix sums (range ends), then a
    // backward fill moves each to its start.
    let mut off = vec![0u32; n + 3];
    for i in 0..n {
        if data[i].rank() >= threshold {
            off[tree.nodes[i].0 as usize + 1] += 1;
        }
    }
    for s in 1..off.len() {
        off[s] += off[s - 1];
    }
    let empty = Node {
        total: [0; K],
        self_value: [0; K],
        name: 0,
    };
    let mut children = vec![(0u64, empty); off[n + 2] as usize];
    for i in (0..n).rev() {
        if data[i].rank() >= threshold {
            let key = ranks.as_ref().map_or(0, |r| r[data[i].name as usize]);
            let slot = &mut off[tree.nodes[i].0 as usize + 1];
            *slot -= 1;
            children[*slot as usize] = (u64::from(key) << 32 | i as u64, data[i]);
        }
    }
    drop(data);
    if root.iter().all(|&v| v == 0) {
        return Ok(None);
    }

    let mut names = vec![TOTAL_NAME.to_string()];
    let mut name_index = vec![u32::MAX; tree.names.len()];
    let mut other_index = None;
    let mut max_self = 0;
    let mut levels: Vec<Vec<i64>> = vec![Vec::with_capacity(3 * K + 1)];
    // Per level, where its last node ends (for the delta encoding).
    let mut ends: Vec<[i64; K]> = vec![[0; K]];
    emit(
        &mut levels[0],
        &mut ends[0],
        [0; K],
        root,
        [0; K],
        0,
        &mut max_self,
    );
    // Depth first, children in name order (pushed reversed), so each level
    // gets its nodes in x order and chains of ids are read sequentially:
    // (slot, depth, x offsets after the node's self part, its children's
    // share: total - self).
    let mut stack: Vec<(u32, u32, [i64; K], [i64; K])> = vec![(0, 0, [0; K], root)];
    while let Some((slot, depth, mut x, mut other)) = stack.pop() {
        if other.iter().all(|&v| v == 0) {
            continue;
        }
        let range = off[slot as usize + 1] as usize..off[slot as usize + 2] as usize;
        let kids = &mut children[range];
        if kids.len() > 1 {
            if ranks.is_some() {
                kids.sort_unstable_by_key(|c| c.0);
                if kids.windows(2).any(|w| w[0].0 >> 32 == w[1].0 >> 32) {
                    return Err(DuplicateSiblings);
                }
            } else {
                let name_of = |c: &(u64, Node<K>)| tree.names[c.1.name as usize];
                kids.sort_unstable_by(|a, b| name_of(a).cmp(name_of(b)));
                if kids.windows(2).any(|w| name_of(&w[0]) == name_of(&w[1])) {
                    return Err(DuplicateSiblings);
                }
            }
        }
        let level = depth as usize + 1;
        if levels.len() == level {
            levels.push(Vec::new());
            ends.push([0; K]);
        }
        let pushed = stack.len();
        for (key, node) in kids.iter() {
            let k = *key as u32;
            let rank = node.rank();
            let keep = rank > threshold
                || (rank == threshold && ties > 0 && {
                    ties -= 1;
                    true
                });
            if !keep {
                continue;
            }
            let name = &mut name_index[node.name as usize];
            if *name == u32::MAX {
                *name = names.len() as u32;
                names.push(tree.names[node.name as usize].to_string());
            }
            let (values, end) = (&mut levels[level], &mut ends[level]);
            emit(
                values,
                end,
                x,
                node.total,
                node.self_value,
                *name,
                &mut max_self,
            );
            let (mut inner, mut share) = (x, node.total);
            add(&mut inner, node.self_value);
            sub(&mut share, node.self_value);
            stack.push((k + 1, level as u32, inner, share));
            add(&mut x, node.total);
            sub(&mut other, node.total);
        }
        stack[pushed..].reverse();
        if other.iter().any(|&v| v != 0) {
            let name = *other_index.get_or_insert_with(|| {
                names.push(OTHER_NAME.to_string());
                names.len() as u32 - 1
            });
            let (values, end) = (&mut levels[level], &mut ends[level]);
            emit(values, end, x, other, other, name, &mut max_self);
        }
    }
    levels.retain(|l| !l.is_empty());
    Ok(Some(Encoded {
        names,
        levels,
        totals: root,
        max_self,
    }))
}

/// The smallest rank kept and how many nodes of exactly that rank fit, for
/// `positive` nodes with a rank above 0: a min-heap of the `max_nodes`
/// biggest ranks when that is small, else a partial sort of all of them.
fn threshold<const K: usize>(data: &[Node<K>], positive: usize, max_nodes: usize) -> (i64, usize) {
    if positive <= max_nodes {
        return (1, usize::MAX);
    }
    let (nth, above) = if max_nodes <= positive / 16 {
        let mut heap = BinaryHeap::with_capacity(max_nodes + 1);
        for rank in data.iter().map(Node::rank).filter(|&r| r > 0) {
            if heap.len() < max_nodes {
                heap.push(Reverse(rank));
            } else if heap.peek().is_some_and(|&Reverse(min)| rank > min) {
                heap.pop();
                heap.push(Reverse(rank));
            }
        }
        let nth = heap.peek().map_or(1, |&Reverse(min)| min);
        (nth, heap.iter().filter(|&&Reverse(r)| r > nth).count())
    } else {
        let mut ranks: Vec<i64> = data.iter().map(Node::rank).filter(|&r| r > 0).collect();
        let (bigger, &mut nth, _) = ranks.select_nth_unstable_by(max_nodes - 1, |a, b| b.cmp(a));
        (nth, bigger.iter().filter(|&&r| r > nth).count())
    };
    (nth, max_nodes - above)
}

fn add<const K: usize>(x: &mut [i64; K], v: [i64; K]) {
    for (a, b) in x.iter_mut().zip(v) {
        *a = a.saturating_add(b);
    }
}

fn sub<const K: usize>(x: &mut [i64; K], v: [i64; K]) {
    for (a, b) in x.iter_mut().zip(v) {
        *a = a.saturating_sub(b);
    }
}

/// Appends one node, delta-encoding each column's x offset.
fn emit<const K: usize>(
    values: &mut Vec<i64>,
    prev_end: &mut [i64; K],
    x: [i64; K],
    total: [i64; K],
    self_value: [i64; K],
    name: u32,
    max_self: &mut i64,
) {
    for c in 0..K {
        values.extend([x[c] - prev_end[c], total[c], self_value[c]]);
        prev_end[c] = x[c].saturating_add(total[c]);
        *max_self = (*max_self).max(self_value[c]);
    }
    values.push(i64::from(name));
}

#[cfg(test)]
#[path = "flamegraph_tests.rs"]
mod tests;
