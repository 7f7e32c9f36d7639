//! The SQL of the profile store's reads, one function per question, in the
//! dialect ClickHouse 18.16 and current servers share (literals quoted
//! here, no CTEs). Kept apart from the store so the same text runs on a
//! current engine (chdb) in tests.
//!
//! Samples and ticks are read `FINAL`: their tables are
//! `ReplacingMergeTree`s keyed by `(profile_id, index)`, so rows a retried
//! insert wrote twice count once even before merges collapse them. A
//! series' rows are all on one shard, so `FINAL` works per shard and the
//! sums (`GROUP BY stack_hash`, per step, per span) are computed there.
//! Subqueries over other tables use `GLOBAL IN` (run once, by the server
//! that was asked), which a `Distributed` table needs and a plain one takes.

use crate::client::{fixed_literal, quote};
use crate::rowbinary::day_of_ns;
use crate::span_sql::{date_literal, LAST_DAY};

/// What sample and tick reads select: one profile type, these series,
/// times in `[start_ns, end_ns)`, and (samples only) the samples of these
/// spans or traces when any are given.
#[derive(Debug, Clone, Copy)]
pub struct Selection<'a> {
    /// The `profile_type` column's value.
    pub profile_type: &'a str,
    /// Series fingerprints (not empty).
    pub fingerprints: &'a [u64],
    /// Range start, Unix ns (inclusive).
    pub start_ns: i64,
    /// Range end, Unix ns (exclusive).
    pub end_ns: i64,
    /// Only samples of these spans…
    pub span_ids: &'a [u64],
    /// … or of these traces (both empty: every sample).
    pub trace_ids: &'a [u128],
}

/// Which series label sets to list: narrowed by the two label columns,
/// and to series with a profile overlapping the range when `overlapping`
/// (otherwise to series with data on the range's days).
#[derive(Debug, Clone, Copy, Default)]
pub struct SeriesFilter<'a> {
    /// Only this `__profile_type__`.
    pub profile_type: Option<&'a str>,
    /// Only this `service_name` (`""`: series without one).
    pub service: Option<&'a str>,
    /// Range start, Unix ns (inclusive).
    pub start_ns: i64,
    /// Range end, Unix ns (exclusive).
    pub end_ns: i64,
    /// Whether a profile of the series must overlap the range.
    pub overlapping: bool,
}

/// Series label sets: `fingerprint, label_names, label_values`.
pub fn series(filter: &SeriesFilter) -> String {
    // A profile started the day before may reach into the range, and its
    // series row is on its first day.
    let margin = u16::from(filter.overlapping);
    let mut conditions = vec![days(filter.start_ns, filter.end_ns, margin)];
    if let Some(profile_type) = filter.profile_type {
        conditions.push(format!("profile_type = {}", quote(profile_type)));
    }
    if let Some(service) = filter.service {
        conditions.push(format!("service = {}", quote(service)));
    }
    if filter.overlapping {
        let mut inner = vec![overlap(filter.start_ns, filter.end_ns)];
        if let Some(profile_type) = filter.profile_type {
            inner.push(format!("profile_type = {}", quote(profile_type)));
        }
        conditions.push(format!(
            "fingerprint GLOBAL IN (SELECT fingerprint FROM profiles WHERE {})",
            inner.join(" AND ")
        ));
    }
    format!(
        "SELECT fingerprint, any(label_names), any(label_values) FROM profile_series WHERE {} \
         GROUP BY fingerprint ORDER BY fingerprint",
        conditions.join(" AND ")
    )
}

/// Profile types with a profile overlapping the range: `profile_type`.
pub fn profile_types(start_ns: i64, end_ns: i64) -> String {
    format!(
        "SELECT DISTINCT profile_type FROM profiles WHERE {} AND profile_type != '' ORDER BY profile_type",
        overlap(start_ns, end_ns)
    )
}

/// The selected samples summed per stack: `stack_hash, total`.
pub fn merge(sel: &Selection) -> String {
    format!(
        "SELECT stack_hash, sum(value) AS total FROM profile_samples FINAL WHERE {} \
         GROUP BY stack_hash HAVING total != 0",
        sample_conditions(sel)
    )
}

/// The selected samples summed per series and step of `step_ns` from the
/// range start: `fingerprint, step, total`.
pub fn totals(sel: &Selection, step_ns: i64) -> String {
    format!(
        "SELECT fingerprint, toInt64(intDiv(time_ns - {}, {})) AS step, sum(value) AS total \
         FROM profile_samples FINAL WHERE {} GROUP BY fingerprint, step ORDER BY fingerprint, step",
        int(sel.start_ns),
        int(step_ns.max(1)),
        sample_conditions(sel)
    )
}

/// Spans of the selected samples tagged with one, with `frame` on their
/// stack when given, heaviest first: `links, span_id, trace_id, total,
/// samples, first_ns`.
pub fn span_hits(sel: &Selection, frame: Option<&str>, limit: Option<usize>) -> String {
    let mut conditions = vec![sample_conditions(sel), "links != 0".to_string()];
    if let Some(frame) = frame {
        conditions.push(format!(
            "stack_hash GLOBAL IN (SELECT stack_hash FROM profile_stacks WHERE {} AND has(frames, {}))",
            days(sel.start_ns, sel.end_ns, 0),
            quote(frame)
        ));
    }
    let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
    format!(
        "SELECT links, span_id, trace_id, sum(value) AS total, count() AS samples, min(time_ns) AS first_ns \
         FROM profile_samples FINAL WHERE {} GROUP BY links, span_id, trace_id \
         ORDER BY total DESC, first_ns, bitAnd(links, 1), span_id, bitAnd(links, 2), trace_id{limit}",
        conditions.join(" AND ")
    )
}

/// Timed samples per thread in the range (every thread): `thread_id, samples`.
pub fn tick_threads(sel: &Selection) -> String {
    format!(
        "SELECT toUInt64(thread_id) AS thread, count() FROM profile_ticks FINAL WHERE {} \
         GROUP BY thread ORDER BY thread",
        tick_conditions(sel)
    )
}

/// Timed samples of `threads` (all when empty) summed per stack:
/// `stack_hash, total`.
pub fn tick_merge(sel: &Selection, threads: &[u32]) -> String {
    let mut conditions = tick_conditions(sel);
    if !threads.is_empty() {
        conditions.push_str(&format!(" AND thread_id IN ({})", list(threads)));
    }
    format!(
        "SELECT stack_hash, sum(value) AS total FROM profile_ticks FINAL WHERE {conditions} \
         GROUP BY stack_hash HAVING total != 0"
    )
}

/// Frames of the given stacks written on the range's days: `stack_hash, frames`.
pub fn stacks(hashes: &[u64], start_ns: i64, end_ns: i64) -> String {
    format!(
        "SELECT stack_hash, any(frames) FROM profile_stacks WHERE {} AND stack_hash IN ({}) GROUP BY stack_hash",
        days(start_ns, end_ns, 0),
        list(hashes)
    )
}

/// Object files of the given series on the range's days: `path, build_id,
/// file_offset, size_bytes`.
pub fn objects(profile_type: &str, fingerprints: &[u64], start_ns: i64, end_ns: i64) -> String {
    format!(
        "SELECT DISTINCT path, build_id, file_offset, size_bytes FROM profile_objects WHERE {} \
         AND profile_type = {} AND fingerprint IN ({}) ORDER BY path, build_id, file_offset, size_bytes",
        days(start_ns, end_ns, 1),
        quote(profile_type),
        list(fingerprints)
    )
}

/// Oldest start and newest end of any profile: `min, max, profiles`.
pub fn time_bounds() -> String {
    "SELECT min(min_ns), max(max_ns), count() FROM profiles".to_string()
}

fn sample_conditions(sel: &Selection) -> String {
    let mut out = series_and_time(sel);
    let mut links = Vec::new();
    if !sel.span_ids.is_empty() {
        links.push(format!(
            "(bitAnd(links, 1) != 0 AND span_id IN ({}))",
            list(sel.span_ids)
        ));
    }
    if !sel.trace_ids.is_empty() {
        let traces = sel
            .trace_ids
            .iter()
            .map(|t| fixed_literal(&t.to_be_bytes()))
            .collect::<Vec<_>>()
            .join(", ");
        links.push(format!(
            "(bitAnd(links, 2) != 0 AND trace_id IN ({traces}))"
        ));
    }
    if !links.is_empty() {
        out.push_str(&format!(" AND ({})", links.join(" OR ")));
    }
    out
}

fn tick_conditions(sel: &Selection) -> String {
    series_and_time(sel)
}

fn series_and_time(sel: &Selection) -> String {
    format!(
        "{} AND profile_type = {} AND fingerprint IN ({}) AND time_ns >= {} AND time_ns < {}",
        days(sel.start_ns, sel.end_ns, 0),
        quote(sel.profile_type),
        list(sel.fingerprints),
        int(sel.start_ns),
        int(sel.end_ns)
    )
}

/// Profiles (their `min_ns..=max_ns`) overlapping `[start_ns, end_ns)`,
/// the day before and after included for profiles crossing midnight.
fn overlap(start_ns: i64, end_ns: i64) -> String {
    format!(
        "{} AND min_ns < {} AND max_ns >= {}",
        days(start_ns, end_ns, 1),
        int(end_ns),
        int(start_ns)
    )
}

/// The daily partitions of `[start_ns, end_ns)`, widened by `margin` days.
pub fn days(start_ns: i64, end_ns: i64, margin: u16) -> String {
    let day = |ns: i64| day_of_ns(u64::try_from(ns).unwrap_or(0)).min(LAST_DAY);
    let first = day(start_ns).saturating_sub(margin);
    let last = day(end_ns.saturating_sub(1))
        .max(first)
        .saturating_add(margin)
        .min(LAST_DAY);
    format!(
        "day >= {} AND day <= {}",
        date_literal(first),
        date_literal(last)
    )
}

/// An `Int64` literal (negative ones through a string: `-N` would be
/// read as minus a `UInt64`).
fn int(v: i64) -> String {
    if v >= 0 {
        v.to_string()
    } else {
        format!("toInt64('{v}')")
    }
}

fn list<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000_000_000;

    fn sel<'a>(fingerprints: &'a [u64]) -> Selection<'a> {
        Selection {
            profile_type: "process_cpu:cpu:nanoseconds:cpu:nanoseconds",
            fingerprints,
            start_ns: 20_000 * DAY + 5,
            end_ns: 20_001 * DAY,
            span_ids: &[],
            trace_ids: &[],
        }
    }

    #[test]
    fn reads_touch_only_the_days_of_their_range() {
        // End is exclusive: a range ending at midnight stays on one day.
        assert_eq!(
            days(20_000 * DAY + 5, 20_001 * DAY, 0),
            "day >= '2024-10-04' AND day <= '2024-10-04'"
        );
        assert_eq!(
            days(20_000 * DAY, 20_001 * DAY + 1, 1),
            "day >= '2024-10-03' AND day <= '2024-10-06'"
        );
        assert_eq!(
            days(-5, 0, 0),
            "day >= '1970-01-01' AND day <= '1970-01-01'"
        );
        let merge = merge(&sel(&[1, 2]));
        assert!(
            merge.contains("day >= '2024-10-04' AND day <= '2024-10-04'"),
            "{merge}"
        );
        assert!(merge.contains("FROM profile_samples FINAL"), "{merge}");
        assert!(merge.contains(&format!(
            "fingerprint IN (1, 2) AND time_ns >= {} AND time_ns < {}",
            20_000 * DAY + 5,
            20_001 * DAY
        )));
    }

    #[test]
    fn span_and_trace_filters_need_the_id_present() {
        let mut s = sel(&[7]);
        let spans = [3u64];
        let traces = [0x0102u128];
        s.span_ids = &spans;
        s.trace_ids = &traces;
        let sql = merge(&s);
        assert!(sql.contains(
            "AND ((bitAnd(links, 1) != 0 AND span_id IN (3)) OR (bitAnd(links, 2) != 0 AND trace_id IN (toFixedString(unhex('00000000000000000000000000000102'), 16))))"
        ), "{sql}");
        assert!(!super::merge(&sel(&[7])).contains("links"));
    }

    #[test]
    fn span_hits_look_frames_up_globally_and_order_like_the_embedded_store() {
        let sql = span_hits(&sel(&[7]), Some("it's"), Some(5));
        assert!(sql.contains(
            "stack_hash GLOBAL IN (SELECT stack_hash FROM profile_stacks WHERE day >= '2024-10-04' AND day <= '2024-10-04' AND has(frames, 'it\\'s'))"
        ), "{sql}");
        assert!(sql.ends_with(
            "ORDER BY total DESC, first_ns, bitAnd(links, 1), span_id, bitAnd(links, 2), trace_id LIMIT 5"
        ));
        assert!(!span_hits(&sel(&[7]), None, None).contains("LIMIT"));
    }

    #[test]
    fn series_listings_narrow_by_the_label_columns_and_overlap() {
        let sql = series(&SeriesFilter {
            profile_type: Some("memory"),
            service: Some("web"),
            start_ns: 10,
            end_ns: 20,
            overlapping: true,
        });
        assert_eq!(
            sql,
            "SELECT fingerprint, any(label_names), any(label_values) FROM profile_series \
             WHERE day >= '1970-01-01' AND day <= '1970-01-02' AND profile_type = 'memory' AND service = 'web' \
             AND fingerprint GLOBAL IN (SELECT fingerprint FROM profiles WHERE day >= '1970-01-01' AND day <= '1970-01-02' \
             AND min_ns < 20 AND max_ns >= 10 AND profile_type = 'memory') GROUP BY fingerprint ORDER BY fingerprint"
        );
        let plain = series(&SeriesFilter {
            start_ns: 10,
            end_ns: 20,
            ..SeriesFilter::default()
        });
        assert!(!plain.contains("GLOBAL IN") && !plain.contains("service"));
    }

    #[test]
    fn totals_step_from_the_range_start_and_negative_literals_are_typed() {
        let sql = totals(&sel(&[1]), 0);
        assert!(sql.contains(&format!("intDiv(time_ns - {}, 1)", 20_000 * DAY + 5)));
        assert_eq!(int(-3), "toInt64('-3')");
        assert_eq!(int(3), "3");
        assert!(tick_merge(&sel(&[1]), &[4, 5]).contains("AND thread_id IN (4, 5)"));
    }
}
