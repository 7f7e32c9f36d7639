//! Sampling for `whyslow top`: one [`HostCounters`] per tick from
//! `host::Host::collect` (node_exporter-named families) and one
//! `host::process::ProcessTable`; two of each make a [`Tick`] of rates, which
//! the model takes. Nothing here draws; nothing in the renderer reads /proc.

use super::counters::HostCounters;
use super::rates::HostRates;
use host::process::{ProcessRates, ProcessTable};
use host::{Host, Paths};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// One sampling step: host rates and per-process rates over the same interval.
#[derive(Debug, Clone)]
pub struct Tick {
    pub host: HostRates,
    pub processes: Vec<ProcessRates>,
    /// Full command lines by pid, for the processes of this tick that have one.
    pub cmdlines: HashMap<u32, String>,
}

/// Keeps the previous snapshots and turns each new one into a [`Tick`].
pub struct Sampler {
    host: Host,
    proc: PathBuf,
    previous: Option<(Instant, HostCounters, ProcessTable)>,
    /// Command lines by (pid, start time): read once per process.
    cmdlines: HashMap<(u32, u64), String>,
}

impl Sampler {
    pub fn new(paths: Paths) -> Self {
        let proc = paths.proc.clone();
        Self {
            host: Host::new(paths),
            proc,
            previous: None,
            cmdlines: HashMap::new(),
        }
    }

    /// Takes a snapshot; returns rates since the previous one (`None` the first time).
    pub fn sample(&mut self) -> std::io::Result<Option<Tick>> {
        let at = Instant::now();
        let counters = HostCounters::from_families(&self.host.collect().families);
        let table = ProcessTable::read(&self.proc)?;
        let tick = self.previous.as_ref().map(|(then, before, earlier)| {
            let secs = at.duration_since(*then).as_secs_f64();
            let now_unix = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            Tick {
                host: HostRates::between(before, &counters, secs, now_unix),
                processes: table.rates(earlier),
                cmdlines: HashMap::new(),
            }
        });
        self.cmdlines.retain(|(pid, start), _| {
            table
                .processes
                .get(pid)
                .is_some_and(|p| p.start_ticks == *start)
        });
        for p in table.processes.values() {
            self.cmdlines
                .entry((p.pid, p.start_ticks))
                .or_insert_with(|| read_cmdline(&self.proc, p.pid));
        }
        self.previous = Some((at, counters, table));
        Ok(tick.map(|mut t| {
            t.cmdlines = self
                .cmdlines
                .iter()
                .filter(|(_, c)| !c.is_empty())
                .map(|((pid, _), c)| (*pid, c.clone()))
                .collect();
            t
        }))
    }
}

/// /proc/PID/cmdline with NULs as spaces; empty for kernel threads and on error.
fn read_cmdline(proc: &Path, pid: u32) -> String {
    let Ok(bytes) = std::fs::read(proc.join(pid.to_string()).join("cmdline")) else {
        return String::new();
    };
    let text = String::from_utf8_lossy(&bytes);
    text.trim_end_matches('\0').replace('\0', " ")
}
