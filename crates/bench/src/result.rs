//! The result of a benchmark as exported and compared: per-command
//! statistics with every run's times ([`BenchmarkResult`]), and the whole
//! run with comparisons ([`Report`]). Field names follow hyperfine's JSON
//! export (`command`, `mean`, `stddev`, `median`, `user`, `system`, `min`,
//! `max`, `times`, `exit_codes`, `memory_usage_byte`, `parameters`) so tools
//! reading one read the other; whyslow's extra fields come after them.

use crate::baseline::BaselineComparison;
use crate::bootstrap::{Bootstrap, Interval};
use crate::command::CommandSpec;
use crate::compare::Comparison;
use crate::exec::Measurement;
use crate::{outliers, stats};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Statistics of one command's timed runs. Times are in seconds, with the
/// shell's spawn overhead already subtracted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkResult {
    /// The command line as run.
    pub command: String,
    /// Mean wall time.
    pub mean: f64,
    /// Sample standard deviation of the wall time (absent below two runs).
    pub stddev: Option<f64>,
    /// Median wall time.
    pub median: f64,
    /// Mean user CPU time.
    pub user: f64,
    /// Mean system CPU time.
    pub system: f64,
    /// Fastest run.
    pub min: f64,
    /// Slowest run.
    pub max: f64,
    /// Wall time of every timed run, in order.
    pub times: Vec<f64>,
    /// Exit status of every run (`null` when a signal ended it).
    pub exit_codes: Vec<Option<i32>>,
    /// Peak RSS of every run, bytes.
    pub memory_usage_byte: Vec<u64>,
    /// Parameter values of a scan, empty without one.
    pub parameters: BTreeMap<String, String>,
    /// User CPU time of every run.
    pub user_times: Vec<f64>,
    /// System CPU time of every run.
    pub system_times: Vec<f64>,
    /// Largest peak RSS over the runs, bytes.
    pub peak_rss_bytes: u64,
    /// Bootstrap confidence interval of the mean.
    pub mean_ci: Interval,
    /// Bootstrap confidence interval of the median.
    pub median_ci: Interval,
    /// Indices into `times` of the outliers (modified z-score above 3.5).
    pub outliers: Vec<usize>,
}

impl BenchmarkResult {
    /// Summarizes the timed runs of `spec`.
    pub fn from_runs(spec: &CommandSpec, runs: &[Measurement], bootstrap: &mut Bootstrap) -> Self {
        let times: Vec<f64> = runs.iter().map(|r| r.wall_s).collect();
        let user_times: Vec<f64> = runs.iter().map(|r| r.user_s).collect();
        let system_times: Vec<f64> = runs.iter().map(|r| r.system_s).collect();
        let memory: Vec<u64> = runs.iter().map(|r| r.max_rss_bytes).collect();
        let (min, max) = stats::min_max(&times);
        Self {
            command: spec.command_line.clone(),
            mean: stats::mean(&times),
            stddev: stats::stddev(&times),
            median: stats::median(&times),
            user: stats::mean(&user_times),
            system: stats::mean(&system_times),
            min,
            max,
            exit_codes: runs.iter().map(|r| r.exit_code).collect(),
            peak_rss_bytes: memory.iter().copied().max().unwrap_or(0),
            memory_usage_byte: memory,
            parameters: spec.parameters.clone(),
            mean_ci: bootstrap.mean(&times),
            median_ci: bootstrap.median(&times),
            outliers: outliers::outlier_indices(&times),
            user_times,
            system_times,
            times,
        }
    }
}

/// A whole `whyslow bench` run: the JSON export, and what every other view reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Per-command results, in the order run.
    pub results: Vec<BenchmarkResult>,
    /// The fastest command against each other one.
    pub comparisons: Vec<Comparison>,
    /// Each command against the `--baseline` file, when one was given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub baseline: Vec<BaselineComparison>,
    /// "sh", another shell, or "none".
    pub shell: String,
    /// Mean wall time of the shell running an empty command, subtracted from
    /// every time (absent with `--shell=none`).
    pub shell_overhead_s: Option<f64>,
    /// Confidence level of every interval, e.g. 0.95.
    pub confidence: f64,
    /// Bootstrap resamples per interval.
    pub bootstrap_resamples: usize,
    /// RNG seed of the bootstrap (`--seed` reproduces the intervals).
    pub seed: u64,
}

impl Report {
    /// Builds the comparisons of the fastest command (by mean) against every other.
    pub fn compare_all(results: &[BenchmarkResult], bootstrap: &mut Bootstrap) -> Vec<Comparison> {
        let Some(fastest) = results.iter().min_by(|a, b| a.mean.total_cmp(&b.mean)) else {
            return Vec::new();
        };
        results
            .iter()
            .filter(|r| !std::ptr::eq(*r, fastest))
            .map(|other| {
                Comparison::of(
                    (&fastest.command, &fastest.times),
                    (&other.command, &other.times),
                    bootstrap,
                )
            })
            .collect()
    }
}

/// Results from plain wall times, for the unit tests of the views.
#[cfg(test)]
pub(crate) fn result_of(command: &str, times: &[f64]) -> BenchmarkResult {
    let runs: Vec<Measurement> = times
        .iter()
        .map(|&wall_s| Measurement {
            wall_s,
            user_s: wall_s / 10.0,
            system_s: wall_s / 20.0,
            max_rss_bytes: 3 << 20,
            exit_code: Some(0),
            signal: None,
        })
        .collect();
    BenchmarkResult::from_runs(
        &CommandSpec::plain(command),
        &runs,
        &mut Bootstrap::new(1, 200, 0.95),
    )
}

/// A two-command report with a planted outlier in the second, for view tests.
#[cfg(test)]
pub(crate) fn sample_report() -> Report {
    let fast: Vec<f64> = (0..12).map(|i| 0.050 + 0.0002 * (i % 4) as f64).collect();
    let mut slow: Vec<f64> = fast.iter().map(|t| t * 2.0).collect();
    slow[2] = 0.4;
    let results = vec![
        result_of("sleep 0.05", &fast),
        result_of("sleep 0.1", &slow),
    ];
    let comparisons = Report::compare_all(&results, &mut Bootstrap::new(1, 200, 0.95));
    Report {
        results,
        comparisons,
        baseline: Vec::new(),
        shell: "sh".into(),
        shell_overhead_s: Some(0.001),
        confidence: 0.95,
        bootstrap_resamples: 200,
        seed: 1,
    }
}
