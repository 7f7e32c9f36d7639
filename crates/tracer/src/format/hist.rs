//! hist() and lhist(): bucket placement and bpftrace 0.17's text rendering.
//!
//! A row is the label left-aligned in 16 columns, the count right-aligned in
//! 8, ` |`, a bar of `@` left-aligned in 52 columns, `|`. The bar is
//! `count / max * 52` computed in single precision and truncated, as
//! bpftrace computes it. Only rows from the first to the last non-zero
//! bucket are printed.
//!
//! hist buckets: index 0 holds negative values, 1 holds 0, 2 holds 1, and
//! index k >= 3 holds [2^(k-2), 2^(k-1)); labels use K, M, G, T for powers
//! of 1024 (`[512, 1K)`, `[1M, 2M)`). lhist labels use K/M only for exact
//! multiples: `(..., 0)`, `[0, 10)`, `[2K, 3K)`, `[100, ...)`.
//!
//! bpftrace 0.17's generated code puts every value >= 2^31 in the `[2G, 4G)`
//! bucket (its log2 has five steps); [`hist_index`] gives the true bucket.

const BAR_WIDTH: usize = 52;

/// The hist() bucket a value falls in.
pub fn hist_index(value: i64) -> usize {
    match value {
        v if v < 0 => 0,
        0 => 1,
        v => 2 + (63 - v.leading_zeros()) as usize,
    }
}

/// The bucket bpftrace 0.17's generated code picks: like [`hist_index`] but
/// every value >= 2^31 lands in `[2G, 4G)` (index 33). Measured:
/// `hist(nsecs)` prints `[2G, 4G)` there. For comparing counts with 0.17.
pub fn hist_index_bpftrace_0_17(value: i64) -> usize {
    hist_index(value).min(33)
}

/// The lhist() bucket a value falls in (`min < max`, `step >= 1`).
pub fn lhist_index(value: i64, min: i64, max: i64, step: i64) -> usize {
    if value < min {
        0
    } else if value >= max {
        lhist_buckets(min, max, step) + 1
    } else {
        ((i128::from(value) - i128::from(min)) / i128::from(step.max(1)) + 1) as usize
    }
}

/// Number of in-range lhist buckets, `(max - min) / step`.
pub fn lhist_buckets(min: i64, max: i64, step: i64) -> usize {
    (max.saturating_sub(min) / step.max(1)).max(0) as usize
}

fn power_label(power: usize) -> String {
    let (suffix, power) = match power {
        p if p >= 40 => ("T", p - 40),
        p if p >= 30 => ("G", p - 30),
        p if p >= 20 => ("M", p - 20),
        p if p >= 10 => ("K", p - 10),
        p => ("", p),
    };
    format!("{}{suffix}", 1u128 << power.min(100))
}

fn lhist_label(number: i64) -> String {
    const KILO: i64 = 1024;
    const MEGA: i64 = 1_048_576;
    if number == 0 {
        "0".into()
    } else if number % MEGA == 0 {
        format!("{}M", number / MEGA)
    } else if number % KILO == 0 {
        format!("{}K", number / KILO)
    } else {
        number.to_string()
    }
}

fn row(out: &mut String, label: &str, count: u64, shown: u64, max: i32) {
    let bar = (count as f32 / max as f32 * BAR_WIDTH as f32) as i32;
    let bar = "@".repeat(bar.clamp(0, BAR_WIDTH as i32) as usize);
    out.push_str(&format!("{label:<16}{shown:>8} |{bar:<BAR_WIDTH$}|\n"));
}

/// bpftrace reads counts into a C `int` to find the range and the maximum.
fn as_c_int(v: u64) -> i32 {
    v as i32
}

/// The rows of a hist() value; counts shown divided by `div` (>= 1).
pub fn hist_rows(buckets: &[u64], div: u64) -> String {
    let mut first = None;
    let mut last = None;
    let mut max = 0;
    for (i, &v) in buckets.iter().enumerate() {
        let v = as_c_int(v);
        if v > 0 {
            first.get_or_insert(i);
            last = Some(i);
        }
        max = max.max(v);
    }
    let (Some(first), Some(last)) = (first, last) else {
        return String::new();
    };
    let mut out = String::new();
    for (i, &count) in buckets.iter().enumerate().take(last + 1).skip(first) {
        let label = match i {
            0 => "(..., 0)".to_string(),
            1 => "[0]".to_string(),
            2 => "[1]".to_string(),
            _ => format!("[{}, {})", power_label(i - 2), power_label(i - 1)),
        };
        row(&mut out, &label, count, count / div.max(1), max);
    }
    out
}

/// The rows of an lhist() value.
pub fn lhist_rows(buckets: &[u64], min: i64, max: i64, step: i64) -> String {
    let n = lhist_buckets(min, max, step);
    let mut first = None;
    let mut last = None;
    let mut max_count = 0;
    for (i, &v) in buckets.iter().enumerate() {
        let c = as_c_int(v);
        if c != 0 && i <= n + 1 {
            first.get_or_insert(i);
            last = Some(i);
        }
        max_count = max_count.max(c);
    }
    let (Some(first), Some(last)) = (first, last) else {
        return String::new();
    };
    let mut out = String::new();
    for (i, &count) in buckets.iter().enumerate().take(last + 1).skip(first) {
        let label = if i == 0 {
            format!("(..., {})", lhist_label(min))
        } else if i == n + 1 {
            format!("[{}, ...)", lhist_label(max))
        } else {
            let lo = (i as i64 - 1) * step + min;
            format!("[{}, {})", lhist_label(lo), lhist_label(lo + step))
        };
        row(&mut out, &label, count, count, max_count);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hist_buckets_follow_powers_of_two() {
        assert_eq!(hist_index(-5), 0);
        assert_eq!(hist_index(0), 1);
        assert_eq!(hist_index(1), 2);
        assert_eq!(hist_index(2), 3);
        assert_eq!(hist_index(3), 3);
        assert_eq!(hist_index(5), 4);
        assert_eq!(hist_index(1000), 11);
        assert_eq!(hist_index(i64::MAX), 64);
        assert_eq!(hist_index_bpftrace_0_17(1 << 40), 33);
        assert_eq!(hist_index_bpftrace_0_17(1000), 11);
    }

    #[test]
    fn lhist_buckets_below_inside_above() {
        assert_eq!(lhist_index(-5, 0, 100, 10), 0);
        assert_eq!(lhist_index(0, 0, 100, 10), 1);
        assert_eq!(lhist_index(15, 0, 100, 10), 2);
        assert_eq!(lhist_index(99, 0, 100, 10), 10);
        assert_eq!(lhist_index(100, 0, 100, 10), 11);
        assert_eq!(lhist_buckets(0, 100, 10), 10);
    }

    #[test]
    fn hist_rows_match_bpftrace() {
        let mut b = vec![0; 12];
        for v in [0, 1, 5, 1000] {
            b[hist_index(v)] += 1;
        }
        let rows = hist_rows(&b, 1);
        let lines: Vec<&str> = rows.lines().collect();
        assert_eq!(lines.len(), 11);
        assert_eq!(
            lines[0],
            "[0]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|"
        );
        assert_eq!(
            lines[2],
            "[2, 4)                 0 |                                                    |"
        );
        assert_eq!(
            lines[10],
            "[512, 1K)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|"
        );
    }

    #[test]
    fn labels_use_binary_suffixes() {
        assert_eq!(power_label(0), "1");
        assert_eq!(power_label(10), "1K");
        assert_eq!(power_label(21), "2M");
        assert_eq!(power_label(31), "2G");
        assert_eq!(power_label(41), "2T");
        assert_eq!(lhist_label(2048), "2K");
        assert_eq!(lhist_label(3_145_728), "3M");
        assert_eq!(lhist_label(1000), "1000");
    }

    #[test]
    fn half_bar_and_outer_lhist_buckets() {
        let rows = lhist_rows(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], 0, 100, 10);
        let lines: Vec<&str> = rows.lines().collect();
        assert_eq!(
            lines[0],
            "(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |"
        );
        assert_eq!(
            lines[11],
            "[100, ...)             2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|"
        );
        assert_eq!(hist_rows(&[0, 0], 1), "");
    }
}
