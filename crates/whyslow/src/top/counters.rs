//! The host-wide counters `whyslow top` needs, picked out of one
//! `host::Host::collect` by their node_exporter names: CPU seconds per CPU and
//! mode, PSI totals, meminfo, diskstats, netdev (lo is already left out), load
//! and boot time. A family the machine lacks leaves its field `None` or empty.

use host::Family;
use std::collections::HashMap;

/// The host-wide counters of one collection, picked out of the families.
#[derive(Debug, Clone, Default)]
pub struct HostCounters {
    /// CPU number → (busy seconds, total seconds); busy = all modes but idle, iowait, steal.
    pub cpus: Vec<(u32, f64, f64)>,
    /// `node_pressure_{cpu_waiting,memory_waiting,memory_stalled,io_waiting}_seconds_total`.
    pub psi_cpu_some: Option<f64>,
    pub psi_memory_some: Option<f64>,
    pub psi_memory_full: Option<f64>,
    pub psi_io_some: Option<f64>,
    pub mem_total: Option<f64>,
    pub mem_available: Option<f64>,
    pub swap_total: Option<f64>,
    pub swap_free: Option<f64>,
    /// Per disk: (device, io_time s, weighted io_time s, read bytes, written bytes).
    pub disks: Vec<(String, f64, f64, f64, f64)>,
    /// Per interface (lo left out): (device, rx bytes, tx bytes, drops + errors both ways).
    pub nets: Vec<(String, f64, f64, f64)>,
    pub load: Option<[f64; 3]>,
    pub boot_time: Option<f64>,
}

impl HostCounters {
    /// Picks the counters `top` shows out of one `Host::collect`.
    pub fn from_families(families: &[Family]) -> Self {
        let by_name: HashMap<&str, &Family> =
            families.iter().map(|f| (f.name.as_ref(), f)).collect();
        let single = |name: &str| {
            by_name
                .get(name)
                .and_then(|f| f.samples.first())
                .map(|s| s.value)
        };
        let per_device = |name: &str| -> HashMap<String, f64> {
            by_name.get(name).map_or_else(HashMap::new, |f| {
                f.samples
                    .iter()
                    .filter_map(|s| Some((label(&s.labels, "device")?.to_string(), s.value)))
                    .collect()
            })
        };

        let mut cpus: HashMap<u32, (f64, f64)> = HashMap::new();
        if let Some(family) = by_name.get("node_cpu_seconds_total") {
            for s in &family.samples {
                let (Some(cpu), Some(mode)) = (label(&s.labels, "cpu"), label(&s.labels, "mode"))
                else {
                    continue;
                };
                let Ok(cpu) = cpu.parse::<u32>() else {
                    continue;
                };
                let entry = cpus.entry(cpu).or_default();
                entry.1 += s.value;
                if !matches!(mode, "idle" | "iowait" | "steal") {
                    entry.0 += s.value;
                }
            }
        }
        let mut cpus: Vec<_> = cpus.into_iter().map(|(c, (b, t))| (c, b, t)).collect();
        cpus.sort_by_key(|c| c.0);

        let io_time = per_device("node_disk_io_time_seconds_total");
        let weighted = per_device("node_disk_io_time_weighted_seconds_total");
        let read = per_device("node_disk_read_bytes_total");
        let written = per_device("node_disk_written_bytes_total");
        let mut disks: Vec<_> = io_time
            .iter()
            .map(|(d, &t)| {
                let get = |m: &HashMap<String, f64>| m.get(d).copied().unwrap_or(0.0);
                (d.clone(), t, get(&weighted), get(&read), get(&written))
            })
            .collect();
        disks.sort_by(|a, b| a.0.cmp(&b.0));

        let rx = per_device("node_network_receive_bytes_total");
        let tx = per_device("node_network_transmit_bytes_total");
        let trouble: Vec<HashMap<String, f64>> = [
            "node_network_receive_drop_total",
            "node_network_transmit_drop_total",
            "node_network_receive_errs_total",
            "node_network_transmit_errs_total",
        ]
        .iter()
        .map(|n| per_device(n))
        .collect();
        let mut nets: Vec<_> = rx
            .iter()
            .map(|(d, &r)| {
                let bad = trouble.iter().filter_map(|m| m.get(d)).sum();
                (d.clone(), r, tx.get(d).copied().unwrap_or(0.0), bad)
            })
            .collect();
        nets.sort_by(|a, b| a.0.cmp(&b.0));

        let load = match (
            single("node_load1"),
            single("node_load5"),
            single("node_load15"),
        ) {
            (Some(a), Some(b), Some(c)) => Some([a, b, c]),
            _ => None,
        };
        Self {
            cpus,
            psi_cpu_some: single("node_pressure_cpu_waiting_seconds_total"),
            psi_memory_some: single("node_pressure_memory_waiting_seconds_total"),
            psi_memory_full: single("node_pressure_memory_stalled_seconds_total"),
            psi_io_some: single("node_pressure_io_waiting_seconds_total"),
            mem_total: single("node_memory_MemTotal_bytes"),
            mem_available: single("node_memory_MemAvailable_bytes"),
            swap_total: single("node_memory_SwapTotal_bytes"),
            swap_free: single("node_memory_SwapFree_bytes"),
            disks,
            nets,
            load,
            boot_time: single("node_boot_time_seconds"),
        }
    }
}

fn label<'a>(labels: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
    labels
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}
