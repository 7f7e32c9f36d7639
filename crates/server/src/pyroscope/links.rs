//! Spans ↔ profiles for the web UI (issue 11): small JSON routes on the HTTP
//! port over the samples that carry span and trace ids (pyroscope-otel's
//! `span_id` pprof label, or any SDK's):
//!
//! - `GET /api/profiles/span?spanID=<hex>&traceID=<hex>&from=&until=&type=&max-nodes=`:
//!   which profile types hold samples of the span (or, with only `traceID`,
//!   of the trace; with both, of either, as the store filters) and the
//!   flamebearer of one of them (`type`, else a CPU type when there is one):
//!   `{"spanID", "traceID", "types": [{"id", "value", "samples"}], "type",
//!   "flamebearer"}`; nothing linked is `{"types": [], "type": null,
//!   "flamebearer": null}`, not an error. The range defaults to all time.
//! - `GET /api/profiles/span-hits?query=<type>{sel}&from=&until=&frame=&limit=`:
//!   the spans whose linked samples have `frame` on their stack (every
//!   linked sample without `frame`), heaviest first:
//!   `[{"traceID", "spanID", "value", "samples", "start", "service",
//!   "operation"}]` with `start` the first profile's time in Unix ms. The
//!   range defaults to the last hour, as `/pyroscope/render`'s does. Each
//!   span is looked up in the span store for its service and operation, and
//!   for its trace when the samples carry none (pyroscope-otel tags samples
//!   with `span_id` only): by the span attribute `pyroscope.profile.id` that
//!   the pyroscope-otel processors (Go, Java, Python, .NET) set to that id,
//!   among spans started from an hour before the first profile holding its
//!   samples to ten minutes after; not found leaves them null.
//!
//! Ids are lowercase hex of full width, as the Jaeger API writes them (null
//! when the sample had none). Times and errors are those of [`super::render`]
//! (Connect JSON, 400 for bad parameters). Not Pyroscope's API: Grafana reads
//! span profiles through `SelectMergeSpanProfile` ([`super::querier`]).

use super::connect::ConnectError;
use super::flamegraph::{self, FlameGraph};
use super::query;
use super::render::{legacy_query, max_nodes, now_ns, parse_time, time_range, Params};
use super::selector::{self, ProfileType};
use super::span_match::{selected_samples, Matched, SpanPlace};
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use model::{SpanId, TraceId};
use serde_json::{json, Value};
use store::profiles::{ProfileQuery, SpanHit};
use store::{SpanStore, StoreError, TraceQuery};

/// Spans listed by `span-hits` when `limit` is not given.
pub const DEFAULT_HITS: usize = 20;
/// The most spans `span-hits` lists (each is one span store look-up).
pub const MAX_HITS: usize = 100;
/// The span attribute the pyroscope-otel span processors set to the span id
/// they tag samples with.
pub const PROFILE_ID_ATTRIBUTE: &str = "pyroscope.profile.id";
/// How long before the first profile holding its samples a span is looked for.
const SPAN_LOOKBACK_NS: i64 = 3_600_000_000_000;
/// How long after it (a profile may start before the span does).
const SPAN_LOOKAHEAD_NS: i64 = 600_000_000_000;

/// `GET /api/profiles/span`.
pub async fn span_profile(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    answer(span_profile_inner(&state, &Params::new(raw)).await)
}

/// `GET /api/profiles/span-hits`.
pub async fn span_hits(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    answer(span_hits_inner(&state, &Params::new(raw)).await)
}

fn answer(result: Result<Value, ConnectError>) -> Response {
    result.map_or_else(IntoResponse::into_response, |v| Json(v).into_response())
}

/// What a span-profile request selects: ids and a range.
struct SpanSelection {
    span_ids: Vec<u64>,
    trace_ids: Vec<u128>,
    /// The span's trace, for looking the span up (`inTrace`, else `traceID`).
    in_trace: Option<u128>,
    range: (i64, i64),
}

impl SpanSelection {
    fn parse(params: &Params) -> Result<Self, ConnectError> {
        let one = |key: &str| params.get(&[key]).map(|v| vec![v.to_string()]);
        let span = one("spanID");
        let trace = one("traceID");
        if span.is_none() && trace.is_none() {
            return Err(ConnectError::invalid(
                "spanID (16 hex digits) or traceID (32 hex digits) is required",
            ));
        }
        let span_ids = selector::parse_span_ids(&span.unwrap_or_default())
            .map_err(|e| ConnectError::invalid(format!("spanID: {e}")))?;
        let trace_ids = selector::parse_trace_ids(&trace.unwrap_or_default())
            .map_err(|e| ConnectError::invalid(format!("traceID: {e}")))?;
        let in_trace = match one("inTrace") {
            Some(t) => selector::parse_trace_ids(&t)
                .map_err(|e| ConnectError::invalid(format!("inTrace: {e}")))?
                .first()
                .copied(),
            None => trace_ids.first().copied(),
        };
        if span_ids.contains(&0) || trace_ids.contains(&0) || in_trace == Some(0) {
            return Err(ConnectError::invalid(
                "an all-zero spanID or traceID names no span or trace",
            ));
        }
        let now = now_ns();
        let time = |key: &str, default: i64| {
            params.get(&[key]).map_or(Ok(default), |t| {
                parse_time(t, now).map_err(|e| ConnectError::invalid(format!("{key}: {e}")))
            })
        };
        let range = query::range_ns(
            time("from", 0)?.max(0),
            time("until", now)?.saturating_add(1),
        )?;
        Ok(Self {
            span_ids,
            trace_ids,
            in_trace,
            range,
        })
    }

    fn query(&self, profile_type: &str) -> ProfileQuery {
        ProfileQuery {
            profile_type: profile_type.to_string(),
            matchers: Vec::new(),
            start_ns: self.range.0,
            end_ns: self.range.1,
            span_ids: self.span_ids.clone(),
            trace_ids: self.trace_ids.clone(),
        }
    }
}

/// One profile type holding linked samples: its id, summed value, samples.
struct TypeTotal {
    id: String,
    value: i64,
    samples: u64,
}

async fn span_profile_inner(state: &AppState, params: &Params) -> Result<Value, ConnectError> {
    let selection = SpanSelection::parse(params)?;
    let requested = params
        .get(&["type"])
        .map(|t| ProfileType::require(t).map(|_| t.to_string()))
        .transpose()
        .map_err(ConnectError::invalid)?;
    let max_nodes = max_nodes(params)?;
    let span_id = selection.span_ids.first().map(|&id| span_hex(id));
    let trace_id = selection.trace_ids.first().map(|&id| trace_hex(id));
    let place = match (selection.span_ids.first(), selection.in_trace) {
        (Some(&span), Some(trace)) => find_place(state, span, trace).await?,
        _ => None,
    };
    let requested_again = requested.clone();
    let (types, flame) = query::blocking(state, move |store| {
        let mut types = Vec::new();
        for id in store.profile_types(selection.range.0, selection.range.1)? {
            let hits = store.span_hits(&selection.query(&id), None, usize::MAX)?;
            if !hits.is_empty() {
                types.push(TypeTotal {
                    value: hits.iter().map(|h| h.value).sum(),
                    samples: hits.iter().map(|h| h.samples).sum(),
                    id,
                });
            }
        }
        let chosen = requested.or_else(|| default_type(&types));
        let flame = match chosen {
            Some(id) => {
                let stacks = store.merge(&selection.query(&id))?;
                let fg = flamegraph::flamegraph(&stacks, max_nodes).unwrap_or_else(empty_flame);
                Some((id, fg))
            }
            None => None,
        };
        Ok((types, flame))
    })
    .await?;
    if types.is_empty() {
        if let Some(place) = place {
            return process_profile(state, place, requested_again, max_nodes, span_id, trace_id)
                .await;
        }
    }
    let matched = (!types.is_empty()).then_some("span");
    Ok(span_answer(span_id, trace_id, &types, flame, matched))
}

/// The `/api/profiles/span` answer: `matched` is how the samples were
/// found (`None`: nothing found).
fn span_answer(
    span_id: Option<String>,
    trace_id: Option<String>,
    types: &[TypeTotal],
    flame: Option<(String, FlameGraph)>,
    matched: Option<&str>,
) -> Value {
    let types: Vec<Value> = types
        .iter()
        .map(|t| json!({"id": t.id, "value": t.value, "samples": t.samples}))
        .collect();
    let (chosen, flamebearer) = match flame {
        Some((id, fg)) => (json!(id), flamebearer(&fg)),
        None => (Value::Null, Value::Null),
    };
    json!({
        "spanID": span_id,
        "traceID": trace_id,
        "types": types,
        "type": chosen,
        "flamebearer": flamebearer,
        "matched": matched,
    })
}

/// Where the span ran, when it is stored.
async fn find_place(
    state: &AppState,
    span: u64,
    trace: u128,
) -> Result<Option<SpanPlace>, ConnectError> {
    let spans = state.store.clone();
    let found = tokio::task::spawn_blocking(move || {
        spans.trace(TraceId(trace.to_be_bytes())).map(|t| {
            t.unwrap_or_default()
                .into_iter()
                .find(|s| s.span_id == SpanId(span.to_be_bytes()))
        })
    })
    .await
    .map_err(|e| ConnectError::internal(format!("span store task failed: {e}")))??;
    Ok(found.as_ref().map(SpanPlace::of))
}

/// The answer from the agent's samples of the span's thread or process.
async fn process_profile(
    state: &AppState,
    place: SpanPlace,
    requested: Option<String>,
    max_nodes: usize,
    span_id: Option<String>,
    trace_id: Option<String>,
) -> Result<Value, ConnectError> {
    let selector = format!(
        "{{{}}}",
        place
            .matchers
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    );
    let thread = place.thread;
    let (types, flame, matched) = query::blocking(state, move |store| {
        let mut types = Vec::new();
        let mut merges = Vec::new();
        for id in store.profile_types(place.range.0, place.range.1)? {
            let (merge, matched) = place.merge(store, &id)?;
            if merge.stacks.nodes.is_empty() {
                continue;
            }
            types.push(TypeTotal {
                value: merge.stacks.total(),
                samples: selected_samples(&merge, matched, thread),
                id: id.clone(),
            });
            merges.push((id, merge, matched));
        }
        let chosen = requested.or_else(|| default_type(&types));
        let picked = merges
            .into_iter()
            .find(|(id, ..)| Some(id) == chosen.as_ref());
        let (flame, matched) = match picked {
            Some((id, merge, matched)) => {
                let fg =
                    flamegraph::flamegraph(&merge.stacks, max_nodes).unwrap_or_else(empty_flame);
                (Some((id, fg)), Some(matched))
            }
            None => (None, None),
        };
        Ok((types, flame, matched))
    })
    .await?;
    let mut answer = span_answer(
        span_id,
        trace_id,
        &types,
        flame,
        matched.map(Matched::as_str),
    );
    answer["selector"] = json!(matched.map(|_| selector));
    answer["threadID"] = json!(if matched == Some(Matched::Thread) {
        thread
    } else {
        None
    });
    Ok(answer)
}

/// The type to show when none is asked for: CPU first (`process_cpu:cpu`,
/// then any `cpu` sample type), else wall time, else the first.
fn default_type(types: &[TypeTotal]) -> Option<String> {
    let sample_type = |t: &&TypeTotal| ProfileType::describe(&t.id).sample_type;
    types
        .iter()
        .find(|t| t.id.starts_with("process_cpu:cpu:"))
        .or_else(|| types.iter().find(|t| sample_type(t) == "cpu"))
        .or_else(|| types.iter().find(|t| sample_type(t) == "wall"))
        .or_else(|| types.first())
        .map(|t| t.id.clone())
}

fn empty_flame() -> FlameGraph {
    FlameGraph {
        names: vec![flamegraph::TOTAL_NAME.into()],
        levels: vec![vec![0, 0, 0, 0]],
        ..FlameGraph::default()
    }
}

/// The `flamebearer` object of `/pyroscope/render` (format `single`).
fn flamebearer(fg: &FlameGraph) -> Value {
    json!({"names": fg.names, "levels": fg.levels, "numTicks": fg.total, "maxSelf": fg.max_self})
}

async fn span_hits_inner(state: &AppState, params: &Params) -> Result<Value, ConnectError> {
    let range = time_range(params, "from", "until")?;
    let (_, q) = legacy_query(&state.options.limits, params.get(&["query"]), range)?;
    let frame = params.get(&["frame"]).map(String::from);
    let limit = match params.get(&["limit"]) {
        None => DEFAULT_HITS,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_HITS).contains(n))
            .ok_or_else(|| {
                ConnectError::invalid(format!("bad limit {v:?}: expected 1 to {MAX_HITS}"))
            })?,
    };
    let hits = query::blocking(state, move |store| {
        Ok(store.span_hits(&q, frame.as_deref(), limit)?)
    })
    .await?;
    let spans = state.store.clone();
    let found = tokio::task::spawn_blocking(move || {
        let found: Result<Vec<_>, StoreError> =
            hits.iter().map(|h| find_span(spans.as_ref(), h)).collect();
        found.map(|f| (hits, f))
    })
    .await
    .map_err(|e| ConnectError::internal(format!("span store task failed: {e}")))?;
    let (hits, found) = found?;
    Ok(Value::Array(
        hits.iter()
            .zip(&found)
            .map(|(hit, span)| hit_json(hit, span.as_ref()))
            .collect(),
    ))
}

/// A hit's span as stored.
struct FoundSpan {
    trace_id: TraceId,
    service: String,
    operation: String,
}

/// Looks a hit's span up: in its trace when the samples named one, else by
/// [`PROFILE_ID_ATTRIBUTE`] around the hit's time.
fn find_span(store: &dyn SpanStore, hit: &SpanHit) -> Result<Option<FoundSpan>, StoreError> {
    let Some(span_id) = hit.span_id.map(|id| SpanId(id.to_be_bytes())) else {
        return Ok(None);
    };
    let spans: Vec<model::Span> = match hit.trace_id {
        Some(trace) => store
            .trace(TraceId(trace.to_be_bytes()))?
            .unwrap_or_default(),
        None => {
            let around = |delta: i64| u64::try_from(hit.first_ns.saturating_add(delta)).ok();
            let query = TraceQuery {
                tags: vec![(PROFILE_ID_ATTRIBUTE.to_string(), span_id.to_string())],
                start_min: around(-SPAN_LOOKBACK_NS),
                start_max: around(SPAN_LOOKAHEAD_NS),
                limit: 1,
                ..TraceQuery::default()
            };
            store.find_traces(&query)?.into_iter().flatten().collect()
        }
    };
    Ok(spans
        .iter()
        .find(|s| s.span_id == span_id)
        .map(|s| FoundSpan {
            trace_id: s.trace_id,
            service: s.service().to_string(),
            operation: s.name.clone(),
        }))
}

fn hit_json(hit: &SpanHit, span: Option<&FoundSpan>) -> Value {
    let trace_id = hit
        .trace_id
        .map(trace_hex)
        .or_else(|| span.map(|s| s.trace_id.to_string()));
    json!({
        "traceID": trace_id,
        "spanID": hit.span_id.map(span_hex),
        "value": hit.value,
        "samples": hit.samples,
        "start": hit.first_ns.div_euclid(1_000_000),
        "service": span.map(|s| s.service.as_str()),
        "operation": span.map(|s| s.operation.as_str()),
    })
}

/// A span id as the Jaeger API writes it: 16 lowercase hex digits.
fn span_hex(id: u64) -> String {
    SpanId(id.to_be_bytes()).to_string()
}

/// A trace id as the Jaeger API writes it: 32 lowercase hex digits.
fn trace_hex(id: u128) -> String {
    TraceId(id.to_be_bytes()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_written_as_the_jaeger_api_writes_them() {
        assert_eq!(span_hex(0xff), "00000000000000ff");
        assert_eq!(trace_hex(0xabc), "00000000000000000000000000000abc");
        assert_eq!(
            TraceId::from_hex(&trace_hex(u128::MAX - 5)).map(|t| u128::from_be_bytes(t.0)),
            Ok(u128::MAX - 5)
        );
    }

    #[test]
    fn the_default_type_is_cpu_then_wall_then_the_first() {
        let types = |ids: &[&str]| -> Vec<TypeTotal> {
            ids.iter()
                .map(|id| TypeTotal {
                    id: id.to_string(),
                    value: 1,
                    samples: 1,
                })
                .collect()
        };
        let mem = "memory:alloc_space:bytes:space:bytes";
        let wall = "wall:wall:nanoseconds:wall:nanoseconds";
        let go_cpu = "go:cpu:nanoseconds:cpu:nanoseconds";
        let cpu = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";
        assert_eq!(
            default_type(&types(&[mem, go_cpu, cpu])).as_deref(),
            Some(cpu)
        );
        assert_eq!(
            default_type(&types(&[mem, wall, go_cpu])).as_deref(),
            Some(go_cpu)
        );
        assert_eq!(default_type(&types(&[mem, wall])).as_deref(), Some(wall));
        assert_eq!(default_type(&types(&[mem])).as_deref(), Some(mem));
        assert_eq!(default_type(&[]), None);
    }
}
