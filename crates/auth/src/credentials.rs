//! Credentials from an `Authorization` header value: `Bearer TOKEN` (what OTLP
//! exporters, remote_write `authorization` and Pyroscope's auth token send) or
//! `Basic base64(USER:PASSWORD)` (Prometheus `basic_auth`, Grafana data
//! sources), where the password is the token. Scheme names are
//! case-insensitive (RFC 9110). Checking them against the auth file is the
//! authenticator's job.

use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use std::fmt;

/// Standard base64, with or without padding (clients differ).
const BASIC: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What a client presented. `Debug` shows the scheme and user only.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `Bearer TOKEN`.
    Bearer {
        /// The token.
        token: String,
    },
    /// `Basic base64(USER:PASSWORD)`.
    Basic {
        /// The user name (may be empty).
        user: String,
        /// The password: the token.
        token: String,
    },
}

/// The header is neither `Bearer TOKEN` nor `Basic` with valid base64 of `USER:PASSWORD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

impl Credentials {
    /// Parses an `Authorization` header value (bytes, as `HeaderValue::as_bytes`
    /// and gRPC metadata give them).
    pub fn from_header(value: &[u8]) -> Result<Credentials, Malformed> {
        let value = std::str::from_utf8(value).map_err(|_| Malformed)?.trim();
        let (scheme, rest) = value.split_once([' ', '\t']).ok_or(Malformed)?;
        let rest = rest.trim();
        if rest.is_empty() || rest.contains([' ', '\t']) {
            return Err(Malformed);
        }
        if scheme.eq_ignore_ascii_case("bearer") {
            Ok(Credentials::Bearer {
                token: rest.to_string(),
            })
        } else if scheme.eq_ignore_ascii_case("basic") {
            let decoded = BASIC.decode(rest).map_err(|_| Malformed)?;
            let decoded = String::from_utf8(decoded).map_err(|_| Malformed)?;
            let (user, token) = decoded.split_once(':').ok_or(Malformed)?;
            Ok(Credentials::Basic {
                user: user.to_string(),
                token: token.to_string(),
            })
        } else {
            Err(Malformed)
        }
    }

    /// The token, whichever the scheme.
    pub fn token(&self) -> &str {
        match self {
            Credentials::Bearer { token } | Credentials::Basic { token, .. } => token,
        }
    }

    /// The Basic user name, if Basic auth.
    pub fn user(&self) -> Option<&str> {
        match self {
            Credentials::Bearer { .. } => None,
            Credentials::Basic { user, .. } => Some(user),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Bearer { .. } => f.write_str("Bearer(…)"),
            Credentials::Basic { user, .. } => write!(f, "Basic({user:?}, …)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Result<Credentials, Malformed> {
        Credentials::from_header(value.as_bytes())
    }

    fn bearer(token: &str) -> Credentials {
        Credentials::Bearer {
            token: token.into(),
        }
    }

    #[test]
    fn bearer_tokens_parse_with_any_case_and_spacing() {
        assert_eq!(parse("Bearer abc.def-123"), Ok(bearer("abc.def-123")));
        assert_eq!(parse("bearer  abc "), Ok(bearer("abc")));
        assert_eq!(parse("BEARER\tabc"), Ok(bearer("abc")));
    }

    #[test]
    fn basic_gives_user_and_password_as_token() {
        // base64("grafana:pa:ss") — the password may hold ':'.
        let credentials = parse("Basic Z3JhZmFuYTpwYTpzcw==").unwrap();
        assert_eq!(credentials.user(), Some("grafana"));
        assert_eq!(credentials.token(), "pa:ss");
        // Without padding, and with an empty user.
        let credentials = parse("basic OnRva2Vu").unwrap();
        assert_eq!(credentials.user(), Some(""));
        assert_eq!(credentials.token(), "token");
    }

    #[test]
    fn anything_else_is_malformed() {
        for value in [
            "",
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Token abc",
            "Digest username=x",
            "Basic !!!",
            "Basic dXNlcg==", // "user": no colon
            "Basic /w==",     // not UTF-8
        ] {
            assert_eq!(parse(value), Err(Malformed), "{value:?}");
        }
        assert_eq!(Credentials::from_header(b"Bearer \xff"), Err(Malformed));
    }

    #[test]
    fn debug_never_shows_the_token() {
        assert_eq!(format!("{:?}", bearer("secret")), "Bearer(…)");
        let basic = parse("Basic Z3JhZmFuYTpwYTpzcw==").unwrap();
        assert_eq!(format!("{basic:?}"), "Basic(\"grafana\", …)");
    }
}
