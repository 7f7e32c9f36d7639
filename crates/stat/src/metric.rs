//! The `# …` column: perf's derived metrics per row (tools/perf/util/stat-shadow.c
//! in perf 6.1): CPUs utilized, K/M/G per second of task-clock, GHz, insn per
//! cycle, % of all branches / cache refs, idle cycles. Computed only from
//! counted rows, so a missing counter leaves the column blank: never invented.

use crate::event::{hw, EventSel, TYPE_HARDWARE};
use crate::row::{Count, Row, Snapshot};

/// How perf formats a metric's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricFmt {
    /// `%8.3f` (rates, CPUs utilized, GHz).
    Ratio,
    /// `%7.2f ` (insn per cycle).
    Ipc,
    /// `%7.2f%%` (percentages).
    Percent,
}

/// One derived metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// Its value.
    pub value: f64,
    /// Its format.
    pub fmt: MetricFmt,
    /// Its unit text (`CPUs utilized`, `K/sec`).
    pub unit: String,
}

impl Metric {
    fn new(value: f64, fmt: MetricFmt, unit: &str) -> Option<Self> {
        Some(Metric {
            value,
            fmt,
            unit: unit.to_string(),
        })
    }

    /// The value as perf prints it in the text layout (8 characters).
    pub fn formatted(&self) -> String {
        match self.fmt {
            MetricFmt::Ratio => format!("{:8.3}", self.value),
            MetricFmt::Ipc => format!("{:7.2} ", self.value),
            MetricFmt::Percent => format!("{:7.2}%", self.value),
        }
    }
}

/// The metric of every row of `snapshot`, in row order.
pub fn metrics(snapshot: &Snapshot) -> Vec<Option<Metric>> {
    let rows = &snapshot.rows;
    let find = |config: u64| {
        rows.iter()
            .find(|r| r.event.is(TYPE_HARDWARE, config))
            .and_then(Row::raw_value)
    };
    let clocks: Vec<f64> = rows
        .iter()
        .filter(|r| r.event.is_clock())
        .filter_map(Row::raw_value)
        .collect();
    let nsec = (!clocks.is_empty()).then(|| clocks.iter().sum::<f64>() / clocks.len() as f64);
    let context = Context {
        wall_ns: snapshot.wall_ns,
        nsec,
        cycles: find(hw::CYCLES),
        branches: find(hw::BRANCHES),
        cache_refs: find(hw::CACHE_REFERENCES),
    };
    rows.iter().map(|row| metric(row, &context)).collect()
}

/// The counts other rows' metrics divide by.
struct Context {
    wall_ns: f64,
    nsec: Option<f64>,
    cycles: Option<f64>,
    branches: Option<f64>,
    cache_refs: Option<f64>,
}

fn ratio(value: f64, total: f64) -> f64 {
    if total == 0.0 {
        0.0
    } else {
        value / total
    }
}

fn metric(row: &Row, c: &Context) -> Option<Metric> {
    let Count::Counted { value, .. } = row.count else {
        return None;
    };
    let event: &EventSel = &row.event;
    let is_hw = |config| event.is(TYPE_HARDWARE, config);
    if event.is_clock() {
        return (c.wall_ns > 0.0)
            .then(|| Metric::new(value / c.wall_ns, MetricFmt::Ratio, "CPUs utilized"))
            .flatten();
    }
    if is_hw(hw::INSTRUCTIONS) {
        let cycles = c.cycles.filter(|&v| v != 0.0)?;
        return Metric::new(value / cycles, MetricFmt::Ipc, "insn per cycle");
    }
    if is_hw(hw::BRANCH_MISSES) {
        let branches = c.branches?;
        return Metric::new(
            100.0 * ratio(value, branches),
            MetricFmt::Percent,
            "of all branches",
        );
    }
    if is_hw(hw::CACHE_MISSES) {
        let refs = c.cache_refs?;
        return Metric::new(
            100.0 * ratio(value, refs),
            MetricFmt::Percent,
            "of all cache refs",
        );
    }
    for (config, unit) in [
        (hw::STALLED_FRONTEND, "frontend cycles idle"),
        (hw::STALLED_BACKEND, "backend cycles idle"),
    ] {
        if is_hw(config) {
            let cycles = c.cycles?;
            return Metric::new(100.0 * ratio(value, cycles), MetricFmt::Percent, unit);
        }
    }
    let nsec = c.nsec?;
    if is_hw(hw::CYCLES) {
        return Metric::new(ratio(value, nsec), MetricFmt::Ratio, "GHz");
    }
    let (per_sec, prefix) = si_scaled(ratio(1e9 * value, nsec));
    Metric::new(per_sec, MetricFmt::Ratio, &format!("{prefix}/sec"))
}

/// perf's `convert_unit_double`: divides by 1000 while above 1000 (K, M, G).
pub fn si_scaled(mut value: f64) -> (f64, &'static str) {
    let mut prefix = "";
    for next in ["K", "M", "G"] {
        if value > 1000.0 {
            value /= 1000.0;
            prefix = next;
        }
    }
    (value, prefix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{default_events, parse_event_list};

    fn counted(value: f64) -> Count {
        Count::Counted {
            value,
            running_ns: 1,
            enabled_ns: 1,
        }
    }

    fn snapshot(values: &[Count], wall_ns: f64) -> Snapshot {
        Snapshot {
            rows: default_events(false, false)
                .into_iter()
                .zip(values)
                .map(|(event, &count)| Row {
                    event,
                    count,
                    noise_pct: None,
                })
                .collect(),
            wall_ns,
        }
    }

    #[test]
    fn software_rates_like_perf() {
        // perf stat -- sleep 0.1 here: 0.78 msec, 1 cs, 0 migrations, 75 faults.
        let mut values = vec![
            counted(775_000.0),
            counted(1.0),
            counted(0.0),
            counted(75.0),
        ];
        values.extend([Count::NotSupported; 4]);
        let m = metrics(&snapshot(&values, 101_781_644.0));
        let text: Vec<String> = m
            .iter()
            .map(|m| {
                m.as_ref()
                    .map(|m| format!("{} {}", m.formatted(), m.unit))
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(text[0], "   0.008 CPUs utilized");
        assert_eq!(text[1], "   1.290 K/sec");
        assert_eq!(text[2], "   0.000 /sec");
        assert_eq!(text[3], "  96.774 K/sec");
        assert!(m[4..].iter().all(Option::is_none), "no invented IPC");
    }

    #[test]
    fn hardware_metrics_like_the_man_page() {
        let values = [
            counted(1e9),
            counted(0.0),
            counted(0.0),
            counted(0.0),
            counted(2.742e9),
            counted(3.729e9),
            counted(832.559e6),
            counted(24.81e6),
        ];
        let m = metrics(&snapshot(&values, 1e9));
        let f = |i: usize| {
            let m = m[i].as_ref().unwrap();
            format!("{}|{}", m.formatted(), m.unit)
        };
        assert_eq!(f(4), "   2.742|GHz");
        assert_eq!(f(5), "   1.36 |insn per cycle");
        assert_eq!(f(6), " 832.559|M/sec");
        assert_eq!(f(7), "   2.98%|of all branches");
    }

    #[test]
    fn no_clock_no_rates_and_si_prefixes() {
        let events = parse_event_list("page-faults,cs").unwrap();
        let s = Snapshot {
            rows: events
                .into_iter()
                .map(|event| Row {
                    event,
                    count: counted(75.0),
                    noise_pct: None,
                })
                .collect(),
            wall_ns: 1e8,
        };
        assert!(metrics(&s).iter().all(Option::is_none));
        assert_eq!(si_scaled(999.0), (999.0, ""));
        assert_eq!(si_scaled(1000.0), (1000.0, ""));
        assert_eq!(si_scaled(2_500_000.0), (2.5, "M"));
        assert_eq!(si_scaled(3e12).1, "G");
    }
}
