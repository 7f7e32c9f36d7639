//! Markdown export: hyperfine's table (command, mean ± σ, min, max,
//! relative to the fastest) in one unit for the whole table, for pasting
//! into pull requests. The cells come from `table.rs`.

use super::table::Table;
use super::Exporter;
use crate::error::BenchError;
use crate::result::Report;
use crate::units::TimeUnit;
use std::io::Write;

/// A GitHub-flavoured Markdown table.
#[derive(Debug, Clone, Copy, Default)]
pub struct Markdown {
    /// Unit of every time column; `None` picks the one that suits the
    /// fastest mean.
    pub unit: Option<TimeUnit>,
}

impl Exporter for Markdown {
    fn write(&self, report: &Report, out: &mut dyn Write) -> Result<(), BenchError> {
        let table = Table::of(report, self.unit);
        writeln!(out, "| {} |", table.header().join(" | "))?;
        writeln!(out, "|:---|---:|---:|---:|---:|")?;
        for row in &table.rows {
            writeln!(out, "| {} |", row.cells(row.backtick_command()).join(" | "))?;
        }
        Ok(())
    }
}
