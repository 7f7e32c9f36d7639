//! Service-level thresholds for `--slo 'p99<200ms,errors<1%,rps>900'`: parsing
//! and pass/fail verdicts. What the numbers are measured from is the caller's
//! business: [`evaluate`] takes a function from [`Metric`] to its value.

use crate::error::LoadError;
use crate::units::{format_latency_us, parse_duration};
use serde::Serialize;

/// What a threshold is about.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "metric", content = "quantile")]
pub enum Metric {
    /// Corrected latency (from the intended send time) at a quantile in 0..=1,
    /// written `p99`, `p99.9`; `p99u` is the uncorrected one.
    Latency(f64),
    /// Uncorrected latency (from the actual send) at a quantile.
    LatencyUncorrected(f64),
    /// Mean corrected latency.
    Mean,
    /// Largest corrected latency.
    Max,
    /// Failed requests (connect, timeout, reset, other) as a fraction of all sent.
    ErrorRatio,
    /// Failed requests, counted.
    ErrorCount,
    /// Achieved requests per second.
    Rps,
}

/// How the measured value must compare to the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Comparison {
    /// `<`
    #[serde(rename = "<")]
    Less,
    /// `<=`
    #[serde(rename = "<=")]
    LessOrEqual,
    /// `>`
    #[serde(rename = ">")]
    Greater,
    /// `>=`
    #[serde(rename = ">=")]
    GreaterOrEqual,
}

impl Comparison {
    fn holds(self, measured: f64, limit: f64) -> bool {
        match self {
            Comparison::Less => measured < limit,
            Comparison::LessOrEqual => measured <= limit,
            Comparison::Greater => measured > limit,
            Comparison::GreaterOrEqual => measured >= limit,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
        }
    }
}

/// One threshold: latencies in microseconds, error ratio in 0..=1, rps per second.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    /// The threshold as written.
    pub text: String,
    /// What is measured.
    #[serde(flatten)]
    pub metric: Metric,
    /// How it must compare.
    pub comparison: Comparison,
    /// The limit, in the metric's unit (µs, ratio, count, rps).
    pub limit: f64,
}

/// The outcome of one threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The threshold.
    #[serde(flatten)]
    pub threshold: Threshold,
    /// The measured value, in the metric's unit.
    pub measured: f64,
    /// Whether it held.
    pub passed: bool,
}

impl Verdict {
    /// `p99<200ms: measured 350.20ms` style line.
    pub fn describe(&self) -> String {
        format!(
            "{} {} {}: measured {}",
            self.threshold.metric.name(),
            self.threshold.comparison.symbol(),
            self.threshold.metric.format(self.threshold.limit),
            self.threshold.metric.format(self.measured)
        )
    }
}

impl Metric {
    fn name(&self) -> String {
        match self {
            Metric::Latency(q) => format!("p{}", percent_text(*q)),
            Metric::LatencyUncorrected(q) => format!("p{}u", percent_text(*q)),
            Metric::Mean => "mean".into(),
            Metric::Max => "max".into(),
            Metric::ErrorRatio | Metric::ErrorCount => "errors".into(),
            Metric::Rps => "rps".into(),
        }
    }

    fn format(&self, value: f64) -> String {
        match self {
            Metric::Latency(_) | Metric::LatencyUncorrected(_) | Metric::Mean | Metric::Max => {
                format_latency_us(value)
            }
            Metric::ErrorRatio => format!("{:.3}%", value * 100.0),
            Metric::ErrorCount => format!("{value:.0}"),
            Metric::Rps => format!("{value:.1}"),
        }
    }
}

/// `0.999` → `99.9`.
fn percent_text(quantile: f64) -> String {
    let text = format!("{:.6}", quantile * 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Parses a comma-separated list of thresholds.
pub fn parse_slo(text: &str) -> Result<Vec<Threshold>, LoadError> {
    let thresholds: Vec<Threshold> = text
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(parse_threshold)
        .collect::<Result<_, _>>()?;
    if thresholds.is_empty() {
        return Err(slo_error(
            text,
            "no thresholds (example: p99<200ms,errors<1%,rps>900)",
        ));
    }
    Ok(thresholds)
}

fn slo_error(expression: &str, why: &str) -> LoadError {
    LoadError::Slo {
        expression: expression.to_string(),
        why: why.to_string(),
    }
}

fn parse_threshold(text: &str) -> Result<Threshold, LoadError> {
    let position = text.find(['<', '>']).ok_or_else(|| {
        slo_error(
            text,
            "no comparison; use <, <=, > or >= (example: p99<200ms)",
        )
    })?;
    let (name, rest) = text.split_at(position);
    let (comparison, value) = if let Some(v) = rest.strip_prefix("<=") {
        (Comparison::LessOrEqual, v)
    } else if let Some(v) = rest.strip_prefix(">=") {
        (Comparison::GreaterOrEqual, v)
    } else if let Some(v) = rest.strip_prefix('<') {
        (Comparison::Less, v)
    } else if let Some(v) = rest.strip_prefix('>') {
        (Comparison::Greater, v)
    } else {
        return Err(slo_error(text, "no comparison"));
    };
    let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
    let (metric, limit) = match name.as_str() {
        "errors" | "error" | "error_rate" => match value.strip_suffix('%') {
            Some(percent) => (Metric::ErrorRatio, parse_number(text, percent)? / 100.0),
            None => (Metric::ErrorCount, parse_number(text, value)?),
        },
        "rps" => (Metric::Rps, parse_number(text, value)?),
        "mean" | "avg" => (Metric::Mean, parse_latency(text, value)?),
        "max" => (Metric::Max, parse_latency(text, value)?),
        _ => {
            let quantile = name.strip_prefix('p').ok_or_else(|| {
                slo_error(
                    text,
                    &format!("unknown metric '{name}'; use pNN, pNNu, mean, max, errors, rps"),
                )
            })?;
            let (quantile, corrected) = match quantile.strip_suffix('u') {
                Some(q) => (q, false),
                None => (quantile, true),
            };
            let percent: f64 = quantile.parse().map_err(|_| {
                slo_error(
                    text,
                    &format!("'{name}' is not a percentile like p99 or p99.9"),
                )
            })?;
            if !(0.0..=100.0).contains(&percent) {
                return Err(slo_error(text, "percentiles go from p0 to p100"));
            }
            // Round away binary noise: p99.9 is the quantile 0.999, not 0.99900…01.
            let quantile = (percent / 100.0 * 1e12).round() / 1e12;
            let metric = if corrected {
                Metric::Latency(quantile)
            } else {
                Metric::LatencyUncorrected(quantile)
            };
            (metric, parse_latency(text, value)?)
        }
    };
    Ok(Threshold {
        text: text.to_string(),
        metric,
        comparison,
        limit,
    })
}

fn parse_number(text: &str, value: &str) -> Result<f64, LoadError> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| slo_error(text, &format!("'{value}' is not a number")))
}

fn parse_latency(text: &str, value: &str) -> Result<f64, LoadError> {
    if value.trim().parse::<f64>().is_ok() {
        return Err(slo_error(
            text,
            &format!("latency '{value}' needs a unit: us, ms or s"),
        ));
    }
    let duration = parse_duration(value).map_err(|e| slo_error(text, &e))?;
    Ok(duration.as_secs_f64() * 1e6)
}

/// Checks every threshold against `measure`.
pub fn evaluate(thresholds: &[Threshold], measure: impl Fn(&Metric) -> f64) -> Vec<Verdict> {
    thresholds
        .iter()
        .map(|threshold| {
            let measured = measure(&threshold.metric);
            Verdict {
                passed: threshold.comparison.holds(measured, threshold.limit),
                threshold: threshold.clone(),
                measured,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_example_parses() {
        let slo = parse_slo("p99<200ms,errors<1%,rps>900").expect("valid");
        assert_eq!(slo.len(), 3);
        assert_eq!(slo[0].metric, Metric::Latency(0.99));
        assert_eq!(slo[0].limit, 200_000.0);
        assert_eq!(slo[1].metric, Metric::ErrorRatio);
        assert!((slo[1].limit - 0.01).abs() < 1e-12);
        assert_eq!(slo[2].metric, Metric::Rps);
        assert_eq!(slo[2].comparison, Comparison::Greater);
    }

    #[test]
    fn more_forms_parse() {
        let slo = parse_slo("p99.9 <= 1s, p50u<500us, max<2s, mean<10ms, errors<5, rps>=10")
            .expect("valid");
        assert_eq!(slo[0].metric, Metric::Latency(0.999));
        assert_eq!(slo[0].comparison, Comparison::LessOrEqual);
        assert_eq!(slo[1].metric, Metric::LatencyUncorrected(0.5));
        assert_eq!(slo[1].limit, 500.0);
        assert_eq!(slo[4].metric, Metric::ErrorCount);
        assert_eq!(slo[5].comparison, Comparison::GreaterOrEqual);
    }

    #[test]
    fn bad_syntax_is_explained() {
        for (bad, says) in [
            ("p99=200ms", "no comparison"),
            ("p99<200", "needs a unit"),
            ("latency<200ms", "unknown metric"),
            ("errors<lots", "not a number"),
            ("p200<1s", "p0 to p100"),
            ("", "no thresholds"),
        ] {
            let error = parse_slo(bad).expect_err(bad).to_string();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn verdicts_name_the_measured_value() {
        let slo = parse_slo("p99<200ms,rps>900").expect("valid");
        let verdicts = evaluate(&slo, |metric| match metric {
            Metric::Latency(_) => 350_200.0,
            _ => 1000.0,
        });
        assert!(!verdicts[0].passed);
        assert!(verdicts[1].passed);
        assert_eq!(verdicts[0].describe(), "p99 < 200.00ms: measured 350.20ms");
        let fine = parse_slo("p99.9u<1s").expect("valid");
        let verdicts = evaluate(&fine, |_| 5.0);
        assert_eq!(verdicts[0].describe(), "p99.9u < 1.000s: measured 5µs");
    }
}
