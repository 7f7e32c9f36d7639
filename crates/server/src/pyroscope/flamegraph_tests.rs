//! Unit tests of the flame graph encoding: exact levels, round trips
//! through a decoder, truncation, duplicates, diff, and a timing test over
//! a million nodes (`cargo test --release -p server flamegraph_of_a_million
//! -- --ignored --nocapture`).

use super::*;
use crate::pyroscope::diff::flamegraph_diff;
use crate::pyroscope::testutil::{expand, expected, stacks};
use rustc_hash::FxHashMap;
use std::time::Instant;

#[test]
fn small_tree_has_the_exact_pyroscope_levels() {
    let fg = flamegraph(&stacks(&[("a;c", 2), ("a;b", 1), ("a", 4)]), 100).expect("data");
    assert_eq!(fg.names, ["total", "a", "b", "c"]);
    assert_eq!(
        fg.levels,
        [
            vec![0, 7, 0, 0],
            vec![0, 7, 4, 1],
            // b at x=4 (after a's self), c right after b.
            vec![4, 1, 1, 2, 0, 2, 2, 3],
        ]
    );
    assert_eq!((fg.total, fg.max_self), (7, 4));
}

#[test]
fn levels_expand_back_to_the_stacks() {
    let list = [
        ("main;a;b", 3),
        ("main;a", 2),
        ("main;c;d;e", 5),
        ("main;c;d", 1),
        ("zeta", 1),
        ("alpha;main", 9),
    ];
    let fg = flamegraph(&stacks(&list), DEFAULT_MAX_NODES).expect("data");
    assert_eq!(fg.total, 21);
    assert_eq!(fg.max_self, 9);
    let got = expand(&fg.names, &fg.levels, 4).expect("valid levels");
    assert_eq!(got[0], expected(&list));
    // Siblings sorted by name: alpha, main, zeta on level 1.
    let level1: Vec<&str> = fg.levels[1]
        .chunks(4)
        .map(|n| fg.names[n[3] as usize].as_str())
        .collect();
    assert_eq!(level1, ["alpha", "main", "zeta"]);
}

#[test]
fn empty_and_zero_merges_have_no_flamegraph() {
    assert!(flamegraph(&MergedStacks::default(), 10).is_none());
    assert!(flamegraph(&stacks(&[("a;b", 0)]), 10).is_none());
    assert!(flamegraph(&stacks(&[("a;b", -5)]), 10).is_none());
}

#[test]
fn truncation_keeps_the_biggest_nodes_and_folds_the_rest_into_other() {
    let mut list: Vec<(String, i64)> = (0..50).map(|i| (format!("main;f{i:02}"), i + 1)).collect();
    list.push(("main;f10;deep".into(), 100));
    let list: Vec<(&str, i64)> = list.iter().map(|(p, v)| (p.as_str(), *v)).collect();
    let total: i64 = list.iter().map(|(_, v)| v).sum();
    let fg = flamegraph(&stacks(&list), 5).expect("data");
    assert_eq!(fg.total, total);
    let got = expand(&fg.names, &fg.levels, 4).expect("valid levels");
    assert_eq!(got[0].values().sum::<i64>(), total);
    // Kept: main, f10 (111), deep (100), f49 (50), f48 (49); the other 47 leaves
    // are one "other" under main.
    let kept: Vec<&String> = got[0].keys().collect();
    assert_eq!(
        kept,
        [
            "main;f10",
            "main;f10;deep",
            "main;f48",
            "main;f49",
            "main;other"
        ]
    );
    let nodes: usize = fg.levels.iter().map(|l| l.len() / 4).sum();
    assert_eq!(nodes, 1 + 5 + 1);
}

#[test]
fn ties_are_cut_at_the_budget() {
    let list: Vec<String> = (0..10).map(|i| format!("main;f{i}")).collect();
    let list: Vec<(&str, i64)> = list.iter().map(|p| (p.as_str(), 1)).collect();
    let fg = flamegraph(&stacks(&list), 3).expect("data");
    let got = expand(&fg.names, &fg.levels, 4).expect("valid levels");
    assert_eq!(got[0].get("main;other"), Some(&8));
    assert_eq!(got[0].len(), 3);
    assert_eq!(fg.total, 10);
}

#[test]
fn duplicate_siblings_and_bad_indices_are_merged_not_fatal() {
    let dup = MergedStacks {
        names: vec!["main".into(), "a".into(), "a".into()],
        nodes: vec![(0, 0), (1, 1), (1, 2), (3, 1)],
        self_values: vec![1, 2, 3, 4],
    };
    let fg = flamegraph(&dup, 100).expect("data");
    let got = expand(&fg.names, &fg.levels, 4).expect("valid levels");
    assert_eq!(
        got[0],
        expected(&[("main", 1), ("main;a", 5), ("main;a;a", 4)])
    );
    let bad = MergedStacks {
        names: vec!["x".into()],
        nodes: vec![(5, 0), (0, 9)],
        self_values: vec![1],
    };
    let fg = flamegraph(&bad, 100).expect("data");
    assert_eq!(fg.total, 1);
}

#[test]
fn diff_aligns_both_sides() {
    let left = stacks(&[("a;b", 2), ("a", 1)]);
    let right = stacks(&[("a;c", 3), ("d", 4)]);
    let fg = flamegraph_diff(&left, &right, 100).expect("data");
    assert_eq!((fg.left_ticks, fg.right_ticks, fg.total), (3, 7, 10));
    assert_eq!(fg.levels[0], [0, 3, 0, 0, 7, 0, 0]);
    let got = expand(&fg.names, &fg.levels, 7).expect("valid levels");
    assert_eq!(got[0], expected(&[("a;b", 2), ("a", 1)]));
    assert_eq!(got[1], expected(&[("a;c", 3), ("d", 4)]));
    let fg = flamegraph_diff(&left, &right, 1).expect("data");
    let got = expand(&fg.names, &fg.levels, 7).expect("valid levels");
    assert_eq!(got[0].values().sum::<i64>(), 3);
    assert_eq!(got[1].values().sum::<i64>(), 7);
    assert!(flamegraph_diff(&MergedStacks::default(), &MergedStacks::default(), 9).is_none());
    // Duplicate siblings on one side: the hashed fallback merges them.
    let dup = MergedStacks {
        names: vec!["a".into(), "b".into(), "b".into()],
        nodes: vec![(0, 0), (1, 1), (1, 2)],
        self_values: vec![0, 2, 3],
    };
    let fg = flamegraph_diff(&dup, &right, 100).expect("data");
    let got = expand(&fg.names, &fg.levels, 7).expect("valid levels");
    assert_eq!(got[0], expected(&[("a;b", 5)]));
    assert_eq!(got[1], expected(&[("a;c", 3), ("d", 4)]));
}

#[test]
fn max_nodes_defaults_and_caps() {
    assert_eq!(max_nodes(None), DEFAULT_MAX_NODES);
    assert_eq!(max_nodes(Some(0)), DEFAULT_MAX_NODES);
    assert_eq!(max_nodes(Some(-3)), DEFAULT_MAX_NODES);
    assert_eq!(max_nodes(Some(10)), 10);
    assert_eq!(max_nodes(Some(i64::MAX)), MAX_MAX_NODES);
}

/// A random tree of `n` nodes over 50 000 names (siblings distinct), values 1..=20.
pub(crate) fn random_tree(n: usize) -> MergedStacks {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let names = (0..50_000)
        .map(|i| format!("pkg::module::function_{i}"))
        .collect();
    let mut kids = vec![0u32; n + 1];
    let mut nodes = Vec::with_capacity(n);
    let mut self_values = Vec::with_capacity(n);
    for i in 0..n {
        let parent = if i < 20 { 0 } else { next() as usize % i + 1 };
        let ordinal = kids[parent] as u64;
        kids[parent] += 1;
        let name = ((ordinal * 7919 + parent as u64) % 50_000) as u32;
        nodes.push((parent as u32, name));
        self_values.push((next() % 20 + 1) as i64);
    }
    MergedStacks {
        names,
        nodes,
        self_values,
    }
}

#[test]
fn flamegraph_of_a_random_tree_adds_up() {
    let tree = random_tree(20_000);
    for max in [100, 20_000] {
        let fg = flamegraph(&tree, max).expect("data");
        assert_eq!(fg.total, tree.total());
        let got = expand(&fg.names, &fg.levels, 4).expect("valid levels");
        assert_eq!(got[0].values().sum::<i64>(), tree.total());
    }
}

/// A tree of `n` nodes interned from random stacks, as the stores build
/// theirs: 50 000 functions, each calling one of 8 others, stacks 4–40 deep.
pub(crate) fn stack_tree(n: usize) -> MergedStacks {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = MergedStacks {
        names: (0..50_000)
            .map(|i| format!("pkg::module::function_{i}"))
            .collect(),
        ..MergedStacks::default()
    };
    let mut ids: FxHashMap<(u32, u32), u32> = FxHashMap::default();
    while out.nodes.len() < n {
        let depth = 4 + next() % 37;
        let (mut parent, mut function) = (0u32, (next() % 4) as u32);
        for _ in 0..depth {
            let id = *ids.entry((parent, function)).or_insert_with(|| {
                out.nodes.push((parent, function));
                out.self_values.push(0);
                out.nodes.len() as u32 - 1
            });
            parent = id + 1;
            function = ((u64::from(function) * 31 + next() % 8) % 50_000) as u32;
        }
        out.self_values[parent as usize - 1] += (next() % 20 + 1) as i64;
    }
    out
}

/// This thread's CPU time (from /proc, Linux), ns; 0 elsewhere. Less
/// sensitive than wall time to other load on the machine.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Runs `f`, printing wall and CPU time.
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let (started, cpu) = (Instant::now(), thread_cpu_ns());
    let out = f();
    let cpu_ms = thread_cpu_ns().saturating_sub(cpu) / 1_000_000;
    println!("{what}: {:?} wall, {cpu_ms} ms CPU", started.elapsed());
    out
}

#[test]
#[ignore = "timing; run in release with --ignored --nocapture"]
fn flamegraph_of_a_million_nodes_is_fast() {
    for (shape, tree) in [
        ("stack-like", stack_tree(1_000_000)),
        ("random-parent", random_tree(1_000_000)),
    ] {
        let samples: i64 = tree.self_values.iter().filter(|&&v| v > 0).count() as i64;
        for max in [DEFAULT_MAX_NODES, MAX_MAX_NODES] {
            let what = format!(
                "{shape} tree, {} nodes, {samples} stacks, max_nodes {max}",
                tree.nodes.len()
            );
            let fg = timed(&what, || flamegraph(&tree, max).expect("data"));
            assert_eq!(fg.total, tree.total());
        }
        let what = format!(
            "{shape} diff of two {}-node trees, max_nodes {DEFAULT_MAX_NODES}",
            tree.nodes.len()
        );
        let fg = timed(&what, || {
            flamegraph_diff(&tree, &tree, DEFAULT_MAX_NODES).expect("data")
        });
        assert_eq!(fg.left_ticks, fg.right_ticks);
    }
}
