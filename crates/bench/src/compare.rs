//! Comparing two commands: the ratio of their mean times with a bootstrap
//! confidence interval, and Welch's t-test (unequal variances) for whether
//! the difference is real. Welch rather than Mann–Whitney U because the
//! question asked is about means, and run times are close enough to normal
//! per run at the sample sizes benchmarks use; the p-value is two-sided.

use crate::bootstrap::{Bootstrap, Interval};
use crate::stats;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Name of the test, as written into exports.
pub const TEST_NAME: &str = "Welch's t-test";

/// Significance level below which a difference is called significant.
pub const ALPHA: f64 = 0.05;

/// Two-sided p-value of Welch's t-test that `a` and `b` have equal means;
/// `None` when either has fewer than two values.
pub fn welch_p_value(a: &[f64], b: &[f64]) -> Option<f64> {
    let (var_a, var_b) = (stats::variance(a)?, stats::variance(b)?);
    let (n_a, n_b) = (a.len() as f64, b.len() as f64);
    let difference = stats::mean(a) - stats::mean(b);
    let standard_error_sq = var_a / n_a + var_b / n_b;
    if standard_error_sq <= 0.0 {
        // No spread at all: any difference is certain, none is not.
        return Some(if difference == 0.0 { 1.0 } else { 0.0 });
    }
    let t = difference / standard_error_sq.sqrt();
    let degrees = standard_error_sq.powi(2)
        / ((var_a / n_a).powi(2) / (n_a - 1.0) + (var_b / n_b).powi(2) / (n_b - 1.0));
    let distribution = StudentsT::new(0.0, 1.0, degrees).ok()?;
    Some((2.0 * (1.0 - distribution.cdf(t.abs()))).clamp(0.0, 1.0))
}

/// "p < 0.001", "p = 0.012", or "p n/a".
pub fn format_p_value(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 0.001 => "p < 0.001".to_string(),
        Some(p) => format!("p = {p:.3}"),
        None => "p n/a".to_string(),
    }
}

/// How a slower command compares with a faster one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Command line of the faster command.
    pub faster: String,
    /// Command line of the slower command.
    pub slower: String,
    /// mean(slower) / mean(faster), ≥ 1.
    pub ratio: f64,
    /// Bootstrap confidence interval of the ratio.
    pub ratio_ci: Interval,
    /// Two-sided p-value of the test.
    pub p_value: Option<f64>,
    /// Which test produced `p_value`.
    pub test: String,
}

impl Comparison {
    /// Compares two samples of wall times, orienting the result so that
    /// `faster` has the smaller mean.
    pub fn of(
        (name_a, times_a): (&str, &[f64]),
        (name_b, times_b): (&str, &[f64]),
        bootstrap: &mut Bootstrap,
    ) -> Self {
        let ((faster, fast), (slower, slow)) = if stats::mean(times_a) <= stats::mean(times_b) {
            ((name_a, times_a), (name_b, times_b))
        } else {
            ((name_b, times_b), (name_a, times_a))
        };
        let fast_mean = stats::mean(fast);
        let ratio = if fast_mean > 0.0 {
            stats::mean(slow) / fast_mean
        } else {
            f64::INFINITY
        };
        Self {
            faster: faster.to_string(),
            slower: slower.to_string(),
            ratio,
            ratio_ci: bootstrap.ratio_of_means(slow, fast),
            p_value: welch_p_value(fast, slow),
            test: TEST_NAME.to_string(),
        }
    }

    /// True when the test rejects equal means at [`ALPHA`].
    pub fn significant(&self) -> bool {
        self.p_value.is_some_and(|p| p < ALPHA)
    }

    /// "`a` is 1.98 ± 0.03 × faster than `b` (95 % CI 1.95–2.01, p < 0.001, Welch's t-test)".
    pub fn sentence(&self, confidence: f64) -> String {
        format!(
            "`{}` is {:.2} ± {:.2} × faster than `{}` ({:.0} % CI {:.2}–{:.2}, {}, {}{})",
            self.faster,
            self.ratio,
            self.ratio_ci.half_width_around(self.ratio),
            self.slower,
            confidence * 100.0,
            self.ratio_ci.low,
            self.ratio_ci.high,
            format_p_value(self.p_value),
            self.test,
            if self.significant() {
                ""
            } else {
                "; not significant"
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welch_matches_a_known_value() {
        // Wikipedia's "Welch's t-test", example 1: t = −2.46, ν ≈ 24.99, p = 0.021.
        let a = [
            27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7,
            21.4,
        ];
        let b = [
            27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5,
            24.4,
        ];
        let p = welch_p_value(&a, &b).unwrap_or(1.0);
        assert!((p - 0.021).abs() < 0.001, "p = {p}");
    }

    #[test]
    fn identical_samples_are_not_significant() {
        let a = [1.0, 1.1, 0.9, 1.05, 0.95];
        assert!(welch_p_value(&a, &a).unwrap_or(0.0) > 0.99);
        assert_eq!(welch_p_value(&[1.0], &a), None);
    }

    #[test]
    fn comparison_orients_and_reads_like_hyperfine() {
        let fast: Vec<f64> = (0..10).map(|i| 0.050 + 0.0001 * i as f64).collect();
        let slow: Vec<f64> = fast.iter().map(|t| 2.0 * t).collect();
        let mut bootstrap = Bootstrap::new(1, 1000, 0.95);
        let c = Comparison::of(("b", &slow), ("a", &fast), &mut bootstrap);
        assert_eq!((c.faster.as_str(), c.slower.as_str()), ("a", "b"));
        assert!((c.ratio - 2.0).abs() < 1e-9);
        assert!(c.ratio_ci.contains(2.0));
        assert!(c.significant());
        let text = c.sentence(0.95);
        assert!(text.starts_with("`a` is 2.00 ± 0.0"), "{text}");
        assert!(text.contains("p < 0.001"), "{text}");
    }
}
