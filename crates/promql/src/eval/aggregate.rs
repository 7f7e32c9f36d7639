//! Aggregations (`sum`, `avg`, `min`, `max`, `count`, `group`, `stddev`,
//! `stdvar`, `quantile`, `topk`, `bottomk`, `count_values`) with `by` and
//! `without`, with Prometheus 2.42's arithmetic (plain sums, incremental
//! mean, Welford variance, NaN-aware min/max, heap selection where ties keep
//! the earlier series). Each series' group is computed once; the per-step
//! work is a pass over the series present at that step.

use super::functions::over_time_quantile;
use super::series::{format_go_float, is_valid_label_name};
use super::{eval, Ctx, Point, Series, Steps, Val};
use crate::PromqlError;
use model::metrics::{Labels, METRIC_NAME};
use promql_parser::parser::token::*;
use promql_parser::parser::{AggregateExpr, LabelModifier};
use std::collections::HashMap;

/// Evaluates an aggregation at every step.
pub(crate) fn eval_aggregate(
    ctx: &mut Ctx,
    agg: &AggregateExpr,
    steps: Steps,
) -> Result<Val, PromqlError> {
    let op = agg.op.id();
    if matches!(op, T_LIMITK | T_LIMIT_RATIO) {
        return Err(PromqlError::Parse(format!(
            "unknown aggregation {} (not in Prometheus 2.x)",
            agg.op
        )));
    }
    let mut scalar_param = Vec::new();
    let mut string_param = String::new();
    if let Some(param) = &agg.param {
        match eval(ctx, param, steps)? {
            Val::Scalar(v) => scalar_param = v,
            Val::String(s) => string_param = s,
            _ => {
                return Err(PromqlError::Parse(
                    "aggregation parameter must be a scalar or string".into(),
                ))
            }
        }
    }
    let series = match eval(ctx, &agg.expr, steps)? {
        Val::Vector(s) => s,
        _ => {
            return Err(PromqlError::Parse(
                "aggregation needs an instant vector".into(),
            ))
        }
    };
    let (without, grouping): (bool, &[String]) = match &agg.modifier {
        None => (false, &[]),
        Some(LabelModifier::Include(l)) => (false, &l.labels),
        Some(LabelModifier::Exclude(l)) => (true, &l.labels),
    };
    let group = |labels: &Labels| group_labels(labels, without, grouping);
    match op {
        T_COUNT_VALUES => count_values(&string_param, series, without, grouping, steps),
        T_TOPK | T_BOTTOMK => super::topk::top_k(op == T_TOPK, &scalar_param, series, group, steps),
        _ => simple(op, &scalar_param, series, group, steps),
    }
}

fn group_labels(labels: &Labels, without: bool, grouping: &[String]) -> Labels {
    let pairs = labels
        .as_slice()
        .iter()
        .filter(|l| {
            if without {
                l.name != METRIC_NAME && !grouping.contains(&l.name)
            } else {
                grouping.contains(&l.name)
            }
        })
        .cloned()
        .collect();
    Labels::from_sorted_unchecked(pairs)
}

/// Group index of every series, groups in order of first appearance.
pub(super) fn assign_groups(
    series: &[Series],
    group: impl Fn(&Labels) -> Labels,
) -> (Vec<usize>, Vec<Labels>) {
    let mut ids: HashMap<Labels, usize> = HashMap::new();
    let mut groups = Vec::new();
    let gid = series
        .iter()
        .map(|s| {
            let key = group(&s.labels);
            *ids.entry(key.clone()).or_insert_with(|| {
                groups.push(key);
                groups.len() - 1
            })
        })
        .collect();
    (gid, groups)
}

/// Per-step iteration over the series that have a point at each step.
pub(super) struct Cursor {
    at: Vec<usize>,
}

impl Cursor {
    pub(super) fn new(n: usize) -> Self {
        Self { at: vec![0; n] }
    }

    pub(super) fn present(&mut self, series: &[Series], ts: i64, out: &mut Vec<(usize, f64)>) {
        out.clear();
        for (k, s) in series.iter().enumerate() {
            if let Some(p) = s.points.get(self.at[k]) {
                if p.t == ts {
                    out.push((k, p.v));
                    self.at[k] += 1;
                }
            }
        }
    }
}

#[derive(Clone, Default)]
struct State {
    stamp: u32,
    value: f64,
    mean: f64,
    count: f64,
    values: Vec<f64>,
}

fn simple(
    op: u16,
    param: &[f64],
    series: Vec<Series>,
    group: impl Fn(&Labels) -> Labels,
    steps: Steps,
) -> Result<Val, PromqlError> {
    let (gid, groups) = assign_groups(&series, group);
    let mut state = vec![State::default(); groups.len()];
    let mut out: Vec<Vec<Point>> = vec![Vec::new(); groups.len()];
    let mut cursor = Cursor::new(series.len());
    let mut present = Vec::new();
    let mut touched = Vec::new();
    for i in 0..steps.len() {
        let ts = steps.ts(i);
        let stamp = i as u32 + 1;
        cursor.present(&series, ts, &mut present);
        touched.clear();
        for &(k, v) in &present {
            let g = gid[k];
            let st = &mut state[g];
            if st.stamp != stamp {
                st.stamp = stamp;
                st.value = v;
                st.mean = v;
                st.count = 1.0;
                st.values.clear();
                match op {
                    T_STDDEV | T_STDVAR => st.value = 0.0,
                    T_GROUP => st.value = 1.0,
                    T_QUANTILE => st.values.push(v),
                    _ => {}
                }
                touched.push(g);
                continue;
            }
            match op {
                T_SUM => st.value += v,
                T_AVG => {
                    st.count += 1.0;
                    if st.mean.is_infinite() {
                        if v.is_infinite() && (st.mean > 0.0) == (v > 0.0) {
                            continue;
                        }
                        if !v.is_infinite() && !v.is_nan() {
                            continue;
                        }
                    }
                    st.mean += v / st.count - st.mean / st.count;
                }
                T_MAX if st.value < v || st.value.is_nan() => st.value = v,
                T_MIN if st.value > v || st.value.is_nan() => st.value = v,
                T_COUNT => st.count += 1.0,
                T_STDDEV | T_STDVAR => {
                    st.count += 1.0;
                    let delta = v - st.mean;
                    st.mean += delta / st.count;
                    st.value += delta * (v - st.mean);
                }
                T_QUANTILE => st.values.push(v),
                _ => {}
            }
        }
        for &g in &touched {
            let st = &mut state[g];
            let v = match op {
                T_AVG => st.mean,
                T_COUNT => st.count,
                T_STDVAR => st.value / st.count,
                T_STDDEV => (st.value / st.count).sqrt(),
                T_QUANTILE => {
                    over_time_quantile(param.get(i).copied().unwrap_or(f64::NAN), &mut st.values)
                }
                _ => st.value,
            };
            out[g].push(Point { t: ts, v });
        }
    }
    Ok(Val::Vector(
        groups
            .into_iter()
            .zip(out)
            .filter(|(_, p)| !p.is_empty())
            .map(|(labels, points)| Series { labels, points })
            .collect(),
    ))
}

fn count_values(
    label: &str,
    series: Vec<Series>,
    without: bool,
    grouping: &[String],
    steps: Steps,
) -> Result<Val, PromqlError> {
    if !is_valid_label_name(label) {
        return Err(PromqlError::Execution(format!(
            "invalid label name {label:?}"
        )));
    }
    let mut grouping = grouping.to_vec();
    if !without {
        grouping.push(label.to_string());
    }
    let mut out: Vec<Series> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut stamps: Vec<u32> = Vec::new();
    let mut cursor = Cursor::new(series.len());
    let mut present = Vec::new();
    for i in 0..steps.len() {
        let ts = steps.ts(i);
        let stamp = i as u32 + 1;
        cursor.present(&series, ts, &mut present);
        for &(k, v) in &present {
            let mut labels = series[k].labels.clone();
            labels.set(label, &format_go_float(v));
            let key = group_labels(&labels, without, &grouping);
            let o = *index.entry(key.clone()).or_insert_with(|| {
                out.push(Series {
                    labels: key,
                    points: Vec::new(),
                });
                stamps.push(0);
                out.len() - 1
            });
            if stamps[o] == stamp {
                if let Some(p) = out[o].points.last_mut() {
                    p.v += 1.0;
                }
            } else {
                stamps[o] = stamp;
                out[o].points.push(Point { t: ts, v: 1.0 });
            }
        }
    }
    Ok(Val::Vector(out))
}
