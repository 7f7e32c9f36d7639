//! Diff flame graphs (PYRO pkg/model/flamegraph_diff.go): two merges laid
//! on one tree whose nodes carry a left and a right value, encoded as 7-int
//! nodes `[xl, totl, selfl, xr, totr, selfr, name_index]` by
//! [`super::flamegraph`]'s encoder (truncation ranks by the bigger side).
//!
//! The two trees are joined without hashing: each gets its children lists
//! sorted by a shared name rank, and one walk merges sibling lists like
//! sorted runs. Malformed trees or duplicate siblings fall back to the
//! hashed re-interning of [`super::flamegraph`].

use super::flamegraph::encode;
use super::tree::{combine, name_ranks, well_formed, Tree};
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use store::profiles::MergedStacks;

/// A diff flame graph in level encoding.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlameGraphDiff {
    /// Names; `names[0]` is `"total"`.
    pub names: Vec<String>,
    /// Levels of 7-int nodes.
    pub levels: Vec<Vec<i64>>,
    /// `left_ticks + right_ticks`.
    pub total: i64,
    /// The biggest self value of either side.
    pub max_self: i64,
    /// The left total.
    pub left_ticks: i64,
    /// The right total.
    pub right_ticks: i64,
}

/// The diff flame graph of two merges; `None` when both are empty.
pub fn flamegraph_diff(
    left: &MergedStacks,
    right: &MergedStacks,
    max_nodes: usize,
) -> Option<FlameGraphDiff> {
    let joined = (well_formed(left) && well_formed(right))
        .then(|| encode(&join(left, right), max_nodes).ok())
        .flatten();
    let encoded = match joined {
        Some(encoded) => encoded,
        None => encode(&combine([left, right]), max_nodes).ok()?,
    }?;
    let [left_ticks, right_ticks] = encoded.totals;
    Some(FlameGraphDiff {
        names: encoded.names,
        levels: encoded.levels,
        total: left_ticks.saturating_add(right_ticks),
        max_self: encoded.max_self,
        left_ticks,
        right_ticks,
    })
}

/// Children of each slot (0 = root, i + 1 = node i) of a well-formed tree,
/// at `list[off[p]..off[p + 1]]` as `name rank << 32 | node`, sorted.
struct Children {
    off: Vec<u32>,
    list: Vec<u64>,
}

impl Children {
    fn new(stacks: &MergedStacks, rank: &[u32]) -> Self {
        let n = stacks.nodes.len();
        let mut off = vec![0u32; n + 2];
        for &(p, _) in &stacks.nodes {
            off[p as usize + 1] += 1;
        }
        for s in 1..off.len() {
            off[s] += off[s - 1];
        }
        let mut at = off.clone();
        let mut list = vec![0u64; n];
        for (i, &(p, name)) in stacks.nodes.iter().enumerate() {
            let slot = &mut at[p as usize];
            list[*slot as usize] = u64::from(rank[name as usize]) << 32 | i as u64;
            *slot += 1;
        }
        for p in 0..=n {
            let kids = &mut list[off[p] as usize..off[p + 1] as usize];
            if kids.len() > 1 {
                kids.sort_unstable();
            }
        }
        Self { off, list }
    }

    fn of(&self, slot: Option<u32>) -> &[u64] {
        match slot {
            Some(p) => &self.list[self.off[p as usize] as usize..self.off[p as usize + 1] as usize],
            None => &[],
        }
    }
}

/// One tree with left and right self values, parents first.
fn join<'a>(left: &'a MergedStacks, right: &'a MergedStacks) -> Tree<'a, 2> {
    // Shared names: left's, then right's new ones.
    let mut names: Vec<&'a str> = left.names.iter().map(String::as_str).collect();
    let mut ids: FxHashMap<&str, u32> = FxHashMap::default();
    for (i, name) in names.iter().enumerate() {
        ids.entry(name).or_insert(i as u32);
    }
    let right_names: Vec<u32> = right
        .names
        .iter()
        .map(|name| {
            *ids.entry(name).or_insert_with(|| {
                names.push(name);
                names.len() as u32 - 1
            })
        })
        .collect();
    let rank = name_ranks(&names);
    let left_rank: Vec<u32> = (0..left.names.len()).map(|i| rank[i]).collect();
    let right_rank: Vec<u32> = right_names.iter().map(|&id| rank[id as usize]).collect();
    let (lk, rk) = (
        Children::new(left, &left_rank),
        Children::new(right, &right_rank),
    );
    // A name id per rank, to name the joined nodes.
    let mut by_rank = vec![0u32; names.len()];
    for (id, &r) in rank.iter().enumerate() {
        by_rank[r as usize] = id as u32;
    }

    let capacity = left.nodes.len().max(right.nodes.len());
    let mut nodes: Vec<(u32, u32)> = Vec::with_capacity(capacity);
    let mut selfs: Vec<[i64; 2]> = Vec::with_capacity(capacity);
    // (left slot, right slot, joined slot).
    let mut stack: Vec<(Option<u32>, Option<u32>, u32)> = vec![(Some(0), Some(0), 0)];
    while let Some((l, r, parent)) = stack.pop() {
        let (mut a, mut b) = (lk.of(l).iter().peekable(), rk.of(r).iter().peekable());
        loop {
            let (ka, kb) = (a.peek().map(|&&k| k >> 32), b.peek().map(|&&k| k >> 32));
            let rank = match (ka, kb) {
                (None, None) => break,
                (Some(x), Some(y)) => x.min(y),
                (Some(x), None) | (None, Some(x)) => x,
            };
            let take = |it: &mut std::iter::Peekable<std::slice::Iter<'_, u64>>, k: Option<u64>| {
                (k == Some(rank))
                    .then(|| it.next().map(|&v| v as u32))
                    .flatten()
            };
            let (ln, rn) = (take(&mut a, ka), take(&mut b, kb));
            let value = |stacks: &MergedStacks, node: Option<u32>| {
                node.map_or(0, |i| stacks.self_values[i as usize])
            };
            nodes.push((parent, by_rank[rank as usize]));
            selfs.push([value(left, ln), value(right, rn)]);
            let id = nodes.len() as u32;
            stack.push((ln.map(|i| i + 1), rn.map(|i| i + 1), id));
        }
    }
    Tree {
        names,
        nodes: Cow::Owned(nodes),
        selfs: Cow::Owned(selfs),
    }
}
