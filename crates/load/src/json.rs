//! The machine-readable result (`--json FILE|-`): the summary numbers, status
//! codes, errors by kind, reconnects, the time series, the slowest requests, SLO
//! verdicts and both full HDR histograms (HdrHistogram V2 compressed encoding, base64, the
//! same bytes Java's and Go's HdrHistogram decode). The HTML report embeds it.

use crate::config::Model;
use crate::result::LoadResult;
use crate::series::{bucket_lower_us, LATENCY_BUCKETS};
use base64::Engine;
use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::time::Duration;

/// Version of the document layout; bump when a key changes meaning.
pub const FORMAT_VERSION: u32 = 1;

/// The histogram as base64 of its V2 deflate encoding.
pub fn encode_histogram(histogram: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    // Serializing into a Vec only fails on histograms too large for the format's i32 lengths.
    if V2DeflateSerializer::new()
        .serialize(histogram, &mut bytes)
        .is_err()
    {
        return String::new();
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The open model's planned rate at the middle of each interval (empty for closed).
fn target_series(result: &LoadResult) -> Vec<f64> {
    let Model::Open(schedule) = &result.config.model else {
        return Vec::new();
    };
    let interval = result.recorder.series.interval_ms as f64 / 1000.0;
    (0..result.recorder.series.intervals.len())
        .map(|i| schedule.rate_at(Duration::from_secs_f64((i as f64 + 0.5) * interval)))
        .collect()
}

/// The whole result as one JSON value.
pub fn to_json(result: &LoadResult) -> Value {
    let config = &result.config;
    let recorder = &result.recorder;
    let status_codes: serde_json::Map<String, Value> = recorder
        .status_codes
        .iter()
        .map(|(status, count)| (status.to_string(), json!(count)))
        .collect();
    json!({
        "format_version": FORMAT_VERSION,
        "url": config.target.url,
        "model": result.model_name(),
        "target_rps": result.target_rps(),
        "connections": config.connections,
        "threads": config.threads.min(config.connections),
        "http2": config.http2,
        "streams": config.streams,
        "timeout_ms": config.timeout.as_millis() as u64,
        "elapsed_s": result.elapsed.as_secs_f64(),
        "stopped_early": result.stopped_early,
        "requests": {
            "attempted": result.attempted,
            "responses": recorder.responses(),
            "errors": recorder.errors.total(),
            "not_sent": result.not_sent,
            "retried": recorder.retried,
        },
        "reconnects": recorder.reconnects,
        "rps": result.rps(),
        "error_ratio": result.error_ratio(),
        "body_bytes": recorder.body_bytes,
        "generator_late": {
            "requests": recorder.late_wakeups,
            "max_us": recorder.max_late_wakeup_us,
        },
        "status_codes": status_codes,
        "errors": recorder.errors,
        "latency_us": {
            "corrected": result.corrected(),
            "uncorrected": result.uncorrected(),
        },
        "histograms": {
            "unit": "us",
            "encoding": "HdrHistogram V2 deflate, base64",
            "corrected": encode_histogram(&recorder.corrected),
            "uncorrected": encode_histogram(&recorder.uncorrected),
        },
        "percentile_spectrum": {
            "corrected": LoadResult::spectrum(&recorder.corrected),
            "uncorrected": LoadResult::spectrum(&recorder.uncorrected),
        },
        "latency_bars": {
            "corrected": LoadResult::bars(&recorder.corrected),
            "uncorrected": LoadResult::bars(&recorder.uncorrected),
        },
        "series": {
            "interval_ms": recorder.series.interval_ms,
            "bucket_lower_us": (0..LATENCY_BUCKETS).map(bucket_lower_us).collect::<Vec<_>>(),
            "intervals": recorder.series.intervals,
            "target_rps": target_series(result),
        },
        "slowest": result.slowest,
        "slo": result.verdicts,
        "slo_passed": result.verdicts.iter().all(|v| v.passed),
    })
}
