//! The axum guard: [`Gate::protect`] wraps a router so that each request
//! shows credentials for the router's permission first.
//!
//! Credentials, in order: an `Authorization` header (Bearer or Basic, checked
//! by the authenticator; when present it alone decides); for reads, a login
//! session cookie. A browser opening a page (GET or HEAD asking for HTML)
//! without either is sent to `/login?next=PAGE` when the gate has login; every
//! other refusal is a plain-text 401, 403, 429 or 503. The accepted
//! [`Identity`] goes into the request's extensions for handlers.

use crate::cookie;
use crate::next_path::login_location;
use crate::peer::peer_ip;
use crate::refusal::Refusal;
use crate::Gate;
use auth::{Denied, Failure, Identity, Permission};
use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, AUTHORIZATION, CACHE_CONTROL, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::sync::Arc;

/// What the middleware needs: the gate and the routes' permission.
#[derive(Clone)]
struct Guard {
    gate: Arc<Gate>,
    permission: Permission,
}

impl Gate {
    /// `router` with every route, and its fallback, requiring `permission`.
    pub fn protect(self: &Arc<Self>, router: Router, permission: Permission) -> Router {
        let guard = Guard {
            gate: Arc::clone(self),
            permission,
        };
        router.layer(axum::middleware::from_fn_with_state(guard, guard_request))
    }

    /// The identity of the request's session cookie, if one is open and may read.
    pub(crate) fn session_identity(&self, headers: &HeaderMap) -> Option<Identity> {
        let sessions = self.sessions.as_ref()?;
        cookie::session_ids(headers)
            .find_map(|id| sessions.identity(id))
            .filter(|identity| identity.role.allows(Permission::Read))
    }

    /// The request's identity, or the response turning it away.
    async fn admit(
        &self,
        request: &mut Request,
        permission: Permission,
    ) -> Result<Identity, Response> {
        let client = peer_ip(request.extensions_mut());
        let header = request
            .headers()
            .get(AUTHORIZATION)
            .map(|value| value.as_bytes().to_vec());
        if header.is_none() && permission == Permission::Read {
            if let Some(identity) = self.session_identity(request.headers()) {
                return Ok(identity);
            }
        }
        match self
            .check_header(header.as_deref(), client, permission)
            .await
        {
            Ok(identity) => Ok(identity),
            Err(Refusal::Denied(Denied::Unauthenticated(Failure::NoCredentials)))
                if self.sends_to_login(request, permission) =>
            {
                Err(self.to_login(request))
            }
            Err(refusal) => Err(refusal.into_response()),
        }
    }

    /// A browser opening a page that a login would let it read.
    fn sends_to_login(&self, request: &Request, permission: Permission) -> bool {
        let opens_a_page = matches!(*request.method(), Method::GET | Method::HEAD)
            && request
                .headers()
                .get_all(ACCEPT)
                .iter()
                .any(|accept| accept.to_str().is_ok_and(|a| a.contains("text/html")));
        self.sessions.is_some() && permission == Permission::Read && opens_a_page
    }

    /// 303 to the login page, which sends the browser back here; a stale
    /// session cookie is cleared.
    fn to_login(&self, request: &Request) -> Response {
        let back = request
            .uri()
            .path_and_query()
            .map_or("/", |path| path.as_str());
        let location = HeaderValue::from_str(&login_location(back))
            .unwrap_or_else(|_| HeaderValue::from_static("/login"));
        let mut response = (
            StatusCode::SEE_OTHER,
            [
                (LOCATION, location),
                (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response();
        if cookie::session_ids(request.headers()).next().is_some() {
            response
                .headers_mut()
                .insert(SET_COOKIE, cookie::clear(self.secure_cookies));
        }
        response
    }
}

async fn guard_request(State(guard): State<Guard>, mut request: Request, next: Next) -> Response {
    match guard.gate.admit(&mut request, guard.permission).await {
        Ok(identity) => {
            request.extensions_mut().insert(identity);
            next.run(request).await
        }
        Err(turned_away) => turned_away,
    }
}
