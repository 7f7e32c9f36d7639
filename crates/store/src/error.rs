//! Store errors.

use thiserror::Error;

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The write would exceed the memory budget; retry after the hinted delay.
    #[error("store is over its memory budget ({used_bytes} of {budget_bytes} bytes queued); retry in {retry_after_ms} ms")]
    Overloaded {
        /// Bytes currently queued.
        used_bytes: u64,
        /// The budget.
        budget_bytes: u64,
        /// Suggested retry delay.
        retry_after_ms: u64,
    },
    /// The store is shutting down.
    #[error("store is shutting down")]
    Closed,
    /// The database behind the store (ClickHouse) failed or cannot be
    /// reached; the message names the server and says what it answered.
    #[error("{0}")]
    Unavailable(String),
    /// An I/O failure, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// On-disk data is damaged beyond what recovery skips.
    #[error("corrupt data in {what}: {detail}")]
    Corrupt {
        /// Which file.
        what: String,
        /// What is wrong.
        detail: String,
    },
    /// A query would read more samples than its limit.
    #[error("query processing would load too many samples into memory (limit {limit})")]
    TooManySamples {
        /// The limit.
        limit: u64,
    },
}
