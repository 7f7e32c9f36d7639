//! OTLP trace messages (the `opentelemetry-proto` crate's generated types) →
//! [`model::Span`]s, with validation and limits.
//!
//! Shared by the gRPC and HTTP receivers (protobuf and JSON decode to the same
//! request type). A span with an invalid trace or span id, a parent id of the
//! wrong length, no start time, or an end before its start is rejected and
//! reported; the rest of the request is kept. Links with invalid ids are
//! dropped and counted in `dropped_links_count`.

use crate::batch::Batch;
use crate::limits::{Limits, Trimmed};
use model::{
    AttrValue, KeyValue, Resource, Scope, Span, SpanEvent, SpanId, SpanKind, SpanLink, Status,
    StatusCode, TraceId,
};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1 as otlp_common;
use opentelemetry_proto::tonic::resource::v1::Resource as OtlpResource;
use opentelemetry_proto::tonic::trace::v1 as otlp_trace;
use std::sync::Arc;

/// The service name OpenTelemetry SDKs report when none is configured.
pub const UNKNOWN_SERVICE: &str = "unknown_service";

/// Converts a whole export request, taking ownership to move strings instead of copying.
pub fn convert_request(request: ExportTraceServiceRequest, limits: &Limits) -> Batch {
    let mut batch = Batch::default();
    let span_count: usize = request
        .resource_spans
        .iter()
        .flat_map(|rs| rs.scope_spans.iter())
        .map(|ss| ss.spans.len())
        .sum();
    batch.spans.reserve(span_count);
    for (resource_index, resource_spans) in request.resource_spans.into_iter().enumerate() {
        let resource = Arc::new(convert_resource(
            resource_spans.resource,
            limits,
            &mut batch.trimmed,
        ));
        for (scope_index, scope_spans) in resource_spans.scope_spans.into_iter().enumerate() {
            let mut scope = scope_spans
                .scope
                .map(|s| Scope {
                    name: s.name,
                    version: s.version,
                    attributes: convert_attributes(s.attributes),
                    dropped_attributes_count: s.dropped_attributes_count,
                })
                .unwrap_or_default();
            limits.trim_scope(&mut scope, &mut batch.trimmed);
            let scope = Arc::new(scope);
            for (span_index, span) in scope_spans.spans.into_iter().enumerate() {
                match convert_span(span, &resource, &scope) {
                    Ok(mut span) => {
                        limits.trim_span(&mut span, &mut batch.trimmed);
                        batch.spans.push(span);
                    }
                    Err(Rejected { name, why }) => batch.reject(|| {
                        format!(
                            "resourceSpans[{resource_index}].scopeSpans[{scope_index}].spans[{span_index}] (name {name:?}): {why}"
                        )
                    }),
                }
            }
        }
    }
    batch
}

/// A span that failed validation: its name (for the message) and why.
struct Rejected {
    name: String,
    why: String,
}

fn convert_resource(
    resource: Option<OtlpResource>,
    limits: &Limits,
    trimmed: &mut Trimmed,
) -> Resource {
    let (attributes, dropped) = resource
        .map(|r| (r.attributes, r.dropped_attributes_count))
        .unwrap_or_default();
    let attributes = convert_attributes(attributes);
    let service_name = match model::attr(&attributes, "service.name") {
        Some(AttrValue::Str(name)) if !name.is_empty() => name.clone(),
        _ => UNKNOWN_SERVICE.to_string(),
    };
    let mut resource = Resource {
        service_name,
        attributes,
        dropped_attributes_count: dropped,
    };
    limits.trim_resource(&mut resource, trimmed);
    resource
}

fn convert_span(
    span: otlp_trace::Span,
    resource: &Arc<Resource>,
    scope: &Arc<Scope>,
) -> Result<Span, Rejected> {
    let reject = |why: String| Rejected {
        name: span.name.clone(),
        why,
    };
    let trace_id = trace_id(&span.trace_id).map_err(|why| reject(format!("trace_id {why}")))?;
    let span_id = span_id(&span.span_id).map_err(|why| reject(format!("span_id {why}")))?;
    let parent_span_id = match span.parent_span_id.len() {
        0 => None,
        8 => SpanId::from_slice(&span.parent_span_id).filter(|id| !id.is_zero()),
        n => {
            return Err(reject(format!(
                "parent_span_id must be empty or 8 bytes, got {n} bytes"
            )))
        }
    };
    if span.start_time_unix_nano == 0 {
        return Err(reject("start_time_unix_nano is missing (0)".to_string()));
    }
    if span.end_time_unix_nano < span.start_time_unix_nano {
        return Err(reject(format!(
            "end_time_unix_nano {} is before start_time_unix_nano {}",
            span.end_time_unix_nano, span.start_time_unix_nano
        )));
    }
    let mut dropped_links_count = span.dropped_links_count;
    let mut links = Vec::with_capacity(span.links.len());
    for link in span.links {
        match convert_link(link) {
            Some(link) => links.push(link),
            None => dropped_links_count = dropped_links_count.saturating_add(1),
        }
    }
    let status = span.status.map(convert_status).unwrap_or_default();
    Ok(Span {
        trace_id,
        span_id,
        parent_span_id,
        trace_state: span.trace_state,
        flags: span.flags,
        name: span.name,
        kind: span_kind(span.kind),
        start_unix_nano: span.start_time_unix_nano,
        end_unix_nano: span.end_time_unix_nano,
        attributes: convert_attributes(span.attributes),
        dropped_attributes_count: span.dropped_attributes_count,
        events: span.events.into_iter().map(convert_event).collect(),
        dropped_events_count: span.dropped_events_count,
        links,
        dropped_links_count,
        status,
        resource: Arc::clone(resource),
        scope: Arc::clone(scope),
    })
}

fn trace_id(bytes: &[u8]) -> Result<TraceId, String> {
    match TraceId::from_slice(bytes) {
        Some(id) if !id.is_zero() => Ok(id),
        Some(_) => Err("is all zeros".to_string()),
        None => Err(format!("must be 16 bytes, got {} bytes", bytes.len())),
    }
}

fn span_id(bytes: &[u8]) -> Result<SpanId, String> {
    match SpanId::from_slice(bytes) {
        Some(id) if !id.is_zero() => Ok(id),
        Some(_) => Err("is all zeros".to_string()),
        None => Err(format!("must be 8 bytes, got {} bytes", bytes.len())),
    }
}

fn convert_event(event: otlp_trace::span::Event) -> SpanEvent {
    SpanEvent {
        time_unix_nano: event.time_unix_nano,
        name: event.name,
        attributes: convert_attributes(event.attributes),
        dropped_attributes_count: event.dropped_attributes_count,
    }
}

fn convert_link(link: otlp_trace::span::Link) -> Option<SpanLink> {
    Some(SpanLink {
        trace_id: trace_id(&link.trace_id).ok()?,
        span_id: span_id(&link.span_id).ok()?,
        trace_state: link.trace_state,
        attributes: convert_attributes(link.attributes),
        dropped_attributes_count: link.dropped_attributes_count,
        flags: link.flags,
    })
}

fn convert_status(status: otlp_trace::Status) -> Status {
    use otlp_trace::status::StatusCode as Otlp;
    let code = match Otlp::try_from(status.code) {
        Ok(Otlp::Ok) => StatusCode::Ok,
        Ok(Otlp::Error) => StatusCode::Error,
        Ok(Otlp::Unset) | Err(_) => StatusCode::Unset,
    };
    Status {
        code,
        message: status.message,
    }
}

fn span_kind(kind: i32) -> SpanKind {
    use otlp_trace::span::SpanKind as Otlp;
    match Otlp::try_from(kind) {
        Ok(Otlp::Internal) => SpanKind::Internal,
        Ok(Otlp::Server) => SpanKind::Server,
        Ok(Otlp::Client) => SpanKind::Client,
        Ok(Otlp::Producer) => SpanKind::Producer,
        Ok(Otlp::Consumer) => SpanKind::Consumer,
        Ok(Otlp::Unspecified) | Err(_) => SpanKind::Unspecified,
    }
}

/// OTLP key/values → model key/values.
pub(crate) fn convert_attributes(attributes: Vec<otlp_common::KeyValue>) -> Vec<KeyValue> {
    attributes
        .into_iter()
        .map(|kv| KeyValue {
            key: kv.key,
            value: kv.value.map(convert_value).unwrap_or(AttrValue::Empty),
        })
        .collect()
}

fn convert_value(value: otlp_common::AnyValue) -> AttrValue {
    use otlp_common::any_value::Value;
    match value.value {
        Some(Value::StringValue(s)) => AttrValue::Str(s),
        Some(Value::BoolValue(b)) => AttrValue::Bool(b),
        Some(Value::IntValue(i)) => AttrValue::Int(i),
        Some(Value::DoubleValue(d)) => AttrValue::Double(d),
        Some(Value::BytesValue(b)) => AttrValue::Bytes(b),
        Some(Value::ArrayValue(a)) => {
            AttrValue::Array(a.values.into_iter().map(convert_value).collect())
        }
        Some(Value::KvlistValue(kvs)) => AttrValue::Map(convert_attributes(kvs.values)),
        // An index into a profiles string table: meaningless in a trace request.
        Some(Value::StringValueStrindex(_)) | None => AttrValue::Empty,
    }
}
