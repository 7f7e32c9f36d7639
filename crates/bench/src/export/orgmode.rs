//! Org mode export: the Markdown table's columns as an Emacs Org table in
//! hyperfine's layout (`=command=` verbatim, a `|--+--|` rule under the
//! header), for notes kept in Org. The cells come from `table.rs`.

use super::table::{Table, COLUMNS};
use super::Exporter;
use crate::error::BenchError;
use crate::result::Report;
use crate::units::TimeUnit;
use std::io::Write;

/// An Org mode table.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrgMode {
    /// Unit of every time column; `None` picks the one that suits the
    /// fastest mean.
    pub unit: Option<TimeUnit>,
}

impl Exporter for OrgMode {
    fn write(&self, report: &Report, out: &mut dyn Write) -> Result<(), BenchError> {
        let table = Table::of(report, self.unit);
        write_row(out, &table.header())?;
        writeln!(out, "|{}--|", "--+".repeat(COLUMNS - 1))?;
        for row in &table.rows {
            // Org splits cells at every `|`, verbatim or not; `\vert{}` is
            // its escape for one.
            let command = row.command.replace('|', "\\vert{}");
            write_row(out, &row.cells(format!("={command}=")))?;
        }
        Ok(())
    }
}

/// `| FIRST  |  SECOND |  ... |`, hyperfine's spacing (Org realigns it on edit).
fn write_row(out: &mut dyn Write, cells: &[String; COLUMNS]) -> Result<(), BenchError> {
    let [first, rest @ ..] = cells;
    writeln!(out, "| {first}  |  {} |", rest.join(" |  "))?;
    Ok(())
}
