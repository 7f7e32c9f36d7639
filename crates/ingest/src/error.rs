//! Why a receiver refused a request. Each wire format maps these to its own
//! answer (HTTP status, gRPC code); the messages are written for the person
//! who configured the sender.

use store::StoreError;
use thiserror::Error;

/// A refused request (as opposed to individually rejected spans, which are
/// reported through partial success).
#[derive(Debug, Error)]
pub enum IngestError {
    /// The body is larger than [`crate::Limits::max_request_bytes`].
    #[error("request body exceeds the {limit_bytes}-byte limit{}; send smaller batches (e.g. lower the exporter's max batch size)", if *.decompressed { " after decompression" } else { "" })]
    TooLarge {
        /// The limit.
        limit_bytes: usize,
        /// Whether the limit was hit while inflating a compressed body.
        decompressed: bool,
    },
    /// The `Content-Type` is not one this endpoint reads.
    #[error("unsupported Content-Type '{found}': this endpoint accepts {accepted}")]
    UnsupportedContentType {
        /// What the request said.
        found: String,
        /// What would work.
        accepted: &'static str,
    },
    /// The `Content-Encoding` is not one we inflate.
    #[error("unsupported Content-Encoding '{0}': send gzip, deflate or identity")]
    UnsupportedEncoding(String),
    /// A protocol variant this endpoint does not speak (e.g. remote_write
    /// 2.0, or a remote_write body not snappy-compressed); answered with 415.
    #[error("{0}")]
    Unsupported(String),
    /// The body could not be decoded (bad gzip, protobuf or JSON).
    #[error("{0}")]
    Malformed(String),
    /// The request body could not be read from the connection.
    #[error("reading the request body failed: {0}")]
    Read(String),
    /// The in-flight budget ([`crate::Limits::in_flight`]) cannot take this
    /// request now; refused before its body was read or decoded.
    #[error("server busy: requests being read and decoded hold {in_use_bytes} of the {budget_bytes}-byte in-flight budget and this one needs {needed_bytes} bytes (body size x decode expansion); retry in {retry_after_ms} ms, or give the server more memory (`whyslow serve --memory-budget`, a quarter of which admits requests in flight)")]
    InFlightBudget {
        /// This request's charge (wire bytes times the decode expansion).
        needed_bytes: u64,
        /// Bytes charged to the requests already admitted.
        in_use_bytes: u64,
        /// The whole in-flight budget.
        budget_bytes: u64,
        /// Suggested client back-off.
        retry_after_ms: u64,
    },
    /// The store refused the write or failed to make it durable.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The store dropped the acknowledgement without answering (it is shutting down or crashed).
    #[error("the store stopped before confirming the write was durable; retry")]
    AckLost,
}

impl IngestError {
    /// Suggested client back-off in milliseconds, for overload answers.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            Self::Store(StoreError::Overloaded { retry_after_ms, .. })
            | Self::InFlightBudget { retry_after_ms, .. } => Some(*retry_after_ms),
            _ => None,
        }
    }
}
