//! Per-row-group Bloom filters over `key=value` attribute tokens (span and
//! resource attributes, value in its text form), so a tag search skips row
//! groups where the tag cannot occur instead of decoding their attributes.
//! Blocks are now written with `granule_bloom` instead, which reuses the
//! token hash and filter encoding defined here; this file's reader stays
//! for blocks written before.
//! Hand-written (about 60 lines) because the bits are an on-disk format: the
//! hash (FNV-1a 64, double hashing) and layout are fixed here and cannot
//! change under us with a crate upgrade.
//!
//! File layout: per row group, `u32 LE` word count, then that many `u64 LE`
//! words; [`HASHES`] probes per token.

#[cfg(test)]
use model::KeyValue;

use crate::embedded::filter::SpanFilter;

/// Probes per token (with [`BITS_PER_TOKEN`] ≈ 2 % false positives).
const HASHES: u64 = 6;
/// Filter bits per distinct token.
const BITS_PER_TOKEN: usize = 8;

/// FNV-1a 64 of `key`, a separator byte, and `value`.
pub fn token_hash(key: &str, value: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key
        .bytes()
        .chain(std::iter::once(0xff))
        .chain(value.bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Token hashes of `attrs` (values in their text form); tests write
/// pre-granule blocks with it.
#[cfg(test)]
pub fn token_hashes(attrs: &[KeyValue]) -> impl Iterator<Item = u64> + '_ {
    attrs.iter().map(|kv| match &kv.value {
        model::AttrValue::Str(s) => token_hash(&kv.key, s),
        other => token_hash(&kv.key, &other.to_text()),
    })
}

fn probes(hash: u64, bits: u64) -> impl Iterator<Item = u64> {
    let h1 = hash & 0xffff_ffff;
    let h2 = (hash >> 32) | 1;
    (0..HASHES).map(move |i| h1.wrapping_add(i.wrapping_mul(h2)) % bits)
}

/// Token hashes of a run of rows (a row group or a granule), collected
/// while writing them.
#[derive(Default)]
pub struct TokenSet(rustc_hash::FxHashSet<u64>);

impl TokenSet {
    /// Adds the tokens of `attrs`, hashed with [`token_hash`] (tests write
    /// pre-granule blocks with it).
    #[cfg(test)]
    pub fn add(&mut self, attrs: &[KeyValue]) {
        self.0.extend(token_hashes(attrs));
    }

    /// Adds already hashed tokens.
    pub fn extend(&mut self, hashes: impl IntoIterator<Item = u64>) {
        self.0.extend(hashes);
    }

    /// Forgets every token, keeping the allocation.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Appends a filter of these tokens to `out` (the file format).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let words = (self.0.len() * BITS_PER_TOKEN).div_ceil(64).max(1);
        let mut bits = vec![0u64; words];
        let nbits = (words * 64) as u64;
        for hash in &self.0 {
            for p in probes(*hash, nbits) {
                bits[(p / 64) as usize] |= 1 << (p % 64);
            }
        }
        out.extend_from_slice(&(words as u32).to_le_bytes());
        for w in bits {
            out.extend_from_slice(&w.to_le_bytes());
        }
    }
}

/// The filters of every row group of a block.
#[derive(Debug, Default)]
pub struct TagBlooms(Vec<Vec<u64>>);

impl TagBlooms {
    /// Parses the file; `None` when malformed.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut groups = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let (words, tail) = take_filter(rest)?;
            groups.push(words);
            rest = tail;
        }
        Some(Self(groups))
    }

    /// Whether row group `rg` may hold a span with every attribute tag of
    /// `filter` (virtual tags such as `error` are never excluded here).
    pub fn may_match(&self, rg: usize, filter: &SpanFilter<'_>) -> bool {
        self.0.get(rg).is_none_or(|bits| {
            filter
                .attribute_tags()
                .all(|(key, value)| may_contain(bits, token_hash(key, value)))
        })
    }
}

/// Splits one filter (`u32 LE` word count, then the words) off the front
/// of `bytes`; `None` when truncated.
pub fn take_filter(bytes: &[u8]) -> Option<(Vec<u64>, &[u8])> {
    let words = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let end = words.checked_mul(8)?.checked_add(4)?;
    let bits = bytes
        .get(4..end)?
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
        .collect();
    Some((bits, bytes.get(end..)?))
}

/// Whether the filter `bits` may hold the token `hash`; an empty filter
/// rules nothing out.
pub fn may_contain(bits: &[u64], hash: u64) -> bool {
    if bits.is_empty() {
        return true;
    }
    let nbits = (bits.len() * 64) as u64;
    probes(hash, nbits).all(|p| {
        bits.get((p / 64) as usize)
            .is_some_and(|w| w & (1 << (p % 64)) != 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::testdata::sample_spans;
    use crate::TraceQuery;

    #[test]
    fn present_tokens_match_and_absent_ones_mostly_do_not() {
        let mut set = TokenSet::default();
        for s in sample_spans(50, 2) {
            set.add(&s.attributes);
            set.add(&s.resource.attributes);
        }
        let mut bytes = Vec::new();
        set.encode_into(&mut bytes);
        let blooms = TagBlooms::decode(&bytes).unwrap();
        let query = |k: &str, v: &str| TraceQuery {
            tags: vec![(k.into(), v.into())],
            ..TraceQuery::default()
        };
        for (k, v) in [
            ("http.method", "GET"),
            ("http.status_code", "500"),
            ("host.name", "box-1"),
            ("error", "true"),
        ] {
            let q = query(k, v);
            assert!(blooms.may_match(0, &SpanFilter::new(&q)), "{k}={v}");
        }
        let misses = (0..200)
            .filter(|n| blooms.may_match(0, &SpanFilter::new(&query("user.id", &n.to_string()))))
            .count();
        assert!(misses < 20, "{misses} false positives of 200");
        assert!(TagBlooms::decode(&bytes[..bytes.len() - 1]).is_none());
    }
}
