//! The HTTP app of `whyslow serve`, as an axum [`Router`] over any
//! [`SpanStore`]:
//!
//! - the Jaeger query API (`/api/services`, `/api/traces`, …) with Jaeger's
//!   JSON shapes, so jaeger-ui and Grafana's Jaeger datasource work unchanged
//!   ([`api_jaeger`], [`jaeger_json`], [`params`]);
//! - `/api/v3/traces/{id}` in OTLP JSON, as Jaeger v2 serves it ([`otlp_json`]);
//! - whyslow's own analysis API (critical path, self time, statistics, compare)
//!   from the `query` crate ([`api_analysis`]);
//! - the Prometheus HTTP API (`/api/v1/query`, `/api/v1/series`, …) over a
//!   [`SeriesStore`] and the `promql` engine ([`prom`]);
//! - Pyroscope's query API (`querier.v1` over Connect, `/pyroscope/render`)
//!   over the [`ProfileStore`] ([`pyroscope`]);
//! - the web UI, embedded in the binary ([`ui`]);
//! - the limits on what one query may ask for ([`limits`]).
//!
//! Binding sockets, OTLP ingest and the stores' lifecycle are the caller's job.

pub mod api_analysis;
pub mod api_jaeger;
pub mod error;
pub mod jaeger_json;
pub mod limits;
pub mod otlp_json;
pub mod params;
pub mod prom;
pub mod pyroscope;
pub mod ui;

pub use error::{ApiError, Envelope};
pub use limits::ReadLimits;
pub use promql::EngineOptions;

use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use store::profiles::EmbeddedProfileStore;
use store::series::MemorySeriesStore;
use store::{ProfileStore, SeriesStore, SpanStore, StoreError};

/// What every handler gets: the stores, the query engine and options.
#[derive(Clone)]
pub struct AppState {
    /// The trace store.
    pub store: Arc<dyn SpanStore>,
    /// The metrics store.
    pub series: Arc<dyn SeriesStore>,
    /// The profile store (empty and in memory unless the caller sets one).
    pub profiles: Arc<dyn ProfileStore>,
    /// The PromQL engine (its options are the server-wide query limits).
    pub engine: promql::Engine,
    /// Counters of PromQL queries served, for `serve`'s own `/metrics`.
    pub query_metrics: Arc<prom::QueryMetrics>,
    /// Queries evaluating at once (Prometheus's `--query.max-concurrency`);
    /// the rest wait, within their timeout.
    pub query_slots: Arc<tokio::sync::Semaphore>,
    /// How traces are prepared for display.
    pub options: QueryOptions,
    /// Latest status of the rule groups (`--rules`), for `/api/v1/rules`
    /// and `/api/v1/alerts`; empty without rules.
    pub rules: Arc<rules::RuleStates>,
    /// The page's banner and logout button.
    pub ui: ui::UiOptions,
}

/// Server-wide query options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryOptions {
    /// Largest clock-skew adjustment applied to a span, ns (Jaeger's
    /// `max_clock_skew_adjust`); 0 reports skew in warnings without moving spans.
    pub max_clock_skew_adjustment_nanos: u64,
    /// PromQL limits: lookback delta, most samples, timeout.
    pub engine: promql::EngineOptions,
    /// Longest time range and most traces one query may ask for.
    pub limits: ReadLimits,
}

impl Default for QueryOptions {
    fn default() -> Self {
        Self {
            max_clock_skew_adjustment_nanos: query::trace::DEFAULT_MAX_ADJUSTMENT_NANOS,
            engine: promql::EngineOptions::default(),
            limits: ReadLimits::default(),
        }
    }
}

impl AppState {
    /// State over both stores, with fresh query counters.
    pub fn new(
        store: Arc<dyn SpanStore>,
        series: Arc<dyn SeriesStore>,
        options: QueryOptions,
    ) -> Self {
        Self {
            store,
            series,
            profiles: Arc::new(EmbeddedProfileStore::in_memory()),
            engine: promql::Engine::new(options.engine),
            query_metrics: Arc::default(),
            query_slots: Arc::new(tokio::sync::Semaphore::new(
                prom::query::MAX_CONCURRENT_QUERIES,
            )),
            options,
            rules: Arc::default(),
            ui: ui::UiOptions::default(),
        }
    }

    /// Runs a (synchronous, possibly disk-reading) store call on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn SpanStore) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| ApiError::Internal(format!("store read task failed: {e}")))?
            .map_err(ApiError::from)
    }

    /// Corrects clock skew in a trace about to be shown (unless `raw`), as
    /// Jaeger's query service does; returns the warnings per span. Works on
    /// the caller's copy: stored data never changes.
    pub fn adjust(&self, spans: &mut [model::Span], raw: bool) -> query::trace::SpanWarnings {
        if raw {
            return vec![Vec::new(); spans.len()];
        }
        query::trace::adjust_clock_skew(spans, self.options.max_clock_skew_adjustment_nanos)
    }
}

/// The whole HTTP app: query APIs and the UI, with default options and an
/// empty in-memory metrics store.
pub fn router(store: Arc<dyn SpanStore>) -> Router {
    router_with_options(
        store,
        Arc::new(MemorySeriesStore::new()),
        QueryOptions::default(),
    )
}

/// The whole HTTP app over both stores with explicit query options.
pub fn router_with_options(
    store: Arc<dyn SpanStore>,
    series: Arc<dyn SeriesStore>,
    options: QueryOptions,
) -> Router {
    router_for(AppState::new(store, series, options))
}

/// The whole HTTP app over a prepared state (keep a clone of
/// `state.query_metrics` to report them elsewhere).
pub fn router_for(state: AppState) -> Router {
    Router::new()
        .route("/api/services", get(api_jaeger::services))
        .route(
            "/api/services/{service}/operations",
            get(api_jaeger::service_operations),
        )
        .route("/api/operations", get(api_jaeger::operations))
        .route("/api/traces", get(api_jaeger::search))
        .route("/api/traces/{trace_id}", get(api_jaeger::trace))
        .route("/api/dependencies", get(api_jaeger::dependencies))
        .route("/api/v3/traces/{trace_id}", get(api_jaeger::trace_otlp))
        .route(
            "/api/traces/{trace_id}/analysis",
            get(api_analysis::analysis),
        )
        .route("/api/compare", get(api_analysis::compare))
        .merge(prom::routes())
        .merge(pyroscope::routes())
        .merge(ui::routes())
        .fallback(api_jaeger::not_found)
        .with_state(state)
}
