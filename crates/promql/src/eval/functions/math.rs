//! Per-value math functions (`abs`, `ceil`, `exp`, `ln`, trig, `sgn`, …),
//! `clamp*` and `round` with their scalar arguments, and `sort`/`sort_desc`
//! (NaN last, as Prometheus sorts).

use super::{map_vector, Series, Steps, Val};
use crate::eval::series::{go_max, go_min};
use crate::PromqlError;
use std::cmp::Ordering;

/// The function behind a one-argument math function name.
pub(super) fn simple(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "deg" => |v| v * 180.0 / std::f64::consts::PI,
        "rad" => |v| v * std::f64::consts::PI / 180.0,
        "sgn" => |v: f64| {
            if v < 0.0 {
                -1.0
            } else if v > 0.0 {
                1.0
            } else {
                v
            }
        },
        _ => return None,
    })
}

/// `clamp(v, min, max)`, `clamp_min(v, min)`, `clamp_max(v, max)`,
/// `round(v, to_nearest)`; `a` and `b` are the scalar arguments per step.
pub(super) fn clamp_round(
    name: &str,
    series: Vec<Series>,
    a: &[f64],
    b: &[f64],
    steps: Steps,
) -> Result<Val, PromqlError> {
    match name {
        "clamp" => map_vector(series, true, |t, v| {
            let i = steps.index(t);
            let (min, max) = (a[i], b[i]);
            if max < min {
                None
            } else {
                Some(go_max(min, go_min(max, v)))
            }
        }),
        "clamp_min" => map_vector(series, true, |t, v| Some(go_max(a[steps.index(t)], v))),
        "clamp_max" => map_vector(series, true, |t, v| Some(go_min(a[steps.index(t)], v))),
        _ => map_vector(series, true, |t, v| {
            let inverse = 1.0 / a[steps.index(t)];
            Some((v * inverse + 0.5).floor() / inverse)
        }),
    }
}

/// `sort` (ascending) or `sort_desc`; NaN last either way. Only an instant
/// query shows the order: a range query's series are sorted by labels.
pub(super) fn sort(mut series: Vec<Series>, desc: bool, steps: Steps) -> Vec<Series> {
    if steps.len() != 1 {
        return series;
    }
    let value = |s: &Series| s.points.first().map(|p| p.v).unwrap_or(f64::NAN);
    series.sort_by(|x, y| {
        let (a, b) = (value(x), value(y));
        match (a.is_nan(), b.is_nan()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ if desc => b.partial_cmp(&a).unwrap_or(Ordering::Equal),
            _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
        }
    });
    series
}
