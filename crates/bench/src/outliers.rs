//! Outliers by the modified z-score of Iglewicz and Hoaglin: z = 0.6745 ·
//! (x − median) / MAD, flagged when |z| > 3.5 (hyperfine's rule too). When
//! the MAD is zero (over half the values equal) the mean absolute deviation
//! times 1.2533 takes its place, as the same authors recommend.

use crate::stats;

/// |z| above which a value is an outlier.
pub const THRESHOLD: f64 = 3.5;

/// Modified z-scores of `sample`, in its order (all 0 when the sample has no spread).
pub fn modified_z_scores(sample: &[f64]) -> Vec<f64> {
    let median = stats::median(sample);
    let deviations: Vec<f64> = sample.iter().map(|x| (x - median).abs()).collect();
    let mad = stats::median(&deviations);
    let scale = if mad > 0.0 {
        mad / 0.6745
    } else {
        1.253_314 * stats::mean(&deviations)
    };
    if scale <= 0.0 {
        return vec![0.0; sample.len()];
    }
    sample.iter().map(|x| (x - median) / scale).collect()
}

/// Indices of the outliers of `sample`.
pub fn outlier_indices(sample: &[f64]) -> Vec<usize> {
    modified_z_scores(sample)
        .iter()
        .enumerate()
        .filter(|(_, z)| z.abs() > THRESHOLD)
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_a_planted_slow_run() {
        let mut times: Vec<f64> = (0..20).map(|i| 0.050 + 0.0005 * (i % 5) as f64).collect();
        times[2] = 0.300;
        assert_eq!(outlier_indices(&times), vec![2]);
    }

    #[test]
    fn quiet_samples_have_none() {
        let times: Vec<f64> = (0..20).map(|i| 0.050 + 0.0005 * (i % 5) as f64).collect();
        assert!(outlier_indices(&times).is_empty());
        assert!(outlier_indices(&[1.0; 8]).is_empty());
    }

    #[test]
    fn zero_mad_falls_back_to_mean_deviation() {
        let mut times = vec![1.0; 10];
        times[9] = 5.0;
        assert_eq!(outlier_indices(&times), vec![9]);
    }
}
