//! The ClickHouse profile store answers as the embedded one: the same
//! random profiles (several series and profile types, empty stacks, span
//! and trace ids, timed samples on several threads, object files, data
//! crossing midnight) written to both, over a two-shard cluster of Debian's
//! 18.16 servers, and every query of the [`ProfileStore`] trait compared
//! over several ranges, matchers and filters.
//!
//! Series listings are compared over ranges holding a profile of every
//! series: the embedded store counts a series when its whole extent
//! overlaps the range, ClickHouse when one of its profiles does.
#![allow(clippy::unwrap_used)]

mod common;

use chstore::{ClickHouseProfileStore, ClickHouseUrl, Client};
use common::clickhouse::{available, Cluster, CLUSTER};
use model::metrics::Labels;
use std::sync::Arc;
use store::profiles::{
    EmbeddedProfileStore, MergedStacks, ObjectFile, ProfileQuery, ProfileStore, ProfileWrite,
    StackSample, Tick,
};
use store::series::{MatchOp, Matcher};

const CPU: &str = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";
const ALLOC: &str = "memory:alloc_space:bytes:space:bytes";
const SECOND: i64 = 1_000_000_000;
/// 23:50 on 2025-12-04: the profiles run past midnight.
const T0: i64 = (20_426 * 86_400 + 23 * 3600 + 50 * 60) * SECOND;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn profiles(rng: &mut Rng) -> Vec<ProfileWrite> {
    let objects = [
        ObjectFile {
            path: "/usr/bin/web".into(),
            build_id: "ab12".into(),
            offset: 0,
            size: 1 << 20,
        },
        ObjectFile {
            path: "/lib/libc.so.6".into(),
            build_id: String::new(),
            offset: 4096,
            size: 1 << 16,
        },
    ];
    (0..80)
        .map(|i| {
            let service = ["web", "db", "queue"][rng.below(3) as usize];
            let profile_type = if rng.chance(70) { CPU } else { ALLOC };
            let name = profile_type.split(':').next().unwrap();
            let mut labels = vec![
                ("__name__", name.to_string()),
                ("__profile_type__", profile_type.to_string()),
                ("service_name", service.to_string()),
            ];
            match rng.below(3) {
                0 => labels.push(("env", "prod".into())),
                1 => labels.push(("env", "dev".into())),
                _ => {}
            }
            let samples: Vec<StackSample> = (0..1 + rng.below(8))
                .map(|_| StackSample {
                    frames: (0..rng.below(5))
                        .map(|_| format!("f{}", rng.below(8)))
                        .collect(),
                    value: rng.below(100) as i64,
                    span_id: rng.chance(40).then(|| 1 + rng.below(5)),
                    trace_id: rng.chance(30).then(|| 100 + u128::from(rng.below(3))),
                })
                .collect();
            let time_ns = T0 + i * 15 * SECOND;
            let ticks = (0..rng.below(7))
                .map(|_| Tick {
                    // Now and then a tick of no sample.
                    sample: rng.below(samples.len() as u64 + 1) as u32,
                    thread_id: 1 + rng.below(4) as u32,
                    time_ns: time_ns + rng.below(15) as i64 * SECOND,
                    value: rng.below(50) as i64,
                })
                .collect();
            ProfileWrite {
                labels: Labels::from_pairs(labels),
                time_ns,
                duration_ns: 10 * SECOND,
                samples,
                ticks,
                objects: objects.iter().filter(|_| rng.chance(30)).cloned().collect(),
            }
        })
        .collect()
}

fn matcher(name: &str, op: MatchOp, value: &str) -> Matcher {
    Matcher::new(op, name, value).unwrap()
}

fn sorted(stacks: &MergedStacks) -> Vec<(Vec<&str>, i64)> {
    let mut out = stacks.stacks();
    out.sort();
    out
}

#[test]
fn every_profile_query_answers_as_the_embedded_store() {
    if !available("every_profile_query_answers_as_the_embedded_store") {
        return;
    }
    let cluster = Cluster::start("pdiff", 2);
    let client =
        Arc::new(Client::new(ClickHouseUrl::parse(&cluster.url("pdiff", 0)).unwrap()).unwrap());
    let handle = client.handle();
    client
        .wait(async move { chstore::schema::migrate(&handle, Some(CLUSTER)).await })
        .unwrap();
    let clickhouse = ClickHouseProfileStore::new(Arc::clone(&client), 64 << 20);
    let embedded = EmbeddedProfileStore::in_memory();
    let writes = profiles(&mut Rng(0x9e37_79b9_7f4a_7c15));
    for chunk in writes.chunks(7) {
        for store in [&clickhouse as &dyn ProfileStore, &embedded] {
            store
                .write(chunk.to_vec())
                .unwrap()
                .blocking_recv()
                .unwrap()
                .unwrap();
        }
    }
    // Both shards hold samples.
    for server in &cluster.servers {
        let rows: u64 = server
            .query("SELECT count() FROM pdiff.profile_samples_local")
            .unwrap()
            .parse()
            .unwrap();
        assert!(rows > 0, "a shard without samples");
    }
    // The comparisons below are about something.
    let everything = ProfileQuery {
        profile_type: CPU.into(),
        start_ns: T0 - 3600 * SECOND,
        end_ns: T0 + 3600 * SECOND,
        ..ProfileQuery::default()
    };
    assert!(embedded.merge(&everything).unwrap().nodes.len() > 8);
    assert!(
        embedded
            .span_hits(&everything, Some("f3"), 100)
            .unwrap()
            .len()
            > 3
    );
    assert_eq!(
        embedded
            .merge_ticks(&everything, &[])
            .unwrap()
            .threads
            .len(),
        4
    );
    assert_eq!(embedded.objects(&everything).unwrap().len(), 2);
    assert!(
        embedded.totals(&everything, 60 * SECOND, &[]).unwrap()[0]
            .points
            .len()
            > 10
    );
    let stores: [&dyn ProfileStore; 2] = [&embedded, &clickhouse];
    let same = |what: &str, f: &dyn Fn(&dyn ProfileStore) -> String| {
        let (want, got) = (f(stores[0]), f(stores[1]));
        assert_eq!(
            got, want,
            "{what}: ClickHouse (left) and embedded (right) differ"
        );
    };

    let all = (T0 - 3600 * SECOND, T0 + 3600 * SECOND);
    same("time bounds", &|s| {
        format!("{:?}", s.time_bounds().unwrap())
    });
    same("profile types", &|s| {
        format!("{:?}", s.profile_types(all.0, all.1).unwrap())
    });
    let matcher_sets = vec![
        vec![],
        vec![Matcher::equal("service_name", "web")],
        vec![matcher("env", MatchOp::Regex, "p.*")],
        vec![Matcher::equal("env", "")],
        vec![matcher("service_name", MatchOp::NotEqual, "db")],
        vec![
            Matcher::equal("__profile_type__", CPU),
            matcher("env", MatchOp::NotRegex, "dev"),
        ],
    ];
    for matchers in &matcher_sets {
        same(&format!("series {matchers:?}"), &|s| {
            format!("{:?}", s.series(matchers, all.0, all.1).unwrap())
        });
    }
    let ranges = [
        all,
        (T0 + 5 * 60 * SECOND, T0 + 15 * 60 * SECOND),
        // Across midnight, ending inside a profile.
        (T0 + 9 * 60 * SECOND, T0 + 11 * 60 * SECOND + 3 * SECOND),
        (T0 - 3600 * SECOND, T0 - 60 * SECOND),
    ];
    let filters: [(&[u64], &[u128]); 4] = [
        (&[], &[]),
        (&[1, 2], &[]),
        (&[], &[100]),
        (&[3], &[101, 102]),
    ];
    for profile_type in [CPU, ALLOC] {
        for &(start_ns, end_ns) in &ranges {
            for matchers in &matcher_sets {
                for (span_ids, trace_ids) in filters {
                    let query = ProfileQuery {
                        profile_type: profile_type.into(),
                        matchers: matchers.clone(),
                        start_ns,
                        end_ns,
                        span_ids: span_ids.to_vec(),
                        trace_ids: trace_ids.to_vec(),
                    };
                    let what = format!("{query:?}");
                    same(&format!("merge {what}"), &|s| {
                        format!("{:?}", sorted(&s.merge(&query).unwrap()))
                    });
                    for group_by in [
                        vec![],
                        vec!["service_name".to_string()],
                        vec!["env".to_string()],
                    ] {
                        same(&format!("totals by {group_by:?} {what}"), &|s| {
                            format!("{:?}", s.totals(&query, 60 * SECOND, &group_by).unwrap())
                        });
                    }
                    for frame in [None, Some("f3"), Some("nowhere")] {
                        for limit in [3, usize::MAX] {
                            same(&format!("span hits {frame:?} {limit} {what}"), &|s| {
                                format!("{:?}", s.span_hits(&query, frame, limit).unwrap())
                            });
                        }
                    }
                    if span_ids.is_empty() && trace_ids.is_empty() {
                        for threads in [vec![], vec![1, 2]] {
                            same(&format!("ticks of {threads:?} {what}"), &|s| {
                                let merged = s.merge_ticks(&query, &threads).unwrap();
                                format!("{:?} {:?}", sorted(&merged.stacks), merged.threads)
                            });
                        }
                    }
                }
            }
            let query = ProfileQuery {
                profile_type: profile_type.into(),
                start_ns: all.0,
                end_ns: all.1,
                ..ProfileQuery::default()
            };
            same("objects", &|s| format!("{:?}", s.objects(&query).unwrap()));
        }
    }
}
