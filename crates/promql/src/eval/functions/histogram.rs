//! `histogram_quantile` over classic (`le`-labelled) bucket series, as
//! Prometheus 2.42's `bucketQuantile`: buckets grouped by all other labels
//! (metric name included), sorted by bound, equal bounds merged, counts made
//! monotonic, a `+Inf` bucket required, linear interpolation inside the
//! bucket (the lowest bucket starts at 0 unless its bound is ≤ 0).

use super::{Point, Series, Steps};
use crate::eval::series::merge_same_labels;
use crate::PromqlError;
use model::metrics::{Labels, METRIC_NAME};
use std::collections::HashMap;

/// `histogram_quantile(q, buckets)`; `q` per step.
pub(super) fn histogram_quantile(
    q: &[f64],
    series: Vec<Series>,
    steps: Steps,
) -> Result<Vec<Series>, PromqlError> {
    // Per input series: its bound and group (computed once).
    let mut group_of: HashMap<Labels, usize> = HashMap::new();
    let mut groups: Vec<Labels> = Vec::new();
    let mut members: Vec<(usize, f64, &Series)> = Vec::new();
    for s in &series {
        let Some(le) = s.labels.get("le").and_then(parse_go_float) else {
            continue;
        };
        let mut key = s.labels.clone();
        key.set("le", "");
        let g = *group_of.entry(key.clone()).or_insert_with(|| {
            groups.push(key);
            groups.len() - 1
        });
        members.push((g, le, s));
    }
    let mut cursors = vec![0usize; members.len()];
    let mut scratch: Vec<Vec<(f64, f64)>> = vec![Vec::new(); groups.len()];
    let mut points: Vec<Vec<Point>> = vec![Vec::new(); groups.len()];
    for (i, &qi) in q.iter().enumerate().take(steps.len()) {
        let ts = steps.ts(i);
        for (m, (g, le, s)) in members.iter().enumerate() {
            if let Some(p) = s.points.get(cursors[m]) {
                if p.t == ts {
                    scratch[*g].push((*le, p.v));
                    cursors[m] += 1;
                }
            }
        }
        for (g, b) in scratch.iter_mut().enumerate() {
            if !b.is_empty() {
                points[g].push(Point {
                    t: ts,
                    v: bucket_quantile(qi, b),
                });
                b.clear();
            }
        }
    }
    let out = groups
        .into_iter()
        .zip(points)
        .filter(|(_, p)| !p.is_empty())
        .map(|(mut labels, points)| {
            labels.set(METRIC_NAME, "");
            Series { labels, points }
        })
        .collect();
    merge_same_labels(out)
}

/// Go's `strconv.ParseFloat` for the values `le` labels hold.
fn parse_go_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok()
}

/// Prometheus's `bucketQuantile` over `(upper bound, cumulative count)`.
pub(super) fn bucket_quantile(q: f64, buckets: &mut [(f64, f64)]) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    match buckets.last() {
        Some(&(bound, _)) if bound == f64::INFINITY => {}
        _ => return f64::NAN,
    }
    // Merge equal bounds.
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(buckets.len());
    for &(bound, count) in buckets.iter() {
        match merged.last_mut() {
            Some(last) if last.0 == bound => last.1 += count,
            _ => merged.push((bound, count)),
        }
    }
    // Make counts monotonic.
    let mut max = f64::NEG_INFINITY;
    for b in &mut merged {
        if b.1 > max {
            max = b.1;
        } else if b.1 < max {
            b.1 = max;
        }
    }
    if merged.len() < 2 {
        return f64::NAN;
    }
    let observations = merged[merged.len() - 1].1;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let b = merged[..merged.len() - 1].partition_point(|x| x.1 < rank);
    if b == merged.len() - 1 {
        return merged[merged.len() - 2].0;
    }
    if b == 0 && merged[0].0 <= 0.0 {
        return merged[0].0;
    }
    let mut start = 0.0;
    let end = merged[b].0;
    let mut count = merged[b].1;
    if b > 0 {
        start = merged[b - 1].0;
        count -= merged[b - 1].1;
        rank -= merged[b - 1].1;
    }
    start + (end - start) * (rank / count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_inside_the_bucket() {
        let mut b = vec![(f64::INFINITY, 10.0), (1.0, 5.0), (0.5, 2.0)];
        // rank 5 falls at the top of the (0.5, 1] bucket.
        assert_eq!(bucket_quantile(0.5, &mut b), 1.0);
        let mut b = vec![(0.5, 2.0), (1.0, 6.0), (f64::INFINITY, 10.0)];
        // rank 4: 0.5 + 0.5 * (2/4).
        assert_eq!(bucket_quantile(0.4, &mut b), 0.75);
        // Above the last finite bucket: its bound.
        assert_eq!(bucket_quantile(0.99, &mut b), 1.0);
        let mut no_inf = vec![(1.0, 1.0)];
        assert!(bucket_quantile(0.5, &mut no_inf).is_nan());
    }

    #[test]
    fn non_monotonic_counts_are_raised() {
        let mut b = vec![(1.0, 5.0), (2.0, 4.0), (f64::INFINITY, 8.0)];
        // Fixed to 5, 5, 8: rank 6.4 falls into (2, +Inf] → bound 2.
        assert_eq!(bucket_quantile(0.8, &mut b), 2.0);
    }
}
