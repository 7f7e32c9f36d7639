//! Host metrics for the USE method, named as node_exporter names them.
//!
//! Each collector reads one kernel source and appends metric families with
//! node_exporter's (1.5.0, Debian bookworm's `prometheus-node-exporter`)
//! names, label sets, HELP, TYPE and units, so dashboards and rules written
//! for node_exporter (kube-prometheus node-mixin, "Node Exporter Full") work
//! unchanged on `whyslow agent`'s output:
//!
//! | collector | source | families |
//! |---|---|---|
//! | cpu | /proc/stat `cpuN` lines, /sys/devices/system/cpu | `node_cpu_seconds_total{cpu,mode}`, `node_cpu_guest_seconds_total`, `node_cpu_isolated`, `node_cpu_*_throttles_total` |
//! | meminfo | /proc/meminfo | `node_memory_<Field>[_bytes]` |
//! | loadavg | /proc/loadavg | `node_load1`, `node_load5`, `node_load15` |
//! | pressure | /proc/pressure/{cpu,io,memory} | `node_pressure_*_seconds_total` |
//! | diskstats | /proc/diskstats, /run/udev/data | `node_disk_*` |
//! | filesystem | /proc/1/mounts, statfs(2) | `node_filesystem_*` |
//! | netdev | /proc/net/dev, /sys/class/net | `node_network_*_total` |
//! | netstat | /proc/net/{netstat,snmp,snmp6} | `node_netstat_<Proto>_<Field>` |
//! | vmstat | /proc/vmstat | `node_vmstat_<field>` |
//! | stat | /proc/stat | `node_boot_time_seconds`, `node_context_switches_total`, ... |
//! | filefd | /proc/sys/fs/file-nr | `node_filefd_allocated`, `node_filefd_maximum` |
//! | uname | uname(2) | `node_uname_info` |
//!
//! A source the machine lacks (no PSI, no IPv6) yields no samples, never a
//! made-up zero, and `node_scrape_collector_success{collector}` is 0 for it,
//! as node_exporter reports it. [`Host::collect`] runs every collector and
//! adds those per-collector success and duration families.
//!
//! Parsing uses the `procfs-core` crate (0.18, MSRV 1.70, depends only on
//! `bitflags` and `hex`; the `procfs` crate around it adds `rustix` and
//! file-opening helpers we do not need) where its parsers fit: diskstats,
//! /proc/net/dev, vmstat, mounts and PSI lines. The module doc of each
//! collector that parses by hand says why.
//!
//! Beyond node_exporter, [`Host::collect`] can add per-process metrics with
//! process-exporter's names (`namedprocess_namegroup_*`, grouped by command
//! name) and per-cgroup metrics with cAdvisor's (`container_*{id}`); see
//! `namedprocess.rs` and `cgroups.rs`; [`Host::with`] turns them on.
//!
//! [`process`] samples the process table (for `whyslow use` and `top`).

mod cgroupfs;
mod cgroups;
mod cpu;
mod diskstats;
mod family;
mod filefd;
mod filesystem;
mod host;
mod loadavg;
mod meminfo;
mod namedprocess;
mod netdev;
mod netstat;
mod pressure;
pub mod process;
mod read;
mod stat;
mod uname;
pub mod usecheck;
mod vmstat;

pub use family::{write_text, Family, Kind, Sample, TEXT_CONTENT_TYPE};
pub use host::{Extra, Host, Paths, COLLECTORS};
pub use uname::hostname;

/// Why a collector produced nothing (or only part of its families).
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The kernel source does not exist on this machine (e.g. no PSI before
    /// Linux 4.20 or without CONFIG_PSI). Reported as scrape success 0.
    #[error("{path} is not available on this machine ({source})")]
    Unavailable {
        /// The file that is missing.
        path: String,
        /// The open error.
        source: std::io::Error,
    },
    /// The source exists but could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The read error.
        source: std::io::Error,
    },
    /// The source was read but its contents are not in the expected format.
    #[error("parsing {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong with it.
        message: String,
    },
}
