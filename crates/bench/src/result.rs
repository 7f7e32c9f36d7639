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
    /// The command's name: `--command-name`, else the command line as run.
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
    /// True when `peak_rss_bytes` is no more than whyslow's own peak RSS,
    /// which the kernel counts for every child up to its exec: the command's
    /// real peak is then somewhere below (see [`crate::exec::own_peak_rss_bytes`]).
    #[serde(default)]
    pub peak_rss_is_upper_bound: bool,
    /// Bootstrap confidence interval of the mean.
    pub mean_ci: Interval,
    /// Bootstrap confidence interval of the median.
    pub median_ci: Interval,
    /// Indices into `times` of the outliers (modified z-score above 3.5).
    pub outliers: Vec<usize>,
    /// The command line as run, when `command` is a `--command-name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_line: Option<String>,
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
            command: spec.display_name().to_string(),
            command_line: spec.name.as_ref().map(|_| spec.command_line.clone()),
            mean: stats::mean(&times),
            stddev: stats::stddev(&times),
            median: stats::median(&times),
            user: stats::mean(&user_times),
            system: stats::mean(&system_times),
            min,
            max,
            exit_codes: runs.iter().map(|r| r.exit_code).collect(),
            peak_rss_bytes: memory.iter().copied().max().unwrap_or(0),
            peak_rss_is_upper_bound: false,
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
    /// The reference command (`--reference`), else the fastest, against
    /// each other one.
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
    /// Compares one command against every other: the `reference` (an index
    /// into `results`) when given, else the fastest by mean. The others come
    /// fastest first, or in command order with [`SortOrder::Command`].
    pub fn compare_all(
        results: &[BenchmarkResult],
        reference: Option<usize>,
        order: SortOrder,
        bootstrap: &mut Bootstrap,
    ) -> Vec<Comparison> {
        let fastest = || {
            results
                .iter()
                .enumerate()
                .min_by(|(_, a), (_, b)| a.mean.total_cmp(&b.mean))
                .map(|(index, _)| index)
        };
        let Some(anchor) = reference.filter(|&i| i < results.len()).or_else(fastest) else {
            return Vec::new();
        };
        let mut others: Vec<&BenchmarkResult> = results
            .iter()
            .enumerate()
            .filter(|(index, _)| *index != anchor)
            .map(|(_, result)| result)
            .collect();
        if order != SortOrder::Command {
            others.sort_by(|a, b| a.mean.total_cmp(&b.mean));
        }
        let anchor = &results[anchor];
        others
            .into_iter()
            .map(|other| {
                Comparison::of(
                    (&anchor.command, &anchor.times),
                    (&other.command, &other.times),
                    bootstrap,
                )
            })
            .collect()
    }

    /// The results in the order of tables (Markdown, CSV, …): as run, or by
    /// mean time with [`SortOrder::MeanTime`].
    pub fn results_in(&self, order: SortOrder) -> Vec<&BenchmarkResult> {
        let mut results: Vec<&BenchmarkResult> = self.results.iter().collect();
        if order == SortOrder::MeanTime {
            results.sort_by(|a, b| a.mean.total_cmp(&b.mean));
        }
        results
    }
}

/// hyperfine's `--sort`: the order of the comparisons and of table rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Comparisons by mean time, tables in command order.
    #[default]
    Auto,
    /// Both in command order.
    Command,
    /// Both by mean time.
    MeanTime,
}

impl SortOrder {
    /// Parses `auto`, `command` or `mean-time`.
    pub fn parse(text: &str) -> Result<SortOrder, String> {
        match text {
            "auto" => Ok(SortOrder::Auto),
            "command" => Ok(SortOrder::Command),
            "mean-time" => Ok(SortOrder::MeanTime),
            _ => Err(format!(
                "invalid sort order '{text}' (one of: auto, command, mean-time)"
            )),
        }
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
    let comparisons = Report::compare_all(
        &results,
        None,
        SortOrder::Auto,
        &mut Bootstrap::new(1, 200, 0.95),
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_anchor_on_the_reference_and_follow_the_order() {
        let results = vec![
            result_of("b", &[0.3, 0.31, 0.29]),
            result_of("a", &[0.1, 0.11, 0.09]),
            result_of("c", &[0.2, 0.21, 0.19]),
        ];
        let mut bootstrap = Bootstrap::new(1, 100, 0.95);
        let pairs = |comparisons: Vec<Comparison>| -> Vec<(String, String)> {
            comparisons
                .into_iter()
                .map(|c| (c.faster, c.slower))
                .collect()
        };
        let auto = Report::compare_all(&results, None, SortOrder::Auto, &mut bootstrap);
        assert_eq!(
            pairs(auto),
            [("a".into(), "c".into()), ("a".into(), "b".into())]
        );
        let by_command = Report::compare_all(&results, None, SortOrder::Command, &mut bootstrap);
        assert_eq!(
            pairs(by_command),
            [("a".into(), "b".into()), ("a".into(), "c".into())]
        );
        // Against the reference `b`, which is the slowest: it is on the slow side.
        let reference = Report::compare_all(&results, Some(0), SortOrder::Auto, &mut bootstrap);
        assert_eq!(
            pairs(reference),
            [("a".into(), "b".into()), ("c".into(), "b".into())]
        );
        assert_eq!(SortOrder::parse("mean-time"), Ok(SortOrder::MeanTime));
        assert!(SortOrder::parse("fast").is_err());
    }
}
