//! The Prometheus API's JSON, written byte for byte as Prometheus (2.x, Go)
//! writes it: the `{"status":"success","data":…}` envelope, query results
//! (`resultType` + `result`), label sets and string lists.
//!
//! Written by hand rather than with serde because Prometheus's numbers are
//! not what serde prints (checked against /usr/bin/prometheus):
//! - sample values in vectors and matrices are strings in Go's shortest form,
//!   switching to exponent form below 1e-6 and from 1e21 (`"1e-07"`,
//!   `"1e+21"`); scalars never use an exponent (`"0.0000001"`);
//! - sample timestamps are seconds with exactly three decimals when not whole
//!   (`1700000000.120`), scalar and string timestamps are shortest floats
//!   (`1700000000.12`);
//! - strings escape `<`, `>`, `&`, U+2028 and U+2029 as Go's encoder does.
//!
//! Error bodies are in [`super::error`].

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use model::metrics::Labels;
use promql::Value;
use std::fmt::Write as _;

/// Appends `text` as a JSON string, escaped as Go's `encoding/json` does.
pub fn push_str(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float as Go's `strconv.FormatFloat(v, 'f', -1, 64)`, with Prometheus's
/// `NaN`, `+Inf`, `-Inf`: how scalar results are written.
pub fn format_scalar_value(v: f64) -> String {
    if let Some(special) = special(v) {
        return special.to_string();
    }
    // Rust's Display is the shortest round-trip form, never with an exponent.
    format!("{v}")
}

/// A sample value as Prometheus writes it in vectors and matrices: shortest
/// form, with an exponent (`1e-07`, `1.5e+21`) below 1e-6 and from 1e21.
pub fn format_sample_value(v: f64) -> String {
    let mut out = String::new();
    push_sample_value(&mut out, v);
    out
}

/// [`format_sample_value`] appended to `out` (no allocation per sample).
pub fn push_sample_value(out: &mut String, v: f64) {
    if let Some(special) = special(v) {
        out.push_str(special);
        return;
    }
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        out.push_str(&go_exponent(v));
    } else {
        let _ = write!(out, "{v}");
    }
}

fn special(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v == f64::INFINITY {
        Some("+Inf")
    } else if v == f64::NEG_INFINITY {
        Some("-Inf")
    } else {
        None
    }
}

/// Go's `'e'` format: `d.ddde±XX`, at least two exponent digits.
fn go_exponent(v: f64) -> String {
    let rust = format!("{v:e}");
    let (mantissa, exponent) = rust.split_once('e').unwrap_or((&rust, "0"));
    let (sign, digits) = match exponent.strip_prefix('-') {
        Some(digits) => ('-', digits),
        None => ('+', exponent),
    };
    format!("{mantissa}e{sign}{digits:0>2}")
}

/// A sample timestamp (Unix ms) as seconds: whole seconds, then `.ddd` when
/// the milliseconds are not zero (Prometheus's `marshalTimestamp`).
pub fn push_sample_timestamp(out: &mut String, timestamp_ms: i64) {
    if timestamp_ms < 0 {
        out.push('-');
    }
    let abs = timestamp_ms.unsigned_abs();
    let _ = write!(out, "{}", abs / 1000);
    let millis = abs % 1000;
    if millis != 0 {
        let _ = write!(out, ".{millis:03}");
    }
}

/// A scalar's or string's timestamp: `float64(ms) / 1000` as Go's JSON
/// encoder prints a float (shortest form; no exponent in the i64 ms range).
pub fn push_scalar_timestamp(out: &mut String, timestamp_ms: i64) {
    let _ = write!(out, "{}", timestamp_ms as f64 / 1000.0);
}

/// A label set as a JSON object, names in order.
pub fn push_labels(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, (name, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, name);
        out.push(':');
        push_str(out, value);
    }
    out.push('}');
}

/// A JSON array of strings.
pub fn string_array<S: AsRef<str>>(items: &[S]) -> String {
    let mut out = String::with_capacity(items.len() * 16 + 2);
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(&mut out, item.as_ref());
    }
    out.push(']');
    out
}

/// A JSON object of string values, keys in the order given.
pub fn string_object<K: AsRef<str>, V: AsRef<str>>(entries: &[(K, V)]) -> String {
    let mut out = String::from("{");
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(&mut out, key.as_ref());
        out.push(':');
        push_str(&mut out, value.as_ref());
    }
    out.push('}');
    out
}

fn push_point(out: &mut String, timestamp_ms: i64, value: f64) {
    out.push('[');
    push_sample_timestamp(out, timestamp_ms);
    out.push_str(",\"");
    push_sample_value(out, value);
    out.push_str("\"]");
}

/// `{"resultType":…,"result":…}` of `/api/v1/query` and `/api/v1/query_range`.
pub fn query_data(value: &Value) -> String {
    let mut out = String::with_capacity(estimated_len(value));
    push_query_data(&mut out, value);
    out
}

/// About how long [`query_data`]'s text is: ~32 bytes a point (a
/// timestamp, a value and the punctuation) and ~100 a label set, so a
/// matrix of millions of points is written without regrowing the buffer.
fn estimated_len(value: &Value) -> usize {
    let points = match value {
        Value::Vector(samples) => samples.len() * 3,
        Value::Matrix(series) => series.iter().map(|s| s.samples.len() + 3).sum(),
        _ => 1,
    };
    256 + points.saturating_mul(32)
}

/// A successful query's whole response body (the envelope around
/// [`query_data`]), written into one buffer: a range query's body can be
/// hundreds of MB, and copying it into the envelope cost a second buffer.
pub fn query_success(value: &Value, warnings: &[String]) -> Response {
    let mut body = String::with_capacity(estimated_len(value) + 64);
    body.push_str("{\"status\":\"success\",\"data\":");
    push_query_data(&mut body, value);
    push_warnings(&mut body, warnings);
    body.push('}');
    json_response(axum::http::StatusCode::OK, body)
}

fn push_warnings(body: &mut String, warnings: &[String]) {
    if !warnings.is_empty() {
        body.push_str(",\"warnings\":");
        body.push_str(&string_array(warnings));
    }
}

fn push_query_data(out: &mut String, value: &Value) {
    out.push_str("{\"resultType\":\"");
    out.push_str(value.result_type());
    out.push_str("\",\"result\":");
    match value {
        Value::Scalar {
            timestamp_ms,
            value,
        } => {
            out.push('[');
            push_scalar_timestamp(out, *timestamp_ms);
            out.push_str(",\"");
            out.push_str(&format_scalar_value(*value));
            out.push_str("\"]");
        }
        Value::String {
            timestamp_ms,
            value,
        } => {
            out.push('[');
            push_scalar_timestamp(out, *timestamp_ms);
            out.push(',');
            push_str(out, value);
            out.push(']');
        }
        Value::Vector(samples) => {
            out.push('[');
            for (i, sample) in samples.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"metric\":");
                push_labels(out, &sample.labels);
                out.push_str(",\"value\":");
                push_point(out, sample.timestamp_ms, sample.value);
                out.push('}');
            }
            out.push(']');
        }
        Value::Matrix(series) => {
            out.push('[');
            for (i, one) in series.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"metric\":");
                push_labels(out, &one.labels);
                out.push_str(",\"values\":[");
                for (j, sample) in one.samples.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    push_point(out, sample.timestamp_ms, sample.value);
                }
                out.push_str("]}");
            }
            out.push(']');
        }
    }
    out.push('}');
}

/// A `200 application/json` response: `{"status":"success","data":DATA}`,
/// plus `"warnings"` when there are any. `data` is JSON text.
pub fn success(data: &str, warnings: &[String]) -> Response {
    let mut body = String::with_capacity(data.len() + 64);
    body.push_str("{\"status\":\"success\",\"data\":");
    body.push_str(data);
    push_warnings(&mut body, warnings);
    body.push('}');
    json_response(axum::http::StatusCode::OK, body)
}

/// A response with a JSON body and Prometheus's content type.
pub fn json_response(status: axum::http::StatusCode, body: String) -> Response {
    (status, [(CONTENT_TYPE, "application/json")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::metrics::Sample;
    use promql::{InstantSample, RangeSeries};

    /// Every pair was printed by Prometheus 2.42 for `vector(X)` and `X`.
    #[test]
    fn values_are_formatted_like_prometheus() {
        let cases: [(f64, &str, &str); 14] = [
            (1e21, "1e+21", "1000000000000000000000"),
            (1e-7, "1e-07", "0.0000001"),
            (-1e-7, "-1e-07", "-0.0000001"),
            (0.1, "0.1", "0.1"),
            (-0.0, "-0", "-0"),
            (
                123456789012345678.0,
                "123456789012345680",
                "123456789012345680",
            ),
            (1e20, "100000000000000000000", "100000000000000000000"),
            (9.99e20, "999000000000000000000", "999000000000000000000"),
            (1e-6, "0.000001", "0.000001"),
            (1e300, "1e+300", &format!("1{}", "0".repeat(300))),
            (5e-324, "5e-324", &format!("0.{}5", "0".repeat(323))),
            (f64::NAN, "NaN", "NaN"),
            (f64::INFINITY, "+Inf", "+Inf"),
            (f64::NEG_INFINITY, "-Inf", "-Inf"),
        ];
        for (v, sample, scalar) in cases {
            assert_eq!(format_sample_value(v), sample, "sample {v}");
            assert_eq!(format_scalar_value(v), scalar, "scalar {v}");
        }
        assert_eq!(format_sample_value(1.5e-7), "1.5e-07");
        assert_eq!(format_sample_value(2.5e123), "2.5e+123");
        assert_eq!(format_sample_value(42.0), "42");
    }

    #[test]
    fn timestamps_are_formatted_like_prometheus() {
        let sample = |ms| {
            let mut s = String::new();
            push_sample_timestamp(&mut s, ms);
            s
        };
        let scalar = |ms| {
            let mut s = String::new();
            push_scalar_timestamp(&mut s, ms);
            s
        };
        assert_eq!(sample(1_700_000_000_120), "1700000000.120");
        assert_eq!(sample(1_700_000_000_000), "1700000000");
        assert_eq!(sample(1_700_000_000_005), "1700000000.005");
        assert_eq!(sample(-1_500), "-1.500");
        assert_eq!(sample(0), "0");
        assert_eq!(scalar(1_700_000_000_120), "1700000000.12");
        assert_eq!(scalar(1_700_000_000_000), "1700000000");
        assert_eq!(scalar(-1_500), "-1.5");
        assert_eq!(scalar(-1), "-0.001");
    }

    #[test]
    fn strings_are_escaped_like_go() {
        let mut out = String::new();
        push_str(&mut out, "<&>é\u{2028}\t\u{1}\"\\\n");
        assert_eq!(out, r#""\u003c\u0026\u003eé\u2028\t\u0001\"\\\n""#);
    }

    #[test]
    fn scalar_and_string_results() {
        let scalar = Value::Scalar {
            timestamp_ms: 1_700_000_000_120,
            value: 2.0,
        };
        assert_eq!(
            query_data(&scalar),
            r#"{"resultType":"scalar","result":[1700000000.12,"2"]}"#
        );
        let string = Value::String {
            timestamp_ms: 10_000,
            value: "a\"b".into(),
        };
        assert_eq!(
            query_data(&string),
            r#"{"resultType":"string","result":[10,"a\"b"]}"#
        );
    }

    #[test]
    fn vector_and_matrix_results() {
        let labels = Labels::from_pairs([("__name__", "up"), ("job", "api")]);
        let vector = Value::Vector(vec![
            InstantSample {
                labels: labels.clone(),
                timestamp_ms: 1_700_000_000_120,
                value: 1e21,
            },
            InstantSample {
                labels: Labels::default(),
                timestamp_ms: 1_700_000_000_000,
                value: f64::NAN,
            },
        ]);
        assert_eq!(
            query_data(&vector),
            concat!(
                r#"{"resultType":"vector","result":["#,
                r#"{"metric":{"__name__":"up","job":"api"},"value":[1700000000.120,"1e+21"]},"#,
                r#"{"metric":{},"value":[1700000000,"NaN"]}]}"#
            )
        );
        let matrix = Value::Matrix(vec![RangeSeries {
            labels,
            samples: vec![
                Sample {
                    timestamp_ms: 10_000,
                    value: 0.1,
                },
                Sample {
                    timestamp_ms: 11_500,
                    value: f64::NEG_INFINITY,
                },
            ],
        }]);
        assert_eq!(
            query_data(&matrix),
            concat!(
                r#"{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"api"},"#,
                r#""values":[[10,"0.1"],[11.500,"-Inf"]]}]}"#
            )
        );
        assert_eq!(
            query_data(&Value::Matrix(vec![])),
            r#"{"resultType":"matrix","result":[]}"#
        );
    }
}
