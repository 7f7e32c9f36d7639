//! Selectors: label matchers, `offset` and `@`, and the instant-vector
//! lookback (Prometheus 2.x: the newest sample in `[t - lookback, t]`, none
//! if it is a staleness marker). Each selector reads the store once for the
//! whole time range its evaluation needs.

use super::series::duration_ms;
use super::{store_error, Ctx, Point, Series, Steps};
use crate::PromqlError;
use model::metrics::{is_stale_nan, METRIC_NAME};
use promql_parser::label::MatchOp as ParserOp;
use promql_parser::parser::{AtModifier, Offset, VectorSelector};
use std::time::{SystemTime, UNIX_EPOCH};
use store::series::{MatchOp, Matcher, Select, SeriesData};

/// The store matchers of a selector (the metric name becomes `__name__=`).
pub(crate) fn matchers(vs: &VectorSelector) -> Result<Vec<Matcher>, PromqlError> {
    if !vs.matchers.or_matchers.is_empty() {
        return Err(PromqlError::Parse(
            "`or` inside label matchers is not supported (Prometheus 2.x has no such syntax)"
                .into(),
        ));
    }
    let mut out = Vec::with_capacity(vs.matchers.matchers.len() + 1);
    if let Some(name) = &vs.name {
        out.push(Matcher::equal(METRIC_NAME, name.clone()));
    }
    for m in &vs.matchers.matchers {
        let op = match m.op {
            ParserOp::Equal => MatchOp::Equal,
            ParserOp::NotEqual => MatchOp::NotEqual,
            ParserOp::Re(_) => MatchOp::Regex,
            ParserOp::NotRe(_) => MatchOp::NotRegex,
        };
        out.push(
            Matcher::new(op, m.name.clone(), m.value.clone())
                .map_err(|e| PromqlError::Parse(e.to_string()))?,
        );
    }
    Ok(out)
}

/// An `offset` in ms (negative offsets look ahead).
pub(crate) fn offset_ms(offset: &Option<Offset>) -> i64 {
    match offset {
        None => 0,
        Some(Offset::Pos(d)) => duration_ms(*d),
        Some(Offset::Neg(d)) => -duration_ms(*d),
    }
}

/// The time an `@` modifier pins evaluation to, if any.
pub(crate) fn at_ms(ctx: &Ctx, at: &Option<AtModifier>) -> Option<i64> {
    match at {
        None => None,
        Some(AtModifier::Start) => Some(ctx.query_start),
        Some(AtModifier::End) => Some(ctx.query_end),
        Some(AtModifier::At(t)) => Some(system_time_ms(*t)),
    }
}

fn system_time_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => duration_ms(d),
        Err(e) => -duration_ms(e.duration()),
    }
}

/// Reads the series matching `matchers` with samples in `[start, end]`,
/// counting them against the query's sample limit.
pub(crate) fn load(
    ctx: &mut Ctx,
    matchers: Vec<Matcher>,
    start: i64,
    end: i64,
) -> Result<Vec<SeriesData>, PromqlError> {
    let select = Select {
        matchers,
        start_ms: start,
        end_ms: end,
        max_samples: ctx.remaining_samples(),
    };
    let data = ctx.store.select(&select).map_err(store_error)?;
    let n: u64 = data.iter().map(|s| s.samples.len() as u64).sum();
    ctx.add_samples(n)?;
    ctx.check_deadline()?;
    Ok(data)
}

/// Evaluates an instant-vector selector at every step. With `sample_time`
/// the value is the chosen sample's timestamp in seconds (`timestamp()`).
pub(crate) fn eval_vector_selector(
    ctx: &mut Ctx,
    vs: &VectorSelector,
    steps: Steps,
    sample_time: bool,
) -> Result<Vec<Series>, PromqlError> {
    let offset = offset_ms(&vs.offset);
    let at = at_ms(ctx, &vs.at);
    let (first_ref, last_ref) = match at {
        Some(t) => (t.saturating_sub(offset), t.saturating_sub(offset)),
        None => (
            steps.start.saturating_sub(offset),
            steps.end.saturating_sub(offset),
        ),
    };
    let data = load(
        ctx,
        matchers(vs)?,
        first_ref.saturating_sub(ctx.lookback_ms),
        last_ref,
    )?;
    let lookback = ctx.lookback_ms;
    let n = steps.len();
    let mut out = Vec::with_capacity(data.len());
    for (k, sd) in data.into_iter().enumerate() {
        if k % 256 == 0 {
            ctx.check_deadline()?;
        }
        let samples = &sd.samples;
        let mut points = Vec::with_capacity(n.min(samples.len().saturating_mul(2)).max(1));
        if let Some(t) = at {
            // Pinned: one lookup, the same point at every step.
            if let Some(p) = lookup(samples, t.saturating_sub(offset), lookback, sample_time) {
                points.extend((0..n).map(|i| Point {
                    t: steps.ts(i),
                    v: p,
                }));
            }
        } else {
            let mut j = 0;
            for i in 0..n {
                let ts = steps.ts(i);
                let r = ts.saturating_sub(offset);
                while j < samples.len() && samples[j].timestamp_ms <= r {
                    j += 1;
                }
                if j == 0 {
                    continue;
                }
                let s = samples[j - 1];
                if s.timestamp_ms < r.saturating_sub(lookback) || is_stale_nan(s.value) {
                    continue;
                }
                let v = if sample_time {
                    s.timestamp_ms as f64 / 1000.0
                } else {
                    s.value
                };
                points.push(Point { t: ts, v });
            }
        }
        if !points.is_empty() {
            out.push(Series {
                labels: sd.labels,
                points,
            });
        }
    }
    Ok(out)
}

fn lookup(
    samples: &[model::metrics::Sample],
    r: i64,
    lookback: i64,
    sample_time: bool,
) -> Option<f64> {
    let j = samples.partition_point(|s| s.timestamp_ms <= r);
    let s = samples.get(j.checked_sub(1)?)?;
    if s.timestamp_ms < r.saturating_sub(lookback) || is_stale_nan(s.value) {
        return None;
    }
    Some(if sample_time {
        s.timestamp_ms as f64 / 1000.0
    } else {
        s.value
    })
}
