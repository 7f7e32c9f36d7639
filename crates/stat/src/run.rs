//! `whyslow stat` from configuration to printed output: choose the events
//! (perf's default set plus the top-down events where a PMU exists), measure
//! once or `-r N` times, print intervals as they come, then perf's block and,
//! in text mode, whyslow's lines on what is real.

use crate::config::{StatConfig, Target};
use crate::error::StatError;
use crate::event::{default_events, EventSel};
use crate::linux::counter::Reading;
use crate::linux::pmu;
use crate::linux::session::{self, Measured, Timing};
use crate::print::{self, text, Printer};
use crate::row::{Count, Row, Snapshot};
use crate::stats::RunningStats;
use crate::topdown_plan::TopdownPlan;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// How a `whyslow stat` run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatOutcome {
    /// The command's exit status (0 without a command), for the caller to exit with.
    pub exit_code: i32,
}

/// Counts as configured and writes perf's output to `out`.
pub fn run(
    config: &StatConfig,
    stop: &AtomicBool,
    out: &mut dyn Write,
) -> Result<StatOutcome, StatError> {
    config.validate()?;
    let system_wide = matches!(config.target, Target::System { .. });
    let events = match &config.events {
        Some(events) => events.clone(),
        None => default_events(system_wide, pmu::stalled_cycles_listed()),
    };
    let pmu_present = pmu::hardware_pmu_present();
    let topdown = if config.events.is_none() {
        TopdownPlan::choose(pmu_present, pmu::is_virtual_machine(), events.len())
    } else {
        TopdownPlan::Off
    };
    let mut all = events.clone();
    let topdown_events = topdown.events();
    let grouped_tail = topdown_events.len();
    all.extend(topdown_events);
    let timing = Timing {
        interval: config.interval,
        duration: config.duration,
    };
    let mut printer = Printer::new(config.format.clone(), config.repeat > 1);
    let write = |out: &mut dyn Write, text: &str| {
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|source| StatError::Io {
                context: "cannot write the output".to_string(),
                source,
            })
    };
    let mut totals = Totals::new(all.len());
    let mut last: Option<Measured> = None;
    for _ in 0..config.repeat {
        let mut on_tick = |tick: &session::Tick| {
            let snapshot = snapshot_of(&events, &tick.deltas, tick.span_ns as f64);
            let text = printer.interval(&snapshot, tick.elapsed_ns);
            write(out, &text)
        };
        let measured = session::measure(
            &config.target,
            &all,
            grouped_tail,
            timing,
            stop,
            &mut on_tick,
        )?;
        totals.push(&measured);
        last = Some(measured);
        if stop.load(Ordering::Relaxed) {
            break;
        }
    }
    let Some(last) = last else {
        return Err(StatError::InvalidOptions(
            "-r must be at least 1".to_string(),
        ));
    };
    let snapshot = totals.snapshot(&events, config.repeat > 1);
    let is_text = printer.is_text();
    let (topdown_rows, topdown_reason) = match topdown.render(&totals.means()) {
        Ok(rows) => (rows, None),
        Err(reason) => (String::new(), reason),
    };
    if config.interval.is_none() {
        let mut block = String::new();
        if is_text {
            block.push_str(&text::header(&config.target.describe(), totals.runs));
        }
        block.push_str(&printer.rows(&snapshot));
        if is_text {
            block.push_str(&topdown_rows);
            block.push_str(&footer(config, &totals, &last));
        }
        write(out, &block)?;
    }
    if is_text {
        let mut extra = String::new();
        if snapshot
            .rows
            .iter()
            .any(|r| r.event.is_hardware() && r.count == Count::NotSupported)
        {
            let reason = pmu::hardware_reason(last.hardware_error.as_ref());
            extra.push_str(&print::real::hardware_line(&reason));
        }
        if let Some(reason) = topdown_reason {
            extra.push_str(&print::real::topdown_line(&reason));
        }
        if !pmu_present {
            let note = (totals.runs > 1).then(|| format!("last of {} runs", totals.runs));
            extra.push_str(&print::real::real_lines(&last.real, note.as_deref()));
        }
        if !extra.is_empty() {
            if config.interval.is_some() {
                extra.insert(0, '\n');
            }
            write(out, &extra)?;
        }
    }
    Ok(StatOutcome {
        exit_code: last.exit_code,
    })
}

fn footer(config: &StatConfig, totals: &Totals, last: &Measured) -> String {
    if totals.runs > 1 {
        return text::footer_repeat(&totals.wall_s);
    }
    let user_sys = match (&config.target, last.real.rusage) {
        (Target::Command(_), Some(r)) => Some((r.user_s, r.sys_s)),
        _ => None,
    };
    text::footer(totals.wall_s.mean, user_sys)
}

/// A reading as a row's count: scaled up when the event was multiplexed.
pub fn count_of(reading: Option<&Reading>) -> Count {
    match reading {
        None => Count::NotSupported,
        Some(r) if r.running_ns == 0 => Count::NotCounted,
        Some(r) => {
            let mut value = r.value as f64;
            if r.running_ns < r.enabled_ns {
                value *= r.enabled_ns as f64 / r.running_ns as f64;
            }
            Count::Counted {
                value,
                running_ns: r.running_ns,
                enabled_ns: r.enabled_ns,
            }
        }
    }
}

/// Rows for `events` from the first readings (interval deltas).
fn snapshot_of(events: &[EventSel], readings: &[Option<Reading>], wall_ns: f64) -> Snapshot {
    Snapshot {
        rows: events
            .iter()
            .zip(readings)
            .map(|(event, reading)| Row {
                event: event.clone(),
                count: count_of(reading.as_ref()),
                noise_pct: None,
            })
            .collect(),
        wall_ns,
    }
}

/// Per-event statistics over the runs of `-r`.
#[derive(Debug)]
struct Totals {
    runs: u32,
    values: Vec<RunningStats>,
    running_ns: Vec<RunningStats>,
    enabled_ns: Vec<RunningStats>,
    not_supported: Vec<bool>,
    wall_s: RunningStats,
}

impl Totals {
    fn new(events: usize) -> Self {
        Totals {
            runs: 0,
            values: vec![RunningStats::default(); events],
            running_ns: vec![RunningStats::default(); events],
            enabled_ns: vec![RunningStats::default(); events],
            not_supported: vec![false; events],
            wall_s: RunningStats::default(),
        }
    }

    fn push(&mut self, m: &Measured) {
        self.runs += 1;
        self.wall_s.push(m.real.wall_ns as f64 / 1e9);
        for (i, reading) in m.readings.iter().enumerate().take(self.values.len()) {
            match count_of(reading.as_ref()) {
                Count::Counted {
                    value,
                    running_ns,
                    enabled_ns,
                } => {
                    self.values[i].push(value);
                    self.running_ns[i].push(running_ns as f64);
                    self.enabled_ns[i].push(enabled_ns as f64);
                }
                Count::NotCounted => {}
                Count::NotSupported => self.not_supported[i] = true,
            }
        }
    }

    /// Mean raw counts of every event (`None` when never counted).
    fn means(&self) -> Vec<Option<f64>> {
        self.values
            .iter()
            .zip(&self.not_supported)
            .map(|(v, &unsupported)| (!unsupported && v.n > 0).then_some(v.mean))
            .collect()
    }

    /// The rows of `events` (the first of all counted): means, with ± for `-r`.
    fn snapshot(&self, events: &[EventSel], repeat: bool) -> Snapshot {
        let rows = events
            .iter()
            .enumerate()
            .map(|(i, event)| {
                let count = if self.not_supported[i] {
                    Count::NotSupported
                } else if self.values[i].n == 0 {
                    Count::NotCounted
                } else {
                    Count::Counted {
                        value: self.values[i].mean,
                        running_ns: self.running_ns[i].mean.round() as u64,
                        enabled_ns: self.enabled_ns[i].mean.round() as u64,
                    }
                };
                Row {
                    event: event.clone(),
                    count,
                    noise_pct: repeat.then(|| self.values[i].rel_std_error_pct()),
                }
            })
            .collect();
        Snapshot {
            rows,
            wall_ns: self.wall_s.mean * 1e9,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_become_counts() {
        assert_eq!(count_of(None), Count::NotSupported);
        let idle = Reading {
            value: 0,
            enabled_ns: 0,
            running_ns: 0,
        };
        assert_eq!(count_of(Some(&idle)), Count::NotCounted);
        let half = Reading {
            value: 100,
            enabled_ns: 200,
            running_ns: 100,
        };
        assert_eq!(
            count_of(Some(&half)),
            Count::Counted {
                value: 200.0,
                running_ns: 100,
                enabled_ns: 200
            }
        );
    }
}
