//! AsciiDoc export: the Markdown table's columns in hyperfine's AsciiDoc
//! layout (a `[cols]` line, one cell per line, a blank line between rows),
//! for documentation written in AsciiDoc. The cells come from `table.rs`.

use super::table::Table;
use super::Exporter;
use crate::error::BenchError;
use crate::result::Report;
use crate::units::TimeUnit;
use std::io::Write;

/// An AsciiDoc table: command left-aligned, times and ratio right-aligned.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsciiDoc {
    /// Unit of every time column; `None` picks the one that suits the
    /// fastest mean.
    pub unit: Option<TimeUnit>,
}

impl Exporter for AsciiDoc {
    fn write(&self, report: &Report, out: &mut dyn Write) -> Result<(), BenchError> {
        let table = Table::of(report, self.unit);
        writeln!(out, "[cols=\"<,>,>,>,>\"]")?;
        write!(out, "|===")?;
        write_row(out, &table.header())?;
        for row in &table.rows {
            write_row(out, &row.cells(row.backtick_command()))?;
        }
        writeln!(out, "|===")?;
        Ok(())
    }
}

/// A blank line, then each cell on its own line as `| CELL `.
fn write_row(out: &mut dyn Write, cells: &[String]) -> Result<(), BenchError> {
    writeln!(out)?;
    for cell in cells {
        writeln!(out, "| {cell} ")?;
    }
    Ok(())
}
