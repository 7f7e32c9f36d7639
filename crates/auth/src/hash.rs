//! The slow, salted hash of a token: argon2id in the PHC string format
//! (`$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH`). [`hash_token`] makes one,
//! [`TokenHash`] is one checked for use (parsed once, its cost bounded) and
//! verifies a presented token in constant time. Caching verified tokens is in
//! `cache.rs`.

use crate::error::{BadHash, HashError};
use crate::token::check_token;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};
use std::fmt;

/// Most memory one verification may use, KiB (256 MiB; `whyslow auth hash` uses 19 MiB).
pub const MAX_MEMORY_KIB: u32 = 256 * 1024;
/// Most passes over memory (`whyslow auth hash` uses 2).
pub const MAX_TIME_COST: u32 = 16;
/// Most lanes (`whyslow auth hash` uses 1).
pub const MAX_LANES: u32 = 16;

/// Hashes `token` with argon2id, OWASP's parameters (19 MiB, 2 passes, 1 lane)
/// and a fresh 16-byte salt from the OS RNG; the result is a PHC string.
///
/// The token must pass [`check_token`](crate::check_token).
pub fn hash_token(token: &str) -> Result<String, HashError> {
    check_token(token)?;
    let hash = Argon2::default()
        .hash_password(token.as_bytes())
        .map_err(HashError::Argon2)?;
    Ok(hash.to_string())
}

/// An argon2 hash fit for verifying tokens: it parses, names argon2 with a
/// known version, carries a salt and an output, and its cost is bounded
/// ([`MAX_MEMORY_KIB`], [`MAX_TIME_COST`], [`MAX_LANES`]).
#[derive(Clone, PartialEq, Eq)]
pub struct TokenHash {
    hash: PasswordHash,
    params: Params,
}

impl TokenHash {
    /// Checks a PHC string.
    pub fn parse(text: &str) -> Result<TokenHash, BadHash> {
        let Some(rest) = text.strip_prefix('$') else {
            return Err(BadHash::NotPhc);
        };
        // The algorithm first, so that bcrypt's `$2y$…` is named as such, not as a bad PHC string.
        let algorithm = rest.split('$').next().unwrap_or_default();
        Algorithm::try_from(algorithm).map_err(|_| BadHash::NotArgon2)?;
        let hash =
            PasswordHash::new(text).map_err(|error| BadHash::Malformed(error.to_string()))?;
        if hash.salt.is_none() || hash.hash.is_none() {
            return Err(BadHash::Incomplete);
        }
        if let Some(version) = hash.version {
            Version::try_from(version).map_err(|error| BadHash::Params(error.to_string()))?;
        }
        let params = Params::try_from(&hash).map_err(|error| BadHash::Params(error.to_string()))?;
        if params.m_cost() > MAX_MEMORY_KIB
            || params.t_cost() > MAX_TIME_COST
            || params.p_cost() > MAX_LANES
        {
            return Err(BadHash::TooCostly {
                memory_kib: params.m_cost(),
                time_cost: params.t_cost(),
                lanes: params.p_cost(),
                max_memory_kib: MAX_MEMORY_KIB,
                max_time_cost: MAX_TIME_COST,
                max_lanes: MAX_LANES,
            });
        }
        Ok(TokenHash { hash, params })
    }

    /// Whether `token` is the one hashed. Slow (that is the point: ~20 ms
    /// with the default parameters); the output comparison is constant-time.
    pub fn verify(&self, token: &[u8]) -> bool {
        Argon2::default().verify_password(token, &self.hash).is_ok()
    }

    /// Memory one verification takes, KiB.
    pub fn memory_kib(&self) -> u32 {
        self.params.m_cost()
    }
}

/// Shows the algorithm and cost only: salt and output stay out of logs.
impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TokenHash(${}$m={},t={},p={}$…)",
            self.hash.algorithm,
            self.params.m_cost(),
            self.params.t_cost(),
            self.params.p_cost()
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::TokenError;

    /// A fast hash for tests (m=64 KiB, t=1): same format, 1/300 of the work.
    pub(crate) fn cheap_hash(token: &str) -> String {
        let params = Params::new(64, 1, 1, None).unwrap();
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(token.as_bytes())
            .unwrap()
            .to_string()
    }

    #[test]
    fn a_hash_verifies_its_token_only() {
        let text = hash_token("correct horse battery").unwrap_err();
        assert!(matches!(
            text,
            HashError::Token(TokenError::Character { position: 8 })
        ));
        let text = hash_token("correct-horse-battery").unwrap();
        assert!(text.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let hash = TokenHash::parse(&text).unwrap();
        assert!(hash.verify(b"correct-horse-battery"));
        assert!(!hash.verify(b"correct-horse-batterY"));
        assert!(!hash.verify(b""));
    }

    #[test]
    fn the_same_token_hashes_differently_each_time() {
        assert_ne!(
            cheap_hash("0123456789abcdef"),
            cheap_hash("0123456789abcdef")
        );
    }

    #[test]
    fn debug_hides_salt_and_output() {
        let text = cheap_hash("0123456789abcdef");
        let shown = format!("{:?}", TokenHash::parse(&text).unwrap());
        assert_eq!(shown, "TokenHash($argon2id$m=64,t=1,p=1$…)");
    }

    #[test]
    fn unusable_hashes_are_refused_with_the_reason() {
        assert_eq!(TokenHash::parse("0123456789abcdef"), Err(BadHash::NotPhc));
        assert!(matches!(
            TokenHash::parse("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$!!"),
            Err(BadHash::Malformed(_))
        ));
        let scrypt = "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E";
        assert_eq!(TokenHash::parse(scrypt), Err(BadHash::NotArgon2));
        let bcrypt = "$2y$10$abcdefghijklmnopqrstuvABCDEFGHIJKLMNOPQRSTUVWXYZ01234";
        assert_eq!(TokenHash::parse(bcrypt), Err(BadHash::NotArgon2));
        assert_eq!(TokenHash::parse("$"), Err(BadHash::NotArgon2));
        assert_eq!(
            TokenHash::parse("$argon2id$v=19$m=64,t=1,p=1"),
            Err(BadHash::Incomplete)
        );
        let good = cheap_hash("0123456789abcdef");
        let bad_version = good.replace("v=19", "v=18");
        assert!(matches!(
            TokenHash::parse(&bad_version),
            Err(BadHash::Params(_))
        ));
        let huge = good.replace("m=64", "m=4294967295");
        assert!(matches!(
            TokenHash::parse(&huge),
            Err(BadHash::TooCostly { .. })
        ));
    }
}
