//! Shared test fixtures: an in-memory `SpanStore`, servers on 127.0.0.1:0, and
//! one OTLP request that uses every field, with the spans it must become.
#![allow(dead_code, clippy::unwrap_used)]

use ingest::Limits;
use model::{
    AttrValue, KeyValue, Resource, Scope, Span, SpanEvent, SpanId, SpanKind, SpanLink, Status,
    StatusCode, TraceId,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, ArrayValue, InstrumentationScope, KeyValue as OtlpKeyValue,
    KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource as OtlpResource;
use opentelemetry_proto::tonic::trace::v1::{
    span::Event, span::Link, ResourceSpans, ScopeSpans, Span as OtlpSpan, Status as OtlpStatus,
};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use store::{DependencyLink, Operation, SpanStore, StoreError, TraceQuery, WriteAck};

/// A store that keeps spans in a Vec; `overloaded` makes every write refuse;
/// `discard` acknowledges without keeping anything (for throughput checks).
#[derive(Default)]
pub struct MemoryStore {
    pub spans: Mutex<Vec<Span>>,
    pub overloaded: AtomicBool,
    pub discard: bool,
}

impl MemoryStore {
    /// A store that acknowledges every write and keeps nothing.
    pub fn discarding() -> Self {
        Self {
            discard: true,
            ..Self::default()
        }
    }
    pub fn spans(&self) -> Vec<Span> {
        self.spans.lock().unwrap().clone()
    }
    pub fn set_overloaded(&self, on: bool) {
        self.overloaded.store(on, Ordering::SeqCst);
    }
}

impl SpanStore for MemoryStore {
    fn write(&self, spans: Vec<Span>) -> Result<WriteAck, StoreError> {
        if self.overloaded.load(Ordering::SeqCst) {
            return Err(StoreError::Overloaded {
                used_bytes: 600,
                budget_bytes: 512,
                retry_after_ms: 1500,
            });
        }
        if !self.discard {
            self.spans.lock().unwrap().extend(spans);
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        tx.send(Ok(())).unwrap();
        Ok(rx)
    }
    fn services(&self) -> Result<Vec<String>, StoreError> {
        Ok(Vec::new())
    }
    fn operations(&self, _: &str, _: Option<SpanKind>) -> Result<Vec<Operation>, StoreError> {
        Ok(Vec::new())
    }
    fn find_traces(&self, _: &TraceQuery) -> Result<Vec<Vec<Span>>, StoreError> {
        Ok(Vec::new())
    }
    fn trace(&self, _: TraceId) -> Result<Option<Vec<Span>>, StoreError> {
        Ok(None)
    }
    fn dependencies(&self, _: u64, _: u64) -> Result<Vec<DependencyLink>, StoreError> {
        Ok(Vec::new())
    }
}

/// Starts the HTTP receivers on 127.0.0.1:0.
pub async fn start_http(store: Arc<MemoryStore>, limits: Limits) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(ingest::serve_http(
        listener,
        store,
        Arc::new(store::series::MemorySeriesStore::new()),
        limits,
        None,
        std::future::pending(),
    ));
    addr
}

/// Starts the gRPC receiver on 127.0.0.1:0.
pub async fn start_grpc(store: Arc<MemoryStore>, limits: Limits) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(ingest::serve_grpc(
        listener,
        store,
        Arc::new(store::series::MemorySeriesStore::new()),
        limits,
        None,
        std::future::pending(),
    ));
    addr
}

pub const TRACE: &str = "5b8efff798038103d269b633813fc60c";
pub const LINKED_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
pub const T0: u64 = 1_544_712_660_000_000_000;

/// A tonic codec that sends pre-encoded request bytes as the message, so
/// clients can send malformed or pre-built bodies.
pub struct RawCodec;
pub struct RawEncoder;
pub struct ResponseDecoder;

impl tonic::codec::Codec for RawCodec {
    type Encode = bytes::Bytes;
    type Decode = ExportTraceServiceResponse;
    type Encoder = RawEncoder;
    type Decoder = ResponseDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> ResponseDecoder {
        ResponseDecoder
    }
}

impl tonic::codec::Encoder for RawEncoder {
    type Item = bytes::Bytes;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: bytes::Bytes,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        bytes::BufMut::put(dst, item);
        Ok(())
    }
}

impl tonic::codec::Decoder for ResponseDecoder {
    type Item = ExportTraceServiceResponse;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Self::Item>, tonic::Status> {
        use prost::Message;
        ExportTraceServiceResponse::decode(src)
            .map(Some)
            .map_err(|e| tonic::Status::internal(e.to_string()))
    }
}

pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// An OTLP attribute.
pub fn kv(key: &str, value: Value) -> OtlpKeyValue {
    OtlpKeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn s(text: &str) -> Value {
    Value::StringValue(text.into())
}

fn minimal(span_hex: &str, name: &str, kind: i32) -> OtlpSpan {
    OtlpSpan {
        trace_id: hex(TRACE),
        span_id: hex(span_hex),
        parent_span_id: hex("eee19b7ec3c1b174"),
        name: name.into(),
        kind,
        start_time_unix_nano: T0 + 1_000,
        end_time_unix_nano: T0 + 2_000,
        ..Default::default()
    }
}

/// The realistic request of the ingest benchmark (`examples/grpc_load.rs`)
/// and of the decode-expansion measurement (`examples/decode_expansion.rs`):
/// 16 traces of 32 spans from one HTTP service, 10 attributes per span as
/// OpenTelemetry HTTP instrumentation sets them. `index` makes the ids unique
/// per request; spans start at `now` (Unix nanoseconds).
pub fn sdk_like_request(index: u64, now: u64) -> ExportTraceServiceRequest {
    const SPANS: u64 = 512;
    let mut spans = Vec::with_capacity(SPANS as usize);
    for i in 0..SPANS {
        let trace = index * 16 + i / 32 + 1;
        let mut trace_id = [0u8; 16];
        trace_id[..8].copy_from_slice(&trace.to_be_bytes());
        trace_id[8..].copy_from_slice(&(trace ^ 0x9e37_79b9_7f4a_7c15).to_be_bytes());
        let span_id = (index << 20 | i) + 1;
        let parent = if i % 32 == 0 {
            Vec::new()
        } else {
            ((index << 20 | (i - i % 32)) + 1).to_be_bytes().to_vec()
        };
        let start = now + i * 1_000;
        spans.push(OtlpSpan {
            trace_id: trace_id.to_vec(),
            span_id: span_id.to_be_bytes().to_vec(),
            parent_span_id: parent,
            name: format!("GET /api/v1/items/{}", i % 20),
            kind: 2,
            start_time_unix_nano: start,
            end_time_unix_nano: start + 250_000 + i * 100,
            attributes: vec![
                kv("http.request.method", s("GET")),
                kv("http.route", s("/api/v1/items/{id}")),
                kv("http.response.status_code", Value::IntValue(200)),
                kv("url.path", Value::StringValue(format!("/api/v1/items/{i}"))),
                kv("server.address", s("items.internal")),
                kv("server.port", Value::IntValue(8080)),
                kv("user_agent.original", s("load/1.0")),
                kv("network.protocol.version", s("1.1")),
                kv("items.cache_hit", Value::BoolValue(i % 3 == 0)),
                kv("items.score", Value::DoubleValue(i as f64 / 7.0)),
            ],
            ..Default::default()
        });
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(OtlpResource {
                attributes: vec![kv("service.name", s("items"))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            schema_url: String::new(),
        }],
    }
}

/// An export request using every OTLP trace field (the same data as
/// `tests/data/otlp_all_fields.json`).
pub fn full_request() -> ExportTraceServiceRequest {
    let root = OtlpSpan {
        trace_id: hex(TRACE),
        span_id: hex("eee19b7ec3c1b174"),
        trace_state: "k=v".into(),
        parent_span_id: Vec::new(),
        flags: 769,
        name: "GET /checkout".into(),
        kind: 2,
        start_time_unix_nano: T0,
        end_time_unix_nano: T0 + 1_000_000_000,
        attributes: vec![
            kv("http.request.method", s("GET")),
            kv("b", Value::BoolValue(true)),
            kv("i", Value::IntValue(-42)),
            kv("big", Value::IntValue(9_007_199_254_740_993)),
            kv("d", Value::DoubleValue(3.5)),
            kv("raw", Value::BytesValue(vec![0xde, 0xad, 0xbe, 0xef])),
            kv(
                "arr",
                Value::ArrayValue(ArrayValue {
                    values: vec![
                        AnyValue {
                            value: Some(s("x")),
                        },
                        AnyValue {
                            value: Some(Value::IntValue(1)),
                        },
                        AnyValue {
                            value: Some(Value::BoolValue(true)),
                        },
                    ],
                }),
            ),
            kv(
                "map",
                Value::KvlistValue(KeyValueList {
                    values: vec![kv("inner", s("v"))],
                }),
            ),
            OtlpKeyValue {
                key: "none".into(),
                value: Some(AnyValue { value: None }),
                ..Default::default()
            },
        ],
        dropped_attributes_count: 2,
        events: vec![Event {
            time_unix_nano: T0 + 500_000_000,
            name: "exception".into(),
            attributes: vec![kv("exception.message", s("boom"))],
            dropped_attributes_count: 1,
        }],
        dropped_events_count: 3,
        links: vec![Link {
            trace_id: hex(LINKED_TRACE),
            span_id: hex("b7ad6b7169203331"),
            trace_state: "x=y".into(),
            attributes: vec![kv("link.kind", s("follows"))],
            dropped_attributes_count: 0,
            // sampled + "has is-remote" + "is remote" (OTLP 1.1 SpanFlags).
            flags: 0x301,
        }],
        dropped_links_count: 4,
        status: Some(OtlpStatus {
            message: "payment failed".into(),
            code: 2,
        }),
    };
    let mut client = minimal("eee19b7ec3c1b175", "charge", 3);
    client.status = Some(OtlpStatus {
        message: String::new(),
        code: 1,
    });
    ExportTraceServiceRequest {
        resource_spans: vec![
            ResourceSpans {
                resource: Some(OtlpResource {
                    attributes: vec![kv("service.name", s("checkout")), kv("host.name", s("h1"))],
                    dropped_attributes_count: 0,
                    entity_refs: Vec::new(),
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "io.opentelemetry.test".into(),
                        version: "1.2.3".into(),
                        attributes: vec![kv("scope.kind", s("test"))],
                        dropped_attributes_count: 2,
                    }),
                    spans: vec![
                        root,
                        client,
                        minimal("eee19b7ec3c1b176", "internal", 1),
                        minimal("eee19b7ec3c1b177", "produce", 4),
                        minimal("eee19b7ec3c1b178", "consume", 5),
                        minimal("eee19b7ec3c1b179", "unspecified", 0),
                    ],
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            },
            ResourceSpans {
                resource: None,
                scope_spans: vec![ScopeSpans {
                    scope: None,
                    spans: vec![minimal("eee19b7ec3c1b17a", "anonymous", 1)],
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            },
        ],
    }
}

fn model_minimal(
    resource: &Arc<Resource>,
    scope: &Arc<Scope>,
    span_hex: &str,
    name: &str,
    kind: SpanKind,
) -> Span {
    Span {
        trace_id: TraceId::from_hex(TRACE).unwrap(),
        span_id: SpanId::from_hex(span_hex).unwrap(),
        parent_span_id: Some(SpanId::from_hex("eee19b7ec3c1b174").unwrap()),
        trace_state: String::new(),
        flags: 0,
        name: name.into(),
        kind,
        start_unix_nano: T0 + 1_000,
        end_unix_nano: T0 + 2_000,
        attributes: Vec::new(),
        dropped_attributes_count: 0,
        events: Vec::new(),
        dropped_events_count: 0,
        links: Vec::new(),
        dropped_links_count: 0,
        status: Status::default(),
        resource: Arc::clone(resource),
        scope: Arc::clone(scope),
    }
}

fn attr(key: &str, value: AttrValue) -> KeyValue {
    KeyValue {
        key: key.into(),
        value,
    }
}

/// What [`full_request`] must become.
pub fn expected_spans() -> Vec<Span> {
    let checkout = Arc::new(Resource {
        service_name: "checkout".into(),
        attributes: vec![
            KeyValue::str("service.name", "checkout"),
            KeyValue::str("host.name", "h1"),
        ],
        dropped_attributes_count: 0,
    });
    let scope = Arc::new(Scope {
        name: "io.opentelemetry.test".into(),
        version: "1.2.3".into(),
        attributes: vec![KeyValue::str("scope.kind", "test")],
        dropped_attributes_count: 2,
    });
    let unknown = Arc::new(Resource {
        service_name: "unknown_service".into(),
        attributes: Vec::new(),
        dropped_attributes_count: 0,
    });
    let no_scope = Arc::new(Scope::default());
    let root = Span {
        trace_id: TraceId::from_hex(TRACE).unwrap(),
        span_id: SpanId::from_hex("eee19b7ec3c1b174").unwrap(),
        parent_span_id: None,
        trace_state: "k=v".into(),
        flags: 769,
        name: "GET /checkout".into(),
        kind: SpanKind::Server,
        start_unix_nano: T0,
        end_unix_nano: T0 + 1_000_000_000,
        attributes: vec![
            KeyValue::str("http.request.method", "GET"),
            attr("b", AttrValue::Bool(true)),
            attr("i", AttrValue::Int(-42)),
            attr("big", AttrValue::Int(9_007_199_254_740_993)),
            attr("d", AttrValue::Double(3.5)),
            attr("raw", AttrValue::Bytes(vec![0xde, 0xad, 0xbe, 0xef])),
            attr(
                "arr",
                AttrValue::Array(vec![
                    AttrValue::Str("x".into()),
                    AttrValue::Int(1),
                    AttrValue::Bool(true),
                ]),
            ),
            attr("map", AttrValue::Map(vec![KeyValue::str("inner", "v")])),
            attr("none", AttrValue::Empty),
        ],
        dropped_attributes_count: 2,
        events: vec![SpanEvent {
            time_unix_nano: T0 + 500_000_000,
            name: "exception".into(),
            attributes: vec![KeyValue::str("exception.message", "boom")],
            dropped_attributes_count: 1,
        }],
        dropped_events_count: 3,
        links: vec![SpanLink {
            trace_id: TraceId::from_hex(LINKED_TRACE).unwrap(),
            span_id: SpanId::from_hex("b7ad6b7169203331").unwrap(),
            trace_state: "x=y".into(),
            attributes: vec![KeyValue::str("link.kind", "follows")],
            dropped_attributes_count: 0,
            flags: 0x301,
        }],
        dropped_links_count: 4,
        status: Status {
            code: StatusCode::Error,
            message: "payment failed".into(),
        },
        resource: Arc::clone(&checkout),
        scope: Arc::clone(&scope),
    };
    let mut client = model_minimal(
        &checkout,
        &scope,
        "eee19b7ec3c1b175",
        "charge",
        SpanKind::Client,
    );
    client.status.code = StatusCode::Ok;
    vec![
        root,
        client,
        model_minimal(
            &checkout,
            &scope,
            "eee19b7ec3c1b176",
            "internal",
            SpanKind::Internal,
        ),
        model_minimal(
            &checkout,
            &scope,
            "eee19b7ec3c1b177",
            "produce",
            SpanKind::Producer,
        ),
        model_minimal(
            &checkout,
            &scope,
            "eee19b7ec3c1b178",
            "consume",
            SpanKind::Consumer,
        ),
        model_minimal(
            &checkout,
            &scope,
            "eee19b7ec3c1b179",
            "unspecified",
            SpanKind::Unspecified,
        ),
        model_minimal(
            &unknown,
            &no_scope,
            "eee19b7ec3c1b17a",
            "anonymous",
            SpanKind::Internal,
        ),
    ]
}

/// Asserts span by span, so a failure names the span that differs.
pub fn assert_spans_eq(actual: &[Span], expected: &[Span]) {
    assert_eq!(actual.len(), expected.len(), "span count");
    for (a, e) in actual.iter().zip(expected) {
        assert_eq!(a, e, "span {}", e.name);
    }
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}
