//! Behaviour of the whole embedded store: durability and recovery, group
//! commit, backpressure, every search field, dependencies, flush to blocks,
//! compaction and retention, and crash safety under a real `kill -9`.

mod crash;

use super::testdata::{resource, sample_spans, trace_id, BASE};
use super::*;
use crate::{DependencyLink, SpanStore, TraceQuery};
use model::{SpanKind, StatusCode};
use std::time::Duration;

fn config(dir: &std::path::Path) -> EmbeddedConfig {
    let mut c = EmbeddedConfig::new(dir);
    c.maintenance_interval = Duration::from_secs(3600);
    // Test spans start on 2026-01-01: keep them whatever today is.
    c.retention = Duration::from_secs(100 * 365 * 24 * 3600);
    c
}

fn write_all(store: &EmbeddedStore, spans: Vec<Span>) {
    let ack = store.write(spans).unwrap();
    ack.blocking_recv().unwrap().unwrap();
}

fn ids(traces: &[Vec<Span>]) -> Vec<TraceId> {
    traces.iter().map(|t| t[0].trace_id).collect()
}

fn query() -> TraceQuery {
    TraceQuery {
        limit: 1000,
        ..TraceQuery::default()
    }
}

/// Checks every query answer on a store holding `sample_spans(30, 3)`.
fn check_queries(store: &EmbeddedStore) {
    assert_eq!(store.services().unwrap(), vec!["backend", "frontend"]);
    let ops = store.operations("backend", None).unwrap();
    let names: Vec<&str> = ops.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, vec!["query-0", "query-1"]);
    assert!(store
        .operations("frontend", Some(SpanKind::Client))
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .operations("frontend", Some(SpanKind::Server))
            .unwrap()
            .len(),
        1
    );

    let t7 = store.trace(trace_id(7)).unwrap().unwrap();
    assert_eq!(t7, sample_spans(30, 3)[21..24].to_vec());
    assert!(store.trace(trace_id(999)).unwrap().is_none());

    // Default limit 20, newest first.
    let all = store.find_traces(&TraceQuery::default()).unwrap();
    assert_eq!(all.len(), DEFAULT_LIMIT);
    assert_eq!(all[0][0].trace_id, trace_id(29));
    assert_eq!(all[19][0].trace_id, trace_id(10));
    assert_eq!(all[0].len(), 3, "whole traces are returned");

    let q = |f: &dyn Fn(&mut TraceQuery)| {
        let mut q = query();
        f(&mut q);
        ids(&store.find_traces(&q).unwrap())
    };
    assert_eq!(q(&|q| q.limit = 2), vec![trace_id(29), trace_id(28)]);
    assert_eq!(q(&|q| q.service = Some("frontend".into())).len(), 30);
    assert_eq!(q(&|q| q.service = Some("nobody".into())).len(), 0);
    assert_eq!(
        q(&|q| {
            q.service = Some("backend".into());
            q.operation = Some("query-0".into());
        })
        .len(),
        30
    );
    assert_eq!(
        q(&|q| {
            q.service = Some("frontend".into());
            q.operation = Some("query-0".into());
        })
        .len(),
        0
    );
    // Tags: span attributes (text of ints too), resource attributes, error.
    let errors = q(&|q| q.tags = vec![("error".into(), "true".into())]);
    assert_eq!(errors.len(), 10);
    assert!(errors.iter().all(|id| store
        .trace(*id)
        .unwrap()
        .unwrap()
        .iter()
        .any(|s| s.status.code == StatusCode::Error)));
    assert_eq!(
        q(&|q| q.tags = vec![("http.status_code".into(), "500".into())]).len(),
        10
    );
    assert_eq!(
        q(&|q| q.tags = vec![
            ("http.method".into(), "GET".into()),
            ("http.status_code".into(), "500".into())
        ])
        .len(),
        5
    );
    assert_eq!(
        q(&|q| q.tags = vec![("host.name".into(), "box-1".into())]).len(),
        30
    );
    assert_eq!(
        q(&|q| q.tags = vec![("host.name".into(), "box-2".into())]).len(),
        0
    );
    // Virtual tags as Jaeger shows OTLP spans.
    assert_eq!(
        q(&|q| q.tags = vec![("span.kind".into(), "server".into())]).len(),
        30
    );
    assert_eq!(
        q(&|q| q.tags = vec![("otel.status_code".into(), "ERROR".into())]).len(),
        10
    );
    // Start range: trace n starts at BASE + n ms.
    assert_eq!(
        q(&|q| {
            q.start_min = Some(BASE + 10_000_000);
            q.start_max = Some(BASE + 12_000_000);
        }),
        vec![trace_id(12), trace_id(11), trace_id(10)]
    );
    // Duration range: trace n's spans last (n + 1) ms.
    assert_eq!(
        q(&|q| {
            q.duration_min = Some(5_000_000);
            q.duration_max = Some(6_000_000);
        }),
        vec![trace_id(5), trace_id(4)]
    );

    let deps = store
        .dependencies(BASE + 1_000_000_000, 1_000_000_000)
        .unwrap();
    assert_eq!(
        deps,
        vec![DependencyLink {
            parent: "frontend".into(),
            child: "backend".into(),
            call_count: 30,
        }]
    );
    assert!(store.dependencies(BASE - 1, 1000).unwrap().is_empty());
}

#[test]
fn every_query_field_on_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(config(dir.path())).unwrap();
    write_all(&store, sample_spans(30, 3));
    check_queries(&store);
}

#[test]
fn restart_replays_the_wal_into_queries() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = EmbeddedStore::open(config(dir.path())).unwrap();
        let spans = sample_spans(30, 3);
        for chunk in spans.chunks(7) {
            write_all(&store, chunk.to_vec());
        }
    }
    let store = EmbeddedStore::open(config(dir.path())).unwrap();
    assert_eq!(store.recovery().wal_spans, 90);
    check_queries(&store);
}

#[test]
fn torn_wal_tail_keeps_earlier_batches() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = EmbeddedStore::open(config(dir.path())).unwrap();
        let spans = sample_spans(30, 3);
        for chunk in spans.chunks(3) {
            write_all(&store, chunk.to_vec());
        }
    }
    let wal_dir = dir.path().join("wal");
    let seq = *wal::list_segments(&wal_dir).unwrap().iter().max().unwrap();
    // The newest segment may be empty (created on close); cut the one with data.
    let path = (1..=seq)
        .rev()
        .map(|s| wal::segment_path(&wal_dir, s))
        .find(|p| std::fs::metadata(p).map(|m| m.len() > 0).unwrap_or(false))
        .unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 5)
        .unwrap();
    let store = EmbeddedStore::open(config(dir.path())).unwrap();
    assert_eq!(store.recovery().wal_records, 29);
    assert!(store.recovery().truncated_bytes > 0);
    assert!(store.trace(trace_id(28)).unwrap().is_some());
    assert!(store.trace(trace_id(29)).unwrap().is_none());
    drop(store);
    // Recovery left a clean log: a second open loses nothing more.
    let store = EmbeddedStore::open(config(dir.path())).unwrap();
    assert_eq!(store.recovery().wal_records, 29);
    assert_eq!(store.recovery().truncated_bytes, 0);
}

#[test]
fn group_commit_acks_every_concurrent_writer() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(config(dir.path())).unwrap());
    let spans = sample_spans(200, 2);
    let handles: Vec<_> = spans
        .chunks(2)
        .map(|c| {
            let store = Arc::clone(&store);
            let c = c.to_vec();
            std::thread::spawn(move || write_all(&store, c))
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(store.head_spans(), 400);
    assert_eq!(
        store
            .find_traces(&TraceQuery {
                limit: 500,
                ..TraceQuery::default()
            })
            .unwrap()
            .len(),
        200
    );
}

#[test]
fn over_budget_writes_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.memory_budget_bytes = 64 * 1024;
    c.head_flush_bytes = u64::MAX;
    let store = EmbeddedStore::open(c).unwrap();
    let mut refused = 0;
    for t in 0..200 {
        match store.write(
            sample_spans(1, 5)
                .into_iter()
                .map(|mut s| {
                    s.trace_id = trace_id(t);
                    s
                })
                .collect(),
        ) {
            Ok(ack) => ack.blocking_recv().unwrap().unwrap(),
            Err(StoreError::Overloaded {
                retry_after_ms,
                budget_bytes,
                ..
            }) => {
                assert!(retry_after_ms > 0);
                assert_eq!(budget_bytes, 64 * 1024);
                refused += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(refused > 0);
    assert!(store.used_bytes() <= 64 * 1024 + 8 * 1024);
}

#[test]
fn flushed_blocks_answer_like_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(config(dir.path())).unwrap();
    let spans = sample_spans(30, 3);
    write_all(&store, spans[..45].to_vec());
    store.flush().unwrap();
    write_all(&store, spans[45..].to_vec());
    assert_eq!(store.block_count(), 1);
    check_queries(&store); // one block + head
    store.flush().unwrap();
    assert_eq!(store.block_count(), 2);
    assert_eq!(store.head_spans(), 0);
    check_queries(&store); // blocks only
                           // WAL segments covered by blocks are gone; reopen reads blocks only.
    drop(store);
    let store = EmbeddedStore::open(config(dir.path())).unwrap();
    assert_eq!(store.recovery().wal_spans, 0);
    assert_eq!(store.recovery().blocks, 2);
    check_queries(&store);
}

#[test]
fn compaction_merges_blocks_without_changing_answers() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.compaction_min_blocks = 3;
    let store = EmbeddedStore::open(c.clone()).unwrap();
    let spans = sample_spans(30, 3);
    for chunk in spans.chunks(30) {
        write_all(&store, chunk.to_vec());
        store.flush().unwrap();
    }
    assert_eq!(store.block_count(), 3);
    store.run_maintenance().unwrap();
    assert_eq!(store.block_count(), 1);
    check_queries(&store);
    drop(store);
    let store = EmbeddedStore::open(c).unwrap();
    assert_eq!(store.block_count(), 1);
    check_queries(&store);
}

#[test]
fn retention_deletes_old_blocks_and_respects_the_disk_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.compaction_min_blocks = 100;
    let store = EmbeddedStore::open(c.clone()).unwrap();
    // sample spans start in 2026-01-01: older than a 1-day retention now.
    write_all(&store, sample_spans(5, 2));
    store.flush().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let fresh = |n: u64| -> Vec<Span> {
        sample_spans(3, 2)
            .into_iter()
            .map(|mut s| {
                s.trace_id = trace_id(s.trace_id.0[15] as u64 + n);
                s.start_unix_nano = now;
                s.end_unix_nano = now + 1;
                s
            })
            .collect()
    };
    write_all(&store, fresh(100));
    store.flush().unwrap();
    write_all(&store, fresh(200));
    store.flush().unwrap();
    assert_eq!(store.block_count(), 3);
    drop(store);
    c.retention = Duration::from_secs(24 * 3600);
    let store = EmbeddedStore::open(c.clone()).unwrap();
    store.run_maintenance().unwrap();
    assert_eq!(store.block_count(), 2);
    assert!(store.trace(trace_id(0)).unwrap().is_none());
    assert!(store.trace(trace_id(101)).unwrap().is_some());
    let one_block = store.block_bytes() / 2;
    drop(store);
    c.disk_quota = crate::DiskQuota::new(one_block + one_block / 2);
    let store = EmbeddedStore::open(c).unwrap();
    store.run_maintenance().unwrap();
    assert_eq!(store.block_count(), 1);
}

#[test]
fn resources_stay_shared_after_replay() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = EmbeddedStore::open(config(dir.path())).unwrap();
        write_all(&store, sample_spans(2, 3));
    }
    let store = EmbeddedStore::open(config(dir.path())).unwrap();
    let t = store.trace(trace_id(0)).unwrap().unwrap();
    assert!(Arc::ptr_eq(&t[1].resource, &t[2].resource));
    assert_eq!(*t[1].resource, *resource("backend"));
}
