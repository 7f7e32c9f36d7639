//! The cpu collector: `node_cpu_seconds_total{cpu,mode}` and
//! `node_cpu_guest_seconds_total{cpu,mode}` from the `cpuN` lines of
//! /proc/stat, in seconds (USER_HZ ticks / 100, as node_exporter divides);
//! `node_cpu_isolated{cpu}` for the CPUs /sys/devices/system/cpu/isolated
//! lists, and the thermal-throttle counters `node_cpu_core_throttles_total
//! {package,core}` / `node_cpu_package_throttles_total{package}` from
//! /sys/devices/system/cpu/cpuN/thermal_throttle where the machine has them
//! (Intel bare metal; not VMs).
//!
//! Parsed by hand: `procfs-core`'s `KernelStats` keeps per-CPU times in a
//! vector without the CPU number, which is wrong as soon as a CPU is offline
//! (its line is missing), and it does not read the `intr` line the stat
//! collector needs from the same file.

use crate::read::{number, parse_error, read};
use crate::{CollectError, Family, Kind, Paths};

/// The modes of a `cpuN` line, in column order.
const MODES: [&str; 8] = [
    "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
];

/// USER_HZ: /proc/stat counts in 1/100 s on every Linux architecture.
const USER_HZ: f64 = 100.0;

pub(crate) fn collect(paths: &Paths, out: &mut Vec<Family>) -> Result<(), CollectError> {
    let path = paths.proc.join("stat");
    let text = read(&path)?;
    let mut seconds = Family::new(
        "node_cpu_seconds_total",
        "Seconds the CPUs spent in each mode.",
        Kind::Counter,
    );
    let mut guest = Family::new(
        "node_cpu_guest_seconds_total",
        "Seconds the CPUs spent in guests (VMs) for each mode.",
        Kind::Counter,
    );
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let Some(cpu) = fields.next().and_then(|f| f.strip_prefix("cpu")) else {
            continue;
        };
        if cpu.is_empty() {
            continue; // the all-CPU total line
        }
        if cpu.parse::<u32>().is_err() {
            return Err(parse_error(&path, format!("cpu line {line:?}")));
        }
        let values = fields
            .map(|v| number(&path, "cpu time", v).map(|t| t / USER_HZ))
            .collect::<Result<Vec<f64>, _>>()?;
        if values.len() < 4 {
            return Err(parse_error(&path, format!("short cpu line {line:?}")));
        }
        for (mode, value) in MODES.iter().zip(&values) {
            seconds.push(
                vec![("cpu", cpu.to_string()), ("mode", mode.to_string())],
                *value,
            );
        }
        for (mode, value) in ["user", "nice"].iter().zip(values.iter().skip(8)) {
            guest.push(
                vec![("cpu", cpu.to_string()), ("mode", mode.to_string())],
                *value,
            );
        }
    }
    out.push(seconds);
    out.push(guest);
    isolated(paths, out);
    throttles(paths, out);
    Ok(())
}

/// `node_cpu_isolated`: one sample per CPU in the isolated list (`1,3-5`).
fn isolated(paths: &Paths, out: &mut Vec<Family>) {
    let file = paths.sys.join("devices/system/cpu/isolated");
    let Ok(text) = std::fs::read_to_string(file) else {
        return;
    };
    let mut family = Family::new(
        "node_cpu_isolated",
        "Whether each core is isolated, information from /sys/devices/system/cpu/isolated.",
        Kind::Gauge,
    );
    for range in text.trim().split(',').filter(|r| !r.is_empty()) {
        let (first, last) = range.split_once('-').unwrap_or((range, range));
        let (Ok(first), Ok(last)) = (first.parse::<u32>(), last.parse::<u32>()) else {
            continue;
        };
        for cpu in first..=last.min(first.saturating_add(4096)) {
            family.push(vec![("cpu", cpu.to_string())], 1.0);
        }
    }
    out.push(family);
}

/// Thermal-throttle counters, once per core and once per package.
fn throttles(paths: &Paths, out: &mut Vec<Family>) {
    let dir = paths.sys.join("devices/system/cpu");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut cpus: Vec<u32> = entries
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_prefix("cpu")?
                .parse()
                .ok()
        })
        .collect();
    cpus.sort_unstable();
    let number = |path: std::path::PathBuf| -> Option<u64> {
        std::fs::read_to_string(path).ok()?.trim().parse().ok()
    };
    let mut cores = Family::new(
        "node_cpu_core_throttles_total",
        "Number of times this CPU core has been throttled.",
        Kind::Counter,
    );
    let mut packages = Family::new(
        "node_cpu_package_throttles_total",
        "Number of times this CPU package has been throttled.",
        Kind::Counter,
    );
    let mut seen_cores = std::collections::HashSet::new();
    let mut seen_packages = std::collections::HashSet::new();
    for cpu in cpus {
        let base = dir.join(format!("cpu{cpu}"));
        let (Some(package), Some(core)) = (
            number(base.join("topology/physical_package_id")),
            number(base.join("topology/core_id")),
        ) else {
            continue;
        };
        if seen_cores.insert((package, core)) {
            if let Some(count) = number(base.join("thermal_throttle/core_throttle_count")) {
                cores.push(
                    vec![("package", package.to_string()), ("core", core.to_string())],
                    count as f64,
                );
            }
        }
        if seen_packages.insert(package) {
            if let Some(count) = number(base.join("thermal_throttle/package_throttle_count")) {
                packages.push(vec![("package", package.to_string())], count as f64);
            }
        }
    }
    out.push(cores);
    out.push(packages);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isolated_ranges_and_throttles_once_per_core_and_package() {
        let root = std::env::temp_dir().join(format!("host-cpu-{}", std::process::id()));
        let cpu = root.join("devices/system/cpu");
        let write = |rel: &str, text: &str| {
            let path = cpu.join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
            std::fs::write(path, text).expect("fixture");
        };
        write("isolated", "1,3-4\n");
        for n in [0, 1] {
            // Two hyperthreads of core 0 in package 0.
            write(&format!("cpu{n}/topology/physical_package_id"), "0\n");
            write(&format!("cpu{n}/topology/core_id"), "0\n");
            write(
                &format!("cpu{n}/thermal_throttle/core_throttle_count"),
                "5\n",
            );
            write(
                &format!("cpu{n}/thermal_throttle/package_throttle_count"),
                "7\n",
            );
        }
        let paths = Paths {
            sys: root.clone(),
            ..Paths::default()
        };
        let mut out = Vec::new();
        isolated(&paths, &mut out);
        throttles(&paths, &mut out);
        let cpus: Vec<&str> = out[0]
            .samples
            .iter()
            .map(|s| s.labels[0].1.as_str())
            .collect();
        assert_eq!(cpus, ["1", "3", "4"]);
        assert_eq!(out[1].samples.len(), 1);
        assert_eq!(out[1].samples[0].value, 5.0);
        assert_eq!(out[2].samples.len(), 1);
        assert_eq!(out[2].samples[0].value, 7.0);
        let _ = std::fs::remove_dir_all(root);
    }
}
