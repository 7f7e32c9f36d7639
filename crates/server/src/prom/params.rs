//! Request parameters of the Prometheus API, read as Go's `r.FormValue` reads
//! them: the form body of a POST (`application/x-www-form-urlencoded`)
//! first, then the query string; the first value of a key wins and repeated
//! keys (`match[]`) collect from both.
//!
//! Times are RFC 3339 (fractions, offsets) or Unix seconds as a float,
//! rounded to the millisecond as Prometheus rounds them; durations are
//! Prometheus durations (`5m`, `1h30m`, `1d`) or float seconds (`1.5`).
//! Error texts are the real binary's.

use super::error::PromApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::Method;

/// The merged parameters of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Parameters from a form body (may be empty) and a query string, body first.
    pub fn from_parts(body: &[u8], query: &str) -> Self {
        let pairs = form_urlencoded::parse(body)
            .chain(form_urlencoded::parse(query.as_bytes()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Self { pairs }
    }

    /// The first value of `key`, if it is there and not empty (`r.FormValue(key) != ""`).
    pub fn value(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Every value of `key`, empty ones included (`r.Form[key]`).
    pub fn values(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = PromApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let query = req.uri().query().unwrap_or("").to_owned();
        let is_form = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH)
            && req
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| {
                    v.trim_start()
                        .to_ascii_lowercase()
                        .starts_with("application/x-www-form-urlencoded")
                });
        let body = if is_form {
            Bytes::from_request(req, state)
                .await
                .map_err(|e| PromApiError::bad_data(format!("error parsing form values: {e}")))?
        } else {
            Bytes::new()
        };
        Ok(Self::from_parts(&body, &query))
    }
}

/// Prometheus's `MinTime` spelled as RFC 3339 (clients send it for "any time").
const MIN_TIME_TEXT: &str = "-292273086-05-16T16:47:06Z";
/// Prometheus's `MaxTime` spelled as RFC 3339.
const MAX_TIME_TEXT: &str = "292277025-08-18T07:12:54.999999999Z";

/// A timestamp as Unix ms: float seconds (rounded to the ms) or RFC 3339.
pub fn parse_time(text: &str) -> Result<i64, String> {
    let err = || format!("cannot parse \"{text}\" to a valid timestamp");
    if let Some(seconds) = parse_go_float(text) {
        if !seconds.is_finite() || seconds.abs() >= 9.2e15 {
            return Err(err());
        }
        // Prometheus: whole seconds, plus the fraction rounded to 1 ms
        // (half away from zero), normalised as Go's time.Unix does.
        let whole = seconds.trunc();
        let fraction_ms = ((seconds - whole) * 1000.0).round() as i64;
        return Ok(whole as i64 * 1000 + fraction_ms);
    }
    match text {
        MIN_TIME_TEXT => return Ok(i64::MIN),
        MAX_TIME_TEXT => return Ok(i64::MAX),
        _ => {}
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .filter(|_| text.contains('T'))
        .map(|t| t.timestamp_millis())
        .ok_or_else(err)
}

/// A float as Go's `strconv.ParseFloat` would take it (no hex, no `_`).
fn parse_go_float(text: &str) -> Option<f64> {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    let word = matches!(
        text.trim_start_matches(['+', '-'])
            .to_ascii_lowercase()
            .as_str(),
        "inf" | "infinity" | "nan"
    );
    if plain || word {
        text.parse().ok()
    } else {
        None
    }
}

/// The time parameter `name` as Unix ms, `default` when absent (Prometheus's
/// `parseTimeParam`).
pub fn time_param(form: &Form, name: &str, default: i64) -> Result<i64, PromApiError> {
    match form.value(name) {
        None => Ok(default),
        Some(text) => parse_time(text).map_err(|e| {
            PromApiError::invalid_param(name, format!("Invalid time value for '{name}': {e}"))
        }),
    }
}

/// A duration in ns: float seconds or a Prometheus duration
/// (`[0-9]+` with units y w d h m s ms, largest first; or `0`).
pub fn parse_duration_ns(text: &str) -> Result<i64, String> {
    if let Some(seconds) = parse_go_float(text) {
        let ns = seconds * 1e9;
        if ns.is_nan() || ns >= i64::MAX as f64 || ns <= i64::MIN as f64 {
            return Err(format!(
                "cannot parse \"{text}\" to a valid duration. It overflows int64"
            ));
        }
        return Ok(ns as i64);
    }
    prometheus_duration_ns(text)
        .ok_or_else(|| format!("cannot parse \"{text}\" to a valid duration"))
}

/// Prometheus's `model.ParseDuration`.
fn prometheus_duration_ns(text: &str) -> Option<i64> {
    const UNITS: [(&str, i64); 7] = [
        ("y", 365 * 86_400_000_000_000),
        ("w", 7 * 86_400_000_000_000),
        ("d", 86_400_000_000_000),
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
    ];
    if text == "0" {
        return Some(0);
    }
    let mut rest = text;
    let mut next_unit = 0;
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let number: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let index = UNITS[next_unit..].iter().position(|(u, _)| *u == unit)? + next_unit;
        total = total.checked_add(number.checked_mul(UNITS[index].1)?)?;
        next_unit = index + 1;
        rest = &rest[unit_len..];
    }
    (next_unit > 0).then_some(total)
}

/// An optional non-negative `limit`-style parameter; 0 when absent (no limit).
pub fn limit_param(form: &Form, name: &str) -> Result<usize, PromApiError> {
    let Some(text) = form.value(name) else {
        return Ok(0);
    };
    let limit: i64 = text.parse().map_err(|_| {
        PromApiError::invalid_param(
            name,
            format!("strconv.Atoi: parsing \"{text}\": invalid syntax"),
        )
    })?;
    usize::try_from(limit)
        .map_err(|_| PromApiError::invalid_param(name, format!("{name} must be non-negative")))
}

/// Now, Unix ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_values_come_before_query_values() {
        let form = Form::from_parts(b"query=1%2B1&match[]=a", "query=2&match[]=b&time=");
        assert_eq!(form.value("query"), Some("1+1"));
        assert_eq!(form.values("match[]"), ["a", "b"]);
        assert_eq!(form.value("time"), None);
        assert_eq!(form.values("time"), [""]);
    }

    /// Each expectation was checked against Prometheus 2.42's `time=` handling.
    #[test]
    fn times_parse_like_prometheus() {
        assert_eq!(parse_time("1700000000"), Ok(1_700_000_000_000));
        assert_eq!(parse_time("1700000000.123"), Ok(1_700_000_000_123));
        assert_eq!(parse_time("10.0015"), Ok(10_002));
        assert_eq!(parse_time("1.0005"), Ok(1_000));
        assert_eq!(parse_time("-1.5"), Ok(-1_500));
        assert_eq!(parse_time("-0.0005"), Ok(-1));
        assert_eq!(parse_time("1e3"), Ok(1_000_000));
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Ok(1_700_000_000_000));
        assert_eq!(
            parse_time("2023-11-14T22:13:20.123+01:00"),
            Ok(1_699_996_400_123)
        );
        assert_eq!(
            parse_time("2023-11-14T22:13:20.123456789Z"),
            Ok(1_700_000_000_123)
        );
        assert_eq!(parse_time(MIN_TIME_TEXT), Ok(i64::MIN));
        assert_eq!(parse_time(MAX_TIME_TEXT), Ok(i64::MAX));
        for bad in ["", "abc", "2023-11-14", "0x10", "1_000"] {
            assert_eq!(
                parse_time(bad),
                Err(format!("cannot parse \"{bad}\" to a valid timestamp")),
            );
        }
    }

    #[test]
    fn durations_parse_like_prometheus() {
        let s = 1_000_000_000;
        assert_eq!(parse_duration_ns("5m"), Ok(300 * s));
        assert_eq!(parse_duration_ns("1h30m"), Ok(5_400 * s));
        assert_eq!(parse_duration_ns("1m30s"), Ok(90 * s));
        assert_eq!(parse_duration_ns("1d"), Ok(86_400 * s));
        assert_eq!(parse_duration_ns("100ms"), Ok(100_000_000));
        assert_eq!(parse_duration_ns("1.5"), Ok(1_500_000_000));
        assert_eq!(parse_duration_ns("0.0001"), Ok(100_000));
        assert_eq!(parse_duration_ns("0"), Ok(0));
        assert_eq!(parse_duration_ns("-1"), Ok(-s));
        for bad in ["", "1.5m", "30s1m", "abc", "5x", "m"] {
            assert_eq!(
                parse_duration_ns(bad),
                Err(format!("cannot parse \"{bad}\" to a valid duration")),
            );
        }
    }

    #[test]
    fn limits_are_non_negative_integers() {
        let form = Form::from_parts(b"", "limit=5&bad=x&neg=-1");
        assert_eq!(limit_param(&form, "limit").ok(), Some(5));
        assert_eq!(limit_param(&form, "absent").ok(), Some(0));
        assert!(limit_param(&form, "bad").is_err());
        assert!(limit_param(&form, "neg").is_err());
    }
}
