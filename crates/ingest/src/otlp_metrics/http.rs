//! OTLP/HTTP metrics: `POST /v1/metrics` with `application/x-protobuf` or
//! `application/json` bodies (gzip or deflate), answered in the request's
//! encoding, on the same router as `/v1/traces` (`http.rs`) and with the same
//! body reading, admission and error answers (`otlp_http.rs`).

use super::json;
use crate::admission::{EXPANSION_OTLP_JSON, EXPANSION_PROTOBUF};
use crate::body::read_body;
use crate::error::IngestError;
use crate::http::{error_response, ErrorBody, HttpReceiver};
use crate::otlp_http::{success, Encoding};
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use prost::Message;
use std::sync::Arc;

/// `POST /v1/metrics`.
pub(crate) async fn export_metrics(
    State(receiver): State<Arc<HttpReceiver>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let encoding = match Encoding::of_request(&headers) {
        Ok(encoding) => encoding,
        Err(e) => return error_response(&e, ErrorBody::Json),
    };
    let error_body = match encoding {
        Encoding::Protobuf => ErrorBody::Protobuf,
        Encoding::Json => ErrorBody::Json,
    };
    match export(&receiver, encoding, &headers, body).await {
        Ok(response) => {
            let partial = response.partial_success.as_ref().map(|p| {
                (
                    "rejectedDataPoints",
                    p.rejected_data_points,
                    p.error_message.as_str(),
                )
            });
            success(encoding, &response, partial)
        }
        Err(e) => error_response(&e, error_body),
    }
}

async fn export(
    receiver: &HttpReceiver,
    encoding: Encoding,
    headers: &HeaderMap,
    body: Body,
) -> Result<ExportMetricsServiceResponse, IngestError> {
    let metrics = &receiver.metrics;
    let expansion = match encoding {
        Encoding::Protobuf => EXPANSION_PROTOBUF,
        Encoding::Json => EXPANSION_OTLP_JSON,
    };
    let (bytes, admitted) = read_body(headers, body, &metrics.limits, expansion).await?;
    let request = decode(encoding, &bytes)?;
    drop(bytes);
    metrics.export(request, admitted).await
}

/// Decodes a request body in either encoding.
pub fn decode(
    encoding: Encoding,
    bytes: &[u8],
) -> Result<ExportMetricsServiceRequest, IngestError> {
    match encoding {
        Encoding::Protobuf => ExportMetricsServiceRequest::decode(bytes).map_err(|e| {
            IngestError::Malformed(format!(
                "malformed protobuf ExportMetricsServiceRequest: {e}"
            ))
        }),
        Encoding::Json => json::decode_request(bytes).map_err(IngestError::Malformed),
    }
}
