//! `/api/v1/metadata` (type, help and unit per metric family) and
//! `/api/v1/query_exemplars` (exemplars of the series a query selects),
//! in Prometheus's shapes:
//!
//! - metadata: `{"name":[{"type":"counter","help":"…","unit":""}]}`;
//! - exemplars: `[{"seriesLabels":{…},"exemplars":[{"labels":{…},
//!   "value":"6","timestamp":1600096945.479}]}]`, value as a sample string
//!   and timestamp as a sample timestamp.

use super::error::PromApiError;
use super::json::{format_sample_value, push_labels, push_sample_timestamp, push_str, success};
use super::params::{time_param, Form};
use super::read_series;
use super::selector::query_selectors;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// `GET /api/v1/metadata?limit=&limit_per_metric=&metric=`.
pub async fn metadata(State(state): State<AppState>, form: Form) -> Result<Response, PromApiError> {
    let limit = number_param(&form, "limit")?;
    // Checked only: the store keeps one entry per family, which any
    // per-metric limit (> 0; 0 and below mean none) leaves as it is.
    number_param(&form, "limit_per_metric")?;
    let metric = form.value("metric").map(str::to_string);
    let all = read_series(&state, |s| s.metadata()).await?;
    let most = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut data = String::from("{");
    let selected = all.iter().filter(|m| {
        metric
            .as_ref()
            .is_none_or(|name| &m.metric_family_name == name)
    });
    for (i, meta) in selected.take(most).enumerate() {
        if i > 0 {
            data.push(',');
        }
        push_str(&mut data, &meta.metric_family_name);
        data.push_str(":[{\"type\":");
        push_str(&mut data, meta.metric_type.as_str());
        data.push_str(",\"help\":");
        push_str(&mut data, &meta.help);
        data.push_str(",\"unit\":");
        push_str(&mut data, &meta.unit);
        data.push_str("}]");
    }
    data.push('}');
    Ok(success(&data, &[]))
}

/// An optional integer; -1 (no limit) when absent; negative also means no limit. Prometheus's message when it is not a number.
fn number_param(form: &Form, name: &str) -> Result<i64, PromApiError> {
    match form.value(name) {
        None => Ok(-1),
        Some(text) => text
            .parse()
            .map_err(|_| PromApiError::bad_data(format!("{name} must be a number"))),
    }
}

/// `GET|POST /api/v1/query_exemplars?query=&start=&end=`.
pub async fn exemplars(
    State(state): State<AppState>,
    form: Form,
) -> Result<Response, PromApiError> {
    let start_ms = time_param(&form, "start", i64::MIN)?;
    let end_ms = time_param(&form, "end", i64::MAX)?;
    if end_ms < start_ms {
        return Err(PromApiError::bad_data(
            "end timestamp must not be before start timestamp",
        ));
    }
    let query = form.value("query").unwrap_or("");
    if query.trim().is_empty() {
        return Err(PromApiError::bad_data(
            "1:1: parse error: no expression found in input",
        ));
    }
    let matcher_sets = query_selectors(query).map_err(PromApiError::bad_data)?;
    if matcher_sets.is_empty() {
        // Prometheus answers a query without selectors with no content.
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let found = read_series(&state, move |s| {
        s.exemplars(&matcher_sets, start_ms, end_ms)
    })
    .await?;
    let mut data = String::from("[");
    for (i, series) in found.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        data.push_str("{\"seriesLabels\":");
        push_labels(&mut data, &series.labels);
        data.push_str(",\"exemplars\":[");
        for (j, exemplar) in series.exemplars.iter().enumerate() {
            if j > 0 {
                data.push(',');
            }
            data.push_str("{\"labels\":");
            push_labels(&mut data, &exemplar.labels);
            data.push_str(",\"value\":\"");
            data.push_str(&format_sample_value(exemplar.value));
            data.push_str("\",\"timestamp\":");
            push_sample_timestamp(&mut data, exemplar.timestamp_ms);
            data.push('}');
        }
        data.push_str("]}");
    }
    data.push(']');
    Ok(success(&data, &[]))
}
