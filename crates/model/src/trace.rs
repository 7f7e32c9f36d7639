//! Distributed-tracing data: spans as OpenTelemetry defines them, with the
//! resource (service) and instrumentation scope they came from.
//!
//! Every trace source (OTLP gRPC/HTTP, Zipkin) produces [`Span`]s; the store
//! persists them and the query layer and Jaeger API read them. Timestamps are
//! Unix-epoch nanoseconds. Resources and scopes are shared by `Arc` because a
//! batch usually carries thousands of spans of one service.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A 16-byte trace id (all zero is invalid).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
pub struct TraceId(pub [u8; 16]);

/// An 8-byte span id (all zero is invalid).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
pub struct SpanId(pub [u8; 8]);

/// Error of parsing a hex id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseIdError;

impl fmt::Display for ParseIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid id: expected up to 32 (trace) or 16 (span) hex digits")
    }
}

impl std::error::Error for ParseIdError {}

fn parse_hex<const N: usize>(s: &str) -> Result<[u8; N], ParseIdError> {
    let s = s.trim();
    if s.is_empty() || s.len() > 2 * N || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ParseIdError);
    }
    // Jaeger clients may drop leading zeros: left-pad to full width.
    let padded = format!("{s:0>width$}", width = 2 * N);
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&padded[2 * i..2 * i + 2], 16).map_err(|_| ParseIdError)?;
    }
    Ok(out)
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

impl TraceId {
    /// Parses 1–32 hex digits (left-padded with zeros).
    pub fn from_hex(s: &str) -> Result<Self, ParseIdError> {
        parse_hex(s).map(Self)
    }
    /// From bytes of any length: exactly 16 bytes, else `None`.
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        b.try_into().ok().map(Self)
    }
    /// Whether all bytes are zero (invalid per W3C/OTLP).
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl SpanId {
    /// Parses 1–16 hex digits (left-padded with zeros).
    pub fn from_hex(s: &str) -> Result<Self, ParseIdError> {
        parse_hex(s).map(Self)
    }
    /// From bytes of any length: exactly 8 bytes, else `None`.
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        b.try_into().ok().map(Self)
    }
    /// Whether all bytes are zero (invalid per W3C/OTLP).
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 8]
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

/// An attribute value (OTLP AnyValue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AttrValue {
    /// UTF-8 string.
    Str(String),
    /// Boolean.
    Bool(bool),
    /// 64-bit integer.
    Int(i64),
    /// 64-bit float.
    Double(f64),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// Array of values.
    Array(Vec<AttrValue>),
    /// Nested key/values.
    Map(Vec<KeyValue>),
    /// No value (OTLP allows an empty AnyValue).
    Empty,
}

impl AttrValue {
    /// The value as text (Jaeger tags and search compare on this form).
    pub fn to_text(&self) -> String {
        match self {
            Self::Str(s) => s.clone(),
            Self::Bool(b) => b.to_string(),
            Self::Int(i) => i.to_string(),
            Self::Double(d) => d.to_string(),
            Self::Bytes(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
            Self::Array(_) | Self::Map(_) => format!("{self:?}"),
            Self::Empty => String::new(),
        }
    }
}

/// One attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyValue {
    /// Attribute name, e.g. `http.request.method`.
    pub key: String,
    /// Its value.
    pub value: AttrValue,
}

impl KeyValue {
    /// A string attribute.
    pub fn str(key: &str, value: &str) -> Self {
        Self {
            key: key.to_string(),
            value: AttrValue::Str(value.to_string()),
        }
    }
}

/// Finds an attribute by key.
pub fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AttrValue> {
    attrs.iter().find(|kv| kv.key == key).map(|kv| &kv.value)
}

/// What a span represents (OTLP SpanKind).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
pub enum SpanKind {
    /// Not set.
    #[default]
    Unspecified,
    /// Internal operation.
    Internal,
    /// Handles a remote request.
    Server,
    /// Makes a remote request.
    Client,
    /// Sends a message.
    Producer,
    /// Receives a message.
    Consumer,
}

impl SpanKind {
    /// OTLP's number of the kind (`SPAN_KIND_SERVER` = 2, …).
    pub fn otlp_number(self) -> u8 {
        match self {
            Self::Unspecified => 0,
            Self::Internal => 1,
            Self::Server => 2,
            Self::Client => 3,
            Self::Producer => 4,
            Self::Consumer => 5,
        }
    }

    /// The kind of an OTLP number; unknown numbers are `Unspecified`.
    pub fn from_otlp_number(number: u8) -> Self {
        match number {
            1 => Self::Internal,
            2 => Self::Server,
            3 => Self::Client,
            4 => Self::Producer,
            5 => Self::Consumer,
            _ => Self::Unspecified,
        }
    }

    /// Lower-case name as Jaeger shows it (`server`, `client`, …; empty when unspecified).
    pub fn as_jaeger(&self) -> &'static str {
        match self {
            Self::Unspecified => "",
            Self::Internal => "internal",
            Self::Server => "server",
            Self::Client => "client",
            Self::Producer => "producer",
            Self::Consumer => "consumer",
        }
    }
}

/// Span status code (OTLP StatusCode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum StatusCode {
    /// Not set.
    #[default]
    Unset,
    /// Explicitly OK.
    Ok,
    /// Failed.
    Error,
}

/// Span status.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Status {
    /// Code.
    pub code: StatusCode,
    /// Developer-facing message (for errors).
    pub message: String,
}

/// A timestamped event inside a span (a Jaeger "log").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanEvent {
    /// When, Unix ns.
    pub time_unix_nano: u64,
    /// Event name, e.g. `exception`.
    pub name: String,
    /// Attributes.
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped by the sender or by our limits.
    pub dropped_attributes_count: u32,
}

/// A link to another span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanLink {
    /// Linked trace.
    pub trace_id: TraceId,
    /// Linked span.
    pub span_id: SpanId,
    /// W3C tracestate.
    pub trace_state: String,
    /// Attributes.
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped.
    pub dropped_attributes_count: u32,
    /// OTLP span flags of the linked context: bits 0–7 are the W3C trace
    /// flags (bit 0 = sampled), bit 8 says whether bit 9 is known, bit 9 =
    /// the linked context is remote (see [`link_flags`]). 0 when the sender
    /// did not set them (OTLP before 1.1, Zipkin).
    pub flags: u32,
}

/// Bits of [`SpanLink::flags`] and [`Span::flags`] (OTLP `SpanFlags`).
pub mod link_flags {
    /// W3C trace flags (bits 0–7).
    pub const TRACE_FLAGS_MASK: u32 = 0xff;
    /// W3C `sampled` trace flag.
    pub const SAMPLED: u32 = 0x01;
    /// Set when [`CONTEXT_IS_REMOTE`] is meaningful.
    pub const CONTEXT_HAS_IS_REMOTE: u32 = 0x100;
    /// The linked (or parent) context came from another process.
    pub const CONTEXT_IS_REMOTE: u32 = 0x200;
}

/// The entity that produced spans: its `service.name` and other attributes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Resource {
    /// `service.name` (`unknown_service` when missing, as the SDKs do).
    pub service_name: String,
    /// All resource attributes (including `service.name`).
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped.
    pub dropped_attributes_count: u32,
}

/// The instrumentation library that produced spans.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Scope {
    /// Library name, e.g. `opentelemetry.instrumentation.flask`.
    pub name: String,
    /// Library version.
    pub version: String,
    /// Scope attributes (OTLP `InstrumentationScope.attributes`).
    pub attributes: Vec<KeyValue>,
    /// Scope attributes dropped by the sender.
    pub dropped_attributes_count: u32,
}

/// One span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// Trace id.
    pub trace_id: TraceId,
    /// Span id.
    pub span_id: SpanId,
    /// Parent span id; `None` for a root span.
    pub parent_span_id: Option<SpanId>,
    /// W3C tracestate.
    pub trace_state: String,
    /// W3C trace flags (bit 0 = sampled) and OTLP span flags.
    pub flags: u32,
    /// Operation name.
    pub name: String,
    /// Kind.
    pub kind: SpanKind,
    /// Start, Unix ns.
    pub start_unix_nano: u64,
    /// End, Unix ns (≥ start for valid spans).
    pub end_unix_nano: u64,
    /// Attributes.
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped by the sender or by our limits.
    pub dropped_attributes_count: u32,
    /// Events.
    pub events: Vec<SpanEvent>,
    /// Events dropped.
    pub dropped_events_count: u32,
    /// Links.
    pub links: Vec<SpanLink>,
    /// Links dropped.
    pub dropped_links_count: u32,
    /// Status.
    pub status: Status,
    /// The producing service (shared by all spans of a batch).
    pub resource: Arc<Resource>,
    /// The instrumentation scope (shared).
    pub scope: Arc<Scope>,
}

impl Span {
    /// Duration in nanoseconds (0 when end < start).
    pub fn duration_nanos(&self) -> u64 {
        self.end_unix_nano.saturating_sub(self.start_unix_nano)
    }

    /// The service that produced this span.
    pub fn service(&self) -> &str {
        &self.resource.service_name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_otlp_numbers() {
        for n in 0..6 {
            assert_eq!(SpanKind::from_otlp_number(n).otlp_number(), n);
        }
        assert_eq!(SpanKind::from_otlp_number(9), SpanKind::Unspecified);
    }

    #[test]
    fn ids_round_trip_and_pad() {
        let t = TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap();
        assert_eq!(t.to_string(), "0af7651916cd43dd8448eb211c80319c");
        let short = TraceId::from_hex("abc").unwrap();
        assert_eq!(short.to_string(), format!("{:0>32}", "abc"));
        assert!(TraceId::from_hex("xyz").is_err());
        assert!(TraceId::from_hex(&"a".repeat(33)).is_err());
        assert_eq!(
            SpanId::from_hex("00f067aa0ba902b7").unwrap().to_string(),
            "00f067aa0ba902b7"
        );
        assert!(SpanId::from_slice(&[1, 2, 3]).is_none());
        assert!(TraceId::default().is_zero());
    }
}
