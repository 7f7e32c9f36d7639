//! The span tables: `spans` (whole spans by trace id), `span_index`
//! (search by service, operation, time and tags) and `span_ops` (the UI's
//! drop-downs).

use crate::schema::{col, Table};

/// Spans by trace: a trace is a primary-key seek per daily partition. The
/// whole span is `data` (the embedded store's span encoding).
pub(crate) const SPANS: Table = Table {
    name: "spans",
    columns: &[
        col("day", "Date", "Date"),
        col("trace_id", "FixedString(16)", "FixedString(16)"),
        col("span_id", "FixedString(8)", "FixedString(8)"),
        col("start_ns", "UInt64", "UInt64 CODEC(T64, ZSTD(1))"),
        col("data", "String", "String CODEC(ZSTD(1))"),
    ],
    // A retried insert writes the same rows again: merges collapse them.
    engine: "ReplacingMergeTree",
    partition_by: "day",
    order_by: "(trace_id, span_id)",
    granularity: 1024,
    shard_by: "cityHash64(trace_id)",
};

/// Spans for search: by service, operation and time, with tags as
/// `key\0value` strings (span and resource attributes and Jaeger's virtual
/// tags) so one tag is one `has()`.
pub(crate) const SPAN_INDEX: Table = Table {
    name: "span_index",
    columns: &[
        col("day", "Date", "Date"),
        col("service", "String", "LowCardinality(String)"),
        col("name", "String", "LowCardinality(String)"),
        col("kind", "UInt8", "UInt8"),
        col("start_ns", "UInt64", "UInt64 CODEC(Delta, ZSTD(1))"),
        col("duration_ns", "UInt64", "UInt64 CODEC(T64, ZSTD(1))"),
        col("trace_id", "FixedString(16)", "FixedString(16)"),
        col("span_id", "FixedString(8)", "FixedString(8)"),
        col("parent_id", "FixedString(8)", "FixedString(8)"),
        col("tags", "Array(String)", "Array(String) CODEC(ZSTD(1))"),
    ],
    engine: "ReplacingMergeTree",
    partition_by: "day",
    order_by: "(service, name, start_ns, trace_id, span_id)",
    granularity: 8192,
    shard_by: "cityHash64(trace_id)",
};

/// Services and operations seen per day (the UI's drop-downs).
pub(crate) const SPAN_OPS: Table = Table {
    name: "span_ops",
    columns: &[
        col("day", "Date", "Date"),
        col("service", "String", "LowCardinality(String)"),
        col("name", "String", "LowCardinality(String)"),
        col("kind", "UInt8", "UInt8"),
    ],
    engine: "ReplacingMergeTree",
    partition_by: "day",
    order_by: "(service, name, kind)",
    granularity: 8192,
    shard_by: "rand()",
};

pub(crate) const TABLES: &[&Table] = &[&SPANS, &SPAN_INDEX, &SPAN_OPS];
