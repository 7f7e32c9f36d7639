//! The terminal summary of a finished run: counts, achieved vs target rate, the
//! corrected and uncorrected percentile table, status codes, errors by kind,
//! reconnects, the slowest requests (with trace links) and SLO verdicts.

use crate::result::{LoadResult, SUMMARY_QUANTILES};
use crate::units::format_latency_us;
use std::fmt::Write;

/// Link to a trace in the whyslow (or Jaeger) UI at `server`.
pub fn trace_link(server: &str, trace_id: &str) -> String {
    format!("{}/trace/{trace_id}", server.trim_end_matches('/'))
}

/// The summary text; `trace_server` turns trace ids into links.
pub fn summary(result: &LoadResult, trace_server: Option<&str>) -> String {
    let mut out = String::new();
    let config = &result.config;
    let recorder = &result.recorder;
    let _ = writeln!(
        out,
        "{} {}  ({} model, {} connections, {} threads{}, {:.2} s{})",
        config.requests.first().map_or("GET", |r| r.method.as_str()),
        config.target.url,
        result.model_name(),
        config.connections,
        config.threads.min(config.connections),
        if config.http2 {
            format!(", HTTP/2 × {} streams", config.streams)
        } else {
            String::new()
        },
        result.elapsed.as_secs_f64(),
        if result.stopped_early {
            ", stopped early"
        } else {
            ""
        },
    );
    let _ = writeln!(
        out,
        "  requests  {} sent, {} responses, {} errors{}",
        result.attempted,
        recorder.responses(),
        recorder.errors.total(),
        if result.not_sent > 0 {
            format!(
                ", {} scheduled but not sent (target too slow)",
                result.not_sent
            )
        } else {
            String::new()
        }
    );
    let rate = match result.target_rps() {
        Some(target) => format!(
            "{:.1} rps achieved, target {:.1} ({:.2} %)",
            result.rps(),
            target,
            100.0 * result.rps() / target
        ),
        None => format!("{:.1} rps achieved", result.rps()),
    };
    let _ = writeln!(out, "  rate      {rate}");
    let (corrected, uncorrected) = (&recorder.corrected, &recorder.uncorrected);
    let _ = writeln!(out, "  latency   {:>12} {:>12}", "corrected", "uncorrected");
    for (quantile, name) in SUMMARY_QUANTILES {
        let _ = writeln!(
            out,
            "    {name:<7} {:>12} {:>12}",
            format_latency_us(corrected.value_at_quantile(quantile) as f64),
            format_latency_us(uncorrected.value_at_quantile(quantile) as f64)
        );
    }
    let _ = writeln!(
        out,
        "    {:<7} {:>12} {:>12}",
        "max",
        format_latency_us(corrected.max() as f64),
        format_latency_us(uncorrected.max() as f64)
    );
    let statuses: Vec<String> = recorder
        .status_codes
        .iter()
        .map(|(status, count)| format!("{status}: {count}"))
        .collect();
    let _ = writeln!(
        out,
        "  status    {}",
        if statuses.is_empty() {
            "none".into()
        } else {
            statuses.join(", ")
        }
    );
    let errors = &recorder.errors;
    let _ = writeln!(
        out,
        "  errors    connect {}, tls {}, timeout {}, reset {}, other {}",
        errors.connect, errors.tls, errors.timeout, errors.reset, errors.other
    );
    let _ = writeln!(
        out,
        "  reconnect {} connections reopened, {} requests retried on a new connection",
        recorder.reconnects, recorder.retried
    );
    if recorder.late_wakeups > 0 {
        let share = 100.0 * recorder.late_wakeups as f64 / result.attempted.max(1) as f64;
        let _ = writeln!(
            out,
            "  note      the generator itself sent {} requests ({share:.2} %) late by more than 1 ms \
             (max {}): its CPU was busy; corrected latency includes that",
            recorder.late_wakeups,
            format_latency_us(recorder.max_late_wakeup_us as f64)
        );
    }
    // Without trace ids the list only repeats the tail of the table; JSON and HTML keep it.
    if result.slowest.iter().any(|slow| slow.trace_id.is_some()) {
        let _ = writeln!(out, "  slowest   latency   corrected  status  trace");
        for slow in &result.slowest {
            let trace = match (&slow.trace_id, trace_server) {
                (Some(id), Some(server)) => trace_link(server, id),
                (Some(id), None) => id.clone(),
                (None, _) => "-".into(),
            };
            let _ = writeln!(
                out,
                "    {:>12} {:>11} {:>6}  {trace}",
                format_latency_us(slow.latency_us as f64),
                format_latency_us(slow.corrected_latency_us as f64),
                slow.status
            );
        }
    }
    for verdict in &result.verdicts {
        let _ = writeln!(
            out,
            "  SLO {}  {}",
            if verdict.passed { "pass" } else { "FAIL" },
            verdict.describe()
        );
    }
    out
}
