//! Function calls: the dispatcher, argument evaluation, and the two shapes
//! of function Prometheus has — per-point functions of an instant vector
//! (labels computed once per series) and functions of a range vector
//! (one window per series per step).

mod histogram;
mod labels;
mod math;
mod over_time;
mod range;
mod rate;
mod time;

use super::series::{drop_name, ensure_unique_labels, merge_same_labels};
pub(crate) use super::subquery::eval_range_arg;
use super::subquery::{RangeArg, Window};
use super::{eval, selector, Ctx, Point, Series, Steps, Val};
use crate::PromqlError;
use model::metrics::Labels;
use promql_parser::parser::{Call, Expr};

/// Functions Prometheus 2.42 knows; the parser also knows 3.x-only ones,
/// which 2.42 rejects as unknown.
const FUNCTIONS_2_42: &[&str] = &[
    "abs",
    "absent",
    "absent_over_time",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "avg_over_time",
    "ceil",
    "changes",
    "clamp",
    "clamp_max",
    "clamp_min",
    "cos",
    "cosh",
    "count_over_time",
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "deg",
    "delta",
    "deriv",
    "exp",
    "floor",
    "histogram_count",
    "histogram_sum",
    "histogram_fraction",
    "histogram_quantile",
    "holt_winters",
    "hour",
    "idelta",
    "increase",
    "irate",
    "label_replace",
    "label_join",
    "last_over_time",
    "ln",
    "log10",
    "log2",
    "max_over_time",
    "min_over_time",
    "minute",
    "month",
    "pi",
    "predict_linear",
    "present_over_time",
    "quantile_over_time",
    "rad",
    "rate",
    "resets",
    "round",
    "scalar",
    "sgn",
    "sin",
    "sinh",
    "sort",
    "sort_desc",
    "sqrt",
    "stddev_over_time",
    "stdvar_over_time",
    "sum_over_time",
    "tan",
    "tanh",
    "time",
    "timestamp",
    "vector",
    "year",
];

/// Whether Prometheus 2.42 has a function of this name.
pub(crate) fn is_known(name: &str) -> bool {
    FUNCTIONS_2_42.contains(&name)
}

/// `quantile` as the aggregation and `quantile_over_time` compute it.
pub(crate) fn over_time_quantile(q: f64, values: &mut [f64]) -> f64 {
    over_time::quantile_of(q, values)
}

/// Strips parentheses.
pub(crate) fn unparen(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

/// Evaluates a function call at every step.
pub(crate) fn eval_call(ctx: &mut Ctx, call: &Call, steps: Steps) -> Result<Val, PromqlError> {
    let name = call.func.name;
    let args: Vec<&Expr> = call.args.args.iter().map(|a| unparen(a)).collect();
    match name {
        "time" => Ok(Val::Scalar(
            (0..steps.len())
                .map(|i| steps.ts(i) as f64 / 1000.0)
                .collect(),
        )),
        "pi" => Ok(Val::Scalar(vec![std::f64::consts::PI; steps.len()])),
        "scalar" => {
            let series = vector_arg(ctx, &args, 0, steps)?;
            let mut count = vec![0u32; steps.len()];
            let mut value = vec![f64::NAN; steps.len()];
            for s in &series {
                for p in &s.points {
                    let i = steps.index(p.t);
                    count[i] += 1;
                    value[i] = p.v;
                }
            }
            Ok(Val::Scalar(
                count
                    .iter()
                    .zip(value)
                    .map(|(&c, v)| if c == 1 { v } else { f64::NAN })
                    .collect(),
            ))
        }
        "vector" => {
            let v = scalar_arg(ctx, &args, 0, steps)?;
            let points = v
                .iter()
                .enumerate()
                .map(|(i, &v)| Point { t: steps.ts(i), v })
                .collect();
            Ok(Val::Vector(vec![Series {
                labels: Labels::default(),
                points,
            }]))
        }
        "timestamp" => {
            let series = match args.first() {
                Some(Expr::VectorSelector(vs)) => {
                    selector::eval_vector_selector(ctx, vs, steps, true)?
                }
                _ => {
                    let mut s = vector_arg(ctx, &args, 0, steps)?;
                    for series in &mut s {
                        for p in &mut series.points {
                            p.v = p.t as f64 / 1000.0;
                        }
                    }
                    s
                }
            };
            map_vector(series, true, |_, v| Some(v))
        }
        "absent" => {
            let series = vector_arg(ctx, &args, 0, steps)?;
            let mut present = vec![false; steps.len()];
            for s in &series {
                for p in &s.points {
                    present[steps.index(p.t)] = true;
                }
            }
            let labels = args
                .first()
                .map(|e| labels::absent_labels(e))
                .unwrap_or_default();
            Ok(absent_series(labels, &present, steps))
        }
        "label_replace" => {
            let series = vector_arg(ctx, &args, 0, steps)?;
            let strings = string_args(&args[1..])?;
            Ok(Val::Vector(labels::label_replace(series, &strings)?))
        }
        "label_join" => {
            let series = vector_arg(ctx, &args, 0, steps)?;
            let strings = string_args(&args[1..])?;
            Ok(Val::Vector(labels::label_join(series, &strings)?))
        }
        "histogram_quantile" => {
            let q = scalar_arg(ctx, &args, 0, steps)?;
            let series = vector_arg(ctx, &args, 1, steps)?;
            Ok(Val::Vector(histogram::histogram_quantile(
                &q, series, steps,
            )?))
        }
        "histogram_count" | "histogram_sum" | "histogram_fraction" => {
            // Native histograms only; float series give nothing.
            Ok(Val::Vector(Vec::new()))
        }
        "sort" | "sort_desc" => {
            let series = vector_arg(ctx, &args, 0, steps)?;
            Ok(Val::Vector(math::sort(series, name == "sort_desc", steps)))
        }
        "clamp" | "clamp_min" | "clamp_max" | "round" => {
            let series = vector_arg(ctx, &args, 0, steps)?;
            let a = if args.len() > 1 {
                scalar_arg(ctx, &args, 1, steps)?
            } else {
                vec![1.0; steps.len()]
            };
            let b = if args.len() > 2 {
                scalar_arg(ctx, &args, 2, steps)?
            } else {
                Vec::new()
            };
            math::clamp_round(name, series, &a, &b, steps)
        }
        "minute" | "hour" | "day_of_week" | "day_of_month" | "day_of_year" | "days_in_month"
        | "month" | "year" => {
            if args.is_empty() {
                let points = (0..steps.len())
                    .map(|i| {
                        let t = steps.ts(i);
                        Point {
                            t,
                            v: time::date_part(name, t / 1000),
                        }
                    })
                    .collect();
                return Ok(Val::Vector(vec![Series {
                    labels: Labels::default(),
                    points,
                }]));
            }
            let series = vector_arg(ctx, &args, 0, steps)?;
            map_vector(series, true, |_, v| {
                Some(time::date_part(name, time::go_int64(v)))
            })
        }
        _ if math::simple(name).is_some() => {
            let f = math::simple(name).ok_or_else(|| unknown(name))?;
            let series = vector_arg(ctx, &args, 0, steps)?;
            map_vector(series, true, |_, v| Some(f(v)))
        }
        _ if is_known(name) => range::eval_range_call(ctx, name, &args, steps),
        _ => Err(unknown(name)),
    }
}

pub(super) fn unknown(name: &str) -> PromqlError {
    PromqlError::Parse(format!("unknown function with name \"{name}\""))
}

/// The instant-vector argument `i`.
fn vector_arg(
    ctx: &mut Ctx,
    args: &[&Expr],
    i: usize,
    steps: Steps,
) -> Result<Vec<Series>, PromqlError> {
    match args.get(i) {
        Some(e) => match eval(ctx, e, steps)? {
            Val::Vector(s) => Ok(s),
            _ => Err(PromqlError::Parse(format!(
                "expected an instant vector as argument {}",
                i + 1
            ))),
        },
        None => Err(PromqlError::Parse(format!("missing argument {}", i + 1))),
    }
}

/// The scalar argument `i`, one value per step.
pub(super) fn scalar_arg(
    ctx: &mut Ctx,
    args: &[&Expr],
    i: usize,
    steps: Steps,
) -> Result<Vec<f64>, PromqlError> {
    match args.get(i) {
        Some(e) => match eval(ctx, e, steps)? {
            Val::Scalar(v) => Ok(v),
            _ => Err(PromqlError::Parse(format!(
                "expected a scalar as argument {}",
                i + 1
            ))),
        },
        None => Err(PromqlError::Parse(format!("missing argument {}", i + 1))),
    }
}

/// String literal arguments.
fn string_args(args: &[&Expr]) -> Result<Vec<String>, PromqlError> {
    args.iter()
        .map(|e| match e {
            Expr::StringLiteral(s) => Ok(s.val.clone()),
            _ => Err(PromqlError::Parse(
                "expected a string literal argument".into(),
            )),
        })
        .collect()
}

/// Applies `f(step index, value)` to every point (`None` drops it), with
/// the metric name dropped if `drop`; series that end up with the same
/// labels are joined (or rejected when they collide at a step).
pub(crate) fn map_vector(
    series: Vec<Series>,
    drop: bool,
    mut f: impl FnMut(i64, f64) -> Option<f64>,
) -> Result<Val, PromqlError> {
    let out: Vec<Series> = series
        .into_iter()
        .filter_map(|s| {
            let points: Vec<Point> = s
                .points
                .iter()
                .filter_map(|p| f(p.t, p.v).map(|v| Point { t: p.t, v }))
                .collect();
            (!points.is_empty()).then(|| Series {
                labels: if drop { drop_name(&s.labels) } else { s.labels },
                points,
            })
        })
        .collect();
    Ok(Val::Vector(merge_same_labels(out)?))
}

/// `absent`-style output: value 1 with `labels` at every step not `present`.
pub(super) fn absent_series(labels: Labels, present: &[bool], steps: Steps) -> Val {
    let points: Vec<Point> = present
        .iter()
        .enumerate()
        .filter(|(_, p)| !**p)
        .map(|(i, _)| Point {
            t: steps.ts(i),
            v: 1.0,
        })
        .collect();
    if points.is_empty() {
        Val::Vector(Vec::new())
    } else {
        Val::Vector(vec![Series { labels, points }])
    }
}
