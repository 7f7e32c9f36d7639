//! Reading the cgroup this process runs in (so the shell's, for `whyslow
//! use`), v2 and v1: CPU quota, usage and throttling, memory limit and
//! usage, OOM kills, and the cgroup's PSI (v2). `cgroup_rows.rs` grades them.
//!
//! The files are read with `cgroupfs`'s helpers. The controller directories are found from /proc/self/cgroup and
//! /proc/self/mountinfo (a v1 controller mounted at /sys/fs/cgroup/cpu with
//! root `/` and cgroup path `/a` lives in /sys/fs/cgroup/cpu/a), so hybrid
//! layouts (v1 controllers beside a v2 `unified` mount) and containers (mount
//! root not `/`) both resolve.

use crate::cgroupfs::{keyed, number, psi, unescape, NO_LIMIT};
use crate::Paths;
use std::path::{Path, PathBuf};

/// One reading of this process's cgroup. `None` fields: the file is missing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CgroupSample {
    /// `v1` or `v2` (v1 when the memory or cpu controller is on a v1 hierarchy).
    pub version: Option<&'static str>,
    /// The cgroup path of the cpu controller (v2: the only path).
    pub cpu_path: Option<String>,
    /// The cgroup path of the memory controller.
    pub memory_path: Option<String>,
    /// Why the cgroup could not be found (no /proc/self/cgroup, no mount).
    pub unavailable: Option<String>,
    /// CPU time used, microseconds.
    pub cpu_usage_us: Option<f64>,
    /// CPUs the quota allows (`Some(None)`: no quota).
    pub cpu_quota: Option<Option<f64>>,
    pub nr_periods: Option<f64>,
    pub nr_throttled: Option<f64>,
    pub throttled_us: Option<f64>,
    pub memory_usage: Option<f64>,
    /// Bytes (`Some(None)`: no limit).
    pub memory_limit: Option<Option<f64>>,
    pub oom_kills: Option<f64>,
    /// memory.events `high` + `max` (v2): times reclaim was forced at a limit.
    pub memory_limit_hits: Option<f64>,
    /// PSI `total=` microseconds: cpu some, memory some, memory full.
    pub psi_cpu_some_us: Option<f64>,
    pub psi_memory_some_us: Option<f64>,
    pub psi_memory_full_us: Option<f64>,
}

impl CgroupSample {
    /// Reads the cgroup of the process reading (`<proc>/self`).
    pub fn read(paths: &Paths) -> Self {
        let mut out = Self::default();
        let membership = std::fs::read_to_string(paths.proc.join("self/cgroup"));
        let mounts = std::fs::read_to_string(paths.proc.join("self/mountinfo"));
        let (membership, mounts) = match (membership, mounts) {
            (Ok(m), Ok(i)) => (m, i),
            (Err(e), _) | (_, Err(e)) => {
                out.unavailable = Some(format!(
                    "cannot read {}/self/cgroup and mountinfo: {e}",
                    paths.proc.display()
                ));
                return out;
            }
        };
        let cpu = locate(&membership, &mounts, "cpu");
        let memory = locate(&membership, &mounts, "memory");
        let v2 = locate(&membership, &mounts, "");
        if cpu.is_none() && memory.is_none() && v2.is_none() {
            out.unavailable = Some("no cgroup mount for this process's cgroup".into());
            return out;
        }
        let v1 = cpu.as_ref().is_some_and(|c| !c.v2) || memory.as_ref().is_some_and(|m| !m.v2);
        out.version = Some(if v1 { "v1" } else { "v2" });
        if let Some(cpu) = cpu.as_ref().or(v2.as_ref()) {
            out.cpu_path = Some(cpu.cgroup.clone());
            read_cpu(&cpu.dir, cpu.v2, &membership, &mounts, &mut out);
        }
        if let Some(memory) = memory.as_ref().or(v2.as_ref()) {
            out.memory_path = Some(memory.cgroup.clone());
            read_memory(&memory.dir, memory.v2, &mut out);
        }
        // The root cgroup's pressure is the system's, already in the cpu and memory rows.
        if let Some(v2) = v2.as_ref().filter(|v2| v2.cgroup != "/") {
            out.psi_cpu_some_us = psi(&v2.dir.join("cpu.pressure"), "some");
            out.psi_memory_some_us = psi(&v2.dir.join("memory.pressure"), "some");
            out.psi_memory_full_us = psi(&v2.dir.join("memory.pressure"), "full");
        }
        out
    }
}

/// A controller's directory.
struct Located {
    dir: PathBuf,
    cgroup: String,
    v2: bool,
}

/// Finds the directory of `controller` ("" = the v2 hierarchy).
fn locate(membership: &str, mounts: &str, controller: &str) -> Option<Located> {
    for line in membership.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let v2 = id == "0" && controllers.is_empty();
        let matches = if controller.is_empty() {
            v2
        } else {
            controllers.split(',').any(|c| c == controller)
        };
        if !matches {
            continue;
        }
        for mount in mounts.lines() {
            let Some((left, right)) = mount.split_once(" - ") else {
                continue;
            };
            let left: Vec<&str> = left.split(' ').collect();
            let right: Vec<&str> = right.split(' ').collect();
            let (Some(root), Some(point), Some(fstype), Some(options)) =
                (left.get(3), left.get(4), right.first(), right.get(2))
            else {
                continue;
            };
            let fits = if v2 {
                *fstype == "cgroup2"
            } else {
                *fstype == "cgroup" && options.split(',').any(|o| o == controller)
            };
            if !fits {
                continue;
            }
            let relative = path
                .strip_prefix(root)
                .unwrap_or(path)
                .trim_start_matches('/');
            return Some(Located {
                dir: Path::new(&unescape(point)).join(relative),
                cgroup: path.to_string(),
                v2,
            });
        }
    }
    // A controller on the v2 hierarchy (pure v2 machine).
    if !controller.is_empty() {
        let v2 = locate(membership, mounts, "")?;
        let enabled = std::fs::read_to_string(v2.dir.join("cgroup.controllers")).ok();
        let root = v2.cgroup == "/";
        if root || enabled.is_some_and(|c| c.split_whitespace().any(|c| c == controller)) {
            return Some(v2);
        }
    }
    None
}

fn read_cpu(dir: &Path, v2: bool, membership: &str, mounts: &str, out: &mut CgroupSample) {
    if v2 {
        let stat = dir.join("cpu.stat");
        out.cpu_usage_us = keyed(&stat, "usage_usec");
        out.nr_periods = keyed(&stat, "nr_periods");
        out.nr_throttled = keyed(&stat, "nr_throttled");
        out.throttled_us = keyed(&stat, "throttled_usec");
        out.cpu_quota = match std::fs::read_to_string(dir.join("cpu.max")) {
            Ok(text) => {
                let mut f = text.split_whitespace();
                match (f.next(), f.next().and_then(|p| p.parse::<f64>().ok())) {
                    (Some("max"), _) => Some(None),
                    (Some(q), Some(p)) if p > 0.0 => q.parse::<f64>().ok().map(|q| Some(q / p)),
                    _ => None,
                }
            }
            // The root cgroup has no cpu.max: no quota.
            Err(_) if dir.join("cpu.stat").exists() => Some(None),
            Err(_) => None,
        };
    } else {
        let stat = dir.join("cpu.stat");
        out.nr_periods = keyed(&stat, "nr_periods");
        out.nr_throttled = keyed(&stat, "nr_throttled");
        out.throttled_us = keyed(&stat, "throttled_time").map(|ns| ns / 1000.0);
        let quota = number(&dir.join("cpu.cfs_quota_us"));
        let period = number(&dir.join("cpu.cfs_period_us"));
        out.cpu_quota = match (quota, period) {
            (Some(q), _) if q < 0.0 => Some(None),
            (Some(q), Some(p)) if p > 0.0 => Some(Some(q / p)),
            _ => None,
        };
        // Usage is the cpuacct controller's, often co-mounted with cpu.
        let usage = dir.join("cpuacct.usage");
        out.cpu_usage_us = number(&usage).map(|ns| ns / 1000.0).or_else(|| {
            let acct = locate(membership, mounts, "cpuacct")?;
            number(&acct.dir.join("cpuacct.usage")).map(|ns| ns / 1000.0)
        });
    }
}

fn read_memory(dir: &Path, v2: bool, out: &mut CgroupSample) {
    if v2 {
        out.memory_usage = number(&dir.join("memory.current"));
        out.memory_limit = match std::fs::read_to_string(dir.join("memory.max")) {
            Ok(text) if text.trim() == "max" => Some(None),
            Ok(text) => text.trim().parse().ok().map(Some),
            Err(_) if out.memory_usage.is_some() => Some(None),
            Err(_) => None,
        };
        let events = dir.join("memory.events");
        out.oom_kills = keyed(&events, "oom_kill");
        out.memory_limit_hits = match (keyed(&events, "high"), keyed(&events, "max")) {
            (Some(h), Some(m)) => Some(h + m),
            _ => None,
        };
    } else {
        out.memory_usage = number(&dir.join("memory.usage_in_bytes"));
        out.memory_limit =
            number(&dir.join("memory.limit_in_bytes")).map(|l| (l < NO_LIMIT).then_some(l));
        out.oom_kills = keyed(&dir.join("memory.oom_control"), "oom_kill");
    }
}
