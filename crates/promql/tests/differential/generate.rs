//! Generates the data (seeded, deterministic apart from `t0`): every shape
//! the evaluator must get right — counters with resets, negative gauges,
//! classic histograms, series that go stale (staleness NaN) and come back,
//! gaps longer than the 5 m lookback, irregular and jittered intervals, NaN
//! and ±Inf values. The timeline (stale period, gap) is in data.rs.

use crate::data::{Data, BACK_AT, GAP_FROM, GAP_UNTIL, MINUTE, OLD_METRIC_END, SPAN, STALE_AT};
use model::metrics::{stale_nan, Labels, Sample};
use std::collections::BTreeMap;

const SEED: u64 = 0x0005_eed9_0001;
const HISTOGRAM_BOUNDS: [&str; 7] = ["0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"];

struct Gen {
    rng: fastrand::Rng,
    t0: i64,
    series: BTreeMap<Labels, Vec<Sample>>,
}

impl Gen {
    fn push(&mut self, labels: &[(&str, &str)], offset_ms: i64, value: f64) {
        self.series
            .entry(Labels::from_pairs(labels.iter().copied()))
            .or_default()
            .push(Sample {
                timestamp_ms: self.t0 + offset_ms,
                value,
            });
    }

    /// Scrape offsets every `interval` with up to `jitter_ms` late.
    fn times(&mut self, interval: i64, jitter_ms: i64) -> Vec<i64> {
        (0..SPAN / interval)
            .map(|k| {
                k * interval
                    + if jitter_ms > 0 {
                        self.rng.i64(0..jitter_ms)
                    } else {
                        0
                    }
            })
            .collect()
    }
}

/// Whether an instance sends at `t` (stale period and gap excluded).
fn instance_up(instance: &str, t: i64) -> bool {
    match instance {
        "api-2:8080" => !(STALE_AT..BACK_AT).contains(&t),
        "web-2:80" => !(GAP_FROM..GAP_UNTIL).contains(&t),
        _ => true,
    }
}

const INSTANCES: [(&str, &str); 4] = [
    ("api", "api-1:8080"),
    ("api", "api-2:8080"),
    ("web", "web-1:80"),
    ("web", "web-2:80"),
];

/// The data for a given `t0` (Unix ms); deterministic apart from `t0`.
pub fn generate(t0: i64) -> Data {
    let mut g = Gen {
        rng: fastrand::Rng::with_seed(SEED),
        t0,
        series: BTreeMap::new(),
    };
    counters(&mut g);
    gauges(&mut g);
    histograms(&mut g);
    odd_series(&mut g);
    // Stale markers are pushed after a series' loop; order every series.
    for samples in g.series.values_mut() {
        samples.sort_by_key(|s| s.timestamp_ms);
    }
    Data {
        t0,
        series: g.series,
    }
}

fn counters(g: &mut Gen) {
    for (job, instance) in INSTANCES {
        // The web job is scraped late by up to 4 s each time.
        let jitter = if job == "web" { 4_000 } else { 0 };
        for method in ["GET", "POST"] {
            for code in ["200", "500"] {
                let labels = [
                    ("__name__", "http_requests_total"),
                    ("job", job),
                    ("instance", instance),
                    ("method", method),
                    ("code", code),
                ];
                let per_scrape = if code == "200" { 40.0 } else { 3.0 };
                let reset_at = if g.rng.bool() {
                    Some(g.rng.i64(10..110) * MINUTE)
                } else {
                    None
                };
                let mut value = g.rng.u32(0..1000) as f64;
                let mut was_up = true;
                for t in g.times(15_000, jitter) {
                    let up = instance_up(instance, t);
                    if !up {
                        if was_up && instance == "api-2:8080" {
                            g.push(&labels, t, stale_nan());
                        }
                        was_up = false;
                        continue;
                    }
                    if !was_up && instance == "api-2:8080" {
                        value = 0.0;
                    }
                    was_up = true;
                    if reset_at.is_some_and(|r| t >= r && t < r + 15_000) {
                        value = g.rng.u32(0..5) as f64;
                    } else {
                        value += (g.rng.f64() * per_scrape).floor();
                    }
                    g.push(&labels, t, value);
                }
            }
        }
        // up: 1 while the instance answers, 0 during the api-2 outage.
        let up_labels = [("__name__", "up"), ("job", job), ("instance", instance)];
        for t in g.times(15_000, 0) {
            if instance == "web-2:80" && !instance_up(instance, t) {
                continue;
            }
            let v = if instance_up(instance, t) { 1.0 } else { 0.0 };
            g.push(&up_labels, t, v);
        }
        // build_info: the "one" side of group_left joins, every minute.
        let version = if instance.ends_with("1:8080") || instance == "web-1:80" {
            "1.2.0"
        } else {
            "1.3.0-rc.1"
        };
        let info = [
            ("__name__", "build_info"),
            ("job", job),
            ("instance", instance),
            ("version", version),
        ];
        for t in g.times(MINUTE, 0) {
            g.push(&info, t, 1.0);
        }
    }
}

fn gauges(g: &mut Gen) {
    // Temperatures, some always below zero, sampled every 30 s.
    for (room, base, swing) in [
        ("lab", 21.0, 3.0),
        ("roof", 2.0, 9.0),
        ("cellar", 12.0, 0.5),
        ("freezer", -18.5, 1.5),
    ] {
        let labels = [
            ("__name__", "temperature_celsius"),
            ("job", "sensors"),
            ("room", room),
        ];
        for t in g.times(30_000, 0) {
            let phase = t as f64 / (37.0 * MINUTE as f64);
            let noise = (g.rng.f64() - 0.5) * 0.2;
            g.push(&labels, t, base + swing * phase.sin() + noise);
        }
    }
    for (job, instance) in INSTANCES {
        // Integer queue depth: repeats values (changes()), drops (resets()).
        let queue = [
            ("__name__", "queue_depth"),
            ("job", job),
            ("instance", instance),
        ];
        let memory = [
            ("__name__", "memory_bytes"),
            ("job", job),
            ("instance", instance),
        ];
        let mut depth = 5.0f64;
        let mut bytes = 1.5e9 + g.rng.f64() * 1e8;
        for t in g.times(15_000, 0) {
            if !instance_up(instance, t) {
                continue;
            }
            depth = (depth + g.rng.i64(-3..4) as f64).max(0.0);
            bytes += (g.rng.f64() - 0.45) * 4e6;
            g.push(&queue, t, depth);
            g.push(&memory, t, bytes.round());
        }
        if instance == "api-2:8080" {
            g.push(&queue, STALE_AT, stale_nan());
            g.push(&memory, STALE_AT, stale_nan());
        }
    }
}

fn histograms(g: &mut Gen) {
    for instance in ["api-1:8080", "api-2:8080"] {
        for handler in ["/users", "/orders"] {
            // The /orders histogram of api-1 restarts (all counts reset) at 70 m.
            let reset_at =
                (instance == "api-1:8080" && handler == "/orders").then_some(70 * MINUTE);
            let mut counts = [0.0f64; 7];
            let mut sum = 0.0f64;
            let mut was_up = true;
            for t in g.times(15_000, 0) {
                let up = instance_up(instance, t);
                let labels_of = |name: &'static str| {
                    vec![
                        ("__name__", name),
                        ("job", "api"),
                        ("instance", instance),
                        ("handler", handler),
                    ]
                };
                if !up || reset_at == Some(t) || !was_up {
                    counts = [0.0; 7];
                    sum = 0.0;
                }
                if !up {
                    if was_up {
                        for le in HISTOGRAM_BOUNDS {
                            let mut l = labels_of("request_duration_seconds_bucket");
                            l.push(("le", le));
                            g.push(&l, t, stale_nan());
                        }
                        g.push(&labels_of("request_duration_seconds_sum"), t, stale_nan());
                        g.push(&labels_of("request_duration_seconds_count"), t, stale_nan());
                    }
                    was_up = false;
                    continue;
                }
                was_up = true;
                // Observations this scrape: latencies skewed by handler.
                let scale = if handler == "/orders" { 0.6 } else { 0.15 };
                for _ in 0..g.rng.usize(0..12) {
                    let x = scale * -g.rng.f64().max(1e-9).ln();
                    sum += x;
                    for (i, bound) in [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, f64::INFINITY]
                        .iter()
                        .enumerate()
                    {
                        if x <= *bound {
                            counts[i] += 1.0;
                        }
                    }
                }
                for (i, le) in HISTOGRAM_BOUNDS.iter().enumerate() {
                    let mut l = labels_of("request_duration_seconds_bucket");
                    l.push(("le", le));
                    g.push(&l, t, counts[i]);
                }
                g.push(&labels_of("request_duration_seconds_sum"), t, sum);
                g.push(&labels_of("request_duration_seconds_count"), t, counts[6]);
            }
        }
    }
}

fn odd_series(g: &mut Gen) {
    // NaN now and then, ±Inf now and then, all zeros.
    for t in g.times(15_000, 0) {
        let k = t / 15_000;
        let nan = if k % 7 == 3 {
            f64::NAN
        } else {
            (k % 10) as f64
        };
        g.push(&[("__name__", "weird_values"), ("kind", "nan")], t, nan);
        let inf = match k % 11 {
            2 => f64::INFINITY,
            5 => f64::NEG_INFINITY,
            _ => (k % 4) as f64 - 1.5,
        };
        g.push(&[("__name__", "weird_values"), ("kind", "inf")], t, inf);
        g.push(&[("__name__", "weird_values"), ("kind", "zero")], t, 0.0);
    }
    // Irregular intervals of 1-90 s, and one silent stretch of 8 m.
    let mut t = 0;
    let mut v = 100.0;
    while t < SPAN {
        v += (g.rng.f64() - 0.5) * 10.0;
        g.push(&[("__name__", "irregular_gauge"), ("job", "batch")], t, v);
        t += g.rng.i64(1_000..90_000);
        if (50 * MINUTE..52 * MINUTE).contains(&t) {
            t += 8 * MINUTE;
        }
    }
    // A Unix-seconds timestamp, updated every 10 m, sampled every minute.
    for t in g.times(MINUTE, 0) {
        let last = (g.t0 + t - t % (10 * MINUTE)) as f64 / 1000.0;
        g.push(
            &[
                ("__name__", "batch_last_success_timestamp_seconds"),
                ("job", "batch"),
            ],
            t,
            last,
        );
    }
    // A metric that disappears for good (stale marker) at 40 m.
    for t in g.times(15_000, 0) {
        if t < OLD_METRIC_END {
            g.push(
                &[("__name__", "old_metric"), ("job", "legacy")],
                t,
                (t / MINUTE) as f64,
            );
        }
    }
    g.push(
        &[("__name__", "old_metric"), ("job", "legacy")],
        OLD_METRIC_END,
        stale_nan(),
    );
    // Labels to rewrite with label_replace / label_join, and a rule-style name.
    for t in g.times(30_000, 0) {
        g.push(
            &[
                ("__name__", "label_test"),
                ("instance", "host-1.example.com:9100"),
                ("path", "/var/log/app"),
                ("note", "say \"hi\" ü"),
            ],
            t,
            1.0,
        );
        g.push(
            &[
                ("__name__", "label_test"),
                ("instance", "host-2.example.com:9100"),
                ("path", "/srv"),
            ],
            t,
            2.0,
        );
        let cpu = 0.25 + 0.2 * ((t as f64) / (13.0 * MINUTE as f64)).cos();
        g.push(
            &[
                ("__name__", "instance:cpu_utilisation:rate5m"),
                ("instance", "api-1:8080"),
            ],
            t,
            cpu,
        );
        g.push(
            &[
                ("__name__", "instance:cpu_utilisation:rate5m"),
                ("instance", "web-1:80"),
            ],
            t,
            cpu * 1.7,
        );
    }
}
