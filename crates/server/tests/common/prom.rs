//! Test support for the Prometheus API: a small set of series (the same
//! ones `prom_vs_prometheus.rs` backfills into the real Prometheus) and
//! request helpers that return status, content type, text and JSON.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use model::metrics::{Labels, Sample, TimeSeries};
use serde_json::{json, Value};
use store::series::SeriesBatch;
use tower::ServiceExt;

/// Counters and gauges with values whose spelling is tricky (1e21, 1e-7, -0).
pub fn sample_batch() -> SeriesBatch {
    let series = |pairs: &[(&str, &str)], points: &[(i64, f64)]| TimeSeries {
        labels: Labels::from_pairs(pairs.iter().copied()),
        samples: points
            .iter()
            .map(|&(timestamp_ms, value)| Sample {
                timestamp_ms,
                value,
            })
            .collect(),
        exemplars: vec![],
    };
    let t = 1_700_000_000_000;
    SeriesBatch {
        series: vec![
            series(
                &[
                    ("__name__", "http_requests_total"),
                    ("job", "api"),
                    ("code", "200"),
                ],
                &[(t, 1.0), (t + 15_000, 1e21)],
            ),
            series(
                &[
                    ("__name__", "http_requests_total"),
                    ("job", "api"),
                    ("code", "500"),
                ],
                &[(t, 0.1)],
            ),
            series(&[("__name__", "temp"), ("room", "a")], &[(t + 123, 1e-7)]),
            series(&[("__name__", "temp"), ("room", "b")], &[(t, -0.0)]),
            series(
                &[("__name__", "temp"), ("room", "c")],
                &[(t, 123_456_789_012_345_678.0)],
            ),
        ],
        metadata: vec![],
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub text: String,
    pub json: Value,
}

pub async fn send(app: &axum::Router, request: Request<Body>) -> Reply {
    let resp = app.clone().oneshot(request).await.expect("router answers");
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20)
        .await
        .expect("body");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        content_type,
        text,
        json,
    }
}

/// GETs `uri`, percent-encoding the characters a URI may not hold
/// (`"`, braces, spaces) so tests can spell selectors plainly.
pub async fn get(app: &axum::Router, uri: &str) -> Reply {
    let uri = uri
        .replace('"', "%22")
        .replace('{', "%7B")
        .replace('}', "%7D")
        .replace(' ', "%20");
    let request = Request::get(uri).body(Body::empty()).expect("request");
    send(app, request).await
}

pub async fn post(app: &axum::Router, uri: &str, form: &str) -> Reply {
    let request = Request::post(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .expect("request");
    send(app, request).await
}

/// Asserts a Prometheus error envelope.
pub fn assert_error(reply: &Reply, status: u16, error_type: &str, message: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!({"status": "error", "errorType": error_type, "error": message}),
        "{}",
        reply.text
    );
}
