//! Two [`HostCounters`] a known time apart turned into the rates `whyslow top`
//! shows: per-CPU utilisation (1 - idle, iowait, steal, as node-mixin's
//! `instance:node_cpu_utilisation:rate5m`), PSI shares, disk utilisation and
//! average queue size (iostat's %util and aqu-sz), network bytes/s.

use super::counters::HostCounters;

/// Host-wide rates over one interval: what the summary lines and CPU bars show.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostRates {
    /// Utilisation of each CPU, 0..=1, in CPU order.
    pub cpus: Vec<f64>,
    /// Utilisation of all CPUs together, 0..=1.
    pub cpu_total: f64,
    /// PSI shares of the interval, 0..=1 (`None`: no PSI on this kernel).
    pub psi_cpu_some: Option<f64>,
    pub psi_memory_some: Option<f64>,
    pub psi_memory_full: Option<f64>,
    pub psi_io_some: Option<f64>,
    pub mem_total: Option<f64>,
    pub mem_available: Option<f64>,
    pub swap_used: Option<f64>,
    /// Per disk: name, utilisation 0..=1, average queue size, read and written bytes/s.
    pub disks: Vec<DiskRates>,
    /// Per interface: name, rx and tx bytes/s, drops + errors per second.
    pub nets: Vec<NetRates>,
    pub load: Option<[f64; 3]>,
    /// Seconds since boot at the later snapshot.
    pub uptime: Option<f64>,
}

/// One disk over one interval.
#[derive(Debug, Clone, PartialEq)]
pub struct DiskRates {
    pub device: String,
    pub util: f64,
    pub queue: f64,
    pub read_bps: f64,
    pub write_bps: f64,
}

/// One network interface over one interval.
#[derive(Debug, Clone, PartialEq)]
pub struct NetRates {
    pub device: String,
    pub rx_bps: f64,
    pub tx_bps: f64,
    pub trouble_per_s: f64,
}

impl HostRates {
    /// Rates between two collections `secs` apart; `now_unix` dates the uptime.
    pub fn between(before: &HostCounters, after: &HostCounters, secs: f64, now_unix: f64) -> Self {
        let secs = secs.max(1e-3);
        let rate = |b: Option<f64>, a: Option<f64>| Some(((a? - b?) / secs).max(0.0));
        let mut cpus = Vec::with_capacity(after.cpus.len());
        let (mut busy_all, mut total_all) = (0.0, 0.0);
        for &(cpu, busy, total) in &after.cpus {
            let (db, dt) = match before.cpus.iter().find(|c| c.0 == cpu) {
                Some(&(_, b, t)) => (busy - b, total - t),
                None => (0.0, 0.0),
            };
            busy_all += db.max(0.0);
            total_all += dt.max(0.0);
            cpus.push(if dt > 0.0 {
                (db / dt).clamp(0.0, 1.0)
            } else {
                0.0
            });
        }
        let disks = after
            .disks
            .iter()
            .filter_map(|(d, t, w, r, wr)| {
                let (_, t0, w0, r0, wr0) = before.disks.iter().find(|x| &x.0 == d)?;
                Some(DiskRates {
                    device: d.clone(),
                    util: ((t - t0) / secs).clamp(0.0, 1.0),
                    queue: ((w - w0) / secs).max(0.0),
                    read_bps: ((r - r0) / secs).max(0.0),
                    write_bps: ((wr - wr0) / secs).max(0.0),
                })
            })
            .collect();
        let nets = after
            .nets
            .iter()
            .filter_map(|(d, rx, tx, bad)| {
                let (_, rx0, tx0, bad0) = before.nets.iter().find(|x| &x.0 == d)?;
                Some(NetRates {
                    device: d.clone(),
                    rx_bps: ((rx - rx0) / secs).max(0.0),
                    tx_bps: ((tx - tx0) / secs).max(0.0),
                    trouble_per_s: ((bad - bad0) / secs).max(0.0),
                })
            })
            .collect();
        Self {
            cpus,
            cpu_total: if total_all > 0.0 {
                (busy_all / total_all).clamp(0.0, 1.0)
            } else {
                0.0
            },
            psi_cpu_some: rate(before.psi_cpu_some, after.psi_cpu_some),
            psi_memory_some: rate(before.psi_memory_some, after.psi_memory_some),
            psi_memory_full: rate(before.psi_memory_full, after.psi_memory_full),
            psi_io_some: rate(before.psi_io_some, after.psi_io_some),
            mem_total: after.mem_total,
            mem_available: after.mem_available,
            swap_used: after
                .swap_total
                .zip(after.swap_free)
                .map(|(t, f)| (t - f).max(0.0)),
            disks,
            nets,
            load: after.load,
            uptime: after.boot_time.map(|b| (now_unix - b).max(0.0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn rates_from_this_machines_proc_have_one_bar_per_cpu_and_see_a_busy_loop() {
        let mut host = host::Host::new(host::Paths::default());
        let before = HostCounters::from_families(&host.collect().families);
        let start = Instant::now();
        let mut spins = 0u64;
        while start.elapsed() < Duration::from_millis(300) {
            spins = std::hint::black_box(spins.wrapping_add(1));
        }
        let after = HostCounters::from_families(&host.collect().families);
        let secs = start.elapsed().as_secs_f64();
        let r = HostRates::between(&before, &after, secs, 1e12);
        let online = std::fs::read_to_string("/proc/stat")
            .expect("/proc/stat")
            .lines()
            .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "))
            .count();
        assert_eq!(r.cpus.len(), online);
        assert!(r.cpus.iter().all(|u| (0.0..=1.0).contains(u)));
        // This thread spun the whole interval: at least one CPU's worth, less slack for ticks.
        assert!(
            r.cpu_total * online as f64 > 0.5,
            "{} of {online}",
            r.cpu_total
        );
        assert!(r.mem_total.is_some_and(|t| t > 0.0) && r.mem_available.is_some());
        assert!(r.load.is_some() && r.uptime.is_some_and(|u| u > 0.0));
    }

    #[test]
    fn counters_that_went_backwards_or_appeared_give_no_negative_rates() {
        let before = HostCounters {
            cpus: vec![(0, 10.0, 20.0)],
            disks: vec![("sda".into(), 5.0, 9.0, 100.0, 100.0)],
            psi_cpu_some: Some(3.0),
            ..HostCounters::default()
        };
        let after = HostCounters {
            cpus: vec![(0, 10.5, 21.0), (1, 1.0, 2.0)],
            disks: vec![
                ("sda".into(), 4.0, 9.5, 50.0, 300.0),
                ("sdb".into(), 1.0, 1.0, 1.0, 1.0),
            ],
            psi_cpu_some: Some(3.25),
            ..HostCounters::default()
        };
        let r = HostRates::between(&before, &after, 1.0, 0.0);
        assert_eq!(r.cpus, [0.5, 0.0]);
        assert_eq!(r.cpu_total, 0.5);
        assert_eq!(r.psi_cpu_some, Some(0.25));
        assert_eq!(r.psi_io_some, None);
        assert_eq!(r.disks.len(), 1, "sdb has no earlier sample");
        let d = &r.disks[0];
        assert_eq!(
            (d.util, d.queue, d.read_bps, d.write_bps),
            (0.0, 0.5, 0.0, 200.0)
        );
    }
}
