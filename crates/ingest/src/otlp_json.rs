//! OTLP/JSON request decoding: the `opentelemetry-proto` crate's serde
//! mapping, after a small normalising pass for what that mapping misses.
//!
//! The crate's serde derives already follow the OTLP JSON rules for hex trace
//! and span ids, camelCase keys, int64/fixed64 as strings or numbers and
//! ignoring unknown fields. They do not accept enum names (`"SPAN_KIND_SERVER"`,
//! `"STATUS_CODE_ERROR"`), uint32 fields sent as strings, or explicit `null`
//! (which proto3 JSON treats as the default value); [`normalize`] rewrites
//! those in the parsed `serde_json::Value` before the typed decode. Errors
//! name the JSON path of the bad field.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, status::StatusCode};
use serde_json::Value;

/// Decodes an OTLP/JSON `ExportTraceServiceRequest`; the error says where and what is wrong.
pub fn decode_request(body: &[u8]) -> Result<ExportTraceServiceRequest, String> {
    decode(body, &TRACE_JSON)
}

/// Where one OTLP request type's JSON needs normalising before the typed decode.
pub(crate) struct OtlpJson {
    /// The message, for errors (`ExportTraceServiceRequest`).
    pub message: &'static str,
    /// Its top-level field, for errors (`resourceSpans`).
    pub top_field: &'static str,
    /// Fields of uint32 type that proto3 JSON allows as strings.
    pub uint32_fields: &'static [&'static str],
    /// The number of an enum value named in field `key`, if `key` is an enum field.
    pub enum_number: fn(key: &str, name: &str) -> Option<i32>,
}

/// Traces: `kind` and `code` occur as object keys only as `Span.kind` and
/// `Status.code` (attribute keys are values of `"key"`, never object keys).
const TRACE_JSON: OtlpJson = OtlpJson {
    message: "ExportTraceServiceRequest",
    top_field: "resourceSpans",
    uint32_fields: &[
        "droppedAttributesCount",
        "droppedEventsCount",
        "droppedLinksCount",
        "flags",
    ],
    enum_number: |key, name| match key {
        "kind" => SpanKind::from_str_name(name).map(|n| n as i32),
        "code" => StatusCode::from_str_name(name).map(|n| n as i32),
        _ => None,
    },
};

/// Parses `body`, normalises it as `rules` say, and decodes it as `T`.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    body: &[u8],
    rules: &OtlpJson,
) -> Result<T, String> {
    let mut value: Value = serde_json::from_slice(body)
        .map_err(|e| format!("malformed JSON {}: {e}", rules.message))?;
    if !value.is_object() {
        return Err(format!(
            "malformed JSON {}: expected an object with \"{}\"",
            rules.message, rules.top_field
        ));
    }
    normalize(&mut value, rules);
    serde_path_to_error::deserialize(value)
        .map_err(|e| format!("invalid OTLP JSON at {}: {}", e.path(), e.inner()))
}

/// Rewrites enum names to numbers, string uint32s to numbers, and drops `null` members.
fn normalize(value: &mut Value, rules: &OtlpJson) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            for (key, member) in map.iter_mut() {
                match &*member {
                    Value::String(text) => {
                        if let Some(n) = (rules.enum_number)(key, text) {
                            *member = Value::from(n);
                        } else if rules.uint32_fields.contains(&key.as_str()) {
                            if let Ok(n) = text.trim().parse::<u32>() {
                                *member = Value::from(n);
                            }
                        }
                    }
                    _ => normalize(member, rules),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| normalize(item, rules)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_names_and_string_numbers_are_accepted() {
        let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{
            "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
            "name":"n","kind":"SPAN_KIND_CLIENT","flags":"257","droppedEventsCount":"3",
            "startTimeUnixNano":"1544712660000000000","endTimeUnixNano":1544712661000000000,
            "status":{"code":"STATUS_CODE_ERROR","message":null},
            "attributes":null,"unknownField":{"x":1}}]}]}]}"#;
        let request = decode_request(body).unwrap();
        let span = &request.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.kind, SpanKind::Client as i32);
        assert_eq!(span.flags, 257);
        assert_eq!(span.dropped_events_count, 3);
        assert_eq!(span.status.as_ref().unwrap().code, StatusCode::Error as i32);
        assert_eq!(span.trace_id[0], 0x5b);
        assert_eq!(span.end_time_unix_nano, 1544712661000000000);
    }

    #[test]
    fn errors_name_the_path() {
        let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}"#;
        let err = decode_request(body).unwrap_err();
        assert!(
            err.contains("resourceSpans[0].scopeSpans[0].spans[0].traceId"),
            "{err}"
        );
        let err = decode_request(b"{\"resourceSpans\": [").unwrap_err();
        assert!(err.contains("line 1"), "{err}");
        assert!(decode_request(b"[]").is_err());
    }
}
