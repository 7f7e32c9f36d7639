//! The door of whyslow's listeners: every request shows credentials for the
//! [`Permission`] its route needs before it reaches a handler.
//!
//! 1. Build one [`Gate`] per process over an [`auth::Authenticator`] (the
//!    `--auth-file`), with [`GateOptions`] saying whether browsers may log in.
//! 2. Wrap each axum router with the permission its routes need:
//!    [`Gate::protect`] (`Authorization: Bearer`/`Basic`, or for reads a login
//!    session cookie); add [`Gate::login_routes`] (`/login`, `/logout`) beside
//!    them, unprotected.
//! 3. Add [`GrpcGuardLayer`] to a tonic `Server::builder()`.
//! 4. Wrap the UI port's whole router with [`security_headers`] (with or
//!    without a gate).
//! 5. Give each reader its [`fair_share`] of the query routes (inside the
//!    guard, which names the reader; without a gate, by client address).
//!
//! Refusals: 401 (no valid credentials; a browser opening a page is sent to
//! the login page instead), 403 (valid token, wrong role), 429 with
//! `Retry-After` (the address failed too often), 503 with `Retry-After` (too
//! many first-time tokens waiting for argon2); over gRPC UNAUTHENTICATED,
//! PERMISSION_DENIED, RESOURCE_EXHAUSTED with `RetryInfo`, UNAVAILABLE.
//!
//! The client's address (for the failure limiter) comes from the request's
//! connection info: axum's `ConnectInfo<SocketAddr>` (serve the router with
//! `into_make_service_with_connect_info::<SocketAddr>()`) or tonic's
//! `TcpConnectInfo` (and `TlsConnectInfo` when tonic does TLS). Without it
//! every client shares one address, so the limiter would lock all of them out
//! together: listeners must provide it.
//!
//! Never logged or echoed: tokens, cookies, session ids.
//!
//! Not here: parsing the auth file and checking tokens (the `auth` crate),
//! TLS, which routes need which permission (the caller composing routers).

mod check;
mod cookie;
mod fair_share;
mod grpc_guard;
mod headers;
mod http_guard;
mod login;
mod login_page;
mod next_path;
mod peer;
mod refusal;
mod sessions;

pub use auth::Permission;
pub use fair_share::{fair_share, FairShareOptions};
pub use grpc_guard::{GrpcGuard, GrpcGuardLayer};
pub use headers::{security_headers, CONTENT_SECURITY_POLICY};
pub use refusal::Refusal;

use auth::{Authenticator, Clock, SystemClock};
use sessions::Sessions;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How a [`Gate`] treats browsers and slow checks.
#[derive(Debug, Clone)]
pub struct GateOptions {
    /// Whether browsers may log in with a token (the UI port of `serve`);
    /// without, only `Authorization` headers are taken (the agent).
    pub login: bool,
    /// Mark the session cookie `Secure` (the listener speaks TLS).
    pub secure_cookies: bool,
    /// How long a login lasts.
    pub session_lifetime: Duration,
    /// Most sessions at once; past it the one closest to expiry goes.
    pub max_sessions: usize,
    /// Most requests waiting for a first (argon2) verification of their
    /// token at once; more get 503 and `Retry-After: 1`.
    pub max_waiting_verifications: usize,
    /// Where sessions read the time.
    pub clock: Arc<dyn Clock>,
}

impl Default for GateOptions {
    /// No login; 12-hour sessions, 10 000 of them; 32 verifications waiting.
    fn default() -> Self {
        GateOptions {
            login: false,
            secure_cookies: false,
            session_lifetime: Duration::from_secs(12 * 3600),
            max_sessions: 10_000,
            max_waiting_verifications: 32,
            clock: Arc::new(SystemClock),
        }
    }
}

/// The credentials check shared by every listener of a process.
#[derive(Debug)]
pub struct Gate {
    auth: Arc<Authenticator>,
    /// `None` without [`GateOptions::login`].
    sessions: Option<Sessions>,
    secure_cookies: bool,
    waiting_verifications: Arc<Semaphore>,
}

impl Gate {
    /// A gate over `auth`.
    pub fn new(auth: Arc<Authenticator>, options: GateOptions) -> Arc<Gate> {
        let sessions = options.login.then(|| {
            Sessions::new(
                options.session_lifetime,
                options.max_sessions,
                options.clock,
            )
        });
        Arc::new(Gate {
            auth,
            sessions,
            secure_cookies: options.secure_cookies,
            waiting_verifications: Arc::new(Semaphore::new(options.max_waiting_verifications)),
        })
    }

    /// The authenticator behind the gate.
    pub fn authenticator(&self) -> &Arc<Authenticator> {
        &self.auth
    }

    /// Sessions open now (0 without login).
    pub fn open_sessions(&self) -> usize {
        self.sessions.as_ref().map_or(0, Sessions::len)
    }
}
