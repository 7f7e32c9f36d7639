//! API errors and the Jaeger response envelope they are written in.
//!
//! Jaeger answers every query with `{"data", "total", "limit", "offset",
//! "errors"}`; a failure has `data: null` and one `{"code", "msg"}` error, and
//! the HTTP status repeats the code. Clients (jaeger-ui, Grafana) read `errors[0].msg`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use store::StoreError;
use thiserror::Error;

/// Jaeger's response envelope.
#[derive(Debug, Serialize)]
pub struct Envelope<T: Serialize> {
    /// The payload (`null` on failure).
    pub data: Option<T>,
    /// Number of items (Jaeger fills it for services and operations, 0 elsewhere).
    pub total: usize,
    /// Always 0 (Jaeger does not page).
    pub limit: usize,
    /// Always 0.
    pub offset: usize,
    /// Errors, or `null`.
    pub errors: Option<Vec<ApiErrorBody>>,
}

impl<T: Serialize> Envelope<T> {
    /// A successful envelope with `total`.
    pub fn new(data: T, total: usize) -> Self {
        Self {
            data: Some(data),
            total,
            limit: 0,
            offset: 0,
            errors: None,
        }
    }
}

impl<T: Serialize> IntoResponse for Envelope<T> {
    fn into_response(self) -> Response {
        Json(self).into_response()
    }
}

/// One error in the envelope.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ApiErrorBody {
    /// HTTP status code (omitted for per-trace errors, as Jaeger does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// Message.
    pub msg: String,
    /// The trace the error is about, for per-trace errors.
    #[serde(rename = "traceID", skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// Why a request failed.
#[derive(Debug, Error)]
pub enum ApiError {
    /// A parameter could not be parsed or is missing.
    #[error("{0}")]
    BadRequest(String),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The store failed.
    #[error("store failed: {0}")]
    Store(#[from] StoreError),
    /// Something else went wrong on our side.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Store(
                StoreError::Overloaded { .. } | StoreError::Closed | StoreError::Unavailable(_),
            ) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Store(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body: Envelope<()> = Envelope {
            data: None,
            total: 0,
            limit: 0,
            offset: 0,
            errors: Some(vec![ApiErrorBody {
                code: Some(status.as_u16()),
                msg: self.to_string(),
                trace_id: None,
            }]),
        };
        (status, Json(body)).into_response()
    }
}
