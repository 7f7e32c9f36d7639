//! The hash of an attribute token (`key` and the value's text form) in the
//! granule filters of `granule_bloom`. It takes 8 bytes per step where
//! FNV-1a (kept by `tag_bloom` for blocks written before) takes one, and
//! integers are formatted on the stack: token hashing was the largest single
//! cost of writing a block. Hand-written because the bits are an on-disk
//! format: the function cannot change under us with a crate upgrade.
//!
//! Words are read little-endian; each string is followed by its length, so
//! `("ab", "c")` and `("a", "bc")` differ. Words are mixed by a folded
//! multiply and the result by MurmurHash3's 64-bit finalizer, so the low and
//! high halves used by the Bloom probes are both well mixed.

use model::{AttrValue, KeyValue};

const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// Folded 64×64→128-bit multiply (as in wyhash): every input bit reaches
/// both halves of the result.
fn mix(h: u64, word: u64) -> u64 {
    let m = u128::from(h ^ word) * u128::from(K);
    (m as u64) ^ ((m >> 64) as u64)
}

fn add_str(mut h: u64, bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = mix(h, u64::from_le_bytes(word));
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut word = [0u8; 8];
        word[..tail.len()].copy_from_slice(tail);
        h = mix(h, u64::from_le_bytes(word));
    }
    mix(h, bytes.len() as u64)
}

fn finish(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Hash of the token `key`=`value` (`value` in its text form).
pub fn token_hash(key: &str, value: &str) -> u64 {
    finish(add_str(add_str(0, key.as_bytes()), value.as_bytes()))
}

/// [`token_hash`] of one attribute, formatting its value as
/// [`AttrValue::to_text`] does without allocating for strings, integers and
/// booleans.
pub fn attribute_hash(kv: &KeyValue) -> u64 {
    match &kv.value {
        AttrValue::Str(s) => token_hash(&kv.key, s),
        AttrValue::Int(i) => token_hash(&kv.key, itoa::Buffer::new().format(*i)),
        AttrValue::Bool(b) => token_hash(&kv.key, if *b { "true" } else { "false" }),
        other => token_hash(&kv.key, &other.to_text()),
    }
}

/// Token hashes of `attrs`.
pub fn token_hashes(attrs: &[KeyValue]) -> impl Iterator<Item = u64> + '_ {
    attrs.iter().map(attribute_hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_hash_like_their_text() {
        for value in [
            AttrValue::Int(-42),
            AttrValue::Int(i64::MAX),
            AttrValue::Bool(true),
            AttrValue::Bool(false),
            AttrValue::Double(0.25),
            AttrValue::Str("GET".into()),
        ] {
            let kv = KeyValue {
                key: "k".into(),
                value: value.clone(),
            };
            assert_eq!(attribute_hash(&kv), token_hash("k", &value.to_text()));
        }
    }

    #[test]
    fn key_value_boundary_and_every_byte_count() {
        assert_ne!(token_hash("ab", "c"), token_hash("a", "bc"));
        assert_ne!(token_hash("", "x"), token_hash("x", ""));
        let text = "abcdefghijklmnopqrstuvwxyz";
        let hashes: std::collections::HashSet<u64> = (0..text.len())
            .map(|n| token_hash("k", &text[..n]))
            .collect();
        assert_eq!(hashes.len(), text.len());
    }

    #[test]
    fn fixed_on_disk() {
        // The value is part of the file format: a change must bump the
        // granule file's magic.
        assert_eq!(token_hash("http.status_code", "500"), FIXED);
    }

    const FIXED: u64 = 1_622_158_679_136_736_872;
}
