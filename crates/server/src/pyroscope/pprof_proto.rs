//! The messages of `querier.v1.QuerierService/SelectMergeProfile`, written
//! by hand like [`super::proto`] (prost field numbers, proto3 JSON through
//! serde): the request, and the `google.v1.Profile` it answers, which is
//! google/pprof's `perftools.profiles` under Pyroscope's package name (PYRO
//! api/google/v1/profile.proto).
//!
//! The profile side is encode only, and only what [`super::pprof`] fills: no
//! sample labels or line columns. `render::pprof_proto` (which the ingest side
//! decodes with) has the full set but no serde, and `render` is not a
//! dependency of this crate.

use super::json;
use serde::{Deserialize, Serialize, Serializer};

/// `querier.v1.SelectMergeProfileRequest`.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SelectMergeProfileRequest {
    /// The profile type ID.
    #[prost(string, tag = "1")]
    #[serde(
        rename = "profileTypeID",
        alias = "profile_typeID",
        deserialize_with = "json::nullable"
    )]
    pub profile_type_id: String,
    /// `{a="b"}`.
    #[prost(string, tag = "2")]
    #[serde(alias = "label_selector", deserialize_with = "json::nullable")]
    pub label_selector: String,
    /// Range start, ms.
    #[prost(int64, tag = "3")]
    #[serde(with = "json::int64")]
    pub start: i64,
    /// Range end, ms.
    #[prost(int64, tag = "4")]
    #[serde(with = "json::int64")]
    pub end: i64,
    /// Most nodes to keep (absent or <= 0: every node).
    #[prost(int64, optional, tag = "5")]
    #[serde(alias = "max_nodes", deserialize_with = "json::opt_int64::deserialize")]
    pub max_nodes: Option<i64>,
    /// Not served: a non-empty one is refused.
    #[prost(message, optional, tag = "6")]
    #[serde(alias = "stack_trace_selector")]
    pub stack_trace_selector: Option<StackTraceSelector>,
}

/// `types.v1.StackTraceSelector`, read only to refuse it.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StackTraceSelector {
    /// Frames a stack must start with, root first.
    #[prost(message, repeated, tag = "1")]
    #[serde(alias = "call_site", deserialize_with = "json::nullable")]
    pub call_site: Vec<CallSite>,
    /// Go PGO options.
    #[prost(message, optional, tag = "2")]
    #[serde(alias = "go_pgo")]
    pub go_pgo: Option<GoPgo>,
}

/// `types.v1.Location` (a call site frame).
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default)]
pub struct CallSite {
    /// Function name.
    #[prost(string, tag = "1")]
    #[serde(deserialize_with = "json::nullable")]
    pub name: String,
}

/// `types.v1.GoPGO`: its fields are not read.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
pub struct GoPgo {}

/// `uint64` fields: decimal strings.
fn uint64<S: Serializer>(value: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// `repeated uint64` fields: decimal strings.
fn uint64s<S: Serializer>(values: &[u64], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(values.iter().map(u64::to_string))
}

/// `google.v1.Profile`.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// What each sample value measures (one type here).
    #[prost(message, repeated, tag = "1")]
    pub sample_type: Vec<ValueType>,
    /// One sample per distinct stack.
    #[prost(message, repeated, tag = "2")]
    pub sample: Vec<Sample>,
    /// The object files of unsymbolized frames.
    #[prost(message, repeated, tag = "3")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mapping: Vec<Mapping>,
    /// One location per distinct function name.
    #[prost(message, repeated, tag = "4")]
    pub location: Vec<Location>,
    /// One function per distinct name.
    #[prost(message, repeated, tag = "5")]
    pub function: Vec<Function>,
    /// Strings referenced by index; `string_table[0]` is `""`.
    #[prost(string, repeated, tag = "6")]
    pub string_table: Vec<String>,
    /// Start of the queried range, Unix ns.
    #[prost(int64, tag = "9")]
    #[serde(with = "json::int64")]
    pub time_nanos: i64,
    /// Length of the queried range, ns.
    #[prost(int64, tag = "10")]
    #[serde(with = "json::int64")]
    pub duration_nanos: i64,
    /// What one sampling period measures.
    #[prost(message, optional, tag = "11")]
    pub period_type: Option<ValueType>,
    /// Events between samples (0: unknown after merging).
    #[prost(int64, tag = "12")]
    #[serde(with = "json::int64")]
    pub period: i64,
}

/// `google.v1.ValueType`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message, Serialize)]
pub struct ValueType {
    /// String index of the type, e.g. `cpu`.
    #[prost(int64, tag = "1")]
    #[serde(with = "json::int64")]
    pub r#type: i64,
    /// String index of the unit, e.g. `nanoseconds`.
    #[prost(int64, tag = "2")]
    #[serde(with = "json::int64")]
    pub unit: i64,
}

/// `google.v1.Sample`.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sample {
    /// Location ids, leaf first.
    #[prost(uint64, repeated, tag = "1")]
    #[serde(serialize_with = "uint64s")]
    pub location_id: Vec<u64>,
    /// One value per sample type.
    #[prost(int64, repeated, tag = "2")]
    #[serde(serialize_with = "json::int64s")]
    pub value: Vec<i64>,
}

/// `google.v1.Location`.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
pub struct Location {
    /// Unique nonzero id.
    #[prost(uint64, tag = "1")]
    #[serde(serialize_with = "uint64")]
    pub id: u64,
    /// Its mapping (0: none).
    #[prost(uint64, tag = "2")]
    #[serde(
        rename = "mappingId",
        serialize_with = "uint64",
        skip_serializing_if = "is_zero"
    )]
    pub mapping_id: u64,
    /// Its address in the mapping (0: unknown).
    #[prost(uint64, tag = "3")]
    #[serde(serialize_with = "uint64", skip_serializing_if = "is_zero")]
    pub address: u64,
    /// The function (one line: no inlining is known).
    #[prost(message, repeated, tag = "4")]
    pub line: Vec<Line>,
}

/// `google.v1.Mapping`: an object file. Its range is the file offsets it
/// maps (`memory_start` = `file_offset`), so a location's address is the
/// file offset of its frame.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mapping {
    /// Unique nonzero id.
    #[prost(uint64, tag = "1")]
    #[serde(serialize_with = "uint64")]
    pub id: u64,
    /// First address.
    #[prost(uint64, tag = "2")]
    #[serde(serialize_with = "uint64")]
    pub memory_start: u64,
    /// One past the last address.
    #[prost(uint64, tag = "3")]
    #[serde(serialize_with = "uint64")]
    pub memory_limit: u64,
    /// File offset of `memory_start`.
    #[prost(uint64, tag = "4")]
    #[serde(serialize_with = "uint64")]
    pub file_offset: u64,
    /// String index of the path.
    #[prost(int64, tag = "5")]
    #[serde(with = "json::int64")]
    pub filename: i64,
    /// String index of the build id.
    #[prost(int64, tag = "6")]
    #[serde(with = "json::int64")]
    pub build_id: i64,
    /// Whether its locations carry real function names (false: symbolize them).
    #[prost(bool, tag = "7")]
    pub has_functions: bool,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// `google.v1.Line`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    /// Function id.
    #[prost(uint64, tag = "1")]
    #[serde(serialize_with = "uint64")]
    pub function_id: u64,
    /// Source line (0: unknown).
    #[prost(int64, tag = "2")]
    #[serde(with = "json::int64")]
    pub line: i64,
}

/// `google.v1.Function`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Function {
    /// Unique nonzero id.
    #[prost(uint64, tag = "1")]
    #[serde(serialize_with = "uint64")]
    pub id: u64,
    /// String index of the name.
    #[prost(int64, tag = "2")]
    #[serde(with = "json::int64")]
    pub name: i64,
    /// String index of the system (mangled) name: the name again.
    #[prost(int64, tag = "3")]
    #[serde(with = "json::int64")]
    pub system_name: i64,
    /// String index of the source file (0: unknown).
    #[prost(int64, tag = "4")]
    #[serde(with = "json::int64")]
    pub filename: i64,
}
