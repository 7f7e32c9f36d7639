//! The pressure collector: PSI stall totals from /proc/pressure/{cpu,io,memory}
//! (`total=` microseconds, exported in seconds), with node_exporter 1.5.0's
//! families: cpu `some` as waiting; io and memory `some` as waiting and `full`
//! as stalled. Lines are parsed with `procfs-core`'s `parse_pressure_record`
//! one at a time, so a kernel without the system-level cpu `full` line
//! (before 5.13) still reports cpu `some`.
//!
//! A missing file (no PSI: kernel < 4.20 or CONFIG_PSI off) leaves its
//! families out and makes the collector report failure, as node_exporter does.

use crate::read::{parse_error, read};
use crate::{CollectError, Family, Kind, Paths};

/// (resource, line, metric, HELP).
const STALLS: [(&str, &str, &str, &str); 5] = [
    (
        "cpu",
        "some",
        "node_pressure_cpu_waiting_seconds_total",
        "Total time in seconds that processes have waited for CPU time",
    ),
    (
        "io",
        "some",
        "node_pressure_io_waiting_seconds_total",
        "Total time in seconds that processes have waited due to IO congestion",
    ),
    (
        "io",
        "full",
        "node_pressure_io_stalled_seconds_total",
        "Total time in seconds no process could make progress due to IO congestion",
    ),
    (
        "memory",
        "some",
        "node_pressure_memory_waiting_seconds_total",
        "Total time in seconds that processes have waited for memory",
    ),
    (
        "memory",
        "full",
        "node_pressure_memory_stalled_seconds_total",
        "Total time in seconds no process could make progress due to memory congestion",
    ),
];

pub(crate) fn collect(paths: &Paths, out: &mut Vec<Family>) -> Result<(), CollectError> {
    let mut first_error = None;
    for resource in ["cpu", "io", "memory"] {
        let path = paths.proc.join("pressure").join(resource);
        let text = match read(&path) {
            Ok(text) => text,
            Err(error) => {
                first_error.get_or_insert(error);
                continue;
            }
        };
        for line in text.lines() {
            let Some(kind) = line.get(..4) else { continue };
            let Some((_, _, name, help)) = STALLS.iter().find(|s| s.0 == resource && s.1 == kind)
            else {
                continue;
            };
            let record = procfs_core::parse_pressure_record(line)
                .map_err(|e| parse_error(&path, format!("{line:?}: {e}")))?;
            out.push(Family::single(
                *name,
                *help,
                Kind::Counter,
                record.total as f64 / 1e6,
            ));
        }
    }
    first_error.map_or(Ok(()), Err)
}
