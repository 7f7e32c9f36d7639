//! A request the gate turned away, and the reply that says so over HTTP
//! ([`Refusal::into_response`]) and gRPC ([`Refusal::grpc_status`]). Messages
//! come from [`auth::Denied`] and never hold the presented credentials.

use auth::Denied;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt;
use std::time::Duration;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Why the gate refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The credentials do not grant the permission (401, 403 or 429).
    Denied(Denied),
    /// Too many first-time tokens are waiting for their slow verification:
    /// 503 with `Retry-After: 1`, gRPC UNAVAILABLE (clients retry both).
    Busy,
}

/// Seconds a client is told to wait when the gate is [`Refusal::Busy`].
const BUSY_RETRY_AFTER_S: u64 = 1;

impl Refusal {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::Denied(denied) => denied.status(),
            Refusal::Busy => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The gRPC status: UNAUTHENTICATED, PERMISSION_DENIED, RESOURCE_EXHAUSTED
    /// (with `google.rpc.RetryInfo`, which tells OTLP exporters when to retry)
    /// or UNAVAILABLE.
    pub fn grpc_status(&self) -> Status {
        let message = self.to_string();
        match self {
            Refusal::Denied(denied) => match denied.retry_after_s() {
                Some(seconds) => Status::with_error_details(
                    Code::ResourceExhausted,
                    message,
                    ErrorDetails::with_retry_info(Some(Duration::from_secs(seconds))),
                ),
                None => Status::new(Code::from_i32(denied.grpc_code()), message),
            },
            Refusal::Busy => Status::with_error_details(
                Code::Unavailable,
                message,
                ErrorDetails::with_retry_info(Some(Duration::from_secs(BUSY_RETRY_AFTER_S))),
            ),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Denied(denied) => denied.fmt(f),
            Refusal::Busy => {
                f.write_str("too many new tokens are being verified at once; retry in a second")
            }
        }
    }
}

impl From<Denied> for Refusal {
    fn from(denied: Denied) -> Self {
        Refusal::Denied(denied)
    }
}

/// Plain text naming the reason, with `WWW-Authenticate` (401) or `Retry-After` (429, 503).
impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let headers = match &self {
            Refusal::Denied(denied) => denied.headers(),
            Refusal::Busy => {
                let mut headers = axum::http::HeaderMap::new();
                headers.insert(RETRY_AFTER, HeaderValue::from(BUSY_RETRY_AFTER_S));
                headers
            }
        };
        plain_text(self.status(), headers, &self.to_string())
    }
}

/// A refusal's answer: `message` as uncached plain text, with `headers`.
pub(crate) fn plain_text(
    status: StatusCode,
    mut headers: axum::http::HeaderMap,
    message: &str,
) -> Response {
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    (status, headers, format!("{message}\n")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth::Failure;

    #[test]
    fn each_refusal_has_its_http_and_grpc_reply() {
        let unauthenticated = Refusal::Denied(Denied::Unauthenticated(Failure::NoCredentials));
        assert_eq!(unauthenticated.grpc_status().code(), Code::Unauthenticated);
        let response = unauthenticated.into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().contains_key("www-authenticate"));

        let limited = Refusal::Denied(Denied::RateLimited {
            retry_after: Duration::from_millis(1500),
        });
        let status = limited.grpc_status();
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(
            status.get_details_retry_info().and_then(|r| r.retry_delay),
            Some(Duration::from_secs(2))
        );
        assert_eq!(limited.into_response().headers()[RETRY_AFTER], "2");

        let busy = Refusal::Busy;
        assert_eq!(busy.grpc_status().code(), Code::Unavailable);
        let response = busy.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[RETRY_AFTER], "1");
    }
}
