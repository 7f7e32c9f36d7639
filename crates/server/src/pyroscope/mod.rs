//! Pyroscope's query API over the app's profile store, so Grafana's
//! Pyroscope data source, Profiles Drilldown and Pyroscope's own UI work
//! against `whyslow serve`:
//!
//! - [`querier`]: `POST /querier.v1.QuerierService/{method}` and
//!   `POST /settings.v1.SettingsService/Get` over Connect unary
//!   ([`connect`]: binary protobuf or proto3 JSON, gzip requests, Connect
//!   errors), with hand-written prost messages ([`proto`], [`types`],
//!   [`json`]);
//! - [`render`]: the legacy `GET /pyroscope/render`, `/pyroscope/render-diff`
//!   and `/pyroscope/label-values` (flamebearer JSON);
//! - leaves: [`flamegraph`] and [`diff`] (merged stacks to truncated,
//!   level-encoded flame graphs, over `tree`), [`selector`] (label selectors, profile
//!   type IDs, span and trace ids), [`query`] (store reads on the blocking
//!   pool, series).

pub mod connect;
pub mod diff;
pub mod flamegraph;
pub mod json;
pub mod proto;
pub mod querier;
pub mod query;
pub mod render;
pub mod selector;
mod tree;
pub mod types;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_errors;
#[cfg(test)]
mod tests_render;
#[cfg(test)]
mod testutil;

use crate::AppState;
use axum::routing::{get, post};
use axum::Router;

/// The Pyroscope query routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/querier.v1.QuerierService/{method}",
            post(querier::querier),
        )
        .route(
            "/settings.v1.SettingsService/{method}",
            post(querier::settings),
        )
        .route("/pyroscope/render", get(render::render))
        .route("/pyroscope/render-diff", get(render::render_diff))
        .route("/pyroscope/label-values", get(render::label_values_handler))
}
