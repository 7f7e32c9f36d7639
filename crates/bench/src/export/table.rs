//! The table behind the Markdown, AsciiDoc and Org mode exports: hyperfine's
//! five columns (command, mean ± σ, min, max, mean relative to the fastest)
//! as formatted cells in one time unit. Layout and escaping of the command are
//! each format's job; this file only computes what the cells say.

use crate::result::Report;
use crate::units::{format_number_in, TimeUnit};

/// Number of columns of every table export.
pub(super) const COLUMNS: usize = 5;

/// The formatted cells of a report's table, rows in `report.results` order.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Table {
    /// Unit of the mean, min and max columns.
    pub unit: TimeUnit,
    /// One row per command.
    pub rows: Vec<Row>,
}

/// One command's cells.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Row {
    /// The command line on one line (line breaks become spaces), not escaped
    /// for any format.
    pub command: String,
    /// Mean wall time ± standard deviation, e.g. "50.3 ± 0.2" (three decimals
    /// in seconds, one in ms and µs, as hyperfine; no ± below two runs).
    pub mean: String,
    /// Fastest run, e.g. "50.0".
    pub min: String,
    /// Slowest run, e.g. "50.6".
    pub max: String,
    /// Mean divided by the fastest mean, ± the standard deviation of that
    /// ratio propagated from both commands' relative σ (hyperfine's), e.g.
    /// "2.05 ± 0.04"; "1.00" for the fastest.
    pub relative: String,
}

impl Table {
    /// The table of `report` in `unit`, or when `None` in the unit that suits
    /// the fastest mean (seconds for an empty report).
    pub fn of(report: &Report, unit: Option<TimeUnit>) -> Self {
        let fastest_result = report
            .results
            .iter()
            .min_by(|a, b| a.mean.total_cmp(&b.mean));
        let fastest = fastest_result.map_or(f64::INFINITY, |r| r.mean);
        // Relative σ of the fastest, propagated into every ratio as hyperfine does.
        let fastest_cv = fastest_result
            .and_then(|r| r.stddev.map(|sd| sd / r.mean))
            .filter(|cv| cv.is_finite())
            .unwrap_or(0.0);
        let unit = unit.unwrap_or_else(|| {
            TimeUnit::for_seconds(if fastest.is_finite() { fastest } else { 1.0 })
        });
        let rows = report
            .results
            .iter()
            .map(|r| {
                let relative = if fastest > 0.0 { r.mean / fastest } else { 1.0 };
                let relative_sd = match (r.stddev, fastest > 0.0 && r.mean > 0.0) {
                    (Some(sd), true) if relative != 1.0 => {
                        let cv = sd / r.mean;
                        format!(
                            " ± {:.2}",
                            relative * (cv * cv + fastest_cv * fastest_cv).sqrt()
                        )
                    }
                    _ => String::new(),
                };
                let number = |seconds: f64| format_number_in(seconds, unit);
                Row {
                    command: r.command.replace("\r\n", " ").replace(['\n', '\r'], " "),
                    mean: match r.stddev {
                        Some(sd) => format!("{} ± {}", number(r.mean), number(sd)),
                        None => number(r.mean),
                    },
                    min: number(r.min),
                    max: number(r.max),
                    relative: format!("{relative:.2}{relative_sd}"),
                }
            })
            .collect();
        Table { unit, rows }
    }

    /// The header cells: "Command", "Mean [ms]", "Min [ms]", "Max [ms]", "Relative".
    pub fn header(&self) -> [String; COLUMNS] {
        let s = self.unit.symbol();
        [
            "Command".to_string(),
            format!("Mean [{s}]"),
            format!("Min [{s}]"),
            format!("Max [{s}]"),
            "Relative".to_string(),
        ]
    }
}

impl Row {
    /// The command as inline code for Markdown and AsciiDoc: in backticks,
    /// `|` escaped so it does not start a new cell, and backticks (which would
    /// end the code span) turned into `'`.
    pub fn backtick_command(&self) -> String {
        format!("`{}`", self.command.replace('|', "\\|").replace('`', "'"))
    }

    /// The row's cells, the command cell being `command_cell` (the format's
    /// escaping and markup of [`Row::command`]).
    pub fn cells(&self, command_cell: String) -> [String; COLUMNS] {
        [
            command_cell,
            self.mean.clone(),
            self.min.clone(),
            self.max.clone(),
            self.relative.clone(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::sample_report;

    #[test]
    fn cells_follow_the_report_order_relative_to_the_fastest_mean() {
        let mut report = sample_report();
        report.results.reverse();
        let table = Table::of(&report, None);
        assert_eq!(table.unit, TimeUnit::Millisecond);
        assert_eq!(table.rows[0].command, "sleep 0.1");
        assert!(
            table.rows[0].relative.starts_with("2."),
            "{:?}",
            table.rows[0]
        );
        assert!(table.rows[0].relative.contains(" ± "));
        let fastest = &table.rows[1];
        assert_eq!(
            (
                fastest.mean.as_str(),
                fastest.min.as_str(),
                fastest.max.as_str()
            ),
            ("50.3 ± 0.2", "50.0", "50.6")
        );
        assert_eq!(fastest.relative, "1.00", "no ± on the reference");
    }

    #[test]
    fn a_given_unit_applies_to_every_time_column() {
        let table = Table::of(&sample_report(), Some(TimeUnit::Microsecond));
        assert_eq!(table.header()[1], "Mean [µs]");
        assert_eq!(table.rows[0].mean, "50300.0 ± 233.5");
        assert_eq!(table.rows[0].min, "50000.0");
        assert_eq!(table.rows[0].max, "50600.0");
        assert_eq!(table.rows[0].relative, "1.00", "relative is unit-free");
    }

    #[test]
    fn commands_are_kept_on_one_line() {
        let mut report = sample_report();
        report.results[0].command = "echo a\nb\r\nc".into();
        assert_eq!(Table::of(&report, None).rows[0].command, "echo a b c");
    }

    #[test]
    fn an_empty_report_has_a_header_only() {
        let mut report = sample_report();
        report.results.clear();
        let table = Table::of(&report, None);
        assert!(table.rows.is_empty());
        assert_eq!(table.header()[3], "Max [s]");
    }

    #[test]
    fn seconds_get_three_decimals_and_ratios_propagate_both_spreads() {
        let report = sample_report();
        let table = Table::of(&report, Some(TimeUnit::Second));
        assert!(
            table.rows[0].mean.starts_with("0.050 ± 0.000"),
            "{:?}",
            table.rows[0]
        );
        let (fast, slow) = (&report.results[0], &report.results[1]);
        let ratio = slow.mean / fast.mean;
        let cv = |r: &crate::result::BenchmarkResult| r.stddev.unwrap_or(0.0) / r.mean;
        let expected = ratio * (cv(slow).powi(2) + cv(fast).powi(2)).sqrt();
        assert_eq!(
            table.rows[1].relative,
            format!("{ratio:.2} ± {expected:.2}")
        );
    }
}
