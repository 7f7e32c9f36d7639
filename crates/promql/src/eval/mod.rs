//! The evaluator: walks the `promql-parser` AST the way Prometheus 2.x's
//! engine does, evaluating every node over all steps of the (sub)query at
//! once. Selectors read the store once per evaluation (one `select` over the
//! whole time range they need); operators and functions then work on the
//! in-memory points, step by step, with per-series work (label sets, match
//! signatures, groups) done once per series rather than once per step.

mod aggregate;
mod binary;
mod functions;
mod matching;
mod selector;
pub(crate) mod series;
mod subquery;
#[cfg(test)]
mod tests;
mod topk;
mod validate;

use crate::PromqlError;
use promql_parser::parser::{Expr, UnaryExpr};
pub(crate) use series::{Point, Series, Steps};
use std::time::Instant;
use store::SeriesStore;
pub(crate) use validate::{guard_durations, validate};

/// A node's value over all steps of its evaluation.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    /// One number per step.
    Scalar(Vec<f64>),
    /// A string (the same at every step).
    String(String),
    /// An instant vector: series with a point at the steps where they have a value.
    Vector(Vec<Series>),
    /// A range vector (only as an instant query's result): raw points.
    Matrix(Vec<Series>),
}

impl Val {
    fn points(&self) -> u64 {
        match self {
            Val::Scalar(v) => v.len() as u64,
            Val::String(_) => 0,
            Val::Vector(s) | Val::Matrix(s) => s.iter().map(|s| s.points.len() as u64).sum(),
        }
    }
}

/// Per-query state: the store, the limits, and the sample count.
pub(crate) struct Ctx<'a> {
    pub store: &'a dyn SeriesStore,
    pub lookback_ms: i64,
    pub max_samples: u64,
    pub deadline: Option<Instant>,
    /// The query's own start and end (for `@ start()` / `@ end()`).
    pub query_start: i64,
    pub query_end: i64,
    /// Step of subqueries written without one (Prometheus: the global
    /// evaluation interval).
    pub subquery_step_ms: i64,
    /// Samples currently held (Prometheus's `currentSamples`).
    pub samples: u64,
}

impl Ctx<'_> {
    /// Fails once the query has run past its timeout.
    pub fn check_deadline(&self) -> Result<(), PromqlError> {
        match self.deadline {
            Some(d) if Instant::now() > d => {
                Err(PromqlError::Timeout("expression evaluation".into()))
            }
            _ => Ok(()),
        }
    }

    /// Counts `n` more samples held; fails past the limit.
    pub fn add_samples(&mut self, n: u64) -> Result<(), PromqlError> {
        self.samples = self.samples.saturating_add(n);
        if self.max_samples > 0 && self.samples > self.max_samples {
            return Err(too_many_samples());
        }
        Ok(())
    }

    /// How many more samples a store read may return.
    pub fn remaining_samples(&self) -> u64 {
        if self.max_samples == 0 {
            0
        } else {
            self.max_samples.saturating_sub(self.samples).max(1)
        }
    }
}

/// Prometheus's error for a query over `--query.max-samples`.
pub(crate) fn too_many_samples() -> PromqlError {
    PromqlError::TooManySamples("query execution".into())
}

/// Maps a store failure, keeping the sample limit Prometheus's error.
pub(crate) fn store_error(err: store::StoreError) -> PromqlError {
    match err {
        store::StoreError::TooManySamples { .. } => too_many_samples(),
        other => PromqlError::Store(other),
    }
}

/// Evaluates `expr` at every timestamp of `steps`.
pub(crate) fn eval(ctx: &mut Ctx, expr: &Expr, steps: Steps) -> Result<Val, PromqlError> {
    ctx.check_deadline()?;
    // Every node holds up to one value per step: refuse before allocating.
    let cap = if ctx.max_samples > 0 {
        ctx.max_samples
    } else {
        u64::from(u32::MAX)
    };
    if steps.len() as u64 > cap {
        return Err(too_many_samples());
    }
    let before = ctx.samples;
    let val = eval_inner(ctx, expr, steps)?;
    // Children's results are gone now; only this node's result is held.
    ctx.samples = before;
    ctx.add_samples(val.points())?;
    Ok(val)
}

fn eval_inner(ctx: &mut Ctx, expr: &Expr, steps: Steps) -> Result<Val, PromqlError> {
    match expr {
        Expr::NumberLiteral(n) => Ok(Val::Scalar(vec![n.val; steps.len()])),
        Expr::StringLiteral(s) => Ok(Val::String(s.val.clone())),
        Expr::Paren(p) => eval(ctx, &p.expr, steps),
        Expr::Unary(u) => eval_unary(ctx, u, steps),
        Expr::VectorSelector(vs) => Ok(Val::Vector(selector::eval_vector_selector(
            ctx, vs, steps, false,
        )?)),
        Expr::MatrixSelector(_) | Expr::Subquery(_) => {
            if steps.len() != 1 {
                return Err(PromqlError::Parse(
                    "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector"
                        .into(),
                ));
            }
            let arg = functions::eval_range_arg(ctx, expr, steps)?;
            Ok(Val::Matrix(arg.window_at(steps.start)))
        }
        Expr::Call(call) => functions::eval_call(ctx, call, steps),
        Expr::Aggregate(agg) => aggregate::eval_aggregate(ctx, agg, steps),
        Expr::Binary(bin) => binary::eval_binary(ctx, bin, steps),
        Expr::Extension(_) => Err(PromqlError::Parse(
            "extension expressions are not supported".into(),
        )),
    }
}

fn eval_unary(ctx: &mut Ctx, u: &UnaryExpr, steps: Steps) -> Result<Val, PromqlError> {
    match eval(ctx, &u.expr, steps)? {
        Val::Scalar(v) => Ok(Val::Scalar(v.into_iter().map(|x| -x).collect())),
        Val::Vector(series) => {
            let out: Vec<Series> = series
                .into_iter()
                .map(|s| Series {
                    labels: series::drop_name(&s.labels),
                    points: s
                        .points
                        .into_iter()
                        .map(|p| Point { t: p.t, v: -p.v })
                        .collect(),
                })
                .collect();
            Ok(Val::Vector(series::merge_same_labels(out)?))
        }
        _ => Err(PromqlError::Parse(
            "unary expression only allowed on expressions of type scalar or vector".into(),
        )),
    }
}
