//! perf stat's text layout (perf 6.1, measured column by column): the header,
//! one row per event (`%18s` count, `%-4s` unit, `%-32s` name, ` # ` metric
//! in 35 columns, `  ( +- x.xx% )` with `-r`), the interval prefix and
//! header, and the elapsed/user/sys footer.

use super::number;
use crate::metric::Metric;
use crate::row::{Count, Row, Snapshot};
use crate::stats::{elapsed_precision, RunningStats};

/// Width of the metric column (` # ` + value + ` ` + unit).
const METRIC_WIDTH: usize = 35;

/// The header of interval mode, repeated every 25 intervals.
pub const INTERVAL_HEADER: &str = "#           time             counts unit events\n";

/// ` Performance counter stats for 'CMD' (N runs):` with its blank lines.
pub fn header(target: &str, runs: u32) -> String {
    let runs = if runs > 1 {
        format!(" ({runs} runs)")
    } else {
        String::new()
    };
    format!("\n Performance counter stats for {target}{runs}:\n\n")
}

/// Every row of `snapshot`; `prefix` is the interval timestamp column.
pub fn rows(
    snapshot: &Snapshot,
    metrics: &[Option<Metric>],
    prefix: Option<&str>,
    separator: Option<char>,
) -> String {
    let mut out = String::new();
    for (row, metric) in snapshot.rows.iter().zip(metrics) {
        if let Some(prefix) = prefix {
            out.push_str(prefix);
            out.push(' ');
        }
        out.push_str(&text_row(row, metric.as_ref(), separator));
        out.push('\n');
    }
    out
}

/// One row, without the interval prefix and newline.
pub fn text_row(row: &Row, metric: Option<&Metric>, separator: Option<char>) -> String {
    let unit = row.event.unit();
    let name = &row.event.name;
    let missing = match row.count {
        Count::Counted { .. } => None,
        Count::NotCounted => Some("<not counted>"),
        Count::NotSupported => Some("<not supported>"),
    };
    if let Some(missing) = missing {
        return format!(
            "{missing:>18} {unit:<4} {name:<25}{:w$}",
            "",
            w = METRIC_WIDTH
        );
    }
    let shown = row.shown_value().unwrap_or(0.0);
    let value = number::count(shown, row.event.is_clock(), separator);
    let mut out = format!("{value:>18} {unit:<4} {name:<32}");
    out.push_str(&metric_column(metric));
    if let Some(pct) = row.noise_pct.filter(|&p| p != 0.0) {
        out.push_str(&noise(pct));
    }
    let running = row.running_pct();
    if running != 100.0 {
        out.push_str(&format!("  ({running:.2}%)"));
    }
    out
}

/// ` # value unit` padded to the column width, or blanks.
pub fn metric_column(metric: Option<&Metric>) -> String {
    match metric {
        None => " ".repeat(METRIC_WIDTH),
        Some(m) => {
            let head = format!(" # {}", m.formatted());
            let width = METRIC_WIDTH.saturating_sub(head.len() + 1);
            format!("{head} {:<width$}", m.unit)
        }
    }
}

/// perf's `  ( +- x.xx% )`.
pub fn noise(pct: f64) -> String {
    format!("  ( +-{pct:6.2}% )")
}

/// The footer of one run: elapsed, and user/sys for a command.
pub fn footer(elapsed_s: f64, user_sys_s: Option<(f64, f64)>) -> String {
    let mut out = format!("\n {elapsed_s:17.9} seconds time elapsed\n\n");
    if let Some((user, sys)) = user_sys_s {
        out.push_str(&format!(" {user:17.9} seconds user\n"));
        out.push_str(&format!(" {sys:17.9} seconds sys\n\n\n"));
    }
    out
}

/// The footer of `-r`: mean ± standard error of the elapsed seconds.
pub fn footer_repeat(elapsed_s: &RunningStats) -> String {
    let sd = elapsed_s.std_error();
    let p = elapsed_precision(sd);
    let mut out = format!(
        "\n {:17.p$} +- {sd:.p$} seconds time elapsed",
        elapsed_s.mean
    );
    let pct = elapsed_s.rel_std_error_pct();
    if pct != 0.0 {
        out.push_str(&noise(pct));
    }
    out.push_str("\n\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{default_events, parse_event_list};
    use crate::metric::metrics;

    /// perf stat -- sleep 0.1 on this machine, byte for byte.
    const PERF_DEFAULT: &str = "
 Performance counter stats for 'sleep 0.1':

              0.87 msec task-clock                       #    0.009 CPUs utilized          
                 1      context-switches                 #    1.148 K/sec                  
                 0      cpu-migrations                   #    0.000 /sec                   
                74      page-faults                      #   84.962 K/sec                  
   <not supported>      cycles                                                      
   <not supported>      instructions                                                
   <not supported>      branches                                                    
   <not supported>      branch-misses                                               

       0.101809627 seconds time elapsed

       0.001788000 seconds user
       0.000000000 seconds sys


";

    fn counted(value: f64) -> Count {
        Count::Counted {
            value,
            running_ns: 870_977,
            enabled_ns: 870_977,
        }
    }

    fn default_snapshot(noise: Option<f64>) -> Snapshot {
        let values = [
            counted(870_977.0),
            counted(1.0),
            counted(0.0),
            counted(74.0),
            Count::NotSupported,
            Count::NotSupported,
            Count::NotSupported,
            Count::NotSupported,
        ];
        Snapshot {
            rows: default_events(false, false)
                .into_iter()
                .zip(values)
                .map(|(event, count)| Row {
                    event,
                    count,
                    noise_pct: noise,
                })
                .collect(),
            wall_ns: 101_809_627.0,
        }
    }

    #[test]
    fn default_layout_is_byte_identical_to_perf() {
        let s = default_snapshot(None);
        let text = header("'sleep 0.1'", 1)
            + &rows(&s, &metrics(&s), None, None)
            + &footer(0.101809627, Some((0.001788, 0.0)));
        assert_eq!(text, PERF_DEFAULT);
    }

    #[test]
    fn repeat_noise_and_footer() {
        let s = default_snapshot(Some(3.66));
        let text = rows(&s, &metrics(&s), None, None);
        let first = text.lines().next().unwrap();
        assert_eq!(
            first,
            "              0.87 msec task-clock                       #    0.009 CPUs utilized            ( +-  3.66% )"
        );
        // Unsupported rows carry no ±.
        assert!(!text.lines().nth(4).unwrap().contains("+-"));
        let mut elapsed = RunningStats::default();
        for v in [0.0514, 0.0521, 0.0518] {
            elapsed.push(v);
        }
        let footer = footer_repeat(&elapsed);
        assert!(
            footer.starts_with(
                "\n          0.051767 +- 0.000203 seconds time elapsed  ( +-  0.39% )"
            ),
            "{footer:?}"
        );
        assert_eq!(
            header("'true'", 3),
            "\n Performance counter stats for 'true' (3 runs):\n\n"
        );
    }

    #[test]
    fn interval_and_not_counted_rows() {
        let mut s = default_snapshot(None);
        s.rows[0].count = Count::NotCounted;
        let text = rows(&s, &metrics(&s), Some("     0.201462040"), None);
        assert_eq!(
            text.lines().next().unwrap(),
            "     0.201462040      <not counted> msec task-clock                                                  "
        );
        assert_eq!(text.lines().next().unwrap().len(), 101);
    }

    #[test]
    fn rows_without_metric_and_multiplexed() {
        let events = parse_event_list("page-faults").unwrap();
        let s = Snapshot {
            rows: vec![Row {
                event: events[0].clone(),
                count: Count::Counted {
                    value: 75.0,
                    running_ns: 50,
                    enabled_ns: 100,
                },
                noise_pct: None,
            }],
            wall_ns: 1.0,
        };
        let text = rows(&s, &metrics(&s), None, Some(','));
        assert_eq!(
            text,
            format!(
                "{:>18}      {:<32}{:35}  (50.00%)\n",
                "75", "page-faults", ""
            )
        );
    }
}
