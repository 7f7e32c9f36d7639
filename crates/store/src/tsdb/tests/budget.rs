//! The head's memory budget: new series past it are refused (named, counted)
//! while existing series keep taking samples; the running memory count
//! matches an exact recount and falls when a block cut drops series.

use super::{append_durably, batch, config, labels, open};
use crate::series::{SeriesBatch, SeriesStore};
use crate::tsdb::Tsdb;
use model::metrics::{Exemplar, Labels, MetricMetadata, MetricType, Sample, TimeSeries};

const BASE: i64 = 1_700_000_000_000;
const HOUR: i64 = 3_600_000;

fn series(i: usize) -> Labels {
    labels(&[
        ("__name__", "m"),
        ("instance", &format!("host-{}", i / 100)),
        ("i", &i.to_string()),
    ])
}

/// (running count, exact recount) of the head.
fn counts(store: &Tsdb) -> (usize, usize) {
    let head = store.shared.head();
    (head.bytes(), head.recount())
}

/// Appends new series one at a time until one is refused; returns how many were taken.
fn fill(store: &Tsdb, from: usize) -> usize {
    for i in from..from + 100_000 {
        let got = store
            .append(batch(&series(i), &[(BASE, 1.0)]))
            .expect("append");
        got.ack.blocking_recv().expect("ack").expect("durable");
        if got.rejected.over_limit > 0 {
            let message = &got.rejected.messages[0];
            assert!(
                message.starts_with("metrics head memory budget exhausted")
                    && message.contains("--memory-budget")
                    && message.contains("metric m"),
                "{message}"
            );
            return i - from;
        }
    }
    panic!("the head budget never refused a series");
}

#[test]
fn past_its_budget_the_head_refuses_new_series_but_not_samples_of_existing_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = config(dir.path());
    c.head_budget_bytes = 1 << 20;
    let store = open(&c);
    let taken = fill(&store, 0);
    assert!(taken > 100 && taken < 10_000, "{taken} series fit 1 MiB");
    let stats = store.stats();
    assert_eq!(stats.active_series, taken as u64);
    assert_eq!(stats.series_over_budget, 1);
    assert_eq!(stats.series_over_limit, 0, "not a cardinality limit");
    assert!(stats.head_bytes <= 1 << 20, "{}", stats.head_bytes);
    assert!(stats.memory_bytes >= stats.head_bytes);
    // Existing series still take samples, a refused one still does not.
    for i in [0, taken / 2, taken - 1] {
        assert_eq!(
            append_durably(&store, batch(&series(i), &[(BASE + 15_000, 2.0)])),
            1
        );
    }
    let got = store
        .append(batch(&series(taken), &[(BASE + 15_000, 2.0)]))
        .expect("append");
    assert_eq!(got.rejected.over_limit, 1);
    assert_eq!(store.stats().series_over_budget, 2);
    let (running, exact) = counts(&store);
    assert_eq!(running, exact);
}

#[test]
fn a_block_cut_that_drops_series_frees_their_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = config(dir.path());
    c.head_budget_bytes = 1 << 20;
    let store = open(&c);
    let taken = fill(&store, 0);
    let before = store.stats().head_bytes;
    // Only series 0 goes on: the others end up in the block alone.
    assert_eq!(
        append_durably(&store, batch(&series(0), &[(BASE + 2 * HOUR, 1.0)])),
        1
    );
    store.maintain().expect("cut");
    assert_eq!(store.block_metas().len(), 1);
    let after = store.stats();
    assert_eq!(after.active_series, 1);
    assert!(
        after.head_bytes < before / 4,
        "{} bytes after the cut, {before} before",
        after.head_bytes
    );
    let (running, exact) = counts(&store);
    assert_eq!(running, exact);
    // Room again for about as many new series.
    let again = store
        .append(batch(&series(taken + 1), &[(BASE + 2 * HOUR, 1.0)]))
        .expect("append");
    assert_eq!(again.accepted_samples, 1);
}

/// Random appends across chunk cuts, with exemplars overflowing their ring
/// and metadata changes.
#[test]
fn the_running_memory_count_matches_a_recount() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = config(dir.path());
    c.exemplar_capacity = 50;
    let store = open(&c);
    let mut rng = fastrand::Rng::with_seed(7);
    let mut last = vec![BASE; 300];
    let mut accepted = 0;
    for round in 0..400 {
        let mut b = SeriesBatch::default();
        for _ in 0..20 {
            let i = rng.usize(..last.len());
            let samples: Vec<Sample> = (0..rng.usize(1..8))
                .map(|_| {
                    last[i] += rng.i64(1..60_000);
                    Sample {
                        timestamp_ms: last[i],
                        value: rng.f64() * 100.0,
                    }
                })
                .collect();
            let exemplars = if rng.u8(..) < 40 {
                vec![Exemplar {
                    labels: labels(&[("trace_id", &format!("{:032x}", rng.u128(..)))]),
                    value: 1.0,
                    timestamp_ms: last[i],
                }]
            } else {
                Vec::new()
            };
            b.series.push(TimeSeries {
                labels: series(i),
                samples,
                exemplars,
            });
        }
        if round % 50 == 0 {
            b.metadata.push(MetricMetadata {
                metric_family_name: format!("m{}", round % 3),
                metric_type: MetricType::Gauge,
                help: format!("help {round}"),
                unit: String::new(),
            });
        }
        let got = store.append(b).expect("append");
        accepted += got.accepted_samples;
        got.ack.blocking_recv().expect("ack").expect("durable");
        let (running, exact) = counts(&store);
        assert_eq!(running, exact, "round {round}");
    }
    assert_eq!(store.stats().head_samples, accepted);
    // Reopening replays to the same count.
    let (running, _) = counts(&store);
    drop(store);
    let store = open(&c);
    let (replayed, exact) = counts(&store);
    assert_eq!(replayed, exact);
    assert!(
        replayed.abs_diff(running) < running / 5,
        "{replayed} vs {running}"
    );
}
