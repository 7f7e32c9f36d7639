//! `topk` and `bottomk`: per group and step the k largest (smallest)
//! values, selected with a copy of Go's `container/heap` so that ties and
//! NaNs resolve as in Prometheus 2.42 (given the same input order), and the
//! result ordered as Prometheus orders it (`sort.Reverse` of the heap).

use super::aggregate::{assign_groups, Cursor};
use super::series::{format_go_v, merge_same_labels};
use super::{Point, Series, Steps, Val};
use crate::PromqlError;
use model::metrics::Labels;
use std::cmp::Ordering;

/// `topk`/`bottomk`: per group and step the k largest (smallest) values;
/// NaN loses to any number, and a tie does not displace an earlier series.
pub(super) fn top_k(
    top: bool,
    param: &[f64],
    series: Vec<Series>,
    group: impl Fn(&Labels) -> Labels,
    steps: Steps,
) -> Result<Val, PromqlError> {
    let (gid, groups) = assign_groups(&series, group);
    let mut chosen: Vec<Vec<(usize, f64)>> = vec![Vec::new(); groups.len()];
    let mut stamps = vec![0u32; groups.len()];
    let mut out: Vec<Vec<Point>> = vec![Vec::new(); series.len()];
    // For an instant query the output order is the selection order.
    let mut order: Vec<usize> = Vec::new();
    let mut cursor = Cursor::new(series.len());
    let mut present = Vec::new();
    let mut touched = Vec::new();
    // Go's heap order: `less(a, b)` puts `a` nearer the top (evicted first).
    let less = |a: f64, b: f64| -> bool { a.is_nan() || if top { a < b } else { a > b } };
    for i in 0..steps.len() {
        let ts = steps.ts(i);
        let stamp = i as u32 + 1;
        let kf = param.get(i).copied().unwrap_or(f64::NAN);
        if !(-9.223_372_036_854_775e18..=9.223_372_036_854_775e18).contains(&kf) {
            return Err(PromqlError::Execution(format!(
                "Scalar value {} overflows int64",
                format_go_v(kf)
            )));
        }
        let k = kf as i64;
        cursor.present(&series, ts, &mut present);
        if k < 1 {
            continue;
        }
        let k = k as usize;
        touched.clear();
        for &(s, v) in &present {
            let g = gid[s];
            if stamps[g] != stamp {
                stamps[g] = stamp;
                chosen[g].clear();
                touched.push(g);
            }
            let heap = &mut chosen[g];
            if heap.len() < k {
                heap.push((s, v));
                let last = heap.len() - 1;
                go_heap_up(heap, last, &less);
                continue;
            }
            let root = heap[0].1;
            let replace = root.is_nan() || if top { root < v } else { root > v };
            if !replace {
                continue;
            }
            if k == 1 {
                heap[0] = (s, v);
                continue;
            }
            // heap.Pop then heap.Push, as Prometheus does.
            let n = heap.len() - 1;
            heap.swap(0, n);
            go_heap_down(heap, 0, n, &less);
            heap.pop();
            heap.push((s, v));
            let last = heap.len() - 1;
            go_heap_up(heap, last, &less);
        }
        for &g in &touched {
            let sel = &mut chosen[g];
            // sort.Sort(sort.Reverse(heap)): Go insertion-sorts up to 12 elements.
            if sel.len() <= 12 {
                for a in 1..sel.len() {
                    let mut j = a;
                    while j > 0 && less(sel[j - 1].1, sel[j].1) {
                        sel.swap(j, j - 1);
                        j -= 1;
                    }
                }
            } else {
                sel.sort_by(|a, b| match (a.1.is_nan(), b.1.is_nan()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    _ if top => b.1.partial_cmp(&a.1).unwrap_or(Ordering::Equal),
                    _ => a.1.partial_cmp(&b.1).unwrap_or(Ordering::Equal),
                });
            }
            for &(s, v) in sel.iter() {
                if out[s].is_empty() {
                    order.push(s);
                }
                out[s].push(Point { t: ts, v });
            }
        }
    }
    let mut slots: Vec<Option<Series>> = series.into_iter().map(Some).collect();
    let result = order
        .into_iter()
        .filter_map(|s| {
            let labels = slots[s].take()?.labels;
            Some(Series {
                labels,
                points: std::mem::take(&mut out[s]),
            })
        })
        .collect();
    Ok(Val::Vector(merge_same_labels(result)?))
}

/// Go's `container/heap` sift-up.
fn go_heap_up(h: &mut [(usize, f64)], mut j: usize, less: &impl Fn(f64, f64) -> bool) {
    while j > 0 {
        let i = (j - 1) / 2;
        if !less(h[j].1, h[i].1) {
            break;
        }
        h.swap(i, j);
        j = i;
    }
}

/// Go's `container/heap` sift-down within the first `n` elements.
fn go_heap_down(h: &mut [(usize, f64)], mut i: usize, n: usize, less: &impl Fn(f64, f64) -> bool) {
    loop {
        let j1 = 2 * i + 1;
        if j1 >= n {
            break;
        }
        let mut j = j1;
        if j1 + 1 < n && less(h[j1 + 1].1, h[j1].1) {
            j = j1 + 1;
        }
        if !less(h[j].1, h[i].1) {
            break;
        }
        h.swap(i, j);
        i = j;
    }
}
