//! The outcome of a run: the merged measurements plus what was asked for, and
//! the derived numbers every view shows (achieved rps, error ratio, latency
//! percentiles). Views live beside it: `summary.rs` (terminal), `json.rs`,
//! `report_html.rs`.

use crate::config::{LoadConfig, Model};
use crate::recorder::Recorder;
use crate::slo::{evaluate, Metric, Threshold, Verdict};
use crate::slowest::{SlowRequest, Slowest};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::time::Duration;

/// Percentiles shown in the summary table.
pub const SUMMARY_QUANTILES: [(f64, &str); 5] = [
    (0.5, "p50"),
    (0.9, "p90"),
    (0.99, "p99"),
    (0.999, "p99.9"),
    (0.9999, "p99.99"),
];

/// Latency statistics of one histogram, µs.
#[derive(Debug, Clone, Serialize)]
pub struct LatencySummary {
    /// 50th percentile.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p99_9: u64,
    /// 99.99th percentile.
    pub p99_99: u64,
    /// Largest.
    pub max: u64,
    /// Smallest.
    pub min: u64,
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub stdev: f64,
}

impl LatencySummary {
    /// Summarises `histogram` (all zeros when it is empty).
    pub fn of(histogram: &Histogram<u64>) -> Self {
        let at = |q: f64| histogram.value_at_quantile(q);
        LatencySummary {
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            p99_9: at(0.999),
            p99_99: at(0.9999),
            max: histogram.max(),
            min: histogram.min(),
            mean: histogram.mean(),
            stdev: histogram.stdev(),
        }
    }
}

/// A finished load test.
#[derive(Debug, Clone)]
pub struct LoadResult {
    /// What was asked for.
    pub config: LoadConfig,
    /// What was measured (its slowest-request keeper is emptied into `slowest`).
    pub recorder: Recorder,
    /// The slowest requests, slowest first.
    pub slowest: Vec<SlowRequest>,
    /// From the start of the clock to the last response.
    pub elapsed: Duration,
    /// Requests attempted.
    pub attempted: u64,
    /// Open model: scheduled arrivals that were never sent because the run ended
    /// (the target fell too far behind), or 0.
    pub not_sent: u64,
    /// Whether the run was stopped early (Ctrl-C).
    pub stopped_early: bool,
    /// SLO verdicts, when thresholds were given.
    pub verdicts: Vec<Verdict>,
}

impl LoadResult {
    /// Wraps the merged measurements.
    pub fn new(
        config: LoadConfig,
        mut recorder: Recorder,
        elapsed: Duration,
        attempted: u64,
        not_sent: u64,
        stopped_early: bool,
    ) -> Self {
        let slowest = std::mem::replace(&mut recorder.slowest, Slowest::new(0)).into_sorted();
        LoadResult {
            config,
            recorder,
            slowest,
            elapsed,
            attempted,
            not_sent,
            stopped_early,
            verdicts: Vec::new(),
        }
    }

    /// Responses (any status) per second of the run. An open-model run lasts at
    /// least its schedule: the last arrival of a ramp down may come well before
    /// the schedule's end, and that quiet tail is part of the run.
    pub fn rps(&self) -> f64 {
        let planned = match &self.config.model {
            Model::Open(schedule) if !self.stopped_early => schedule.duration(),
            _ => Duration::ZERO,
        };
        let seconds = self.elapsed.max(planned).as_secs_f64();
        if seconds > 0.0 {
            self.recorder.responses() as f64 / seconds
        } else {
            0.0
        }
    }

    /// The open model's average planned rate (arrivals / schedule length).
    pub fn target_rps(&self) -> Option<f64> {
        match &self.config.model {
            Model::Open(schedule) => {
                let seconds = schedule.duration().as_secs_f64();
                (seconds > 0.0).then(|| schedule.total_arrivals() as f64 / seconds)
            }
            Model::Closed => None,
        }
    }

    /// Failed requests (plus unsent arrivals) as a fraction of attempted plus unsent.
    pub fn error_ratio(&self) -> f64 {
        let failed = self.recorder.errors.total() + self.not_sent;
        let all = self.attempted + self.not_sent;
        if all == 0 {
            0.0
        } else {
            failed as f64 / all as f64
        }
    }

    /// Corrected latency statistics.
    pub fn corrected(&self) -> LatencySummary {
        LatencySummary::of(&self.recorder.corrected)
    }

    /// Uncorrected latency statistics.
    pub fn uncorrected(&self) -> LatencySummary {
        LatencySummary::of(&self.recorder.uncorrected)
    }

    /// The value a threshold is checked against.
    pub fn measure(&self, metric: &Metric) -> f64 {
        match *metric {
            Metric::Latency(q) => self.recorder.corrected.value_at_quantile(q) as f64,
            Metric::LatencyUncorrected(q) => self.recorder.uncorrected.value_at_quantile(q) as f64,
            Metric::Mean => self.recorder.corrected.mean(),
            Metric::Max => self.recorder.corrected.max() as f64,
            Metric::ErrorRatio => self.error_ratio(),
            Metric::ErrorCount => (self.recorder.errors.total() + self.not_sent) as f64,
            Metric::Rps => self.rps(),
        }
    }

    /// Checks `thresholds` and keeps the verdicts; true when all passed.
    pub fn check_slo(&mut self, thresholds: &[Threshold]) -> bool {
        self.verdicts = evaluate(thresholds, |metric| self.measure(metric));
        self.verdicts.iter().all(|v| v.passed)
    }

    /// Short model description: `open 2000 rps`, `open stages`, `closed`.
    pub fn model_name(&self) -> &'static str {
        match self.config.model {
            Model::Open(_) => "open",
            Model::Closed => "closed",
        }
    }

    /// Percentile spectrum of `histogram` for HdrHistogram-style plots: pairs of
    /// (percentile, µs) at quantiles 1 − 10^(−x), x stepping by 0.05 up to the
    /// resolution the sample count supports, then the max.
    pub fn spectrum(histogram: &Histogram<u64>) -> Vec<(f64, u64)> {
        let count = histogram.len();
        if count == 0 {
            return Vec::new();
        }
        let limit = (count as f64).log10().max(1.0);
        let mut points = Vec::new();
        let mut x = 0.0;
        while x <= limit {
            let quantile = 1.0 - 10f64.powf(-x);
            points.push((quantile * 100.0, histogram.value_at_quantile(quantile)));
            x += 0.05;
        }
        points.push((100.0, histogram.max()));
        points
    }

    /// Log-spaced histogram bars (lower µs, upper µs, count), quarter-octave wide,
    /// from the first to the last non-empty one.
    pub fn bars(histogram: &Histogram<u64>) -> Vec<(u64, u64, u64)> {
        if histogram.is_empty() {
            return Vec::new();
        }
        let mut bars = Vec::new();
        let mut lower = 0u64;
        for step in histogram.iter_log(1, 2f64.powf(0.25)) {
            let upper = step.value_iterated_to();
            bars.push((lower, upper, step.count_since_last_iteration()));
            lower = upper + 1;
        }
        let first = bars.iter().position(|b| b.2 > 0).unwrap_or(0);
        let last = bars.iter().rposition(|b| b.2 > 0).unwrap_or(0);
        bars.get(first..=last)
            .map(<[_]>::to_vec)
            .unwrap_or_default()
    }
}
