//! Limits that keep one reader from starving the server: the longest time
//! range a data query may cover (`serve --query-max-range`, as Loki's
//! `max_query_length`) and the most traces one search may return
//! (`--query-max-traces`, as Tempo's `max_result_limit`). PromQL's own limits
//! (most samples, timeout, queries at once) are [`promql::EngineOptions`] and
//! `AppState::query_slots`; how many requests one reader runs at once is the
//! gate's fair share.
//!
//! Both limits refuse (400) rather than trim, naming the limit and the flag
//! that raises it, so a user never reads a silently partial answer.
//! Metadata queries (services, label names and values, series) are cheap
//! and not limited here.

use crate::prom::status::format_duration_ms;
use std::time::Duration;

/// The most an inclusive end adds to a range's length.
const INCLUSIVE_END_NS: u128 = 1_000_000;

/// Limits on what one query may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Longest `[start, end)` a data query (trace search, dependencies,
    /// PromQL range query, profile selection) may cover; zero: no limit.
    pub max_range: Duration,
    /// Most traces one search returns (its `limit`); zero: no limit.
    pub max_traces: usize,
}

impl Default for ReadLimits {
    /// 31 days (jaeger-ui's longest lookback is 2 weeks, Grafana's presets
    /// end at 30 days) and 1 500 traces (jaeger-ui's largest limit choice).
    fn default() -> Self {
        ReadLimits {
            max_range: Duration::from_secs(31 * 86_400),
            max_traces: 1500,
        }
    }
}

impl ReadLimits {
    /// Checks a `[start, end)` range in ns; the error says by how much it is
    /// too long. An open end (`i64::MAX`, "until now and beyond") counts as
    /// too long whenever there is a limit.
    pub fn check_range_ns(&self, start_ns: i128, end_ns: i128) -> Result<(), String> {
        let limit_ns = self.max_range.as_nanos();
        let length_ns = u128::try_from(end_ns.saturating_sub(start_ns)).unwrap_or(0);
        // Inclusive ends (`until`, Connect's `end` in ms) add up to 1 ms.
        if limit_ns == 0 || length_ns <= limit_ns + INCLUSIVE_END_NS {
            return Ok(());
        }
        let ms = |ns: u128| i64::try_from(ns / 1_000_000).unwrap_or(i64::MAX);
        let length = if end_ns >= i128::from(i64::MAX) {
            "unbounded (no end)".to_string()
        } else {
            format_duration_ms(ms(length_ns))
        };
        Err(format!(
            "the query time range exceeds the limit (query length: {length}, limit: {}); \
             narrow the range or raise serve --query-max-range",
            format_duration_ms(ms(limit_ns))
        ))
    }

    /// The `limit` of a search that gives none: `default`, within the limit.
    pub fn default_traces(&self, default: usize) -> usize {
        if self.max_traces == 0 {
            default
        } else {
            default.min(self.max_traces)
        }
    }

    /// Checks a search's `limit` (number of traces).
    pub fn check_traces(&self, limit: usize) -> Result<(), String> {
        if self.max_traces == 0 || limit <= self.max_traces {
            return Ok(());
        }
        Err(format!(
            "limit {limit} exceeds the most traces one search returns ({}); \
             ask for fewer or raise serve --query-max-traces",
            self.max_traces
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_NS: i128 = 86_400_000_000_000;

    #[test]
    fn ranges_up_to_the_limit_pass() {
        let limits = ReadLimits::default();
        assert_eq!(limits.check_range_ns(0, 31 * DAY_NS), Ok(()));
        assert_eq!(limits.check_range_ns(5 * DAY_NS, 0), Ok(()));
        let err = limits.check_range_ns(0, 40 * DAY_NS).expect_err("too long");
        assert!(err.contains("query length: 5w5d, limit: 4w3d"), "{err}");
        assert!(err.contains("--query-max-range"), "{err}");
        let open = limits
            .check_range_ns(0, i128::from(i64::MAX))
            .expect_err("open end");
        assert!(open.contains("unbounded"), "{open}");
    }

    #[test]
    fn zero_means_no_limit() {
        let none = ReadLimits {
            max_range: Duration::ZERO,
            max_traces: 0,
        };
        assert_eq!(none.check_range_ns(0, i128::from(i64::MAX)), Ok(()));
        assert_eq!(none.check_traces(1_000_000), Ok(()));
    }

    #[test]
    fn trace_limits_name_the_flag() {
        let limits = ReadLimits::default();
        assert_eq!(limits.check_traces(1500), Ok(()));
        let err = limits.check_traces(1501).expect_err("too many");
        assert!(
            err.contains("limit 1501") && err.contains("--query-max-traces"),
            "{err}"
        );
    }
}
