//! Query-string parsing for the Jaeger API: Go duration strings (`1.2s`,
//! `100ms`, `1h30m`), UI lookbacks (`1h`, `2d`), microsecond timestamps, tags.
//!
//! Go's `time.ParseDuration` grammar is small and no maintained crate parses
//! exactly it (humantime rejects fractions like `1.2s`), so it is written here.

use crate::error::ApiError;
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// Raw query pairs, in order (repeated keys kept).
pub type Pairs = Vec<(String, String)>;

/// The last non-empty value of `key`.
pub fn get<'a>(pairs: &'a Pairs, key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

/// All non-empty values of `key`.
pub fn get_all<'a>(pairs: &'a Pairs, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    pairs
        .iter()
        .filter(move |(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

/// `unable to parse param 'NAME': DETAIL`, Jaeger's wording.
pub fn bad_param(name: &str, detail: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest(format!("unable to parse param '{name}': {detail}"))
}

/// Now, Unix ns.
pub fn now_unix_nano() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Parses a Go duration (`300ms`, `1.5h`, `2h45m`, `0`) into ns. With
/// `allow_days`, also `d` (24h) and `w` (7d), as jaeger-ui lookbacks use.
pub fn parse_go_duration(text: &str, allow_days: bool) -> Result<u64, String> {
    let err = || format!("time: invalid duration \"{text}\"");
    let s = text.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() || s.starts_with('-') {
        return Err(err());
    }
    let mut rest = s;
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(err)?;
        let number: f64 = rest[..number_len].parse().map_err(|_| err())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let nanos_per_unit: f64 = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "d" if allow_days => 86_400e9,
            "w" if allow_days => 604_800e9,
            _ => return Err(err()),
        };
        total += number * nanos_per_unit;
        rest = &rest[unit_len..];
    }
    if total >= u64::MAX as f64 {
        return Err(err());
    }
    Ok(total.round() as u64)
}

/// An optional integer parameter.
pub fn int_param(pairs: &Pairs, name: &str) -> Result<Option<i64>, ApiError> {
    get(pairs, name)
        .map(|v| v.trim().parse::<i64>().map_err(|e| bad_param(name, e)))
        .transpose()
}

/// An optional non-negative timestamp parameter in `unit_nanos` units, as Unix ns.
pub fn time_param(pairs: &Pairs, name: &str, unit_nanos: u64) -> Result<Option<u64>, ApiError> {
    match int_param(pairs, name)? {
        None => Ok(None),
        Some(v) if v < 0 => Err(bad_param(name, "must not be negative")),
        Some(v) => Ok(Some((v as u64).saturating_mul(unit_nanos))),
    }
}

/// Tags from `tags={"k":"v",…}` (JSON object) and `tag=k:v` parameters.
/// Non-string JSON values (numbers, booleans) are compared as their text.
pub fn parse_tags(pairs: &Pairs) -> Result<Vec<(String, String)>, ApiError> {
    let mut tags = BTreeMap::new();
    for tag in get_all(pairs, "tag") {
        let (k, v) = tag.split_once(':').ok_or_else(|| {
            ApiError::BadRequest(format!(
                "malformed 'tag' parameter, expecting key:value, received: {tag}"
            ))
        })?;
        tags.insert(k.to_string(), v.to_string());
    }
    for json in get_all(pairs, "tags") {
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(json).map_err(|e| {
                ApiError::BadRequest(format!(
                    "malformed 'tags' parameter, cannot unmarshal JSON: {e}"
                ))
            })?;
        for (k, v) in map {
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Bool(_) | serde_json::Value::Number(_) => v.to_string(),
                _ => {
                    return Err(ApiError::BadRequest(format!(
                        "malformed 'tags' parameter: value of '{k}' must be a string"
                    )))
                }
            };
            tags.insert(k, text);
        }
    }
    Ok(tags.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse_like_go() {
        assert_eq!(parse_go_duration("1.2s", false), Ok(1_200_000_000));
        assert_eq!(parse_go_duration("100ms", false), Ok(100_000_000));
        assert_eq!(parse_go_duration("1h30m", false), Ok(5_400_000_000_000));
        assert_eq!(parse_go_duration("250us", false), Ok(250_000));
        assert_eq!(parse_go_duration("3µs", false), Ok(3_000));
        assert_eq!(parse_go_duration("0", false), Ok(0));
        assert!(parse_go_duration("2d", false).is_err());
        assert_eq!(parse_go_duration("2d", true), Ok(172_800_000_000_000));
        for bad in ["", "10", "ms", "-1s", "1x", "1..2s"] {
            assert!(parse_go_duration(bad, true).is_err(), "{bad}");
        }
    }

    #[test]
    fn tags_come_from_json_and_tag_params() {
        let pairs: Pairs = vec![
            (
                "tags".into(),
                r#"{"http.status_code":"500","error":true}"#.into(),
            ),
            ("tag".into(), "db.system:postgresql".into()),
        ];
        let tags = parse_tags(&pairs).unwrap();
        assert_eq!(
            tags,
            vec![
                ("db.system".into(), "postgresql".into()),
                ("error".into(), "true".into()),
                ("http.status_code".into(), "500".into()),
            ]
        );
        let bad: Pairs = vec![("tags".into(), "{not json".into())];
        assert!(parse_tags(&bad).is_err());
    }
}
