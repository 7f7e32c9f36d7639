//! The stat collector: boot time, context switches, forks, interrupts and
//! runnable/blocked process counts from /proc/stat.
//!
//! Parsed by hand for the `intr` line, which `procfs-core`'s `KernelStats`
//! does not read; the other lines are one number each.

use crate::read::{number, read};
use crate::{CollectError, Family, Kind, Paths};

/// (line key, metric, HELP, TYPE), in node_exporter's stat collector's terms.
const FIELDS: [(&str, &str, &str, Kind); 6] = [
    (
        "btime",
        "node_boot_time_seconds",
        "Node boot time, in unixtime.",
        Kind::Gauge,
    ),
    (
        "ctxt",
        "node_context_switches_total",
        "Total number of context switches.",
        Kind::Counter,
    ),
    (
        "processes",
        "node_forks_total",
        "Total number of forks.",
        Kind::Counter,
    ),
    (
        "intr",
        "node_intr_total",
        "Total number of interrupts serviced.",
        Kind::Counter,
    ),
    (
        "procs_running",
        "node_procs_running",
        "Number of processes in runnable state.",
        Kind::Gauge,
    ),
    (
        "procs_blocked",
        "node_procs_blocked",
        "Number of processes blocked waiting for I/O to complete.",
        Kind::Gauge,
    ),
];

pub(crate) fn collect(paths: &Paths, out: &mut Vec<Family>) -> Result<(), CollectError> {
    let path = paths.proc.join("stat");
    let text = read(&path)?;
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let (Some(key), Some(first)) = (fields.next(), fields.next()) else {
            continue;
        };
        if let Some((_, name, help, kind)) = FIELDS.iter().find(|f| f.0 == key) {
            let value = number(&path, key, first)?;
            out.push(Family::single(*name, *help, *kind, value));
        }
    }
    Ok(())
}
