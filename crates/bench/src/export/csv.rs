//! CSV export: one row per command with hyperfine's columns (`command, mean,
//! stddev, median, user, system, min, max`, seconds) plus whyslow's (peak RSS,
//! runs, outliers, confidence bounds) and one `parameter_NAME` column per scan.

use super::Exporter;
use crate::error::BenchError;
use crate::result::Report;
use std::collections::BTreeSet;
use std::io::Write;

/// Comma-separated values with a header row.
#[derive(Debug, Clone, Copy, Default)]
pub struct Csv;

impl Exporter for Csv {
    fn write(&self, report: &Report, out: &mut dyn Write) -> Result<(), BenchError> {
        let names: BTreeSet<&String> = report
            .results
            .iter()
            .flat_map(|r| r.parameters.keys())
            .collect();
        let mut writer = csv::Writer::from_writer(out);
        let mut header: Vec<String> = [
            "command",
            "mean",
            "stddev",
            "median",
            "user",
            "system",
            "min",
            "max",
            "peak_rss_bytes",
            "runs",
            "outliers",
            "mean_ci_low",
            "mean_ci_high",
            "median_ci_low",
            "median_ci_high",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        header.extend(names.iter().map(|n| format!("parameter_{n}")));
        writer.write_record(&header)?;
        for r in &report.results {
            let mut row = vec![
                r.command.clone(),
                r.mean.to_string(),
                r.stddev.map(|s| s.to_string()).unwrap_or_default(),
                r.median.to_string(),
                r.user.to_string(),
                r.system.to_string(),
                r.min.to_string(),
                r.max.to_string(),
                r.peak_rss_bytes.to_string(),
                r.times.len().to_string(),
                r.outliers.len().to_string(),
                r.mean_ci.low.to_string(),
                r.mean_ci.high.to_string(),
                r.median_ci.low.to_string(),
                r.median_ci.high.to_string(),
            ];
            row.extend(
                names
                    .iter()
                    .map(|n| r.parameters.get(*n).cloned().unwrap_or_default()),
            );
            writer.write_record(&row)?;
        }
        writer.flush()?;
        Ok(())
    }
}
