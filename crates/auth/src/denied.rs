//! A refused request: why, and the reply that says so over HTTP
//! ([`Denied::status`], [`Denied::headers`], `Display` for the body) and gRPC
//! ([`Denied::grpc_code`]). No message holds the presented credentials.

use crate::identity::Identity;
use crate::role::Permission;
use http::header::{HeaderMap, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use http::StatusCode;
use std::time::Duration;
use thiserror::Error;

/// The challenge of a 401.
pub const CHALLENGE: &str = "Bearer realm=\"whyslow\"";

/// Why credentials did not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No `Authorization` header.
    NoCredentials,
    /// An `Authorization` header that is neither Bearer nor Basic.
    Malformed,
    /// No auth-file token matches (for Basic: none with that user name).
    NoMatch,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Denied {
    /// No valid credentials: 401 with `WWW-Authenticate: Bearer realm="whyslow"`.
    #[error("{}", unauthenticated_message(*.0))]
    Unauthenticated(Failure),
    /// A valid token whose role lacks the permission: 403.
    #[error("the token of {identity} has role {role}, which may not {permission}", role = identity.role)]
    Forbidden {
        /// Whose token it is.
        identity: Identity,
        /// What the route needed.
        permission: Permission,
    },
    /// Too many failures from the client's address: 429 with `Retry-After`.
    #[error(
        "too many failed authentication attempts from this address; retry in {} s",
        retry_after_s(*retry_after)
    )]
    RateLimited {
        /// How long the address stays refused.
        retry_after: Duration,
    },
}

fn unauthenticated_message(failure: Failure) -> &'static str {
    match failure {
        Failure::NoCredentials => {
            "authentication required: send 'Authorization: Bearer TOKEN' \
             (or Basic auth with the token as password)"
        }
        Failure::Malformed => {
            "the Authorization header is neither 'Bearer TOKEN' nor Basic auth (base64 of USER:TOKEN)"
        }
        Failure::NoMatch => "invalid credentials",
    }
}

/// Whole seconds, rounded up, at least 1.
fn retry_after_s(retry_after: Duration) -> u64 {
    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    seconds.max(1)
}

impl Denied {
    /// 401, 403 or 429.
    pub fn status(&self) -> StatusCode {
        match self {
            Denied::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Denied::Forbidden { .. } => StatusCode::FORBIDDEN,
            Denied::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// The headers the status needs: `WWW-Authenticate` for 401, `Retry-After` for 429.
    pub fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        match self {
            Denied::Unauthenticated(_) => {
                headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(CHALLENGE));
            }
            Denied::Forbidden { .. } => {}
            Denied::RateLimited { retry_after } => {
                headers.insert(RETRY_AFTER, HeaderValue::from(retry_after_s(*retry_after)));
            }
        }
        headers
    }

    /// The gRPC status code: UNAUTHENTICATED (16), PERMISSION_DENIED (7) or
    /// RESOURCE_EXHAUSTED (8), for `tonic::Code::from_i32`.
    pub fn grpc_code(&self) -> i32 {
        match self {
            Denied::Unauthenticated(_) => 16,
            Denied::Forbidden { .. } => 7,
            Denied::RateLimited { .. } => 8,
        }
    }

    /// For 429: whole seconds to wait, as `Retry-After` says.
    pub fn retry_after_s(&self) -> Option<u64> {
        match self {
            Denied::RateLimited { retry_after } => Some(retry_after_s(*retry_after)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::Role;

    #[test]
    fn each_refusal_has_its_status_headers_and_grpc_code() {
        let unauthenticated = Denied::Unauthenticated(Failure::NoMatch);
        assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            unauthenticated.headers()[WWW_AUTHENTICATE],
            "Bearer realm=\"whyslow\""
        );
        assert_eq!(unauthenticated.grpc_code(), 16);

        let forbidden = Denied::Forbidden {
            identity: Identity {
                name: Some("grafana".into()),
                role: Role::Read,
                line: 2,
            },
            permission: Permission::Ingest,
        };
        assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
        assert!(forbidden.headers().is_empty());
        assert_eq!(forbidden.grpc_code(), 7);
        assert_eq!(
            forbidden.to_string(),
            "the token of grafana has role read, which may not ingest"
        );

        let limited = Denied::RateLimited {
            retry_after: Duration::from_millis(59_001),
        };
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.headers()[RETRY_AFTER], "60");
        assert_eq!(limited.retry_after_s(), Some(60));
        assert_eq!(limited.grpc_code(), 8);
    }

    #[test]
    fn retry_after_is_at_least_a_second() {
        assert_eq!(retry_after_s(Duration::ZERO), 1);
        assert_eq!(retry_after_s(Duration::from_secs(300)), 300);
    }
}
