//! Running statistics for `-r N`, exactly as perf computes them
//! (tools/perf/util/stat.c): Welford's mean and M2, the standard error of the
//! mean `sqrt(M2 / (n - 1) / n)`, and the ± percentage relative to the mean.

/// Mean and spread of one value over repeated runs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RunningStats {
    /// Values seen.
    pub n: u64,
    /// Their mean.
    pub mean: f64,
    /// Sum of squared differences from the mean (Welford).
    m2: f64,
}

impl RunningStats {
    /// Adds one value.
    pub fn push(&mut self, value: f64) {
        self.n += 1;
        let delta = value - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (value - self.mean);
    }

    /// Standard error of the mean (perf's `stddev_stats`); 0 below two values.
    pub fn std_error(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        let variance = self.m2 / (self.n - 1) as f64;
        (variance / self.n as f64).sqrt()
    }

    /// The standard error in % of the mean (perf's `rel_stddev_stats`).
    pub fn rel_std_error_pct(&self) -> f64 {
        rel_pct(self.std_error(), self.mean)
    }
}

/// `100 * stddev / mean`, 0 for a zero mean.
pub fn rel_pct(stddev: f64, mean: f64) -> f64 {
    if mean == 0.0 {
        0.0
    } else {
        100.0 * stddev / mean
    }
}

/// Decimal places for the elapsed time of `-r`: two more significant digits
/// than the standard error has (perf's `get_precision(sd) + 2`).
pub fn elapsed_precision(stddev_s: f64) -> usize {
    let digits = if stddev_s > 1.0 || stddev_s <= 0.0 {
        0
    } else {
        (-stddev_s.log10()).ceil() as usize
    };
    digits + 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_error_of_the_mean() {
        let mut s = RunningStats::default();
        for v in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            s.push(v);
        }
        assert_eq!(s.mean, 5.0);
        // Sample variance 32/7, standard error sqrt(32/7/8).
        assert!((s.std_error() - (32.0f64 / 7.0 / 8.0).sqrt()).abs() < 1e-12);
        assert!((s.rel_std_error_pct() - 100.0 * (4.0f64 / 7.0).sqrt() / 5.0).abs() < 1e-9);
    }

    #[test]
    fn zero_spread_single_value_and_zero_mean() {
        let mut s = RunningStats::default();
        for v in [1.0, 1.0, 1.0] {
            s.push(v);
        }
        assert_eq!(s.rel_std_error_pct(), 0.0);
        let mut s = RunningStats::default();
        for v in [0.0, 0.0, 3.0] {
            s.push(v);
        }
        assert!((s.rel_std_error_pct() - 100.0).abs() < 1e-9);
        let mut s = RunningStats::default();
        s.push(7.0);
        assert_eq!(s.std_error(), 0.0);
        assert_eq!(rel_pct(1.0, 0.0), 0.0);
    }

    #[test]
    fn elapsed_precision_follows_perf() {
        assert_eq!(elapsed_precision(0.000171), 6);
        assert_eq!(elapsed_precision(0.0012), 5);
        assert_eq!(elapsed_precision(2.0), 2);
        assert_eq!(elapsed_precision(0.0), 2);
    }
}
