//! The web UI, embedded in the binary: `/`, `/search`, `/trace/{id}`,
//! `/services`, `/alerts`, `/slo`, `/profiles`, `/metrics-explorer` (alias `/graph`; `/metrics` is
//! serve's own Prometheus exposition) serve the single page; `/static/{file}` its ES modules and CSS.
//! Assets are plain files under `crates/server/assets/`, included at compile
//! time, so `cargo build` is the only build step. The Profiles page draws with
//! the flamegraph engine of `whyslow record`'s HTML pages, served from
//! `crates/render/assets/` as they are (classic scripts, markup, CSS).
//!
//! Assets are looked up by exact name in a fixed list: no path reaches the
//! file system, `..` and encoded separators match nothing, and there is no
//! directory listing. No page has inline script, so a Content-Security-Policy
//! of `script-src 'self'` holds. [`UiOptions`] add two server-rendered bits
//! to the page: a banner when anyone may reach an open server, and a logout
//! button when logins are on.

use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::borrow::Cow;

const INDEX_HTML: &str = include_str!("../assets/index.html");

/// What the page shows besides the app.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UiOptions {
    /// A banner: the server listens beyond loopback and takes anyone.
    pub anonymous_warning: bool,
    /// A "Log out" button (`serve --auth-file`: browsers log in).
    pub logout: bool,
}

/// The banner of [`UiOptions::anonymous_warning`].
const ANONYMOUS_NOTICE: &str = "<div class=\"notice\" role=\"alert\" id=\"anonymous-notice\">\
This server takes anyone's data and shows it to anyone who can reach it: it listens beyond \
loopback without <code>--auth-file</code>. Restart it with <code>--auth-file</code> (tokens \
from <code>whyslow auth token</code>), or with <code>--insecure-allow-anonymous</code> to \
hide this notice.</div>";

/// The button of [`UiOptions::logout`]: a form, so it needs no script.
const LOGOUT_FORM: &str = "<form class=\"logout\" method=\"post\" action=\"/logout\">\
<button type=\"submit\">Log out</button></form>";

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

async fn index(State(state): State<AppState>) -> Html<Cow<'static, str>> {
    Html(index_html(state.ui))
}

/// The page, with what `options` add.
fn index_html(options: UiOptions) -> Cow<'static, str> {
    if options == UiOptions::default() {
        return Cow::Borrowed(INDEX_HTML);
    }
    let mut html = INDEX_HTML.to_string();
    if options.anonymous_warning {
        html = html.replacen("<!--notice-->", ANONYMOUS_NOTICE, 1);
    }
    if options.logout {
        html = html.replacen("<!--account-->", LOGOUT_FORM, 1);
    }
    Cow::Owned(html)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_page_has_inline_script() {
        let pages = ASSETS
            .iter()
            .filter(|(_, content_type, _)| content_type.starts_with("text/html"))
            .map(|(_, _, bytes)| String::from_utf8_lossy(bytes).into_owned())
            .chain([INDEX_HTML.to_string()]);
        for page in pages {
            let lower = page.to_ascii_lowercase();
            for script in lower.match_indices("<script").map(|(at, _)| &lower[at..]) {
                let tag = &script[..script.find('>').unwrap_or(script.len())];
                assert!(tag.contains(" src="), "inline script: {tag}");
            }
            assert!(!lower.contains("javascript:"));
            for handler in [
                " onclick=",
                " onload=",
                " onerror=",
                " oninput=",
                " onsubmit=",
            ] {
                assert!(!lower.contains(handler), "inline handler {handler}");
            }
        }
    }

    #[test]
    fn the_options_add_a_banner_and_a_logout_form() {
        let plain = index_html(UiOptions::default());
        assert!(matches!(plain, Cow::Borrowed(_)));
        assert!(!plain.contains("anonymous-notice") && !plain.contains("/logout"));
        let both = index_html(UiOptions {
            anonymous_warning: true,
            logout: true,
        });
        assert!(both.contains("id=\"anonymous-notice\""));
        assert!(both.contains("<form class=\"logout\" method=\"post\" action=\"/logout\">"));
    }
}
