//! perf stat's `-x SEP` layout: `[time,]value,unit,event,[noise%,]runtime,
//! pcnt-running,metric,metric-unit` per row, no header and no footer
//! (perf 6.1: `0.41,msec,task-clock,414709,100.00,0.507,CPUs utilized`).

use super::number;
use crate::metric::Metric;
use crate::row::{Count, Row, Snapshot};

/// Every row of `snapshot` as CSV lines.
pub fn rows(
    snapshot: &Snapshot,
    metrics: &[Option<Metric>],
    separator: &str,
    interval_prefix: Option<&str>,
    repeat: bool,
) -> String {
    let mut out = String::new();
    for (row, metric) in snapshot.rows.iter().zip(metrics) {
        if let Some(prefix) = interval_prefix {
            out.push_str(prefix);
            out.push_str(separator);
        }
        out.push_str(&csv_row(row, metric.as_ref(), separator, repeat));
        out.push('\n');
    }
    out
}

/// One row without the interval prefix and newline.
pub fn csv_row(row: &Row, metric: Option<&Metric>, sep: &str, repeat: bool) -> String {
    let value = match row.count {
        Count::Counted { .. } => {
            number::count(row.shown_value().unwrap_or(0.0), row.event.is_clock(), None)
        }
        Count::NotCounted => "<not counted>".to_string(),
        Count::NotSupported => "<not supported>".to_string(),
    };
    let mut fields = vec![value, row.event.unit().to_string(), row.event.name.clone()];
    if repeat {
        fields.push(format!("{:.2}%", row.noise_pct.unwrap_or(0.0)));
    }
    fields.push(row.running_ns().to_string());
    fields.push(format!("{:.2}", row.running_pct()));
    match metric {
        Some(m) => {
            fields.push(m.formatted().trim().to_string());
            fields.push(m.unit.clone());
        }
        None => {
            fields.push(String::new());
            fields.push(String::new());
        }
    }
    fields.join(sep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::default_events;
    use crate::metric::metrics;

    fn snapshot() -> Snapshot {
        let counts = [
            Count::Counted {
                value: 729_260.0,
                running_ns: 729_260,
                enabled_ns: 729_260,
            },
            Count::Counted {
                value: 1.0,
                running_ns: 729_260,
                enabled_ns: 729_260,
            },
            Count::NotSupported,
        ];
        Snapshot {
            rows: default_events(false, false)
                .into_iter()
                .zip(counts)
                .map(|(event, count)| Row {
                    event,
                    count,
                    noise_pct: None,
                })
                .collect(),
            wall_ns: 52_000_000.0,
        }
    }

    #[test]
    fn lines_match_perf() {
        let s = snapshot();
        let text = rows(&s, &metrics(&s), ",", None, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "0.73,msec,task-clock,729260,100.00,0.014,CPUs utilized"
        );
        assert_eq!(lines[1], "1,,context-switches,729260,100.00,1.371,K/sec");
        assert_eq!(lines[2], "<not supported>,,cpu-migrations,0,100.00,,");
    }

    #[test]
    fn repeat_and_interval_columns() {
        let mut s = snapshot();
        s.rows[0].noise_pct = Some(17.734);
        let text = rows(&s, &metrics(&s), ";", Some("     0.100140887"), true);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "     0.100140887;0.73;msec;task-clock;17.73%;729260;100.00;0.014;CPUs utilized"
        );
        assert_eq!(
            lines[2],
            "     0.100140887;<not supported>;;cpu-migrations;0.00%;0;100.00;;"
        );
    }
}
