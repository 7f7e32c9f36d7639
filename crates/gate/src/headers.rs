//! Security headers on every response of a port that serves pages:
//! a Content-Security-Policy that runs only the server's own script files
//! (no inline script, no `eval`, no plugins), refuses framing
//! (`frame-ancestors 'none'` and `X-Frame-Options: DENY`), sends forms only to
//! this server; `X-Content-Type-Options: nosniff` so a JSON or text answer is
//! never run as script; `Referrer-Policy: same-origin` so trace ids and
//! queries in URLs never reach another site (not `no-referrer`: with it
//! browsers send `Origin: null` on form posts, which the login's same-origin
//! check must refuse). A handler that sets one of them keeps its own.
//!
//! Styles may be inline (`'unsafe-inline'` in `style-src` only): the flamegraph
//! engine colours its legend with `style` attributes; styles cannot run code.

use axum::http::header::{
    CONTENT_SECURITY_POLICY as CSP, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use axum::Router;

/// The policy every page gets.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The headers and their values.
const HEADERS: [(HeaderName, &str); 4] = [
    (CSP, CONTENT_SECURITY_POLICY),
    (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (X_FRAME_OPTIONS, "DENY"),
    (REFERRER_POLICY, "same-origin"),
];

/// `router` with the security headers on every response (refusals and 404s too).
pub fn security_headers(router: Router) -> Router {
    router.layer(axum::middleware::map_response(add_headers))
}

async fn add_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn every_response_carries_them() {
        let app = security_headers(Router::new().route("/", get(|| async { "hi" })));
        for path in ["/", "/missing"] {
            let response = app
                .clone()
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let headers = response.headers();
            assert_eq!(headers[X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
            assert_eq!(headers[X_FRAME_OPTIONS], "DENY");
            assert_eq!(headers[REFERRER_POLICY], "same-origin");
            let csp = headers[CSP].to_str().unwrap();
            assert!(csp.contains("frame-ancestors 'none'"));
            let script_src = csp.split(';').find(|d| d.trim().starts_with("script-src"));
            assert_eq!(script_src.map(str::trim), Some("script-src 'self'"));
            if path == "/missing" {
                assert_eq!(response.status(), StatusCode::NOT_FOUND);
            }
        }
    }
}
