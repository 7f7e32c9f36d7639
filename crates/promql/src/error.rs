//! Why a query failed, with the Prometheus API's `errorType` for each.

use thiserror::Error;

/// A failed query.
#[derive(Debug, Error)]
pub enum PromqlError {
    /// The query does not parse or does not type-check (`bad_data`, 400).
    #[error("{0}")]
    Parse(String),
    /// The query ran past its timeout (`timeout`, 503).
    #[error("query timed out in {0}")]
    Timeout(String),
    /// The query would hold more samples than allowed (`execution`, 422).
    #[error("query processing would load too many samples into memory in {0}")]
    TooManySamples(String),
    /// Evaluation failed, e.g. many-to-many matching (`execution`, 422).
    #[error("{0}")]
    Execution(String),
    /// The store failed (`internal`, 500).
    #[error("store failed: {0}")]
    Store(#[from] store::StoreError),
}

impl PromqlError {
    /// The Prometheus API's `errorType`.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Parse(_) => "bad_data",
            Self::Timeout(_) => "timeout",
            Self::TooManySamples(_) | Self::Execution(_) => "execution",
            Self::Store(store::StoreError::TooManySamples { .. }) => "execution",
            Self::Store(_) => "internal",
        }
    }

    /// The HTTP status Prometheus answers with for this error.
    pub fn http_status(&self) -> u16 {
        match self.error_type() {
            "bad_data" => 400,
            "timeout" => 503,
            "execution" => 422,
            _ => 500,
        }
    }
}
