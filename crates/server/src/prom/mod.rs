//! The Prometheus HTTP API (`/api/v1/...`) over the app's series store and
//! PromQL engine, with Prometheus's JSON shapes, error types and statuses,
//! so Grafana's Prometheus data source and other tools work unchanged:
//!
//! - [`query`]: `/api/v1/query`, `/api/v1/query_range`;
//! - [`series`]: `/api/v1/series`, `/api/v1/labels`, `/api/v1/label/{name}/values`;
//! - [`meta`]: `/api/v1/metadata`, `/api/v1/query_exemplars`;
//! - [`status`]: build info, flags, targets, `format_query`;
//! - [`rules`]: `/api/v1/rules`, `/api/v1/alerts` from the rule evaluator;
//! - leaves: [`params`] (form, times, durations), [`selector`] (`match[]`),
//!   [`json`] (response bodies), [`error`] (`errorType`), [`metrics`].
//!
//! Every endpoint Prometheus serves on POST too (form-urlencoded body) is
//! routed for both methods. Store reads and query evaluation run on the
//! blocking pool.

pub mod error;
pub mod json;
pub mod meta;
pub mod metrics;
pub mod params;
pub mod query;
pub mod rules;
pub mod selector;
pub mod series;
pub mod status;

pub use error::{ErrorType, PromApiError};
pub use metrics::{QueryKind, QueryMetrics, QueryMetricsSnapshot, LATENCY_BUCKETS_S};

use crate::AppState;
use axum::routing::get;
use axum::Router;
use store::{SeriesStore, StoreError};

/// The Prometheus version `buildinfo` reports: recent enough (>= 2.24) that
/// Grafana sends `match[]` to the labels endpoints.
pub const PROMETHEUS_COMPATIBLE_VERSION: &str = "2.53.0";

/// The `/api/v1/...` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/query", get(query::instant).post(query::instant))
        .route("/api/v1/query_range", get(query::range).post(query::range))
        .route("/api/v1/series", get(series::series).post(series::series))
        .route("/api/v1/labels", get(series::labels).post(series::labels))
        .route("/api/v1/label/{name}/values", get(series::label_values))
        .route("/api/v1/metadata", get(meta::metadata))
        .route(
            "/api/v1/query_exemplars",
            get(meta::exemplars).post(meta::exemplars),
        )
        .route("/api/v1/status/buildinfo", get(status::buildinfo))
        .route("/api/v1/status/flags", get(status::flags))
        .route("/api/v1/rules", get(rules::rules))
        .route("/api/v1/alerts", get(rules::alerts))
        .route("/api/v1/targets", get(status::targets))
        .route(
            "/api/v1/format_query",
            get(status::format_query).post(status::format_query),
        )
}

/// Runs a (synchronous, possibly disk-reading) series-store call on the blocking pool.
pub(crate) async fn read_series<T, F>(state: &AppState, f: F) -> Result<T, PromApiError>
where
    T: Send + 'static,
    F: FnOnce(&dyn SeriesStore) -> Result<T, StoreError> + Send + 'static,
{
    let series = state.series.clone();
    tokio::task::spawn_blocking(move || f(series.as_ref()))
        .await
        .map_err(|e| PromApiError::internal(format!("series store read task failed: {e}")))?
        .map_err(PromApiError::from)
}

/// Keeps the first `limit` items (0 = all); Prometheus's warning when some were cut.
pub(crate) fn truncate<T>(items: &mut Vec<T>, limit: usize) -> Vec<String> {
    if limit > 0 && items.len() > limit {
        items.truncate(limit);
        vec!["results truncated due to limit".to_string()]
    } else {
        Vec::new()
    }
}

/// How many items to ask the store for to learn whether `limit` cut any.
pub(crate) fn fetch_limit(limit: usize) -> usize {
    if limit == 0 {
        0
    } else {
        limit.saturating_add(1)
    }
}
