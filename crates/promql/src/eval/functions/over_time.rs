//! `*_over_time` functions of a window, with Prometheus 2.42's numerics:
//! Kahan–Neumaier sums for `sum`, `avg` (incremental mean) and
//! `stddev`/`stdvar` (Welford), NaN-aware `min`/`max`, and the `quantile`
//! interpolation shared with the `quantile` aggregation.

use super::Window;
use crate::PromqlError;

type Out = Result<Option<f64>, PromqlError>;

/// One Kahan–Neumaier step: adds `inc` to `(sum, c)`.
pub(crate) fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

pub(super) fn sum(w: &Window, _: &[f64]) -> Out {
    let (mut s, mut c) = (0.0, 0.0);
    for p in w.points {
        (s, c) = kahan_inc(p.v, s, c);
    }
    Ok(Some(if s.is_infinite() { s } else { s + c }))
}

pub(super) fn avg(w: &Window, _: &[f64]) -> Out {
    let (mut mean, mut count, mut c) = (0.0f64, 0.0f64, 0.0f64);
    for p in w.points {
        count += 1.0;
        if mean.is_infinite() {
            if p.v.is_infinite() && (mean > 0.0) == (p.v > 0.0) {
                continue;
            }
            if !p.v.is_infinite() && !p.v.is_nan() {
                continue;
            }
        }
        (mean, c) = kahan_inc(p.v / count - mean / count, mean, c);
    }
    Ok(Some(if mean.is_infinite() { mean } else { mean + c }))
}

pub(super) fn count(w: &Window, _: &[f64]) -> Out {
    Ok(Some(w.points.len() as f64))
}

pub(super) fn min(w: &Window, _: &[f64]) -> Out {
    let mut m = w.points[0].v;
    for p in w.points {
        if p.v < m || m.is_nan() {
            m = p.v;
        }
    }
    Ok(Some(m))
}

pub(super) fn max(w: &Window, _: &[f64]) -> Out {
    let mut m = w.points[0].v;
    for p in w.points {
        if p.v > m || m.is_nan() {
            m = p.v;
        }
    }
    Ok(Some(m))
}

fn variance(w: &Window) -> f64 {
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for p in w.points {
        count += 1.0;
        let delta = p.v - (mean + c_mean);
        (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(delta * (p.v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

pub(super) fn stdvar(w: &Window, _: &[f64]) -> Out {
    Ok(Some(variance(w)))
}

pub(super) fn stddev(w: &Window, _: &[f64]) -> Out {
    Ok(Some(variance(w).sqrt()))
}

pub(super) fn last(w: &Window, _: &[f64]) -> Out {
    Ok(w.points.last().map(|p| p.v))
}

pub(super) fn present(_: &Window, _: &[f64]) -> Out {
    Ok(Some(1.0))
}

pub(super) fn quantile(w: &Window, args: &[f64]) -> Out {
    let q = args.first().copied().unwrap_or(f64::NAN);
    let mut values: Vec<f64> = w.points.iter().map(|p| p.v).collect();
    Ok(Some(quantile_of(q, &mut values)))
}

/// Prometheus's `quantile`: linear interpolation between the closest
/// ranks; NaNs sort first; q outside [0, 1] gives ∓Inf.
pub(crate) fn quantile_of(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        (false, false) => a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}
