//! Authentication for whyslow's listeners: who may write signals and who may
//! read them.
//!
//! 1. [`AuthFile::load`] reads the `--auth-file`: one token a line,
//!    `ROLE HASH [NAME]`, with ROLE `ingest`, `read` or `admin` and HASH the
//!    argon2id PHC string [`hash_token`] makes (`whyslow auth hash`).
//! 2. [`Authenticator::new`] takes it and is shared by every listener.
//! 3. Each request passes its `Authorization` header value (`Bearer TOKEN`, or
//!    `Basic` with the token as password and, for a line with a NAME, that
//!    NAME as user name; any user name for a line without) and peer address to
//!    [`Authenticator::authorize`] with the [`Permission`] the route needs,
//!    and gets the [`Identity`] of the token or why it is [`Denied`]: 401
//!    (no valid credentials), 403 (valid token, wrong role) or 429 (the
//!    address failed too often). [`Denied::status`], [`Denied::headers`] and
//!    `Display` make the HTTP reply; [`Denied::grpc_code`] the gRPC one.
//!
//! argon2 is slow on purpose, so a verified token is cached (keyed digest →
//! entry); only the first request with a token pays for a verification.
//!
//! ```
//! use auth::{hash_token, AuthFile, Authenticator, Denied, Permission};
//! use std::net::{IpAddr, Ipv4Addr};
//! use std::path::Path;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let token = "an-example-token-not-for-real-use";
//! let text = format!("ingest {} agents\n", hash_token(token)?);
//! let auth = Authenticator::new(AuthFile::parse(Path::new("auth.txt"), text.as_bytes())?)?;
//!
//! let client = IpAddr::V4(Ipv4Addr::LOCALHOST);
//! let header = format!("Bearer {token}");
//! let identity = auth.authorize(Some(header.as_bytes()), client, Permission::Ingest)?;
//! assert_eq!(identity.to_string(), "agents");
//!
//! let denied = auth.authorize(Some(header.as_bytes()), client, Permission::Read).unwrap_err();
//! assert!(matches!(denied, Denied::Forbidden { .. }));
//! assert_eq!(denied.status(), http::StatusCode::FORBIDDEN);
//! # Ok(())
//! # }
//! ```
//!
//! In an axum middleware, the cached path first and argon2 off the async
//! threads (a sketch):
//!
//! ```text
//! let header = request.headers().get(AUTHORIZATION).map(|v| v.as_bytes().to_vec());
//! let ip = connect_info.ip();
//! let decision = match auth.authorize_cached(header.as_deref(), ip, Permission::Read) {
//!     Some(decision) => decision,
//!     None => {
//!         let auth = auth.clone(); // Arc<Authenticator>
//!         spawn_blocking(move || auth.authorize(header.as_deref(), ip, Permission::Read)).await?
//!     }
//! };
//! match decision {
//!     Ok(identity) => { request.extensions_mut().insert(identity); next.run(request).await }
//!     Err(denied) => (denied.status(), denied.headers(), denied.to_string()).into_response(),
//! }
//! ```
//!
//! In a tonic interceptor (synchronous; a token's first request verifies inline):
//!
//! ```text
//! let header = request.metadata().get("authorization").map(|v| v.as_bytes());
//! let ip = request.remote_addr().map(|a| a.ip()).unwrap_or(Ipv4Addr::UNSPECIFIED.into());
//! auth.authorize(header, ip, Permission::Ingest)
//!     .map_err(|denied| Status::new(Code::from_i32(denied.grpc_code()), denied.to_string()))?;
//! ```
//!
//! Not here: TLS, sessions and cookies for the UI, reloading the file (build
//! a new `Authenticator`), wiring into the servers.

mod auth_file;
mod authenticator;
mod cache;
mod clock;
mod credentials;
mod denied;
mod error;
mod hash;
mod identity;
mod limiter;
mod name;
mod role;
mod token;

pub use auth_file::{AuthFile, Entry};
pub use authenticator::{Authenticator, Options};
pub use clock::{Clock, ManualClock, SystemClock};
pub use credentials::{Credentials, Malformed};
pub use denied::{Denied, Failure, CHALLENGE};
pub use error::{AuthFileError, BadHash, BadName, HashError, RandomError, TokenError};
pub use hash::{hash_token, TokenHash, MAX_LANES, MAX_MEMORY_KIB, MAX_TIME_COST};
pub use identity::Identity;
pub use limiter::RateLimit;
pub use name::{check_name, MAX_NAME_LEN};
pub use role::{Permission, Role, UnknownRole};
pub use token::{
    check_token, new_token, token_from_line, MAX_TOKEN_LEN, MIN_TOKEN_LEN, NEW_TOKEN_BYTES,
};
