//! The HTTP app of `whyslow serve`, as an axum [`Router`] over any
//! [`SpanStore`]:
//!
//! - the Jaeger query API (`/api/services`, `/api/traces`, …) with Jaeger's
//!   JSON shapes, so jaeger-ui and Grafana's Jaeger datasource work unchanged
//!   ([`api_jaeger`], [`jaeger_json`], [`params`]);
//! - `/api/v3/traces/{id}` in OTLP JSON, as Jaeger v2 serves it ([`otlp_json`]);
//! - whyslow's own analysis API (critical path, self time, statistics, compare)
//!   from the `query` crate ([`api_analysis`]);
//! - the web UI, embedded in the binary ([`ui`]).
//!
//! Binding sockets, OTLP ingest and the store's lifecycle are the caller's job.

pub mod api_analysis;
pub mod api_jaeger;
pub mod error;
pub mod jaeger_json;
pub mod otlp_json;
pub mod params;
pub mod ui;

pub use error::{ApiError, Envelope};

use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use store::{SpanStore, StoreError};

/// What every handler gets: the store and the query options.
#[derive(Clone)]
pub struct AppState {
    /// The trace store.
    pub store: Arc<dyn SpanStore>,
    /// How traces are prepared for display.
    pub options: QueryOptions,
}

/// Server-wide query options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryOptions {
    /// Largest clock-skew adjustment applied to a span, ns (Jaeger's
    /// `max_clock_skew_adjust`); 0 reports skew in warnings without moving spans.
    pub max_clock_skew_adjustment_nanos: u64,
}

impl Default for QueryOptions {
    fn default() -> Self {
        Self {
            max_clock_skew_adjustment_nanos: query::trace::DEFAULT_MAX_ADJUSTMENT_NANOS,
        }
    }
}

impl AppState {
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

/// The whole HTTP app: query APIs and the UI, with default options.
pub fn router(store: Arc<dyn SpanStore>) -> Router {
    router_with_options(store, QueryOptions::default())
}

/// The whole HTTP app with explicit query options.
pub fn router_with_options(store: Arc<dyn SpanStore>, options: QueryOptions) -> Router {
    let state = AppState { store, options };
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
        .merge(ui::routes())
        .fallback(api_jaeger::not_found)
        .with_state(state)
}
