//! Map layout tests; the expected texts are bpftrace 0.17's output for the
//! same values (captured from `bpftrace -e 'BEGIN { …; exit(); }'`).

use super::hist::{hist_index, lhist_index};
use super::*;
use crate::types::{AggKind, Type};

fn map(name: &str, entries: Vec<(Vec<Key>, MapValue)>) -> MapSnapshot {
    MapSnapshot {
        name: name.to_string(),
        kind: Type::Unknown,
        entries,
    }
}

fn hist(values: &[i64]) -> MapValue {
    let mut buckets = vec![0; 66];
    for &v in values {
        buckets[hist_index(v)] += 1;
    }
    MapValue::Hist(buckets)
}

fn lhist(values: &[i64], min: i64, max: i64, step: i64) -> MapValue {
    let mut buckets = vec![0; hist::lhist_buckets(min, max, step) + 2];
    for &v in values {
        buckets[lhist_index(v, min, max, step)] += 1;
    }
    MapValue::Lhist {
        min,
        max,
        step,
        buckets,
    }
}

fn s(v: &str) -> Key {
    Key::Str(v.to_string())
}

const FULL: &str = "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@";
const EMPTY: &str = "                                                    ";

#[test]
fn the_brief_example_at_exit() {
    let maps = vec![
        map("@h", vec![(vec![], hist(&[0, 1, 5, 1000]))]),
        map(
            "@c",
            vec![
                (vec![s("b")], MapValue::Count(2)),
                (vec![s("a")], MapValue::Count(1)),
            ],
        ),
        map(
            "@s",
            vec![(
                vec![],
                MapValue::Stats {
                    count: 2,
                    total: 30,
                },
            )],
        ),
        map("@l", vec![(vec![], lhist(&[15], 0, 100, 10))]),
    ];
    let mut expected = String::from("\n\n@c[a]: 1\n@c[b]: 2\n@h: \n");
    expected.push_str(&format!("[0]                    1 |{FULL}|\n"));
    expected.push_str(&format!("[1]                    1 |{FULL}|\n"));
    expected.push_str(&format!("[2, 4)                 0 |{EMPTY}|\n"));
    expected.push_str(&format!("[4, 8)                 1 |{FULL}|\n"));
    for label in [
        "[8, 16)",
        "[16, 32)",
        "[32, 64)",
        "[64, 128)",
        "[128, 256)",
        "[256, 512)",
    ] {
        expected.push_str(&format!("{label:<16}       0 |{EMPTY}|\n"));
    }
    expected.push_str(&format!("[512, 1K)              1 |{FULL}|\n\n"));
    expected.push_str(&format!("@l: \n[10, 20)               1 |{FULL}|\n\n"));
    expected.push_str("@s: count 2, average 15, total 30\n\n");
    assert_eq!(format_exit(&maps), expected);
}

#[test]
fn integer_maps_sort_by_value_without_trailing_blank() {
    let maps = vec![
        map(
            "@S",
            vec![
                (vec![Key::Int(1)], MapValue::Sum(-10)),
                (vec![Key::Int(2)], MapValue::Sum(5)),
                (vec![Key::Int(3)], MapValue::Sum(-20)),
            ],
        ),
        map(
            "@m",
            vec![
                (vec![Key::Int(1)], MapValue::Min(5)),
                (vec![Key::Int(2)], MapValue::Min(-3)),
                (vec![Key::Int(3)], MapValue::Min(10)),
            ],
        ),
        map("@M", vec![(vec![Key::Int(2)], MapValue::Max(7))]),
    ];
    assert_eq!(
        format_exit(&maps),
        "\n\n@M[2]: 7\n@S[3]: -20\n@S[1]: -10\n@S[2]: 5\n@m[2]: -3\n@m[1]: 5\n@m[3]: 10\n"
    );
}

#[test]
fn avg_and_stats_sort_by_average_then_blank_line() {
    let maps = vec![
        map(
            "@a",
            vec![
                (
                    vec![Key::Int(3)],
                    MapValue::Avg {
                        count: 1,
                        total: 10,
                    },
                ),
                (
                    vec![Key::Int(1)],
                    MapValue::Avg {
                        count: 1,
                        total: 30,
                    },
                ),
                (
                    vec![Key::Int(2)],
                    MapValue::Avg {
                        count: 1,
                        total: 20,
                    },
                ),
                (
                    vec![Key::Int(-1)],
                    MapValue::Avg {
                        count: 2,
                        total: -5,
                    },
                ),
            ],
        ),
        map(
            "@s",
            vec![
                (vec![Key::Int(5)], MapValue::Stats { count: 1, total: 1 }),
                (
                    vec![Key::Int(2)],
                    MapValue::Stats {
                        count: 1,
                        total: 100,
                    },
                ),
                (vec![Key::Int(-3)], MapValue::Stats { count: 1, total: 5 }),
            ],
        ),
    ];
    assert_eq!(
        format_exit(&maps),
        "\n\n@a[-1]: -2\n@a[3]: 10\n@a[2]: 20\n@a[1]: 30\n\n\
         @s[5]: count 1, average 1, total 1\n@s[-3]: count 1, average 5, total 5\n\
         @s[2]: count 1, average 100, total 100\n\n"
    );
}

#[test]
fn keyed_hists_sort_by_total_then_key_bytes() {
    let maps = vec![map(
        "@h",
        vec![
            (vec![Key::Int(1)], hist(&[3, 3, 3])),
            (vec![Key::Int(2)], hist(&[5])),
            (vec![Key::Int(3)], hist(&[1, 1])),
        ],
    )];
    assert_eq!(
        format_exit(&maps),
        format!(
            "\n\n@h[2]: \n[4, 8)                 1 |{FULL}|\n\n@h[3]: \n[1]                    2 |{FULL}|\n\n\
             @h[1]: \n[2, 4)                 3 |{FULL}|\n\n"
        )
    );
}

#[test]
fn multi_keys_and_strings() {
    let maps = vec![
        map(
            "@k",
            vec![
                (vec![s("b"), Key::Int(2)], MapValue::Count(1)),
                (vec![s("a"), Key::Int(3)], MapValue::Count(2)),
                (vec![s("a"), Key::Int(1)], MapValue::Count(3)),
            ],
        ),
        map(
            "@t",
            vec![
                (vec![s("b"), Key::Int(1)], MapValue::Str("x".into())),
                (vec![s("a"), Key::Int(5)], MapValue::Str("y".into())),
                (vec![s("a"), Key::Int(2)], MapValue::Str("z".into())),
            ],
        ),
    ];
    assert_eq!(
        format_exit(&maps),
        "\n\n@k[b, 2]: 1\n@k[a, 3]: 2\n@k[a, 1]: 3\n@t[a, 2]: z\n@t[a, 5]: y\n@t[b, 1]: x\n"
    );
}

#[test]
fn empty_maps_print_one_blank_line_two_for_avg_and_stats() {
    let mut avg = map("@a", vec![]);
    avg.kind = Type::Agg(AggKind::Avg);
    let maps = vec![
        avg,
        map("@c", vec![(vec![], MapValue::Count(0))]),
        map("@h", vec![]),
    ];
    assert_eq!(format_exit(&maps), "\n\n\n\n@c: 0\n\n");
    assert_eq!(format_exit(&[]), "\n\n");
}

#[test]
fn negative_and_out_of_range_buckets() {
    let maps = vec![
        map("@h", vec![(vec![], hist(&[-5, -1, 2]))]),
        map("@m", vec![(vec![], lhist(&[2048], 0, 4096, 1024))]),
        map(
            "@n",
            vec![(vec![], lhist(&[3_000_000], 1_048_576, 4_194_304, 1_048_576))],
        ),
    ];
    let half = format!("{:<52}", "@".repeat(26));
    assert_eq!(
        format_exit(&maps),
        format!(
            "\n\n@h: \n(..., 0)               2 |{FULL}|\n[0]                    0 |{EMPTY}|\n\
             [1]                    0 |{EMPTY}|\n[2, 4)                 1 |{half}|\n\n\
             @m: \n[2K, 3K)               1 |{FULL}|\n\n@n: \n[2M, 3M)               1 |{FULL}|\n\n"
        )
    );
}

#[test]
fn stacks_as_keys_and_values() {
    let stack = Stack {
        frames: vec!["f+1".to_string(), "0x10".to_string()],
        perf: false,
    };
    let maps = vec![
        map(
            "@",
            vec![(vec![Key::Stack(stack.clone())], MapValue::Count(1))],
        ),
        map("@v", vec![(vec![], MapValue::Stack(stack))]),
    ];
    assert_eq!(
        format_exit(&maps),
        "\n\n@[\n    f+1\n    0x10\n]: 1\n@v: \n        f+1\n        0x10\n\n"
    );
}

#[test]
fn perf_stacks_are_not_indented_and_unread_stacks_are_empty() {
    let perf = Stack {
        frames: vec!["\tffffffff81000130 entry+118".to_string()],
        perf: true,
    };
    let m = map(
        "@",
        vec![
            (vec![Key::Stack(perf.clone())], MapValue::Count(2)),
            (vec![Key::Stack(Stack::default())], MapValue::Count(1)),
        ],
    );
    assert_eq!(
        format_map(&m, 0, 1),
        "@[]: 1\n@[\n\tffffffff81000130 entry+118\n]: 2\n"
    );
    assert_eq!(stack_value_text(&perf), "\n\tffffffff81000130 entry+118\n");
}

#[test]
fn symbol_values_run_together_as_in_0_17() {
    let m = map(
        "@x",
        vec![
            (vec![Key::Int(1)], MapValue::Sym("0x1".into())),
            (vec![Key::Int(2)], MapValue::Sym("0x2".into())),
        ],
    );
    assert_eq!(format_map(&m, 0, 1), "@x[1]: 0x1@x[2]: 0x2\n");
}

#[test]
fn print_with_top_and_div() {
    let m = map(
        "@c",
        vec![
            (vec![Key::Int(1)], MapValue::Count(10)),
            (vec![Key::Int(2)], MapValue::Count(30)),
            (vec![Key::Int(3)], MapValue::Count(20)),
        ],
    );
    assert_eq!(format_map(&m, 2, 10), "@c[3]: 2\n@c[2]: 3\n");
    assert_eq!(format_map(&m, 0, 0), "@c[1]: 10\n@c[3]: 20\n@c[2]: 30\n");
}

#[test]
fn attaching_line_counts_probes() {
    assert_eq!(attaching_line(1), "Attaching 1 probe...\n");
    assert_eq!(attaching_line(3), "Attaching 3 probes...\n");
}
