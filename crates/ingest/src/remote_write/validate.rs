//! Checking decoded remote_write series and converting them into a
//! [`SeriesBatch`]: metric and label name syntax, duplicate and empty label
//! names, a `__name__` on every series, label values and label counts within
//! [`Limits`]. A series that fails is left out and named in the answer (400);
//! the valid ones are stored.
//!
//! Labels out of order are sorted rather than refused (Prometheus's own
//! receiver sorts them too); a label with an empty value means "absent" and
//! is dropped, as everywhere in Prometheus.

use super::proto::{self, WriteRequest};
use crate::limits::Limits;
use model::metrics::{Exemplar, Label, Labels, MetricMetadata, Sample, TimeSeries, METRIC_NAME};
use store::series::SeriesBatch;

/// How many invalid series a 400 answer names (the rest are counted).
pub const MAX_REASONS: usize = 5;

/// Longest exemplar label set, in characters of names and values (OpenMetrics).
pub const MAX_EXEMPLAR_LABEL_CHARS: usize = 128;

/// A request after validation.
#[derive(Debug, Default)]
pub struct Validated {
    /// The valid series (and metadata).
    pub batch: SeriesBatch,
    /// Series left out.
    pub invalid_series: u64,
    /// Samples of the series left out.
    pub invalid_samples: u64,
    /// Why, for the first [`MAX_REASONS`] series left out.
    pub reasons: Vec<String>,
    /// Exemplars dropped (invalid labels, label set too long); not an error.
    pub dropped_exemplars: u64,
}

/// Whether `name` matches `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_valid_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_' | b':'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// Whether `name` matches `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_valid_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Validates every series of `request` and converts the valid ones.
pub fn validate(request: WriteRequest, limits: &Limits) -> Validated {
    let mut out = Validated::default();
    out.batch.series.reserve(request.timeseries.len());
    for series in request.timeseries {
        match check_labels(&series.labels, limits) {
            Ok(()) => {
                let labels = into_labels(series.labels);
                let exemplars = series
                    .exemplars
                    .into_iter()
                    .filter_map(|e| {
                        let converted = exemplar(e);
                        if converted.is_none() {
                            out.dropped_exemplars += 1;
                        }
                        converted
                    })
                    .collect();
                out.batch.series.push(TimeSeries {
                    labels,
                    samples: series
                        .samples
                        .iter()
                        .map(|s| Sample {
                            timestamp_ms: s.timestamp,
                            value: s.value,
                        })
                        .collect(),
                    exemplars,
                });
            }
            Err(reason) => {
                out.invalid_series += 1;
                out.invalid_samples += series.samples.len() as u64;
                if out.reasons.len() < MAX_REASONS {
                    out.reasons
                        .push(format!("{reason} in series {}", describe(&series.labels)));
                }
            }
        }
    }
    out.batch.metadata = request
        .metadata
        .into_iter()
        .filter(|m| is_valid_metric_name(&m.metric_family_name))
        .map(|m| MetricMetadata {
            metric_type: m.metric_type(),
            metric_family_name: m.metric_family_name,
            help: m.help,
            unit: m.unit,
        })
        .collect();
    out
}

/// Why the labels of a series are invalid, if they are.
fn check_labels(labels: &[proto::Label], limits: &Limits) -> Result<(), String> {
    if labels.len() > limits.max_attributes_per_span {
        return Err(format!(
            "{} labels, over the limit of {}",
            labels.len(),
            limits.max_attributes_per_span
        ));
    }
    let mut has_name = false;
    for label in labels {
        if label.name.is_empty() {
            return Err("empty label name".into());
        }
        if label.name == METRIC_NAME {
            if !is_valid_metric_name(&label.value) {
                return Err(format!(
                    "invalid metric name {:?} (must match [a-zA-Z_:][a-zA-Z0-9_:]*)",
                    clip(&label.value)
                ));
            }
            has_name = true;
        } else if !is_valid_label_name(&label.name) {
            return Err(format!(
                "invalid label name {:?} (must match [a-zA-Z_][a-zA-Z0-9_]*)",
                clip(&label.name)
            ));
        }
        if label.value.len() > limits.max_attribute_value_bytes {
            return Err(format!(
                "value of label {:?} is {} bytes, over the limit of {}",
                clip(&label.name),
                label.value.len(),
                limits.max_attribute_value_bytes
            ));
        }
    }
    if !has_name {
        return Err("no __name__ label (every series needs a metric name)".into());
    }
    let mut names: Vec<&str> = labels.iter().map(|l| l.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("duplicate label name {:?}", clip(w[0])));
    }
    Ok(())
}

/// Checked labels as a series identity: sorted, empty values dropped.
fn into_labels(labels: Vec<proto::Label>) -> Labels {
    let mut pairs: Vec<Label> = labels
        .into_iter()
        .filter(|l| !l.value.is_empty())
        .map(|l| Label {
            name: l.name,
            value: l.value,
        })
        .collect();
    if !pairs.is_sorted_by(|a, b| a.name < b.name) {
        pairs.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    }
    Labels::from_sorted_unchecked(pairs)
}

fn exemplar(e: proto::Exemplar) -> Option<Exemplar> {
    let chars: usize = e
        .labels
        .iter()
        .map(|l| l.name.chars().count() + l.value.chars().count())
        .sum();
    if chars > MAX_EXEMPLAR_LABEL_CHARS || e.labels.iter().any(|l| !is_valid_label_name(&l.name)) {
        return None;
    }
    Some(Exemplar {
        labels: Labels::new(
            e.labels
                .into_iter()
                .map(|l| Label {
                    name: l.name,
                    value: l.value,
                })
                .collect(),
        ),
        value: e.value,
        timestamp_ms: e.timestamp,
    })
}

/// At most 64 characters of a name or value, for messages.
fn clip(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

/// `name{a="1", b="2"}` with long values clipped, as sent (unsorted).
fn describe(labels: &[proto::Label]) -> String {
    let name = labels
        .iter()
        .find(|l| l.name == METRIC_NAME)
        .map_or("", |l| l.value.as_str());
    let rest: Vec<String> = labels
        .iter()
        .filter(|l| l.name != METRIC_NAME)
        .take(16)
        .map(|l| format!("{}={:?}", clip(&l.name), clip(&l.value)))
        .collect();
    let more = if labels.len() > 17 { ", ..." } else { "" };
    format!("{}{{{}{more}}}", clip(name), rest.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote_write::proto::TimeSeries as WireSeries;

    fn series(labels: &[(&str, &str)]) -> WireSeries {
        WireSeries {
            labels: labels
                .iter()
                .map(|(n, v)| proto::Label {
                    name: (*n).into(),
                    value: (*v).into(),
                })
                .collect(),
            samples: vec![proto::Sample {
                value: 1.0,
                timestamp: 5,
            }],
            exemplars: Vec::new(),
        }
    }

    fn check(labels: &[(&str, &str)]) -> Result<Labels, String> {
        let limits = Limits {
            max_attribute_value_bytes: 10,
            max_attributes_per_span: 4,
            ..Limits::default()
        };
        let request = WriteRequest {
            timeseries: vec![series(labels)],
            metadata: Vec::new(),
        };
        let mut v = validate(request, &limits);
        match v.reasons.pop() {
            Some(reason) => Err(reason),
            None => Ok(v.batch.series.remove(0).labels),
        }
    }

    #[test]
    fn names() {
        assert!(is_valid_metric_name("a:b_c9"));
        assert!(is_valid_metric_name(":x"));
        assert!(!is_valid_metric_name("9a"));
        assert!(!is_valid_metric_name("a-b"));
        assert!(!is_valid_metric_name(""));
        assert!(is_valid_label_name("_a9"));
        assert!(!is_valid_label_name("a:b"));
        assert!(!is_valid_label_name("é"));
    }

    #[test]
    fn valid_series_are_sorted_and_empty_values_dropped() {
        let labels = check(&[("job", "a"), ("__name__", "up"), ("x", "")]).expect("valid");
        assert_eq!(labels.to_string(), r#"up{job="a"}"#);
    }

    #[test]
    fn invalid_series_are_named() {
        let err = check(&[("__name__", "http-requests"), ("job", "a")]).unwrap_err();
        assert_eq!(
            err,
            r#"invalid metric name "http-requests" (must match [a-zA-Z_:][a-zA-Z0-9_:]*) in series http-requests{job="a"}"#
        );
        let err = check(&[("__name__", "up"), ("a.b", "1")]).unwrap_err();
        assert!(err.starts_with(r#"invalid label name "a.b""#), "{err}");
        let err = check(&[("__name__", "up"), ("job", "a"), ("job", "b")]).unwrap_err();
        assert!(err.starts_with(r#"duplicate label name "job""#), "{err}");
        let err = check(&[("__name__", "up"), ("", "a")]).unwrap_err();
        assert!(err.starts_with("empty label name"), "{err}");
        let err = check(&[("job", "a")]).unwrap_err();
        assert!(err.starts_with("no __name__ label"), "{err}");
        let err = check(&[("__name__", "up"), ("big", "01234567890")]).unwrap_err();
        assert!(
            err.starts_with(r#"value of label "big" is 11 bytes, over the limit of 10"#),
            "{err}"
        );
        let err = check(&[
            ("__name__", "up"),
            ("a", "1"),
            ("b", "1"),
            ("c", "1"),
            ("d", "1"),
        ])
        .unwrap_err();
        assert!(err.starts_with("5 labels, over the limit of 4"), "{err}");
    }

    #[test]
    fn only_the_invalid_series_are_left_out() {
        let request = WriteRequest {
            timeseries: vec![
                series(&[("__name__", "ok")]),
                series(&[("__name__", "1bad")]),
                series(&[("__name__", "ok2")]),
            ],
            metadata: vec![proto::MetricMetadata {
                r#type: 1,
                metric_family_name: "ok".into(),
                help: "h".into(),
                unit: String::new(),
            }],
        };
        let v = validate(request, &Limits::default());
        assert_eq!(v.batch.series.len(), 2);
        assert_eq!(v.invalid_series, 1);
        assert_eq!(v.invalid_samples, 1);
        assert_eq!(v.batch.metadata.len(), 1);
        assert_eq!(
            v.batch.metadata[0].metric_type,
            model::metrics::MetricType::Counter
        );
    }
}
