//! Text histograms in libbpf-tools' `print_log2_hist` layout: a header
//! `     usecs               : count    distribution`, then one row per
//! power-of-two bucket up to the last non-empty one, `0 -> 1`, `2 -> 3`,
//! `4 -> 7`, ..., with a 40-wide bar of stars scaled to the largest count
//! (20 wide and wider columns past 32 buckets).

use std::fmt::Write;

/// Buckets a histogram value keeps (libbpf-tools' MAX_SLOTS for runqlat and
/// biolatency).
pub const SLOTS: usize = 26;

/// The histogram of `counts` (bucket i holds values in [2^i, 2^(i+1)), bucket
/// 0 also 0) under the unit name `unit`; empty when every count is zero.
pub fn log2_hist(counts: &[u64], unit: &str) -> String {
    let Some(last) = counts.iter().rposition(|&c| c > 0) else {
        return String::new();
    };
    let max = counts.iter().copied().max().unwrap_or(1).max(1);
    let wide = last > 32;
    let (pad, unit_width, width, stars) = if wide {
        (15, 29, 20, 20)
    } else {
        (5, 19, 10, 40)
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:pad$}{unit:<unit_width$} : count    distribution",
        ""
    );
    for (i, &count) in counts.iter().enumerate().take(last + 1) {
        let high = if i >= 63 {
            u64::MAX
        } else {
            (1u64 << (i + 1)) - 1
        };
        let low = if i == 0 { 0 } else { 1u64 << i };
        let _ = writeln!(
            out,
            "{low:>width$} -> {high:<width$} : {count:<8} |{}|",
            bar(count, max, stars)
        );
    }
    out
}

/// `count / max` of `width` as stars, padded with spaces.
fn bar(count: u64, max: u64, width: usize) -> String {
    let stars = (u128::from(count.min(max)) * width as u128 / u128::from(max)) as usize;
    let mut s = "*".repeat(stars);
    s.push_str(&" ".repeat(width - stars));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libbpf_tools_layout() {
        let text = log2_hist(&[0, 3, 12, 6, 0, 0], "usecs");
        let expected = "     usecs               : count    distribution\n\
\x20        0 -> 1          : 0        |                                        |\n\
\x20        2 -> 3          : 3        |**********                              |\n\
\x20        4 -> 7          : 12       |****************************************|\n\
\x20        8 -> 15         : 6        |********************                    |\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn empty_prints_nothing_and_wide_switches_columns() {
        assert_eq!(log2_hist(&[0; 26], "msecs"), "");
        let mut counts = [0u64; 40];
        counts[34] = 1;
        let text = log2_hist(&counts, "nsecs");
        let first = text.lines().next().expect("header");
        assert_eq!(
            first,
            format!("{:15}{:<29} : count    distribution", "", "nsecs")
        );
        let row = text.lines().nth(35).expect("row 34");
        assert!(
            row.starts_with("         17179869184 -> 34359738367"),
            "{row}"
        );
        assert!(row.ends_with("|********************|"), "{row}");
    }
}
