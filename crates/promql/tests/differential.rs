//! The differential PromQL suite: whyslow's PromQL against the real
//! Prometheus (Debian's 2.42, /usr/bin/prometheus) on the same generated data.
//!
//! Steps: start Prometheus (remote_write receiver, empty scrape config, temp
//! TSDB); generate two hours of seeded samples (differential/generate.rs); send
//! them by remote_write to Prometheus and load them into the subject; run
//! every query of differential/queries.txt at several instants and over
//! several ranges on both; require the same answers (differential/compare.rs).
//!
//! The subject is the in-process `promql::Engine` over a `MemorySeriesStore`,
//! or, with `WHYSLOW_DIFF_SERVE_URL=http://127.0.0.1:16686`, a running
//! `whyslow serve` (fresh data directory) fed by remote_write and asked over
//! its Prometheus HTTP API.
//!
//! Environment:
//! - `WHYSLOW_REQUIRE_PROMETHEUS=1`: fail (instead of skip) without /usr/bin/prometheus.
//! - `WHYSLOW_DIFF_ALLOW_FAIL=1`: print differences without failing (reference
//!   problems still fail: they mean queries.txt is wrong).
//! - `WHYSLOW_DIFF_SERVE_URL`: compare a server instead of the in-process engine.
//! - `WHYSLOW_DIFF_MAX_PRINT` (default 100): failing queries printed (two
//!   evaluations each); the full report, every failing evaluation, is always
//!   written to `target/tmp/promql-differential.txt`.
//! - `WHYSLOW_DIFF_FILTER=substring`: only queries containing it.
//! - `WHYSLOW_DIFF_SUBJECT=prometheus`: a second Prometheus as the subject, to
//!   check the suite itself (everything must pass).
//!
//! Run: `cargo test -p promql --test differential -- --nocapture`.

#[path = "differential/answer.rs"]
mod answer;
#[path = "differential/cases.rs"]
mod cases;
#[path = "differential/compare.rs"]
mod compare;
#[path = "differential/data.rs"]
mod data;
#[path = "differential/generate.rs"]
mod generate;
#[path = "differential/http.rs"]
mod http;
#[path = "differential/prometheus.rs"]
mod prometheus;
#[path = "differential/run.rs"]
mod run;
#[path = "differential/target.rs"]
mod target;

use prometheus::{Prometheus, PROMETHEUS_BIN};
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;
use target::{EngineTarget, HttpTarget, Target};

const QUERIES: &str = include_str!("differential/queries.txt");
/// Samples per remote_write request (Prometheus's own default is 2000).
const BATCH_SAMPLES: usize = 2000;

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1")
}

/// The first whole hour at least two hours before now, so the data ends
/// 0-60 min ago and fits in one fresh Prometheus head.
fn choose_t0() -> i64 {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64;
    now_ms - now_ms % (60 * data::MINUTE) - data::SPAN
}

/// Sends every batch, in order, to every target.
fn load(data: &data::Data, targets: &mut [&mut dyn Target]) {
    for batch in data.batches(BATCH_SAMPLES) {
        for target in targets.iter_mut() {
            if let Err(e) = target.load(&batch) {
                panic!(
                    "loading the generated data into {} failed: {e}",
                    target.name()
                );
            }
        }
    }
}

/// Prometheus must hold exactly the samples we generated, stale markers
/// aside (a check of the loader and of the data, not of the subject).
fn check_reference_holds(reference: &dyn Target, data: &data::Data) {
    let query = "{__name__=~\".+\"}[3h]";
    let Ok(answer::Answer::Matrix(held)) = reference.instant(query, data.t0 + data::SPAN) else {
        panic!("Prometheus did not answer {query} with a matrix");
    };
    let held: BTreeMap<_, _> = held.into_iter().collect();
    assert_eq!(held.len(), data.series.len(), "series count in Prometheus");
    for (labels, samples) in &data.series {
        let metric: answer::Metric = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let want: Vec<(i64, f64)> = samples
            .iter()
            .filter(|s| !model::metrics::is_stale_nan(s.value))
            .map(|s| (s.timestamp_ms, s.value))
            .collect();
        let got = held.get(&metric).map(Vec::as_slice).unwrap_or_default();
        let same = want.len() == got.len()
            && want
                .iter()
                .zip(got)
                .all(|(a, b)| a.0 == b.0 && compare::same_value(a.1, b.1));
        assert!(
            same,
            "Prometheus holds {} samples of {labels}, we sent {}",
            got.len(),
            want.len()
        );
    }
}

#[test]
fn promql_matches_prometheus() {
    let bin = Path::new(PROMETHEUS_BIN);
    if !bin.exists() {
        assert!(
            !env_flag("WHYSLOW_REQUIRE_PROMETHEUS"),
            "{PROMETHEUS_BIN} is missing and WHYSLOW_REQUIRE_PROMETHEUS=1: apt-get install prometheus"
        );
        println!("skipped: {PROMETHEUS_BIN} is missing (apt-get install prometheus)");
        return;
    }
    let mut queries = cases::parse(QUERIES).expect("queries.txt parses");
    if let Ok(filter) = std::env::var("WHYSLOW_DIFF_FILTER") {
        queries.retain(|q| q.text.contains(&filter));
    }
    let http = Rc::new(http::Http::new());
    let prometheus = Prometheus::start(bin, &http).expect("Prometheus starts");
    let mut reference = HttpTarget::new("prometheus", http.clone(), &prometheus.url);
    // Held until the end: a second Prometheus when it is the subject.
    let mut second = None;
    let mut subject: Box<dyn Target> = if let Ok(url) = std::env::var("WHYSLOW_DIFF_SERVE_URL") {
        Box::new(HttpTarget::new("serve", http.clone(), &url))
    } else if std::env::var("WHYSLOW_DIFF_SUBJECT").is_ok_and(|v| v == "prometheus") {
        let other = second.insert(Prometheus::start(bin, &http).expect("second Prometheus starts"));
        Box::new(HttpTarget::new("prometheus-2", http.clone(), &other.url))
    } else {
        Box::new(EngineTarget::new())
    };

    let data = generate::generate(choose_t0());
    load(&data, &mut [&mut reference, subject.as_mut()]);
    check_reference_holds(&reference, &data);

    let report = run::run(&queries, &reference, subject.as_ref(), data.t0);
    let max_print = std::env::var("WHYSLOW_DIFF_MAX_PRINT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let full = report.render(subject.name(), queries.len(), usize::MAX, usize::MAX);
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("promql-differential.txt");
    let _ = std::fs::write(&path, &full);
    print!(
        "{}",
        report.render(subject.name(), queries.len(), max_print, 2)
    );
    println!("full report: {}", path.display());
    drop(prometheus);
    drop(second);

    assert!(
        report.reference_problems.is_empty(),
        "{} evaluations do not behave in Prometheus as queries.txt says (see REFERENCE PROBLEM above)",
        report.reference_problems.len()
    );
    if !report.failures.is_empty() {
        if env_flag("WHYSLOW_DIFF_ALLOW_FAIL") {
            println!("WHYSLOW_DIFF_ALLOW_FAIL=1: not failing on the differences above");
        } else {
            panic!(
                "{} ({} differs from Prometheus; the cases are listed above)",
                report.summary(),
                subject.name()
            );
        }
    }
}
