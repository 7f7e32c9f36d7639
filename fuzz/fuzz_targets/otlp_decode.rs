//! Fuzzes `whyslow serve`'s ingest decoding: OTLP/HTTP JSON, OTLP protobuf
//! (as gRPC and HTTP receive it) and Zipkin v2 JSON, each followed by the
//! conversion to model spans with the default limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let limits = ingest::Limits::default();
    if let Ok(request) = ingest::otlp_json::decode_request(data) {
        let _ = ingest::otlp_convert::convert_request(request, &limits);
    }
    if let Ok(request) = ExportTraceServiceRequest::decode(data) {
        let _ = ingest::otlp_convert::convert_request(request, &limits);
    }
    let _ = ingest::zipkin::decode_spans(data, &limits);
});
