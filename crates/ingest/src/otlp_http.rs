//! OTLP/HTTP trace receiver: `POST /v1/traces` with `application/x-protobuf`
//! or `application/json` bodies, answered in the request's encoding.
//!
//! Success is 200 with an `ExportTraceServiceResponse` (partial success when
//! spans were rejected or trimmed); failures carry a `google.rpc.Status` body
//! as the OTLP spec asks. A request is admitted against the in-flight budget
//! before its body is read (`body.rs`). Routing, 404 and 405 live in `http.rs`.

use crate::admission::{EXPANSION_OTLP_JSON, EXPANSION_PROTOBUF};
use crate::body::read_body;
use crate::error::IngestError;
use crate::http::{self, error_response, ErrorBody, HttpReceiver};
use crate::otlp_export;
use crate::otlp_json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use std::sync::Arc;

/// The content types this endpoint reads.
const ACCEPTED: &str = "application/x-protobuf or application/json";

/// The two OTLP/HTTP encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-protobuf`.
    Protobuf,
    /// `application/json` (OTLP JSON mapping).
    Json,
}

impl Encoding {
    /// The `Content-Type` value of this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Protobuf => "application/x-protobuf",
            Self::Json => "application/json",
        }
    }

    pub(crate) fn of_request(headers: &HeaderMap) -> Result<Self, IngestError> {
        let (raw, essence) = http::content_type(headers).unwrap_or_default();
        match essence.as_str() {
            "application/x-protobuf" | "application/protobuf" => Ok(Self::Protobuf),
            "application/json" => Ok(Self::Json),
            _ => Err(IngestError::UnsupportedContentType {
                found: raw,
                accepted: ACCEPTED,
            }),
        }
    }
}

/// `POST /v1/traces`.
pub(crate) async fn export_traces(
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
            let partial = response
                .partial_success
                .as_ref()
                .map(|p| ("rejectedSpans", p.rejected_spans, p.error_message.as_str()));
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
) -> Result<ExportTraceServiceResponse, IngestError> {
    let limits = &receiver.limits;
    let expansion = match encoding {
        Encoding::Protobuf => EXPANSION_PROTOBUF,
        Encoding::Json => EXPANSION_OTLP_JSON,
    };
    let (bytes, admitted) = read_body(headers, body, limits, expansion).await?;
    let request = decode(encoding, &bytes)?;
    drop(bytes);
    otlp_export::export(receiver.store.as_ref(), limits, request, admitted).await
}

/// Decodes a request body in either encoding.
pub fn decode(encoding: Encoding, bytes: &[u8]) -> Result<ExportTraceServiceRequest, IngestError> {
    match encoding {
        Encoding::Protobuf => ExportTraceServiceRequest::decode(bytes).map_err(|e| {
            IngestError::Malformed(format!("malformed protobuf ExportTraceServiceRequest: {e}"))
        }),
        Encoding::Json => otlp_json::decode_request(bytes).map_err(IngestError::Malformed),
    }
}

/// 200 with an OTLP export response in the request's encoding. `partial`
/// is the response's partial success as (count field, count, message), for
/// the JSON form, which each signal names differently.
pub(crate) fn success(
    encoding: Encoding,
    response: &impl Message,
    partial: Option<(&str, i64, &str)>,
) -> Response {
    let body = match encoding {
        Encoding::Protobuf => response.encode_to_vec(),
        Encoding::Json => response_json(partial).into_bytes(),
    };
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(encoding.content_type()),
        )],
        body,
    )
        .into_response()
}

/// Proto3 JSON of the response: int64 as a decimal string, absent fields omitted.
fn response_json(partial: Option<(&str, i64, &str)>) -> String {
    let value = match partial {
        Some((count_field, count, message)) => serde_json::json!({
            "partialSuccess": {
                count_field: count.to_string(),
                "errorMessage": message,
            }
        }),
        None => serde_json::json!({}),
    };
    value.to_string()
}
