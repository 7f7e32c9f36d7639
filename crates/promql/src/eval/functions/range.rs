//! Functions of a range vector: the argument (matrix selector or subquery)
//! is read once, then each series' windows are cut step by step and handed
//! to the per-window function; `absent_over_time` inverts the result.

use super::labels::absent_labels;
use super::{
    absent_series, drop_name, ensure_unique_labels, eval_range_arg, over_time, rate, scalar_arg,
    unknown, RangeArg, Window,
};
use super::{Ctx, Point, Series, Steps, Val};
use crate::PromqlError;
use promql_parser::parser::Expr;

/// A function of one window (plus the step's scalar arguments).
type WindowFn = fn(&Window, &[f64]) -> Result<Option<f64>, PromqlError>;

pub(super) fn eval_range_call(
    ctx: &mut Ctx,
    name: &str,
    args: &[&Expr],
    steps: Steps,
) -> Result<Val, PromqlError> {
    // Where the range argument sits, and the scalar arguments around it.
    let (matrix_index, f): (usize, WindowFn) = match name {
        "rate" => (0, rate::rate),
        "increase" => (0, rate::increase),
        "delta" => (0, rate::delta),
        "irate" => (0, rate::irate),
        "idelta" => (0, rate::idelta),
        "deriv" => (0, rate::deriv),
        "predict_linear" => (0, rate::predict_linear),
        "holt_winters" => (0, rate::holt_winters),
        "changes" => (0, rate::changes),
        "resets" => (0, rate::resets),
        "quantile_over_time" => (1, over_time::quantile),
        "avg_over_time" => (0, over_time::avg),
        "min_over_time" => (0, over_time::min),
        "max_over_time" => (0, over_time::max),
        "sum_over_time" => (0, over_time::sum),
        "count_over_time" => (0, over_time::count),
        "stddev_over_time" => (0, over_time::stddev),
        "stdvar_over_time" => (0, over_time::stdvar),
        "last_over_time" => (0, over_time::last),
        "present_over_time" | "absent_over_time" => (0, over_time::present),
        _ => return Err(unknown(name)),
    };
    let mut scalars = Vec::new();
    for (i, _) in args.iter().enumerate() {
        if i != matrix_index {
            scalars.push(scalar_arg(ctx, args, i, steps)?);
        }
    }
    let arg_expr = args.get(matrix_index).ok_or_else(|| unknown(name))?;
    let range = eval_range_arg(ctx, arg_expr, steps)?;
    let keep_name = name == "last_over_time";
    let out = match name {
        "max_over_time" | "min_over_time" if range.at.is_none() => {
            sliding_extremes(ctx, &range, steps, name == "max_over_time")?
        }
        _ => apply_windows(ctx, &range, &scalars, steps, keep_name, f)?,
    };
    if name == "absent_over_time" {
        let mut present = vec![false; steps.len()];
        for s in &out {
            for p in &s.points {
                present[steps.index(p.t)] = true;
            }
        }
        return Ok(absent_series(absent_labels(arg_expr), &present, steps));
    }
    ensure_unique_labels(&out)?;
    Ok(Val::Vector(out))
}

fn sliding_extremes(
    ctx: &mut Ctx,
    range: &RangeArg,
    steps: Steps,
    max: bool,
) -> Result<Vec<Series>, PromqlError> {
    let mut out = Vec::with_capacity(range.series.len());
    for k in 0..range.series.len() {
        if k % 64 == 0 {
            ctx.check_deadline()?;
        }
        let points = range.sliding_extreme(k, steps, max);
        if !points.is_empty() {
            out.push(Series {
                labels: drop_name(&range.series[k].labels),
                points,
            });
        }
    }
    Ok(out)
}

fn apply_windows(
    ctx: &mut Ctx,
    range: &RangeArg,
    scalars: &[Vec<f64>],
    steps: Steps,
    keep_name: bool,
    f: WindowFn,
) -> Result<Vec<Series>, PromqlError> {
    let mut out = Vec::with_capacity(range.series.len());
    let mut args = vec![0.0; scalars.len()];
    for k in 0..range.series.len() {
        if k % 64 == 0 {
            ctx.check_deadline()?;
        }
        let mut points = Vec::with_capacity(steps.len().min(1 << 16));
        let mut err = None;
        range.for_each_window(k, steps, |i, w| {
            if err.is_some() {
                return;
            }
            for (a, s) in args.iter_mut().zip(scalars) {
                *a = s[i];
            }
            match f(w, &args) {
                Ok(Some(v)) => points.push(Point { t: steps.ts(i), v }),
                Ok(None) => {}
                Err(e) => err = Some(e),
            }
        })?;
        if let Some(e) = err {
            return Err(e);
        }
        if !points.is_empty() {
            let labels = &range.series[k].labels;
            out.push(Series {
                labels: if keep_name {
                    labels.clone()
                } else {
                    drop_name(labels)
                },
                points,
            });
        }
    }
    Ok(out)
}
