//! The evaluator's working types: points, series, evaluation steps, and the
//! label and float helpers (Go's `math.Max`/`Min` NaN rules) shared by the
//! operators and functions.

use crate::PromqlError;
use model::metrics::{Labels, METRIC_NAME};
use std::collections::HashMap;

/// One value at one time (ms).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Point {
    pub t: i64,
    pub v: f64,
}

/// A labelled list of points, ascending by time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub labels: Labels,
    pub points: Vec<Point>,
}

/// The evaluation timestamps `start, start + step, …, <= end` of one
/// (sub)evaluation; an instant evaluation has `start == end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Steps {
    pub start: i64,
    pub end: i64,
    pub step: i64,
}

impl Steps {
    /// A single evaluation at `t`.
    pub fn instant(t: i64) -> Self {
        Self {
            start: t,
            end: t,
            step: 1,
        }
    }

    /// Number of timestamps.
    pub fn len(&self) -> usize {
        if self.end < self.start || self.step <= 0 {
            0
        } else {
            let n = (i128::from(self.end) - i128::from(self.start)) / i128::from(self.step) + 1;
            usize::try_from(n).unwrap_or(usize::MAX)
        }
    }

    /// The `i`-th timestamp.
    pub fn ts(&self, i: usize) -> i64 {
        // In i128: i * step alone may pass i64 even when the sum does not.
        (i128::from(self.start) + i as i128 * i128::from(self.step)) as i64
    }

    /// The step index of timestamp `t` (which must be one of ours).
    pub fn index(&self, t: i64) -> usize {
        ((i128::from(t) - i128::from(self.start)) / i128::from(self.step)) as usize
    }
}

/// A duration in ms, saturating.
pub(crate) fn duration_ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// `labels` without `__name__`.
pub(crate) fn drop_name(labels: &Labels) -> Labels {
    if labels.metric_name().is_none() {
        return labels.clone();
    }
    let mut out = labels.clone();
    out.set(METRIC_NAME, "");
    out
}

/// Go's `math.Max`: +Inf if either is +Inf, else NaN if either is NaN,
/// +0 over -0.
pub(crate) fn go_max(a: f64, b: f64) -> f64 {
    if a == f64::INFINITY || b == f64::INFINITY {
        f64::INFINITY
    } else if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() {
            b
        } else {
            a
        }
    } else if a > b {
        a
    } else {
        b
    }
}

/// Go's `math.Min`: -Inf if either is -Inf, else NaN if either is NaN,
/// -0 over +0.
pub(crate) fn go_min(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY || b == f64::NEG_INFINITY {
        f64::NEG_INFINITY
    } else if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() {
            a
        } else {
            b
        }
    } else if a < b {
        a
    } else {
        b
    }
}

/// The error Prometheus gives when one step of a result holds two series
/// with the same labels.
pub(crate) fn same_labelset_error() -> PromqlError {
    PromqlError::Execution("vector cannot contain metrics with the same labelset".into())
}

/// Joins series that ended up with the same labels (e.g. after the metric
/// name was dropped) into one, as Prometheus's step-wise evaluation does;
/// two of them with a point at the same step is Prometheus's "same
/// labelset" error. Keeps the order of first appearance.
pub(crate) fn merge_same_labels(series: Vec<Series>) -> Result<Vec<Series>, PromqlError> {
    if series.len() < 2 {
        return Ok(series);
    }
    let mut index: HashMap<&Labels, usize> = HashMap::with_capacity(series.len());
    let mut target = Vec::with_capacity(series.len());
    let mut any_dup = false;
    for (i, s) in series.iter().enumerate() {
        let first = *index.entry(&s.labels).or_insert(i);
        any_dup |= first != i;
        target.push(first);
    }
    if !any_dup {
        return Ok(series);
    }
    drop(index);
    let mut slots: Vec<Option<Series>> = series.into_iter().map(Some).collect();
    for i in 0..slots.len() {
        let to = target[i];
        if to == i {
            continue;
        }
        let Some(moved) = slots[i].take() else {
            continue;
        };
        let Some(dest) = slots[to].as_mut() else {
            continue;
        };
        dest.points = merge_points(&dest.points, &moved.points).ok_or_else(same_labelset_error)?;
    }
    Ok(slots.into_iter().flatten().collect())
}

/// Interleaves two ascending point lists; `None` when both have a point at
/// the same time.
fn merge_points(a: &[Point], b: &[Point]) -> Option<Vec<Point>> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].t == b[j].t {
            return None;
        }
        if a[i].t < b[j].t {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    Some(out)
}

/// Prometheus's check on range-vector function results: any two series
/// with the same labels is an error, whatever their times.
pub(crate) fn ensure_unique_labels(series: &[Series]) -> Result<(), PromqlError> {
    let mut seen = std::collections::HashSet::with_capacity(series.len());
    for s in series {
        if !seen.insert(&s.labels) {
            return Err(same_labelset_error());
        }
    }
    Ok(())
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`.
pub(crate) fn format_go_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

/// Go's `fmt` `%v` of a float (shortest digits; exponent form below 1e-4
/// and from 1e6 up, as `1e+06`).
pub(crate) fn format_go_v(v: f64) -> String {
    if !v.is_finite() || v == 0.0 {
        return format_go_float(v);
    }
    let exp = v.abs().log10().floor();
    if (-4.0..6.0).contains(&exp) {
        return format!("{v}");
    }
    let s = format!("{v:e}");
    match s.split_once('e') {
        Some((mantissa, e)) => {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

/// Whether `name` is a valid label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
pub(crate) fn is_valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: &str, pts: &[(i64, f64)]) -> Series {
        Series {
            labels: Labels::from_pairs([("a", name)]),
            points: pts.iter().map(|&(t, v)| Point { t, v }).collect(),
        }
    }

    #[test]
    fn merging_interleaves_disjoint_points_and_rejects_overlap() {
        let out = merge_same_labels(vec![
            s("x", &[(1, 1.0), (3, 3.0)]),
            s("y", &[(1, 0.0)]),
            s("x", &[(2, 2.0)]),
        ])
        .expect("disjoint");
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[0].points.iter().map(|p| p.t).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert!(merge_same_labels(vec![s("x", &[(1, 1.0)]), s("x", &[(1, 2.0)])]).is_err());
    }

    #[test]
    fn go_min_max_propagate_nan() {
        assert!(go_max(f64::NAN, 1.0).is_nan());
        assert!(go_min(1.0, f64::NAN).is_nan());
        assert_eq!(go_max(1.0, 2.0), 2.0);
        assert_eq!(format_go_float(1e21), "1000000000000000000000");
        assert_eq!(format_go_float(f64::INFINITY), "+Inf");
    }
}
