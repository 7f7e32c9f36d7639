//! `/api/v1/series`, `/api/v1/labels` and `/api/v1/label/{name}/values`:
//! the series store's metadata queries, with `match[]`, `start`, `end` and
//! `limit`, checked in Prometheus's order and answered in its shapes
//! (a list of label objects; sorted string lists).

use super::error::PromApiError;
use super::json::{push_labels, string_array, success};
use super::params::{limit_param, time_param, Form};
use super::selector::parse_match_params;
use super::{fetch_limit, read_series, truncate};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use store::series::SeriesQuery;

/// `GET|POST /api/v1/series?match[]=…`: label sets of matching series.
pub async fn series(State(state): State<AppState>, form: Form) -> Result<Response, PromApiError> {
    let matches = form.values("match[]");
    if matches.is_empty() {
        return Err(PromApiError::bad_data("no match[] parameter provided"));
    }
    let limit = limit_param(&form, "limit")?;
    let start_ms = time_param(&form, "start", i64::MIN)?;
    let end_ms = time_param(&form, "end", i64::MAX)?;
    let matcher_sets =
        parse_match_params(&matches).map_err(|e| PromApiError::invalid_param("match[]", e))?;
    let query = SeriesQuery {
        matcher_sets,
        start_ms,
        end_ms,
        limit: fetch_limit(limit),
    };
    let mut found = read_series(&state, move |s| s.series(&query)).await?;
    let warnings = truncate(&mut found, limit);
    let mut data = String::with_capacity(found.len() * 64 + 2);
    data.push('[');
    for (i, labels) in found.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        push_labels(&mut data, labels);
    }
    data.push(']');
    Ok(success(&data, &warnings))
}

/// `GET|POST /api/v1/labels`: label names, of the series `match[]` selects if given.
pub async fn labels(State(state): State<AppState>, form: Form) -> Result<Response, PromApiError> {
    let (query, limit) = metadata_query(&form)?;
    let mut names = read_series(&state, move |s| s.label_names(&query)).await?;
    let warnings = truncate(&mut names, limit);
    Ok(success(&string_array(&names), &warnings))
}

/// `GET /api/v1/label/{name}/values`: values of one label.
pub async fn label_values(
    State(state): State<AppState>,
    Path(name): Path<String>,
    form: Form,
) -> Result<Response, PromApiError> {
    if !is_label_name(&name) {
        return Err(PromApiError::bad_data(format!(
            "invalid label name: {name:?}"
        )));
    }
    let (query, limit) = metadata_query(&form)?;
    let mut values = read_series(&state, move |s| s.label_values(&name, &query)).await?;
    let warnings = truncate(&mut values, limit);
    Ok(success(&string_array(&values), &warnings))
}

/// `start`, `end`, `limit` and optional `match[]` of the labels endpoints.
/// Prometheus reports their `match[]` errors without the parameter prefix.
fn metadata_query(form: &Form) -> Result<(SeriesQuery, usize), PromApiError> {
    let start_ms = time_param(form, "start", i64::MIN)?;
    let end_ms = time_param(form, "end", i64::MAX)?;
    let limit = limit_param(form, "limit")?;
    let matcher_sets =
        parse_match_params(&form.values("match[]")).map_err(PromApiError::bad_data)?;
    let query = SeriesQuery {
        matcher_sets,
        start_ms,
        end_ms,
        limit: fetch_limit(limit),
    };
    Ok((query, limit))
}

/// Prometheus's classic label-name syntax: `[a-zA-Z_][a-zA-Z0-9_]*`.
fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_follow_prometheus_syntax() {
        for good in ["__name__", "job", "a1", "_x"] {
            assert!(is_label_name(good), "{good}");
        }
        for bad in ["", "1bad", "a-b", "é"] {
            assert!(!is_label_name(bad), "{bad}");
        }
    }
}
