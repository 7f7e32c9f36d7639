//! The web UI, embedded in the binary: `/`, `/search`, `/trace/{id}`,
//! `/services`, `/alerts`, `/slo`, `/profiles`, `/metrics-explorer` (alias `/graph`; `/metrics` is
//! serve's own Prometheus exposition) serve the single page; `/static/{file}` its ES modules and CSS.
//! Assets are plain files under `crates/server/assets/`, included at compile
//! time, so `cargo build` is the only build step. The Profiles page draws with
//! the flamegraph engine of `whyslow record`'s HTML pages, served from
//! `crates/render/assets/` as they are (classic scripts, markup, CSS).

use crate::AppState;
use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const INDEX_HTML: &str = include_str!("../assets/index.html");

/// Static assets: (file name, content type, bytes).
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("app.js", JS, include_bytes!("../assets/app.js")),
    ("api.js", JS, include_bytes!("../assets/api.js")),
    ("format.js", JS, include_bytes!("../assets/format.js")),
    ("search.js", JS, include_bytes!("../assets/search.js")),
    ("trace.js", JS, include_bytes!("../assets/trace.js")),
    ("timeline.js", JS, include_bytes!("../assets/timeline.js")),
    (
        "span_detail.js",
        JS,
        include_bytes!("../assets/span_detail.js"),
    ),
    ("services.js", JS, include_bytes!("../assets/services.js")),
    ("flame.js", JS, include_bytes!("../assets/flame.js")),
    ("compare.js", JS, include_bytes!("../assets/compare.js")),
    ("prom.js", JS, include_bytes!("../assets/prom.js")),
    ("units.js", JS, include_bytes!("../assets/units.js")),
    ("chart.js", JS, include_bytes!("../assets/chart.js")),
    (
        "promql_editor.js",
        JS,
        include_bytes!("../assets/promql_editor.js"),
    ),
    ("metrics.js", JS, include_bytes!("../assets/metrics.js")),
    ("red.js", JS, include_bytes!("../assets/red.js")),
    ("alerts.js", JS, include_bytes!("../assets/alerts.js")),
    ("slo.js", JS, include_bytes!("../assets/slo.js")),
    (
        "dependencies.js",
        JS,
        include_bytes!("../assets/dependencies.js"),
    ),
    ("profiles.js", JS, include_bytes!("../assets/profiles.js")),
    (
        "profiles_chart.js",
        JS,
        include_bytes!("../assets/profiles_chart.js"),
    ),
    (
        "profiles_flame.js",
        JS,
        include_bytes!("../assets/profiles_flame.js"),
    ),
    (
        "profiles_table.js",
        JS,
        include_bytes!("../assets/profiles_table.js"),
    ),
    (
        "profiles_traces.js",
        JS,
        include_bytes!("../assets/profiles_traces.js"),
    ),
    (
        "span_profile.js",
        JS,
        include_bytes!("../assets/span_profile.js"),
    ),
    (
        "flamegraph_tree.js",
        JS,
        include_bytes!("../../render/assets/flamegraph_tree.js"),
    ),
    (
        "flamegraph.js",
        JS,
        include_bytes!("../../render/assets/flamegraph.js"),
    ),
    (
        "flamegraph.html",
        "text/html; charset=utf-8",
        include_bytes!("../../render/assets/flamegraph.html"),
    ),
    (
        "flamegraph.css",
        CSS,
        include_bytes!("../../render/assets/flamegraph.css"),
    ),
    ("style.css", CSS, include_bytes!("../assets/style.css")),
];
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// The UI's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/search", get(index))
        .route("/services", get(index))
        .route("/metrics-explorer", get(index))
        .route("/graph", get(index))
        .route("/alerts", get(index))
        .route("/slo", get(index))
        .route("/profiles", get(index))
        .route("/trace/{id}", get(index))
        .route("/static/{file}", get(asset))
}

async fn index() -> Html<&'static str> {
    Html(INDEX_HTML)
}

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
