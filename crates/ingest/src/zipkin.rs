//! Zipkin v2 JSON receiver: `POST /api/v2/spans` (an array of spans) → 202.
//!
//! Mapping: `localEndpoint.serviceName` → resource `service.name`; `kind`;
//! `tags` → string attributes (the `error` tag, and `otel.status_code` /
//! `otel.status_description` written by OpenTelemetry's Zipkin exporter,
//! become the span status); `annotations` → events; `remoteEndpoint` →
//! `peer.service`, `network.peer.address`, `network.peer.port`; µs → ns.
//! `shared` is ignored. Zipkin's protobuf encoding is not supported (415).

use crate::admission::EXPANSION_ZIPKIN_JSON;
use crate::batch::{store_durably, Batch};
use crate::body::read_body;
use crate::error::IngestError;
use crate::http::{content_type, error_response, ErrorBody, HttpReceiver};
use crate::limits::Limits;
use crate::otlp_convert::UNKNOWN_SERVICE;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use model::{
    AttrValue, KeyValue, Resource, Scope, Span, SpanEvent, SpanId, SpanKind, Status, TraceId,
};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// One span as Zipkin v2 JSON has it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ZipkinSpan {
    trace_id: String,
    id: String,
    #[serde(default)]
    parent_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    /// Start, epoch µs.
    #[serde(default)]
    timestamp: Option<u64>,
    /// µs.
    #[serde(default)]
    duration: Option<u64>,
    #[serde(default)]
    local_endpoint: Option<Endpoint>,
    #[serde(default)]
    remote_endpoint: Option<Endpoint>,
    #[serde(default)]
    annotations: Option<Vec<Annotation>>,
    #[serde(default)]
    tags: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Endpoint {
    #[serde(default)]
    service_name: Option<String>,
    #[serde(default)]
    ipv4: Option<String>,
    #[serde(default)]
    ipv6: Option<String>,
    #[serde(default)]
    port: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct Annotation {
    /// Epoch µs.
    timestamp: u64,
    value: String,
}

/// `POST /api/v2/spans`.
pub(crate) async fn post_spans(
    State(receiver): State<Arc<HttpReceiver>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match accept(&receiver, &headers, body).await {
        Ok(message) => (StatusCode::ACCEPTED, message).into_response(),
        Err(e) => error_response(&e, ErrorBody::Text),
    }
}

async fn accept(
    receiver: &HttpReceiver,
    headers: &HeaderMap,
    body: Body,
) -> Result<String, IngestError> {
    check_content_type(headers)?;
    let (bytes, admitted) =
        read_body(headers, body, &receiver.limits, EXPANSION_ZIPKIN_JSON).await?;
    let batch = decode_spans(&bytes, &receiver.limits)?;
    drop(bytes);
    let message = batch.message(&receiver.limits);
    if batch.spans.is_empty() && batch.rejected_spans > 0 {
        return Err(IngestError::Malformed(message));
    }
    store_durably(receiver.store.as_ref(), batch.spans, admitted).await?;
    Ok(if message.is_empty() {
        String::new()
    } else {
        format!("{message}\n")
    })
}

fn check_content_type(headers: &HeaderMap) -> Result<(), IngestError> {
    let Some((raw, essence)) = content_type(headers) else {
        return Ok(());
    };
    if essence == "application/json" {
        Ok(())
    } else {
        Err(IngestError::UnsupportedContentType {
            found: raw,
            accepted: "application/json (Zipkin v2 JSON; the protobuf encoding is not supported)",
        })
    }
}

/// Decodes a Zipkin v2 JSON array into a batch (invalid spans rejected, limits applied).
pub fn decode_spans(bytes: &[u8], limits: &Limits) -> Result<Batch, IngestError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let spans: Vec<ZipkinSpan> =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            IngestError::Malformed(format!(
                "malformed Zipkin v2 JSON at {}: {} (expected an array of spans)",
                e.path(),
                e.inner()
            ))
        })?;
    let mut batch = Batch::default();
    let mut resources: HashMap<String, Arc<Resource>> = HashMap::new();
    let scope = Arc::new(Scope::default());
    for (index, zipkin_span) in spans.into_iter().enumerate() {
        let service = zipkin_span
            .local_endpoint
            .as_ref()
            .and_then(|e| e.service_name.clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| UNKNOWN_SERVICE.to_string());
        let resource = resources
            .entry(service)
            .or_insert_with_key(|name| {
                let mut resource = Resource {
                    service_name: name.clone(),
                    attributes: vec![KeyValue::str("service.name", name)],
                    dropped_attributes_count: 0,
                };
                limits.trim_resource(&mut resource, &mut batch.trimmed);
                Arc::new(resource)
            })
            .clone();
        let name = zipkin_span.name.clone().unwrap_or_default();
        match convert(zipkin_span, resource, Arc::clone(&scope)) {
            Ok(mut span) => {
                limits.trim_span(&mut span, &mut batch.trimmed);
                batch.spans.push(span);
            }
            Err(why) => batch.reject(|| format!("span [{index}] (name {name:?}): {why}")),
        }
    }
    Ok(batch)
}

fn convert(span: ZipkinSpan, resource: Arc<Resource>, scope: Arc<Scope>) -> Result<Span, String> {
    let trace_id = TraceId::from_hex(&span.trace_id)
        .ok()
        .filter(|id| !id.is_zero())
        .ok_or_else(|| format!("traceId {:?} is not 16 or 32 hex digits", span.trace_id))?;
    let span_id = SpanId::from_hex(&span.id)
        .ok()
        .filter(|id| !id.is_zero())
        .ok_or_else(|| format!("id {:?} is not 16 hex digits", span.id))?;
    let parent_span_id = match span.parent_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(
            SpanId::from_hex(text)
                .map_err(|_| format!("parentId {text:?} is not 16 hex digits"))?,
        )
        .filter(|id| !id.is_zero()),
    };
    let start_us = span
        .timestamp
        .filter(|&t| t > 0)
        .ok_or_else(|| "timestamp is missing".to_string())?;
    let start_unix_nano = start_us.saturating_mul(1000);
    let end_unix_nano =
        start_unix_nano.saturating_add(span.duration.unwrap_or(0).saturating_mul(1000));

    let mut attributes = Vec::new();
    let mut status = Status::default();
    let mut otel_status_description = None;
    for (key, value) in span.tags.unwrap_or_default() {
        let text = match value {
            serde_json::Value::Null => continue,
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        match key.as_str() {
            "error" => {
                status.code = model::StatusCode::Error;
                if text != "true" {
                    status.message = text;
                }
            }
            "otel.status_code" => {
                status.code = match text.to_ascii_uppercase().as_str() {
                    "ERROR" => model::StatusCode::Error,
                    "OK" => model::StatusCode::Ok,
                    _ => status.code,
                }
            }
            "otel.status_description" => otel_status_description = Some(text),
            _ => attributes.push(KeyValue {
                key,
                value: AttrValue::Str(text),
            }),
        }
    }
    if let Some(description) = otel_status_description {
        status.message = description;
    }
    if let Some(remote) = span.remote_endpoint {
        if let Some(service) = remote.service_name.filter(|s| !s.is_empty()) {
            attributes.push(KeyValue::str("peer.service", &service));
        }
        if let Some(address) = remote.ipv4.or(remote.ipv6).filter(|s| !s.is_empty()) {
            attributes.push(KeyValue::str("network.peer.address", &address));
        }
        if let Some(port) = remote.port.filter(|&p| p > 0) {
            attributes.push(KeyValue {
                key: "network.peer.port".to_string(),
                value: AttrValue::Int(port),
            });
        }
    }
    let events = span
        .annotations
        .unwrap_or_default()
        .into_iter()
        .map(|a| SpanEvent {
            time_unix_nano: a.timestamp.saturating_mul(1000),
            name: a.value,
            attributes: Vec::new(),
            dropped_attributes_count: 0,
        })
        .collect();
    Ok(Span {
        trace_id,
        span_id,
        parent_span_id,
        trace_state: String::new(),
        flags: 1, // reported Zipkin spans are sampled
        name: span.name.unwrap_or_default(),
        kind: kind(span.kind.as_deref()),
        start_unix_nano,
        end_unix_nano,
        attributes,
        dropped_attributes_count: 0,
        events,
        dropped_events_count: 0,
        links: Vec::new(),
        dropped_links_count: 0,
        status,
        resource,
        scope,
    })
}

fn kind(kind: Option<&str>) -> SpanKind {
    match kind.map(str::to_ascii_uppercase).as_deref() {
        Some("CLIENT") => SpanKind::Client,
        Some("SERVER") => SpanKind::Server,
        Some("PRODUCER") => SpanKind::Producer,
        Some("CONSUMER") => SpanKind::Consumer,
        _ => SpanKind::Unspecified,
    }
}
