//! The `querier.v1` messages of Pyroscope's query API (PYRO
//! api/querier/v1/querier.proto; the shared `types.v1` ones are in
//! [`super::types`] and re-exported here),
//! written by hand as prost derive structs with the same field numbers (no
//! `protoc` at build time). Requests also derive serde `Deserialize` and
//! responses `Serialize` in proto3 JSON form: lowerCamelCase names (the proto
//! names accepted too), int64 as strings out and strings or numbers in.
//! Request fields not served (stack trace selectors, profile id selectors,
//! async) are not declared: prost and serde skip unknown fields.

pub use super::types::*;

use super::json;
use serde::{Deserialize, Serialize};

/// `querier.v1.ProfileTypesRequest`.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default)]
pub struct ProfileTypesRequest {
    /// Range start, ms.
    #[prost(int64, tag = "1")]
    #[serde(with = "json::int64")]
    pub start: i64,
    /// Range end, ms.
    #[prost(int64, tag = "2")]
    #[serde(with = "json::int64")]
    pub end: i64,
}

/// `querier.v1.ProfileTypesResponse`.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileTypesResponse {
    /// The types.
    #[prost(message, repeated, tag = "1")]
    pub profile_types: Vec<ProfileType>,
}

/// `querier.v1.SeriesRequest`.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SeriesRequest {
    /// Selectors (union); empty: all.
    #[prost(string, repeated, tag = "1")]
    #[serde(deserialize_with = "json::nullable")]
    pub matchers: Vec<String>,
    /// Labels to return (empty: all).
    #[prost(string, repeated, tag = "2")]
    #[serde(deserialize_with = "json::nullable", alias = "label_names")]
    pub label_names: Vec<String>,
    /// Range start, ms.
    #[prost(int64, tag = "3")]
    #[serde(with = "json::int64")]
    pub start: i64,
    /// Range end, ms.
    #[prost(int64, tag = "4")]
    #[serde(with = "json::int64")]
    pub end: i64,
}

/// `querier.v1.SeriesResponse`.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeriesResponse {
    /// Distinct label sets.
    #[prost(message, repeated, tag = "2")]
    pub labels_set: Vec<Labels>,
}

/// `querier.v1.SelectMergeStacktracesRequest`.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SelectMergeStacktracesRequest {
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
    /// Most nodes (default 8192).
    #[prost(int64, optional, tag = "5")]
    #[serde(alias = "max_nodes", deserialize_with = "json::opt_int64::deserialize")]
    pub max_nodes: Option<i64>,
    /// Only FLAMEGRAPH (0, 1) is served.
    #[prost(int32, tag = "6")]
    #[serde(deserialize_with = "json::profile_format")]
    pub format: i32,
    /// 32-hex trace ids.
    #[prost(string, repeated, tag = "10")]
    #[serde(alias = "trace_id_selector", deserialize_with = "json::nullable")]
    pub trace_id_selector: Vec<String>,
    /// 16-hex span ids.
    #[prost(string, repeated, tag = "11")]
    #[serde(alias = "span_selector", deserialize_with = "json::nullable")]
    pub span_selector: Vec<String>,
}

/// `querier.v1.SelectMergeStacktracesResponse` (also the shape of
/// `SelectMergeSpanProfileResponse`: flamegraph = 1).
#[derive(Clone, PartialEq, prost::Message, Serialize)]
pub struct SelectMergeStacktracesResponse {
    /// The flame graph; absent when nothing matched.
    #[prost(message, optional, tag = "1")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flamegraph: Option<FlameGraph>,
}

/// `querier.v1.FlameGraph`.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlameGraph {
    /// Names; `names[0]` is `total`.
    #[prost(string, repeated, tag = "1")]
    pub names: Vec<String>,
    /// Levels of 4-int nodes.
    #[prost(message, repeated, tag = "2")]
    pub levels: Vec<Level>,
    /// Root total.
    #[prost(int64, tag = "3")]
    #[serde(with = "json::int64")]
    pub total: i64,
    /// Biggest self value.
    #[prost(int64, tag = "4")]
    #[serde(with = "json::int64")]
    pub max_self: i64,
}

/// `querier.v1.Level`.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
pub struct Level {
    /// Node ints.
    #[prost(int64, repeated, tag = "1")]
    #[serde(serialize_with = "json::int64s")]
    pub values: Vec<i64>,
}

/// `querier.v1.SelectMergeSpanProfileRequest`.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SelectMergeSpanProfileRequest {
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
    /// 16-hex span ids.
    #[prost(string, repeated, tag = "3")]
    #[serde(alias = "span_selector", deserialize_with = "json::nullable")]
    pub span_selector: Vec<String>,
    /// Range start, ms.
    #[prost(int64, tag = "4")]
    #[serde(with = "json::int64")]
    pub start: i64,
    /// Range end, ms.
    #[prost(int64, tag = "5")]
    #[serde(with = "json::int64")]
    pub end: i64,
    /// Most nodes (default 8192).
    #[prost(int64, optional, tag = "6")]
    #[serde(alias = "max_nodes", deserialize_with = "json::opt_int64::deserialize")]
    pub max_nodes: Option<i64>,
    /// Only FLAMEGRAPH (0, 1) is served.
    #[prost(int32, tag = "7")]
    #[serde(deserialize_with = "json::profile_format")]
    pub format: i32,
}

/// `querier.v1.SelectSeriesRequest`.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SelectSeriesRequest {
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
    /// One series per distinct value of these labels.
    #[prost(string, repeated, tag = "5")]
    #[serde(alias = "group_by", deserialize_with = "json::nullable")]
    pub group_by: Vec<String>,
    /// Step, seconds.
    #[prost(double, tag = "6")]
    #[serde(deserialize_with = "json::double")]
    pub step: f64,
    /// SUM (0, default) or AVERAGE (1).
    #[prost(int32, optional, tag = "7")]
    #[serde(deserialize_with = "json::aggregation")]
    pub aggregation: Option<i32>,
    /// Top-N series by total.
    #[prost(int64, optional, tag = "9")]
    #[serde(deserialize_with = "json::opt_int64::deserialize")]
    pub limit: Option<i64>,
    /// Accepted, ignored (no exemplars).
    #[prost(int32, tag = "10")]
    #[serde(alias = "exemplar_type", deserialize_with = "json::exemplar_type")]
    pub exemplar_type: i32,
}

/// `querier.v1.SelectSeriesResponse`.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
pub struct SelectSeriesResponse {
    /// The series.
    #[prost(message, repeated, tag = "1")]
    pub series: Vec<Series>,
}

/// `querier.v1.DiffRequest`.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default)]
pub struct DiffRequest {
    /// Left side.
    #[prost(message, optional, tag = "1")]
    pub left: Option<SelectMergeStacktracesRequest>,
    /// Right side.
    #[prost(message, optional, tag = "2")]
    pub right: Option<SelectMergeStacktracesRequest>,
}

/// `querier.v1.DiffResponse`.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
pub struct DiffResponse {
    /// The diff; absent when both sides are empty.
    #[prost(message, optional, tag = "1")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flamegraph: Option<FlameGraphDiff>,
}

/// `querier.v1.FlameGraphDiff`.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlameGraphDiff {
    /// Names; `names[0]` is `total`.
    #[prost(string, repeated, tag = "1")]
    pub names: Vec<String>,
    /// Levels of 7-int nodes.
    #[prost(message, repeated, tag = "2")]
    pub levels: Vec<Level>,
    /// Left plus right total.
    #[prost(int64, tag = "3")]
    #[serde(with = "json::int64")]
    pub total: i64,
    /// Biggest self value.
    #[prost(int64, tag = "4")]
    #[serde(with = "json::int64")]
    pub max_self: i64,
    /// Left total.
    #[prost(int64, tag = "5")]
    #[serde(with = "json::int64")]
    pub left_ticks: i64,
    /// Right total.
    #[prost(int64, tag = "6")]
    #[serde(with = "json::int64")]
    pub right_ticks: i64,
}
