//! whyslow's own trace analysis API, from the `query` crate:
//! `GET /api/traces/{id}/analysis` (summary, critical path, self time per span,
//! per-operation statistics) and `GET /api/compare?a=ID&b=ID`.
//! Times are nanoseconds; ids are hex.

use crate::api_jaeger::{load_trace, raw_param};
use crate::error::{ApiError, Envelope};
use crate::params::{get, Pairs};
use crate::AppState;
use axum::extract::{Path, Query, State};
use query::trace::{
    compare_traces, critical_path, critical_time_per_span, operation_stats, summarize,
    CriticalPathSection, OperationStats, SpanTree, TraceComparison, TraceSummary,
};
use serde::Serialize;

/// Per-span analysis numbers.
#[derive(Debug, Serialize)]
pub struct SpanAnalysis {
    /// Span id, hex.
    pub span_id: String,
    /// Duration minus children's time, ns.
    pub self_nanos: u64,
    /// Time this span is on the critical path, ns.
    pub critical_nanos: u64,
    /// Depth in the tree (roots are 1).
    pub depth: usize,
}

/// The analysis of one trace.
#[derive(Debug, Serialize)]
pub struct TraceAnalysis {
    /// Header numbers.
    pub summary: TraceSummary,
    /// Critical path sections, latest first.
    pub critical_path: Vec<CriticalPathSection>,
    /// Ids of spans with any time on the critical path.
    pub critical_span_ids: Vec<String>,
    /// Per span, in time-line (depth-first) order.
    pub spans: Vec<SpanAnalysis>,
    /// Per (service, operation), largest self time first.
    pub stats: Vec<OperationStats>,
}

/// Analyses a trace's spans.
pub fn analyze(spans: &[model::Span]) -> TraceAnalysis {
    let tree = SpanTree::build(spans);
    let self_times = tree.self_times();
    let sections = critical_path(&tree);
    let critical = critical_time_per_span(&tree, &sections);
    let depths = tree.depths();
    let order = tree.preorder();
    TraceAnalysis {
        summary: summarize(&tree),
        critical_span_ids: order
            .iter()
            .filter(|&&i| critical[i] > 0)
            .map(|&i| spans[i].span_id.to_string())
            .collect(),
        spans: order
            .iter()
            .map(|&i| SpanAnalysis {
                span_id: spans[i].span_id.to_string(),
                self_nanos: self_times[i],
                critical_nanos: critical[i],
                depth: depths[i],
            })
            .collect(),
        stats: operation_stats(&tree, &self_times),
        critical_path: sections,
    }
}

/// `GET /api/traces/{traceID}/analysis`: of the clock-skew adjusted trace, as
/// the UI shows it (`?raw=true`: of the stored timestamps).
pub async fn analysis(
    State(state): State<AppState>,
    Path(trace_id): Path<String>,
    Query(pairs): Query<Pairs>,
) -> Result<Envelope<TraceAnalysis>, ApiError> {
    let raw = raw_param(&pairs, &["raw"])?;
    let mut spans = load_trace(&state, &trace_id).await?;
    let result = tokio::task::spawn_blocking(move || {
        state.adjust(&mut spans, raw);
        analyze(&spans)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("analysis task failed: {e}")))?;
    Ok(Envelope::new(result, 1))
}

/// The comparison, with deltas spelled out for clients.
#[derive(Debug, Serialize)]
pub struct ComparisonJson {
    /// Summaries and per-operation rows.
    #[serde(flatten)]
    pub comparison: TraceComparison,
    /// B's duration minus A's, ns (positive: B slower).
    pub duration_delta_nanos: i64,
}

/// `GET /api/compare?a=TRACEID&b=TRACEID` (both clock-skew adjusted unless `raw=true`).
pub async fn compare(
    State(state): State<AppState>,
    Query(pairs): Query<Pairs>,
) -> Result<Envelope<ComparisonJson>, ApiError> {
    let id = |k: &str| {
        get(&pairs, k)
            .map(str::to_string)
            .ok_or_else(|| ApiError::BadRequest(format!("parameter '{k}' is required")))
    };
    let (a_id, b_id) = (id("a")?, id("b")?);
    let raw = raw_param(&pairs, &["raw"])?;
    let mut a = load_trace(&state, &a_id).await?;
    let mut b = load_trace(&state, &b_id).await?;
    state.adjust(&mut a, raw);
    state.adjust(&mut b, raw);
    let comparison = compare_traces(&a, &b);
    let duration_delta_nanos =
        comparison.b.duration_nanos as i64 - comparison.a.duration_nanos as i64;
    Ok(Envelope::new(
        ComparisonJson {
            comparison,
            duration_delta_nanos,
        },
        1,
    ))
}
