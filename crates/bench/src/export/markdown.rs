//! Markdown export: hyperfine's table (command, mean ± σ, min, max,
//! relative to the fastest) in one unit for the whole table, for pasting
//! into pull requests.

use super::Exporter;
use crate::error::BenchError;
use crate::result::Report;
use crate::units::TimeUnit;
use std::io::Write;

/// A GitHub-flavoured Markdown table.
#[derive(Debug, Clone, Copy, Default)]
pub struct Markdown;

impl Exporter for Markdown {
    fn write(&self, report: &Report, out: &mut dyn Write) -> Result<(), BenchError> {
        let fastest = report
            .results
            .iter()
            .map(|r| r.mean)
            .fold(f64::INFINITY, f64::min);
        let unit = TimeUnit::for_seconds(if fastest.is_finite() { fastest } else { 1.0 });
        let s = unit.symbol();
        writeln!(
            out,
            "| Command | Mean [{s}] | Min [{s}] | Max [{s}] | Relative |"
        )?;
        writeln!(out, "|:---|---:|---:|---:|---:|")?;
        for r in &report.results {
            let relative = if fastest > 0.0 { r.mean / fastest } else { 1.0 };
            let relative_sd = match (r.stddev, fastest > 0.0) {
                (Some(sd), true) if relative != 1.0 => format!(" ± {:.2}", sd / fastest),
                _ => String::new(),
            };
            writeln!(
                out,
                "| `{}` | {:.1} ± {:.1} | {:.1} | {:.1} | {:.2}{} |",
                r.command.replace('|', "\\|").replace('`', "'"),
                unit.scale(r.mean),
                unit.scale(r.stddev.unwrap_or(0.0)),
                unit.scale(r.min),
                unit.scale(r.max),
                relative,
                relative_sd
            )?;
        }
        Ok(())
    }
}
