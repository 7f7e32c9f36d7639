//! JSON export: the whole [`Report`] with every run's times, so the file
//! serves as a `--baseline` later; hyperfine-compatible field names.

use super::Exporter;
use crate::error::BenchError;
use crate::result::Report;
use std::io::Write;

/// Pretty-printed JSON.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

impl Exporter for Json {
    fn write(&self, report: &Report, out: &mut dyn Write) -> Result<(), BenchError> {
        serde_json::to_writer_pretty(&mut *out, report)?;
        writeln!(out)?;
        Ok(())
    }
}
