//! The SQL of the span store's reads, one function per question, written
//! in the dialect ClickHouse 18.16 and current servers share (no CTEs, no
//! query parameters: literals are quoted here). Kept apart from the store
//! so the same text can be run on a current engine (chdb) in tests.

use crate::client::{fixed_literal, quote};
use crate::rowbinary::day_of_ns;
use crate::spans::tag;
use store::TraceQuery;

/// Traces a search returns when the query says 0.
pub const DEFAULT_LIMIT: usize = 20;

/// Service names: `service`.
pub fn services() -> String {
    "SELECT DISTINCT service FROM span_ops ORDER BY service".to_string()
}

/// Operations of a service (of one kind, by OTLP number): `name, kind`.
pub fn operations(service: &str, kind: Option<u8>) -> String {
    let kind_filter = kind.map(|k| format!(" AND kind = {k}")).unwrap_or_default();
    format!(
        "SELECT DISTINCT name, kind FROM span_ops WHERE service = {}{kind_filter} ORDER BY name, kind",
        quote(service)
    )
}

/// Traces with a matching span, newest first: `trace_id, newest`.
pub fn search(query: &TraceQuery) -> String {
    let start_min = query.start_min.unwrap_or(0);
    let start_max = query.start_max.unwrap_or(i64::MAX as u64);
    let mut conditions = vec![
        format!("start_ns >= {start_min} AND start_ns <= {start_max}"),
        days(start_min, start_max),
    ];
    if let Some(service) = query.service.as_deref().filter(|s| !s.is_empty()) {
        conditions.push(format!("service = {}", quote(service)));
    }
    if let Some(operation) = query.operation.as_deref().filter(|s| !s.is_empty()) {
        conditions.push(format!("name = {}", quote(operation)));
    }
    if let Some(min) = query.duration_min {
        conditions.push(format!("duration_ns >= {min}"));
    }
    if let Some(max) = query.duration_max {
        conditions.push(format!("duration_ns <= {max}"));
    }
    for (key, value) in &query.tags {
        conditions.push(format!("has(tags, {})", quote(&tag(key, value))));
    }
    let limit = if query.limit == 0 {
        DEFAULT_LIMIT
    } else {
        query.limit
    };
    format!(
        "SELECT trace_id, max(start_ns) AS newest FROM span_index WHERE {} GROUP BY trace_id \
         ORDER BY newest DESC, trace_id LIMIT {limit}",
        conditions.join(" AND ")
    )
}

/// Every stored span of the given traces: `trace_id, data`.
pub fn spans_of(ids: &[[u8; 16]]) -> String {
    let list = ids
        .iter()
        .map(|id| fixed_literal(id))
        .collect::<Vec<_>>()
        .join(", ");
    format!("SELECT trace_id, data FROM spans WHERE trace_id IN ({list})")
}

/// Calls between services, parent and child both started in the window:
/// `parent_service, service, calls`.
pub fn dependencies(end_unix_nano: u64, lookback_nanos: u64) -> String {
    let from = end_unix_nano.saturating_sub(lookback_nanos);
    let end = end_unix_nano.min(i64::MAX as u64);
    let window = format!(
        "start_ns >= {from} AND start_ns <= {end} AND {}",
        days(from, end)
    );
    let no_parent = fixed_literal(&[0; 8]);
    format!(
        "SELECT parent_service, service, count() AS calls FROM \
         (SELECT DISTINCT trace_id, span_id, parent_id, service FROM span_index WHERE {window} AND parent_id != {no_parent}) AS child \
         ANY INNER JOIN \
         (SELECT DISTINCT trace_id, span_id AS parent_id, service AS parent_service FROM span_index WHERE {window}) AS parent \
         USING (trace_id, parent_id) \
         WHERE parent_service != service GROUP BY parent_service, service \
         ORDER BY parent_service, service"
    )
}

/// The daily partitions a time range touches, as a condition on `day`.
fn days(from_ns: u64, to_ns: u64) -> String {
    format!(
        "day >= {} AND day <= {}",
        date_literal(day_of_ns(from_ns)),
        date_literal(day_of_ns(to_ns))
    )
}

/// The last date ClickHouse 18.16 reads from a literal (2105-12-31; later
/// ones turn into 0000-00-00 and a range ending there selects nothing).
pub const LAST_DAY: u16 = 49_672;

/// A `Date` literal (`'2026-12-05'`) of days since 1970, at most
/// [`LAST_DAY`] (an open-ended range ends there).
pub fn date_literal(day: u16) -> String {
    let day = day.min(LAST_DAY);
    // Days to civil date (proleptic Gregorian), after Howard Hinnant's algorithm.
    let z = i64::from(day) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("'{y:04}-{m:02}-{d:02}'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_literals_are_civil_dates() {
        assert_eq!(date_literal(0), "'1970-01-01'");
        assert_eq!(date_literal(LAST_DAY), "'2105-12-31'");
        assert_eq!(date_literal(u16::MAX), "'2105-12-31'");
        assert_eq!(date_literal(20_428), "'2025-12-06'");
        assert_eq!(date_literal(11_016), "'2000-02-29'");
        assert_eq!(
            date_literal(day_of_ns(1_764_979_200_000_000_000)),
            "'2025-12-06'"
        );
    }
}
