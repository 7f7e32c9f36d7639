//! `POST /push.v1.PusherService/Push`: Pyroscope's push API as a Connect
//! unary call, protobuf (`application/proto`, what connect-go and
//! pyroscope-rs ≥ 1.0.1 send) or proto3 JSON (`application/json`), with
//! optional `Content-Encoding: gzip`.
//!
//! The messages of `api/push/v1/push.proto` and `api/types/v1/types.proto`
//! are written out as prost derives (no `protoc` at build time); JSON is
//! read into serde structs with proto3 JSON names (`rawProfile`, `ID`,
//! bytes as base64). Annotations (field 3 of a series) are ignored, as
//! Pyroscope drops what clients send there. Success is 200 with an empty
//! `PushResponse`: no bytes for protobuf, `{}` for JSON.

use super::error::{error_response, Api, ProfileError};
use super::limits::{no_reserve, Budget};
use super::pprof::{self, PprofSeries};
use super::time::now_ns;
use super::{write_durably, Receiver};
use crate::body::read_body;
use crate::error::IngestError;
use crate::http;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use model::metrics::METRIC_NAME;
use prost::Message;
use serde::Deserialize;
use std::sync::Arc;
use store::profiles::ProfileWrite;

/// `push.v1.PushRequest`.
#[derive(Clone, PartialEq, Message)]
pub struct PushRequest {
    /// One entry per series.
    #[prost(message, repeated, tag = "1")]
    pub series: Vec<RawProfileSeries>,
}

/// `push.v1.RawProfileSeries` (annotations, field 3, are skipped).
#[derive(Clone, PartialEq, Message)]
pub struct RawProfileSeries {
    /// Series labels (`__name__`, `service_name`, ...).
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<LabelPair>,
    /// Profiles of this series.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<RawSample>,
}

/// `push.v1.RawSample`.
#[derive(Clone, PartialEq, Message)]
pub struct RawSample {
    /// A pprof, maybe gzipped.
    #[prost(bytes = "vec", tag = "1")]
    pub raw_profile: Vec<u8>,
    /// The sender's UUID of the profile (unused).
    #[prost(string, tag = "2")]
    pub id: String,
}

/// `types.v1.LabelPair`.
#[derive(Clone, PartialEq, Message)]
pub struct LabelPair {
    /// Label name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Label value.
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Deserialize)]
struct JsonRequest {
    #[serde(default)]
    series: Option<Vec<JsonSeries>>,
}

#[derive(Deserialize)]
struct JsonSeries {
    #[serde(default)]
    labels: Option<Vec<JsonLabel>>,
    #[serde(default)]
    samples: Option<Vec<JsonSample>>,
}

#[derive(Deserialize)]
struct JsonLabel {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Deserialize)]
struct JsonSample {
    #[serde(default, rename = "rawProfile", alias = "raw_profile")]
    raw_profile: Option<String>,
    #[serde(default, rename = "ID", alias = "id")]
    id: Option<String>,
}

/// Proto3 JSON accepts standard and URL-safe base64, padded or not.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const BASE64_URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes a `PushRequest` body (already inflated), protobuf or proto3 JSON.
pub fn decode_push(bytes: &[u8], json: bool) -> Result<PushRequest, ProfileError> {
    if !json {
        return PushRequest::decode(bytes).map_err(|e| {
            ProfileError::Invalid(format!("malformed protobuf push.v1.PushRequest: {e}"))
        });
    }
    let request: JsonRequest =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(bytes))
            .map_err(|e| {
                ProfileError::Invalid(format!("malformed JSON push.v1.PushRequest: {e}"))
            })?;
    let mut out = PushRequest::default();
    for (i, series) in request.series.into_iter().flatten().enumerate() {
        let labels = series
            .labels
            .into_iter()
            .flatten()
            .map(|l| LabelPair {
                name: l.name.unwrap_or_default(),
                value: l.value.unwrap_or_default(),
            })
            .collect();
        let mut samples = Vec::new();
        for (j, sample) in series.samples.into_iter().flatten().enumerate() {
            let text = sample.raw_profile.unwrap_or_default();
            let engine = if text.contains(['-', '_']) {
                &BASE64_URL
            } else {
                &BASE64
            };
            let raw_profile = engine.decode(text.trim()).map_err(|e| {
                ProfileError::Invalid(format!(
                    "series[{i}].samples[{j}].rawProfile is not base64: {e}"
                ))
            })?;
            samples.push(RawSample {
                raw_profile,
                id: sample.id.unwrap_or_default(),
            });
        }
        out.series.push(RawProfileSeries { labels, samples });
    }
    Ok(out)
}

/// Converts a decoded request: every profile of every series, labels
/// checked (`__`-prefixed names other than `__name__` are dropped,
/// duplicate names refused). `now_ns` stands in for missing profile times.
pub fn convert_push(
    request: &PushRequest,
    now_ns: i64,
    budget: &mut Budget<'_>,
) -> Result<Vec<ProfileWrite>, ProfileError> {
    let mut writes = Vec::new();
    for (i, series) in request.series.iter().enumerate() {
        let mut labels: Vec<(String, String)> = Vec::with_capacity(series.labels.len());
        for pair in &series.labels {
            if pair.name.starts_with("__") && pair.name != METRIC_NAME {
                continue;
            }
            if labels.iter().any(|(n, _)| *n == pair.name) {
                return Err(ProfileError::Invalid(format!(
                    "series {i}: duplicate label name '{}'",
                    super::labels::shorten(&pair.name)
                )));
            }
            labels.push((pair.name.clone(), pair.value.clone()));
        }
        let target = PprofSeries {
            labels,
            default_time_ns: now_ns,
            ..PprofSeries::default()
        };
        for (j, sample) in series.samples.iter().enumerate() {
            if sample.raw_profile.is_empty() {
                continue;
            }
            let converted = pprof::convert(&sample.raw_profile, &target, budget)
                .map_err(|e| e.context(format!("series {i} profile {j}")))?;
            writes.extend(converted);
        }
    }
    Ok(writes)
}

/// Decodes and converts a push body without in-flight accounting (the
/// conversion limits still apply). An entry point for fuzzing.
pub fn parse_push(bytes: &[u8], json: bool) -> Result<Vec<ProfileWrite>, ProfileError> {
    let request = decode_push(bytes, json)?;
    convert_push(&request, now_ns(), &mut Budget::new(&mut no_reserve))
}

/// Whether the request is JSON (else protobuf), from its Content-Type.
fn is_json(headers: &HeaderMap) -> Result<bool, ProfileError> {
    let (raw, essence) = http::content_type(headers).unwrap_or_default();
    match essence.as_str() {
        "application/proto" | "application/protobuf" | "application/x-protobuf" => Ok(false),
        "application/json" => Ok(true),
        _ => Err(ProfileError::Ingest(IngestError::UnsupportedContentType {
            found: raw,
            accepted: "application/proto or application/json (Connect unary push.v1.PushRequest)",
        })),
    }
}

/// The handler.
pub(crate) async fn push(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let json = match is_json(&headers) {
        Ok(json) => json,
        Err(e) => return error_response(&e, Api::Connect),
    };
    if let Err(e) = receive(&receiver, json, &headers, body).await {
        return error_response(&e, Api::Connect);
    }
    let (content_type, body) = if json {
        ("application/json", &b"{}"[..])
    } else {
        ("application/proto", &b""[..])
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

async fn receive(
    receiver: &Receiver,
    json: bool,
    headers: &HeaderMap,
    body: Body,
) -> Result<(), ProfileError> {
    let (bytes, mut admitted) = read_body(headers, body, &receiver.limits, 1).await?;
    let wire = bytes.len() as u64;
    let writes = {
        let mut reserve = |charge: u64| admitted.grow_to(wire + charge);
        let mut budget = Budget::new(&mut reserve);
        budget.charge(wire, "decoded request")?;
        let request = decode_push(&bytes, json)?;
        drop(bytes);
        convert_push(&request, now_ns(), &mut budget)?
    };
    write_durably(receiver.store.as_ref(), writes, admitted).await
}
