//! Fuzzes the metric receivers' decoding: a remote_write body (snappy block
//! with its size limit, then protobuf `prometheus.WriteRequest`) through
//! validation, and an OTLP metrics request (protobuf and JSON) through the
//! translation to Prometheus series, delta accumulation included.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let limits = ingest::Limits::default();
    if let Ok(request) = ingest::remote_write::decode::decode_body(data, 1 << 20) {
        let _ = ingest::remote_write::validate::validate(request, &limits);
    }
    // The decompressed protobuf alone, so the fuzzer reaches validation
    // without having to learn snappy.
    if let Ok(request) = ingest::remote_write::decode::decode_request(data) {
        let _ = ingest::remote_write::validate::validate(request, &limits);
    }
    let deltas = ingest::otlp_metrics::DeltaState::new(1000);
    if let Ok(request) = ExportMetricsServiceRequest::decode(data) {
        let translated = ingest::otlp_metrics::translate::translate(&request, &limits, &deltas);
        deltas.commit(translated.deltas);
        let _ = ingest::otlp_metrics::translate::translate(&request, &limits, &deltas);
    }
    if let Ok(request) = ingest::otlp_metrics::json::decode_request(data) {
        let _ = ingest::otlp_metrics::translate::translate(&request, &limits, &deltas);
    }
});
