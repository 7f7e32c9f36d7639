//! proto3 JSON details the serde derives of [`super::proto`] need: int64 as
//! strings on output and as strings or numbers on input, `null` as the
//! default, doubles as numbers or strings, and enums as names or numbers.

use serde::de::{Deserialize, Deserializer, Error};
use serde::Serializer;
use serde_json::Value;

/// Reads a JSON number or string as an `i64`.
fn to_i64<E: Error>(value: &Value) -> Result<Option<i64>, E> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| E::custom(format!("not an int64: {n}"))),
        Value::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| E::custom(format!("not an int64: {s:?}"))),
        other => Err(E::custom(format!("not an int64: {other}"))),
    }
}

/// `int64` fields.
pub mod int64 {
    use super::*;

    /// Writes the value as a decimal string.
    pub fn serialize<S: Serializer>(value: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    /// Reads a string, a number or `null` (0).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        Ok(to_i64(&Value::deserialize(d)?)?.unwrap_or(0))
    }
}

/// `optional int64` fields.
pub mod opt_int64 {
    use super::*;

    /// Reads a string, a number or `null` (absent).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        to_i64(&Value::deserialize(d)?)
    }
}

/// `double` fields given as numbers, strings (`"1.5"`, `"NaN"`) or `null`.
pub fn double<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(0.0),
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| D::Error::custom(format!("not a double: {n}"))),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| D::Error::custom(format!("not a double: {s:?}"))),
        other => Err(D::Error::custom(format!("not a double: {other}"))),
    }
}

/// Any field where `null` means the default (strings, repeated fields).
pub fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Reads an enum given by name (from `names`, indexed by value) or number.
fn enum_value<E: Error>(value: &Value, names: &[&str]) -> Result<Option<i32>, E> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => names
            .iter()
            .position(|n| n == s)
            .map(|at| Some(at as i32))
            .ok_or_else(|| E::custom(format!("unknown enum value {s:?}"))),
        other => Ok(to_i64::<E>(other)?.map(|v| v as i32)),
    }
}

/// `querier.v1.ProfileFormat`.
pub fn profile_format<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    const NAMES: [&str; 5] = [
        "PROFILE_FORMAT_UNSPECIFIED",
        "PROFILE_FORMAT_FLAMEGRAPH",
        "PROFILE_FORMAT_TREE",
        "PROFILE_FORMAT_DOT",
        "PROFILE_FORMAT_PPROF",
    ];
    Ok(enum_value(&Value::deserialize(d)?, &NAMES)?.unwrap_or(0))
}

/// `optional types.v1.TimeSeriesAggregationType`.
pub fn aggregation<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    const NAMES: [&str; 2] = [
        "TIME_SERIES_AGGREGATION_TYPE_SUM",
        "TIME_SERIES_AGGREGATION_TYPE_AVERAGE",
    ];
    enum_value(&Value::deserialize(d)?, &NAMES)
}

/// `types.v1.ExemplarType` (accepted, not used).
pub fn exemplar_type<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    const NAMES: [&str; 3] = [
        "EXEMPLAR_TYPE_UNSPECIFIED",
        "EXEMPLAR_TYPE_NONE",
        "EXEMPLAR_TYPE_INDIVIDUAL",
    ];
    Ok(enum_value::<D::Error>(&Value::deserialize(d)?, &NAMES)
        .unwrap_or(None)
        .unwrap_or(0))
}

/// `repeated int64` output: decimal strings.
pub fn int64s<S: Serializer>(values: &[i64], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    use std::fmt::Write;
    let mut seq = s.serialize_seq(Some(values.len()))?;
    let mut buf = String::with_capacity(20);
    for v in values {
        buf.clear();
        let _ = write!(buf, "{v}");
        seq.serialize_element(buf.as_str())?;
    }
    seq.end()
}
