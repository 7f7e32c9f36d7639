//! [`Host`]: every collector, run in node_exporter's order, plus
//! node_exporter's per-collector `node_scrape_collector_success` and
//! `node_scrape_collector_duration_seconds` families.

use crate::{cgroups, namedprocess};
use crate::{cpu, diskstats, filefd, filesystem, loadavg, meminfo, netdev, netstat, pressure};
use crate::{stat, uname, vmstat, CollectError, Family, Kind};
use std::path::PathBuf;
use std::time::Instant;

/// The collectors, by node_exporter's collector names.
pub const COLLECTORS: [&str; 12] = [
    "cpu",
    "diskstats",
    "filefd",
    "filesystem",
    "loadavg",
    "meminfo",
    "netdev",
    "netstat",
    "pressure",
    "stat",
    "uname",
    "vmstat",
];

/// Where the kernel's pseudo-filesystems are (node_exporter's `--path.procfs`,
/// `--path.sysfs`, `--path.udev.data`); tests point them at fixtures.
#[derive(Debug, Clone)]
pub struct Paths {
    /// /proc.
    pub proc: PathBuf,
    /// /sys.
    pub sys: PathBuf,
    /// /run/udev/data.
    pub udev_data: PathBuf,
}

impl Default for Paths {
    fn default() -> Self {
        Self {
            proc: PathBuf::from("/proc"),
            sys: PathBuf::from("/sys"),
            udev_data: PathBuf::from("/run/udev/data"),
        }
    }
}

/// What one collection produced.
#[derive(Debug)]
pub struct Collected {
    /// The families, collectors' and the scrape success/duration ones.
    pub families: Vec<Family>,
    /// Collectors that failed or found their source missing, with why.
    pub errors: Vec<(&'static str, CollectError)>,
}

/// All collectors with the state some keep between collections.
pub struct Host {
    paths: Paths,
    filesystem: filesystem::Filesystem,
    diskstats: diskstats::Diskstats,
    netdev: netdev::Netdev,
    netstat: netstat::Netstat,
    vmstat: vmstat::Vmstat,
    processes: Option<namedprocess::NamedProcess>,
    cgroups: bool,
}

/// The families beyond node_exporter's collectors that [`Host::with`] adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    /// process-exporter's `namedprocess_namegroup_*`.
    Processes,
    /// The same with the proportional memory types from smaps_rollup
    /// (process-exporter's `-gather-smaps`; costly: the kernel walks every
    /// page table).
    ProcessesWithSmaps,
    /// cAdvisor's `container_*`.
    Cgroups,
}

impl Host {
    /// node_exporter's collectors with its default filters (add the rest with [`Host::with`]).
    pub fn new(paths: Paths) -> Self {
        Self {
            paths,
            filesystem: filesystem::Filesystem::new(),
            diskstats: diskstats::Diskstats::new(),
            netdev: netdev::Netdev::new(),
            netstat: netstat::Netstat::new(),
            vmstat: vmstat::Vmstat::new(),
            processes: None,
            cgroups: false,
        }
    }

    /// Adds the per-process or per-cgroup families.
    pub fn with(mut self, extra: Extra) -> Self {
        match extra {
            Extra::Processes => self.processes = Some(namedprocess::NamedProcess::new(false)),
            Extra::ProcessesWithSmaps => {
                self.processes = Some(namedprocess::NamedProcess::new(true))
            }
            Extra::Cgroups => self.cgroups = true,
        }
        self
    }

    /// Runs every collector once.
    pub fn collect(&mut self) -> Collected {
        let mut families = Vec::with_capacity(256);
        let mut errors = Vec::new();
        let mut success = Family::new(
            "node_scrape_collector_success",
            "node_exporter: Whether a collector succeeded.",
            Kind::Gauge,
        );
        let mut duration = Family::new(
            "node_scrape_collector_duration_seconds",
            "node_exporter: Duration of a collector scrape.",
            Kind::Gauge,
        );
        for name in COLLECTORS {
            let start = Instant::now();
            let paths = &self.paths;
            let out = &mut families;
            let result = match name {
                "cpu" => cpu::collect(paths, out),
                "diskstats" => self.diskstats.collect(paths, out),
                "filefd" => filefd::collect(paths, out),
                "filesystem" => self.filesystem.collect(paths, out),
                "loadavg" => loadavg::collect(paths, out),
                "meminfo" => meminfo::collect(paths, out),
                "netdev" => self.netdev.collect(paths, out),
                "netstat" => self.netstat.collect(paths, out),
                "pressure" => pressure::collect(paths, out),
                "stat" => stat::collect(paths, out),
                "uname" => uname::collect(out),
                _ => self.vmstat.collect(paths, out),
            };
            duration.push(
                vec![("collector", name.to_string())],
                start.elapsed().as_secs_f64(),
            );
            let ok = match result {
                Ok(()) => 1.0,
                Err(error) => {
                    errors.push((name, error));
                    0.0
                }
            };
            success.push(vec![("collector", name.to_string())], ok);
        }
        families.push(success);
        families.push(duration);
        // Outside node_exporter's scrape success/duration families: these
        // report their own errors as their peers do.
        if let Some(processes) = &mut self.processes {
            processes.collect(&self.paths.proc, &mut families);
        }
        if self.cgroups {
            cgroups::collect(&self.paths, &mut families);
        }
        Collected { families, errors }
    }
}
