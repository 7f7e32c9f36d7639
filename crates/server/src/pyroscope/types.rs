//! The `types.v1` and `settings.v1` messages the query API shares (PYRO
//! api/types/v1/types.proto, api/settings/v1/setting.proto), hand-written as
//! in [`super::proto`]: prost field numbers, serde proto3 JSON.

use super::json;
use serde::{Deserialize, Serialize};

/// `types.v1.ProfileType`.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileType {
    /// `name:sample_type:sample_unit:period_type:period_unit`.
    #[prost(string, tag = "1")]
    #[serde(rename = "ID")]
    pub id: String,
    /// `__name__`.
    #[prost(string, tag = "2")]
    pub name: String,
    /// Sample type.
    #[prost(string, tag = "4")]
    pub sample_type: String,
    /// Sample unit.
    #[prost(string, tag = "5")]
    pub sample_unit: String,
    /// Period type.
    #[prost(string, tag = "6")]
    pub period_type: String,
    /// Period unit.
    #[prost(string, tag = "7")]
    pub period_unit: String,
}

/// `types.v1.LabelNamesRequest`.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default)]
pub struct LabelNamesRequest {
    /// Selectors (union); empty: all.
    #[prost(string, repeated, tag = "1")]
    #[serde(deserialize_with = "json::nullable")]
    pub matchers: Vec<String>,
    /// Range start, ms.
    #[prost(int64, tag = "2")]
    #[serde(with = "json::int64")]
    pub start: i64,
    /// Range end, ms.
    #[prost(int64, tag = "3")]
    #[serde(with = "json::int64")]
    pub end: i64,
}

/// `types.v1.LabelValuesRequest`.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default)]
pub struct LabelValuesRequest {
    /// The label.
    #[prost(string, tag = "1")]
    #[serde(deserialize_with = "json::nullable")]
    pub name: String,
    /// Selectors (union); empty: all.
    #[prost(string, repeated, tag = "2")]
    #[serde(deserialize_with = "json::nullable")]
    pub matchers: Vec<String>,
    /// Range start, ms.
    #[prost(int64, tag = "3")]
    #[serde(with = "json::int64")]
    pub start: i64,
    /// Range end, ms.
    #[prost(int64, tag = "4")]
    #[serde(with = "json::int64")]
    pub end: i64,
}

/// `types.v1.LabelNamesResponse` and `LabelValuesResponse` (same shape).
#[derive(Clone, PartialEq, prost::Message, Serialize)]
pub struct NamesResponse {
    /// Names or values, sorted.
    #[prost(string, repeated, tag = "1")]
    pub names: Vec<String>,
}

/// `types.v1.Labels`.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
pub struct Labels {
    /// The pairs, sorted by name.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<LabelPair>,
}

/// `types.v1.LabelPair`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, prost::Message, Serialize)]
pub struct LabelPair {
    /// Name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `types.v1.Series`.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
pub struct Series {
    /// Grouping labels.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<LabelPair>,
    /// Points, ascending.
    #[prost(message, repeated, tag = "2")]
    pub points: Vec<Point>,
}

/// `types.v1.Point`.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
pub struct Point {
    /// The value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Step start, ms.
    #[prost(int64, tag = "2")]
    #[serde(with = "json::int64")]
    pub timestamp: i64,
}

/// An empty request (`GetProfileStatsRequest`, `settings.v1.GetSettingsRequest`).
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
pub struct Empty {}

/// `types.v1.GetProfileStatsResponse`.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetProfileStatsResponse {
    /// Whether any profile is stored.
    #[prost(bool, tag = "1")]
    pub data_ingested: bool,
    /// Oldest profile time, ms (0 when none).
    #[prost(int64, tag = "2")]
    #[serde(with = "json::int64")]
    pub oldest_profile_time: i64,
    /// Newest profile time, ms (0 when none).
    #[prost(int64, tag = "3")]
    #[serde(with = "json::int64")]
    pub newest_profile_time: i64,
}

/// `settings.v1.GetSettingsResponse`: no settings are stored.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
pub struct GetSettingsResponse {
    /// Always empty.
    #[prost(message, repeated, tag = "1")]
    pub settings: Vec<Setting>,
}

/// `settings.v1.Setting`.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Setting {
    /// Name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Value.
    #[prost(string, tag = "2")]
    pub value: String,
    /// Last change, ms.
    #[prost(int64, tag = "3")]
    #[serde(with = "json::int64")]
    pub modified_at: i64,
}
