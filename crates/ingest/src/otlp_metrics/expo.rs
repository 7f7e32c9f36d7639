//! Exponential histograms as classic buckets.
//!
//! Our series store keeps float samples only (no native histograms), so an
//! OTLP exponential histogram becomes a classic one: `_bucket{le}` at the
//! exponential buckets' upper boundaries, `_sum`, `_count`. Bucket `i` of
//! scale `s` covers `(base^i, base^(i+1)]` with `base = 2^(2^-s)`; negative
//! buckets mirror it, and the zero bucket ends at `zero_threshold`.
//!
//! Two rules keep the set of `le` series stable while a cumulative histogram
//! grows, so no bucket series is left behind with an old value:
//! - scales above [`MAX_SCALE`] are merged down to it, so every SDK that
//!   starts fine lands on the same grid (8 buckets per doubling: ~4% worst
//!   quantile interpolation error, a few dozen `le` values per series);
//! - empty buckets at either end are dropped: cumulative counts are constant
//!   beyond the populated range, and for cumulative data that range only grows.

use super::delta::{Bound, HistogramTotals};
use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::ExponentialHistogramDataPoint;

/// The finest scale kept.
pub const MAX_SCALE: i32 = 3;

/// Bucket counts of one side (positive or negative), merged down to
/// `scale`: `(index, count)` ascending by index.
fn side(buckets: Option<&Buckets>, shift: u32) -> Vec<(i64, f64)> {
    let mut out: Vec<(i64, f64)> = Vec::new();
    let Some(buckets) = buckets else {
        return out;
    };
    for (k, &count) in buckets.bucket_counts.iter().enumerate() {
        let index = (i64::from(buckets.offset) + k as i64) >> shift;
        match out.last_mut() {
            Some((last, total)) if *last == index => *total += count as f64,
            _ => out.push((index, count as f64)),
        }
    }
    let first = out.iter().position(|(_, c)| *c != 0.0).unwrap_or(out.len());
    let last = out
        .iter()
        .rposition(|(_, c)| *c != 0.0)
        .map_or(first, |i| i + 1);
    out.truncate(last);
    out.drain(..first);
    out
}

/// `base^index` for a scale: `2^(index * 2^-scale)`.
fn power(index: i64, scale: i32) -> f64 {
    (index as f64 * (-f64::from(scale)).exp2()).exp2()
}

/// The point's buckets as totals with finite upper bounds (non-cumulative
/// counts), its count and sum.
pub fn to_totals(point: &ExponentialHistogramDataPoint) -> HistogramTotals {
    let shift = u32::try_from(point.scale - MAX_SCALE).unwrap_or(0).min(62);
    let scale = point.scale.min(MAX_SCALE);
    let mut totals = HistogramTotals {
        count: point.count as f64,
        sum: point.sum,
        ..HistogramTotals::default()
    };
    let mut add = |upper: f64, count: f64| {
        if upper.is_finite() {
            *totals.buckets.entry(Bound(upper)).or_insert(0.0) += count;
        }
    };
    // Negative bucket i holds [-base^(i+1), -base^i): most negative first.
    for (index, count) in side(point.negative.as_ref(), shift).into_iter().rev() {
        add(-power(index, scale), count);
    }
    add(point.zero_threshold.abs(), point.zero_count as f64);
    for (index, count) in side(point.positive.as_ref(), shift) {
        add(power(index + 1, scale), count);
    }
    totals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(scale: i32, offset: i32, counts: &[u64]) -> ExponentialHistogramDataPoint {
        ExponentialHistogramDataPoint {
            scale,
            count: counts.iter().sum::<u64>() + 1,
            sum: Some(10.0),
            zero_count: 1,
            positive: Some(Buckets {
                offset,
                bucket_counts: counts.to_vec(),
            }),
            ..Default::default()
        }
    }

    fn bounds(totals: &HistogramTotals) -> Vec<(f64, f64)> {
        totals.buckets.iter().map(|(b, c)| (b.0, *c)).collect()
    }

    #[test]
    fn scale_zero_bounds_are_powers_of_two() {
        let totals = to_totals(&point(0, 0, &[1, 2, 3]));
        assert_eq!(
            bounds(&totals),
            [(0.0, 1.0), (2.0, 1.0), (4.0, 2.0), (8.0, 3.0)]
        );
        assert_eq!(totals.count, 7.0);
        let totals = to_totals(&point(1, -2, &[1, 1]));
        let b = bounds(&totals);
        assert_eq!(b[1].0, std::f64::consts::FRAC_1_SQRT_2);
        assert_eq!(b[2].0, 1.0);
    }

    #[test]
    fn negative_buckets_come_first() {
        let mut p = point(0, 1, &[1]);
        p.negative = Some(Buckets {
            offset: 0,
            bucket_counts: vec![4, 5],
        });
        assert_eq!(
            bounds(&to_totals(&p)),
            [(-2.0, 5.0), (-1.0, 4.0), (0.0, 1.0), (4.0, 1.0)]
        );
    }

    #[test]
    fn fine_scales_are_merged_down() {
        // Scale 5, indexes 32..35 all fall into scale-3 bucket 8: (2, 2^(9/8)].
        let totals = to_totals(&point(5, 32, &[1, 1, 1, 1]));
        let b = bounds(&totals);
        assert_eq!(b.len(), 2);
        assert_eq!(b[1], (power(9, 3), 4.0));
    }

    #[test]
    fn empty_buckets_at_the_ends_are_dropped() {
        let totals = to_totals(&point(0, 0, &[0, 0, 1, 0, 2, 0]));
        assert_eq!(
            bounds(&totals),
            [(0.0, 1.0), (8.0, 1.0), (16.0, 0.0), (32.0, 2.0)]
        );
    }
}
