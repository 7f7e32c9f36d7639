//! Numbers and times printed as Go prints them, so alert labels,
//! annotations and API answers read exactly as Prometheus's: `%v` / `%g` /
//! `%e` / `%f` for floats (Go's rules for when to switch to an exponent and
//! how to write it), `strconv.FormatFloat(v, 'e', -1, 64)` for API alert
//! values, and RFC 3339 times with Go's trimmed nanoseconds.
//!
//! Hand-written: Rust's formatter gives the shortest and the rounded digits
//! (which is all Go's `strconv` computes too); only the layout rules differ,
//! and no crate reproduces Go's.

use chrono::{DateTime, SecondsFormat};

/// Decimal digits of `v` (no leading zeros, no trailing zeros) and the
/// exponent of the first digit: `v = 0.d1d2… × 10^(exp + 1)`.
/// `precision` = significant digits after rounding; `None` = shortest.
fn digits(v: f64, precision: Option<usize>) -> (String, i32) {
    let text = match precision {
        Some(p) => format!("{:.*e}", p.max(1) - 1, v.abs()),
        None => format!("{:e}", v.abs()),
    };
    let (mantissa, exp) = text.split_once('e').unwrap_or((text.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while d.len() > 1 && d.ends_with('0') {
        d.pop();
    }
    (d, exp)
}

fn special(v: f64) -> Option<String> {
    if v.is_nan() {
        Some("NaN".into())
    } else if v.is_infinite() {
        Some(if v > 0.0 { "+Inf" } else { "-Inf" }.into())
    } else {
        None
    }
}

fn sign(v: f64) -> &'static str {
    if v.is_sign_negative() && v != 0.0 {
        "-"
    } else {
        ""
    }
}

/// `d.ddde±XX` with `decimals` digits after the point (padding with zeros).
fn layout_e(v: f64, d: &str, exp: i32, decimals: Option<usize>) -> String {
    let mut out = String::from(sign(v));
    out.push_str(&d[..1]);
    let rest = &d[1..];
    let decimals = decimals.unwrap_or(rest.len());
    if decimals > 0 {
        out.push('.');
        out.push_str(rest);
        for _ in rest.len()..decimals {
            out.push('0');
        }
    }
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    out.push_str(&format!("{:02}", exp.unsigned_abs()));
    out
}

/// Go's `%g` (precision `None` = shortest, as `%v` prints a float64).
pub fn format_g(v: f64, precision: Option<usize>) -> String {
    if let Some(s) = special(v) {
        return s;
    }
    if v == 0.0 {
        return format!("{}0", sign(v));
    }
    let (d, exp) = digits(v, precision);
    let nd = d.len() as i32;
    let dp = exp + 1;
    let eprec = match precision {
        None => 6,
        Some(p) => {
            let p = p.max(1) as i32;
            if p > nd && nd >= dp {
                nd
            } else {
                p
            }
        }
    };
    if exp < -4 || exp >= eprec {
        return layout_e(v, &d, exp, None);
    }
    let decimals = (nd - dp).max(0) as usize;
    format!("{}{}", sign(v), fixed_from_digits(&d, dp, decimals))
}

/// Digits `d` with the decimal point after `dp` digits, `decimals` after it.
fn fixed_from_digits(d: &str, dp: i32, decimals: usize) -> String {
    let mut out = String::new();
    if dp <= 0 {
        out.push('0');
    } else {
        for i in 0..dp as usize {
            out.push(d.as_bytes().get(i).map_or('0', |b| *b as char));
        }
    }
    if decimals > 0 {
        out.push('.');
        for i in 0..decimals as i32 {
            let at = dp + i;
            out.push(if at < 0 {
                '0'
            } else {
                d.as_bytes().get(at as usize).map_or('0', |b| *b as char)
            });
        }
    }
    out
}

/// Go's `%.Nf` (`%f` is `%.6f`).
pub fn format_f(v: f64, decimals: usize) -> String {
    if let Some(s) = special(v) {
        return s;
    }
    format!("{v:.decimals$}")
}

/// Go's `%.Ne` (`%e` is `%.6e`).
pub fn format_e(v: f64, decimals: usize) -> String {
    if let Some(s) = special(v) {
        return s;
    }
    if v == 0.0 {
        return layout_e(v, "0", 0, Some(decimals));
    }
    let (d, exp) = digits(v, Some(decimals + 1));
    layout_e(v, &d, exp, Some(decimals))
}

/// `strconv.FormatFloat(v, 'e', -1, 64)`: the `value` of alerts in the API.
pub fn format_value_e(v: f64) -> String {
    if let Some(s) = special(v) {
        return s;
    }
    if v == 0.0 {
        return format!("{}0e+00", sign(v));
    }
    let (d, exp) = digits(v, None);
    layout_e(v, &d, exp, None)
}

/// A Unix-nanosecond time as Go's `time.Time` marshals to JSON (UTC):
/// `2023-01-02T03:04:05.123456789Z`, fraction trimmed of trailing zeros.
/// `None` is Go's zero time, `0001-01-01T00:00:00Z`.
pub fn rfc3339_nanos(ns: Option<i64>) -> String {
    match ns {
        None => "0001-01-01T00:00:00Z".to_string(),
        Some(ns) => {
            let secs =
                DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::Secs, true);
            let frac = ns.rem_euclid(1_000_000_000);
            if frac == 0 {
                return secs;
            }
            let digits = format!("{frac:09}");
            let digits = digits.trim_end_matches('0');
            let stem = secs.strip_suffix('Z').unwrap_or(&secs);
            format!("{stem}.{digits}Z")
        }
    }
}

/// A Unix-nanosecond time with milliseconds, as Alertmanager's API models
/// (`strfmt.DateTime`) write it: `2023-01-02T03:04:05.123Z`.
pub fn rfc3339_millis(ns: i64) -> String {
    DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_go_prints_them() {
        for (v, want) in [
            (1.0, "1"),
            (0.5, "0.5"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (1e21, "1e+21"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
        ] {
            assert_eq!(format_g(v, None), want, "%v of {v}");
        }
        for (v, want) in [
            (1.5, "1.5"),
            (1234.5678, "1235"),
            (12345.0, "1.234e+04"),
            (0.000123456, "0.0001235"),
            (100.0, "100"),
        ] {
            assert_eq!(format_g(v, Some(4)), want, "%.4g of {v}");
        }
        assert_eq!(format_f(1.23456, 2), "1.23");
        assert_eq!(format_e(1234.5, 2), "1.23e+03");
        assert_eq!(format_e(0.0, 1), "0.0e+00");
        assert_eq!(format_value_e(1.0), "1e+00");
        assert_eq!(format_value_e(0.25), "2.5e-01");
        assert_eq!(format_value_e(123.0), "1.23e+02");
        assert_eq!(format_value_e(0.0), "0e+00");
    }

    #[test]
    fn times_print_as_go_marshals_them() {
        assert_eq!(rfc3339_nanos(None), "0001-01-01T00:00:00Z");
        assert_eq!(
            rfc3339_nanos(Some(1_700_000_000_123_456_789)),
            "2023-11-14T22:13:20.123456789Z"
        );
        assert_eq!(
            rfc3339_nanos(Some(1_700_000_000_120_000_000)),
            "2023-11-14T22:13:20.12Z"
        );
        assert_eq!(
            rfc3339_nanos(Some(1_700_000_000_000_000_000)),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(
            rfc3339_millis(1_700_000_000_123_456_789),
            "2023-11-14T22:13:20.123Z"
        );
    }
}
