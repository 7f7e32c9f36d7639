//! Group evaluation over the in-memory series store: recording rules see
//! earlier rules' output, vanished series get staleness markers, and `for`
//! state survives a restart through `ALERTS_FOR_STATE`.

use super::*;
use crate::file::parse;
use store::series::MemorySeriesStore;

const S: i64 = 1_000_000_000;
const T0: i64 = 1_700_000_000 * S;

fn group(text: &str) -> Group {
    let groups = parse(text, "r.yml", Duration::from_secs(60)).expect("valid rules");
    Group::new(groups[0].clone(), "http://serve")
}

fn put(store: &MemorySeriesStore, instance: &str, ts_ns: i64, value: f64) {
    let appended = store
        .append(SeriesBatch {
            series: vec![TimeSeries {
                labels: Labels::from_pairs([("__name__", "m"), ("i", instance)]),
                samples: vec![Sample {
                    timestamp_ms: ts_ns / 1_000_000,
                    value,
                }],
                exemplars: Vec::new(),
            }],
            metadata: Vec::new(),
        })
        .expect("append");
    assert!(appended.rejected.is_empty());
}

fn samples(store: &MemorySeriesStore, name: &str) -> Vec<(Labels, Vec<Sample>)> {
    store
        .select(&Select {
            matchers: vec![Matcher::equal("__name__", name)],
            start_ms: 0,
            end_ms: i64::MAX,
            max_samples: 0,
        })
        .expect("select")
        .into_iter()
        .map(|s| (s.labels, s.samples))
        .collect()
}

#[test]
fn recording_rules_chain_and_vanished_series_go_stale() {
    let store = MemorySeriesStore::new();
    let engine = Engine::default();
    let mut g = group(
        "groups:\n  - name: g\n    rules:\n      - record: r:sum\n        expr: sum(m)\n      - record: r:double\n        expr: r:sum * 2\n        labels: {k: v}\n      - record: r:big\n        expr: m > 1.5\n",
    );
    put(&store, "a", T0, 1.0);
    put(&store, "b", T0, 2.0);
    g.eval(&store, &engine, T0 + S);
    let double = samples(&store, "r:double");
    assert_eq!(double.len(), 1);
    assert_eq!(double[0].0.get("k"), Some("v"));
    assert_eq!(
        double[0].1,
        [Sample {
            timestamp_ms: (T0 + S) / 1_000_000,
            value: 6.0
        }]
    );
    let status = g.status();
    assert!(
        status.rules.iter().all(|r| r.health == Health::Ok),
        "{status:?}"
    );
    // b drops below the threshold: r:big{i="b"} is marked stale.
    put(&store, "b", T0 + 2 * S, 0.0);
    g.eval(&store, &engine, T0 + 3 * S);
    let big = samples(&store, "r:big");
    assert_eq!(big.len(), 1);
    let last = big[0].1.last().expect("samples");
    assert_eq!(last.timestamp_ms, (T0 + 3 * S) / 1_000_000);
    assert!(model::metrics::is_stale_nan(last.value));
}

#[test]
fn errors_make_the_rule_unhealthy_and_name_the_cause() {
    let store = MemorySeriesStore::new();
    let mut g = group(
        "groups:\n  - name: g\n    rules:\n      - record: r:dup\n        expr: m\n        labels: {i: same}\n      - record: r:str\n        expr: '\"text\"'\n",
    );
    put(&store, "a", T0, 1.0);
    put(&store, "b", T0, 2.0);
    g.eval(&store, &Engine::default(), T0 + S);
    let status = g.status();
    assert_eq!(status.rules[0].health, Health::Err);
    assert_eq!(
        status.rules[0].last_error.as_deref(),
        Some("vector contains metrics with the same labelset after applying rule labels")
    );
    assert_eq!(
        status.rules[1].last_error.as_deref(),
        Some("rule result is not a vector or scalar")
    );
}

#[test]
fn a_pending_alert_keeps_its_clock_across_a_restart() {
    let store = MemorySeriesStore::new();
    let engine = Engine::default();
    let rules = "groups:\n  - name: g\n    rules:\n      - alert: Slow\n        expr: m > 0\n        for: 20m\n";
    for k in 0..4 {
        put(&store, "a", T0 + k * 60 * S, 1.0);
    }
    let mut before = group(rules);
    before.eval(&store, &engine, T0);
    before.restore_for_state(&store, T0);
    before.eval(&store, &engine, T0 + 60 * S);
    let for_state = samples(&store, "ALERTS_FOR_STATE");
    assert_eq!(for_state[0].1[0].value, (T0 / S) as f64);
    // serve was down from T0+60s to T0+120s.
    let mut after = group(rules);
    after.eval(&store, &engine, T0 + 120 * S);
    after.restore_for_state(&store, T0 + 120 * S);
    let alerts = &after.status().rules[0]
        .alerting
        .clone()
        .expect("an alerting rule")
        .alerts;
    // Active since T0, shifted by the 60 s outage.
    assert_eq!(alerts[0].active_at_ns, T0 + 60 * S);
    assert_eq!(alerts[0].state, crate::AlertState::Pending);
}
