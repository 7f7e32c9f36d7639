//! Pyroscope's legacy HTTP query endpoints (PYRO pkg/querier/http.go), which
//! the Pyroscope UI and Grafana's Profiles Drilldown call:
//!
//! - `GET /pyroscope/render?query=<type>{sel}&from=&until=&max-nodes=&groupBy=&aggregation=`:
//!   flamebearer JSON (format `single`) with a timeline and, with `groupBy`,
//!   one timeline per group value;
//! - `GET /pyroscope/render-diff?leftQuery=&leftFrom=&leftUntil=&rightQuery=&…`:
//!   flamebearer JSON of format `double` with `leftTicks` / `rightTicks`;
//! - `GET /pyroscope/label-values?label=&query=&from=&until=`: a JSON array,
//!   the profile type IDs for `label=__name__`.
//!
//! Times (`from`, `until`) are Unix seconds, ms, µs or ns told apart by digit
//! count (10, 13, 16, 19), or `now`, `now-1h` (units s, m, h, d, w); the
//! default range is the last hour. Errors are Connect-style JSON.

use super::connect::ConnectError;
use super::flamegraph::{self, FlameGraph};
use super::query::{self, SeriesQuery};
use super::selector::{self, ProfileType};
use crate::{AppState, ReadLimits};
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use store::profiles::{label_values, TotalSeries};

/// The query string, first value of each key.
pub(super) struct Params(Vec<(String, String)>);

impl Params {
    pub(super) fn new(raw: Option<String>) -> Self {
        Self(
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The first non-empty value of any of `keys`.
    pub(super) fn get(&self, keys: &[&str]) -> Option<&str> {
        keys.iter().find_map(|k| {
            self.0
                .iter()
                .find(|(name, v)| name == k && !v.is_empty())
                .map(|(_, v)| v.as_str())
        })
    }
}

/// Parses a `from` / `until` value to Unix ns.
pub fn parse_time(text: &str, now_ns: i64) -> Result<i64, String> {
    let text = text.trim();
    if text == "now" {
        return Ok(now_ns);
    }
    if let Some(ago) = text.strip_prefix("now-") {
        let split = ago.find(|c: char| !c.is_ascii_digit()).unwrap_or(ago.len());
        let (n, unit) = ago.split_at(split);
        let n: i64 = n.parse().map_err(|_| format!("bad time {text:?}"))?;
        let unit_s = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 604_800,
            _ => return Err(format!("bad time unit in {text:?}")),
        };
        return Ok(now_ns.saturating_sub(n.saturating_mul(unit_s).saturating_mul(1_000_000_000)));
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bad time {text:?}"));
    }
    let n: i64 = text.parse().map_err(|_| format!("bad time {text:?}"))?;
    Ok(match text.len() {
        0..=10 => n.saturating_mul(1_000_000_000),
        11..=13 => n.saturating_mul(1_000_000),
        14..=16 => n.saturating_mul(1_000),
        _ => n,
    })
}

/// Now, Unix ns.
pub(super) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// `[from, until]` from two parameters (default: the last hour; nothing
/// before 1970), as `[start, end)` ns.
pub(super) fn time_range(
    params: &Params,
    from: &str,
    until: &str,
) -> Result<(i64, i64), ConnectError> {
    let now = now_ns();
    let read = |key: &str, default: &str| {
        parse_time(params.get(&[key]).unwrap_or(default), now).map_err(ConnectError::invalid)
    };
    let from = read(from, "now-1h")?.max(0);
    let until = read(until, "now")?;
    query::range_ns(from, until.saturating_add(1))
}

/// A legacy query `type{selector}` over a range: the type and its profile query.
pub(super) fn legacy_query(
    limits: &ReadLimits,
    text: Option<&str>,
    range: (i64, i64),
) -> Result<(ProfileType, store::profiles::ProfileQuery), ConnectError> {
    let text = text.ok_or_else(|| ConnectError::invalid("query is required"))?;
    let (type_id, sel) = selector::split_query(text);
    let profile_type = ProfileType::require(type_id).map_err(ConnectError::invalid)?;
    Ok((
        profile_type,
        query::profile_query(limits, type_id, sel, range, &[], &[])?,
    ))
}

/// `max-nodes` (or `maxNodes`): the flame graph default when absent.
pub(super) fn max_nodes(params: &Params) -> Result<usize, ConnectError> {
    match params.get(&["max-nodes", "maxNodes"]) {
        None => Ok(flamegraph::DEFAULT_MAX_NODES),
        Some(v) => v
            .parse::<i64>()
            .map(|n| flamegraph::max_nodes(Some(n)))
            .map_err(|_| {
                ConnectError::invalid(format!("bad max-nodes {v:?}: expected a whole number"))
            }),
    }
}

/// Flamebearer units and sample rate of a profile type (model `ExportToFlamebearer`).
fn metadata(t: &ProfileType, format: &str) -> Value {
    let (units, rate) = match t.sample_type.as_str() {
        "cpu" => ("samples", 1_000_000_000u64),
        "inuse_objects" | "alloc_objects" | "goroutine" | "samples" => ("objects", 100),
        _ => (t.sample_unit.as_str(), 100),
    };
    json!({"format": format, "spyName": "", "sampleRate": rate, "units": units, "name": ""})
}

/// Timeline step, seconds: at least 10, at most ~1500 points.
fn timeline_step_s(start_ns: i64, end_ns: i64) -> i64 {
    let span_s = (end_ns.saturating_sub(start_ns) / 1_000_000_000).max(0);
    ((span_s + 1499) / 1500).max(10)
}

/// A dense timeline of one series from `start_s` in `step_s` steps.
fn timeline(series: Option<&TotalSeries>, start_s: i64, step_s: i64, points: usize) -> Value {
    let mut samples = vec![0u64; points];
    for &(t_ms, v) in series.map(|s| s.points.as_slice()).unwrap_or_default() {
        let at = (t_ms / 1000 - start_s) / step_s;
        if let Some(slot) = usize::try_from(at).ok().and_then(|i| samples.get_mut(i)) {
            *slot = slot.saturating_add(v.max(0.0).round() as u64);
        }
    }
    json!({"startTime": start_s, "samples": samples, "durationDelta": step_s, "watermarks": {}})
}

/// `GET /pyroscope/render`.
pub async fn render(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    render_inner(&state, Params::new(raw))
        .await
        .map_or_else(IntoResponse::into_response, |v| Json(v).into_response())
}

async fn render_inner(state: &AppState, params: Params) -> Result<Value, ConnectError> {
    let range = time_range(&params, "from", "until")?;
    let (profile_type, q) = legacy_query(&state.options.limits, params.get(&["query"]), range)?;
    if !matches!(params.get(&["format"]), None | Some("json")) {
        return Err(ConnectError::unimplemented("only format=json is served"));
    }
    let average = match params.get(&["aggregation"]) {
        None | Some("sum") => false,
        Some("avg") => true,
        Some(other) => return Err(ConnectError::invalid(format!("bad aggregation {other:?}"))),
    };
    let group_by: Vec<String> = params
        .get(&["groupBy"])
        .map(|g| {
            g.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let step_s = timeline_step_s(range.0, range.1);
    let start_s = range.0 / 1_000_000_000 / step_s * step_s;
    let points = usize::try_from((range.1 / 1_000_000_000 - start_s) / step_s + 1).unwrap_or(1);
    let mut series_query = SeriesQuery {
        query: q.clone(),
        step_ns: step_s * 1_000_000_000,
        group_by: Vec::new(),
        average,
        limit: None,
    };
    series_query.query.start_ns = start_s * 1_000_000_000;
    let grouped = SeriesQuery {
        group_by: group_by.clone(),
        ..series_query.clone()
    };
    let (fg, series) = tokio::join!(
        query::merge(state, q, max_nodes(&params)?),
        query::blocking(state, move |s| {
            let total = query::select_series(s, &series_query)?;
            let groups = if grouped.group_by.is_empty() {
                Vec::new()
            } else {
                query::select_series(s, &grouped)?
            };
            Ok((total, groups))
        }),
    );
    let fg = fg?.unwrap_or_else(|| FlameGraph {
        names: vec![flamegraph::TOTAL_NAME.into()],
        levels: vec![vec![0, 0, 0, 0]],
        ..FlameGraph::default()
    });
    let (total, groups) = series?;
    let mut group_map = Map::new();
    for g in &groups {
        let key: Vec<&str> = group_by.iter().filter_map(|n| g.labels.get(n)).collect();
        group_map.insert(key.join(","), timeline(Some(g), start_s, step_s, points));
    }
    Ok(json!({
        "version": 1,
        "flamebearer": {"names": fg.names, "levels": fg.levels, "numTicks": fg.total, "maxSelf": fg.max_self},
        "metadata": metadata(&profile_type, "single"),
        "timeline": timeline(total.first(), start_s, step_s, points),
        "groups": group_map,
        "heatmap": null,
    }))
}

/// `GET /pyroscope/render-diff`.
pub async fn render_diff(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    render_diff_inner(&state, Params::new(raw))
        .await
        .map_or_else(IntoResponse::into_response, |v| Json(v).into_response())
}

async fn render_diff_inner(state: &AppState, params: Params) -> Result<Value, ConnectError> {
    let (left_type, left) = legacy_query(
        &state.options.limits,
        params.get(&["leftQuery"]),
        time_range(&params, "leftFrom", "leftUntil")?,
    )?;
    let (right_type, right) = legacy_query(
        &state.options.limits,
        params.get(&["rightQuery"]),
        time_range(&params, "rightFrom", "rightUntil")?,
    )?;
    if left_type != right_type {
        return Err(ConnectError::invalid(
            "left and right queries must use the same profile type",
        ));
    }
    let fg = query::diff(state, left, right, max_nodes(&params)?).await?;
    let fg = fg.unwrap_or_else(|| super::diff::FlameGraphDiff {
        names: vec![flamegraph::TOTAL_NAME.into()],
        levels: vec![vec![0; 7]],
        ..Default::default()
    });
    Ok(json!({
        "version": 1,
        "flamebearer": {"names": fg.names, "levels": fg.levels, "numTicks": fg.total, "maxSelf": fg.max_self},
        "metadata": metadata(&left_type, "double"),
        "leftTicks": fg.left_ticks,
        "rightTicks": fg.right_ticks,
        "timeline": null,
        "groups": null,
        "heatmap": null,
    }))
}

/// `GET /pyroscope/label-values`.
pub async fn label_values_handler(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = Params::new(raw);
    let result = async {
        let label = params
            .get(&["label"])
            .ok_or_else(|| ConnectError::invalid("label is required"))?
            .to_string();
        let now = now_ns();
        let time = |key: &str, default: i64| {
            params
                .get(&[key])
                .map_or(Ok(default), |t| parse_time(t, now))
                .map_err(ConnectError::invalid)
        };
        let (start, end) = query::range_ns(
            time("from", 0)?.max(0),
            time("until", now)?.saturating_add(1),
        )?;
        let (type_id, sel) = selector::split_query(params.get(&["query"]).unwrap_or(""));
        let mut matchers = selector::parse_single_selector(sel)
            .map_err(|e| ConnectError::invalid(format!("bad query: {e}")))?;
        if !type_id.is_empty() {
            matchers.push(ProfileType::describe(type_id).matcher());
        }
        query::blocking(&state, move |s| {
            if label == "__name__" {
                Ok(s.profile_types(start, end)?)
            } else {
                Ok(label_values(s, &label, &matchers, start, end)?)
            }
        })
        .await
    }
    .await;
    result.map_or_else(IntoResponse::into_response, |v| Json(v).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_by_digit_count_and_relative() {
        let now = 1_700_000_000_000_000_000;
        assert_eq!(parse_time("1700000000", now), Ok(now));
        assert_eq!(parse_time("1700000000000", now), Ok(now));
        assert_eq!(parse_time("1700000000000000", now), Ok(now));
        assert_eq!(parse_time("1700000000000000000", now), Ok(now));
        assert_eq!(parse_time("now", now), Ok(now));
        assert_eq!(parse_time("now-1h", now), Ok(now - 3_600_000_000_000));
        assert_eq!(parse_time("now-15m", now), Ok(now - 900_000_000_000));
        assert!(parse_time("now-1y", now).is_err());
        assert!(parse_time("yesterday", now).is_err());
        assert_eq!(timeline_step_s(0, 3_600_000_000_000), 10);
        assert_eq!(timeline_step_s(0, 86_400_000_000_000), 58);
    }
}
