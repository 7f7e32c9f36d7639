//! The small endpoints clients probe: build info (a Prometheus-like version,
//! no `features` map, which would make Grafana treat us as Mimir), flags,
//! targets (empty: scrape
//! targets are listed once scraping reports them), and `format_query`.

use super::error::PromApiError;
use super::json::{push_str, string_object, success};
use super::params::Form;
use super::PROMETHEUS_COMPATIBLE_VERSION;
use crate::AppState;
use axum::extract::State;
use axum::response::Response;

/// `GET /api/v1/status/buildinfo`.
pub async fn buildinfo() -> Response {
    let revision = format!("whyslow-{}", env!("CARGO_PKG_VERSION"));
    let data = string_object(&[
        ("version", PROMETHEUS_COMPATIBLE_VERSION),
        ("revision", revision.as_str()),
        ("branch", "whyslow"),
        ("buildUser", "whyslow"),
        ("buildDate", ""),
        ("goVersion", "none (whyslow is written in Rust)"),
    ]);
    success(&data, &[])
}

/// `GET /api/v1/status/flags`: the query flags, spelled as Prometheus's.
pub async fn flags(State(state): State<AppState>) -> Response {
    let options = state.engine.options();
    let timeout_ms = i64::try_from(options.timeout.as_millis()).unwrap_or(i64::MAX);
    let data = string_object(&[
        (
            "query.lookback-delta",
            format_duration_ms(options.lookback_delta_ms),
        ),
        ("query.max-samples", options.max_samples.to_string()),
        ("query.timeout", format_duration_ms(timeout_ms)),
    ]);
    success(&data, &[])
}

/// `GET /api/v1/targets`: no targets listed yet.
pub async fn targets() -> Response {
    success("{\"activeTargets\":[],\"droppedTargets\":[]}", &[])
}

/// `GET|POST /api/v1/format_query?query=`: the query, pretty-printed.
pub async fn format_query(form: Form) -> Result<Response, PromApiError> {
    let query = form.value("query").unwrap_or("");
    let expr =
        promql_parser::parser::parse(query).map_err(|e| PromApiError::invalid_param("query", e))?;
    let mut data = String::new();
    push_str(&mut data, &expr.prettify());
    Ok(success(&data, &[]))
}

/// A duration as Prometheus's `model.Duration` prints it (`5m`, `1h30m`, `0s`).
pub fn format_duration_ms(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = ms.unsigned_abs();
    if ms < 0 {
        out.push('-');
    }
    for (unit, size) in [
        ("y", 365 * 86_400_000u64),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_prometheus() {
        assert_eq!(format_duration_ms(300_000), "5m");
        assert_eq!(format_duration_ms(120_000), "2m");
        assert_eq!(format_duration_ms(5_400_000), "1h30m");
        assert_eq!(format_duration_ms(1_500), "1s500ms");
        assert_eq!(format_duration_ms(0), "0s");
    }
}
