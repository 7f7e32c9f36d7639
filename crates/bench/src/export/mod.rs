//! File exports of a [`Report`]: one [`Exporter`] per format, one file per
//! implementation (JSON, CSV, Markdown, AsciiDoc, Org mode), chosen by the flag
//! that names the file. The three tables share their cells (`table.rs`) and
//! differ only in layout and escaping; each takes an optional time unit.

mod asciidoc;
mod csv;
mod json;
mod markdown;
mod orgmode;
mod table;

pub use self::asciidoc::AsciiDoc;
pub use self::csv::Csv;
pub use self::json::Json;
pub use self::markdown::Markdown;
pub use self::orgmode::OrgMode;

use crate::error::BenchError;
use crate::result::Report;
use std::io::Write;

/// Writes a report in one format.
pub trait Exporter {
    /// Writes `report` to `out`.
    fn write(&self, report: &Report, out: &mut dyn Write) -> Result<(), BenchError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::sample_report;
    use crate::units::TimeUnit;

    fn written(exporter: &dyn Exporter, report: &Report) -> String {
        let mut out = Vec::new();
        exporter.write(report, &mut out).expect("writes");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn json_round_trips_and_serves_as_a_baseline() {
        let report = sample_report();
        let text = written(&Json, &report);
        let back: Report = serde_json::from_str(&text).expect("parses back");
        // serde_json parses floats to within one ulp, not always exactly.
        assert_eq!(back.results.len(), report.results.len());
        for (back, sent) in back.results.iter().zip(&report.results) {
            assert_eq!(back.command, sent.command);
            assert_eq!(back.outliers, sent.outliers);
            assert_eq!(back.times.len(), sent.times.len());
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs();
            assert!(back
                .times
                .iter()
                .zip(&sent.times)
                .all(|(a, b)| close(*a, *b)));
            assert!(close(back.mean_ci.low, sent.mean_ci.low));
        }
        assert_eq!(back.comparisons[0].faster, "sleep 0.05");
        let dir = std::env::temp_dir().join(format!("whyslow-export-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("b.json"), &text).expect("write");
        let baseline = crate::baseline::load(&dir.join("b.json")).expect("loads as a baseline");
        assert_eq!(baseline[1].command, "sleep 0.1");
        assert_eq!(baseline[1].times.len(), report.results[1].times.len());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn csv_has_hyperfine_columns_and_quotes_commas() {
        let mut report = sample_report();
        report.results[0].command = "echo a,b".into();
        report.results[0].parameters.insert("n".into(), "1".into());
        let text = written(&Csv, &report);
        let mut reader = ::csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers().expect("header").clone();
        assert_eq!(
            &header.iter().take(8).collect::<Vec<_>>(),
            &["command", "mean", "stddev", "median", "user", "system", "min", "max"]
        );
        assert_eq!(header.get(header.len() - 1), Some("parameter_n"));
        let rows: Vec<::csv::StringRecord> =
            reader.records().collect::<Result<_, _>>().expect("rows");
        assert_eq!(rows[0].get(0), Some("echo a,b"));
        assert_eq!(
            rows[1].get(10),
            Some("1"),
            "one outlier in the second command"
        );
    }

    #[test]
    fn markdown_is_relative_to_the_fastest() {
        let text = written(&Markdown::default(), &sample_report());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "| Command | Mean [ms] | Min [ms] | Max [ms] | Relative |"
        );
        assert!(
            lines[2].starts_with("| `sleep 0.05` | 50.3 ± 0.2 | 50.0 | 50.6 | 1.00 |"),
            "{}",
            lines[2]
        );
        assert!(lines[3].starts_with("| `sleep 0.1` |"), "{}", lines[3]);
    }

    #[test]
    fn markdown_in_a_given_unit_uses_it_in_every_time_column() {
        let markdown = Markdown {
            unit: Some(TimeUnit::Microsecond),
        };
        let text = written(&markdown, &sample_report());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "| Command | Mean [µs] | Min [µs] | Max [µs] | Relative |"
        );
        assert_eq!(
            lines[2],
            "| `sleep 0.05` | 50300.0 ± 233.5 | 50000.0 | 50600.0 | 1.00 |"
        );
        assert_eq!(
            lines[3],
            "| `sleep 0.1` | 125533.3 ± 86435.8 | 100000.0 | 400000.0 | 2.50 ± 1.72 |"
        );
    }

    #[test]
    fn markdown_escapes_pipes_and_backticks() {
        let mut report = sample_report();
        report.results[0].command = "seq 9 | grep `echo 1`".into();
        let text = written(&Markdown::default(), &report);
        assert!(
            text.contains("| `seq 9 \\| grep 'echo 1'` | 50.3 ± 0.2 |"),
            "{text}"
        );
    }

    #[test]
    fn asciidoc_has_hyperfine_layout() {
        let text = written(&AsciiDoc::default(), &sample_report());
        let expected = "\
[cols=\"<,>,>,>,>\"]
|===
| Command 
| Mean [ms] 
| Min [ms] 
| Max [ms] 
| Relative 

| `sleep 0.05` 
| 50.3 ± 0.2 
| 50.0 
| 50.6 
| 1.00 

| `sleep 0.1` 
| 125.5 ± 86.4 
| 100.0 
| 400.0 
| 2.50 ± 1.72 
|===
";
        assert_eq!(text, expected);
    }

    #[test]
    fn asciidoc_escapes_pipes_and_backticks() {
        let mut report = sample_report();
        report.results[0].command = "seq 9 | grep `echo 1`".into();
        let text = written(&AsciiDoc::default(), &report);
        assert!(text.contains("\n| `seq 9 \\| grep 'echo 1'` \n"), "{text}");
    }

    #[test]
    fn orgmode_has_hyperfine_layout() {
        let text = written(&OrgMode::default(), &sample_report());
        let expected = "\
| Command  |  Mean [ms] |  Min [ms] |  Max [ms] |  Relative |
|--+--+--+--+--|
| =sleep 0.05=  |  50.3 ± 0.2 |  50.0 |  50.6 |  1.00 |
| =sleep 0.1=  |  125.5 ± 86.4 |  100.0 |  400.0 |  2.50 ± 1.72 |
";
        assert_eq!(text, expected);
    }

    #[test]
    fn orgmode_escapes_pipes() {
        let mut report = sample_report();
        report.results[0].command = "seq 9 | grep 1".into();
        let text = written(&OrgMode::default(), &report);
        let row = text.lines().nth(2).expect("first row");
        assert_eq!(
            row,
            "| =seq 9 \\vert{} grep 1=  |  50.3 ± 0.2 |  50.0 |  50.6 |  1.00 |"
        );
        assert_eq!(row.matches('|').count(), 6, "one cell per column");
    }

    #[test]
    fn tables_follow_the_report_order_in_the_given_unit() {
        let mut report = sample_report();
        report.results.reverse();
        let unit = Some(TimeUnit::Second);
        let tables = [
            written(&Markdown { unit }, &report),
            written(&AsciiDoc { unit }, &report),
            written(&OrgMode { unit }, &report),
        ];
        for text in &tables {
            assert!(text.contains("Mean [s]"), "{text}");
            let slow = text.find("sleep 0.1").expect("slow row");
            let fast = text.find("sleep 0.05").expect("fast row");
            assert!(slow < fast, "rows keep the report's order: {text}");
            assert!(text.contains("2.50 ± 1.72"), "{text}");
        }
    }
}
