//! `POST /api/v1/write`: the remote_write 1.0 endpoint on the query port.
//!
//! The request is admitted against the in-flight budget from its
//! `Content-Length` before the body is read (`body.rs`), charged again for
//! its decompressed and decoded size once the snappy header says it, and
//! answered 204 only after the store's acknowledgement. Series with invalid
//! labels and samples the store refuses (out of order, duplicate, too old,
//! over the cardinality limits) make the answer 400 with the reasons, while
//! everything valid in the same request is stored: Prometheus retries 5xx
//! for ever and never retries 4xx, so a client's mistake must never be 5xx.
//! Overload is 429 + `Retry-After`; Prometheus retries it (honouring
//! `Retry-After`) when its `queue_config` has `retry_on_http_429: true`, and
//! otherwise drops that batch, so senders should set it.

use super::decode::{decode_request, decompress};
use super::validate::validate;
use crate::admission::EXPANSION_PROTOBUF;
use crate::body::read_body;
use crate::error::IngestError;
use crate::http::{self, error_response, method_not_allowed, ErrorBody};
use crate::limits::Limits;
use crate::series_append::append_durably;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use std::sync::Arc;
use store::series::SeriesStore;

/// The path Prometheus's `remote_write.url` points at.
pub const WRITE_PATH: &str = "/api/v1/write";

/// Decode expansion of a decompressed WriteRequest: the protobuf bytes, the
/// prost message and the converted series are alive together. Label strings
/// dominate all three, as in OTLP protobuf.
pub const EXPANSION_REMOTE_WRITE: u64 = EXPANSION_PROTOBUF;

struct Receiver {
    series: Arc<dyn SeriesStore>,
    limits: Limits,
}

/// The remote_write receiver as a stateful router (no fallback, so it merges
/// into the UI and query API router of `whyslow serve`).
pub fn prometheus_router(series: Arc<dyn SeriesStore>, limits: Limits) -> Router {
    Router::new()
        .route(WRITE_PATH, post(write).fallback(method_not_allowed))
        .with_state(Arc::new(Receiver { series, limits }))
}

async fn write(State(receiver): State<Arc<Receiver>>, headers: HeaderMap, body: Body) -> Response {
    match receive(&receiver, headers, body).await {
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Ok(Some(refusals)) => (
            StatusCode::BAD_REQUEST,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            format!("{refusals}\n"),
        )
            .into_response(),
        Err(e) => error_response(&e, ErrorBody::Text),
    }
}

/// Stores what is valid; `Some(message)` when something was refused.
async fn receive(
    receiver: &Receiver,
    mut headers: HeaderMap,
    body: Body,
) -> Result<Option<String>, IngestError> {
    check_headers(&headers)?;
    // Snappy is decoded here, not by the generic body reader.
    headers.remove(header::CONTENT_ENCODING);
    let limits = &receiver.limits;
    let (wire, mut admitted) = read_body(&headers, body, limits, 1).await?;
    let wire_len = wire.len() as u64;
    let bytes = decompress(&wire, limits.max_request_bytes, &mut |len| {
        admitted.grow_to(wire_len + len as u64 * EXPANSION_REMOTE_WRITE)
    })?;
    drop(wire);
    let request = decode_request(&bytes)?;
    drop(bytes);
    let validated = validate(request, limits);
    let sent = validated.batch.sample_count() as u64 + validated.invalid_samples;
    let outcome = append_durably(receiver.series.as_ref(), validated.batch, admitted).await?;
    let refused = validated.invalid_samples + outcome.rejected.total();
    crate::counters::samples(
        crate::counters::SampleSource::RemoteWrite,
        outcome.accepted_samples,
        refused,
    );
    if refused == 0 {
        return Ok(None);
    }
    let mut reasons = validated.reasons;
    if validated.invalid_series > reasons.len() as u64 {
        reasons.push(format!(
            "and {} more invalid series",
            validated.invalid_series - reasons.len() as u64
        ));
    }
    reasons.extend(outcome.rejected.messages);
    Ok(Some(format!(
        "{refused} of {sent} samples were not stored (the other {} were): {}",
        outcome.accepted_samples,
        reasons.join("; ")
    )))
}

/// `Content-Encoding` must be snappy (or absent: Prometheus's own receiver
/// does not look); `Content-Type` protobuf, remote_write 1.0.
fn check_headers(headers: &HeaderMap) -> Result<(), IngestError> {
    if let Some(encoding) = headers.get(header::CONTENT_ENCODING) {
        let encoding = String::from_utf8_lossy(encoding.as_bytes()).to_ascii_lowercase();
        if encoding.trim() != "snappy" {
            return Err(IngestError::Unsupported(format!(
                "unsupported Content-Encoding '{encoding}' on {WRITE_PATH}: remote_write bodies are snappy block-compressed (`Content-Encoding: snappy`)"
            )));
        }
    }
    let Some((raw, essence)) = http::content_type(headers) else {
        return Ok(());
    };
    let proto = raw
        .split(';')
        .skip(1)
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("proto"))
        .map(|(_, v)| v.trim().trim_matches('"').to_string());
    match (essence.as_str(), proto.as_deref()) {
        ("application/x-protobuf", None | Some("prometheus.WriteRequest")) => Ok(()),
        ("application/x-protobuf", Some(other)) => Err(IngestError::Unsupported(format!(
            "unsupported remote_write message '{other}': this receiver speaks remote_write 1.0 (prometheus.WriteRequest); set `protobuf_message: prometheus.WriteRequest` in the sender's remote_write config"
        ))),
        _ => Err(IngestError::UnsupportedContentType {
            found: raw,
            accepted: "application/x-protobuf (snappy-compressed prometheus.WriteRequest)",
        }),
    }
}
