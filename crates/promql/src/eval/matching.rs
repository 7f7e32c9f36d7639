//! Vector–vector arithmetic and comparisons with `on`/`ignoring` and
//! `group_left`/`group_right`: one-to-one and many-to-one matching with
//! Prometheus's errors (duplicate series on the "one" side, many-to-one
//! without a group modifier, duplicate output series). Result labels are
//! computed once per matched pair; matching runs per step, so a duplicate
//! that exists only at some steps fails exactly when Prometheus fails.

use super::binary::{btos, drops_name, elem_binop, go_labels, present, signatures, Matching};
use super::series::same_labelset_error;
use super::{Ctx, Point, Series, Steps, Val};
use crate::PromqlError;
use model::metrics::{Labels, METRIC_NAME};
use promql_parser::parser::{BinModifier, VectorMatchCardinality};
use std::collections::HashMap;

/// The labels of one match's result (Prometheus's `resultMetric`); `one`
/// is the "one" side of a many-to-one match.
fn result_labels(
    many: &Labels,
    one: &Labels,
    op: u16,
    card: &VectorMatchCardinality,
    m: &Matching,
    return_bool: bool,
) -> Labels {
    let mut out = many.clone();
    if drops_name(op) || return_bool {
        out.set(METRIC_NAME, "");
    }
    match card {
        VectorMatchCardinality::OneToOne => {
            let keep: Vec<_> = out
                .as_slice()
                .iter()
                .filter(|l| m.labels.contains(&l.name) == m.on)
                .cloned()
                .collect();
            out = Labels::from_sorted_unchecked(keep);
        }
        VectorMatchCardinality::ManyToOne(include) | VectorMatchCardinality::OneToMany(include) => {
            for name in &include.labels {
                out.set(name, one.get(name).unwrap_or(""));
            }
        }
        VectorMatchCardinality::ManyToMany => {}
    }
    out
}

pub(super) fn vector_binop(
    ctx: &mut Ctx,
    op: u16,
    l: Vec<Series>,
    r: Vec<Series>,
    modifier: &BinModifier,
    steps: Steps,
) -> Result<Val, PromqlError> {
    let m = Matching::of(modifier);
    let card = &modifier.card;
    let one_to_many = matches!(card, VectorMatchCardinality::OneToMany(_));
    // The "many" side is `a`, the "one" side `b`.
    let (a, b) = if one_to_many { (r, l) } else { (l, r) };
    let mut ids = HashMap::new();
    let [asig, bsig] = signatures(&m, [&a, &b], &mut ids);
    let nsig = ids.len();
    let mut b_slot: Vec<(u32, usize)> = vec![(0, 0); nsig];
    let mut matched: Vec<u32> = vec![0; nsig];
    let (mut ac, mut bc) = (vec![0; a.len()], vec![0; b.len()]);
    let (mut ap, mut bp) = (Vec::new(), Vec::new());
    let mut b_values = vec![0.0; b.len()];
    // Output series, found by label set; per `a` series the last pair used.
    let mut out: Vec<Series> = Vec::new();
    let mut out_by_labels: HashMap<Labels, usize> = HashMap::new();
    let mut out_stamp: Vec<(u32, u32)> = Vec::new();
    let mut pair_cache: Vec<Option<(usize, usize)>> = vec![None; a.len()];
    for i in 0..steps.len() {
        if i % 1024 == 0 {
            ctx.check_deadline()?;
        }
        let ts = steps.ts(i);
        let stamp = i as u32 + 1;
        present(&a, &mut ac, ts, &mut ap);
        present(&b, &mut bc, ts, &mut bp);
        if ap.is_empty() || bp.is_empty() {
            continue;
        }
        for &(k, v) in &bp {
            let sig = bsig[k] as usize;
            if b_slot[sig].0 == stamp {
                let other = &b[b_slot[sig].1].labels;
                let side = if one_to_many { "left" } else { "right" };
                let group = match_labels(&m, &b[k].labels);
                return Err(PromqlError::Execution(format!(
                    "found duplicate series for the match group {} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                    go_labels(&group),
                    go_labels(&b[k].labels),
                    go_labels(other)
                )));
            }
            b_slot[sig] = (stamp, k);
            b_values[k] = v;
        }
        for &(k, av) in &ap {
            let sig = asig[k] as usize;
            if b_slot[sig].0 != stamp {
                continue;
            }
            let bk = b_slot[sig].1;
            let (vl, vr) = if one_to_many {
                (b_values[bk], av)
            } else {
                (av, b_values[bk])
            };
            let (mut value, keep) = elem_binop(op, vl, vr);
            if modifier.return_bool {
                value = btos(keep);
            } else if !keep {
                continue;
            }
            let o = match pair_cache[k] {
                Some((cached_b, o)) if cached_b == bk => o,
                _ => {
                    let labels = result_labels(
                        &a[k].labels,
                        &b[bk].labels,
                        op,
                        card,
                        &m,
                        modifier.return_bool,
                    );
                    let o = *out_by_labels.entry(labels.clone()).or_insert_with(|| {
                        out.push(Series {
                            labels,
                            points: Vec::new(),
                        });
                        out_stamp.push((0, 0));
                        out.len() - 1
                    });
                    pair_cache[k] = Some((bk, o));
                    o
                }
            };
            if matches!(card, VectorMatchCardinality::OneToOne) {
                if matched[sig] == stamp {
                    return Err(PromqlError::Execution(
                        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into(),
                    ));
                }
                matched[sig] = stamp;
            }
            if out_stamp[o].0 == stamp {
                if out_stamp[o].1 == sig as u32 {
                    return Err(PromqlError::Execution(
                        "multiple matches for labels: grouping labels must ensure unique matches"
                            .into(),
                    ));
                }
                return Err(same_labelset_error());
            }
            out_stamp[o] = (stamp, sig as u32);
            out[o].points.push(Point { t: ts, v: value });
        }
    }
    out.retain(|s| !s.points.is_empty());
    Ok(Val::Vector(out))
}

/// The labels of a series that its match group is named by in errors.
fn match_labels(m: &Matching, labels: &Labels) -> Labels {
    m.signature(labels)
}
