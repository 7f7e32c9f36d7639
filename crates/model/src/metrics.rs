//! Metric samples as Prometheus models them: a series is a sorted label set
//! (the metric name is the `__name__` label) with `(timestamp ms, f64)`
//! samples. OTLP metrics, remote_write, scrapes and span-derived RED metrics
//! all become these; the series store and the PromQL engine consume them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The label that holds the metric name.
pub const METRIC_NAME: &str = "__name__";

/// The bit pattern Prometheus writes as a staleness marker (a NaN that no
/// arithmetic produces). Compare bits, never values: every NaN != NaN.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// A staleness marker value.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Whether `value` is the staleness marker.
pub fn is_stale_nan(value: f64) -> bool {
    value.to_bits() == STALE_NAN_BITS
}

/// One label pair.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Label {
    /// Label name (`[a-zA-Z_][a-zA-Z0-9_]*`, `__name__` for the metric name).
    pub name: String,
    /// Label value (any UTF-8; empty means "label absent").
    pub value: String,
}

/// A series identity: label pairs sorted by name, no duplicate names, no
/// empty values. Build with [`Labels::new`] (which sorts and drops empties).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Labels(Vec<Label>);

impl Labels {
    /// Sorts by name and drops empty values. When a name repeats, the last
    /// pair wins.
    pub fn new(mut pairs: Vec<Label>) -> Self {
        pairs.retain(|l| !l.value.is_empty());
        // Stable sort keeps input order among equal names; keep the last.
        pairs.sort_by(|a, b| a.name.cmp(&b.name));
        let mut out: Vec<Label> = Vec::with_capacity(pairs.len());
        for label in pairs {
            match out.last_mut() {
                Some(last) if last.name == label.name => *last = label,
                _ => out.push(label),
            }
        }
        Self(out)
    }

    /// From `(name, value)` pairs in any order.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        Self::new(
            pairs
                .into_iter()
                .map(|(name, value)| Label {
                    name: name.into(),
                    value: value.into(),
                })
                .collect(),
        )
    }

    /// Wraps pairs the caller guarantees are sorted, unique and non-empty.
    pub fn from_sorted_unchecked(pairs: Vec<Label>) -> Self {
        Self(pairs)
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|l| l.name.as_str().cmp(name))
            .ok()
            .map(|i| self.0[i].value.as_str())
    }

    /// The metric name (`__name__`), if any.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// The pairs, sorted by name.
    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    /// The pairs, sorted by name.
    pub fn into_vec(self) -> Vec<Label> {
        self.0
    }

    /// Iterates `(name, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|l| (l.name.as_str(), l.value.as_str()))
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sets (or with an empty value removes) one label, keeping order.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.0.binary_search_by(|l| l.name.as_str().cmp(name)) {
            Ok(i) if value.is_empty() => {
                self.0.remove(i);
            }
            Ok(i) => self.0[i].value = value.to_string(),
            Err(_) if value.is_empty() => {}
            Err(i) => self.0.insert(
                i,
                Label {
                    name: name.to_string(),
                    value: value.to_string(),
                },
            ),
        }
    }

    /// Approximate heap bytes (for memory accounting).
    pub fn heap_bytes(&self) -> usize {
        self.0.capacity() * std::mem::size_of::<Label>()
            + self
                .0
                .iter()
                .map(|l| l.name.capacity() + l.value.capacity())
                .sum::<usize>()
    }
}

impl fmt::Display for Labels {
    /// `name{a="1", b="2"}` as Prometheus prints a series.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.metric_name().unwrap_or("");
        f.write_str(name)?;
        let mut first = true;
        for label in self.0.iter().filter(|l| l.name != METRIC_NAME) {
            f.write_str(if first { "{" } else { ", " })?;
            first = false;
            write!(f, "{}={:?}", label.name, label.value)?;
        }
        if !first {
            f.write_str("}")?;
        }
        Ok(())
    }
}

/// One sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Unix milliseconds.
    pub timestamp_ms: i64,
    /// The value ([`stale_nan`] marks the series stale from here).
    pub value: f64,
}

/// An exemplar: one traced observation attached to a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exemplar {
    /// Exemplar labels (`trace_id`, `span_id`, …).
    pub labels: Labels,
    /// Observed value.
    pub value: f64,
    /// Unix milliseconds.
    pub timestamp_ms: i64,
}

/// One series' new samples and exemplars, as a receiver hands them on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeSeries {
    /// The series identity.
    pub labels: Labels,
    /// Samples, ascending by timestamp.
    pub samples: Vec<Sample>,
    /// Exemplars, ascending by timestamp.
    pub exemplars: Vec<Exemplar>,
}

/// A metric family's type, as the Prometheus metadata API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MetricType {
    /// Monotonic counter.
    Counter,
    /// Gauge.
    Gauge,
    /// Classic histogram (`_bucket`, `_sum`, `_count`).
    Histogram,
    /// Histogram without buckets in OpenMetrics.
    Gaugehistogram,
    /// Summary (`{quantile}`, `_sum`, `_count`).
    Summary,
    /// Info metric.
    Info,
    /// State set.
    Stateset,
    /// No type given.
    #[default]
    Unknown,
}

impl MetricType {
    /// The Prometheus name of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
            Self::Gaugehistogram => "gaugehistogram",
            Self::Summary => "summary",
            Self::Info => "info",
            Self::Stateset => "stateset",
            Self::Unknown => "unknown",
        }
    }

    /// Parses a `# TYPE` word (`untyped` is `unknown`).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "counter" => Self::Counter,
            "gauge" => Self::Gauge,
            "histogram" => Self::Histogram,
            "gaugehistogram" => Self::Gaugehistogram,
            "summary" => Self::Summary,
            "info" => Self::Info,
            "stateset" => Self::Stateset,
            "unknown" | "untyped" => Self::Unknown,
            _ => return None,
        })
    }
}

/// Metadata of one metric family (`/api/v1/metadata`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct MetricMetadata {
    /// Family name (without `_bucket`/`_sum`/`_count`/`_total` for histograms, summaries).
    pub metric_family_name: String,
    /// Type.
    pub metric_type: MetricType,
    /// HELP text.
    pub help: String,
    /// Unit (may be empty).
    pub unit: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_sort_drop_empties_and_keep_the_last_duplicate() {
        let labels = Labels::from_pairs([("b", "2"), ("a", "1"), ("c", ""), ("b", "3")]);
        assert_eq!(labels.iter().collect::<Vec<_>>(), [("a", "1"), ("b", "3")]);
        assert_eq!(labels.get("b"), Some("3"));
        assert_eq!(labels.get("c"), None);
    }

    #[test]
    fn labels_print_like_prometheus() {
        let labels = Labels::from_pairs([("__name__", "up"), ("job", "a\"b")]);
        assert_eq!(labels.to_string(), r#"up{job="a\"b"}"#);
    }

    #[test]
    fn set_inserts_replaces_and_removes() {
        let mut labels = Labels::from_pairs([("b", "2")]);
        labels.set("a", "1");
        labels.set("b", "");
        labels.set("c", "3");
        assert_eq!(labels.iter().collect::<Vec<_>>(), [("a", "1"), ("c", "3")]);
    }

    #[test]
    fn stale_markers_are_told_apart_from_other_nans() {
        assert!(is_stale_nan(stale_nan()));
        assert!(!is_stale_nan(f64::NAN));
    }
}
