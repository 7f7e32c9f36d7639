//! Query results: the four PromQL value types.

use model::metrics::{Labels, Sample};

/// One series' value at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct InstantSample {
    /// Series labels (the metric name is dropped by most functions).
    pub labels: Labels,
    /// Evaluation time (Unix ms).
    pub timestamp_ms: i64,
    /// The value.
    pub value: f64,
}

/// One series over a range.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries {
    /// Series labels.
    pub labels: Labels,
    /// Points, ascending by time.
    pub samples: Vec<Sample>,
}

/// A query result.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number at an instant.
    Scalar {
        /// Unix ms.
        timestamp_ms: i64,
        /// The number.
        value: f64,
    },
    /// A string at an instant.
    String {
        /// Unix ms.
        timestamp_ms: i64,
        /// The string.
        value: String,
    },
    /// An instant vector.
    Vector(Vec<InstantSample>),
    /// A range vector (or a range query's result), sorted by labels.
    Matrix(Vec<RangeSeries>),
}

impl Value {
    /// Prometheus's `resultType`.
    pub fn result_type(&self) -> &'static str {
        match self {
            Self::Scalar { .. } => "scalar",
            Self::String { .. } => "string",
            Self::Vector(_) => "vector",
            Self::Matrix(_) => "matrix",
        }
    }
}
