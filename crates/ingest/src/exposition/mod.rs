//! Parsers for what a Prometheus scrape returns: the text exposition format
//! 0.0.4 (`text/plain; version=0.0.4`) and OpenMetrics 1.0 text
//! (`application/openmetrics-text; version=1.0.0`), chosen by the response's
//! Content-Type ([`Format::from_content_type`]).
//!
//! Hand-written: no crate parses both formats under a permissive licence
//! (`openmetrics-parser` is LGPL-3.0, the `prometheus` crates only write).
//! What is read:
//! - `# HELP`, `# TYPE` (and in OpenMetrics `# UNIT`, which must be a suffix
//!   of the family name) become [`MetricMetadata`], one per family, named as
//!   the comment names it (so a histogram's family has no `_bucket`, `_sum`,
//!   `_count` suffix and an OpenMetrics counter's none of `_total`). Other
//!   comments are ignored in the text format and refused in OpenMetrics.
//! - Samples `name{label="value",…} value [timestamp]`: label values and HELP
//!   decode `\\`, `\"` and `\n`; values take `+Inf`, `-Inf`, `NaN`; the
//!   timestamp is integer milliseconds in the text format and (fractional)
//!   seconds in OpenMetrics, converted to milliseconds (rounded). `_created`,
//!   `_bucket`, `_sum`, `_count` samples are ordinary samples.
//! - OpenMetrics only: exemplars after ` # {trace_id="…"} value [timestamp]`
//!   (label set at most 128 characters), and the closing `# EOF`, which is
//!   required, with nothing after it. OpenMetrics is parsed as strictly as
//!   its ABNF says (single spaces, no blank lines, no trailing comma in label
//!   sets); the text format allows blanks and tabs between tokens, blank
//!   lines, `\r\n` line ends and a missing final newline, as Prometheus does.
//!
//! Every error names the 1-based line and what is wrong with it.

mod cursor;
mod parse;
#[cfg(test)]
mod tests;

use model::metrics::{Exemplar, Labels, MetricMetadata, Sample, TimeSeries};

pub use parse::parse;

/// The Accept header Prometheus scrapes with: OpenMetrics first, then the text format.
pub const ACCEPT_HEADER: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// Which exposition format a body is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    PrometheusText,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

impl Format {
    /// The format a Content-Type names: `application/openmetrics-text` is
    /// OpenMetrics; anything else (including none) is the text format, as
    /// Prometheus falls back to it.
    pub fn from_content_type(content_type: Option<&str>) -> Self {
        match content_type {
            Some(ct)
                if ct
                    .trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/openmetrics-text") =>
            {
                Self::OpenMetrics
            }
            _ => Self::PrometheusText,
        }
    }

    /// The Content-Type this format is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::PrometheusText => "text/plain; version=0.0.4; charset=utf-8",
            Self::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapedSample {
    /// Labels, `__name__` included.
    pub labels: Labels,
    /// The value.
    pub value: f64,
    /// The line's own timestamp (Unix ms), if it has one.
    pub timestamp_ms: Option<i64>,
    /// An OpenMetrics exemplar, if the line has one.
    pub exemplar: Option<ScrapedExemplar>,
}

/// An exemplar as written after a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapedExemplar {
    /// Its labels (`trace_id`, `span_id`, …).
    pub labels: Labels,
    /// The observed value.
    pub value: f64,
    /// Its own timestamp (Unix ms), if written.
    pub timestamp_ms: Option<i64>,
}

/// A parsed exposition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exposition {
    /// Sample lines, in order.
    pub samples: Vec<ScrapedSample>,
    /// One entry per family that has a HELP, TYPE or UNIT line, in order of appearance.
    pub metadata: Vec<MetricMetadata>,
}

impl Exposition {
    /// One series per sample line; lines without a timestamp (and exemplars
    /// without one) get `default_ms`.
    pub fn into_series(self, default_ms: i64) -> Vec<TimeSeries> {
        self.samples
            .into_iter()
            .map(|s| sample_series(s, default_ms))
            .collect()
    }
}

/// A sample line as a series, stamped `default_ms` unless it has its own time.
pub fn sample_series(sample: ScrapedSample, default_ms: i64) -> TimeSeries {
    let timestamp_ms = sample.timestamp_ms.unwrap_or(default_ms);
    TimeSeries {
        labels: sample.labels,
        samples: vec![Sample {
            timestamp_ms,
            value: sample.value,
        }],
        exemplars: sample
            .exemplar
            .map(|e| Exemplar {
                labels: e.labels,
                value: e.value,
                timestamp_ms: e.timestamp_ms.unwrap_or(timestamp_ms),
            })
            .into_iter()
            .collect(),
    }
}

/// What is wrong with an exposition, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{format} line {line}: {message}")]
pub struct ExpositionError {
    /// "text format" or "OpenMetrics".
    pub format: &'static str,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}
