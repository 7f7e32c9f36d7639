//! Per-cgroup metrics with cAdvisor's names (`container_*`, label `id` =
//! the cgroup's path, `/` for the root), so container and systemd-unit
//! dashboards built on cAdvisor (kubelet's `/metrics/cadvisor`) work on
//! `whyslow agent`'s output. cgroup v1 (the cpu, cpuacct, memory and blkio
//! hierarchies, wherever they are mounted) and v2 (the unified hierarchy's
//! enabled controllers) are both read; a machine with both uses v1's
//! controllers and v2 for those only it has.
//!
//! | family | v1 source | v2 source |
//! |---|---|---|
//! | `container_cpu_usage_seconds_total` | cpuacct.usage | cpu.stat usage_usec |
//! | `container_cpu_{user,system}_seconds_total` | cpuacct.stat | cpu.stat user_usec, system_usec |
//! | `container_cpu_cfs_{periods,throttled_periods,throttled_seconds}_total` | cpu.stat | cpu.stat |
//! | `container_spec_cpu_{quota,period,shares}` | cpu.cfs_quota_us, cpu.cfs_period_us, cpu.shares | cpu.max, cpu.weight (as shares) |
//! | `container_memory_{usage,working_set,rss,cache,swap,max_usage}_bytes`, `container_memory_failcnt` | memory.usage_in_bytes, memory.stat total_*, memory.memsw.usage_in_bytes, max_usage_in_bytes, failcnt | memory.current, memory.stat, memory.swap.current, memory.peak |
//! | `container_spec_memory_limit_bytes` (0 = no limit) | memory.limit_in_bytes | memory.max |
//! | `container_oom_events_total` | memory.oom_control oom_kill | memory.events oom_kill |
//! | `container_pressure_{cpu,memory,io}_{waiting,stalled}_seconds_total` | — | *.pressure some, full |
//! | `container_fs_{reads,writes}_bytes_total{device}` | blkio.throttle.io_service_bytes | io.stat rbytes, wbytes |
//!
//! The working set is usage minus inactive file pages, as cAdvisor (and the
//! kubelet's eviction) computes it. At most [`MAX_CGROUPS`] cgroups are read,
//! shallowest first, so a machine with thousands of cgroups cannot blow up
//! the agent's memory or a scrape; `container_scrape_error` is 1 when some
//! were left out or a hierarchy could not be read.
//!
//! Hand-parsed (with `cgroupfs`'s helpers): every file is one number, a
//! `key value` list or a PSI line, and no maintained crate reads cgroup v1
//! and v2 without pulling in a container runtime.

use crate::cgroupfs::{keyed, number, psi_total, unescape, NO_LIMIT};
use crate::{Family, Kind, Paths};
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};

/// The most cgroups read per collection.
pub const MAX_CGROUPS: usize = 1000;

/// Where each controller of a cgroup lives.
#[derive(Debug, Default)]
struct Dirs {
    cpu: Option<PathBuf>,
    cpuacct: Option<PathBuf>,
    memory: Option<PathBuf>,
    blkio: Option<PathBuf>,
    /// The unified (v2) directory, when the controllers are on it.
    unified: Option<PathBuf>,
}

/// A mounted hierarchy: its mount point and the cgroup path of its root.
#[derive(Debug, Clone)]
struct Mount {
    point: PathBuf,
    root: String,
}

/// The hierarchies this machine mounts.
#[derive(Debug, Default)]
struct Hierarchies {
    cpu: Option<Mount>,
    cpuacct: Option<Mount>,
    memory: Option<Mount>,
    blkio: Option<Mount>,
    /// The v2 mount, when it has controllers enabled at its root.
    unified: Option<Mount>,
}

fn hierarchies(mountinfo: &str) -> Hierarchies {
    let mut found = Hierarchies::default();
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let left: Vec<&str> = left.split(' ').collect();
        let right: Vec<&str> = right.split(' ').collect();
        let (Some(root), Some(point), Some(fstype), Some(options)) =
            (left.get(3), left.get(4), right.first(), right.get(2))
        else {
            continue;
        };
        let mount = Mount {
            point: PathBuf::from(unescape(point)),
            root: (*root).to_string(),
        };
        match *fstype {
            "cgroup" => {
                for option in options.split(',') {
                    let slot = match option {
                        "cpu" => &mut found.cpu,
                        "cpuacct" => &mut found.cpuacct,
                        "memory" => &mut found.memory,
                        "blkio" => &mut found.blkio,
                        _ => continue,
                    };
                    slot.get_or_insert_with(|| mount.clone());
                }
            }
            "cgroup2" => {
                let controllers = std::fs::read_to_string(mount.point.join("cgroup.controllers"))
                    .unwrap_or_default();
                let useful = controllers
                    .split_whitespace()
                    .any(|c| matches!(c, "cpu" | "memory" | "io"));
                if useful && found.unified.is_none() {
                    found.unified = Some(mount);
                }
            }
            _ => {}
        }
    }
    found
}

/// Every cgroup under `mount`, shallowest first, as (id, directory); at
/// most `limit`; the bool says whether some were left out.
fn walk(mount: &Mount, limit: usize) -> (Vec<(String, PathBuf)>, bool) {
    let mut out = Vec::new();
    let mut queue = VecDeque::from([(mount.root.clone(), mount.point.clone())]);
    while let Some((id, dir)) = queue.pop_front() {
        if out.len() >= limit {
            return (out, true);
        }
        if let Ok(entries) = std::fs::read_dir(&dir) {
            let mut children: Vec<_> = entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
                .collect();
            children.sort();
            for (name, path) in children {
                let child = if id.ends_with('/') {
                    format!("{id}{name}")
                } else {
                    format!("{id}/{name}")
                };
                queue.push_back((child, path));
            }
        }
        out.push((id, dir));
    }
    (out, false)
}

/// Reads every cgroup and appends cAdvisor's families.
pub(crate) fn collect(paths: &Paths, out: &mut Vec<Family>) {
    let mountinfo = std::fs::read_to_string(paths.proc.join("self/mountinfo")).unwrap_or_default();
    let found = hierarchies(&mountinfo);
    let mut cgroups: BTreeMap<String, Dirs> = BTreeMap::new();
    let mut truncated = false;
    let mut add = |mount: &Option<Mount>, set: fn(&mut Dirs, PathBuf)| {
        if let Some(mount) = mount {
            let (dirs, cut) = walk(mount, MAX_CGROUPS);
            truncated |= cut;
            for (id, dir) in dirs {
                if cgroups.len() < MAX_CGROUPS || cgroups.contains_key(&id) {
                    set(cgroups.entry(id).or_default(), dir);
                } else {
                    truncated = true;
                }
            }
        }
    };
    add(&found.cpu, |d, p| d.cpu = Some(p));
    add(&found.cpuacct, |d, p| d.cpuacct = Some(p));
    add(&found.memory, |d, p| d.memory = Some(p));
    add(&found.blkio, |d, p| d.blkio = Some(p));
    add(&found.unified, |d, p| d.unified = Some(p));
    let nothing = found.cpu.is_none()
        && found.cpuacct.is_none()
        && found.memory.is_none()
        && found.unified.is_none();

    let mut families = Families::new();
    let devices = &mut BTreeMap::new();
    for (id, dirs) in &cgroups {
        families.cgroup(id, dirs, &paths.sys, devices);
    }
    out.extend(families.into_vec());
    out.push(Family::single(
        "container_scrape_error",
        "1 if there was an error while getting container metrics, 0 otherwise",
        Kind::Gauge,
        if truncated || nothing { 1.0 } else { 0.0 },
    ));
}

/// The families being filled, by name.
struct Families(BTreeMap<&'static str, Family>);

const HELP: &[(&str, &str, Kind)] = &[
    ("container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", Kind::Counter),
    ("container_cpu_user_seconds_total", "Cumulative user cpu time consumed in seconds.", Kind::Counter),
    ("container_cpu_system_seconds_total", "Cumulative system cpu time consumed in seconds.", Kind::Counter),
    ("container_cpu_cfs_periods_total", "Number of elapsed enforcement period intervals.", Kind::Counter),
    ("container_cpu_cfs_throttled_periods_total", "Number of throttled period intervals.", Kind::Counter),
    ("container_cpu_cfs_throttled_seconds_total", "Total time duration the container has been throttled.", Kind::Counter),
    ("container_spec_cpu_quota", "CPU quota of the container.", Kind::Gauge),
    ("container_spec_cpu_period", "CPU period of the container.", Kind::Gauge),
    ("container_spec_cpu_shares", "CPU share of the container.", Kind::Gauge),
    ("container_memory_usage_bytes", "Current memory usage in bytes, including all memory regardless of when it was accessed", Kind::Gauge),
    ("container_memory_working_set_bytes", "Current working set in bytes.", Kind::Gauge),
    ("container_memory_rss", "Size of RSS in bytes.", Kind::Gauge),
    ("container_memory_cache", "Number of bytes of page cache memory.", Kind::Gauge),
    ("container_memory_swap", "Container swap usage in bytes.", Kind::Gauge),
    ("container_memory_max_usage_bytes", "Maximum memory usage recorded in bytes", Kind::Gauge),
    ("container_memory_failcnt", "Number of memory usage hits limits", Kind::Counter),
    ("container_spec_memory_limit_bytes", "Memory limit for the container.", Kind::Gauge),
    ("container_oom_events_total", "Count of out of memory events observed for the container", Kind::Counter),
    ("container_pressure_cpu_waiting_seconds_total", "Total time duration tasks in the container have waited due to CPU congestion.", Kind::Counter),
    ("container_pressure_cpu_stalled_seconds_total", "Total time duration no tasks in the container could make progress due to CPU congestion.", Kind::Counter),
    ("container_pressure_memory_waiting_seconds_total", "Total time duration tasks in the container have waited due to memory congestion.", Kind::Counter),
    ("container_pressure_memory_stalled_seconds_total", "Total time duration no tasks in the container could make progress due to memory congestion.", Kind::Counter),
    ("container_pressure_io_waiting_seconds_total", "Total time duration tasks in the container have waited due to IO congestion.", Kind::Counter),
    ("container_pressure_io_stalled_seconds_total", "Total time duration no tasks in the container could make progress due to IO congestion.", Kind::Counter),
    ("container_fs_reads_bytes_total", "Cumulative count of bytes read", Kind::Counter),
    ("container_fs_writes_bytes_total", "Cumulative count of bytes written", Kind::Counter),
];

impl Families {
    fn new() -> Self {
        Self(BTreeMap::new())
    }

    fn push(&mut self, name: &'static str, id: &str, value: Option<f64>) {
        self.push_with(name, vec![("id", id.to_string())], value);
    }

    fn push_with(
        &mut self,
        name: &'static str,
        labels: Vec<(&'static str, String)>,
        value: Option<f64>,
    ) {
        let Some(value) = value else { return };
        let family = self.0.entry(name).or_insert_with(|| {
            let (help, kind) = HELP
                .iter()
                .find(|(n, _, _)| *n == name)
                .map_or(("", Kind::Gauge), |(_, h, k)| (*h, *k));
            Family::new(name, help, kind)
        });
        family.push(labels, value);
    }

    fn into_vec(self) -> Vec<Family> {
        self.0.into_values().collect()
    }

    fn cgroup(
        &mut self,
        id: &str,
        dirs: &Dirs,
        sys: &Path,
        devices: &mut BTreeMap<String, String>,
    ) {
        self.cpu(id, dirs);
        self.memory(id, dirs);
        if let Some(v2) = &dirs.unified {
            for resource in ["cpu", "memory", "io"] {
                let text = std::fs::read_to_string(v2.join(format!("{resource}.pressure")));
                let Ok(text) = text else { continue };
                for (line, name) in [
                    ("some", "container_pressure_waiting_seconds_total"),
                    ("full", "container_pressure_stalled_seconds_total"),
                ] {
                    let total = psi_total(&text, line).map(|us| us / 1e6);
                    let name = match (resource, name) {
                        ("cpu", n) if n.contains("waiting") => {
                            "container_pressure_cpu_waiting_seconds_total"
                        }
                        ("cpu", _) => "container_pressure_cpu_stalled_seconds_total",
                        ("memory", n) if n.contains("waiting") => {
                            "container_pressure_memory_waiting_seconds_total"
                        }
                        ("memory", _) => "container_pressure_memory_stalled_seconds_total",
                        (_, n) if n.contains("waiting") => {
                            "container_pressure_io_waiting_seconds_total"
                        }
                        _ => "container_pressure_io_stalled_seconds_total",
                    };
                    self.push(name, id, total);
                }
            }
        }
        self.io(id, dirs, sys, devices);
    }

    fn cpu(&mut self, id: &str, dirs: &Dirs) {
        let ticks = crate::process::clock_ticks_per_second();
        if let Some(acct) = dirs.cpuacct.as_ref().or(dirs.cpu.as_ref()) {
            let usage = number(&acct.join("cpuacct.usage")).map(|ns| ns / 1e9);
            self.push("container_cpu_usage_seconds_total", id, usage);
            let stat = acct.join("cpuacct.stat");
            self.push(
                "container_cpu_user_seconds_total",
                id,
                keyed(&stat, "user").map(|t| t / ticks),
            );
            self.push(
                "container_cpu_system_seconds_total",
                id,
                keyed(&stat, "system").map(|t| t / ticks),
            );
        }
        if let Some(cpu) = &dirs.cpu {
            let stat = cpu.join("cpu.stat");
            self.push(
                "container_cpu_cfs_periods_total",
                id,
                keyed(&stat, "nr_periods"),
            );
            self.push(
                "container_cpu_cfs_throttled_periods_total",
                id,
                keyed(&stat, "nr_throttled"),
            );
            self.push(
                "container_cpu_cfs_throttled_seconds_total",
                id,
                keyed(&stat, "throttled_time").map(|ns| ns / 1e9),
            );
            let quota = number(&cpu.join("cpu.cfs_quota_us")).filter(|q| *q > 0.0);
            self.push("container_spec_cpu_quota", id, quota);
            self.push(
                "container_spec_cpu_period",
                id,
                number(&cpu.join("cpu.cfs_period_us")),
            );
            self.push(
                "container_spec_cpu_shares",
                id,
                number(&cpu.join("cpu.shares")),
            );
        } else if let Some(v2) = &dirs.unified {
            let stat = v2.join("cpu.stat");
            let seconds = |key| keyed(&stat, key).map(|us| us / 1e6);
            self.push(
                "container_cpu_usage_seconds_total",
                id,
                seconds("usage_usec"),
            );
            self.push("container_cpu_user_seconds_total", id, seconds("user_usec"));
            self.push(
                "container_cpu_system_seconds_total",
                id,
                seconds("system_usec"),
            );
            self.push(
                "container_cpu_cfs_periods_total",
                id,
                keyed(&stat, "nr_periods"),
            );
            self.push(
                "container_cpu_cfs_throttled_periods_total",
                id,
                keyed(&stat, "nr_throttled"),
            );
            self.push(
                "container_cpu_cfs_throttled_seconds_total",
                id,
                seconds("throttled_usec"),
            );
            if let Ok(max) = std::fs::read_to_string(v2.join("cpu.max")) {
                let mut fields = max.split_whitespace();
                let quota = fields.next().and_then(|q| q.parse::<f64>().ok());
                let period = fields.next().and_then(|p| p.parse::<f64>().ok());
                self.push("container_spec_cpu_quota", id, quota);
                self.push("container_spec_cpu_period", id, period);
            }
            // cAdvisor's weight-to-shares conversion (the inverse of runc's).
            let shares = number(&v2.join("cpu.weight"))
                .map(|w| (2.0 + ((w - 1.0) * 262_142.0) / 9_999.0).floor());
            self.push("container_spec_cpu_shares", id, shares);
        }
    }

    fn memory(&mut self, id: &str, dirs: &Dirs) {
        if let Some(memory) = &dirs.memory {
            let usage = number(&memory.join("memory.usage_in_bytes"));
            let stat = memory.join("memory.stat");
            let inactive = keyed(&stat, "total_inactive_file");
            self.push("container_memory_usage_bytes", id, usage);
            self.push(
                "container_memory_working_set_bytes",
                id,
                working_set(usage, inactive),
            );
            self.push("container_memory_rss", id, keyed(&stat, "total_rss"));
            self.push("container_memory_cache", id, keyed(&stat, "total_cache"));
            let memsw = number(&memory.join("memory.memsw.usage_in_bytes"));
            let swap = memsw.zip(usage).map(|(s, u)| (s - u).max(0.0));
            self.push("container_memory_swap", id, swap);
            self.push(
                "container_memory_max_usage_bytes",
                id,
                number(&memory.join("memory.max_usage_in_bytes")),
            );
            self.push(
                "container_memory_failcnt",
                id,
                number(&memory.join("memory.failcnt")),
            );
            let limit = number(&memory.join("memory.limit_in_bytes")).map(|l| {
                if l >= NO_LIMIT {
                    0.0
                } else {
                    l
                }
            });
            self.push("container_spec_memory_limit_bytes", id, limit);
            self.push(
                "container_oom_events_total",
                id,
                keyed(&memory.join("memory.oom_control"), "oom_kill"),
            );
        } else if let Some(v2) = &dirs.unified {
            let root = id == "/";
            let stat = v2.join("memory.stat");
            // The root has no memory.current: its usage is the machine's.
            let usage = number(&v2.join("memory.current"));
            if usage.is_none() && !root {
                return;
            }
            self.push("container_memory_usage_bytes", id, usage);
            self.push(
                "container_memory_working_set_bytes",
                id,
                working_set(usage, keyed(&stat, "inactive_file")),
            );
            self.push("container_memory_rss", id, keyed(&stat, "anon"));
            self.push("container_memory_cache", id, keyed(&stat, "file"));
            self.push(
                "container_memory_swap",
                id,
                number(&v2.join("memory.swap.current")),
            );
            self.push(
                "container_memory_max_usage_bytes",
                id,
                number(&v2.join("memory.peak")),
            );
            let limit = match std::fs::read_to_string(v2.join("memory.max")) {
                Ok(text) if text.trim() == "max" => Some(0.0),
                Ok(text) => text.trim().parse().ok(),
                Err(_) => None,
            };
            self.push("container_spec_memory_limit_bytes", id, limit);
            self.push(
                "container_oom_events_total",
                id,
                keyed(&v2.join("memory.events"), "oom_kill"),
            );
        }
    }

    fn io(&mut self, id: &str, dirs: &Dirs, sys: &Path, devices: &mut BTreeMap<String, String>) {
        let mut bytes: BTreeMap<String, (f64, f64)> = BTreeMap::new();
        if let Some(blkio) = &dirs.blkio {
            let text = std::fs::read_to_string(blkio.join("blkio.throttle.io_service_bytes"))
                .unwrap_or_default();
            for line in text.lines() {
                let mut f = line.split_whitespace();
                let (Some(dev), Some(op), Some(value)) = (f.next(), f.next(), f.next()) else {
                    continue;
                };
                let Ok(value) = value.parse::<f64>() else {
                    continue;
                };
                let entry = bytes.entry(dev.to_string()).or_default();
                match op {
                    "Read" => entry.0 += value,
                    "Write" => entry.1 += value,
                    _ => {}
                }
            }
        } else if let Some(v2) = &dirs.unified {
            let text = std::fs::read_to_string(v2.join("io.stat")).unwrap_or_default();
            for line in text.lines() {
                let mut f = line.split_whitespace();
                let Some(dev) = f.next() else { continue };
                let entry = bytes.entry(dev.to_string()).or_default();
                for field in f {
                    let Some((key, value)) = field.split_once('=') else {
                        continue;
                    };
                    let Ok(value) = value.parse::<f64>() else {
                        continue;
                    };
                    match key {
                        "rbytes" => entry.0 += value,
                        "wbytes" => entry.1 += value,
                        _ => {}
                    }
                }
            }
        }
        for (dev, (read, write)) in bytes {
            let device = devices
                .entry(dev.clone())
                .or_insert_with(|| device_name(sys, &dev))
                .clone();
            let labels = || vec![("device", device.clone()), ("id", id.to_string())];
            self.push_with("container_fs_reads_bytes_total", labels(), Some(read));
            self.push_with("container_fs_writes_bytes_total", labels(), Some(write));
        }
    }
}

fn working_set(usage: Option<f64>, inactive_file: Option<f64>) -> Option<f64> {
    usage.map(|u| (u - inactive_file.unwrap_or(0.0)).max(0.0))
}

/// `/dev/NAME` of block device `MAJ:MIN`, from sysfs's uevent; the number when unknown.
fn device_name(sys: &Path, dev: &str) -> String {
    std::fs::read_to_string(sys.join("dev/block").join(dev).join("uevent"))
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("DEVNAME="))
                .map(|name| format!("/dev/{name}"))
        })
        .unwrap_or_else(|| dev.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake v1 machine: cpu,cpuacct co-mounted and memory, one child cgroup.
    #[test]
    fn v1_fixture_reads_as_cadvisor_names_it() {
        let root = std::env::temp_dir().join(format!("whyslow-cg-{}", std::process::id()));
        let cpu = root.join("sys/fs/cgroup/cpu,cpuacct");
        let mem = root.join("sys/fs/cgroup/memory");
        let child_cpu = cpu.join("app.slice");
        let child_mem = mem.join("app.slice");
        for dir in [&child_cpu, &child_mem, &root.join("proc/self")] {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        let write = |p: PathBuf, s: &str| std::fs::write(p, s).expect("write");
        write(
            root.join("proc/self/mountinfo"),
            &format!(
                "32 31 0:29 / {} rw - cgroup cgroup rw,cpu,cpuacct\n35 31 0:32 / {} rw - cgroup cgroup rw,memory\n",
                cpu.display(),
                mem.display()
            ),
        );
        write(child_cpu.join("cpuacct.usage"), "2500000000\n");
        write(child_cpu.join("cpuacct.stat"), "user 150\nsystem 50\n");
        write(
            child_cpu.join("cpu.stat"),
            "nr_periods 10\nnr_throttled 4\nthrottled_time 300000000\n",
        );
        write(child_cpu.join("cpu.cfs_quota_us"), "20000\n");
        write(child_cpu.join("cpu.cfs_period_us"), "100000\n");
        write(child_cpu.join("cpu.shares"), "1024\n");
        write(cpu.join("cpu.cfs_quota_us"), "-1\n");
        write(child_mem.join("memory.usage_in_bytes"), "1000000\n");
        write(
            child_mem.join("memory.stat"),
            "total_rss 600000\ntotal_cache 400000\ntotal_inactive_file 100000\n",
        );
        write(child_mem.join("memory.limit_in_bytes"), "268435456\n");
        write(mem.join("memory.limit_in_bytes"), "9223372036854771712\n");
        write(
            child_mem.join("memory.oom_control"),
            "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
        );
        let paths = Paths {
            proc: root.join("proc"),
            sys: root.join("sys"),
            udev_data: root.join("udev"),
        };
        let mut out = Vec::new();
        collect(&paths, &mut out);
        let get = |name: &str, id: &str| {
            out.iter()
                .find(|f| f.name == name)
                .and_then(|f| {
                    f.samples
                        .iter()
                        .find(|s| s.labels == vec![("id", id.to_string())])
                })
                .map(|s| s.value)
        };
        assert_eq!(
            get("container_cpu_usage_seconds_total", "/app.slice"),
            Some(2.5)
        );
        assert_eq!(
            get("container_cpu_user_seconds_total", "/app.slice"),
            Some(1.5)
        );
        assert_eq!(
            get("container_cpu_cfs_throttled_periods_total", "/app.slice"),
            Some(4.0)
        );
        assert_eq!(
            get("container_cpu_cfs_throttled_seconds_total", "/app.slice"),
            Some(0.3)
        );
        assert_eq!(get("container_spec_cpu_quota", "/app.slice"), Some(20000.0));
        assert_eq!(get("container_spec_cpu_quota", "/"), None);
        assert_eq!(
            get("container_memory_working_set_bytes", "/app.slice"),
            Some(900000.0)
        );
        assert_eq!(get("container_memory_rss", "/app.slice"), Some(600000.0));
        assert_eq!(
            get("container_spec_memory_limit_bytes", "/app.slice"),
            Some(268435456.0)
        );
        assert_eq!(get("container_spec_memory_limit_bytes", "/"), Some(0.0));
        assert_eq!(get("container_oom_events_total", "/app.slice"), Some(2.0));
        assert_eq!(get("container_scrape_error", ""), None);
        let error = out
            .iter()
            .find(|f| f.name == "container_scrape_error")
            .expect("error family");
        assert_eq!(error.samples[0].value, 0.0);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn walk_stops_at_the_limit_shallowest_first() {
        let root = std::env::temp_dir().join(format!("whyslow-cgw-{}", std::process::id()));
        for d in ["a/x/deep", "b", "c"] {
            std::fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        let mount = Mount {
            point: root.clone(),
            root: "/".into(),
        };
        let (all, cut) = walk(&mount, 100);
        let ids: Vec<_> = all.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["/", "/a", "/b", "/c", "/a/x", "/a/x/deep"]);
        assert!(!cut);
        let (some, cut) = walk(&mount, 3);
        assert_eq!(some.len(), 3);
        assert!(cut);
        let _ = std::fs::remove_dir_all(&root);
    }
}
