//! The terminal summary, modelled on hyperfine's: per command the mean ± σ
//! with user and system time, the range and run count, the median and mean
//! with confidence intervals, peak RSS, and an outlier warning; then the
//! comparison of the fastest command with the others.

use crate::compare::Comparison;
use crate::result::BenchmarkResult;
use crate::units::{format_bytes, format_in, TimeUnit};

/// The block printed after command number `index` (1-based) finishes.
pub fn command_block(
    index: usize,
    result: &BenchmarkResult,
    confidence: f64,
    unit: Option<TimeUnit>,
) -> String {
    let cpu = |seconds: f64| match unit {
        Some(unit) => format_in(seconds, unit),
        None => crate::units::format_seconds(seconds),
    };
    let unit = unit.unwrap_or_else(|| TimeUnit::for_seconds(result.mean));
    let t = |seconds: f64| format_in(seconds, unit);
    let percent = confidence * 100.0;
    let mut text = format!("Benchmark {index}: {}\n", result.command);
    text += &format!(
        "  Time (mean ± σ):     {:>10} ± {:>9}    [User: {}, System: {}]\n",
        t(result.mean),
        t(result.stddev.unwrap_or(0.0)),
        cpu(result.user),
        cpu(result.system),
    );
    text += &format!(
        "  Range (min … max):   {:>10} … {:>9}    {} runs\n",
        t(result.min),
        t(result.max),
        result.times.len()
    );
    text += &format!(
        "  Mean {percent:.0} % CI:         {:>10} … {:>9}    Median: {} [{} … {}]\n",
        t(result.mean_ci.low),
        t(result.mean_ci.high),
        t(result.median),
        t(result.median_ci.low),
        t(result.median_ci.high),
    );
    let rss = format_bytes(result.peak_rss_bytes);
    if result.peak_rss_is_upper_bound {
        text += &format!(
            "  Peak RSS:            {:>10}    (at most: whyslow's own size, which a child inherits until it execs)\n",
            format!("≤ {rss}")
        );
    } else {
        text += &format!("  Peak RSS:            {rss:>10}\n");
    }
    let failed = result.exit_codes.iter().filter(|c| **c != Some(0)).count();
    if failed > 0 {
        text += &format!(
            "  Warning: {failed} of {} runs exited with a non-zero status (ignored with -i).\n",
            result.exit_codes.len()
        );
    }
    if let Some(warning) = outlier_warning(result) {
        text += &format!("  Warning: {warning}\n");
    }
    text
}

/// hyperfine's outlier warning, with the count, or `None` without outliers.
pub fn outlier_warning(result: &BenchmarkResult) -> Option<String> {
    let count = result.outliers.len();
    if count == 0 {
        return None;
    }
    let first_slowest = result
        .times
        .first()
        .is_some_and(|&first| first >= result.max)
        && result.outliers.contains(&0);
    Some(format!(
        "{count} statistical outlier{} detected (modified z-score > 3.5) in {} runs. {}",
        if count == 1 { " was" } else { "s were" },
        result.times.len(),
        if first_slowest {
            "The first run was the slowest: caches may have been cold; try --warmup or --prepare."
        } else {
            "Consider re-running on a quiet system without interference from other programs; --warmup or --prepare may help."
        }
    ))
}

/// The "Summary" section: each comparison on its own line.
pub fn comparisons_block(comparisons: &[Comparison], confidence: f64) -> String {
    if comparisons.is_empty() {
        return String::new();
    }
    let mut text = String::from("Summary\n");
    for comparison in comparisons {
        text += &format!("  {}\n", comparison.sentence(confidence));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::Bootstrap;
    use crate::command::CommandSpec;
    use crate::exec::Measurement;

    #[test]
    fn block_reads_like_hyperfine_and_warns_about_outliers() {
        let mut times: Vec<f64> = (0..10).map(|i| 0.05 + 0.0001 * i as f64).collect();
        times[2] = 0.4;
        let runs: Vec<Measurement> = times
            .iter()
            .map(|&wall_s| Measurement {
                wall_s,
                user_s: 0.001,
                system_s: 0.002,
                max_rss_bytes: 2 << 20,
                exit_code: Some(0),
                signal: None,
            })
            .collect();
        let result = BenchmarkResult::from_runs(
            &CommandSpec::plain("sleep 0.05"),
            &runs,
            &mut Bootstrap::new(1, 200, 0.95),
        );
        let text = command_block(1, &result, 0.95, None);
        assert!(command_block(1, &result, 0.95, Some(TimeUnit::Second)).contains("0.085 s"));
        assert!(
            text.starts_with("Benchmark 1: sleep 0.05\n  Time (mean ± σ):"),
            "{text}"
        );
        assert!(text.contains("10 runs"), "{text}");
        assert!(
            text.contains("Peak RSS:") && text.contains("2.0 MiB"),
            "{text}"
        );
        assert!(
            text.contains("Warning: 1 statistical outlier was detected"),
            "{text}"
        );
    }
}
