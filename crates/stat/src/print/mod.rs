//! Turns snapshots into perf's layouts: one file per format (`text.rs`,
//! `csv.rs`, `json.rs`), shared number formatting (`number.rs`), the
//! top-down rows (`topdown.rs`) and whyslow's extra lines (`real.rs`).
//! [`Printer`] picks the format and keeps interval-mode state.

pub mod csv;
pub mod json;
pub mod number;
pub mod real;
pub mod text;
pub mod topdown;

use crate::config::OutputFormat;
use crate::metric::metrics;
use crate::row::Snapshot;

/// Prints snapshots in one format.
#[derive(Debug)]
pub struct Printer {
    format: OutputFormat,
    repeat: bool,
    separator: Option<char>,
    intervals_printed: u64,
}

impl Printer {
    /// A printer for `format`; `repeat` when `-r` > 1 adds the ± columns.
    pub fn new(format: OutputFormat, repeat: bool) -> Self {
        Printer {
            format,
            repeat,
            separator: number::locale_thousands_separator(),
            intervals_printed: 0,
        }
    }

    /// Whether this is the human-readable layout.
    pub fn is_text(&self) -> bool {
        self.format == OutputFormat::Text
    }

    /// The rows of a final (non-interval) snapshot.
    pub fn rows(&self, snapshot: &Snapshot) -> String {
        let m = metrics(snapshot);
        match &self.format {
            OutputFormat::Text => text::rows(snapshot, &m, None, self.separator),
            OutputFormat::Csv { separator } => {
                csv::rows(snapshot, &m, separator, None, self.repeat)
            }
            OutputFormat::Json => json::rows(snapshot, &m, None, self.repeat),
        }
    }

    /// The rows of one interval, with perf's header every 25 intervals.
    pub fn interval(&mut self, snapshot: &Snapshot, elapsed_ns: u64) -> String {
        let m = metrics(snapshot);
        let time = number::interval_time(elapsed_ns);
        let first = self.intervals_printed.is_multiple_of(25);
        self.intervals_printed += 1;
        match &self.format {
            OutputFormat::Text => {
                let header = if first { text::INTERVAL_HEADER } else { "" };
                format!(
                    "{header}{}",
                    text::rows(snapshot, &m, Some(&time), self.separator)
                )
            }
            OutputFormat::Csv { separator } => {
                csv::rows(snapshot, &m, separator, Some(&time), false)
            }
            OutputFormat::Json => json::rows(snapshot, &m, Some(elapsed_ns as f64 / 1e9), false),
        }
    }
}
