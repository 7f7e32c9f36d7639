//! The HTTP side of ingest: one axum router serving OTLP/HTTP (`POST /v1/traces`,
//! `POST /v1/metrics`) and Zipkin v2 (`POST /api/v2/spans`), with precise
//! 404/405 answers, and the mapping of refusals to HTTP status codes and error
//! bodies shared by all of them (and by remote_write).

use crate::error::IngestError;
use crate::limits::Limits;
use crate::otlp_metrics::{self, MetricsReceiver};
use crate::{otlp_grpc, otlp_http, zipkin};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use gate::{Gate, Permission};
use prost::Message;
use std::future::Future;
use std::sync::Arc;
use store::series::SeriesStore;
use store::{SpanStore, StoreError};

/// The request's `Content-Type` as sent and its media type (lowercase,
/// parameters such as `charset` dropped); `None` without the header.
pub(crate) fn content_type(headers: &HeaderMap) -> Option<(String, String)> {
    let raw = String::from_utf8_lossy(headers.get(header::CONTENT_TYPE)?.as_bytes()).into_owned();
    let essence = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    Some((raw, essence))
}

/// What the HTTP handlers share.
pub(crate) struct HttpReceiver {
    pub(crate) store: Arc<dyn SpanStore>,
    pub(crate) limits: Limits,
    pub(crate) metrics: MetricsReceiver,
}

/// The router for `/v1/traces` and `/v1/metrics` (OTLP/HTTP; spans into
/// `store`, metrics into `series`) and `/api/v2/spans` (Zipkin v2 JSON).
pub fn http_router(
    store: Arc<dyn SpanStore>,
    series: Arc<dyn SeriesStore>,
    limits: Limits,
) -> Router {
    let metrics = MetricsReceiver::new(series, limits.clone());
    let receiver = Arc::new(HttpReceiver {
        store,
        limits,
        metrics,
    });
    Router::new()
        .route(
            "/v1/traces",
            post(otlp_http::export_traces).fallback(method_not_allowed),
        )
        .route(
            "/v1/metrics",
            post(otlp_metrics::http::export_metrics).fallback(method_not_allowed),
        )
        .route(
            "/api/v2/spans",
            post(zipkin::post_spans).fallback(method_not_allowed),
        )
        .fallback(not_found)
        .with_state(receiver)
}

/// Serves [`http_router`] on `listener` (a `TcpListener`, or a
/// [`tls::Listener`] with TLS) until `shutdown` resolves; with a `gate`,
/// every request must show credentials that may ingest.
pub async fn serve_http(
    listener: impl Into<tls::Listener>,
    store: Arc<dyn SpanStore>,
    series: Arc<dyn SeriesStore>,
    limits: Limits,
    gate: Option<Arc<Gate>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut router = http_router(store, series, limits);
    if let Some(gate) = &gate {
        router = gate.protect(router, Permission::Ingest);
    }
    // The peer address is what the gate's failure limiter counts by.
    axum::serve(
        listener.into(),
        router.into_make_service_with_connect_info::<tls::Peer>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

async fn not_found(method: Method, uri: Uri) -> Response {
    let message = format!(
        "no endpoint at {method} {}: this port accepts POST /v1/traces and POST /v1/metrics (OTLP/HTTP) and POST /api/v2/spans (Zipkin v2 JSON)\n",
        uri.path()
    );
    (StatusCode::NOT_FOUND, message).into_response()
}

pub(crate) async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let message = format!("{method} is not allowed on {}: use POST\n", uri.path());
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, HeaderValue::from_static("POST"))],
        message,
    )
        .into_response()
}

/// The body format of an error answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorBody {
    /// `google.rpc.Status` as protobuf (OTLP/HTTP protobuf requests).
    Protobuf,
    /// `google.rpc.Status` as JSON (OTLP/HTTP JSON requests and unknown content types).
    Json,
    /// Plain text (Zipkin).
    Text,
}

/// The HTTP status of a refusal.
pub(crate) fn http_status(error: &IngestError) -> StatusCode {
    match error {
        IngestError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        IngestError::UnsupportedContentType { .. }
        | IngestError::UnsupportedEncoding(_)
        | IngestError::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        IngestError::Malformed(_) | IngestError::Read(_) => StatusCode::BAD_REQUEST,
        IngestError::Store(StoreError::Overloaded { .. }) | IngestError::InFlightBudget { .. } => {
            StatusCode::TOO_MANY_REQUESTS
        }
        IngestError::Store(
            StoreError::Closed | StoreError::Io { .. } | StoreError::Unavailable(_),
        )
        | IngestError::AckLost => StatusCode::SERVICE_UNAVAILABLE,
        IngestError::Store(StoreError::Corrupt { .. } | StoreError::TooManySamples { .. }) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// The full error answer: status, body, and `Retry-After` (whole seconds,
/// rounded up) when the store asked senders to back off.
pub(crate) fn error_response(error: &IngestError, body: ErrorBody) -> Response {
    let message = error.to_string();
    let code = otlp_grpc::status_for(error).code() as i32;
    let (content_type, bytes) = match body {
        ErrorBody::Protobuf => (
            "application/x-protobuf",
            tonic_types::pb::Status {
                code,
                message,
                details: Vec::new(),
            }
            .encode_to_vec(),
        ),
        ErrorBody::Json => (
            "application/json",
            serde_json::json!({ "code": code, "message": message })
                .to_string()
                .into_bytes(),
        ),
        ErrorBody::Text => (
            "text/plain; charset=utf-8",
            format!("{message}\n").into_bytes(),
        ),
    };
    let mut response = (
        http_status(error),
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        bytes,
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
