//! Counter and gauge change functions over a window, as Prometheus 2.42
//! computes them: `rate`/`increase`/`delta` with extrapolation to the window
//! edges (at most 1.1 average sample intervals, else half an interval) and
//! the counter zero-point clamp; `irate`/`idelta` on the last two samples;
//! `deriv`/`predict_linear` by least squares (Kahan-summed); `holt_winters`;
//! `changes`; `resets`.

use super::over_time::kahan_inc;
use super::Window;
use crate::eval::Point;
use crate::PromqlError;

type Out = Result<Option<f64>, PromqlError>;

pub(super) fn rate(w: &Window, _: &[f64]) -> Out {
    Ok(extrapolated_rate(w, true, true))
}

pub(super) fn increase(w: &Window, _: &[f64]) -> Out {
    Ok(extrapolated_rate(w, true, false))
}

pub(super) fn delta(w: &Window, _: &[f64]) -> Out {
    Ok(extrapolated_rate(w, false, false))
}

/// Prometheus's `extrapolatedRate`.
fn extrapolated_rate(w: &Window, is_counter: bool, is_rate: bool) -> Option<f64> {
    let s = w.points;
    if s.len() < 2 {
        return None;
    }
    let first = s[0];
    let last = s[s.len() - 1];
    let mut result = last.v - first.v;
    if is_counter && w.has_drop {
        let mut prev = 0.0;
        for p in s {
            if p.v < prev {
                result += prev;
            }
            prev = p.v;
        }
    }
    let mut duration_to_start = (first.t - w.range_start) as f64 / 1000.0;
    let duration_to_end = (w.range_end - last.t) as f64 / 1000.0;
    let sampled_interval = (last.t - first.t) as f64 / 1000.0;
    let average_interval = sampled_interval / (s.len() - 1) as f64;
    if is_counter && result > 0.0 && first.v >= 0.0 {
        let duration_to_zero = sampled_interval * (first.v / result);
        if duration_to_zero < duration_to_start {
            duration_to_start = duration_to_zero;
        }
    }
    let threshold = average_interval * 1.1;
    let mut interval = sampled_interval;
    interval += if duration_to_start < threshold {
        duration_to_start
    } else {
        average_interval / 2.0
    };
    interval += if duration_to_end < threshold {
        duration_to_end
    } else {
        average_interval / 2.0
    };
    let mut factor = interval / sampled_interval;
    if is_rate {
        factor /= w.range_ms as f64 / 1000.0;
    }
    Some(result * factor)
}

pub(super) fn irate(w: &Window, _: &[f64]) -> Out {
    Ok(instant_value(w.points, true))
}

pub(super) fn idelta(w: &Window, _: &[f64]) -> Out {
    Ok(instant_value(w.points, false))
}

fn instant_value(s: &[Point], is_rate: bool) -> Option<f64> {
    if s.len() < 2 {
        return None;
    }
    let last = s[s.len() - 1];
    let prev = s[s.len() - 2];
    let mut result = if is_rate && last.v < prev.v {
        last.v
    } else {
        last.v - prev.v
    };
    let interval = last.t - prev.t;
    if interval == 0 {
        return None;
    }
    if is_rate {
        result /= interval as f64 / 1000.0;
    }
    Some(result)
}

/// Least-squares slope and intercept at `intercept_time` (Prometheus's
/// `linearRegression`).
fn linear_regression(s: &[Point], intercept_time: i64) -> (f64, f64) {
    let (mut n, mut sum_x, mut c_x, mut sum_y, mut c_y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sum_xy, mut c_xy, mut sum_x2, mut c_x2) = (0.0, 0.0, 0.0, 0.0);
    let init_y = s[0].v;
    let mut const_y = true;
    for (i, p) in s.iter().enumerate() {
        if const_y && i > 0 && p.v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (p.t - intercept_time) as f64 / 1e3;
        (sum_x, c_x) = kahan_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_inc(p.v, sum_y, c_y);
        (sum_xy, c_xy) = kahan_inc(x * p.v, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_inc(x * x, sum_x2, c_x2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    sum_x += c_x;
    sum_y += c_y;
    sum_xy += c_xy;
    sum_x2 += c_x2;
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

pub(super) fn deriv(w: &Window, _: &[f64]) -> Out {
    if w.points.len() < 2 {
        return Ok(None);
    }
    Ok(Some(linear_regression(w.points, w.points[0].t).0))
}

pub(super) fn predict_linear(w: &Window, args: &[f64]) -> Out {
    if w.points.len() < 2 {
        return Ok(None);
    }
    let duration = args.first().copied().unwrap_or(f64::NAN);
    let (slope, intercept) = linear_regression(w.points, w.eval_ts);
    Ok(Some(slope * duration + intercept))
}

pub(super) fn holt_winters(w: &Window, args: &[f64]) -> Out {
    let sf = args.first().copied().unwrap_or(f64::NAN);
    let tf = args.get(1).copied().unwrap_or(f64::NAN);
    if !(sf > 0.0 && sf < 1.0) {
        return Err(PromqlError::Execution(format!(
            "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}"
        )));
    }
    if !(tf > 0.0 && tf < 1.0) {
        return Err(PromqlError::Execution(format!(
            "invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}"
        )));
    }
    let s = w.points;
    if s.len() < 2 {
        return Ok(None);
    }
    let (mut s0, mut s1) = (0.0, s[0].v);
    let mut b = s[1].v - s[0].v;
    for (i, p) in s.iter().enumerate().skip(1) {
        let x = sf * p.v;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    Ok(Some(s1))
}

pub(super) fn changes(w: &Window, _: &[f64]) -> Out {
    let s = w.points;
    let mut n = 0u64;
    for pair in s.windows(2) {
        let (prev, cur) = (pair[0].v, pair[1].v);
        if cur != prev && !(cur.is_nan() && prev.is_nan()) {
            n += 1;
        }
    }
    Ok(Some(n as f64))
}

pub(super) fn resets(w: &Window, _: &[f64]) -> Out {
    let n = w.points.windows(2).filter(|p| p[1].v < p[0].v).count();
    Ok(Some(n as f64))
}
