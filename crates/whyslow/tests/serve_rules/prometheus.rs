//! Differential: serve and Debian's `/usr/bin/prometheus` (2.42) load the
//! same rule file (same absolute path, so Prometheus's hash of group name
//! and file puts both evaluations at the same instants) and receive the
//! same samples by remote_write, written ahead of time so every evaluation
//! sees the same data in both. Then:
//! - `/api/v1/rules` and `/api/v1/alerts` are equal at several moments
//!   (pending, firing, resolved), apart from evaluation durations and
//!   wall-clock `lastEvaluation`s;
//! - recording rules (one reading another's output) wrote the same values
//!   at the same timestamps;
//! - `ALERTS` and `ALERTS_FOR_STATE` hold the same samples over the
//!   window both were writing them.

use crate::common::{eventually, get_data, remote_write, schedule, wait_between_evaluations};
use crate::prometheus_bin::{self, Prometheus};
use crate::support::{encode, now_ms, points, seconds, Serve, TempDir};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

const RULES: &str = r#"groups:
  - name: demo
    interval: 1s
    rules:
      - record: demo:sum
        expr: sum(demo_value)
      - record: demo:doubled
        expr: demo:sum * 2
        labels: {kind: chained}
      - record: demo:by_instance
        expr: max by (instance) (demo_value)
      - alert: DemoHigh
        expr: demo_value > 5
        for: 2s
        keep_firing_for: 1s
        labels:
          severity: page
          where: "{{ $labels.instance }}"
        annotations:
          summary: "{{ $labels.instance }} at {{ $value }} ({{ humanize $value }}, {{ printf \"%.2f\" $value }})"
          all: "{{ $labels }}"
      - alert: DemoNever
        expr: demo_value > 1000
        annotations: {what: never}
      - alert: DemoBroken
        expr: demo_value * on(job) demo_value
"#;

fn start_prometheus(dir: &Path, rules: &Path) -> Prometheus {
    let config = format!(
        "global:\n  evaluation_interval: 1s\nrule_files: ['{}']\n",
        rules.display()
    );
    Prometheus::start(dir, |_| config, &["--web.enable-remote-write-receiver"])
}

/// `/api/v1/rules` without what differs run to run (durations, wall-clock times).
fn rules_shape(addr: &str) -> serde_json::Value {
    let mut data = get_data(addr, "/api/v1/rules");
    for group in data["groups"].as_array_mut().unwrap() {
        let group = group.as_object_mut().unwrap();
        for key in ["evaluationTime", "lastEvaluation"] {
            assert!(group.remove(key).is_some(), "group without {key}");
        }
        for rule in group["rules"].as_array_mut().unwrap() {
            let rule = rule.as_object_mut().unwrap();
            assert!(rule["evaluationTime"].is_f64() || rule["evaluationTime"].is_u64());
            assert!(rule["lastEvaluation"].is_string());
            rule.remove("evaluationTime");
            rule.remove("lastEvaluation");
        }
    }
    data
}

/// Both answer the same rules and alerts (retried across evaluation
/// boundaries: on a loaded machine one of the two may evaluate a few hundred
/// ms late, and their states agree again at the next evaluations).
fn same_rules_and_alerts(serve: &str, prom: &str, moment: &str) -> serde_json::Value {
    let mut last = (serde_json::Value::Null, serde_json::Value::Null);
    for _ in 0..12 {
        wait_between_evaluations(serve, 400);
        let (a, b) = (rules_shape(serve), rules_shape(prom));
        let (x, y) = (
            get_data(serve, "/api/v1/alerts"),
            get_data(prom, "/api/v1/alerts"),
        );
        if a == b && sorted_alerts(&x) == sorted_alerts(&y) {
            return a;
        }
        last = (a, b);
    }
    panic!(
        "{moment}: /api/v1/rules differ\nserve:      {}\nprometheus: {}",
        last.0, last.1
    );
}

fn sorted_alerts(data: &serde_json::Value) -> Vec<String> {
    let mut alerts: Vec<String> = data["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.to_string())
        .collect();
    alerts.sort();
    alerts
}

/// Raw samples of `selector` over the last `range_s` seconds at `end_ms`, by label set.
fn raw(addr: &str, selector: &str, range_s: i64, end_ms: i64) -> BTreeMap<String, Vec<(i64, f64)>> {
    let path = format!(
        "/api/v1/query?query={}&time={}",
        encode(&format!("{selector}[{range_s}s]")),
        seconds(end_ms)
    );
    get_data(addr, &path)["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|s| (s["metric"].to_string(), points(s)))
        .collect()
}

/// Compares two servers' samples of `selector` at `common` timestamps (both
/// evaluated then; a loaded machine may skip an evaluation in one of them).
fn same_samples(serve: &str, prom: &str, selector: &str, end_ms: i64, common: &[i64]) -> usize {
    let a = raw(serve, selector, 60, end_ms);
    let b = raw(prom, selector, 60, end_ms);
    let window = |m: &BTreeMap<String, Vec<(i64, f64)>>| -> BTreeSet<(String, i64, u64)> {
        m.iter()
            .flat_map(|(labels, points)| {
                points
                    .iter()
                    .filter(|(t, _)| common.binary_search(t).is_ok())
                    .map(move |(t, v)| (labels.clone(), *t, v.to_bits()))
            })
            .collect()
    };
    let (x, y) = (window(&a), window(&b));
    let only_serve: Vec<_> = x.difference(&y).take(5).collect();
    let only_prom: Vec<_> = y.difference(&x).take(5).collect();
    assert!(
        only_serve.is_empty() && only_prom.is_empty(),
        "{selector} at {} common evaluations: only in serve {only_serve:?}, only in Prometheus {only_prom:?}",
        common.len()
    );
    x.len()
}

/// Timestamps at which `selector` has samples in `addr`.
fn timestamps(addr: &str, selector: &str, end_ms: i64) -> Vec<i64> {
    let mut ts: Vec<i64> = raw(addr, selector, 60, end_ms)
        .values()
        .flatten()
        .map(|(t, _)| *t)
        .collect();
    ts.sort();
    ts.dedup();
    ts
}

pub fn differential() {
    if !prometheus_bin::available("rules_evaluate_as_prometheus_2_42_does") {
        return;
    }
    let dir = TempDir::new("rules-vs-prometheus");
    let rules = dir.0.join("rules.yml");
    std::fs::write(&rules, RULES).unwrap();
    let rules_arg = rules.display().to_string();
    let serve = Serve::start_with(
        &dir.0.join("serve"),
        0,
        &[
            "--rules",
            &rules_arg,
            "--self-scrape-interval",
            "0",
            // Prometheus has only this file: leave serve's built-in rules out.
            "--no-default-rules",
        ],
    );
    let prometheus = start_prometheus(&dir.0, &rules);
    let prom = prometheus.addr.clone();
    // Both have evaluated (on empty data) before the samples arrive, so both
    // see them first at the same evaluation.
    eventually(
        Duration::from_secs(20),
        "Prometheus evaluating its rules",
        || {
            let data = get_data(&prom, "/api/v1/rules");
            (data["groups"][0]["rules"][0]["health"] == "ok").then_some(())
        },
    );
    // Both write ALERTS from their third evaluation on (after restoring
    // `for` state); let them get there before the data arrives.
    std::thread::sleep(Duration::from_secs(3));
    wait_between_evaluations(&serve.http, 500);
    let start = now_ms();
    // a: 7 throughout; b: 0, then 9 for 6 s, then 0 again.
    let data = [
        schedule("demo_value", "a", start - 10_000, start + 40_000, |_| 7.0),
        schedule("demo_value", "b", start - 10_000, start + 40_000, |t| {
            if (start + 5_000..start + 11_000).contains(&t) {
                9.0
            } else {
                0.0
            }
        }),
    ];
    remote_write(&serve.http, &data);
    remote_write(&prom, &data);

    // a pending, then a firing; b pending, firing, kept firing, resolved.
    let sleep_until = |ms: i64| {
        let now = now_ms();
        if ms > now {
            std::thread::sleep(Duration::from_millis((ms - now) as u64));
        }
    };
    let mut moments = 0;
    for (at, moment) in [
        (start + 800, "a pending"),
        (start + 3_500, "a firing"),
        (start + 6_000, "b pending"),
        (start + 9_000, "b firing"),
        (start + 11_600, "b kept firing"),
        (start + 14_000, "b resolved"),
    ] {
        sleep_until(at);
        let shape = same_rules_and_alerts(&serve.http, &prom, moment);
        moments += 1;
        if moment == "b firing" {
            let high = &shape["groups"][0]["rules"][3];
            assert_eq!(high["state"], "firing", "{high}");
            assert_eq!(high["alerts"].as_array().map(Vec::len), Some(2), "{high}");
        }
        if moment == "b resolved" {
            let rules = &shape["groups"][0]["rules"];
            assert_eq!(rules[5]["health"], "err", "{}", rules[5]);
        }
    }
    let end = now_ms();
    std::thread::sleep(Duration::from_millis(1500));

    // Both wrote these series at the same instants with the same values.
    let (ts_serve, ts_prom) = (
        timestamps(&serve.http, "demo:sum", end),
        timestamps(&prom, "demo:sum", end),
    );
    let common: Vec<i64> = ts_serve
        .iter()
        .filter(|t| ts_prom.contains(t))
        .copied()
        .collect();
    assert!(
        common.len() >= 10,
        "serve and Prometheus evaluated at different instants: serve {:?}…, Prometheus {:?}…",
        &ts_serve[..ts_serve.len().min(5)],
        &ts_prom[..ts_prom.len().min(5)]
    );
    let mut compared = 0;
    for selector in [
        "demo:sum",
        "demo:doubled",
        "demo:by_instance",
        "ALERTS",
        "ALERTS_FOR_STATE",
    ] {
        compared += same_samples(&serve.http, &prom, selector, end, &common);
    }
    eprintln!(
        "rules vs Prometheus 2.42: /api/v1/rules and /api/v1/alerts equal at {moments} moments; \
         {compared} rule output samples equal over {} evaluations",
        common.len()
    );
    drop(prometheus);
    serve.stop();
}
