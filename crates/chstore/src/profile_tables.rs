//! The profile tables: stacks once by hash (`profile_stacks`), series label
//! sets (`profile_series`), one row per profile (`profiles`: its time
//! extent, for series listings and time bounds), its samples
//! (`profile_samples`), its timed samples (`profile_ticks`) and the object
//! files of its unsymbolized frames (`profile_objects`).
//!
//! Every row of a series is sharded by its fingerprint, so a series (and a
//! retried insert's duplicates of its rows) lives on one shard and `FINAL`
//! collapses the duplicates there. Samples and ticks are keyed by
//! `(profile_id, index)`, so a profile inserted twice collapses into one.

use crate::schema::{col, Table};

/// Stacks by hash: frames root first, written once per day and instance.
pub(crate) const PROFILE_STACKS: Table = Table {
    name: "profile_stacks",
    columns: &[
        col("day", "Date", "Date"),
        col("stack_hash", "UInt64", "UInt64"),
        col("frames", "Array(String)", "Array(String) CODEC(ZSTD(1))"),
    ],
    engine: "ReplacingMergeTree",
    partition_by: "day",
    order_by: "stack_hash",
    granularity: 8192,
    shard_by: "stack_hash",
};

/// Label sets of the series with data on a day (their names and values in
/// label order), with the two labels queries narrow by as columns.
pub(crate) const PROFILE_SERIES: Table = Table {
    name: "profile_series",
    columns: &[
        col("day", "Date", "Date"),
        col("profile_type", "String", "LowCardinality(String)"),
        col("service", "String", "LowCardinality(String)"),
        col("fingerprint", "UInt64", "UInt64"),
        col(
            "label_names",
            "Array(String)",
            "Array(LowCardinality(String))",
        ),
        col(
            "label_values",
            "Array(String)",
            "Array(String) CODEC(ZSTD(1))",
        ),
    ],
    engine: "ReplacingMergeTree",
    partition_by: "day",
    order_by: "(profile_type, service, fingerprint)",
    granularity: 8192,
    shard_by: "fingerprint",
};

/// One row per profile: when it starts and what it covers (`min_ns`,
/// `max_ns`: its start and end and its timed samples).
pub(crate) const PROFILES: Table = Table {
    name: "profiles",
    columns: &[
        col("day", "Date", "Date"),
        col("profile_type", "String", "LowCardinality(String)"),
        col("fingerprint", "UInt64", "UInt64"),
        col("time_ns", "Int64", "Int64 CODEC(Delta, ZSTD(1))"),
        col("profile_id", "UInt64", "UInt64"),
        col("duration_ns", "Int64", "Int64 CODEC(T64, ZSTD(1))"),
        col("min_ns", "Int64", "Int64 CODEC(Delta, ZSTD(1))"),
        col("max_ns", "Int64", "Int64 CODEC(Delta, ZSTD(1))"),
    ],
    engine: "ReplacingMergeTree",
    partition_by: "day",
    order_by: "(profile_type, fingerprint, time_ns, profile_id)",
    granularity: 8192,
    shard_by: "fingerprint",
};

/// A profile's samples: a stack, a value and the span/trace it ran for
/// (`links`: bit 1 span id present, bit 2 trace id present).
pub(crate) const PROFILE_SAMPLES: Table = Table {
    name: "profile_samples",
    columns: &[
        col("day", "Date", "Date"),
        col("profile_type", "String", "LowCardinality(String)"),
        col("fingerprint", "UInt64", "UInt64"),
        col("time_ns", "Int64", "Int64 CODEC(Delta, ZSTD(1))"),
        col("profile_id", "UInt64", "UInt64"),
        col("sample", "UInt32", "UInt32 CODEC(Delta, ZSTD(1))"),
        col("stack_hash", "UInt64", "UInt64"),
        col("value", "Int64", "Int64 CODEC(T64, ZSTD(1))"),
        col("links", "UInt8", "UInt8"),
        col("span_id", "UInt64", "UInt64 CODEC(ZSTD(1))"),
        col(
            "trace_id",
            "FixedString(16)",
            "FixedString(16) CODEC(ZSTD(1))",
        ),
    ],
    engine: "ReplacingMergeTree",
    partition_by: "day",
    order_by: "(profile_type, fingerprint, time_ns, profile_id, sample)",
    granularity: 8192,
    shard_by: "fingerprint",
};

/// Samples taken at a known time on a known thread (the agent's).
pub(crate) const PROFILE_TICKS: Table = Table {
    name: "profile_ticks",
    columns: &[
        col("day", "Date", "Date"),
        col("profile_type", "String", "LowCardinality(String)"),
        col("fingerprint", "UInt64", "UInt64"),
        col("time_ns", "Int64", "Int64 CODEC(Delta, ZSTD(1))"),
        col("profile_id", "UInt64", "UInt64"),
        col("tick", "UInt32", "UInt32 CODEC(Delta, ZSTD(1))"),
        col("thread_id", "UInt32", "UInt32 CODEC(ZSTD(1))"),
        col("stack_hash", "UInt64", "UInt64"),
        col("value", "Int64", "Int64 CODEC(T64, ZSTD(1))"),
    ],
    engine: "ReplacingMergeTree",
    partition_by: "day",
    order_by: "(profile_type, fingerprint, time_ns, profile_id, tick)",
    granularity: 8192,
    shard_by: "fingerprint",
};

/// Object files of a series' `FILE+0xOFFSET` frames, per day.
pub(crate) const PROFILE_OBJECTS: Table = Table {
    name: "profile_objects",
    columns: &[
        col("day", "Date", "Date"),
        col("profile_type", "String", "LowCardinality(String)"),
        col("fingerprint", "UInt64", "UInt64"),
        col("path", "String", "String"),
        col("build_id", "String", "String"),
        col("file_offset", "UInt64", "UInt64"),
        col("size_bytes", "UInt64", "UInt64"),
    ],
    engine: "ReplacingMergeTree",
    partition_by: "day",
    order_by: "(profile_type, fingerprint, path, build_id, file_offset, size_bytes)",
    granularity: 8192,
    shard_by: "fingerprint",
};

pub(crate) const TABLES: &[&Table] = &[
    &PROFILE_STACKS,
    &PROFILE_SERIES,
    &PROFILES,
    &PROFILE_SAMPLES,
    &PROFILE_TICKS,
    &PROFILE_OBJECTS,
];
