//! A fast, randomly keyed hasher for the span-metrics tables, which hash on
//! every ingested span. SipHash (std's default) costs ~25% of the per-span
//! work there; this folded-multiply hash (the construction foldhash and
//! ahash's fallback use) is several times cheaper. Keys are sender-chosen
//! strings and ids, so the hasher is keyed from [`RandomState`] per table:
//! aiming collisions needs the key. Not for anything cryptographic.

use std::hash::{BuildHasher, Hasher, RandomState};

/// Builds [`KeyedHasher`]s with one random key per instance.
#[derive(Debug, Clone)]
pub struct KeyedState {
    seed: u64,
    key: u64,
}

impl Default for KeyedState {
    fn default() -> Self {
        let random = RandomState::new();
        Self {
            seed: random.hash_one(0x5eed_u64),
            key: random.hash_one(0x0b5e_55ed_u64) | 1,
        }
    }
}

impl BuildHasher for KeyedState {
    type Hasher = KeyedHasher;
    fn build_hasher(&self) -> KeyedHasher {
        KeyedHasher {
            acc: self.seed,
            key: self.key,
        }
    }
}

/// Folded 64×64→128 multiply: the two halves xor-ed.
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// See the module doc.
#[derive(Debug, Clone)]
pub struct KeyedHasher {
    acc: u64,
    key: u64,
}

impl KeyedHasher {
    fn mix(&mut self, word: u64) {
        self.acc = fold(self.acc ^ word, self.key);
    }
}

impl Hasher for KeyedHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            // The length in the free top byte tells "ab" from "ab\0".
            word[7] = rest.len() as u8;
            self.mix(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.mix(u64::from(value) | 0x100);
    }

    fn write_u64(&mut self, value: u64) {
        self.mix(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.mix(value as u64);
    }

    fn finish(&self) -> u64 {
        fold(self.acc, self.key.rotate_left(32) ^ 0x9e37_79b9_7f4a_7c15)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_hash_equal_and_near_keys_differ() {
        let state = KeyedState::default();
        assert_eq!(
            state.hash_one(("svc", "GET /a", 2u8)),
            state.hash_one(("svc", "GET /a", 2u8))
        );
        let mut seen = std::collections::HashSet::new();
        for key in [
            ("ab", ""),
            ("ab\0", ""),
            ("a", "b"),
            ("", "ab"),
            ("abcdefgh", ""),
            ("abcdefg", "h"),
        ] {
            assert!(seen.insert(state.hash_one(key)), "{key:?}");
        }
    }

    #[test]
    fn tables_get_different_keys() {
        let (a, b) = (KeyedState::default(), KeyedState::default());
        assert_ne!(a.hash_one("x"), b.hash_one("x"));
    }
}
