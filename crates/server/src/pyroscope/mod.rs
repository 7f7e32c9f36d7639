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
//! - [`pprof_download`]: `GET /pyroscope/pprof`, a gzipped pprof file;
//! - [`links`]: the web UI's span ↔ profile routes (`/api/profiles/span`,
//!   `/api/profiles/span-hits`);
//! - leaves: [`flamegraph`] and [`diff`] (merged stacks to truncated,
//!   level-encoded flame graphs, over `tree`), [`pprof`] (merged stacks to
//!   pprof, [`pprof_proto`]), [`selector`] (label selectors, profile
//!   type IDs, span and trace ids), [`query`] (store reads on the blocking
//!   pool, series).

pub mod connect;
pub mod diff;
pub mod flamegraph;
pub mod json;
pub mod links;
pub mod pprof;
pub mod pprof_download;
pub mod pprof_proto;
pub mod proto;
pub mod querier;
pub mod query;
pub mod render;
pub mod selector;
pub mod span_match;
mod tree;
pub mod types;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_errors;
#[cfg(test)]
mod tests_links;
#[cfg(test)]
mod tests_pprof;
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
        .route("/api/profiles/span", get(links::span_profile))
        .route("/api/profiles/span-hits", get(links::span_hits))
        .route("/pyroscope/pprof", get(pprof_download::pprof))
}
