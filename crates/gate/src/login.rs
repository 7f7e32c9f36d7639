//! The UI's login and logout ([`Gate::login_routes`]): `GET /login` shows the
//! form, `POST /login` checks the token like an `Authorization: Bearer`
//! header would (failures count against the address, 429 when it failed too
//! often) and, for a token that may read, opens a session and sends the
//! browser back to the page it came from with the session cookie;
//! `POST /logout` ends the session.
//!
//! Both POSTs refuse other sites: a request whose `Origin` is not this host,
//! or that the browser marks cross-site (`Sec-Fetch-Site`), gets 403; the
//! `SameSite=Strict` cookie is the other half.

use crate::cookie;
use crate::login_page::{self, page};
use crate::next_path::local_path;
use crate::peer::peer_ip;
use crate::refusal::Refusal;
use crate::Gate;
use auth::{Denied, Permission};
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, HOST, LOCATION, ORIGIN, RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

/// The largest login form taken (a token is at most 1024 characters).
const MAX_FORM_BYTES: usize = 8 * 1024;

impl Gate {
    /// `GET`/`POST /login`, `POST /logout` and `GET /login.css`, to merge
    /// unprotected beside the protected routers; empty without login.
    pub fn login_routes(self: &Arc<Self>) -> Router {
        if self.sessions.is_none() {
            return Router::new();
        }
        Router::new()
            .route("/login", get(show).post(submit))
            .route("/logout", post(logout))
            .route("/login.css", get(login_page::stylesheet))
            .with_state(Arc::clone(self))
    }
}

/// The form; a browser already logged in goes straight back.
async fn show(State(gate): State<Arc<Gate>>, request: Request) -> Response {
    let next = next_in(request.uri().query().unwrap_or(""));
    if gate.session_identity(request.headers()).is_some() {
        return see_other(&next);
    }
    page(StatusCode::OK, &next, None)
}

/// Checks the token; opens a session or shows the form again saying why not.
async fn submit(State(gate): State<Arc<Gate>>, mut request: Request) -> Response {
    if !same_origin(request.headers()) {
        return cross_site();
    }
    let client = peer_ip(request.extensions_mut());
    let Ok(form) = to_bytes(request.into_body(), MAX_FORM_BYTES).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            "the login form is too large\n",
        )
            .into_response();
    };
    let next = next_in(&String::from_utf8_lossy(&form));
    let token = form_urlencoded::parse(&form)
        .find(|(name, _)| name == "token")
        .map(|(_, token)| token.trim().to_string())
        .unwrap_or_default();
    if token.is_empty() {
        return page(StatusCode::UNAUTHORIZED, &next, Some("Enter a token."));
    }
    let header = format!("Bearer {token}");
    let identity = match gate
        .check_header(Some(header.as_bytes()), client, Permission::Read)
        .await
    {
        Ok(identity) => identity,
        Err(refusal) => return refused(&refusal, &next),
    };
    let Some(sessions) = gate.sessions.as_ref() else {
        return (StatusCode::NOT_FOUND, "login is off on this port\n").into_response();
    };
    let opened = sessions
        .open(identity)
        .ok()
        .and_then(|id| cookie::open(&id, sessions.lifetime(), gate.secure_cookies));
    let Some(set_cookie) = opened else {
        let why = "The server could not open a session (its random number generator failed).";
        return page(StatusCode::INTERNAL_SERVER_ERROR, &next, Some(why));
    };
    let mut response = see_other(&next);
    response.headers_mut().insert(SET_COOKIE, set_cookie);
    response
}

/// Ends the sessions of the request's cookies and clears them.
async fn logout(State(gate): State<Arc<Gate>>, request: Request) -> Response {
    if !same_origin(request.headers()) {
        return cross_site();
    }
    if let Some(sessions) = gate.sessions.as_ref() {
        for id in cookie::session_ids(request.headers()) {
            sessions.close(id);
        }
    }
    let mut response = see_other("/login");
    response
        .headers_mut()
        .insert(SET_COOKIE, cookie::clear(gate.secure_cookies));
    response
}

/// The form again, with status and words for the refusal.
fn refused(refusal: &Refusal, next: &str) -> Response {
    let (why, retry_after_s) = match refusal {
        Refusal::Denied(Denied::Unauthenticated(_)) => ("That token is not valid.".to_string(), None),
        Refusal::Denied(Denied::Forbidden { identity, .. }) => (
            format!(
                "That token has the {} role, which may not read: log in with a read or admin token.",
                identity.role
            ),
            None,
        ),
        Refusal::Denied(denied @ Denied::RateLimited { .. }) => {
            let seconds = denied.retry_after_s().unwrap_or(1);
            (
                format!("Too many failed attempts from your address: try again in {seconds} s."),
                Some(seconds),
            )
        }
        Refusal::Busy => (
            "The server is busy checking other tokens: try again in a second.".to_string(),
            Some(1),
        ),
    };
    let mut response = page(refusal.status(), next, Some(&why));
    if let Some(seconds) = retry_after_s {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// The `next` field of a query string or form, kept only if it is a local path.
fn next_in(form: &str) -> String {
    form_urlencoded::parse(form.as_bytes())
        .find(|(name, _)| name == "next")
        .map_or("/".to_string(), |(_, next)| local_path(&next).to_string())
}

/// 303 See Other to `location` (a local path), never cached.
fn see_other(location: &str) -> Response {
    let location =
        HeaderValue::from_str(location).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (
        StatusCode::SEE_OTHER,
        [
            (LOCATION, location),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}

/// Whether a POST came from this server's own pages (or from no browser page
/// at all, as curl's do): no cross-site `Sec-Fetch-Site`, and an `Origin`, when
/// sent, naming this host.
fn same_origin(headers: &HeaderMap) -> bool {
    let fetch_site = headers
        .get("sec-fetch-site")
        .and_then(|value| value.to_str().ok());
    if matches!(fetch_site, Some("cross-site" | "same-site")) {
        return false;
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let host = headers.get(HOST).and_then(|value| value.to_str().ok());
    let origin = origin.to_str().ok();
    match (origin, host) {
        (Some(origin), Some(host)) => origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(|origin_host| origin_host.eq_ignore_ascii_case(host)),
        _ => false,
    }
}

fn cross_site() -> Response {
    (
        StatusCode::FORBIDDEN,
        "refused: this form may only be sent from this server's own pages\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn only_this_hosts_pages_may_post() {
        assert!(same_origin(&headers(&[("host", "127.0.0.1:16686")])));
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:16686"),
            ("origin", "http://127.0.0.1:16686"),
            ("sec-fetch-site", "same-origin"),
        ])));
        assert!(same_origin(&headers(&[
            ("host", "whyslow.example:443"),
            ("origin", "https://whyslow.example:443"),
        ])));
        for refused in [
            headers(&[
                ("host", "127.0.0.1:16686"),
                ("origin", "http://evil.example"),
            ]),
            headers(&[("host", "127.0.0.1:16686"), ("origin", "null")]),
            headers(&[("origin", "http://127.0.0.1:16686")]),
            headers(&[
                ("host", "127.0.0.1:16686"),
                ("sec-fetch-site", "cross-site"),
            ]),
            headers(&[("host", "a.example"), ("sec-fetch-site", "same-site")]),
        ] {
            assert!(!same_origin(&refused), "{refused:?}");
        }
    }

    #[test]
    fn next_is_read_from_forms_and_kept_local() {
        assert_eq!(next_in("token=x&next=%2Fsearch%3Fa%3D1"), "/search?a=1");
        assert_eq!(next_in("next=%2F%2Fevil.example"), "/");
        assert_eq!(next_in("token=x"), "/");
    }
}
