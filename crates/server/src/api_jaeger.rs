//! Handlers of the Jaeger query API (the routes jaeger-ui and Grafana call)
//! and of `/api/v3/traces/{id}`. Parameters follow Jaeger's query parser:
//! `start`/`end` in µs, durations as Go strings, `limit` default 100, `start`
//! default `end - lookback` (lookback default 2 days); dependencies take `endTs`
//! and `lookback` in ms. Traces are clock-skew adjusted before they are shown
//! (see `AppState::adjust`) unless the request asks for them raw: `raw=true`
//! as Jaeger's `/api/traces/{id}`, `raw_traces`/`rawTraces=true` as its
//! `/api/v3/traces/{id}`.

use crate::error::{ApiError, ApiErrorBody, Envelope};
use crate::jaeger_json::{to_jaeger_trace_with_warnings, JaegerTrace};
use crate::otlp_json::to_otlp_traces_data;
use crate::params::{self, bad_param, get, get_all, Pairs};
use crate::{AppState, ReadLimits};
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::Json;
use model::{Span, SpanKind, TraceId};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use store::TraceQuery;

/// Jaeger's default search limit.
const DEFAULT_LIMIT: usize = 100;
/// Jaeger's default search lookback when `start` is absent.
const DEFAULT_TRACE_LOOKBACK_NANOS: u64 = 2 * 86_400 * 1_000_000_000;
/// Jaeger's default dependencies lookback.
const DEFAULT_DEPENDENCY_LOOKBACK_NANOS: u64 = 86_400 * 1_000_000_000;

/// `GET /api/services`: service names.
pub async fn services(State(state): State<AppState>) -> Result<Envelope<Vec<String>>, ApiError> {
    let services = state.read(|s| s.services()).await?;
    let total = services.len();
    Ok(Envelope::new(services, total))
}

/// `GET /api/services/{service}/operations`: distinct operation names of a service.
pub async fn service_operations(
    State(state): State<AppState>,
    Path(service): Path<String>,
) -> Result<Envelope<Vec<String>>, ApiError> {
    let ops = state.read(move |s| s.operations(&service, None)).await?;
    let names: Vec<String> = ops
        .into_iter()
        .map(|o| o.name)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let total = names.len();
    Ok(Envelope::new(names, total))
}

/// One entry of `/api/operations`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationJson {
    /// Span name.
    pub name: String,
    /// `server`, `client`, … or `""`.
    pub span_kind: &'static str,
}

/// `GET /api/operations?service=&spanKind=`.
pub async fn operations(
    State(state): State<AppState>,
    Query(pairs): Query<Pairs>,
) -> Result<Envelope<Vec<OperationJson>>, ApiError> {
    let service = get(&pairs, "service")
        .ok_or_else(|| ApiError::BadRequest("parameter 'service' is required".into()))?
        .to_string();
    let kind = get(&pairs, "spanKind").map(parse_kind).transpose()?;
    let ops = state.read(move |s| s.operations(&service, kind)).await?;
    let data: Vec<OperationJson> = ops
        .into_iter()
        .map(|o| OperationJson {
            name: o.name,
            span_kind: o.kind.as_jaeger(),
        })
        .collect();
    let total = data.len();
    Ok(Envelope::new(data, total))
}

fn parse_kind(text: &str) -> Result<SpanKind, ApiError> {
    let lower = text.to_ascii_lowercase();
    let name = lower.strip_prefix("span_kind_").unwrap_or(&lower);
    Ok(match name {
        "server" => SpanKind::Server,
        "client" => SpanKind::Client,
        "producer" => SpanKind::Producer,
        "consumer" => SpanKind::Consumer,
        "internal" => SpanKind::Internal,
        "unspecified" => SpanKind::Unspecified,
        _ => {
            return Err(bad_param(
                "spanKind",
                format!("unsupported span kind: '{text}'"),
            ))
        }
    })
}

/// Whether any of `names` is a true boolean (Go's `strconv.ParseBool`
/// spellings, as Jaeger parses them); a value that is not a boolean is a 400.
pub fn raw_param(pairs: &Pairs, names: &[&str]) -> Result<bool, ApiError> {
    let mut raw = false;
    for name in names {
        raw |= match get(pairs, name) {
            None => false,
            Some("1" | "t" | "T" | "true" | "TRUE" | "True") => true,
            Some("0" | "f" | "F" | "false" | "FALSE" | "False") => false,
            Some(other) => {
                return Err(bad_param(
                    name,
                    format!("strconv.ParseBool: parsing \"{other}\": invalid syntax"),
                ))
            }
        };
    }
    Ok(raw)
}

/// A trace in Jaeger's JSON after clock-skew adjustment (unless `raw`).
fn shown(state: &AppState, mut spans: Vec<Span>, raw: bool) -> JaegerTrace {
    let warnings = state.adjust(&mut spans, raw);
    to_jaeger_trace_with_warnings(&spans, &warnings)
}

/// Parses `/api/traces` parameters into a store query (and explicit trace
/// ids), within `limits` (a search by trace ids is not limited).
pub fn parse_search(
    pairs: &Pairs,
    now_nanos: u64,
    limits: &ReadLimits,
) -> Result<(TraceQuery, Vec<TraceId>), ApiError> {
    let trace_ids = get_all(pairs, "traceID")
        .map(|id| TraceId::from_hex(id).map_err(|e| bad_param("traceID", e)))
        .collect::<Result<Vec<_>, _>>()?;
    let service = get(pairs, "service").map(str::to_string);
    if service.is_none() && trace_ids.is_empty() {
        return Err(ApiError::BadRequest(
            "parameter 'service' is required".into(),
        ));
    }
    let end = params::time_param(pairs, "end", 1000)?.unwrap_or(now_nanos);
    let lookback = match get(pairs, "lookback") {
        None | Some("custom") => DEFAULT_TRACE_LOOKBACK_NANOS,
        Some(text) => {
            params::parse_go_duration(text, true).map_err(|e| bad_param("lookback", e))?
        }
    };
    let start = params::time_param(pairs, "start", 1000)?.unwrap_or(end.saturating_sub(lookback));
    let duration = |name: &str| {
        get(pairs, name)
            .map(|v| params::parse_go_duration(v, false).map_err(|e| bad_param(name, e)))
            .transpose()
    };
    let (duration_min, duration_max) = (duration("minDuration")?, duration("maxDuration")?);
    if let (Some(min), Some(max)) = (duration_min, duration_max) {
        if min != 0 && max != 0 && max < min {
            return Err(ApiError::BadRequest(
                "'maxDuration' should be greater than 'minDuration'".into(),
            ));
        }
    }
    let limit = match params::int_param(pairs, "limit")? {
        None => limits.default_traces(DEFAULT_LIMIT),
        Some(n) => usize::try_from(n).map_err(|_| bad_param("limit", "must not be negative"))?,
    };
    if trace_ids.is_empty() {
        limits
            .check_traces(limit)
            .map_err(|e| bad_param("limit", e))?;
        limits
            .check_range_ns(i128::from(start), i128::from(end))
            .map_err(ApiError::BadRequest)?;
    }
    let query = TraceQuery {
        service,
        operation: get(pairs, "operation")
            .filter(|op| *op != "all")
            .map(str::to_string),
        tags: params::parse_tags(pairs)?,
        start_min: Some(start),
        start_max: Some(end),
        duration_min: duration_min.filter(|d| *d > 0),
        duration_max: duration_max.filter(|d| *d > 0),
        limit,
    };
    Ok((query, trace_ids))
}

/// `GET /api/traces?service=&operation=&tags=&start=&end=&minDuration=&maxDuration=&limit=&lookback=`
/// (or `?traceID=…` repeated); `raw=true` skips clock-skew adjustment.
pub async fn search(
    State(state): State<AppState>,
    Query(pairs): Query<Pairs>,
) -> Result<Envelope<Vec<JaegerTrace>>, ApiError> {
    let (query, ids) = parse_search(&pairs, params::now_unix_nano(), &state.options.limits)?;
    let raw = raw_param(&pairs, &["raw"])?;
    if !ids.is_empty() {
        let found = state
            .read(move |s| {
                ids.into_iter()
                    .map(|id| s.trace(id).map(|t| (id, t)))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        let mut errors = Vec::new();
        let mut data = Vec::new();
        for (id, trace) in found {
            match trace {
                Some(spans) if !spans.is_empty() => data.push(shown(&state, spans, raw)),
                _ => errors.push(ApiErrorBody {
                    code: None,
                    msg: "trace not found".into(),
                    trace_id: Some(id.to_string()),
                }),
            }
        }
        let mut env = Envelope::new(data, 0);
        env.errors = (!errors.is_empty()).then_some(errors);
        return Ok(env);
    }
    let traces = state.read(move |s| s.find_traces(&query)).await?;
    let data = traces
        .into_iter()
        .filter(|t| !t.is_empty())
        .map(|t| shown(&state, t, raw))
        .collect();
    Ok(Envelope::new(data, 0))
}

/// Loads one trace or answers Jaeger's 400/404.
pub async fn load_trace(state: &AppState, id_text: &str) -> Result<Vec<Span>, ApiError> {
    let id = TraceId::from_hex(id_text)
        .map_err(|e| ApiError::BadRequest(format!("cannot parse traceID '{id_text}': {e}")))?;
    match state.read(move |s| s.trace(id)).await? {
        Some(spans) if !spans.is_empty() => Ok(spans),
        _ => Err(ApiError::NotFound("trace not found".into())),
    }
}

/// `GET /api/traces/{traceID}` (`?raw=true`: without clock-skew adjustment).
pub async fn trace(
    State(state): State<AppState>,
    Path(trace_id): Path<String>,
    Query(pairs): Query<Pairs>,
) -> Result<Envelope<Vec<JaegerTrace>>, ApiError> {
    let raw = raw_param(&pairs, &["raw"])?;
    let spans = load_trace(&state, &trace_id).await?;
    Ok(Envelope::new(vec![shown(&state, spans, raw)], 0))
}

/// `GET /api/v3/traces/{traceID}`: `{"result": {"resourceSpans": [...]}}`; errors
/// in api_v3's gateway shape, `{"error": {"httpCode": 404, "message": "trace not found"}}`.
/// Clock-skew adjusted unless `raw_traces=true` (or `rawTraces=true`); warnings
/// go in each span's `@jaeger@warnings` attribute, as Jaeger v2 puts them.
pub async fn trace_otlp(
    State(state): State<AppState>,
    Path(trace_id): Path<String>,
    Query(pairs): Query<Pairs>,
) -> Response {
    let loaded = match raw_param(&pairs, &["raw_traces", "rawTraces"]) {
        Ok(raw) => load_trace(&state, &trace_id)
            .await
            .map(|spans| (spans, raw)),
        Err(e) => Err(e),
    };
    let (mut spans, warnings) = match loaded {
        Ok((mut spans, raw)) => {
            let warnings = state.adjust(&mut spans, raw);
            (spans, warnings)
        }
        Err(e) => {
            let status = e.status();
            let body = serde_json::json!({
                "error": { "httpCode": status.as_u16(), "message": e.to_string() }
            });
            return (status, Json(body)).into_response();
        }
    };
    let mut body = serde_json::Map::new();
    // Moved in, not `json!`-ed: `json!` would deep-copy the whole trace.
    crate::otlp_json::add_warnings(&mut spans, warnings);
    body.insert("result".into(), to_otlp_traces_data(&spans));
    Json(serde_json::Value::Object(body)).into_response()
}

/// One dependency edge.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DependencyJson {
    /// Calling service.
    pub parent: String,
    /// Called service.
    pub child: String,
    /// Calls in the window.
    pub call_count: u64,
}

/// `GET /api/dependencies?endTs=&lookback=` (ms), optional `service=` filter.
pub async fn dependencies(
    State(state): State<AppState>,
    Query(pairs): Query<Pairs>,
) -> Result<Envelope<Vec<DependencyJson>>, ApiError> {
    let end = params::time_param(&pairs, "endTs", 1_000_000)?.unwrap_or_else(params::now_unix_nano);
    let lookback = params::time_param(&pairs, "lookback", 1_000_000)?
        .unwrap_or(DEFAULT_DEPENDENCY_LOOKBACK_NANOS);
    state
        .options
        .limits
        .check_range_ns(i128::from(end) - i128::from(lookback), i128::from(end))
        .map_err(ApiError::BadRequest)?;
    let service = get(&pairs, "service").map(str::to_string);
    let links = state.read(move |s| s.dependencies(end, lookback)).await?;
    let mut merged: BTreeMap<(String, String), u64> = BTreeMap::new();
    for link in links {
        if let Some(svc) = &service {
            if &link.parent != svc && &link.child != svc {
                continue;
            }
        }
        *merged.entry((link.parent, link.child)).or_default() += link.call_count;
    }
    let data = merged
        .into_iter()
        .map(|((parent, child), call_count)| DependencyJson {
            parent,
            child,
            call_count,
        })
        .collect();
    Ok(Envelope::new(data, 0))
}

/// Unknown paths: Jaeger-style 404.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no such endpoint: {}", uri.path()))
}
