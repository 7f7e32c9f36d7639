//! Per-granule Bloom filters (`tag_granules.bin`): the `key=value` token
//! filters of `tag_bloom` over span attributes, one per [`GRANULE_ROWS`]
//! rows instead of one per row group, plus each row group's exact list of
//! resource-attribute tokens. A search whose tags each occur everywhere but
//! rarely together (a user id and a thread id) then reads only the granules
//! that may match, and knows which tags a resource could satisfy. The
//! `details` column has one data page per granule, so a skipped granule is
//! a page never decompressed. Hand-written like `tag_bloom` (same hash and
//! filter encoding): the bits are an on-disk format.
//!
//! Layout: magic `WSG2`, `u32 LE` rows per granule; then per row group a
//! `u32 LE` count and that many `u64 LE` resource token hashes (sorted), a
//! `u32 LE` granule count and that many `tag_bloom` filters.

use model::{Resource, Span};
use std::ops::Range;

use super::meta::RowGroupMeta;
use super::tag_bloom::{may_contain, take_filter, TokenSet};
use super::token::{token_hash, token_hashes};
use crate::embedded::filter::SpanFilter;

/// Rows per granule (and per `details` data page) in blocks written now.
pub const GRANULE_ROWS: usize = 512;

/// `WSG2`: tokens hashed with `token::token_hash` (`WSG1`, FNV-1a, was
/// never released).
const MAGIC: &[u8; 4] = b"WSG2";

fn take_u32(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let n = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?);
    Some((usize::try_from(n).ok()?, bytes.get(4..)?))
}

/// Builds the file while a block's row groups are written.
pub struct GranuleBloomWriter {
    out: Vec<u8>,
    tokens: TokenSet,
}

impl Default for GranuleBloomWriter {
    fn default() -> Self {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&(GRANULE_ROWS as u32).to_le_bytes());
        Self {
            out,
            tokens: TokenSet::default(),
        }
    }
}

impl GranuleBloomWriter {
    /// Adds the filters of one row group's rows, in file order.
    pub fn add_row_group(&mut self, spans: &[&Span]) {
        let mut resources: Vec<*const Resource> = Vec::new();
        let mut resource_tokens: Vec<u64> = Vec::new();
        for span in spans {
            let ptr = std::sync::Arc::as_ptr(&span.resource);
            if !resources.contains(&ptr) {
                resources.push(ptr);
                resource_tokens.extend(token_hashes(&span.resource.attributes));
            }
        }
        resource_tokens.sort_unstable();
        resource_tokens.dedup();
        self.out
            .extend_from_slice(&(resource_tokens.len() as u32).to_le_bytes());
        for hash in resource_tokens {
            self.out.extend_from_slice(&hash.to_le_bytes());
        }
        let granules = spans.len().div_ceil(GRANULE_ROWS);
        self.out.extend_from_slice(&(granules as u32).to_le_bytes());
        for granule in spans.chunks(GRANULE_ROWS) {
            self.tokens.clear();
            for span in granule {
                self.tokens.extend(token_hashes(&span.attributes));
            }
            self.tokens.encode_into(&mut self.out);
        }
    }

    /// The file's bytes.
    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}

/// One row group's part of the file.
#[derive(Debug)]
struct RowGroupFilters {
    rows: usize,
    /// Sorted token hashes of the row group's resources.
    resource_tokens: Vec<u64>,
    /// Its granules' ranges in `GranuleBlooms::words`.
    granules: Vec<Range<usize>>,
}

/// The granule filters of one block, in memory.
#[derive(Debug)]
pub struct GranuleBlooms {
    granule_rows: usize,
    row_groups: Vec<RowGroupFilters>,
    words: Vec<u64>,
}

impl GranuleBlooms {
    /// Parses the file of a block whose row groups are `row_groups`; `None`
    /// when malformed or not matching them (the caller then reads every row).
    pub fn decode(bytes: &[u8], row_groups: &[RowGroupMeta]) -> Option<Self> {
        if bytes.get(..4)? != MAGIC {
            return None;
        }
        let (granule_rows, mut rest) = take_u32(bytes.get(4..)?)?;
        if granule_rows == 0 {
            return None;
        }
        let mut index = Self {
            granule_rows,
            row_groups: Vec::with_capacity(row_groups.len()),
            words: Vec::new(),
        };
        for rg in row_groups {
            let rows = usize::try_from(rg.rows).ok()?;
            let (count, tail) = take_u32(rest)?;
            let resource_tokens = tail
                .get(..count.checked_mul(8)?)?
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
                .collect();
            let (granules, mut tail) = take_u32(tail.get(count * 8..)?)?;
            if granules != rows.div_ceil(granule_rows) {
                return None;
            }
            let mut ranges = Vec::with_capacity(granules);
            for _ in 0..granules {
                let (bits, after) = take_filter(tail)?;
                let start = index.words.len();
                index.words.extend_from_slice(&bits);
                ranges.push(start..index.words.len());
                tail = after;
            }
            index.row_groups.push(RowGroupFilters {
                rows,
                resource_tokens,
                granules: ranges,
            });
            rest = tail;
        }
        rest.is_empty().then_some(index)
    }

    /// Whether a resource of row group `rg` may have attribute `key` with
    /// text `value` (`true` for an unknown row group).
    pub fn resource_may_have(&self, rg: usize, key: &str, value: &str) -> bool {
        self.row_groups.get(rg).is_none_or(|g| {
            g.resource_tokens
                .binary_search(&token_hash(key, value))
                .is_ok()
        })
    }

    /// Row ranges of row group `rg` that may hold a span with every
    /// attribute tag of `filter`, ascending and merged; empty when none can.
    /// `None` when the filter has no attribute tags or `rg` is unknown.
    pub fn candidate_rows(&self, rg: usize, filter: &SpanFilter<'_>) -> Option<Vec<Range<usize>>> {
        filter.attribute_tags().next()?;
        let group = self.row_groups.get(rg)?;
        // Tags a resource may satisfy hold for any row as far as we know.
        let hashes: Vec<u64> = filter
            .attribute_tags()
            .map(|(key, value)| token_hash(key, value))
            .filter(|hash| group.resource_tokens.binary_search(hash).is_err())
            .collect();
        let mut ranges: Vec<Range<usize>> = Vec::new();
        for (g, words) in group.granules.iter().enumerate() {
            let bits = self.words.get(words.clone()).unwrap_or_default();
            if !hashes.iter().all(|&hash| may_contain(bits, hash)) {
                continue;
            }
            let start = g * self.granule_rows;
            let end = (start + self.granule_rows).min(group.rows);
            match ranges.last_mut() {
                Some(last) if last.end == start => last.end = end,
                _ => ranges.push(start..end),
            }
        }
        Some(ranges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::testdata::sample_spans;
    use crate::TraceQuery;

    fn meta(rows: &[usize]) -> Vec<RowGroupMeta> {
        rows.iter()
            .map(|&rows| RowGroupMeta {
                rows: rows as u64,
                min_start: 0,
                max_start: 0,
                services: Vec::new(),
            })
            .collect()
    }

    fn one(range: Range<usize>) -> Vec<Range<usize>> {
        vec![range]
    }

    fn query(tags: &[(&str, &str)]) -> TraceQuery {
        TraceQuery {
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..TraceQuery::default()
        }
    }

    /// Two row groups: 2.5 granules, then 1; `user.id=N` once per span.
    fn index() -> (Vec<u8>, Vec<RowGroupMeta>) {
        let rows = [GRANULE_ROWS * 5 / 2, 10];
        let mut spans = sample_spans(rows[0] as u64 + 10, 1);
        for (n, s) in spans.iter_mut().enumerate() {
            s.attributes.push(model::KeyValue {
                key: "user.id".into(),
                value: model::AttrValue::Int(n as i64),
            });
        }
        let refs: Vec<&Span> = spans.iter().collect();
        let mut writer = GranuleBloomWriter::default();
        writer.add_row_group(&refs[..rows[0]]);
        writer.add_row_group(&refs[rows[0]..]);
        (writer.finish(), meta(&rows))
    }

    #[test]
    fn present_tokens_select_their_granules_only() {
        let (bytes, meta) = index();
        let blooms = GranuleBlooms::decode(&bytes, &meta).unwrap();
        let rows =
            |rg, tags: &[(&str, &str)]| blooms.candidate_rows(rg, &SpanFilter::new(&query(tags)));
        let id = |n: usize| n.to_string();
        // A rare value lies in one granule; others are (mostly) skipped.
        let second = rows(0, &[("user.id", &id(GRANULE_ROWS + 3))]).unwrap();
        assert!(
            second.contains(&(GRANULE_ROWS..2 * GRANULE_ROWS)),
            "{second:?}"
        );
        let last = rows(0, &[("user.id", &id(2 * GRANULE_ROWS + 1))]).unwrap();
        assert!(
            last.contains(&(2 * GRANULE_ROWS..GRANULE_ROWS * 5 / 2)),
            "{last:?}"
        );
        let in_rg1 = GRANULE_ROWS * 5 / 2 + 4;
        assert_eq!(rows(1, &[("user.id", &id(in_rg1))]), Some(one(0..10)));
        // Common tokens keep every granule, merged into one range.
        assert_eq!(
            rows(0, &[("http.method", "GET"), ("host.name", "box-1")]),
            Some(one(0..GRANULE_ROWS * 5 / 2))
        );
        // Resource tokens are listed exactly, per row group.
        assert!(blooms.resource_may_have(0, "host.name", "box-1"));
        assert!(!blooms.resource_may_have(0, "host.name", "box-2"));
        assert!(!blooms.resource_may_have(0, "http.method", "GET"));
        // Virtual tags alone select nothing here: the caller reads all rows.
        assert_eq!(rows(0, &[("error", "true")]), None);
        assert_eq!(rows(7, &[("user.id", "1")]), None);
    }

    #[test]
    fn absent_tokens_mostly_select_nothing() {
        let (bytes, meta) = index();
        let blooms = GranuleBlooms::decode(&bytes, &meta).unwrap();
        let selected: usize = (0..200)
            .map(|n| {
                let q = query(&[("user.id", &format!("-{}", n + 1))]);
                let rows = blooms.candidate_rows(0, &SpanFilter::new(&q)).unwrap();
                rows.len()
            })
            .sum();
        assert!(selected < 40, "{selected} false positive granules of 600");
    }

    #[test]
    fn malformed_or_mismatched_files_are_refused() {
        let (bytes, meta) = index();
        assert!(GranuleBlooms::decode(&bytes[..bytes.len() - 1], &meta).is_none());
        assert!(GranuleBlooms::decode(&[bytes.as_slice(), &[0]].concat(), &meta).is_none());
        assert!(GranuleBlooms::decode(b"WSG1", &meta).is_none());
        assert!(GranuleBlooms::decode(&bytes[4..], &meta).is_none());
        assert!(GranuleBlooms::decode(&bytes, &meta[..1]).is_none());
        let mut wrong_rows = meta.clone();
        wrong_rows[0].rows += GRANULE_ROWS as u64;
        assert!(GranuleBlooms::decode(&bytes, &wrong_rows).is_none());
    }
}
