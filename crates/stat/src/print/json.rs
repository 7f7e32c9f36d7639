//! perf stat's `-j` layout: one JSON object per row and line, keys in perf's
//! order (`counter-value` as a string, `variance` with `-r`, `interval` with
//! `-I`), no header and no footer.

use crate::metric::Metric;
use crate::row::{Count, Row, Snapshot};

/// Every row of `snapshot` as JSON lines.
pub fn rows(
    snapshot: &Snapshot,
    metrics: &[Option<Metric>],
    interval_s: Option<f64>,
    repeat: bool,
) -> String {
    let mut out = String::new();
    for (row, metric) in snapshot.rows.iter().zip(metrics) {
        out.push_str(&json_row(row, metric.as_ref(), interval_s, repeat));
        out.push('\n');
    }
    out
}

/// One row as a JSON object (no newline).
pub fn json_row(
    row: &Row,
    metric: Option<&Metric>,
    interval_s: Option<f64>,
    repeat: bool,
) -> String {
    let mut out = String::from("{");
    if let Some(t) = interval_s {
        out.push_str(&format!("\"interval\" : {t:.9}, "));
    }
    let value = match row.count {
        Count::Counted { .. } => format!("{:.6}", row.shown_value().unwrap_or(0.0)),
        Count::NotCounted => "<not counted>".to_string(),
        Count::NotSupported => "<not supported>".to_string(),
    };
    out.push_str(&format!(
        "\"counter-value\" : {}, \"unit\" : {}, \"event\" : {}, ",
        quote(&value),
        quote(row.event.unit()),
        quote(&row.event.name)
    ));
    if repeat {
        out.push_str(&format!(
            "\"variance\" : {:.2}, ",
            row.noise_pct.unwrap_or(0.0)
        ));
    }
    let (metric_value, metric_unit) = metric.map_or((0.0, ""), |m| (m.value, m.unit.as_str()));
    out.push_str(&format!(
        "\"event-runtime\" : {}, \"pcnt-running\" : {:.2}, \"metric-value\" : {metric_value:.6}, \"metric-unit\" : {}}}",
        row.running_ns(),
        row.running_pct(),
        quote(metric_unit)
    ));
    out
}

/// A JSON string literal.
fn quote(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::default_events;
    use crate::metric::metrics;

    #[test]
    fn lines_match_perf_and_parse() {
        let counts = [
            Count::Counted {
                value: 898_961.0,
                running_ns: 898_961,
                enabled_ns: 898_961,
            },
            Count::NotSupported,
        ];
        let s = Snapshot {
            rows: default_events(false, false)
                .into_iter()
                .zip(counts)
                .map(|(event, count)| Row {
                    event,
                    count,
                    noise_pct: None,
                })
                .collect(),
            wall_ns: 51_566_000.0,
        };
        let text = rows(&s, &metrics(&s), None, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"counter-value" : "0.898961", "unit" : "msec", "event" : "task-clock", "event-runtime" : 898961, "pcnt-running" : 100.00, "metric-value" : 0.017433, "metric-unit" : "CPUs utilized"}"#
        );
        assert_eq!(
            lines[1],
            r#"{"counter-value" : "<not supported>", "unit" : "", "event" : "context-switches", "event-runtime" : 0, "pcnt-running" : 100.00, "metric-value" : 0.000000, "metric-unit" : ""}"#
        );
        let text = rows(&s, &metrics(&s), Some(0.100192387), true);
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["interval"], 0.100192387);
            assert_eq!(v["variance"], 0.0);
        }
    }
}
