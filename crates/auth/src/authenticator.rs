//! The [`Authenticator`]: decides whether a request's `Authorization` header
//! grants a permission, for HTTP middleware and gRPC interceptors alike.
//!
//! Steps of [`Authenticator::authorize`]: refuse an address that failed too
//! often (429); parse the header (none or malformed: 401); find the token's
//! entry, first in the verified-token cache, else by argon2 against each entry
//! (one verification at a time process-wide, so concurrent guesses cannot
//! multiply argon2's memory); check the role (403). Failed credentials count
//! against the address; a missing header does not (it is no guess).
//!
//! Basic auth: the password is the token. A line with a NAME accepts only that
//! NAME as user name; a line without one accepts any user name.

use crate::auth_file::{AuthFile, Entry};
use crate::cache::{Digester, VerifiedCache};
use crate::clock::{Clock, SystemClock};
use crate::credentials::Credentials;
use crate::denied::{Denied, Failure};
use crate::error::RandomError;
use crate::identity::Identity;
use crate::limiter::{FailureLimiter, RateLimit};
use crate::role::Permission;
use crate::token::check_token;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// How an [`Authenticator`] limits and caches.
#[derive(Debug, Clone)]
pub struct Options {
    /// Failed attempts per client address.
    pub rate_limit: RateLimit,
    /// Most verified tokens cached (0: verify with argon2 every time).
    pub cache_capacity: usize,
    /// The time source of the rate limiter.
    pub clock: Arc<dyn Clock>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            rate_limit: RateLimit::default(),
            cache_capacity: 1024,
            clock: Arc::new(SystemClock),
        }
    }
}

/// Checks credentials against an [`AuthFile`]. Share one per process
/// (`Arc<Authenticator>`): the cache and the limiter live inside.
///
/// Basic auth (Prometheus `basic_auth`, Grafana): the password is the token;
/// a line with a NAME accepts only that NAME as user name, a line without one
/// any user name. A token of another scheme, or one [`check_token`] refuses,
/// never matches. Failed credentials count against the client's address (see
/// [`RateLimit`]); a missing header and a valid token lacking the role do not.
/// argon2 runs for one request at a time, so guesses cannot multiply its
/// memory (19 MiB per verification with `whyslow auth hash`'s parameters).
pub struct Authenticator {
    entries: Vec<Entry>,
    identities: Vec<Identity>,
    digester: Digester,
    cache: Mutex<VerifiedCache>,
    limiter: Mutex<FailureLimiter>,
    /// Held while argon2 runs: one verification at a time.
    slow_verify: Mutex<()>,
    clock: Arc<dyn Clock>,
}

impl Authenticator {
    /// An authenticator with the default [`Options`].
    pub fn new(file: AuthFile) -> Result<Authenticator, RandomError> {
        Authenticator::with_options(file, Options::default())
    }

    /// An authenticator with the given limits; fails only if the OS RNG does
    /// (the cache key is random).
    pub fn with_options(file: AuthFile, options: Options) -> Result<Authenticator, RandomError> {
        let identities = file
            .entries
            .iter()
            .map(|entry| Identity {
                name: entry.name.as_deref().map(Arc::from),
                role: entry.role,
                line: entry.line,
            })
            .collect();
        Ok(Authenticator {
            entries: file.entries,
            identities,
            digester: Digester::new()?,
            cache: Mutex::new(VerifiedCache::new(options.cache_capacity)),
            limiter: Mutex::new(FailureLimiter::new(options.rate_limit)),
            slow_verify: Mutex::new(()),
            clock: options.clock,
        })
    }

    /// Whether the request may do `permission`: `header` is the value of its
    /// `Authorization` header (`None` without one), `client` its peer address.
    ///
    /// May run argon2 (tens of milliseconds) for a token not yet cached; async
    /// servers call [`authorize_cached`](Self::authorize_cached) first and this
    /// one on a blocking thread only when that returns `None`.
    pub fn authorize(
        &self,
        header: Option<&[u8]>,
        client: IpAddr,
        permission: Permission,
    ) -> Result<Identity, Denied> {
        self.decide(header, client, permission, true)
            .unwrap_or(Err(Denied::Unauthenticated(Failure::NoMatch)))
    }

    /// Like [`authorize`](Self::authorize) but never slow: `None` when the
    /// answer needs an argon2 verification.
    pub fn authorize_cached(
        &self,
        header: Option<&[u8]>,
        client: IpAddr,
        permission: Permission,
    ) -> Option<Result<Identity, Denied>> {
        self.decide(header, client, permission, false)
    }

    /// Checks parsed credentials, without the per-address limiter (which
    /// needs the client's address: see [`authorize`](Self::authorize)).
    pub fn check(
        &self,
        credentials: &Credentials,
        permission: Permission,
    ) -> Result<Identity, Denied> {
        let found = self
            .find(credentials, true)
            .unwrap_or(Err(Failure::NoMatch));
        self.permit(found, permission)
    }

    /// Tokens in the verified cache.
    pub fn cached_tokens(&self) -> usize {
        lock(&self.cache).len()
    }

    fn decide(
        &self,
        header: Option<&[u8]>,
        client: IpAddr,
        permission: Permission,
        slow: bool,
    ) -> Option<Result<Identity, Denied>> {
        if let Some(retry_after) = lock(&self.limiter).blocked(client, self.clock.now()) {
            return Some(Err(Denied::RateLimited { retry_after }));
        }
        let Some(header) = header else {
            return Some(Err(Denied::Unauthenticated(Failure::NoCredentials)));
        };
        let found = match Credentials::from_header(header) {
            Ok(credentials) => self.find(&credentials, slow)?,
            Err(_) => Err(Failure::Malformed),
        };
        if found.is_err() {
            lock(&self.limiter).record_failure(client, self.clock.now());
        }
        Some(self.permit(found, permission))
    }

    fn permit(
        &self,
        found: Result<usize, Failure>,
        permission: Permission,
    ) -> Result<Identity, Denied> {
        let index = found.map_err(Denied::Unauthenticated)?;
        let identity = self
            .identities
            .get(index)
            .cloned()
            .ok_or(Denied::Unauthenticated(Failure::NoMatch))?;
        if identity.role.allows(permission) {
            Ok(identity)
        } else {
            Err(Denied::Forbidden {
                identity,
                permission,
            })
        }
    }

    /// The index of the entry `credentials` match; `None` if that takes argon2 and `slow` is false.
    fn find(&self, credentials: &Credentials, slow: bool) -> Option<Result<usize, Failure>> {
        let token = credentials.token();
        // No entry can hold a token `whyslow auth hash` would refuse: skip argon2.
        if check_token(token).is_err() {
            return Some(Err(Failure::NoMatch));
        }
        let user = credentials.user();
        let digest = self.digester.digest(token.as_bytes());
        if let Some(found) = self.cached(&digest, user) {
            return Some(found);
        }
        if !slow {
            return None;
        }
        let _one_at_a_time = lock(&self.slow_verify);
        // Another thread may have verified the same token while this one waited.
        if let Some(found) = self.cached(&digest, user) {
            return Some(found);
        }
        let matched = self
            .entries
            .iter()
            .position(|entry| name_accepts(entry, user) && entry.hash.verify(token.as_bytes()));
        Some(match matched {
            Some(index) => {
                lock(&self.cache).insert(digest, index);
                Ok(index)
            }
            None => Err(Failure::NoMatch),
        })
    }

    fn cached(&self, digest: &[u8; 32], user: Option<&str>) -> Option<Result<usize, Failure>> {
        let index = lock(&self.cache).get(digest)?;
        let accepted = self
            .entries
            .get(index)
            .is_some_and(|entry| name_accepts(entry, user));
        Some(if accepted {
            Ok(index)
        } else {
            Err(Failure::NoMatch)
        })
    }
}

/// Basic auth's user name must be the line's NAME when it has one.
fn name_accepts(entry: &Entry, user: Option<&str>) -> bool {
    match (user, &entry.name) {
        (Some(user), Some(name)) => user == name,
        _ => true,
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("tokens", &self.entries.len())
            .field("cached_tokens", &self.cached_tokens())
            .field("tracked_addresses", &lock(&self.limiter).tracked())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::hash::tests::cheap_hash;
    use crate::role::Role;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use std::net::Ipv4Addr;
    use std::path::Path;
    use std::time::{Duration, Instant};

    const INGEST: &str = "ingest-token-0123456789";
    const READ: &str = "read-token-0123456789";
    const ADMIN: &str = "admin-token-0123456789";
    const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

    fn file() -> AuthFile {
        let text = format!(
            "ingest {} agents\nread {} grafana\nadmin {}\n",
            cheap_hash(INGEST),
            cheap_hash(READ),
            cheap_hash(ADMIN)
        );
        AuthFile::parse(Path::new("auth.txt"), text.as_bytes()).unwrap()
    }

    fn authenticator(clock: Arc<ManualClock>) -> Authenticator {
        let options = Options {
            clock,
            ..Options::default()
        };
        Authenticator::with_options(file(), options).unwrap()
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    fn basic(user: &str, token: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{user}:{token}")))
    }

    fn authorize(
        auth: &Authenticator,
        header: &str,
        permission: Permission,
    ) -> Result<Identity, Denied> {
        auth.authorize(Some(header.as_bytes()), CLIENT, permission)
    }

    #[test]
    fn tokens_get_what_their_role_allows() {
        let auth = authenticator(Arc::default());
        let agents = authorize(&auth, &bearer(INGEST), Permission::Ingest).unwrap();
        assert_eq!(
            (agents.to_string(), agents.role),
            ("agents".into(), Role::Ingest)
        );
        let grafana = authorize(&auth, &bearer(READ), Permission::Read).unwrap();
        assert_eq!(grafana.to_string(), "grafana");
        let admin = authorize(&auth, &bearer(ADMIN), Permission::Ingest).unwrap();
        assert_eq!(admin.to_string(), "line 3");
        assert!(authorize(&auth, &bearer(ADMIN), Permission::Read).is_ok());
    }

    #[test]
    fn a_valid_token_without_the_role_is_forbidden() {
        let auth = authenticator(Arc::default());
        let denied = authorize(&auth, &bearer(READ), Permission::Ingest).unwrap_err();
        assert!(matches!(
            &denied,
            Denied::Forbidden { identity, permission: Permission::Ingest } if identity.role == Role::Read
        ));
        assert_eq!(denied.status(), http::StatusCode::FORBIDDEN);
        assert!(matches!(
            authorize(&auth, &bearer(INGEST), Permission::Read),
            Err(Denied::Forbidden { .. })
        ));
    }

    #[test]
    fn missing_malformed_and_wrong_credentials_are_unauthenticated() {
        let auth = authenticator(Arc::default());
        let missing = auth.authorize(None, CLIENT, Permission::Read).unwrap_err();
        assert_eq!(missing, Denied::Unauthenticated(Failure::NoCredentials));
        assert_eq!(missing.status(), http::StatusCode::UNAUTHORIZED);
        assert_eq!(
            authorize(&auth, "Token abc", Permission::Read),
            Err(Denied::Unauthenticated(Failure::Malformed))
        );
        for wrong in ["read-token-012345678X", "short", ""] {
            assert_eq!(
                authorize(&auth, &bearer(wrong), Permission::Read),
                Err(Denied::Unauthenticated(if wrong.is_empty() {
                    Failure::Malformed
                } else {
                    Failure::NoMatch
                })),
                "{wrong:?}"
            );
        }
    }

    #[test]
    fn basic_auth_takes_the_token_as_password_and_checks_the_name() {
        let auth = authenticator(Arc::default());
        assert!(authorize(&auth, &basic("grafana", READ), Permission::Read).is_ok());
        // Cached now; the name still has to match.
        assert_eq!(
            authorize(&auth, &basic("someone", READ), Permission::Read),
            Err(Denied::Unauthenticated(Failure::NoMatch))
        );
        assert_eq!(
            authorize(&auth, &basic("", READ), Permission::Read),
            Err(Denied::Unauthenticated(Failure::NoMatch))
        );
        // The admin line has no NAME: any user name will do.
        assert!(authorize(&auth, &basic("prometheus", ADMIN), Permission::Ingest).is_ok());
        assert!(authorize(&auth, &basic("", ADMIN), Permission::Read).is_ok());
    }

    #[test]
    fn a_verified_token_is_cached_and_then_checked_in_microseconds() {
        let auth = authenticator(Arc::default());
        let header = bearer(INGEST);
        let ask = || auth.authorize_cached(Some(header.as_bytes()), CLIENT, Permission::Ingest);
        assert_eq!(ask(), None, "not verified yet: needs argon2");
        assert!(authorize(&auth, &header, Permission::Ingest).is_ok());
        assert!(matches!(ask(), Some(Ok(_))));
        let rounds = 2_000u32;
        let start = Instant::now();
        for _ in 0..rounds {
            assert!(authorize(&auth, &header, Permission::Ingest).is_ok());
        }
        let per_check = start.elapsed() / rounds;
        // A few µs in release, tens in a debug build; argon2 takes milliseconds.
        assert!(
            per_check < Duration::from_micros(200),
            "{per_check:?} per cached check"
        );
        assert_eq!(auth.cached_tokens(), 1);
    }

    #[test]
    fn wrong_tokens_are_not_cached_and_the_cache_is_bounded() {
        let options = Options {
            cache_capacity: 1,
            ..Options::default()
        };
        let auth = Authenticator::with_options(file(), options).unwrap();
        assert!(authorize(&auth, &bearer("wrong-token-0123456789"), Permission::Read).is_err());
        assert_eq!(auth.cached_tokens(), 0);
        assert!(authorize(&auth, &bearer(READ), Permission::Read).is_ok());
        assert!(authorize(&auth, &bearer(ADMIN), Permission::Read).is_ok());
        assert_eq!(auth.cached_tokens(), 1);
        // An evicted token verifies again, slowly, and is still accepted.
        assert!(authorize(&auth, &bearer(READ), Permission::Read).is_ok());
    }

    #[test]
    fn failures_trip_the_limiter_and_it_recovers() {
        let clock = Arc::new(ManualClock::new());
        let auth = authenticator(clock.clone());
        let other = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
        // A missing header and a forbidden token are no guesses.
        for _ in 0..20 {
            assert!(auth.authorize(None, CLIENT, Permission::Read).is_err());
            assert!(authorize(&auth, &bearer(READ), Permission::Ingest).is_err());
        }
        for _ in 0..10 {
            let denied = authorize(&auth, &bearer("wrong"), Permission::Read).unwrap_err();
            assert_eq!(denied, Denied::Unauthenticated(Failure::NoMatch));
        }
        // Even the right token is refused now, without being checked.
        let denied = authorize(&auth, &bearer(READ), Permission::Read).unwrap_err();
        assert_eq!(denied.status(), http::StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(denied.headers()[http::header::RETRY_AFTER], "300");
        assert_eq!(
            auth.authorize_cached(Some(bearer(READ).as_bytes()), CLIENT, Permission::Read),
            Some(Err(denied))
        );
        let from_other = auth.authorize(Some(bearer(READ).as_bytes()), other, Permission::Read);
        assert!(from_other.is_ok(), "other addresses are not affected");
        clock.advance(Duration::from_secs(299));
        assert_eq!(
            authorize(&auth, &bearer(READ), Permission::Read)
                .unwrap_err()
                .retry_after_s(),
            Some(1)
        );
        clock.advance(Duration::from_secs(1));
        assert!(authorize(&auth, &bearer(READ), Permission::Read).is_ok());
    }

    #[test]
    fn debug_output_holds_no_secret() {
        let auth = authenticator(Arc::default());
        assert!(authorize(&auth, &bearer(READ), Permission::Read).is_ok());
        assert_eq!(
            format!("{auth:?}"),
            "Authenticator { tokens: 3, cached_tokens: 1, tracked_addresses: 0, .. }"
        );
    }
}
