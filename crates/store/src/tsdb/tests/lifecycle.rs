//! Restart, block cuts, compaction, retention, limits and backpressure.

use super::{append_durably, batch, config, labels, open};
use crate::series::{Select, SeriesBatch, SeriesQuery, SeriesStore};
use crate::StoreError;
use model::metrics::{MetricMetadata, MetricType};
use std::io::Write;

const BASE: i64 = 1_700_000_000_000;

fn everything() -> Select {
    Select {
        matchers: Vec::new(),
        start_ms: i64::MIN,
        end_ms: i64::MAX,
        max_samples: 0,
    }
}

fn timestamps(store: &dyn SeriesStore) -> Vec<i64> {
    store
        .select(&everything())
        .expect("select")
        .iter()
        .flat_map(|d| d.samples.iter().map(|s| s.timestamp_ms))
        .collect()
}

#[test]
fn restart_replays_the_wal_and_cuts_a_torn_tail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let c = config(dir.path());
    let up = labels(&[("__name__", "up"), ("job", "a")]);
    {
        let store = open(&c);
        let mut b = batch(
            &up,
            &[(BASE, 1.0), (BASE + 15_000, model::metrics::stale_nan())],
        );
        b.metadata.push(MetricMetadata {
            metric_family_name: "up".into(),
            metric_type: MetricType::Gauge,
            help: "Whether the target is up.".into(),
            unit: String::new(),
        });
        assert_eq!(append_durably(&store, b), 2);
    }
    // A torn write after the last record.
    let wal_dir = c.dir.join("wal");
    let last = crate::embedded::wal::list_segments(&wal_dir)
        .expect("segments")
        .into_iter()
        .max()
        .expect("a segment");
    let path = crate::embedded::wal::segment_path(&wal_dir, last);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open segment");
    f.write_all(&[200, 0, 0, 0, 1, 2, 3])
        .expect("write garbage");
    drop(f);
    let store = open(&c);
    assert_eq!(store.recovery().truncated_bytes, 7);
    assert_eq!(store.recovery().series, 1);
    let got = store.select(&everything()).expect("select");
    assert_eq!(got[0].samples.len(), 2);
    assert!(model::metrics::is_stale_nan(got[0].samples[1].value));
    assert_eq!(
        store.metadata().expect("metadata")[0].metric_type,
        MetricType::Gauge
    );
    // Appends continue after the cut tail.
    assert_eq!(
        append_durably(&store, batch(&up, &[(BASE + 30_000, 1.0)])),
        1
    );
    drop(store);
    assert_eq!(timestamps(&open(&c)).len(), 3);
}

#[test]
fn cut_compaction_and_retention() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = config(dir.path());
    c.block_range_ms = 60_000;
    c.max_block_range_ms = 60_000 * 9;
    let store = open(&c);
    let node = |i: usize| labels(&[("__name__", "node_load1"), ("instance", &format!("h{i}"))]);
    // 30 minutes at 15 s for 3 series.
    for step in 0..120i64 {
        let t = BASE + step * 15_000;
        let mut b = SeriesBatch::default();
        for i in 0..3 {
            b.series.extend(batch(&node(i), &[(t, step as f64)]).series);
        }
        append_durably(&store, b);
        if step % 10 == 0 {
            store.maintain().expect("maintain");
        }
    }
    store.maintain().expect("maintain");
    let ranges = store.block_ranges();
    assert!(
        ranges.iter().any(|r| r.2 >= 2),
        "compacted twice: {ranges:?}"
    );
    assert!(
        ranges.windows(2).all(|w| w[0].1 <= w[1].0),
        "no overlap: {ranges:?}"
    );
    assert!(ranges.len() < 10, "{ranges:?}");
    assert_eq!(timestamps(&store).len(), 360, "nothing lost");
    // Out of bounds: older than the newest block.
    let old = store
        .append(batch(&node(0), &[(BASE + 1000, 1.0)]))
        .expect("append");
    assert_eq!(old.rejected.too_old, 1);
    assert!(
        old.rejected.messages[0].starts_with("out of bounds"),
        "{:?}",
        old.rejected
    );
    let stats = store.stats();
    assert!(stats.blocks >= 1 && stats.disk_bytes > 0, "{stats:?}");
    drop(store);

    // Retention by age: keep the last 10 minutes.
    let mut short = c.clone();
    short.retention = std::time::Duration::from_secs(600);
    let store = open(&short);
    assert_eq!(timestamps(&store).len(), 360, "reopened with blocks");
    store.maintain().expect("maintain");
    let kept = timestamps(&store);
    assert!(kept.len() < 360 && !kept.is_empty(), "{}", kept.len());
    assert!(kept.iter().all(|&t| t >= BASE + 30 * 60_000 - 20 * 60_000));
    drop(store);

    // Retention by bytes, with the limit shared by the span store of the
    // same data directory: while the spans hold an older block, theirs goes
    // first and the metrics keep theirs.
    let mut tiny = c.clone();
    tiny.disk_quota = crate::DiskQuota::new(1);
    let spans = tiny.disk_quota.join("spans");
    spans.report(1 << 20, Some(0));
    let store = open(&tiny);
    store.maintain().expect("maintain");
    let blocks = store.block_ranges().len();
    assert!(blocks > 0, "the spans' older block goes first");
    assert_eq!(tiny.disk_quota.usage()[0], ("spans", 1 << 20));
    // Once the spans have nothing left to delete, every block goes; the head stays.
    spans.report(0, None);
    store.maintain().expect("maintain");
    assert!(store.block_ranges().is_empty());
    assert!(!timestamps(&store).is_empty(), "head samples remain");
}

#[test]
fn cardinality_limits_refuse_new_series_and_name_the_metric() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = config(dir.path());
    c.max_series = 3;
    c.max_series_per_metric = 2;
    let store = open(&c);
    let mut b = SeriesBatch::default();
    for i in 0..3 {
        b.series.extend(
            batch(
                &labels(&[("__name__", "a"), ("i", &i.to_string())]),
                &[(BASE, 1.0)],
            )
            .series,
        );
    }
    let got = store.append(b).expect("append");
    assert_eq!(got.accepted_samples, 2);
    assert_eq!(got.rejected.over_limit, 1);
    assert!(
        got.rejected.messages[0].contains("metric a"),
        "{:?}",
        got.rejected
    );
    assert_eq!(
        append_durably(&store, batch(&labels(&[("__name__", "b")]), &[(BASE, 1.0)])),
        1
    );
    let got = store
        .append(batch(
            &labels(&[("__name__", "c")]),
            &[(BASE, 1.0), (BASE + 1, 2.0)],
        ))
        .expect("append");
    assert_eq!(got.rejected.over_limit, 2);
    assert!(
        got.rejected.messages[0].contains("--max-series 3"),
        "{:?}",
        got.rejected
    );
    // Existing series keep taking samples.
    assert_eq!(
        append_durably(
            &store,
            batch(&labels(&[("__name__", "b")]), &[(BASE + 1, 1.0)])
        ),
        1
    );
    assert_eq!(store.stats().series_over_limit, 2);
    assert_eq!(store.series(&SeriesQuery::all()).expect("series").len(), 3);
}

#[test]
fn over_the_write_queue_budget_appends_are_refused_with_a_retry_hint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = config(dir.path());
    c.memory_budget_bytes = 1;
    let store = open(&c);
    let up = labels(&[("__name__", "up")]);
    let mut acks = Vec::new();
    let mut refused = None;
    for i in 0..100_000i64 {
        match store.append(batch(&up, &[(BASE + i, 1.0)])) {
            Ok(a) => acks.push(a.ack),
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    assert!(
        matches!(refused, Some(StoreError::Overloaded { retry_after_ms, .. }) if retry_after_ms > 0),
        "{refused:?}"
    );
    for ack in acks {
        ack.blocking_recv().expect("ack").expect("durable");
    }
}

#[test]
fn selects_stop_at_the_sample_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&config(dir.path()));
    let samples: Vec<(i64, f64)> = (0..50).map(|i| (BASE + i * 1000, 1.0)).collect();
    append_durably(&store, batch(&labels(&[("__name__", "x")]), &samples));
    let err = store
        .select(&Select {
            max_samples: 10,
            ..everything()
        })
        .expect_err("over the limit");
    assert!(matches!(err, StoreError::TooManySamples { limit: 10 }));
}

#[test]
fn a_large_wal_is_checkpointed_without_a_cut() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = config(dir.path());
    c.wal_segment_bytes = 2_000;
    let store = open(&c);
    let up = labels(&[("__name__", "up"), ("job", "a")]);
    for i in 0..400i64 {
        append_durably(&store, batch(&up, &[(BASE + i * 1000, i as f64)]));
    }
    let wal_dir = c.dir.join("wal");
    let before = crate::embedded::wal::list_segments(&wal_dir)
        .expect("segments")
        .len();
    store.maintain().expect("maintain");
    let after = crate::embedded::wal::list_segments(&wal_dir)
        .expect("segments")
        .len();
    assert!(after < before, "{before} -> {after} segments");
    assert!(store.block_ranges().is_empty(), "no cut needed");
    drop(store);
    let store = open(&c);
    assert_eq!(timestamps(&store).len(), 400);
}
