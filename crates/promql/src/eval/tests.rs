//! Unit tests of the evaluator over a `MemorySeriesStore`, with values worked
//! out by hand (and checked against Prometheus 2.42's promtool), plus a check
//! that every step of a range query equals the instant query at that time.

use crate::{Engine, EngineOptions, PromqlError, Value};
use model::metrics::{stale_nan, Labels, Sample, TimeSeries};
use std::time::Duration;
use store::series::{MemorySeriesStore, SeriesBatch, SeriesStore};

const MIN: i64 = 60_000;

/// Labels and values at 0, 1m, 2m, … (`None` skips a minute).
type Fixture<'a> = (&'a [(&'a str, &'a str)], &'a [Option<f64>]);

/// Loads the series.
fn store(series: &[Fixture]) -> MemorySeriesStore {
    let store = MemorySeriesStore::new();
    let mut batch = SeriesBatch::default();
    for (labels, values) in series {
        let samples = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                v.map(|value| Sample {
                    timestamp_ms: i as i64 * MIN,
                    value,
                })
            })
            .collect();
        batch.series.push(TimeSeries {
            labels: Labels::from_pairs(labels.iter().copied()),
            samples,
            exemplars: Vec::new(),
        });
    }
    store.append(batch).expect("append");
    store
}

fn some(v: &[f64]) -> Vec<Option<f64>> {
    v.iter().copied().map(Some).collect()
}

fn fixture() -> MemorySeriesStore {
    let counter_a: Vec<f64> = (0..=10)
        .map(|i| 10.0 * i as f64)
        .chain((0..=10).map(|i| 5.0 + 10.0 * i as f64))
        .collect();
    let mut stale = some(&[0.0, 1.0, 2.0]);
    stale.push(None);
    stale.push(Some(stale_nan()));
    stale.push(Some(5.0));
    store(&[
        (&[("__name__", "c"), ("job", "a")], &some(&counter_a)),
        (
            &[("__name__", "c"), ("job", "b")],
            &some(&[100.0, 200.0, 50.0, 80.0, 300.0]),
        ),
        (&[("__name__", "x"), ("a", "1")], &stale),
        (
            &[("__name__", "h_bucket"), ("le", "0.1")],
            &some(&(0..=20).map(f64::from).collect::<Vec<_>>()),
        ),
        (
            &[("__name__", "h_bucket"), ("le", "0.5")],
            &some(&(0..=20).map(|i| 3.0 * f64::from(i)).collect::<Vec<_>>()),
        ),
        (
            &[("__name__", "h_bucket"), ("le", "1")],
            &some(&(0..=20).map(|i| 4.0 * f64::from(i)).collect::<Vec<_>>()),
        ),
        (
            &[("__name__", "h_bucket"), ("le", "+Inf")],
            &some(&(0..=20).map(|i| 5.0 * f64::from(i)).collect::<Vec<_>>()),
        ),
        (
            &[("__name__", "a"), ("job", "x"), ("inst", "1")],
            &some(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        ),
        (
            &[("__name__", "a"), ("job", "x"), ("inst", "2")],
            &some(&[10.0, 20.0, 30.0, 40.0, 50.0, 60.0]),
        ),
        (&[("__name__", "b"), ("job", "x")], &some(&[2.0; 6])),
        (&[("__name__", "b"), ("job", "y")], &some(&[4.0; 6])),
    ])
}

fn instant(store: &MemorySeriesStore, q: &str, t: i64) -> Result<Value, PromqlError> {
    Engine::default().instant_query(store, q, t)
}

/// `(labels as Prometheus prints them, value)`, sorted.
fn vector(store: &MemorySeriesStore, q: &str, t: i64) -> Vec<(String, f64)> {
    match instant(store, q, t).expect(q) {
        Value::Vector(v) => {
            let mut out: Vec<_> = v
                .into_iter()
                .map(|s| (s.labels.to_string(), s.value))
                .collect();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            out
        }
        other => panic!("{q}: not a vector: {other:?}"),
    }
}

fn one(store: &MemorySeriesStore, q: &str, t: i64) -> f64 {
    let v = vector(store, q, t);
    assert_eq!(v.len(), 1, "{q}: {v:?}");
    v[0].1
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

#[test]
fn rate_extrapolates_like_prometheus() {
    let s = fixture();
    // Checked with promtool (Prometheus 2.42).
    assert!(close(
        one(&s, "rate(c{job=\"a\"}[5m])", 10 * MIN),
        1.0 / 6.0
    ));
    // A counter reset inside the window (100 → 5): 15 - 70 + 100.
    assert!(close(one(&s, "increase(c{job=\"a\"}[5m])", 12 * MIN), 45.0));
    // Zero-point clamp: the series starts at 0 inside the window.
    assert!(close(one(&s, "increase(c{job=\"a\"}[7m])", 5 * MIN), 50.0));
    assert!(close(
        one(&s, "irate(c{job=\"b\"}[5m])", 4 * MIN),
        220.0 / 60.0
    ));
    assert!(close(one(&s, "idelta(c{job=\"b\"}[5m])", 4 * MIN), 220.0));
    assert_eq!(
        vector(&s, "resets(c[30m])", 30 * MIN),
        vec![("{job=\"a\"}".into(), 1.0), ("{job=\"b\"}".into(), 1.0)]
    );
}

#[test]
fn staleness_and_lookback() {
    let s = fixture();
    // Stale marker at 4m hides the 2m sample; the sample at 5m shows again.
    assert!(vector(&s, "x", 4 * MIN).is_empty());
    assert_eq!(one(&s, "x", 3 * MIN), 2.0);
    assert_eq!(one(&s, "x", 10 * MIN), 5.0, "lookback includes t - 5m");
    assert!(vector(&s, "x", 10 * MIN + 1).is_empty());
    // Range selectors skip the marker.
    assert_eq!(one(&s, "count_over_time(x[5m])", 5 * MIN), 4.0);
}

#[test]
fn histogram_quantile_interpolates() {
    let s = fixture();
    // Rates per bucket: 1, 3, 4, 5 per minute → rank 2.5 in (0.1, 0.5].
    let v = one(&s, "histogram_quantile(0.5, rate(h_bucket[5m]))", 10 * MIN);
    assert!(close(v, 0.1 + 0.4 * (1.5 / 2.0)), "{v}");
    // Above the last finite bucket: its bound.
    assert_eq!(one(&s, "histogram_quantile(0.99, h_bucket)", 10 * MIN), 1.0);
}

#[test]
fn binary_matching_and_errors() {
    let s = fixture();
    assert_eq!(
        vector(&s, "a * on(job) group_left b", 5 * MIN),
        vec![
            ("{inst=\"1\", job=\"x\"}".into(), 12.0),
            ("{inst=\"2\", job=\"x\"}".into(), 120.0)
        ]
    );
    assert_eq!(vector(&s, "a > bool 10", 5 * MIN).len(), 2);
    assert_eq!(
        vector(&s, "a > 10", 5 * MIN),
        vec![("a{inst=\"2\", job=\"x\"}".into(), 60.0)]
    );
    assert_eq!(vector(&s, "a unless on(job) b", 5 * MIN).len(), 0);
    assert_eq!(vector(&s, "b or a", 5 * MIN).len(), 4);
    let err = instant(&s, "b + on() a", 5 * MIN).expect_err("many-to-many");
    assert!(
        err.to_string()
            .contains("many-to-many matching not allowed"),
        "{err}"
    );
    assert_eq!(err.error_type(), "execution");
    let err = instant(&s, "a + on(job) b", 5 * MIN).expect_err("one-to-one with two left");
    assert!(
        err.to_string()
            .contains("many-to-one matching must be explicit"),
        "{err}"
    );
}

#[test]
fn aggregations() {
    let s = fixture();
    assert_eq!(one(&s, "sum(a)", 5 * MIN), 66.0);
    assert_eq!(one(&s, "avg(a)", 5 * MIN), 33.0);
    assert_eq!(one(&s, "stddev(a)", 5 * MIN), 27.0);
    assert_eq!(one(&s, "quantile(0.5, a)", 5 * MIN), 33.0);
    assert_eq!(
        vector(&s, "topk(1, a)", 5 * MIN),
        vec![("a{inst=\"2\", job=\"x\"}".into(), 60.0)]
    );
    assert_eq!(
        vector(&s, "count_values(\"v\", b)", 5 * MIN),
        vec![("{v=\"2\"}".into(), 1.0), ("{v=\"4\"}".into(), 1.0)]
    );
    assert_eq!(
        vector(&s, "sum without (inst) (a)", 5 * MIN),
        vec![("{job=\"x\"}".into(), 66.0)]
    );
}

#[test]
fn functions_and_modifiers() {
    let s = fixture();
    assert_eq!(one(&s, "a{inst=\"1\"} offset 2m", 5 * MIN), 4.0);
    assert_eq!(one(&s, "a{inst=\"1\"} @ 120", 5 * MIN), 3.0);
    assert_eq!(
        one(&s, "timestamp(a{inst=\"1\"} offset 2m)", 5 * MIN),
        180.0
    );
    assert_eq!(one(&s, "max_over_time(a{inst=\"1\"}[3m:1m])", 5 * MIN), 6.0);
    assert_eq!(one(&s, "absent(nope{job=\"q\"})", 5 * MIN), 1.0);
    assert_eq!(
        vector(&s, "absent(nope{job=\"q\"})", 5 * MIN)[0].0,
        "{job=\"q\"}"
    );
    assert_eq!(
        vector(
            &s,
            "label_replace(b, \"j\", \"$1$1\", \"job\", \"(.)\")",
            5 * MIN
        )[0]
        .0,
        "b{j=\"xx\", job=\"x\"}"
    );
    assert_eq!(one(&s, "clamp_max(b{job=\"y\"}, 3)", 5 * MIN), 3.0);
    match instant(&s, "scalar(b{job=\"x\"}) * 2", 0).expect("scalar") {
        Value::Scalar { value, .. } => assert_eq!(value, 4.0),
        other => panic!("{other:?}"),
    }
    let err = instant(&s, "first_over_time(a[5m])", 0).expect_err("3.x only");
    assert_eq!(err.error_type(), "bad_data");
    assert!(matches!(
        instant(&s, "holt_winters(a[5m], 0.5, 0.5)", 5 * MIN),
        Ok(Value::Vector(_))
    ));
}

#[test]
fn range_query_steps_match_instant_queries() {
    let s = fixture();
    let engine = Engine::default();
    for q in [
        "c",
        "rate(c[5m])",
        "sum by (job) (rate(c[3m]))",
        "x",
        "a * on(job) group_left b",
        "topk(1, a)",
        "b or a",
        "histogram_quantile(0.9, rate(h_bucket[5m]))",
        "max_over_time(rate(c[2m])[5m:1m])",
        "time() - timestamp(c)",
        "absent(x)",
        "max_over_time(c[7m])",
        "min_over_time(rate(c[2m])[6m:30s])",
        "min_over_time(x[2m] offset 1m)",
    ] {
        let (start, end, step) = (0, 25 * MIN, 90_000);
        let Value::Matrix(m) = engine.range_query(&s, q, start, end, step).expect(q) else {
            panic!("{q}: not a matrix")
        };
        let mut t = start;
        while t <= end {
            let mut want = vector(&s, q, t);
            let mut got: Vec<(String, f64)> = m
                .iter()
                .filter_map(|rs| {
                    let p = rs.samples.iter().find(|p| p.timestamp_ms == t)?;
                    Some((rs.labels.to_string(), p.value))
                })
                .collect();
            want.sort_by(|a, b| a.0.cmp(&b.0));
            got.sort_by(|a, b| a.0.cmp(&b.0));
            assert_eq!(want.len(), got.len(), "{q} at {t}: {want:?} vs {got:?}");
            for (w, g) in want.iter().zip(&got) {
                assert!(
                    w.0 == g.0 && close(w.1, g.1),
                    "{q} at {t}: {want:?} vs {got:?}"
                );
            }
            t += step;
        }
    }
}

#[test]
fn limits_give_prometheus_errors() {
    let s = fixture();
    let engine = Engine::new(EngineOptions {
        max_samples: 10,
        ..EngineOptions::default()
    });
    let err = engine
        .range_query(&s, "c", 0, 20 * MIN, MIN)
        .expect_err("too many");
    assert_eq!(
        err.to_string(),
        "query processing would load too many samples into memory in query execution"
    );
    let engine = Engine::new(EngineOptions {
        timeout: Duration::ZERO,
        ..EngineOptions::default()
    });
    let err = engine.instant_query(&s, "sum(c)", 0).expect_err("timeout");
    assert_eq!(err.error_type(), "timeout");
    let err = Engine::default()
        .range_query(&s, "c[5m]", 0, MIN, MIN)
        .expect_err("matrix");
    assert_eq!(err.error_type(), "bad_data");
}

#[test]
fn deep_nesting_fits_a_small_thread_stack_or_is_refused() {
    let s = std::sync::Arc::new(fixture());
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let deep = format!("{}a{}", "abs(".repeat(190), ")".repeat(190));
            let sum = vec!["a"; 190].join(" + ");
            let parens = format!("{}a{}", "(".repeat(190), ")".repeat(190));
            for q in [&deep, &sum, &parens] {
                assert!(
                    matches!(instant(&s, q, 5 * MIN), Ok(Value::Vector(_))),
                    "{q}"
                );
            }
            let too_deep = format!("{}a{}", "abs(".repeat(300), ")".repeat(300));
            let err = instant(&s, &too_deep, 0).expect_err("too deep");
            assert_eq!(err.error_type(), "bad_data");
        })
        .expect("spawn");
    handle.join().expect("no stack overflow");
}

#[test]
fn hostile_durations_are_errors_not_panics() {
    let s = fixture();
    for q in [
        "a[Inf]",
        "a offset NaN",
        "rate(a[1e308])",
        "a[5m:1e30]",
        "a offset -Inf",
    ] {
        let err = instant(&s, q, 0).expect_err(q);
        assert_eq!(err.error_type(), "bad_data", "{q}");
    }
    // Extreme but representable times evaluate.
    assert!(Engine::default()
        .range_query(
            &s,
            "a",
            -9_000_000_000_000_000_000,
            9_000_000_000_000_000_000,
            1_000_000_000_000_000_000
        )
        .is_ok());
}

#[test]
fn sliding_min_max_equal_the_window_scan() {
    // NaN runs, ±0, ±Inf and ties: the queue must pick what the scan picks.
    let values = [
        f64::NAN,
        0.0,
        -0.0,
        3.0,
        f64::NAN,
        f64::NAN,
        3.0,
        -1.0,
        f64::INFINITY,
        2.0,
        f64::NAN,
        f64::NAN,
        f64::NAN,
        f64::NEG_INFINITY,
        0.0,
        5.0,
        5.0,
        -0.0,
        1.0,
        f64::NAN,
    ];
    let s = store(&[(&[("__name__", "v")], &some(&values))]);
    for f in ["max_over_time", "min_over_time"] {
        for range in ["1m", "3m", "150s"] {
            for t in 0..22 {
                let t = t * MIN + 30_000 * (t % 2);
                let sliding = vector(&s, &format!("{f}(v[{range}])"), t);
                // `@` pins the window, which takes the per-window scan.
                let scan = vector(&s, &format!("{f}(v[{range}] @ {})", t as f64 / 1000.0), t);
                assert_eq!(sliding.len(), scan.len(), "{f} {range} at {t}");
                for (a, b) in sliding.iter().zip(&scan) {
                    assert!(
                        a.1.to_bits() == b.1.to_bits() || (a.1.is_nan() && b.1.is_nan()),
                        "{f} {range} at {t}: {a:?} vs {b:?}"
                    );
                }
            }
        }
    }
}
