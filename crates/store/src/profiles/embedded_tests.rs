//! Tests of the embedded profile store: durability across reopen, cuts into
//! blocks, compaction, retention, and queries across the parts.

use super::*;
use crate::profiles::{StackSample, PROFILE_TYPE_LABEL};

const CPU: &str = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";
const HOUR: i64 = 3_600_000_000_000;
const MS: i64 = 1_000_000;

fn write(value: i64, time_ns: i64) -> ProfileWrite {
    ProfileWrite {
        labels: Labels::from_pairs([
            ("__name__", "process_cpu"),
            (PROFILE_TYPE_LABEL, CPU),
            ("service_name", if value % 2 == 0 { "even" } else { "odd" }),
        ]),
        time_ns,
        duration_ns: 10,
        samples: vec![StackSample {
            frames: vec!["main".into(), format!("f{}", value % 3)],
            value,
            span_id: Some(value as u64),
            trace_id: Some(value as u128),
        }],
        ticks: Vec::new(),
        objects: Vec::new(),
    }
}

fn all() -> ProfileQuery {
    ProfileQuery {
        profile_type: CPU.into(),
        start_ns: 0,
        end_ns: i64::MAX,
        ..ProfileQuery::default()
    }
}

fn config(dir: &std::path::Path) -> ProfileStoreConfig {
    let mut c = ProfileStoreConfig::new(dir);
    c.check_interval = Duration::from_secs(3600);
    c
}

async fn put(store: &EmbeddedProfileStore, values: std::ops::RangeInclusive<i64>, t0: i64) {
    for v in values {
        store
            .write(vec![write(v, t0 + v)])
            .unwrap()
            .await
            .unwrap()
            .unwrap();
    }
}

fn segments(dir: &std::path::Path) -> usize {
    wal::list_segments(&dir.join("wal")).unwrap().len()
}

#[tokio::test]
async fn acknowledged_profiles_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = EmbeddedProfileStore::open(config(dir.path())).unwrap();
        put(&store, 1..=10, 1_000).await;
        assert_eq!(store.merge(&all()).unwrap().total(), 55);
    }
    let store = EmbeddedProfileStore::open(config(dir.path())).unwrap();
    assert_eq!(store.recovery().records, 10);
    let merged = store.merge(&all()).unwrap();
    assert_eq!(merged.total(), 55);
    assert_eq!(merged.names.len(), 4);
    let mut q = all();
    q.trace_ids = vec![4];
    assert_eq!(store.merge(&q).unwrap().total(), 4);
    // New writes after a replay continue the ids.
    put(&store, 11..=11, 1_000).await;
    assert_eq!(store.merge(&all()).unwrap().total(), 66);
    assert_eq!(store.stats().0, 2);
}

#[tokio::test]
async fn cut_heads_become_blocks_that_answer_like_the_head_did() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedProfileStore::open(config(dir.path())).unwrap();
    put(&store, 1..=10, 1_000).await;
    let before = store.merge(&all()).unwrap();
    let totals_before = store.totals(&all(), 5, &["service_name".into()]).unwrap();
    store.flush().unwrap();
    assert_eq!(store.stats().1, 0, "the head is empty after a cut");
    assert_eq!(store.block_stats().0, 1);
    assert_eq!(segments(dir.path()), 1, "only the live segment is left");
    // Writes after the cut go to a new head; queries join both.
    put(&store, 11..=12, 1_000).await;
    assert_eq!(store.merge(&all()).unwrap().total(), 78);
    let mut q = all();
    q.start_ns = 1_000;
    q.end_ns = 1_011;
    assert_eq!(store.merge(&q).unwrap(), before);
    assert_eq!(
        store.totals(&q, 5, &["service_name".into()]).unwrap(),
        totals_before
    );
    let mut q = all();
    q.span_ids = vec![3, 12];
    assert_eq!(store.merge(&q).unwrap().total(), 15);
    let hits = store.span_hits(&all(), Some("f0"), 10).unwrap();
    let spans: Vec<Option<u64>> = hits.iter().map(|h| h.span_id).collect();
    assert_eq!(spans, vec![Some(12), Some(9), Some(6), Some(3)]);
    assert_eq!(store.series(&[], 0, i64::MAX).unwrap().len(), 2);
    assert_eq!(
        store.profile_types(0, i64::MAX).unwrap(),
        vec![CPU.to_string()]
    );
    assert_eq!(store.time_bounds().unwrap(), Some((1_001, 1_022)));
    store.close();
    drop(store);
    // Reopened: the block plus the new head's log.
    let store = EmbeddedProfileStore::open(config(dir.path())).unwrap();
    assert_eq!(store.recovery().blocks, 1);
    assert_eq!(store.recovery().records, 2);
    assert_eq!(store.merge(&all()).unwrap().total(), 78);
    let exported = store.export().unwrap();
    let expected: Vec<ProfileWrite> = (1..=12).map(|v| write(v, 1_000 + v)).collect();
    assert_eq!(exported, expected);
}

#[tokio::test]
async fn a_cut_interrupted_before_its_block_is_finished_on_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = EmbeddedProfileStore::open(config(dir.path())).unwrap();
        put(&store, 1..=3, 1_000).await;
        // What a cut does before writing the block: rotate, start over.
        {
            let mut head = store.shared.head_write();
            store.shared.wal.rotate().unwrap();
            *head = Head::default();
        }
        put(&store, 4..=5, 1_000).await;
    }
    let store = EmbeddedProfileStore::open(config(dir.path())).unwrap();
    assert_eq!(store.recovery().records, 5);
    assert_eq!(store.block_stats().0, 1, "the first head became a block");
    assert_eq!(store.stats().1, 2);
    assert_eq!(store.merge(&all()).unwrap().total(), 15);
    drop(store);
    let store = EmbeddedProfileStore::open(config(dir.path())).unwrap();
    assert_eq!(store.merge(&all()).unwrap().total(), 15, "nothing twice");
}

#[tokio::test]
async fn blocks_of_one_window_compact_and_old_ones_expire() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.retention = Duration::from_secs(48 * 3600);
    let store = EmbeddedProfileStore::open(c.clone()).unwrap();
    // Three blocks in day 0, one in day 1: day 0 merges once day 1 has data.
    for (i, t0) in [HOUR, 2 * HOUR, 3 * HOUR].into_iter().enumerate() {
        let i = i as i64;
        put(&store, (i * 10 + 1)..=(i * 10 + 10), t0).await;
        store.flush().unwrap();
    }
    assert_eq!(store.block_stats().0, 3);
    let before = store.merge(&all()).unwrap();
    put(&store, 31..=31, 25 * HOUR).await;
    store.flush().unwrap();
    let (blocks, samples, _) = store.block_stats();
    assert_eq!((blocks, samples), (2, 31));
    let mut q = all();
    q.end_ns = 24 * HOUR;
    let merged = store.merge(&q).unwrap();
    let mut after = merged.stacks();
    let mut expected = before.stacks();
    after.sort();
    expected.sort();
    assert_eq!(after, expected);
    let files = block::list_blocks(&dir.path().join("blocks")).unwrap();
    assert_eq!(files.len(), 2);
    // Data two days newer than day 0 expires it.
    put(&store, 32..=32, 52 * HOUR).await;
    store.flush().unwrap();
    let mut q = all();
    q.end_ns = 24 * HOUR;
    assert_eq!(store.merge(&q).unwrap(), MergedStacks::default());
    assert_eq!(store.merge(&all()).unwrap().total(), 63);
    drop(store);
    let store = EmbeddedProfileStore::open(c).unwrap();
    assert_eq!(store.merge(&all()).unwrap().total(), 63);
}

#[tokio::test]
async fn the_disk_quota_deletes_the_oldest_block() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    let store = EmbeddedProfileStore::open(c.clone()).unwrap();
    put(&store, 1..=10, HOUR).await;
    store.flush().unwrap();
    let one_block = store.block_stats().2;
    drop(store);
    c.disk_quota = DiskQuota::new(one_block * 3 / 2);
    let store = EmbeddedProfileStore::open(c).unwrap();
    put(&store, 11..=20, 30 * HOUR).await;
    store.flush().unwrap();
    assert_eq!(store.block_stats().0, 1);
    assert_eq!(store.merge(&all()).unwrap().total(), (11..=20).sum::<i64>());
}

/// An agent-like write: two stacks of pid 7, timed samples on threads 70
/// and 71 at `t0` + 1 ms and later (blocks keep tick times to the ms).
fn timed_write(t0: i64) -> ProfileWrite {
    let stack = |leaf: &str| StackSample {
        frames: vec!["main".into(), leaf.into()],
        value: 30,
        span_id: None,
        trace_id: None,
    };
    let tick = |sample, thread_id, dt| crate::profiles::Tick {
        sample,
        thread_id,
        time_ns: t0 + dt * MS,
        value: 10,
    };
    ProfileWrite {
        labels: Labels::from_pairs([
            ("__name__", "process_cpu"),
            (PROFILE_TYPE_LABEL, CPU),
            ("pid", "7"),
        ]),
        time_ns: t0,
        duration_ns: 100 * MS,
        samples: vec![stack("hot"), stack("cold")],
        ticks: vec![
            tick(0, 70, 1),
            tick(0, 70, 2),
            tick(0, 71, 3),
            tick(1, 71, 50),
            tick(1, 71, 60),
            tick(1, 70, 70),
        ],
        objects: vec![app_object()],
    }
}

/// The object file `timed_write`'s series lists.
fn app_object() -> crate::profiles::ObjectFile {
    crate::profiles::ObjectFile {
        path: "/srv/app".into(),
        build_id: "c0ffee".into(),
        offset: 0x1000,
        size: 0x4000,
    }
}

#[tokio::test]
async fn timed_samples_answer_by_thread_and_time_in_every_part() {
    let dir = tempfile::tempdir().unwrap();
    let window = |start_ns, end_ns| ProfileQuery {
        profile_type: CPU.into(),
        matchers: vec![crate::series::Matcher::equal("pid", "7")],
        start_ns,
        end_ns,
        ..ProfileQuery::default()
    };
    let check = |store: &EmbeddedProfileStore, t0: i64| {
        let all = store.merge_ticks(&window(t0, t0 + 100 * MS), &[]).unwrap();
        assert_eq!(all.stacks.total(), 60);
        assert_eq!(all.threads, vec![(70, 3), (71, 3)]);
        let early = store.merge_ticks(&window(t0, t0 + 10 * MS), &[70]).unwrap();
        assert_eq!(early.stacks.stacks(), vec![(vec!["main", "hot"], 20)]);
        assert_eq!(early.threads, vec![(70, 2), (71, 1)]);
        let late = store
            .merge_ticks(&window(t0 + 40 * MS, t0 + 65 * MS), &[71])
            .unwrap();
        assert_eq!(late.stacks.stacks(), vec![(vec!["main", "cold"], 20)]);
        assert_eq!(
            store.objects(&window(t0, t0 + 100 * MS)).unwrap(),
            [app_object()]
        );
        assert_eq!(
            store
                .merge_ticks(&window(t0, t0 + 100), &[99])
                .unwrap()
                .stacks,
            MergedStacks::default()
        );
    };
    let store = EmbeddedProfileStore::open(config(dir.path())).unwrap();
    store
        .write(vec![timed_write(HOUR)])
        .unwrap()
        .await
        .unwrap()
        .unwrap();
    check(&store, HOUR);
    drop(store);
    // From the WAL, then from a block, then from a block compacted with others.
    let store = EmbeddedProfileStore::open(config(dir.path())).unwrap();
    check(&store, HOUR);
    store.flush().unwrap();
    check(&store, HOUR);
    for t0 in [2 * HOUR, 3 * HOUR, 4 * HOUR] {
        store
            .write(vec![timed_write(t0)])
            .unwrap()
            .await
            .unwrap()
            .unwrap();
        store.flush().unwrap();
    }
    store
        .write(vec![timed_write(26 * HOUR)])
        .unwrap()
        .await
        .unwrap()
        .unwrap();
    store.flush().unwrap();
    assert_eq!(store.block_stats().0, 2, "day 0 was compacted");
    check(&store, HOUR);
    check(&store, 3 * HOUR);
    check(&store, 26 * HOUR);
    // The merged samples are unchanged by the timed ones.
    assert_eq!(
        store.merge(&window(HOUR, HOUR + 100 * MS)).unwrap().total(),
        60
    );
    let exported = store.export().unwrap();
    assert_eq!(exported[0], timed_write(HOUR));
}
