//! File exports of a [`Report`]: one [`Exporter`] per format, one file per
//! implementation (JSON, CSV, Markdown), chosen by the flag that names the file.

mod csv;
mod json;
mod markdown;

pub use self::csv::Csv;
pub use self::json::Json;
pub use self::markdown::Markdown;

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
        let text = written(&Markdown, &sample_report());
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
}
