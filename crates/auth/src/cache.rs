//! The verified-token cache: a slow argon2 verification happens once per
//! token, later requests with it cost one keyed BLAKE2b digest and a map lookup
//! (a microsecond). Only tokens that verified are cached, so its size is
//! bounded by the tokens in use and, past `capacity`, by evicting the oldest.
//!
//! Keys are BLAKE2b-256 digests keyed with 32 random bytes drawn per process:
//! the map never holds a token, a memory dump gives nothing to test guesses
//! against, and lookups compare digests an attacker cannot choose, so their
//! timing tells nothing.

use crate::error::RandomError;
use crate::token::random_bytes;
use blake2::digest::consts::U32;
use blake2::digest::{FixedOutput, KeyInit, Update};
use blake2::Blake2bMac;
use std::collections::{HashMap, VecDeque};
use std::fmt;

/// The keyed digest of a token.
pub(crate) type TokenDigest = [u8; 32];

/// Computes [`TokenDigest`]s with a random key of its own.
pub(crate) struct Digester {
    key: [u8; 32],
}

impl Digester {
    /// A digester with a fresh key from the OS RNG.
    pub(crate) fn new() -> Result<Digester, RandomError> {
        Ok(Digester {
            key: random_bytes()?,
        })
    }

    /// The keyed digest of `token`.
    pub(crate) fn digest(&self, token: &[u8]) -> TokenDigest {
        let mut mac = <Blake2bMac<U32> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("32 bytes is a valid BLAKE2b key length"));
        mac.update(token);
        mac.finalize_fixed().into()
    }
}

impl fmt::Debug for Digester {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Digester(…)")
    }
}

/// Digests of verified tokens → the index of the auth-file entry they match.
#[derive(Debug)]
pub(crate) struct VerifiedCache {
    capacity: usize,
    entries: HashMap<TokenDigest, usize>,
    /// Insertion order, oldest first, for eviction.
    order: VecDeque<TokenDigest>,
}

impl VerifiedCache {
    /// A cache of at most `capacity` tokens (0 turns it off).
    pub(crate) fn new(capacity: usize) -> VerifiedCache {
        VerifiedCache {
            capacity,
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// The entry a cached token matched.
    pub(crate) fn get(&self, digest: &TokenDigest) -> Option<usize> {
        self.entries.get(digest).copied()
    }

    /// Remembers a verified token, evicting the oldest when full.
    pub(crate) fn insert(&mut self, digest: TokenDigest, entry: usize) {
        if self.capacity == 0 || self.entries.contains_key(&digest) {
            return;
        }
        while self.entries.len() >= self.capacity {
            match self.order.pop_front() {
                Some(oldest) => {
                    self.entries.remove(&oldest);
                }
                None => break,
            }
        }
        self.entries.insert(digest, entry);
        self.order.push_back(digest);
    }

    /// Tokens cached.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_depend_on_token_and_key() {
        let digester = Digester::new().unwrap();
        assert_eq!(digester.digest(b"token"), digester.digest(b"token"));
        assert_ne!(digester.digest(b"token"), digester.digest(b"tokem"));
        let other = Digester::new().unwrap();
        assert_ne!(digester.digest(b"token"), other.digest(b"token"));
    }

    #[test]
    fn the_cache_is_bounded_and_evicts_the_oldest() {
        let mut cache = VerifiedCache::new(3);
        for i in 0..10u8 {
            cache.insert([i; 32], usize::from(i));
            assert!(cache.len() <= 3);
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get(&[6; 32]), None);
        assert_eq!(cache.get(&[7; 32]), Some(7));
        assert_eq!(cache.get(&[9; 32]), Some(9));
        cache.insert([9; 32], 9);
        assert_eq!(cache.order.len(), 3);
    }

    #[test]
    fn capacity_zero_caches_nothing() {
        let mut cache = VerifiedCache::new(0);
        cache.insert([1; 32], 1);
        assert_eq!(cache.get(&[1; 32]), None);
    }
}
