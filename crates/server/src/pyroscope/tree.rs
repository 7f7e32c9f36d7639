//! The trees the flame graph encoder ([`super::flamegraph`], [`super::diff`])
//! works on: a parent-pointer call tree with `K` value columns borrowed from
//! or built out of [`MergedStacks`], the check that lets it borrow, the
//! hashed re-interning that merges same-named siblings (and tolerates
//! malformed input), and name ranks in string order.

use rustc_hash::FxHashMap;
use std::borrow::Cow;
use store::profiles::MergedStacks;

/// Parents before children, names and values in range.
pub(crate) fn well_formed(stacks: &MergedStacks) -> bool {
    stacks.self_values.len() == stacks.nodes.len()
        && stacks
            .nodes
            .iter()
            .enumerate()
            .all(|(i, &(p, name))| p as usize <= i && (name as usize) < stacks.names.len())
}

/// A call tree with `K` value columns: nodes `(parent + 1 or 0, name id)`,
/// parents first.
pub(crate) struct Tree<'a, const K: usize> {
    pub(crate) names: Vec<&'a str>,
    pub(crate) nodes: Cow<'a, [(u32, u32)]>,
    pub(crate) selfs: Cow<'a, [[i64; K]]>,
}

/// Two siblings share a name.
pub(crate) struct DuplicateSiblings;

/// A level-encoded tree.
pub(crate) struct Encoded<const K: usize> {
    pub(crate) names: Vec<String>,
    pub(crate) levels: Vec<Vec<i64>>,
    pub(crate) totals: [i64; K],
    pub(crate) max_self: i64,
}

/// Re-interns the trees of `sources` (one per column) by (parent, name),
/// merging siblings of the same name; tolerates malformed input.
pub(crate) fn combine<'a, const K: usize>(sources: [&'a MergedStacks; K]) -> Tree<'a, K> {
    let mut name_ids: FxHashMap<&'a str, u32> = FxHashMap::default();
    let mut names: Vec<&'a str> = Vec::new();
    let mut intern = |name: &'a str| {
        *name_ids.entry(name).or_insert_with(|| {
            names.push(name);
            names.len() as u32 - 1
        })
    };
    let unknown = intern("?");
    let most = sources.iter().map(|s| s.nodes.len()).sum();
    let mut ids: FxHashMap<u64, u32> = FxHashMap::default();
    ids.reserve(most);
    let mut nodes: Vec<(u32, u32)> = Vec::with_capacity(most);
    let mut selfs: Vec<[i64; K]> = Vec::with_capacity(most);
    for (column, source) in sources.iter().enumerate() {
        let name_map: Vec<u32> = source.names.iter().map(|n| intern(n)).collect();
        let mut node_map: Vec<u32> = Vec::with_capacity(source.nodes.len());
        for (i, &(p, name)) in source.nodes.iter().enumerate() {
            let parent = match p as usize {
                0 => 0,
                p if p <= i => node_map[p - 1] + 1,
                _ => 0,
            };
            let name = name_map.get(name as usize).copied().unwrap_or(unknown);
            let key = u64::from(parent) << 32 | u64::from(name);
            let id = *ids.entry(key).or_insert_with(|| {
                nodes.push((parent, name));
                selfs.push([0; K]);
                nodes.len() as u32 - 1
            });
            let value = source.self_values.get(i).copied().unwrap_or(0);
            let cell = &mut selfs[id as usize][column];
            *cell = cell.saturating_add(value.max(0));
            node_map.push(id);
        }
    }
    Tree {
        names,
        nodes: Cow::Owned(nodes),
        selfs: Cow::Owned(selfs),
    }
}

/// Dense ranks of names in string order (equal strings, equal ranks).
pub(crate) fn name_ranks(names: &[&str]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..names.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| names[a as usize].cmp(names[b as usize]));
    let mut ranks = vec![0u32; names.len()];
    let mut rank = 0u32;
    for (i, &id) in order.iter().enumerate() {
        if i > 0 && names[order[i - 1] as usize] != names[id as usize] {
            rank += 1;
        }
        ranks[id as usize] = rank;
    }
    ranks
}
