//! `querier.v1.QuerierService` and `settings.v1.SettingsService` over
//! Connect unary: one handler per method, mapping the [`proto`] messages to
//! store reads ([`query`]) and back.
//!
//! Served: ProfileTypes, LabelNames, LabelValues, Series,
//! SelectMergeStacktraces and SelectMergeSpanProfile (flame graph format
//! only), SelectMergeProfile (pprof, [`pprof`]; no stack trace selector),
//! SelectSeries (SUM / AVERAGE, group_by, limit; no exemplars), Diff,
//! GetProfileStats, settings Get (always empty). SelectHeatmap and
//! AnalyzeQuery answer `unimplemented` (501); unknown methods 404.

use super::connect::{self, Codec, ConnectError};
use super::diff::FlameGraphDiff;
use super::flamegraph::{self, FlameGraph};
use super::pprof;
use super::pprof_proto::{Profile, SelectMergeProfileRequest};
use super::proto::{self, Level};
use super::query::{self, SeriesQuery};
use super::selector::{self, ProfileType};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;
use store::profiles::{label_names, label_values};
use store::series::Matcher;

/// Step when a SelectSeries request gives none (Grafana's minimum), seconds.
pub const DEFAULT_STEP_S: f64 = 15.0;

/// `POST /querier.v1.QuerierService/{method}`.
pub async fn querier(
    State(state): State<AppState>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(codec) = Codec::from_headers(&headers) else {
        return connect::unsupported_media_type();
    };
    let s = &state;
    match method.as_str() {
        "ProfileTypes" => unary(codec, &headers, body, |r| profile_types(s, r)).await,
        "LabelNames" => unary(codec, &headers, body, |r| names(s, r)).await,
        "LabelValues" => unary(codec, &headers, body, |r| values(s, r)).await,
        "Series" => unary(codec, &headers, body, |r| series(s, r)).await,
        "SelectMergeStacktraces" => unary(codec, &headers, body, |r| stacktraces(s, r)).await,
        "SelectMergeSpanProfile" => unary(codec, &headers, body, |r| span_profile(s, r)).await,
        "SelectSeries" => unary(codec, &headers, body, |r| select_series(s, r)).await,
        "Diff" => unary(codec, &headers, body, |r| diff(s, r)).await,
        "GetProfileStats" => unary(codec, &headers, body, |r| stats(s, r)).await,
        "SelectMergeProfile" => unary(codec, &headers, body, |r| merge_profile(s, r)).await,
        "SelectHeatmap" | "AnalyzeQuery" => {
            ConnectError::unimplemented(format!("querier.v1.QuerierService/{method} is not served"))
                .into_response()
        }
        _ => ConnectError::no_such_procedure(&format!("/querier.v1.QuerierService/{method}"))
            .into_response(),
    }
}

/// `POST /settings.v1.SettingsService/{method}`: `Get` answers no settings.
pub async fn settings(Path(method): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(codec) = Codec::from_headers(&headers) else {
        return connect::unsupported_media_type();
    };
    match method.as_str() {
        "Get" => {
            unary(codec, &headers, body, |_: proto::Empty| async {
                Ok(proto::GetSettingsResponse::default())
            })
            .await
        }
        _ => ConnectError::no_such_procedure(&format!("/settings.v1.SettingsService/{method}"))
            .into_response(),
    }
}

/// Decodes, calls, encodes.
async fn unary<Req, Resp, F, Fut>(codec: Codec, headers: &HeaderMap, body: Bytes, f: F) -> Response
where
    Req: prost::Message + Default + DeserializeOwned,
    Resp: prost::Message + Serialize,
    F: FnOnce(Req) -> Fut,
    Fut: Future<Output = Result<Resp, ConnectError>>,
{
    let request = match connect::decode::<Req>(codec, headers, body) {
        Ok(request) => request,
        Err(e) => return e.into_response(),
    };
    match f(request).await {
        Ok(response) => connect::encode(codec, &response),
        Err(e) => e.into_response(),
    }
}

async fn profile_types(
    state: &AppState,
    req: proto::ProfileTypesRequest,
) -> Result<proto::ProfileTypesResponse, ConnectError> {
    let (start, end) = query::range_ms(req.start, req.end)?;
    let ids = query::blocking(state, move |s| Ok(s.profile_types(start, end)?)).await?;
    Ok(proto::ProfileTypesResponse {
        profile_types: ids
            .iter()
            .map(|id| {
                let t = ProfileType::describe(id);
                proto::ProfileType {
                    id: t.id,
                    name: t.name,
                    sample_type: t.sample_type,
                    sample_unit: t.sample_unit,
                    period_type: t.period_type,
                    period_unit: t.period_unit,
                }
            })
            .collect(),
    })
}

fn matcher_sets(matchers: &[String]) -> Result<Vec<Vec<Matcher>>, ConnectError> {
    selector::parse_selectors(matchers)
        .map_err(|e| ConnectError::invalid(format!("bad matchers: {e}")))
}

async fn names(
    state: &AppState,
    req: proto::LabelNamesRequest,
) -> Result<proto::NamesResponse, ConnectError> {
    let (start, end) = query::range_ms(req.start, req.end)?;
    let sets = matcher_sets(&req.matchers)?;
    let names = query::blocking(state, move |s| {
        let mut all = Vec::new();
        for set in &sets {
            all.extend(label_names(s, set, start, end)?);
        }
        Ok(all)
    })
    .await?;
    Ok(proto::NamesResponse {
        names: sorted(names),
    })
}

async fn values(
    state: &AppState,
    req: proto::LabelValuesRequest,
) -> Result<proto::NamesResponse, ConnectError> {
    if req.name.is_empty() {
        return Err(ConnectError::invalid("name is required"));
    }
    let (start, end) = query::range_ms(req.start, req.end)?;
    let sets = matcher_sets(&req.matchers)?;
    let values = query::blocking(state, move |s| {
        let mut all = Vec::new();
        for set in &sets {
            all.extend(label_values(s, &req.name, set, start, end)?);
        }
        Ok(all)
    })
    .await?;
    Ok(proto::NamesResponse {
        names: sorted(values),
    })
}

fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort_unstable();
    items.dedup();
    items
}

async fn series(
    state: &AppState,
    req: proto::SeriesRequest,
) -> Result<proto::SeriesResponse, ConnectError> {
    let (start, end) = query::range_ms(req.start, req.end)?;
    let sets = matcher_sets(&req.matchers)?;
    let mut found = query::blocking(state, move |s| {
        let mut all = Vec::new();
        for set in &sets {
            all.extend(s.series(set, start, end)?);
        }
        Ok(all)
    })
    .await?;
    let keep = |name: &str| req.label_names.is_empty() || req.label_names.iter().any(|n| n == name);
    let mut sets: Vec<Vec<proto::LabelPair>> = found
        .drain(..)
        .map(|labels| pairs(labels.iter().filter(|(n, _)| keep(n))))
        .collect();
    sets.sort_unstable();
    sets.dedup();
    Ok(proto::SeriesResponse {
        labels_set: sets
            .into_iter()
            .map(|labels| proto::Labels { labels })
            .collect(),
    })
}

fn pairs<'a>(labels: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<proto::LabelPair> {
    labels
        .map(|(name, value)| proto::LabelPair {
            name: name.into(),
            value: value.into(),
        })
        .collect()
}

fn check_format(format: i32) -> Result<(), ConnectError> {
    match format {
        0 | 1 => Ok(()),
        _ => Err(ConnectError::unimplemented(format!(
            "profile format {format} is not served: only PROFILE_FORMAT_FLAMEGRAPH"
        ))),
    }
}

/// The profile query of a SelectMergeStacktraces request (also Diff's sides).
fn stacktraces_query(
    state: &AppState,
    req: &proto::SelectMergeStacktracesRequest,
) -> Result<store::profiles::ProfileQuery, ConnectError> {
    check_format(req.format)?;
    query::profile_query(
        &state.options.limits,
        &req.profile_type_id,
        &req.label_selector,
        query::range_ms(req.start, req.end)?,
        &req.span_selector,
        &req.trace_id_selector,
    )
}

async fn stacktraces(
    state: &AppState,
    req: proto::SelectMergeStacktracesRequest,
) -> Result<proto::SelectMergeStacktracesResponse, ConnectError> {
    let q = stacktraces_query(state, &req)?;
    let fg = query::merge(state, q, flamegraph::max_nodes(req.max_nodes)).await?;
    Ok(proto::SelectMergeStacktracesResponse {
        flamegraph: fg.map(flame_proto),
    })
}

async fn span_profile(
    state: &AppState,
    req: proto::SelectMergeSpanProfileRequest,
) -> Result<proto::SelectMergeStacktracesResponse, ConnectError> {
    check_format(req.format)?;
    if req.span_selector.is_empty() {
        return Err(ConnectError::invalid("span_selector is empty"));
    }
    let q = query::profile_query(
        &state.options.limits,
        &req.profile_type_id,
        &req.label_selector,
        query::range_ms(req.start, req.end)?,
        &req.span_selector,
        &[],
    )?;
    let fg = query::merge(state, q, flamegraph::max_nodes(req.max_nodes)).await?;
    Ok(proto::SelectMergeStacktracesResponse {
        flamegraph: fg.map(flame_proto),
    })
}

async fn merge_profile(
    state: &AppState,
    req: SelectMergeProfileRequest,
) -> Result<Profile, ConnectError> {
    if let Some(sel) = &req.stack_trace_selector {
        if !sel.call_site.is_empty() || sel.go_pgo.is_some() {
            return Err(ConnectError::unimplemented(
                "stack_trace_selector is not served: leave it out to get the whole merged profile",
            ));
        }
    }
    let q = query::profile_query(
        &state.options.limits,
        &req.profile_type_id,
        &req.label_selector,
        query::range_ms(req.start, req.end)?,
        &[],
        &[],
    )?;
    let max_nodes = req
        .max_nodes
        .filter(|&n| n > 0)
        .map(|n| flamegraph::max_nodes(Some(n)));
    pprof::merge(state, q, max_nodes).await
}

fn levels(levels: Vec<Vec<i64>>) -> Vec<Level> {
    levels.into_iter().map(|values| Level { values }).collect()
}

fn flame_proto(fg: FlameGraph) -> proto::FlameGraph {
    proto::FlameGraph {
        names: fg.names,
        levels: levels(fg.levels),
        total: fg.total,
        max_self: fg.max_self,
    }
}

fn diff_proto(fg: FlameGraphDiff) -> proto::FlameGraphDiff {
    proto::FlameGraphDiff {
        names: fg.names,
        levels: levels(fg.levels),
        total: fg.total,
        max_self: fg.max_self,
        left_ticks: fg.left_ticks,
        right_ticks: fg.right_ticks,
    }
}

async fn select_series(
    state: &AppState,
    req: proto::SelectSeriesRequest,
) -> Result<proto::SelectSeriesResponse, ConnectError> {
    let step_s = if req.step == 0.0 {
        DEFAULT_STEP_S
    } else if req.step.is_finite() && req.step > 0.0 {
        req.step
    } else {
        return Err(ConnectError::invalid(format!("bad step {}", req.step)));
    };
    let average = match req.aggregation.unwrap_or(0) {
        0 => false,
        1 => true,
        other => {
            return Err(ConnectError::invalid(format!(
                "unsupported time series aggregation {other}"
            )))
        }
    };
    let q = SeriesQuery {
        query: query::profile_query(
            &state.options.limits,
            &req.profile_type_id,
            &req.label_selector,
            query::range_ms(req.start, req.end)?,
            &[],
            &[],
        )?,
        step_ns: ((step_s * 1e9) as i64).max(1_000_000),
        group_by: req.group_by,
        average,
        limit: req
            .limit
            .filter(|&l| l > 0)
            .map(|l| usize::try_from(l).unwrap_or(usize::MAX)),
    };
    let found = query::blocking(state, move |s| query::select_series(s, &q)).await?;
    Ok(proto::SelectSeriesResponse {
        series: found
            .into_iter()
            .map(|s| proto::Series {
                labels: pairs(s.labels.iter()),
                points: s
                    .points
                    .into_iter()
                    .map(|(timestamp, value)| proto::Point { value, timestamp })
                    .collect(),
            })
            .collect(),
    })
}

async fn diff(
    state: &AppState,
    req: proto::DiffRequest,
) -> Result<proto::DiffResponse, ConnectError> {
    let (Some(left), Some(right)) = (&req.left, &req.right) else {
        return Err(ConnectError::invalid("left and right are required"));
    };
    let max_nodes = flamegraph::max_nodes(left.max_nodes.or(right.max_nodes));
    let fg = query::diff(
        state,
        stacktraces_query(state, left)?,
        stacktraces_query(state, right)?,
        max_nodes,
    )
    .await?;
    Ok(proto::DiffResponse {
        flamegraph: fg.map(diff_proto),
    })
}

async fn stats(
    state: &AppState,
    _: proto::Empty,
) -> Result<proto::GetProfileStatsResponse, ConnectError> {
    let bounds = query::blocking(state, |s| Ok(s.time_bounds()?)).await?;
    Ok(match bounds {
        Some((oldest, newest)) => proto::GetProfileStatsResponse {
            data_ingested: true,
            oldest_profile_time: oldest / 1_000_000,
            newest_profile_time: newest / 1_000_000,
        },
        None => proto::GetProfileStatsResponse::default(),
    })
}
