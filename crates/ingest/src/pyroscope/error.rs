//! Why a profile request was refused, and how each API answers it.
//!
//! Both APIs answer errors with a Connect error body,
//! `{"code":"invalid_argument","message":"..."}`, as Pyroscope does. The
//! status differs: `POST /push.v1.PusherService/Push` uses the Connect
//! code-to-HTTP mapping (connect-go `connectCodeToHTTP`), `POST /ingest` the
//! statuses Pyroscope's ingest handler uses (413 for a body too large, 408
//! for a failed read). Overload is 429 + `Retry-After` on both.

use crate::error::IngestError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt::Display;
use store::StoreError;
use thiserror::Error;

/// A refused profile request.
#[derive(Debug, Error)]
pub enum ProfileError {
    /// The input is malformed or breaks a limit: 400, `invalid_argument`.
    #[error("{0}")]
    Invalid(String),
    /// A profile or the request is larger than a size limit: 413 on
    /// `/ingest`; `invalid_argument` (400) on Connect, as Pyroscope's
    /// validation answers oversized profiles, so senders do not retry.
    #[error("{0}")]
    TooLarge(String),
    /// Reading the body, admission, or the store.
    #[error(transparent)]
    Ingest(#[from] IngestError),
}

impl ProfileError {
    /// The same error with `prefix: ` before its message (input errors only).
    pub fn context(self, prefix: impl Display) -> Self {
        match self {
            Self::Invalid(m) => Self::Invalid(format!("{prefix}: {m}")),
            Self::TooLarge(m) => Self::TooLarge(format!("{prefix}: {m}")),
            other => other,
        }
    }

    /// Suggested client back-off, for overload answers.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            Self::Ingest(e) => e.retry_after_ms(),
            _ => None,
        }
    }
}

impl From<StoreError> for ProfileError {
    fn from(e: StoreError) -> Self {
        Self::Ingest(IngestError::Store(e))
    }
}

/// Which API is answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// Legacy `POST /ingest`.
    Ingest,
    /// Connect unary `POST /push.v1.PusherService/Push`.
    Connect,
}

/// The Connect code of a refusal and its status on each API.
fn classify(error: &ProfileError) -> (&'static str, StatusCode, StatusCode) {
    use StatusCode as S;
    let invalid = ("invalid_argument", S::BAD_REQUEST, S::BAD_REQUEST);
    let too_large = ("invalid_argument", S::BAD_REQUEST, S::PAYLOAD_TOO_LARGE);
    let ingest = match error {
        ProfileError::Invalid(_) => return invalid,
        ProfileError::TooLarge(_) => return too_large,
        ProfileError::Ingest(e) => e,
    };
    match ingest {
        IngestError::TooLarge { .. } => too_large,
        IngestError::Malformed(_) => invalid,
        IngestError::Read(_) => ("invalid_argument", S::BAD_REQUEST, S::REQUEST_TIMEOUT),
        IngestError::UnsupportedContentType { .. }
        | IngestError::UnsupportedEncoding(_)
        | IngestError::Unsupported(_) => (
            "invalid_argument",
            S::UNSUPPORTED_MEDIA_TYPE,
            S::UNSUPPORTED_MEDIA_TYPE,
        ),
        IngestError::InFlightBudget { .. } | IngestError::Store(StoreError::Overloaded { .. }) => (
            "resource_exhausted",
            S::TOO_MANY_REQUESTS,
            S::TOO_MANY_REQUESTS,
        ),
        IngestError::Store(
            StoreError::Closed | StoreError::Io { .. } | StoreError::Unavailable(_),
        )
        | IngestError::AckLost => (
            "unavailable",
            S::SERVICE_UNAVAILABLE,
            S::SERVICE_UNAVAILABLE,
        ),
        IngestError::Store(StoreError::Corrupt { .. } | StoreError::TooManySamples { .. }) => (
            "internal",
            S::INTERNAL_SERVER_ERROR,
            S::INTERNAL_SERVER_ERROR,
        ),
    }
}

/// The Connect error code of a refusal (`invalid_argument`, `resource_exhausted`, ...).
pub fn connect_code(error: &ProfileError) -> &'static str {
    classify(error).0
}

/// The HTTP status of a refusal on `api`.
pub fn http_status(error: &ProfileError, api: Api) -> StatusCode {
    let (_, connect, ingest) = classify(error);
    match api {
        Api::Connect => connect,
        Api::Ingest => ingest,
    }
}

/// The whole error answer: status, Connect JSON error body, and
/// `Retry-After` (whole seconds, rounded up) for overload.
pub fn error_response(error: &ProfileError, api: Api) -> Response {
    let body = serde_json::json!({
        "code": connect_code(error),
        "message": error.to_string(),
    })
    .to_string();
    let mut response = (
        http_status(error, api),
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    if let Some(ms) = error.retry_after_ms() {
        let seconds = ms.div_ceil(1000).max(1);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_each_api() {
        let too_large = ProfileError::TooLarge("big".into());
        assert_eq!(
            http_status(&too_large, Api::Ingest),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(
            http_status(&too_large, Api::Connect),
            StatusCode::BAD_REQUEST
        );
        let busy = ProfileError::from(StoreError::Overloaded {
            used_bytes: 1,
            budget_bytes: 1,
            retry_after_ms: 1500,
        });
        assert_eq!(connect_code(&busy), "resource_exhausted");
        let response = error_response(&busy, Api::Connect);
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        let prefixed = ProfileError::Invalid("bad".into()).context("series 1");
        assert_eq!(prefixed.to_string(), "series 1: bad");
    }
}
