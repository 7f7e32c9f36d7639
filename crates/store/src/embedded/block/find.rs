//! Search of one block: which row groups, granules and rows to read, and in
//! which order. Filters on plain columns (service, time, duration) go first,
//! unless the granule Bloom filters already narrow the row group down: then
//! the tags are checked first on those granules' `details` alone, and the
//! other columns are read only for the few rows that pass.

use std::ops::Range;

use super::attr_check;
use super::read::{self, SharedDecoded};
use super::schema::col;
use super::{Block, TagFilters};
use crate::embedded::filter::SpanFilter;
use crate::embedded::search::Candidates;
use crate::StoreError;

/// Columns every search reads.
const CHEAP: [usize; 5] = [
    col::TRACE_ID,
    col::SERVICE,
    col::NAME,
    col::START,
    col::DURATION,
];
/// Further columns a search with tags reads for row groups with candidates.
const TAG_COLUMNS: [usize; 4] = [col::KIND, col::STATUS_CODE, col::RESOURCE, col::DETAILS];

/// Selected rows from which narrowing them by service first pays: opening
/// a column (parquet sets up a zstd context) costs about as much as
/// checking the attributes of a thousand rows.
const SERVICE_FIRST_MIN_ROWS: usize = 1024;

/// Which rows of a row group a search reads.
enum Rows {
    /// None can match.
    Nothing,
    /// Every row.
    All,
    /// Only these row ranges (ascending).
    Only(Vec<Range<usize>>),
}

impl Block {
    /// Offers the `filter.limit` newest matching traces of this block.
    pub fn search(&self, filter: &SpanFilter<'_>, out: &mut Candidates) -> Result<(), StoreError> {
        let meta = &self.meta;
        if meta.max_start < filter.start_min || meta.min_start > filter.start_max {
            return Ok(());
        }
        if let Some(service) = filter.service {
            let has_op = meta
                .operations
                .iter()
                .any(|(s, n, _)| s == service && filter.operation.is_none_or(|o| o == n));
            if !has_op {
                return Ok(());
            }
        }
        let mut groups: Vec<usize> = (0..meta.row_groups.len())
            .filter(|&i| {
                let rg = &meta.row_groups[i];
                rg.max_start >= filter.start_min
                    && rg.min_start <= filter.start_max
                    && filter
                        .service
                        .is_none_or(|s| rg.services.iter().any(|x| x == s))
            })
            .collect();
        // Newest first: once `limit` traces are found, older row groups cannot
        // displace them.
        groups.sort_by(|a, b| {
            meta.row_groups[*b]
                .max_start
                .cmp(&meta.row_groups[*a].max_start)
        });
        let mut local = Candidates::default();
        let mut cache = SharedDecoded::for_format(meta.format);
        for rg_no in groups {
            let cutoff = local.cutoff(filter.limit).max(out.cutoff(filter.limit));
            if cutoff.is_some_and(|c| meta.row_groups[rg_no].max_start < c) {
                break;
            }
            let rows = match self.rows_to_read(rg_no, filter)? {
                Rows::Nothing => continue,
                Rows::All => None,
                Rows::Only(ranges) => Some(ranges),
            };
            self.search_rows(rg_no, rows.as_deref(), filter, &mut local, &mut cache)?;
            local.keep_newest(filter.limit);
        }
        for (trace_id, start) in local.newest_with_starts(filter.limit) {
            out.offer(trace_id, start);
        }
        Ok(())
    }

    /// The rows of row group `rg` worth reading for `filter`.
    fn rows_to_read(&self, rg: usize, filter: &SpanFilter<'_>) -> Result<Rows, StoreError> {
        if !filter.has_tags() {
            return Ok(Rows::All);
        }
        let granules = match &self.tag_filters {
            TagFilters::Granules(granules) => granules,
            TagFilters::RowGroups(blooms) if !blooms.may_match(rg, filter) => {
                return Ok(Rows::Nothing)
            }
            TagFilters::RowGroups(_) | TagFilters::None => return Ok(Rows::All),
        };
        let Some(ranges) = granules.candidate_rows(rg, filter) else {
            return Ok(Rows::All);
        };
        let rows = self.meta.row_groups.get(rg).map_or(0, |g| g.rows as usize);
        if ranges.iter().map(|r| r.len()).sum::<usize>() >= rows {
            // Every granule may match: cheaper to filter on plain columns first.
            return Ok(Rows::All);
        }
        // Few granules: narrow them to the rows of the service, then to rows
        // whose own attributes have the tags no resource here may satisfy.
        let mut ranges = ranges;
        let selected: usize = ranges.iter().map(|r| r.len()).sum();
        if let Some(service) = filter
            .service
            .filter(|_| selected >= SERVICE_FIRST_MIN_ROWS)
        {
            let mut c = read::Columns::default();
            read::read_into(&self.reader, rg, &[col::SERVICE], Some(&ranges), &mut c)?;
            ranges = narrow(&ranges, |i| Ok(c.service(i) == service))?;
        }
        let tags: Vec<(&str, &str)> = filter
            .attribute_tags()
            .filter(|(k, v)| !granules.resource_may_have(rg, k, v))
            .collect();
        if !ranges.is_empty() && !tags.is_empty() && tags.len() <= attr_check::MAX_TAGS {
            let mut c = read::Columns::default();
            read::read_into(&self.reader, rg, &[col::DETAILS], Some(&ranges), &mut c)?;
            ranges = narrow(&ranges, |i| c.has_span_attributes(i, &tags))?;
        }
        Ok(if ranges.is_empty() {
            Rows::Nothing
        } else {
            Rows::Only(ranges)
        })
    }

    /// Offers the matching traces among `rows` (all when `None`) of row
    /// group `rg`.
    fn search_rows(
        &self,
        rg: usize,
        rows: Option<&[Range<usize>]>,
        filter: &SpanFilter<'_>,
        local: &mut Candidates,
        cache: &mut SharedDecoded,
    ) -> Result<(), StoreError> {
        let mut columns = read::Columns::default();
        read::read_into(&self.reader, rg, &CHEAP, rows, &mut columns)?;
        let matching: Vec<usize> = (0..columns.rows())
            .filter(|&i| {
                filter.matches_columns(
                    columns.service(i),
                    columns.name(i),
                    columns.start(i),
                    columns.duration(i),
                )
            })
            .collect();
        if matching.is_empty() {
            return Ok(());
        }
        if filter.has_tags() {
            read::read_into(&self.reader, rg, &TAG_COLUMNS, rows, &mut columns)?;
        }
        for i in matching {
            if filter.has_tags() && !columns.tags_match(i, filter, cache)? {
                continue;
            }
            if let Some(trace_id) = columns.trace_id(i) {
                local.offer(trace_id, columns.start(i));
            }
        }
        Ok(())
    }
}

/// The rows of `ranges` (ascending) for which `keep(i)` holds, `i` counting
/// the rows of `ranges` in order; merged into ranges again.
fn narrow(
    ranges: &[Range<usize>],
    mut keep: impl FnMut(usize) -> Result<bool, StoreError>,
) -> Result<Vec<Range<usize>>, StoreError> {
    let mut kept: Vec<Range<usize>> = Vec::new();
    for (i, row) in ranges.iter().flat_map(Range::clone).enumerate() {
        if !keep(i)? {
            continue;
        }
        match kept.last_mut() {
            Some(last) if last.end == row => last.end = row + 1,
            _ => kept.push(row..row + 1),
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::super::{tag_bloom::TokenSet, write, BLOOM_FILE, GRANULE_FILE};
    use super::*;
    use crate::embedded::testdata::sample_spans;
    use crate::TraceQuery;
    use model::{AttrValue, KeyValue, Span, TraceId};
    use std::collections::BTreeSet;

    /// 7000 traces of 3 spans (three row groups of many granules), each
    /// span with a `user.id` of 2000 and a `thread.id` of 7 values.
    fn spans() -> Vec<Span> {
        let mut spans = sample_spans(7000, 3);
        for (n, s) in spans.iter_mut().enumerate() {
            for (key, value) in [("user.id", n % 2000), ("thread.id", n % 7)] {
                s.attributes.push(KeyValue {
                    key: key.into(),
                    value: AttrValue::Int(value as i64),
                });
            }
        }
        spans
    }

    fn queries() -> Vec<TraceQuery> {
        let tagged = |service: Option<&str>, tags: &[(&str, &str)]| TraceQuery {
            service: service.map(str::to_string),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            limit: 100_000,
            ..TraceQuery::default()
        };
        vec![
            tagged(Some("backend"), &[("user.id", "7"), ("thread.id", "1")]),
            tagged(None, &[("user.id", "7"), ("thread.id", "1")]),
            tagged(None, &[("user.id", "-1")]),
            tagged(
                Some("frontend"),
                &[("user.id", "3"), ("host.name", "box-1")],
            ),
            tagged(None, &[("user.id", "3"), ("error", "true")]),
            tagged(None, &[("span.kind", "server"), ("thread.id", "2")]),
            tagged(Some("backend"), &[("http.status_code", "500")]),
            tagged(None, &[("host.name", "elsewhere"), ("user.id", "3")]),
        ]
    }

    fn expected(spans: &[Span], query: &TraceQuery) -> BTreeSet<TraceId> {
        let filter = SpanFilter::new(query);
        spans
            .iter()
            .filter(|s| filter.matches(s))
            .map(|s| s.trace_id)
            .collect()
    }

    fn found(block: &Block, query: &TraceQuery) -> BTreeSet<TraceId> {
        let filter = SpanFilter::new(query);
        let mut out = Candidates::default();
        block.search(&filter, &mut out).unwrap();
        out.newest(filter.limit).into_iter().collect()
    }

    fn assert_exact(block: &Block, spans: &[Span], what: &str) {
        for query in queries() {
            let want = expected(spans, &query);
            assert_eq!(found(block, &query), want, "{what}: {:?}", query.tags);
        }
    }

    #[test]
    fn granule_filtered_search_is_exact_with_every_index_state() {
        let dir = tempfile::tempdir().unwrap();
        let spans = spans();
        let refs: Vec<&Span> = spans.iter().collect();
        let block = Block::write_refs(dir.path(), &refs, 0, Vec::new()).unwrap();
        assert!(matches!(block.tag_filters, TagFilters::Granules(_)));
        assert!(block.meta.row_groups.len() > 1);
        assert!(!expected(&spans, &queries()[1]).is_empty());
        assert_exact(&block, &spans, "granule filters");

        // A block written before the granule index: per-row-group filters.
        let block_dir = block.dir.clone();
        std::fs::remove_file(block_dir.join(GRANULE_FILE)).unwrap();
        let mut old_filters = Vec::new();
        for chunk in spans_in_file_order(&block).chunks(write::ROW_GROUP_ROWS) {
            let mut tokens = TokenSet::default();
            for s in chunk {
                tokens.add(&s.attributes);
                tokens.add(&s.resource.attributes);
            }
            tokens.encode_into(&mut old_filters);
        }
        std::fs::write(block_dir.join(BLOOM_FILE), &old_filters).unwrap();
        let old = Block::open(&block_dir).unwrap();
        assert!(matches!(old.tag_filters, TagFilters::RowGroups(_)));
        assert_exact(&old, &spans, "row-group filters");

        // No filters at all.
        std::fs::remove_file(block_dir.join(BLOOM_FILE)).unwrap();
        let bare = Block::open(&block_dir).unwrap();
        assert!(matches!(bare.tag_filters, TagFilters::None));
        assert_exact(&bare, &spans, "no filters");

        // A damaged granule file: the block opens and reads every row.
        std::fs::write(block_dir.join(GRANULE_FILE), b"WSG1\x00\x02\x00\x00junk").unwrap();
        let damaged = Block::open(&block_dir).unwrap();
        assert!(matches!(damaged.tag_filters, TagFilters::None));
        assert_exact(&damaged, &spans, "damaged granule filters");
    }

    /// The block's spans in row order.
    fn spans_in_file_order(block: &Block) -> Vec<Span> {
        let mut out = Vec::new();
        for rg in 0..block.meta.row_groups.len() {
            let columns = read::read_row_group(&block.reader, rg, &read::ALL).unwrap();
            let mut cache = SharedDecoded::for_format(block.meta.format);
            for i in 0..columns.rows() {
                out.push(columns.span(i, &mut cache).unwrap());
            }
        }
        out
    }
}
