//! The top-down level-1 rows, laid out like perf ≥ 6.5 prints its default
//! TopdownL1 (PipelineL1 on AMD) metrics under the event rows: the group
//! label once, then one `#  xx.x %  tma_…` line per category, aligned with
//! the other rows' metric column.

/// The rows for `label` and its (name, fraction 0..=1) metrics, sorted by
/// name as perf prints them.
pub fn rows(label: &str, metrics: &[(&str, f64)]) -> String {
    let mut sorted: Vec<&(&str, f64)> = metrics.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = String::new();
    for (i, (name, fraction)) in sorted.into_iter().enumerate() {
        let lead = if i == 0 {
            format!("{:>18} {:<4} {label:<32}", "", "")
        } else {
            " ".repeat(56)
        };
        out.push_str(&format!("{lead} # {:8.1} %  {name}\n", 100.0 * fraction));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_with_the_metric_column() {
        let text = rows(
            "TopdownL1",
            &[
                ("tma_retiring", 0.274),
                ("tma_bad_speculation", 0.084),
                ("tma_frontend_bound", 0.193),
                ("tma_backend_bound", 0.449),
            ],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[0],
            format!(
                "{:24}{:<32} #     44.9 %  tma_backend_bound",
                "", "TopdownL1"
            )
        );
        assert_eq!(
            lines[1],
            format!("{:56} #      8.4 %  tma_bad_speculation", "")
        );
        assert!(lines[3].ends_with("27.4 %  tma_retiring"));
        assert!(lines.iter().all(|l| l.find('#') == Some(57)));
    }
}
