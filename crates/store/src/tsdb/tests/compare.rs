//! Property-style check: the same random batches (out-of-order samples,
//! duplicates, staleness markers, exemplars, metadata) go to the TSDB and to
//! [`MemorySeriesStore`]; every query must answer the same, bit for bit,
//! before and after a restart and after the head is cut into blocks.

use super::{append_durably, config, open};
use crate::series::{
    MatchOp, Matcher, MemorySeriesStore, Select, SeriesBatch, SeriesQuery, SeriesStore,
};
use model::metrics::{stale_nan, Exemplar, Labels, MetricMetadata, MetricType, Sample, TimeSeries};
use std::collections::HashMap;

const BASE: i64 = 1_700_000_000_000;

fn random_labels(rng: &mut fastrand::Rng) -> Labels {
    let name = ["up", "http_requests_total", "node_cpu_seconds_total"][rng.usize(..3)];
    let mut pairs = vec![("__name__", name.to_string())];
    pairs.push(("job", ["a", "b", "c"][rng.usize(..3)].to_string()));
    if rng.bool() {
        pairs.push(("instance", ["x", "y", "z:9100"][rng.usize(..3)].to_string()));
    }
    if rng.u8(..4) == 0 {
        pairs.push(("mode", ["idle", "user"][rng.usize(..2)].to_string()));
    }
    Labels::from_pairs(pairs)
}

fn random_value(rng: &mut fastrand::Rng) -> f64 {
    match rng.u8(..8) {
        0 => stale_nan(),
        1 => f64::from(rng.u32(..1000)),
        2 => f64::from(rng.u32(..100_000)) / 100.0,
        3 => -0.0,
        _ => rng.f64() * 1e6,
    }
}

fn random_batches(seed: u64, count: usize) -> Vec<SeriesBatch> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut newest: HashMap<Labels, i64> = HashMap::new();
    let mut out = Vec::new();
    for _ in 0..count {
        let mut batch = SeriesBatch::default();
        for _ in 0..rng.usize(1..6) {
            let labels = random_labels(&mut rng);
            let last = newest.get(&labels).copied().unwrap_or(BASE);
            // Mostly forward, sometimes back (out of order) or equal (duplicates).
            let mut t = last + rng.i64(-40_000..60_000);
            let fresh = t > last || !newest.contains_key(&labels);
            let mut samples = Vec::new();
            for _ in 0..rng.usize(1..30) {
                samples.push(Sample {
                    timestamp_ms: t,
                    value: random_value(&mut rng),
                });
                if rng.u8(..10) == 0 {
                    let copy = *samples.last().expect("pushed");
                    samples.push(copy); // same value again: silently accepted
                }
                t += rng.i64(-1_000..15_000);
            }
            let max = samples.iter().map(|s| s.timestamp_ms).max().unwrap_or(last);
            newest.insert(labels.clone(), max.max(last));
            let exemplars = if fresh && rng.bool() {
                vec![Exemplar {
                    labels: Labels::from_pairs([("trace_id", format!("{:032x}", rng.u128(..)))]),
                    value: rng.f64(),
                    timestamp_ms: samples[0].timestamp_ms,
                }]
            } else {
                Vec::new()
            };
            batch.series.push(TimeSeries {
                labels,
                samples,
                exemplars,
            });
        }
        if rng.u8(..4) == 0 {
            batch.metadata.push(MetricMetadata {
                metric_family_name: ["up", "http_requests"][rng.usize(..2)].into(),
                metric_type: [MetricType::Gauge, MetricType::Counter][rng.usize(..2)],
                help: format!("help {}", rng.u8(..3)),
                unit: String::new(),
            });
        }
        out.push(batch);
    }
    out
}

fn matcher_sets() -> Vec<Vec<Matcher>> {
    let m = |op, n: &str, v: &str| Matcher::new(op, n, v).expect("valid matcher");
    vec![
        vec![],
        vec![Matcher::equal("job", "a")],
        vec![m(MatchOp::NotEqual, "job", "a")],
        vec![m(MatchOp::Regex, "instance", "x|")],
        vec![m(MatchOp::NotRegex, "mode", "i.*")],
        vec![Matcher::equal("instance", "")],
        vec![m(MatchOp::NotEqual, "instance", "")],
        vec![
            m(MatchOp::Regex, "__name__", "up|node.*"),
            Matcher::equal("job", "b"),
        ],
        vec![Matcher::equal("nope", "")],
        vec![m(MatchOp::NotEqual, "nope", "")],
        vec![
            m(MatchOp::Regex, "job", ".*"),
            m(MatchOp::NotRegex, "instance", "z.*"),
        ],
        vec![
            Matcher::equal("__name__", "up"),
            Matcher::equal("job", "zzz"),
        ],
    ]
}

fn bits(data: &[crate::series::SeriesData]) -> Vec<(String, Vec<(i64, u64)>)> {
    data.iter()
        .map(|d| {
            (
                d.labels.to_string(),
                d.samples
                    .iter()
                    .map(|s| (s.timestamp_ms, s.value.to_bits()))
                    .collect(),
            )
        })
        .collect()
}

fn assert_same(tsdb: &dyn SeriesStore, memory: &dyn SeriesStore, when: &str) {
    let ranges = [
        (i64::MIN, i64::MAX),
        (BASE, BASE + 60_000),
        (BASE + 100_000, BASE + 400_000),
        (BASE + 10_000_000, i64::MAX),
    ];
    for set in matcher_sets() {
        for &(lo, hi) in &ranges {
            let select = Select {
                matchers: set.clone(),
                start_ms: lo,
                end_ms: hi,
                max_samples: 0,
            };
            let a = tsdb.select(&select).expect("tsdb select");
            let b = memory.select(&select).expect("memory select");
            let (a, b) = (bits(&a), bits(&b));
            if a != b {
                let names = |x: &[(String, Vec<(i64, u64)>)]| {
                    x.iter()
                        .map(|(n, s)| format!("{n}:{}", s.len()))
                        .collect::<Vec<_>>()
                };
                let first = a.iter().zip(&b).find(|(x, y)| x != y).map(|(x, y)| {
                    let at = x.1.iter().zip(&y.1).position(|(p, q)| p != q);
                    (x.0.clone(), at, at.map(|i| (x.1.get(i), y.1.get(i))))
                });
                panic!(
                    "{when}: select {set:?} [{lo}, {hi}]: tsdb {:?}\nmemory {:?}\nfirst difference {first:?}",
                    names(&a),
                    names(&b)
                );
            }
            let query = SeriesQuery {
                matcher_sets: if set.is_empty() {
                    vec![]
                } else {
                    vec![set.clone()]
                },
                start_ms: lo,
                end_ms: hi,
                limit: 0,
            };
            assert_eq!(
                tsdb.series(&query).expect("series"),
                memory.series(&query).expect("series"),
                "{when}: series {query:?}"
            );
            assert_eq!(
                tsdb.label_names(&query).expect("names"),
                memory.label_names(&query).expect("names"),
                "{when}: label names {query:?}"
            );
            for name in ["job", "instance", "__name__", "nope"] {
                assert_eq!(
                    tsdb.label_values(name, &query).expect("values"),
                    memory.label_values(name, &query).expect("values"),
                    "{when}: label values {name} {query:?}"
                );
            }
            if !set.is_empty() {
                let sets = vec![set.clone()];
                assert_eq!(
                    tsdb.exemplars(&sets, lo, hi).expect("exemplars"),
                    memory.exemplars(&sets, lo, hi).expect("exemplars"),
                    "{when}: exemplars {set:?}"
                );
            }
        }
    }
    assert_eq!(
        tsdb.metadata().expect("metadata"),
        memory.metadata().expect("metadata")
    );
    let limited = SeriesQuery {
        limit: 3,
        ..SeriesQuery::all()
    };
    assert_eq!(
        tsdb.series(&limited).expect("series"),
        memory.series(&limited).expect("series")
    );
}

#[test]
fn tsdb_answers_like_the_memory_store_on_random_data() {
    for seed in 0..6u64 {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut c = config(dir.path());
        c.block_range_ms = 24 * 3_600_000; // no cut: the window never refuses this data
        let tsdb = open(&c);
        let memory = MemorySeriesStore::new();
        for batch in random_batches(seed, 60) {
            let a = tsdb.append(batch.clone()).expect("tsdb append");
            let b = memory.append(batch).expect("memory append");
            assert_eq!(a.accepted_samples, b.accepted_samples, "seed {seed}");
            assert_eq!(a.rejected, b.rejected, "seed {seed}");
            a.ack.blocking_recv().expect("ack").expect("durable");
        }
        assert_same(&tsdb, &memory, &format!("seed {seed}"));
        drop(tsdb);
        let tsdb = open(&c);
        assert_same(&tsdb, &memory, &format!("seed {seed} after restart"));
    }
}

#[test]
fn blocks_and_head_together_answer_like_the_memory_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = config(dir.path());
    c.block_range_ms = 120_000; // 2 min blocks: many cuts over the data
    c.max_block_range_ms = 120_000 * 9;
    let tsdb = open(&c);
    let memory = MemorySeriesStore::new();
    // In-order data only: cuts refuse samples older than the window, which
    // the memory store has no notion of.
    let mut rng = fastrand::Rng::with_seed(7);
    for step in 0..200i64 {
        let mut batch = SeriesBatch::default();
        for s in 0..20 {
            let labels = Labels::from_pairs([
                ("__name__", if s % 2 == 0 { "up" } else { "node_load1" }),
                ("instance", &format!("host{}", s % 7)),
                ("job", &format!("job{}", s % 3)),
            ]);
            if rng.u8(..5) == 0 {
                continue; // gaps
            }
            batch.series.push(TimeSeries {
                labels,
                samples: vec![Sample {
                    timestamp_ms: BASE + step * 15_000,
                    value: random_value(&mut rng),
                }],
                exemplars: Vec::new(),
            });
        }
        append_durably(&tsdb, batch.clone());
        memory.append(batch).expect("memory append");
        if step % 25 == 0 {
            tsdb.maintain().expect("maintenance");
        }
    }
    tsdb.maintain().expect("maintenance");
    assert!(tsdb.block_ranges().len() >= 2, "{:?}", tsdb.block_ranges());
    assert_same(&tsdb, &memory, "blocks + head");
    drop(tsdb);
    let tsdb = open(&c);
    assert_same(&tsdb, &memory, "blocks + head after restart");
}
