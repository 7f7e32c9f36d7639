//! Binary operators: scalar–scalar, vector–scalar (with `bool`), the set
//! operators `and`/`or`/`unless`, and the match signatures (`on`/`ignoring`)
//! shared with vector–vector arithmetic and comparisons (in
//! [`super::matching`]). Signatures are computed once per series; matching
//! runs per step, as Prometheus's does.

use super::series::{drop_name, merge_same_labels};
use super::{eval, Ctx, Point, Series, Steps, Val};
use crate::PromqlError;
use model::metrics::{Labels, METRIC_NAME};
use promql_parser::parser::token::*;
use promql_parser::parser::{BinModifier, BinaryExpr, LabelModifier};
use std::collections::HashMap;

/// Evaluates a binary expression at every step.
pub(crate) fn eval_binary(
    ctx: &mut Ctx,
    be: &BinaryExpr,
    steps: Steps,
) -> Result<Val, PromqlError> {
    let op = be.op.id();
    let modifier = be.modifier.clone().unwrap_or_default();
    if modifier.fill_values.lhs.is_some() || modifier.fill_values.rhs.is_some() {
        return Err(PromqlError::Parse(
            "fill modifiers are not supported (Prometheus 2.x has none)".into(),
        ));
    }
    let lhs = eval(ctx, &be.lhs, steps)?;
    let rhs = eval(ctx, &be.rhs, steps)?;
    let return_bool = modifier.return_bool;
    match (lhs, rhs) {
        (Val::Scalar(a), Val::Scalar(b)) => Ok(Val::Scalar(
            a.iter()
                .zip(&b)
                .map(|(&x, &y)| scalar_binop(op, x, y))
                .collect(),
        )),
        (Val::Vector(v), Val::Scalar(s)) => vector_scalar(op, v, &s, false, return_bool, steps),
        (Val::Scalar(s), Val::Vector(v)) => vector_scalar(op, v, &s, true, return_bool, steps),
        (Val::Vector(l), Val::Vector(r)) => {
            if matches!(op, T_LAND | T_LOR | T_LUNLESS) {
                set_op(op, l, r, &modifier, steps)
            } else {
                super::matching::vector_binop(ctx, op, l, r, &modifier, steps)
            }
        }
        _ => Err(PromqlError::Parse(
            "binary expression must contain only scalar and instant vector types".into(),
        )),
    }
}

pub(super) fn is_comparison(op: u16) -> bool {
    matches!(op, T_EQLC | T_NEQ | T_GTR | T_LSS | T_GTE | T_LTE)
}

/// Whether the operator drops the metric name (arithmetic does).
pub(super) fn drops_name(op: u16) -> bool {
    matches!(op, T_ADD | T_SUB | T_MUL | T_DIV | T_POW | T_MOD)
}

pub(super) fn btos(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// Go's `math.Mod` (C `fmod`): the sign of the dividend.
fn go_mod(a: f64, b: f64) -> f64 {
    a % b
}

/// Scalar–scalar (comparisons give 0/1).
fn scalar_binop(op: u16, l: f64, r: f64) -> f64 {
    match op {
        T_ADD => l + r,
        T_SUB => l - r,
        T_MUL => l * r,
        T_DIV => l / r,
        T_POW => l.powf(r),
        T_MOD => go_mod(l, r),
        T_ATAN2 => l.atan2(r),
        T_EQLC => btos(l == r),
        T_NEQ => btos(l != r),
        T_GTR => btos(l > r),
        T_LSS => btos(l < r),
        T_GTE => btos(l >= r),
        T_LTE => btos(l <= r),
        _ => f64::NAN,
    }
}

/// Vector element op: the value and whether to keep it (comparisons filter
/// and keep the left value).
pub(super) fn elem_binop(op: u16, l: f64, r: f64) -> (f64, bool) {
    match op {
        T_EQLC => (l, l == r),
        T_NEQ => (l, l != r),
        T_GTR => (l, l > r),
        T_LSS => (l, l < r),
        T_GTE => (l, l >= r),
        T_LTE => (l, l <= r),
        _ => (scalar_binop(op, l, r), true),
    }
}

fn vector_scalar(
    op: u16,
    series: Vec<Series>,
    s: &[f64],
    swap: bool,
    return_bool: bool,
    steps: Steps,
) -> Result<Val, PromqlError> {
    let drop = drops_name(op) || return_bool;
    let out: Vec<Series> = series
        .into_iter()
        .filter_map(|ser| {
            let points: Vec<Point> = ser
                .points
                .iter()
                .filter_map(|p| {
                    let (mut l, mut r) = (p.v, s[steps.index(p.t)]);
                    if swap {
                        (l, r) = (r, l);
                    }
                    let (mut value, mut keep) = elem_binop(op, l, r);
                    if is_comparison(op) && swap {
                        value = r;
                    }
                    if return_bool {
                        value = btos(keep);
                        keep = true;
                    }
                    keep.then_some(Point { t: p.t, v: value })
                })
                .collect();
            (!points.is_empty()).then(|| Series {
                labels: if drop {
                    drop_name(&ser.labels)
                } else {
                    ser.labels
                },
                points,
            })
        })
        .collect();
    Ok(Val::Vector(merge_same_labels(out)?))
}

/// How series are matched: `on` (only these labels) or `ignoring` (all but
/// these and the metric name).
pub(super) struct Matching {
    pub(super) on: bool,
    pub(super) labels: Vec<String>,
}

impl Matching {
    pub(super) fn of(modifier: &BinModifier) -> Self {
        match &modifier.matching {
            Some(LabelModifier::Include(l)) => Self {
                on: true,
                labels: l.labels.clone(),
            },
            Some(LabelModifier::Exclude(l)) => Self {
                on: false,
                labels: l.labels.clone(),
            },
            None => Self {
                on: false,
                labels: Vec::new(),
            },
        }
    }

    /// The labels that identify a series' match group.
    pub(super) fn signature(&self, labels: &Labels) -> Labels {
        let pairs = labels
            .as_slice()
            .iter()
            .filter(|l| {
                if self.on {
                    self.labels.contains(&l.name)
                } else {
                    l.name != METRIC_NAME && !self.labels.contains(&l.name)
                }
            })
            .cloned()
            .collect();
        Labels::from_sorted_unchecked(pairs)
    }
}

/// Interns each series' signature as a small integer.
pub(super) fn signatures(
    m: &Matching,
    sides: [&[Series]; 2],
    ids: &mut HashMap<Labels, u32>,
) -> [Vec<u32>; 2] {
    sides.map(|side| {
        side.iter()
            .map(|s| {
                let sig = m.signature(&s.labels);
                let next = ids.len() as u32;
                *ids.entry(sig).or_insert(next)
            })
            .collect()
    })
}

/// Advances per-series cursors to `ts`; fills `out` with `(series, value)`
/// of the series that have a point there.
pub(super) fn present(
    series: &[Series],
    cursors: &mut [usize],
    ts: i64,
    out: &mut Vec<(usize, f64)>,
) {
    out.clear();
    for (k, s) in series.iter().enumerate() {
        if let Some(p) = s.points.get(cursors[k]) {
            if p.t == ts {
                out.push((k, p.v));
                cursors[k] += 1;
            }
        }
    }
}

/// Prometheus's `Labels.String()`: `{a="1", b="2"}`.
pub(super) fn go_labels(labels: &Labels) -> String {
    let inner: Vec<String> = labels.iter().map(|(n, v)| format!("{n}={v:?}")).collect();
    format!("{{{}}}", inner.join(", "))
}

fn set_op(
    op: u16,
    l: Vec<Series>,
    r: Vec<Series>,
    modifier: &BinModifier,
    steps: Steps,
) -> Result<Val, PromqlError> {
    let m = Matching::of(modifier);
    let mut ids = HashMap::new();
    let [lsig, rsig] = signatures(&m, [&l, &r], &mut ids);
    let mut seen = vec![0u32; ids.len()];
    let (mut lc, mut rc) = (vec![0; l.len()], vec![0; r.len()]);
    let (mut lp, mut rp) = (Vec::new(), Vec::new());
    let mut lout: Vec<Vec<Point>> = vec![Vec::new(); l.len()];
    let mut rout: Vec<Vec<Point>> = vec![Vec::new(); r.len()];
    for i in 0..steps.len() {
        let ts = steps.ts(i);
        let stamp = i as u32 + 1;
        present(&l, &mut lc, ts, &mut lp);
        present(&r, &mut rc, ts, &mut rp);
        match op {
            T_LAND => {
                if lp.is_empty() || rp.is_empty() {
                    continue;
                }
                for &(k, _) in &rp {
                    seen[rsig[k] as usize] = stamp;
                }
                for &(k, v) in &lp {
                    if seen[lsig[k] as usize] == stamp {
                        lout[k].push(Point { t: ts, v });
                    }
                }
            }
            T_LOR => {
                for &(k, v) in &lp {
                    seen[lsig[k] as usize] = stamp;
                    lout[k].push(Point { t: ts, v });
                }
                for &(k, v) in &rp {
                    if seen[rsig[k] as usize] != stamp {
                        rout[k].push(Point { t: ts, v });
                    }
                }
            }
            _ => {
                for &(k, _) in &rp {
                    seen[rsig[k] as usize] = stamp;
                }
                for &(k, v) in &lp {
                    if seen[lsig[k] as usize] != stamp {
                        lout[k].push(Point { t: ts, v });
                    }
                }
            }
        }
    }
    let out: Vec<Series> = l
        .into_iter()
        .zip(lout)
        .chain(r.into_iter().zip(rout))
        .filter(|(_, p)| !p.is_empty())
        .map(|(s, points)| Series {
            labels: s.labels,
            points,
        })
        .collect();
    Ok(Val::Vector(merge_same_labels(out)?))
}
