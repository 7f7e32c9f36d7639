//! The SQL of the metrics store's reads, in the dialect ClickHouse 18.16
//! and current servers share (literals quoted here, no query parameters).
//!
//! Label matchers: `=` and `!=` go into SQL (an absent label reads as "",
//! as `values[indexOf(keys, k)]` does: index 0 reads the default), regular
//! expressions do not: ClickHouse's RE2 and the `regex` crate differ at
//! the edges, so the store applies every matcher again to the label sets
//! it gets back and the answer is exactly PromQL's.

use crate::client::quote;
use crate::rowbinary::day_of_ms;
use crate::span_sql::date_literal;
use std::fmt::Write as _;
use store::series::{MatchOp, Matcher};

/// `day` bounds of `[start_ms, end_ms]`, `None` for all time.
fn days(start_ms: i64, end_ms: i64) -> Option<String> {
    if start_ms == i64::MIN && end_ms == i64::MAX {
        return None;
    }
    Some(format!(
        "day >= {} AND day <= {}",
        date_literal(day_of_ms(start_ms)),
        date_literal(day_of_ms(end_ms))
    ))
}

/// The SQL condition of one matcher, when it has one.
fn condition(matcher: &Matcher) -> Option<String> {
    let column = if matcher.name == "__name__" {
        "metric".to_string()
    } else {
        format!("values[indexOf(keys, {})]", quote(&matcher.name))
    };
    match matcher.op {
        MatchOp::Equal => Some(format!("{column} = {}", quote(&matcher.value))),
        MatchOp::NotEqual => Some(format!("{column} != {}", quote(&matcher.value))),
        MatchOp::Regex | MatchOp::NotRegex => None,
    }
}

fn where_clause(conditions: Vec<String>) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

/// Series that may match `matchers` with a row in the days of the range:
/// `fingerprint, keys, values`.
pub fn series(matchers: &[Matcher], start_ms: i64, end_ms: i64) -> String {
    let conditions: Vec<String> = days(start_ms, end_ms)
        .into_iter()
        .chain(matchers.iter().filter_map(condition))
        .collect();
    format!(
        "SELECT fingerprint, any(keys), any(values) FROM metric_series{} GROUP BY fingerprint",
        where_clause(conditions)
    )
}

/// `fingerprint IN (…)`.
fn in_list(fingerprints: &[u64]) -> String {
    let mut list = String::with_capacity(fingerprints.len() * 21);
    for (i, f) in fingerprints.iter().enumerate() {
        if i > 0 {
            list.push(',');
        }
        let _ = write!(list, "{f}");
    }
    format!("fingerprint IN ({list})")
}

/// ` WHERE` rows of `fingerprints` in `[start_ms, end_ms]` (and its days).
fn in_range(fingerprints: &[u64], start_ms: i64, end_ms: i64) -> String {
    let conditions: Vec<String> = days(start_ms, end_ms)
        .into_iter()
        .chain([
            in_list(fingerprints),
            format!("ts_ms >= {start_ms} AND ts_ms <= {end_ms}"),
        ])
        .collect();
    where_clause(conditions)
}

/// Samples of the series in `[start_ms, end_ms]`, by series and time (a
/// retried insert's copies side by side): `fingerprint, ts_ms, value`.
/// At most `limit` rows (0 = all).
pub fn samples(fingerprints: &[u64], start_ms: i64, end_ms: i64, limit: u64) -> String {
    let limit = if limit > 0 {
        format!(" LIMIT {limit}")
    } else {
        String::new()
    };
    format!(
        "SELECT fingerprint, ts_ms, value FROM metric_samples{} ORDER BY fingerprint, ts_ms{limit}",
        in_range(fingerprints, start_ms, end_ms)
    )
}

/// Every label name of the series in the range: `name`.
pub fn label_names(start_ms: i64, end_ms: i64) -> String {
    format!(
        "SELECT DISTINCT arrayJoin(keys) AS name FROM metric_series{} ORDER BY name",
        where_clause(days(start_ms, end_ms).into_iter().collect())
    )
}

/// Every value of label `name` among the series in the range: `value`.
pub fn label_values(name: &str, start_ms: i64, end_ms: i64) -> String {
    let conditions: Vec<String> = days(start_ms, end_ms)
        .into_iter()
        .chain([format!("has(keys, {})", quote(name))])
        .collect();
    format!(
        "SELECT DISTINCT values[indexOf(keys, {})] AS value FROM metric_series{} ORDER BY value",
        quote(name),
        where_clause(conditions)
    )
}

/// The newest metadata of every family: `metric, type, help, unit`.
pub fn metadata() -> String {
    "SELECT metric, argMax(type, seen_ms), argMax(help, seen_ms), argMax(unit, seen_ms) \
     FROM metric_metadata GROUP BY metric ORDER BY metric"
        .to_string()
}

/// Exemplars of the series in `[start_ms, end_ms]`:
/// `fingerprint, ts_ms, value, keys, values`.
pub fn exemplars(fingerprints: &[u64], start_ms: i64, end_ms: i64) -> String {
    format!(
        "SELECT fingerprint, ts_ms, value, keys, values FROM metric_exemplars{} ORDER BY fingerprint, ts_ms",
        in_range(fingerprints, start_ms, end_ms)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_matchers_go_into_sql_and_regexes_do_not() {
        let matchers = [
            Matcher::equal("__name__", "up"),
            Matcher::new(MatchOp::NotEqual, "job", "").expect("valid"),
            Matcher::new(MatchOp::Regex, "instance", "a.*").expect("valid"),
        ];
        let sql = series(&matchers, 0, 86_400_000);
        assert_eq!(
            sql,
            "SELECT fingerprint, any(keys), any(values) FROM metric_series WHERE day >= '1970-01-01' \
             AND day <= '1970-01-02' AND metric = 'up' AND values[indexOf(keys, 'job')] != '' GROUP BY fingerprint"
        );
        assert!(!series(&[], i64::MIN, i64::MAX).contains("WHERE"));
    }

    #[test]
    fn samples_are_ordered_by_series_and_time_and_limited() {
        let sql = samples(&[1, 22], 5, 10, 100);
        assert!(
            sql.contains("fingerprint IN (1,22) AND ts_ms >= 5 AND ts_ms <= 10"),
            "{sql}"
        );
        assert!(
            sql.ends_with("ORDER BY fingerprint, ts_ms LIMIT 100"),
            "{sql}"
        );
    }
}
