//! Range arguments of functions: a matrix selector (`x[5m]`) read from the
//! store, or a subquery (`expr[30m:1m]`) evaluated at its own steps, aligned
//! to multiples of the subquery step as Prometheus aligns them. Windows are
//! closed at both ends, `[t - range, t]` (Prometheus 2.x).

use super::selector::{at_ms, load, matchers, offset_ms};
use super::series::duration_ms;
use super::{eval, Ctx, Point, Series, Steps, Val};
use crate::PromqlError;
use model::metrics::is_stale_nan;
use promql_parser::parser::{Expr, MatrixSelector, SubqueryExpr};

/// The series of a range argument and how to cut windows from them.
pub(crate) struct RangeArg {
    /// Series with their points (staleness markers removed), full labels.
    pub series: Vec<Series>,
    /// Window length (ms).
    pub range_ms: i64,
    /// Offset (ms).
    pub offset_ms: i64,
    /// `@` time, if pinned.
    pub at: Option<i64>,
}

/// One window of one series at one step.
pub(crate) struct Window<'a> {
    /// Points in `[range_start, range_end]`.
    pub points: &'a [Point],
    /// Window start (ms).
    pub range_start: i64,
    /// Window end (ms).
    pub range_end: i64,
    /// Window length (ms).
    pub range_ms: i64,
    /// The evaluation time Prometheus hands functions (`predict_linear`'s target base).
    pub eval_ts: i64,
    /// Whether some point is lower than the one before it (a counter reset).
    pub has_drop: bool,
}

impl RangeArg {
    /// The raw points of every series in the window at `ts` (an instant
    /// query of a range vector).
    pub fn window_at(&self, ts: i64) -> Vec<Series> {
        let end = self.at.unwrap_or(ts).saturating_sub(self.offset_ms);
        let start = end.saturating_sub(self.range_ms);
        self.series
            .iter()
            .filter_map(|s| {
                let lo = s.points.partition_point(|p| p.t < start);
                let hi = s.points.partition_point(|p| p.t <= end);
                (hi > lo).then(|| Series {
                    labels: s.labels.clone(),
                    points: s.points[lo..hi].to_vec(),
                })
            })
            .collect()
    }

    /// Calls `f(step index, window)` for every step where series `k` has
    /// points in its window; windows advance with two cursors, so a whole
    /// range query costs one pass over the points plus one per step.
    pub fn for_each_window(
        &self,
        k: usize,
        steps: Steps,
        mut f: impl FnMut(usize, &Window),
    ) -> Result<(), PromqlError> {
        let points = &self.series[k].points;
        // drops[j]: points up to j lower than their predecessor, so a
        // window's resets are known without scanning it.
        let mut drops = Vec::with_capacity(points.len());
        let mut count = 0u32;
        for (j, p) in points.iter().enumerate() {
            if j > 0 && p.v < points[j - 1].v {
                count += 1;
            }
            drops.push(count);
        }
        let (mut lo, mut hi) = (0usize, 0usize);
        for i in 0..steps.len() {
            let ts = steps.ts(i);
            let end = self.at.unwrap_or(ts).saturating_sub(self.offset_ms);
            let start = end.saturating_sub(self.range_ms);
            if self.at.is_some() {
                lo = points.partition_point(|p| p.t < start);
                hi = points.partition_point(|p| p.t <= end);
            } else {
                while hi < points.len() && points[hi].t <= end {
                    hi += 1;
                }
                while lo < hi && points[lo].t < start {
                    lo += 1;
                }
            }
            if hi > lo {
                f(
                    i,
                    &Window {
                        points: &points[lo..hi],
                        range_start: start,
                        range_end: end,
                        range_ms: self.range_ms,
                        eval_ts: if self.at.is_some() { steps.start } else { ts },
                        has_drop: drops[hi - 1] != drops[lo],
                    },
                );
            }
        }
        Ok(())
    }
}

impl RangeArg {
    /// `max_over_time` (or `min_over_time`) of series `k` at every step, in
    /// one pass with a monotonic queue instead of a scan per window. Same
    /// result as Prometheus's scan: the first extreme among the non-NaN
    /// values, NaN when the window holds only NaNs. Not for `@`-pinned
    /// arguments (their windows do not advance).
    pub fn sliding_extreme(&self, k: usize, steps: Steps, max: bool) -> Vec<Point> {
        let points = &self.series[k].points;
        let mut queue: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
        let mut out = Vec::with_capacity(steps.len().min(1 << 16));
        let (mut lo, mut hi) = (0usize, 0usize);
        // `a` displaces `b` from the queue's back when strictly more extreme.
        let beats = |a: f64, b: f64| if max { a > b } else { a < b };
        for i in 0..steps.len() {
            let ts = steps.ts(i);
            let end = ts.saturating_sub(self.offset_ms);
            let start = end.saturating_sub(self.range_ms);
            while hi < points.len() && points[hi].t <= end {
                let v = points[hi].v;
                if !v.is_nan() {
                    while queue.back().is_some_and(|&b| beats(v, points[b].v)) {
                        queue.pop_back();
                    }
                    queue.push_back(hi);
                }
                hi += 1;
            }
            while lo < hi && points[lo].t < start {
                lo += 1;
            }
            while queue.front().is_some_and(|&f| f < lo) {
                queue.pop_front();
            }
            if hi > lo {
                let v = queue.front().map_or(f64::NAN, |&f| points[f].v);
                out.push(Point { t: ts, v });
            }
        }
        out
    }
}

/// Evaluates a matrix selector or subquery (parentheses allowed around it).
pub(crate) fn eval_range_arg(
    ctx: &mut Ctx,
    expr: &Expr,
    steps: Steps,
) -> Result<RangeArg, PromqlError> {
    match expr {
        Expr::Paren(p) => eval_range_arg(ctx, &p.expr, steps),
        Expr::MatrixSelector(ms) => matrix_selector(ctx, ms, steps),
        Expr::Subquery(sq) => subquery(ctx, sq, steps),
        _ => Err(PromqlError::Parse(
            "expected a range vector (a matrix selector or subquery)".into(),
        )),
    }
}

fn matrix_selector(
    ctx: &mut Ctx,
    ms: &MatrixSelector,
    steps: Steps,
) -> Result<RangeArg, PromqlError> {
    let vs = &ms.vs;
    let offset = offset_ms(&vs.offset);
    let range = duration_ms(ms.range);
    let at = at_ms(ctx, &vs.at);
    let (first, last) = match at {
        Some(t) => (t, t),
        None => (steps.start, steps.end),
    };
    let data = load(
        ctx,
        matchers(vs)?,
        first.saturating_sub(offset).saturating_sub(range),
        last.saturating_sub(offset),
    )?;
    let series = data
        .into_iter()
        .filter_map(|sd| {
            let points: Vec<Point> = sd
                .samples
                .iter()
                .filter(|s| !is_stale_nan(s.value))
                .map(|s| Point {
                    t: s.timestamp_ms,
                    v: s.value,
                })
                .collect();
            (!points.is_empty()).then_some(Series {
                labels: sd.labels,
                points,
            })
        })
        .collect();
    Ok(RangeArg {
        series,
        range_ms: range,
        offset_ms: offset,
        at,
    })
}

fn subquery(ctx: &mut Ctx, sq: &SubqueryExpr, steps: Steps) -> Result<RangeArg, PromqlError> {
    let offset = offset_ms(&sq.offset);
    let range = duration_ms(sq.range);
    let step = match sq.step {
        Some(d) => duration_ms(d),
        None => ctx.subquery_step_ms,
    };
    if step <= 0 {
        return Err(PromqlError::Parse("zero step in subquery".into()));
    }
    let at = at_ms(ctx, &sq.at);
    let (first, last) = match at {
        Some(t) => (t, t),
        None => (steps.start, steps.end),
    };
    // The first step-aligned time at or after first - offset - range.
    let lower = first.saturating_sub(offset).saturating_sub(range);
    let mut start = step * (lower / step);
    if start < lower {
        start = start.saturating_add(step);
    }
    let inner = Steps {
        start,
        end: last.saturating_sub(offset),
        step,
    };
    let series = if inner.len() == 0 {
        Vec::new()
    } else {
        match eval(ctx, &sq.expr, inner)? {
            Val::Vector(s) => s,
            Val::Scalar(_) | Val::String(_) | Val::Matrix(_) => {
                return Err(PromqlError::Parse(
                    "subquery is only allowed on instant vector".into(),
                ))
            }
        }
    };
    Ok(RangeArg {
        series,
        range_ms: range,
        offset_ms: offset,
        at,
    })
}
