//! Fuzzes PromQL parsing and evaluation: arbitrary query text, as an instant
//! and as a range query, over a small fixed in-memory store (counters with a
//! reset, a gauge with NaN and ±Inf, a classic histogram, a stale series).
//! Any result or error is fine; a panic is the bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use model::metrics::{stale_nan, Labels, Sample, TimeSeries};
use promql::{Engine, EngineOptions};
use std::sync::OnceLock;
use std::time::Duration;
use store::series::{MemorySeriesStore, SeriesBatch, SeriesStore};

fn store() -> &'static MemorySeriesStore {
    static STORE: OnceLock<MemorySeriesStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let s = MemorySeriesStore::new();
        let series = |pairs: &[(&str, &str)], values: &[f64]| TimeSeries {
            labels: Labels::from_pairs(pairs.iter().copied()),
            samples: values
                .iter()
                .enumerate()
                .map(|(i, &value)| Sample {
                    timestamp_ms: i as i64 * 15_000,
                    value,
                })
                .collect(),
            exemplars: Vec::new(),
        };
        let batch = SeriesBatch {
            series: vec![
                series(
                    &[("__name__", "c"), ("job", "a")],
                    &[0.0, 5.0, 9.0, 2.0, 7.0, 30.0],
                ),
                series(&[("__name__", "c"), ("job", "b")], &[1.0, 1.0, 2.0, 3.0]),
                series(
                    &[("__name__", "g"), ("job", "a"), ("x", "1")],
                    &[1.0, f64::NAN, f64::INFINITY, -3.0, f64::NEG_INFINITY, 0.0],
                ),
                series(&[("__name__", "s"), ("job", "a")], &[1.0, stale_nan(), 3.0]),
                series(&[("__name__", "h_bucket"), ("le", "0.5")], &[0.0, 1.0, 2.0]),
                series(&[("__name__", "h_bucket"), ("le", "1")], &[0.0, 3.0, 1.0]),
                series(
                    &[("__name__", "h_bucket"), ("le", "+Inf")],
                    &[0.0, 4.0, 6.0],
                ),
            ],
            metadata: Vec::new(),
        };
        let _ = s.append(batch);
        s
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let engine = Engine::new(EngineOptions {
        lookback_delta_ms: 60_000,
        max_samples: 50_000,
        timeout: Duration::from_secs(1),
    })
    .with_default_subquery_step_ms(15_000);
    let _ = engine.instant_query(store(), query, 60_000);
    let _ = engine.range_query(store(), query, 0, 120_000, 10_000);
});
