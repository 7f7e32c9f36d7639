//! The regression gate: each command against the same command in a saved
//! JSON export (`--baseline FILE`, whyslow's or hyperfine's, which need only
//! `command` and `times`). A regression is a slowdown that is significant
//! (Welch's t-test, p < 0.05) and larger than the threshold (default 5 %).

use crate::bootstrap::{Bootstrap, Interval};
use crate::compare::{self, ALPHA};
use crate::error::BenchError;
use crate::result::BenchmarkResult;
use crate::stats;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The part of a saved result the gate needs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BaselineResult {
    /// The command line.
    pub command: String,
    /// Wall time of every run, seconds.
    pub times: Vec<f64>,
}

#[derive(Deserialize)]
struct BaselineFile {
    results: Vec<BaselineResult>,
}

/// Reads a JSON export.
pub fn load(path: &Path) -> Result<Vec<BaselineResult>, BenchError> {
    let error = |reason: String| BenchError::Baseline {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let file: BaselineFile = serde_json::from_str(&text).map_err(|e| {
        error(format!(
            "{e} (expected a JSON export of `whyslow bench --export-json` or hyperfine, with results[].command and results[].times)"
        ))
    })?;
    if let Some(empty) = file.results.iter().find(|r| r.times.is_empty()) {
        return Err(error(format!("`{}` has no run times", empty.command)));
    }
    Ok(file.results)
}

/// What the comparison with the baseline found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Significantly slower by more than the threshold.
    Regressed,
    /// Significantly faster by more than the threshold.
    Improved,
    /// Neither.
    Unchanged,
}

/// One command against its baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineComparison {
    /// The command line now.
    pub command: String,
    /// The baseline command it was matched with (differs when matched by position).
    pub baseline_command: String,
    /// Mean wall seconds in the baseline.
    pub baseline_mean: f64,
    /// Mean wall seconds now.
    pub mean: f64,
    /// mean / baseline_mean (> 1 is slower).
    pub ratio: f64,
    /// Bootstrap confidence interval of the ratio.
    pub ratio_ci: Interval,
    /// Two-sided p-value of Welch's t-test.
    pub p_value: Option<f64>,
    /// The gate's verdict.
    pub verdict: Verdict,
}

impl BaselineComparison {
    /// The line printed for this command, e.g. "REGRESSION: `x` is 50.3 %
    /// slower than the baseline: 54.3 ms → 81.7 ms, ×1.503 [1.465–1.544], p < 0.001".
    pub fn sentence(&self) -> String {
        let change = (self.ratio - 1.0) * 100.0;
        let baseline = if self.baseline_command == self.command {
            "the baseline".to_string()
        } else {
            format!("the baseline `{}`", self.baseline_command)
        };
        let what = match self.verdict {
            Verdict::Regressed => format!(
                "REGRESSION: `{}` is {change:.1} % slower than {baseline}",
                self.command
            ),
            Verdict::Improved => format!(
                "`{}` is {:.1} % faster than {baseline}",
                self.command, -change
            ),
            Verdict::Unchanged => format!(
                "`{}` is unchanged against {baseline} ({change:+.1} %)",
                self.command
            ),
        };
        format!(
            "{what}: {} → {}, ×{:.3} [{:.3}–{:.3}], {}",
            crate::units::format_seconds(self.baseline_mean),
            crate::units::format_seconds(self.mean),
            self.ratio,
            self.ratio_ci.low,
            self.ratio_ci.high,
            compare::format_p_value(self.p_value)
        )
    }
}

/// Compares every result with its baseline: by command line, or by position
/// when no command line matches and both have as many commands. Returns the
/// comparisons and the commands that found no baseline.
pub fn compare(
    results: &[BenchmarkResult],
    baseline: &[BaselineResult],
    threshold: f64,
    bootstrap: &mut Bootstrap,
) -> (Vec<BaselineComparison>, Vec<String>) {
    let by_position = results.len() == baseline.len()
        && results
            .iter()
            .all(|r| baseline.iter().all(|b| b.command != r.command));
    let mut comparisons = Vec::new();
    let mut unmatched = Vec::new();
    for (index, result) in results.iter().enumerate() {
        let saved = if by_position {
            baseline.get(index)
        } else {
            baseline.iter().find(|b| b.command == result.command)
        };
        let Some(saved) = saved else {
            unmatched.push(result.command.clone());
            continue;
        };
        let baseline_mean = stats::mean(&saved.times);
        let ratio = if baseline_mean > 0.0 {
            result.mean / baseline_mean
        } else {
            f64::INFINITY
        };
        let p_value = compare::welch_p_value(&result.times, &saved.times);
        let significant = p_value.is_some_and(|p| p < ALPHA);
        let verdict = if significant && ratio > 1.0 + threshold {
            Verdict::Regressed
        } else if significant && ratio < 1.0 - threshold {
            Verdict::Improved
        } else {
            Verdict::Unchanged
        };
        comparisons.push(BaselineComparison {
            command: result.command.clone(),
            baseline_command: saved.command.clone(),
            baseline_mean,
            mean: result.mean,
            ratio,
            ratio_ci: bootstrap.ratio_of_means(&result.times, &saved.times),
            p_value,
            verdict,
        });
    }
    (comparisons, unmatched)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::result_of;

    fn times(center: f64) -> Vec<f64> {
        (0..10).map(|i| center * (1.0 + 0.002 * i as f64)).collect()
    }

    #[test]
    fn a_significant_slowdown_beyond_the_threshold_regresses() {
        let base = [BaselineResult {
            command: "x".into(),
            times: times(0.1),
        }];
        let mut bootstrap = Bootstrap::new(1, 500, 0.95);
        let (slower, _) = compare(&[result_of("x", &times(0.12))], &base, 0.05, &mut bootstrap);
        assert_eq!(slower[0].verdict, Verdict::Regressed);
        assert!(
            slower[0].sentence().contains("20.0 % slower"),
            "{}",
            slower[0].sentence()
        );
        let (small, _) = compare(
            &[result_of("x", &times(0.102))],
            &base,
            0.05,
            &mut bootstrap,
        );
        assert_eq!(small[0].verdict, Verdict::Unchanged);
        let (faster, _) = compare(&[result_of("x", &times(0.05))], &base, 0.05, &mut bootstrap);
        assert_eq!(faster[0].verdict, Verdict::Improved);
    }

    #[test]
    fn matches_by_name_then_by_position() {
        let base = [BaselineResult {
            command: "old".into(),
            times: times(0.1),
        }];
        let mut bootstrap = Bootstrap::new(1, 100, 0.95);
        let (found, unmatched) = compare(
            &[result_of("new", &times(0.1))],
            &base,
            0.05,
            &mut bootstrap,
        );
        assert_eq!(found[0].baseline_command, "old");
        assert!(unmatched.is_empty());
        let (none, unmatched) = compare(
            &[result_of("a", &times(0.1)), result_of("b", &times(0.1))],
            &base,
            0.05,
            &mut bootstrap,
        );
        assert!(none.is_empty());
        assert_eq!(unmatched, ["a", "b"]);
    }

    #[test]
    fn reads_hyperfine_exports() {
        let dir = std::env::temp_dir().join(format!("whyslow-baseline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("hyperfine.json");
        std::fs::write(
            &path,
            r#"{"results":[{"command":"sleep 0.1","mean":0.1,"stddev":0.001,"median":0.1,
               "user":0.0,"system":0.0,"min":0.1,"max":0.1,"times":[0.1,0.101],"exit_codes":[0,0]}]}"#,
        )
        .expect("write");
        let loaded = load(&path).expect("parses");
        assert_eq!(loaded[0].times, [0.1, 0.101]);
        std::fs::write(&path, "{}").expect("write");
        assert!(matches!(load(&path), Err(BenchError::Baseline { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
