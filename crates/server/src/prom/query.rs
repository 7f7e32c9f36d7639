//! `/api/v1/query` and `/api/v1/query_range`: parameters checked in
//! Prometheus's order and with its messages, then the query evaluated by the
//! PromQL engine on the blocking pool, bounded by the smaller of the
//! `timeout` parameter and the server's `--query-timeout`.
//!
//! Optional parameters of newer Prometheus versions are honoured too:
//! `lookback_delta` (per-query lookback) and `limit` (most series returned,
//! with a `results truncated due to limit` warning).

use super::error::{ErrorType, PromApiError};
use super::json::query_success;
use super::metrics::QueryKind;
use super::params::{limit_param, now_ms, parse_duration_ns, parse_time, time_param, Form};
use super::truncate;
use crate::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use promql::{Engine, EngineOptions, PromqlError, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::SeriesStore;

/// Most points a range query may return per series (Prometheus's limit).
pub const MAX_POINTS_PER_SERIES: i128 = 11_000;

/// Queries evaluated at once; Prometheus's `--query.max-concurrency` default.
pub const MAX_CONCURRENT_QUERIES: usize = 20;

/// Prometheus's text for an empty `query`.
const NO_EXPRESSION: &str = "1:1: parse error: no expression found in input";

/// `GET|POST /api/v1/query`.
pub async fn instant(State(state): State<AppState>, form: Form) -> Response {
    let started = Instant::now();
    let result = instant_query(&state, &form).await;
    let elapsed = started.elapsed();
    state
        .query_metrics
        .observe(QueryKind::Instant, elapsed, result.is_ok());
    result.into_response()
}

/// `GET|POST /api/v1/query_range`.
pub async fn range(State(state): State<AppState>, form: Form) -> Response {
    let started = Instant::now();
    let result = range_query(&state, &form).await;
    let elapsed = started.elapsed();
    state
        .query_metrics
        .observe(QueryKind::Range, elapsed, result.is_ok());
    result.into_response()
}

async fn instant_query(state: &AppState, form: &Form) -> Result<Response, PromApiError> {
    let limit = limit_param(form, "limit")?;
    let time_ms = time_param(form, "time", now_ms())?;
    let (engine, timeout) = engine_for(state, form)?;
    let query = form.value("query").unwrap_or("").to_string();
    if query.trim().is_empty() {
        return Err(PromApiError::invalid_param("query", NO_EXPRESSION));
    }
    let result = evaluate(state, timeout, move |series| {
        engine.instant_query(series, &query, time_ms)
    })
    .await?;
    let value = result.map_err(|e| match e {
        PromqlError::Parse(_) => PromApiError::invalid_param("query", e),
        other => other.into(),
    })?;
    respond(value, limit)
}

async fn range_query(state: &AppState, form: &Form) -> Result<Response, PromApiError> {
    let limit = limit_param(form, "limit")?;
    let start_ms = parse_time(form.value("start").unwrap_or(""))
        .map_err(|e| PromApiError::invalid_param("start", e))?;
    let end_ms = parse_time(form.value("end").unwrap_or(""))
        .map_err(|e| PromApiError::invalid_param("end", e))?;
    if end_ms < start_ms {
        return Err(PromApiError::invalid_param(
            "end",
            "end timestamp must not be before start time",
        ));
    }
    let step_ns = parse_duration_ns(form.value("step").unwrap_or(""))
        .map_err(|e| PromApiError::invalid_param("step", e))?;
    if step_ns <= 0 {
        return Err(PromApiError::invalid_param(
            "step",
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    let span_ns = (i128::from(end_ms) - i128::from(start_ms)) * 1_000_000;
    state
        .options
        .limits
        .check_range_ns(0, span_ns)
        .map_err(PromApiError::bad_data)?;
    if span_ns / i128::from(step_ns) > MAX_POINTS_PER_SERIES {
        return Err(PromApiError::bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    let step_ms = (step_ns / 1_000_000).max(1);
    let (engine, timeout) = engine_for(state, form)?;
    let query = form.value("query").unwrap_or("").to_string();
    if query.trim().is_empty() {
        return Err(PromApiError::bad_data(NO_EXPRESSION));
    }
    let result = evaluate(state, timeout, move |series| {
        engine.range_query(series, &query, start_ms, end_ms, step_ms)
    })
    .await?;
    respond(result?, limit)
}

fn respond(mut value: Value, limit: usize) -> Result<Response, PromApiError> {
    let warnings = match &mut value {
        Value::Vector(samples) => truncate(samples, limit),
        Value::Matrix(series) => truncate(series, limit),
        Value::Scalar { .. } | Value::String { .. } => Vec::new(),
    };
    Ok(query_success(&value, &warnings))
}

/// The engine for one request (the server's limits, narrowed by the
/// `timeout` and `lookback_delta` parameters) and its wall-clock bound.
fn engine_for(state: &AppState, form: &Form) -> Result<(Engine, Duration), PromApiError> {
    let mut options: EngineOptions = *state.engine.options();
    // 0 in the server options means "no limit".
    let mut timeout = (!options.timeout.is_zero()).then_some(options.timeout);
    if let Some(text) = form.value("timeout") {
        let ns = parse_duration_ns(text).map_err(|e| PromApiError::invalid_param("timeout", e))?;
        let asked = Duration::from_nanos(u64::try_from(ns).unwrap_or(0));
        timeout = Some(timeout.map_or(asked, |t| t.min(asked)));
    }
    if timeout.is_some_and(|t| t.is_zero()) {
        return Err(PromApiError::new(
            ErrorType::Timeout,
            "query timed out in query queue",
        ));
    }
    if let Some(text) = form.value("lookback_delta") {
        let ns = parse_duration_ns(text)
            .map_err(|e| PromApiError::invalid_param("lookback_delta", e))?;
        if ns < 0 {
            return Err(PromApiError::invalid_param(
                "lookback_delta",
                "lookback delta must be a positive duration",
            ));
        }
        if ns > 0 {
            options.lookback_delta_ms = (ns / 1_000_000).max(1);
        }
    }
    // A year stands for "no limit" where a Duration is needed.
    let timeout = timeout.unwrap_or(Duration::from_secs(365 * 86_400));
    options.timeout = timeout;
    Ok((Engine::new(options), timeout))
}

/// Runs an evaluation on the blocking pool once a query slot is free; past
/// `timeout` (waiting included) the caller gets Prometheus's timeout error.
/// The slot is held until the evaluation ends, even after a timeout answer
/// (the engine stops itself at its own deadline).
async fn evaluate<F>(
    state: &AppState,
    timeout: Duration,
    f: F,
) -> Result<Result<Value, PromqlError>, PromApiError>
where
    F: FnOnce(&dyn SeriesStore) -> Result<Value, PromqlError> + Send + 'static,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let slot = tokio::time::timeout_at(deadline, Arc::clone(&state.query_slots).acquire_owned())
        .await
        .map_err(|_| PromApiError::new(ErrorType::Timeout, "query timed out in query queue"))?
        .map_err(|e| PromApiError::internal(format!("query slots closed: {e}")))?;
    let series = state.series.clone();
    let task = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        f(series.as_ref())
    });
    match tokio::time::timeout_at(deadline, task).await {
        Err(_) => Ok(Err(PromqlError::Timeout("expression evaluation".into()))),
        Ok(Err(e)) => Err(PromApiError::internal(format!("query task failed: {e}"))),
        Ok(Ok(result)) => Ok(result),
    }
}
