//! Errors of the Prometheus API: `{"status":"error","errorType":…,"error":…}`
//! with Prometheus's HTTP status for each `errorType` (web/api/v1/api.go):
//! `bad_data` 400, `execution` 422, `timeout` 503, `canceled` 499,
//! `internal` 500, `not_found` 404, `unavailable` 503.
//!
//! Messages copy the real binary's wording (`invalid parameter "query": …`,
//! `no match[] parameter provided`) so clients that show them read the same.

use super::json::{json_response, push_str};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use promql::PromqlError;
use store::StoreError;
use thiserror::Error;

/// Prometheus's `errorType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// A parameter is missing or malformed, or the query does not parse.
    BadData,
    /// The query failed while running (too many samples, many-to-many matching).
    Execution,
    /// The query ran past its timeout.
    Timeout,
    /// The client went away.
    Canceled,
    /// Our fault (store failure, task panic).
    Internal,
    /// Nothing there.
    NotFound,
    /// The store refuses work for now (overloaded, closing).
    Unavailable,
}

impl ErrorType {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadData => "bad_data",
            Self::Execution => "execution",
            Self::Timeout => "timeout",
            Self::Canceled => "canceled",
            Self::Internal => "internal",
            Self::NotFound => "not_found",
            Self::Unavailable => "unavailable",
        }
    }

    /// Parses the JSON spelling (as [`PromqlError::error_type`] returns it);
    /// anything unknown is `internal`.
    pub fn parse(text: &str) -> Self {
        match text {
            "bad_data" => Self::BadData,
            "execution" => Self::Execution,
            "timeout" => Self::Timeout,
            "canceled" => Self::Canceled,
            "not_found" => Self::NotFound,
            "unavailable" => Self::Unavailable,
            _ => Self::Internal,
        }
    }

    /// Prometheus's default HTTP status for the type.
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadData => StatusCode::BAD_REQUEST,
            Self::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Timeout | Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Canceled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::NotFound => StatusCode::NOT_FOUND,
        }
    }
}

/// A failed Prometheus API call.
#[derive(Debug, Error)]
#[error("{message}")]
pub struct PromApiError {
    /// The `errorType`.
    pub error_type: ErrorType,
    /// The HTTP status.
    pub status: StatusCode,
    /// The `error` text.
    pub message: String,
}

impl PromApiError {
    /// An error with the type's default status.
    pub fn new(error_type: ErrorType, message: impl Into<String>) -> Self {
        Self {
            error_type,
            status: error_type.status(),
            message: message.into(),
        }
    }

    /// `bad_data` with `message` as is.
    pub fn bad_data(message: impl Into<String>) -> Self {
        Self::new(ErrorType::BadData, message)
    }

    /// `bad_data`: `invalid parameter "NAME": DETAIL` (Prometheus's `invalidParamError`).
    pub fn invalid_param(name: &str, detail: impl std::fmt::Display) -> Self {
        Self::bad_data(format!("invalid parameter \"{name}\": {detail}"))
    }

    /// `internal`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorType::Internal, message)
    }
}

impl From<PromqlError> for PromApiError {
    fn from(err: PromqlError) -> Self {
        let error_type = ErrorType::parse(err.error_type());
        Self {
            error_type,
            status: StatusCode::from_u16(err.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            message: err.to_string(),
        }
    }
}

impl From<StoreError> for PromApiError {
    fn from(err: StoreError) -> Self {
        let error_type = match err {
            StoreError::TooManySamples { .. } => ErrorType::Execution,
            StoreError::Overloaded { .. } | StoreError::Closed | StoreError::Unavailable(_) => {
                ErrorType::Unavailable
            }
            _ => ErrorType::Internal,
        };
        Self::new(error_type, err.to_string())
    }
}

impl IntoResponse for PromApiError {
    fn into_response(self) -> Response {
        let mut body = String::from("{\"status\":\"error\",\"errorType\":\"");
        body.push_str(self.error_type.as_str());
        body.push_str("\",\"error\":");
        push_str(&mut body, &self.message);
        body.push('}');
        json_response(self.status, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_map_to_prometheus_statuses() {
        for (kind, text, status) in [
            (ErrorType::BadData, "bad_data", 400),
            (ErrorType::Execution, "execution", 422),
            (ErrorType::Timeout, "timeout", 503),
            (ErrorType::Canceled, "canceled", 499),
            (ErrorType::Internal, "internal", 500),
            (ErrorType::NotFound, "not_found", 404),
        ] {
            assert_eq!(kind.as_str(), text);
            assert_eq!(ErrorType::parse(text), kind);
            assert_eq!(kind.status().as_u16(), status, "{text}");
        }
    }

    #[test]
    fn promql_errors_keep_their_type_and_status() {
        let err = PromApiError::from(PromqlError::Timeout("expression evaluation".into()));
        assert_eq!(err.error_type, ErrorType::Timeout);
        assert_eq!(err.status.as_u16(), 503);
        assert_eq!(err.message, "query timed out in expression evaluation");
        let err = PromApiError::from(PromqlError::Execution("many-to-many".into()));
        assert_eq!(
            (err.error_type, err.status.as_u16()),
            (ErrorType::Execution, 422)
        );
    }
}
