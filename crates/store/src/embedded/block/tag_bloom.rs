//! Per-row-group Bloom filters over `key=value` attribute tokens (span and
//! resource attributes, value in its text form), so a tag search skips row
//! groups where the tag cannot occur instead of decoding their attributes.
//! Hand-written (about 60 lines) because the bits are an on-disk format: the
//! hash (FNV-1a 64, double hashing) and layout are fixed here and cannot
//! change under us with a crate upgrade.
//!
//! File layout: per row group, `u32 LE` word count, then that many `u64 LE`
//! words; [`HASHES`] probes per token.

use model::{KeyValue, Span};

use crate::embedded::filter::SpanFilter;

/// Probes per token (with [`BITS_PER_TOKEN`] ≈ 2 % false positives).
const HASHES: u64 = 6;
/// Filter bits per distinct token.
const BITS_PER_TOKEN: usize = 8;

/// FNV-1a 64 of `key`, a separator byte, and `value`.
fn token_hash(key: &str, value: &str) -> u64 {
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

fn probes(hash: u64, bits: u64) -> impl Iterator<Item = u64> {
    let h1 = hash & 0xffff_ffff;
    let h2 = (hash >> 32) | 1;
    (0..HASHES).map(move |i| h1.wrapping_add(i.wrapping_mul(h2)) % bits)
}

/// Token hashes of one row group, collected while writing it.
#[derive(Default)]
pub struct TokenSet(rustc_hash::FxHashSet<u64>);

impl TokenSet {
    /// Adds the attributes of `span` and of its resource.
    pub fn add_span(&mut self, span: &Span) {
        self.add(&span.attributes);
        self.add(&span.resource.attributes);
    }

    fn add(&mut self, attrs: &[KeyValue]) {
        for kv in attrs {
            let hash = match &kv.value {
                model::AttrValue::Str(s) => token_hash(&kv.key, s),
                other => token_hash(&kv.key, &other.to_text()),
            };
            self.0.insert(hash);
        }
    }

    /// Appends this row group's filter to `out` (the file format).
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
    pub fn decode(mut bytes: &[u8]) -> Option<Self> {
        let mut groups = Vec::new();
        while !bytes.is_empty() {
            let words = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
            let body = bytes.get(4..4 + words * 8)?;
            groups.push(
                body.chunks_exact(8)
                    .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
                    .collect(),
            );
            bytes = &bytes[4 + words * 8..];
        }
        Some(Self(groups))
    }

    /// Whether row group `rg` may hold a span with every attribute tag of
    /// `filter` (virtual tags such as `error` are never excluded here).
    pub fn may_match(&self, rg: usize, filter: &SpanFilter<'_>) -> bool {
        let Some(bits) = self.0.get(rg).filter(|b| !b.is_empty()) else {
            return true;
        };
        let nbits = (bits.len() * 64) as u64;
        filter.attribute_tags().all(|(key, value)| {
            probes(token_hash(key, value), nbits)
                .all(|p| bits[(p / 64) as usize] & (1 << (p % 64)) != 0)
        })
    }
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
            set.add_span(&s);
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
