//! The USE method (utilisation, saturation, errors) for every resource of the
//! host, computed from two snapshots: what `whyslow use` prints and
//! `whyslow top`'s summary line shows.
//!
//! A [`UseSample`] is one snapshot: the collectors' node_exporter-named
//! families, the process table, the cgroup of this process and the few /sys
//! files the collectors do not read (disk I/O error counts, link speeds).
//! [`evaluate`] turns two of them, plus run-queue lengths sampled in between
//! ([`run_queue`]), into a [`UseReport`]: one [`Row`] per resource with a
//! [`Cell`] each for utilisation, saturation and errors, graded by the
//! thresholds in [`thresholds`], and the top processes by CPU, memory and
//! I/O. Nothing here prints; [`table::render`] formats a report as text.
//!
//! A source the machine lacks (no PSI, no `ioerr_cnt`, no cgroup) gives a
//! cell with [`Status::Unavailable`] and the reason, never a made-up zero.

pub mod cgroup;
mod cgroup_rows;
mod cpu;
mod disk;
mod mem;
mod metrics;
mod net;
mod sys;
pub mod table;
pub mod thresholds;
mod top;

use crate::process::ProcessTable;
use crate::{Family, Host, Paths};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;

pub use sys::SysFacts;
pub use top::{TopProcess, TopProcesses};

/// How a cell is graded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The machine lacks the source; the cell's `why` says which.
    Unavailable,
    /// Below every warn threshold.
    Ok,
    /// Over a warn threshold: worth a look, not yet a queue.
    Warn,
    /// Over a saturation threshold: work is waiting.
    Saturated,
}

impl Status {
    /// The word the table and JSON use.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unavailable => "unavailable",
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Saturated => "saturated",
        }
    }
}

/// One of utilisation, saturation or errors of one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// What was measured, for people (`"73 % (max cpu1 95 %)"`).
    pub value: String,
    /// The grade.
    pub status: Status,
    /// For a cell that is not ok: why, in one line (which threshold, or which source is missing).
    pub why: Option<String>,
    /// For a warn or saturated cell: the whyslow command to run next.
    pub next: Option<String>,
}

impl Cell {
    /// An ok cell.
    pub fn ok(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            status: Status::Ok,
            why: None,
            next: None,
        }
    }

    /// A cell whose source the machine lacks.
    pub fn unavailable(why: impl Into<String>) -> Self {
        Self {
            value: "unavailable".into(),
            status: Status::Unavailable,
            why: Some(why.into()),
            next: None,
        }
    }
}

/// One resource: its three USE cells (`None`: the resource has no such
/// metric, e.g. file descriptors have no saturation) and the numbers behind them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// `cpu`, `memory`, `disk`, `io`, `network`, `tcp`, `file_descriptors`,
    /// `cgroup_cpu`, `cgroup_memory` (or `cgroup` alone when this process's
    /// cgroup cannot be found).
    pub resource: &'static str,
    /// The device, interface or cgroup path, where the resource has one.
    pub device: Option<String>,
    pub utilisation: Option<Cell>,
    pub saturation: Option<Cell>,
    pub errors: Option<Cell>,
    /// The measured numbers, by stable names (ratios 0..1, per-second rates,
    /// bytes, milliseconds as the name says); a number the machine lacks is absent.
    pub metrics: BTreeMap<&'static str, f64>,
}

impl Row {
    fn new(resource: &'static str, device: Option<String>) -> Self {
        Self {
            resource,
            device,
            utilisation: None,
            saturation: None,
            errors: None,
            metrics: BTreeMap::new(),
        }
    }

    /// The cells that exist.
    pub fn cells(&self) -> impl Iterator<Item = (&'static str, &Cell)> {
        [
            ("utilisation", self.utilisation.as_ref()),
            ("saturation", self.saturation.as_ref()),
            ("errors", self.errors.as_ref()),
        ]
        .into_iter()
        .filter_map(|(name, cell)| Some((name, cell?)))
    }

    /// The worst status of its cells (unavailable counts as ok).
    pub fn status(&self) -> Status {
        self.cells()
            .map(|(_, c)| c.status)
            .max()
            .unwrap_or(Status::Ok)
            .max(Status::Ok)
    }

    /// `cpu`, `disk vda`, `cgroup_memory /user.slice`: how the table names it.
    pub fn label(&self) -> String {
        match &self.device {
            Some(device) => format!("{} {device}", self.resource),
            None => self.resource.to_string(),
        }
    }

    fn metric(&mut self, name: &'static str, value: Option<f64>) {
        if let Some(value) = value.filter(|v| v.is_finite()) {
            self.metrics.insert(name, value);
        }
    }
}

/// One CPU's utilisation over the interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuUtil {
    pub cpu: String,
    /// 1 - (idle + iowait + steal) share of the interval.
    pub utilisation: f64,
}

/// The USE table of one interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UseReport {
    /// Seconds between the two snapshots.
    pub interval_seconds: f64,
    /// Online CPUs (the `cpuN` lines of /proc/stat).
    pub cpus: usize,
    /// The worst status of any row.
    pub status: Status,
    pub rows: Vec<Row>,
    pub per_cpu: Vec<CpuUtil>,
    pub top: TopProcesses,
}

impl UseReport {
    /// True when any cell is saturated (`whyslow use` exits 3).
    pub fn saturated(&self) -> bool {
        self.status == Status::Saturated
    }

    /// The rows of one resource kind.
    pub fn rows_of<'a>(&'a self, resource: &'a str) -> impl Iterator<Item = &'a Row> + 'a {
        self.rows.iter().filter(move |r| r.resource == resource)
    }
}

/// One snapshot of everything [`evaluate`] needs.
#[derive(Debug)]
pub struct UseSample {
    pub at: Instant,
    /// The collectors' families.
    pub families: Vec<Family>,
    /// Collectors that failed, with why (their families are missing).
    pub errors: Vec<(&'static str, String)>,
    /// The process table (`Err`: /proc unreadable, with why).
    pub processes: Result<ProcessTable, String>,
    /// This process's cgroup.
    pub cgroup: cgroup::CgroupSample,
    pub sys: SysFacts,
}

impl UseSample {
    /// Takes a snapshot. `host` keeps collector state between calls; reuse it.
    pub fn take(host: &mut Host, paths: &Paths) -> Self {
        // The counters are read right after this instant (collection takes a few ms).
        let at = Instant::now();
        let collected = host.collect();
        let processes = ProcessTable::read(&paths.proc)
            .map_err(|e| format!("reading {}: {e}", paths.proc.display()));
        let families = collected.families;
        let sys = sys::read(paths, &families);
        Self {
            at,
            errors: collected
                .errors
                .into_iter()
                .map(|(name, error)| (name, error.to_string()))
                .collect(),
            families,
            processes,
            cgroup: cgroup::CgroupSample::read(paths),
            sys,
        }
    }

    /// Why a collector's families are missing, if it failed.
    fn missing(&self, collector: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(name, _)| *name == collector)
            .map(|(_, why)| why.as_str())
    }
}

/// The number of runnable tasks right now (`procs_running` of /proc/stat,
/// vmstat's `r`), not counting the task reading it. `None` when unreadable.
pub fn run_queue(paths: &Paths) -> Option<f64> {
    let text = std::fs::read_to_string(paths.proc.join("stat")).ok()?;
    let running = text
        .lines()
        .find_map(|l| l.strip_prefix("procs_running "))?
        .trim()
        .parse::<f64>()
        .ok()?;
    Some((running - 1.0).max(0.0))
}

/// The USE report for the interval from `before` to `after`. `run_queue`
/// holds [`run_queue`] samples taken during the interval; when empty, the
/// `node_procs_running` of `after` stands in (one sample: noisier).
pub fn evaluate(before: &UseSample, after: &UseSample, run_queue: &[f64]) -> UseReport {
    let pair = metrics::Pair::new(before, after);
    let mut rows = Vec::new();
    let (cpu_row, per_cpu) = cpu::row(&pair, run_queue);
    let cpus = per_cpu.len();
    rows.push(cpu_row);
    rows.push(mem::row(&pair));
    rows.extend(disk::rows(&pair));
    rows.push(disk::pressure_row(&pair));
    rows.extend(net::interface_rows(&pair));
    rows.push(net::tcp_row(&pair));
    rows.push(net::fd_row(&pair));
    rows.extend(cgroup_rows::rows(
        &before.cgroup,
        &after.cgroup,
        pair.secs,
        cpus.max(1),
    ));
    let status = rows.iter().map(Row::status).max().unwrap_or(Status::Ok);
    UseReport {
        interval_seconds: pair.secs,
        cpus,
        status,
        rows,
        per_cpu,
        top: top::top(&before.processes, &after.processes),
    }
}

#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
mod tests;
