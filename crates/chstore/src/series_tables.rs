//! The metric tables: `metric_series` (each series' labels, once per day it
//! has samples), `metric_samples` (by series and time), `metric_metadata`
//! (type, help, unit per family) and `metric_exemplars`.
//!
//! A series is its fingerprint: a 64-bit hash of its sorted label pairs
//! (see [`crate::series::fingerprint`]), the same in every instance and
//! every whyslow version. Both series and samples are sharded by it.

use crate::schema::{col, Table};

/// Series labels as parallel key and value arrays, one row per series and
/// day with samples: a query over a time range reads only its days.
pub(crate) const METRIC_SERIES: Table = Table {
    name: "metric_series",
    columns: &[
        col("day", "Date", "Date"),
        col("metric", "String", "LowCardinality(String)"),
        col("fingerprint", "UInt64", "UInt64"),
        col("keys", "Array(String)", "Array(LowCardinality(String))"),
        col("values", "Array(String)", "Array(String) CODEC(ZSTD(1))"),
    ],
    // Every instance writes a series' row once per day it sees the series:
    // merges collapse the copies.
    engine: "ReplacingMergeTree",
    partition_by: "day",
    order_by: "(metric, fingerprint)",
    granularity: 8192,
    shard_by: "fingerprint",
};

/// Samples, by series and time: one series' range is a primary-key seek.
pub(crate) const METRIC_SAMPLES: Table = Table {
    name: "metric_samples",
    columns: &[
        col("day", "Date", "Date"),
        col("fingerprint", "UInt64", "UInt64 CODEC(Delta, ZSTD(1))"),
        col("ts_ms", "Int64", "Int64 CODEC(DoubleDelta, ZSTD(1))"),
        col("value", "Float64", "Float64 CODEC(Gorilla, ZSTD(1))"),
    ],
    // A retried insert writes the same samples again.
    engine: "ReplacingMergeTree",
    partition_by: "day",
    order_by: "(fingerprint, ts_ms)",
    granularity: 8192,
    shard_by: "fingerprint",
};

/// Family metadata; the newest row per family wins.
pub(crate) const METRIC_METADATA: Table = Table {
    name: "metric_metadata",
    columns: &[
        col("day", "Date", "Date"),
        col("metric", "String", "String"),
        col("type", "String", "LowCardinality(String)"),
        col("help", "String", "String"),
        col("unit", "String", "LowCardinality(String)"),
        col("seen_ms", "Int64", "Int64"),
    ],
    engine: "ReplacingMergeTree",
    partition_by: "day",
    order_by: "(metric, type, help, unit)",
    granularity: 8192,
    shard_by: "rand()",
};

/// Exemplars by series and time, their labels as parallel arrays.
pub(crate) const METRIC_EXEMPLARS: Table = Table {
    name: "metric_exemplars",
    columns: &[
        col("day", "Date", "Date"),
        col("fingerprint", "UInt64", "UInt64"),
        col("ts_ms", "Int64", "Int64 CODEC(DoubleDelta, ZSTD(1))"),
        col("value", "Float64", "Float64"),
        col("keys", "Array(String)", "Array(LowCardinality(String))"),
        col("values", "Array(String)", "Array(String) CODEC(ZSTD(1))"),
    ],
    engine: "ReplacingMergeTree",
    partition_by: "day",
    order_by: "(fingerprint, ts_ms)",
    granularity: 8192,
    shard_by: "fingerprint",
};

pub(crate) const TABLES: &[&Table] = &[
    &METRIC_SERIES,
    &METRIC_SAMPLES,
    &METRIC_METADATA,
    &METRIC_EXEMPLARS,
];
