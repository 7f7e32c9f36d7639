//! The one-line-per-resource USE summary at the top of `whyslow top`: CPU,
//! memory, disk and network, each with a status (ok / warn / saturated).
//!
//! It grades with the same thresholds as `whyslow use`
//! (`host::usecheck::thresholds`, whose module doc gives the sources), on
//! the numbers `top` samples each second: so `top` and `use` agree on what
//! is saturated. [`summarize`] is the only place that judges.
//!
//! | resource | warn | saturated |
//! |---|---|---|
//! | CPU | util > 90 %, load > 1× CPUs or PSI cpu some > 10 % | PSI cpu some > 25 % or load > 2× CPUs |
//! | memory | used > 90 %, PSI memory some > 10 % or full > 1 % | PSI memory full > 5 % |
//! | disk (busiest) | util > 70 %, aqu-sz > 1 or PSI io some > 20 % | aqu-sz > 2 |
//! | network | any drops or errors | — (link speed is not sampled) |
//!
//! Disk utilisation alone never saturates: a parallel device (NVMe, RAID) is
//! 100 % busy long before it is full, so the queue size and PSI io decide.
//! `top` uses the 1-minute load for the run queue (`use` samples it).

use super::format::{bytes, percent};
use super::rates::HostRates;
use host::usecheck::thresholds as t;

/// How a resource is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Ok,
    Warn,
    Saturated,
    /// The sources this resource needs are missing on this machine.
    Unavailable,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Saturated => "saturated",
            Status::Unavailable => "n/a",
        }
    }
}

/// One summary line: the resource, what was measured, and the verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryCell {
    pub resource: &'static str,
    pub text: String,
    pub status: Status,
}

/// The four summary lines for one interval.
pub fn summarize(r: &HostRates) -> Vec<SummaryCell> {
    vec![cpu(r), memory(r), disk(r), network(r)]
}

fn psi_text(name: &str, share: Option<f64>) -> String {
    match share {
        Some(s) => format!("PSI {name} {}", percent(s)),
        None => format!("PSI {name} n/a"),
    }
}

fn cpu(r: &HostRates) -> SummaryCell {
    if r.cpus.is_empty() {
        return unavailable("CPU", "no /proc/stat cpu lines");
    }
    let psi = r.psi_cpu_some;
    let per_cpu = r.load.map_or(0.0, |[l1, ..]| l1 / r.cpus.len() as f64);
    let status = if psi.is_some_and(|p| p > t::PSI_CPU_SOME_SATURATED)
        || per_cpu > t::RUN_QUEUE_PER_CPU_SATURATED
    {
        Status::Saturated
    } else if r.cpu_total > t::CPU_BUSY_WARN
        || per_cpu > t::RUN_QUEUE_PER_CPU_WARN
        || psi.is_some_and(|p| p > t::PSI_CPU_SOME_WARN)
    {
        Status::Warn
    } else {
        Status::Ok
    };
    let busiest = r.cpus.iter().copied().fold(0.0, f64::max);
    let mut text = format!(
        "util {} (max {})  {}",
        percent(r.cpu_total),
        percent(busiest),
        psi_text("some", psi)
    );
    if let Some([l1, ..]) = r.load {
        text.push_str(&format!("  load {l1:.2}/{}", r.cpus.len()));
    }
    SummaryCell {
        resource: "CPU",
        text,
        status,
    }
}

fn memory(r: &HostRates) -> SummaryCell {
    let (Some(total), Some(available)) = (r.mem_total, r.mem_available) else {
        return unavailable("MEM", "no MemTotal/MemAvailable in /proc/meminfo");
    };
    let used = if total > 0.0 {
        ((total - available) / total).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (some, full) = (r.psi_memory_some, r.psi_memory_full);
    let status = if full.is_some_and(|p| p > t::PSI_MEMORY_FULL_SATURATED) {
        Status::Saturated
    } else if used > t::MEMORY_USED_WARN
        || some.is_some_and(|p| p > t::PSI_MEMORY_SOME_WARN)
        || full.is_some_and(|p| p > t::PSI_MEMORY_FULL_WARN)
    {
        Status::Warn
    } else {
        Status::Ok
    };
    let mut text = format!(
        "used {} of {}  avail {}",
        percent(used),
        bytes(total),
        bytes(available)
    );
    if let Some(swap) = r.swap_used.filter(|s| *s > 0.0) {
        text.push_str(&format!("  swap {}", bytes(swap)));
    }
    text.push_str(&format!("  {}", psi_text("some", some)));
    if let Some(full) = full {
        text.push_str(&format!(" full {}", percent(full)));
    }
    SummaryCell {
        resource: "MEM",
        text,
        status,
    }
}

fn disk(r: &HostRates) -> SummaryCell {
    let busiest = r.disks.iter().max_by(|a, b| {
        (a.queue, a.util)
            .partial_cmp(&(b.queue, b.util))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let psi = r.psi_io_some;
    let Some(d) = busiest else {
        return SummaryCell {
            resource: "DISK",
            text: format!("no block devices  {}", psi_text("io", psi)),
            status: Status::Unavailable,
        };
    };
    let status = if d.queue > t::DISK_QUEUE_SATURATED {
        Status::Saturated
    } else if d.util > t::DISK_BUSY_WARN
        || d.queue > t::DISK_QUEUE_WARN
        || psi.is_some_and(|p| p > t::PSI_IO_SOME_WARN)
    {
        Status::Warn
    } else {
        Status::Ok
    };
    let read: f64 = r.disks.iter().map(|d| d.read_bps).sum();
    let written: f64 = r.disks.iter().map(|d| d.write_bps).sum();
    SummaryCell {
        resource: "DISK",
        text: format!(
            "{} util {} aqu {:.2}  r {}/s w {}/s  {}",
            d.device,
            percent(d.util),
            d.queue,
            bytes(read),
            bytes(written),
            psi_text("io", psi)
        ),
        status,
    }
}

fn network(r: &HostRates) -> SummaryCell {
    if r.nets.is_empty() {
        return unavailable("NET", "no interfaces besides lo");
    }
    let rx: f64 = r.nets.iter().map(|n| n.rx_bps).sum();
    let tx: f64 = r.nets.iter().map(|n| n.tx_bps).sum();
    let trouble: f64 = r.nets.iter().map(|n| n.trouble_per_s).sum();
    let busiest = r
        .nets
        .iter()
        .max_by(|a, b| {
            (a.rx_bps + a.tx_bps)
                .partial_cmp(&(b.rx_bps + b.tx_bps))
                .unwrap_or(std::cmp::Ordering::Equal)
        })
        .map_or("", |n| n.device.as_str());
    SummaryCell {
        resource: "NET",
        text: format!(
            "rx {}/s tx {}/s (busiest {busiest})  drops+errs {trouble:.0}/s",
            bytes(rx),
            bytes(tx)
        ),
        status: if trouble > 0.0 {
            Status::Warn
        } else {
            Status::Ok
        },
    }
}

fn unavailable(resource: &'static str, why: &str) -> SummaryCell {
    SummaryCell {
        resource,
        text: format!("unavailable: {why}"),
        status: Status::Unavailable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::top::rates::DiskRates;

    fn rates() -> HostRates {
        HostRates {
            cpus: vec![0.1, 0.2],
            cpu_total: 0.15,
            psi_cpu_some: Some(0.0),
            mem_total: Some(8e9),
            mem_available: Some(6e9),
            ..HostRates::default()
        }
    }

    #[test]
    fn cpu_pressure_saturates_and_utilisation_warns() {
        let mut r = rates();
        assert_eq!(cpu(&r).status, Status::Ok);
        r.cpu_total = 0.95;
        assert_eq!(cpu(&r).status, Status::Warn);
        r.psi_cpu_some = Some(0.3);
        assert_eq!(cpu(&r).status, Status::Saturated);
        r.psi_cpu_some = None;
        assert_eq!(cpu(&r).status, Status::Warn);
        assert!(cpu(&r).text.contains("PSI some n/a"));
        // A run queue (1-minute load) over twice the CPUs saturates too.
        r.cpu_total = 0.5;
        r.load = Some([4.5, 1.0, 1.0]);
        assert_eq!(cpu(&r).status, Status::Saturated);
    }

    #[test]
    fn disk_queue_not_utilisation_saturates_and_missing_sources_say_so() {
        let mut r = rates();
        r.disks = vec![DiskRates {
            device: "nvme0n1".into(),
            util: 1.0,
            queue: 0.5,
            read_bps: 0.0,
            write_bps: 0.0,
        }];
        assert_eq!(disk(&r).status, Status::Warn);
        r.disks[0].queue = 6.0;
        assert_eq!(disk(&r).status, Status::Saturated);
        assert!(disk(&r).text.starts_with("nvme0n1 util 100%"));
        assert_eq!(network(&r).status, Status::Unavailable);
        r.mem_total = None;
        assert_eq!(memory(&r).status, Status::Unavailable);
    }
}
