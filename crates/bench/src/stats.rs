//! Summary statistics of a sample: mean, median, standard deviation,
//! quantiles, min and max. Pure functions over `&[f64]`; NaN-free input assumed
//! (times are measured, never parsed).

/// Arithmetic mean; 0 for an empty sample.
pub fn mean(sample: &[f64]) -> f64 {
    if sample.is_empty() {
        return 0.0;
    }
    sample.iter().sum::<f64>() / sample.len() as f64
}

/// Sample variance (n − 1 denominator); `None` below two values.
pub fn variance(sample: &[f64]) -> Option<f64> {
    if sample.len() < 2 {
        return None;
    }
    let m = mean(sample);
    Some(sample.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (sample.len() - 1) as f64)
}

/// Sample standard deviation; `None` below two values.
pub fn stddev(sample: &[f64]) -> Option<f64> {
    variance(sample).map(f64::sqrt)
}

/// A sorted copy.
pub fn sorted(sample: &[f64]) -> Vec<f64> {
    let mut copy = sample.to_vec();
    copy.sort_by(f64::total_cmp);
    copy
}

/// Quantile `q` in 0..=1 of an already sorted sample, linear interpolation
/// between order statistics (R's type 7, numpy's default); 0 when empty.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        1 => sorted[0],
        n => {
            let position = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let below = position.floor() as usize;
            let above = (below + 1).min(n - 1);
            let fraction = position - below as f64;
            sorted[below] + (sorted[above] - sorted[below]) * fraction
        }
    }
}

/// Quantile `q` as [`quantile_sorted`] computes it, by selection instead of
/// a full sort (the order of `values` changes); 0 when empty.
pub fn quantile_unsorted(values: &mut [f64], q: f64) -> f64 {
    let n = values.len();
    if n == 0 {
        return 0.0;
    }
    let position = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let below = (position.floor() as usize).min(n - 1);
    let (_, &mut low, rest) = values.select_nth_unstable_by(below, f64::total_cmp);
    let fraction = position - below as f64;
    match rest.iter().copied().min_by(f64::total_cmp) {
        Some(high) if fraction > 0.0 => low + (high - low) * fraction,
        _ => low,
    }
}

/// Median; 0 for an empty sample.
pub fn median(sample: &[f64]) -> f64 {
    quantile_sorted(&sorted(sample), 0.5)
}

/// Smallest and largest value; (0, 0) when empty.
pub fn min_max(sample: &[f64]) -> (f64, f64) {
    if sample.is_empty() {
        return (0.0, 0.0);
    }
    sample
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let sample = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(mean(&sample), 5.0);
        assert!((stddev(&sample).unwrap_or(0.0) - 2.138_089_935).abs() < 1e-6);
        assert_eq!(median(&sample), 4.5);
        assert_eq!(min_max(&sample), (2.0, 9.0));
        assert_eq!(quantile_sorted(&sorted(&sample), 0.25), 4.0);
        assert_eq!(stddev(&[1.0]), None);
    }

    #[test]
    fn selection_quantiles_match_sorted_ones() {
        let sample: Vec<f64> = (0..101).map(|i| ((i * 37) % 101) as f64 * 0.5).collect();
        let sorted = sorted(&sample);
        for q in [0.0, 0.025, 0.25, 0.5, 0.975, 1.0] {
            let mut copy = sample.clone();
            assert_eq!(
                quantile_unsorted(&mut copy, q),
                quantile_sorted(&sorted, q),
                "q={q}"
            );
        }
        assert_eq!(quantile_unsorted(&mut [], 0.5), 0.0);
        assert_eq!(quantile_unsorted(&mut [3.0], 0.9), 3.0);
    }
}
