//! Unit tests of the USE formulas and grades: synthetic node_exporter
//! families for two snapshots one second apart (fixture trees are in
//! `fixture_tests.rs`).

use super::cgroup::CgroupSample;
use super::thresholds as t;
use super::*;
use crate::process::ProcessTable;
use crate::{Family, Kind};
use std::collections::HashMap;
use std::time::Duration;

type Series<'a> = (&'static str, Vec<(&'static str, &'a str)>, f64);

fn families(series: &[Series]) -> Vec<Family> {
    let mut out: Vec<Family> = Vec::new();
    for (name, labels, value) in series {
        let labels = labels.iter().map(|(k, v)| (*k, v.to_string())).collect();
        match out.iter_mut().find(|f| f.name == *name) {
            Some(f) => f.push(labels, *value),
            None => {
                let mut f = Family::new(*name, "", Kind::Untyped);
                f.push(labels, *value);
                out.push(f);
            }
        }
    }
    out
}

fn sample(at: Instant, series: &[Series], sys: SysFacts) -> UseSample {
    UseSample {
        at,
        families: families(series),
        errors: Vec::new(),
        processes: Ok(ProcessTable {
            at,
            processes: HashMap::new(),
        }),
        cgroup: CgroupSample {
            unavailable: Some("fixture".into()),
            ..CgroupSample::default()
        },
        sys,
    }
}

/// A quiet two-CPU host's counters (`busy`: seconds of user time per CPU), with `extra` series replacing or adding.
fn host(extra: &[Series<'static>], busy: f64) -> Vec<Series<'static>> {
    let mut s: Vec<Series> = Vec::new();
    for cpu in ["0", "1"] {
        s.push((
            "node_cpu_seconds_total",
            vec![("cpu", cpu), ("mode", "user")],
            100.0 + busy,
        ));
        s.push((
            "node_cpu_seconds_total",
            vec![("cpu", cpu), ("mode", "idle")],
            1000.0 + 1.0 - busy,
        ));
        s.push((
            "node_cpu_seconds_total",
            vec![("cpu", cpu), ("mode", "steal")],
            0.0,
        ));
    }
    s.extend([
        ("node_procs_running", vec![], 1.0),
        ("node_pressure_cpu_waiting_seconds_total", vec![], 10.0),
        ("node_pressure_memory_waiting_seconds_total", vec![], 1.0),
        ("node_pressure_memory_stalled_seconds_total", vec![], 1.0),
        ("node_pressure_io_waiting_seconds_total", vec![], 1.0),
        ("node_pressure_io_stalled_seconds_total", vec![], 1.0),
        ("node_memory_MemTotal_bytes", vec![], 8e9),
        ("node_memory_MemAvailable_bytes", vec![], 6e9),
        ("node_vmstat_pgmajfault", vec![], 10.0),
        ("node_vmstat_pswpin", vec![], 0.0),
        ("node_vmstat_pswpout", vec![], 0.0),
        ("node_vmstat_oom_kill", vec![], 0.0),
        ("node_filefd_allocated", vec![], 1000.0),
        ("node_filefd_maximum", vec![], 100000.0),
        ("node_netstat_Tcp_OutSegs", vec![], 5000.0),
        ("node_netstat_Tcp_RetransSegs", vec![], 5.0),
        ("node_netstat_Tcp_CurrEstab", vec![], 3.0),
        ("node_netstat_Tcp_InErrs", vec![], 0.0),
        ("node_netstat_TcpExt_ListenOverflows", vec![], 0.0),
        ("node_netstat_TcpExt_ListenDrops", vec![], 0.0),
    ]);
    // Later entries replace earlier ones of the same series.
    for e in extra {
        s.retain(|x| !(x.0 == e.0 && x.1 == e.1));
        s.push(e.clone());
    }
    s
}

/// `after` = `before` with each listed series grown by the given amount.
fn grown(before: &[Series<'static>], growth: &[Series<'static>]) -> Vec<Series<'static>> {
    before
        .iter()
        .map(|(n, l, v)| {
            let add: f64 = growth
                .iter()
                .filter(|g| g.0 == *n && g.1 == *l)
                .map(|g| g.2)
                .sum();
            (*n, l.clone(), v + add)
        })
        .collect()
}

fn report(before: &[Series<'static>], after: &[Series<'static>], runq: &[f64]) -> UseReport {
    report_sys(
        before,
        after,
        runq,
        SysFacts::default(),
        SysFacts::default(),
    )
}

fn report_sys(
    before: &[Series<'static>],
    after: &[Series<'static>],
    runq: &[f64],
    sys_before: SysFacts,
    sys_after: SysFacts,
) -> UseReport {
    let t0 = Instant::now();
    let b = sample(t0, before, sys_before);
    let a = sample(t0 + Duration::from_secs(1), after, sys_after);
    evaluate(&b, &a, runq)
}

fn row<'a>(r: &'a UseReport, resource: &'a str) -> &'a Row {
    r.rows_of(resource)
        .next()
        .unwrap_or_else(|| panic!("no {resource} row in {r:#?}"))
}

fn idle_growth() -> Vec<Series<'static>> {
    let mut g = Vec::new();
    for cpu in ["0", "1"] {
        g.push((
            "node_cpu_seconds_total",
            vec![("cpu", cpu), ("mode", "user")],
            0.05,
        ));
        g.push((
            "node_cpu_seconds_total",
            vec![("cpu", cpu), ("mode", "idle")],
            0.95,
        ));
    }
    g.push(("node_netstat_Tcp_OutSegs", vec![], 200.0));
    g
}

#[test]
fn an_idle_host_is_all_ok() {
    let before = host(&[], 0.0);
    let after = grown(&before, &idle_growth());
    let r = report(&before, &after, &[0.0, 1.0, 0.0]);
    assert_eq!(r.status, Status::Ok, "{}", table::render(&r, false));
    assert!(!r.saturated());
    for row in &r.rows {
        for (name, cell) in row.cells() {
            assert!(
                matches!(cell.status, Status::Ok | Status::Unavailable),
                "{} {name}: {cell:?}",
                row.label()
            );
        }
    }
    let cpu = row(&r, "cpu");
    assert!((cpu.metrics["utilisation_ratio"] - 0.05).abs() < 1e-9);
    assert!((cpu.metrics["run_queue"] - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(r.cpus, 2);
    assert_eq!(r.per_cpu.len(), 2);
}

#[test]
fn cpu_saturation_from_the_run_queue_and_psi() {
    let before = host(&[], 0.0);
    let mut growth = idle_growth();
    for cpu in ["0", "1"] {
        growth.push((
            "node_cpu_seconds_total",
            vec![("cpu", cpu), ("mode", "user")],
            0.94,
        ));
        growth.push((
            "node_cpu_seconds_total",
            vec![("cpu", cpu), ("mode", "idle")],
            -0.94,
        ));
    }
    growth.push(("node_pressure_cpu_waiting_seconds_total", vec![], 0.6));
    let after = grown(&before, &growth);
    // 5 runnable on 2 CPUs: 2.5× > 2×.
    let r = report(&before, &after, &[5.0, 5.0, 5.0]);
    let cpu = row(&r, "cpu");
    let sat = cpu.saturation.as_ref().expect("cell");
    assert_eq!(sat.status, Status::Saturated);
    assert_eq!(sat.next.as_deref(), Some(t::NEXT_CPU_SATURATED));
    assert!(
        sat.why.as_deref().is_some_and(|w| w.contains("runnable")),
        "{sat:?}"
    );
    assert!((cpu.metrics["psi_some_ratio"] - 0.6).abs() < 1e-9);
    assert!((cpu.metrics["run_queue_per_cpu"] - 2.5).abs() < 1e-9);
    let util = cpu.utilisation.as_ref().expect("cell");
    assert!((cpu.metrics["utilisation_ratio"] - 0.99).abs() < 1e-9);
    assert_eq!(util.status, Status::Warn);
    assert_eq!(util.next.as_deref(), Some(t::NEXT_CPU_BUSY));
    assert!(r.saturated());

    // 1.5× the CPUs and PSI 5 %: warn only.
    let mut growth = idle_growth();
    growth.push(("node_pressure_cpu_waiting_seconds_total", vec![], 0.05));
    let after = grown(&before, &growth);
    let r = report(&before, &after, &[3.0]);
    let sat = row(&r, "cpu").saturation.clone().expect("cell");
    assert_eq!(sat.status, Status::Warn, "{sat:?}");
    assert!(!r.saturated());
}

#[test]
fn memory_grades_psi_faults_swap_and_oom_kills() {
    let before = host(&[], 0.0);
    let mut growth = idle_growth();
    growth.push(("node_pressure_memory_stalled_seconds_total", vec![], 0.06));
    growth.push(("node_vmstat_oom_kill", vec![], 1.0));
    growth.push(("node_vmstat_pgmajfault", vec![], 150.0));
    let after = grown(&before, &growth);
    let r = report(&before, &after, &[]);
    let mem = row(&r, "memory");
    assert_eq!(
        mem.saturation.as_ref().map(|c| c.status),
        Some(Status::Saturated)
    );
    assert!((mem.metrics["psi_full_ratio"] - 0.06).abs() < 1e-9);
    assert!((mem.metrics["major_faults_per_second"] - 150.0).abs() < 1e-9);
    let errors = mem.errors.as_ref().expect("cell");
    assert_eq!(errors.status, Status::Saturated);
    assert_eq!(errors.next.as_deref(), Some(t::NEXT_MEMORY));
    assert!((mem.metrics["used_ratio"] - 0.25).abs() < 1e-9);

    // Major faults alone: 150/s is warn; swapping any page is warn.
    let mut growth = idle_growth();
    growth.push(("node_vmstat_pgmajfault", vec![], 150.0));
    growth.push(("node_vmstat_pswpin", vec![], 3.0));
    let after = grown(&before, &growth);
    let r = report(&before, &after, &[]);
    assert_eq!(
        row(&r, "memory").saturation.as_ref().map(|c| c.status),
        Some(Status::Warn)
    );
}

fn disk_series(extra: &[Series<'static>]) -> Vec<Series<'static>> {
    let d = || vec![("device", "sda")];
    let mut s = host(&[], 0.0);
    s.extend([
        ("node_disk_reads_completed_total", d(), 1000.0),
        ("node_disk_writes_completed_total", d(), 1000.0),
        ("node_disk_read_time_seconds_total", d(), 10.0),
        ("node_disk_write_time_seconds_total", d(), 10.0),
        ("node_disk_io_time_seconds_total", d(), 10.0),
        ("node_disk_io_time_weighted_seconds_total", d(), 20.0),
        ("node_disk_read_bytes_total", d(), 0.0),
        ("node_disk_written_bytes_total", d(), 0.0),
    ]);
    s.extend(extra.iter().cloned());
    s
}

#[test]
fn disk_busy_queue_await_and_errors() {
    let before = disk_series(&[]);
    let d = || vec![("device", "sda")];
    // 100 writes taking 5 s in total (await 50 ms), 0.8 s busy, 3 s weighted (aqu-sz 3).
    let after = grown(
        &before,
        &[
            ("node_disk_writes_completed_total", d(), 100.0),
            ("node_disk_write_time_seconds_total", d(), 5.0),
            ("node_disk_io_time_seconds_total", d(), 0.8),
            ("node_disk_io_time_weighted_seconds_total", d(), 3.0),
            ("node_disk_written_bytes_total", d(), 4e6),
        ],
    );
    let sys = |errors: u64| SysFacts {
        disk_io_errors: [("sda".to_string(), errors)].into(),
        disk_rotational: [("sda".to_string(), true)].into(),
        ..SysFacts::default()
    };
    let r = report_sys(&before, &after, &[], sys(2), sys(3));
    let disk = row(&r, "disk");
    assert_eq!(disk.device.as_deref(), Some("sda"));
    assert!((disk.metrics["busy_ratio"] - 0.8).abs() < 1e-9);
    assert!((disk.metrics["queue_size"] - 3.0).abs() < 1e-9);
    assert!((disk.metrics["await_ms"] - 50.0).abs() < 1e-9);
    assert_eq!(
        disk.utilisation.as_ref().map(|c| c.status),
        Some(Status::Warn)
    );
    let sat = disk.saturation.as_ref().expect("cell");
    assert_eq!(sat.status, Status::Saturated);
    assert_eq!(sat.next.as_deref(), Some(t::NEXT_DISK));
    let errors = disk.errors.as_ref().expect("cell");
    assert_eq!(
        (errors.status, disk.metrics["io_errors"]),
        (Status::Warn, 1.0)
    );

    // The same queue on an SSD whose requests complete in 1 ms is only warn;
    // no ioerr_cnt is unavailable, not zero.
    let after = grown(
        &before,
        &[
            ("node_disk_writes_completed_total", d(), 1000.0),
            ("node_disk_write_time_seconds_total", d(), 1.0),
            ("node_disk_io_time_weighted_seconds_total", d(), 3.0),
        ],
    );
    let ssd = || SysFacts {
        disk_rotational: [("sda".to_string(), false)].into(),
        ..SysFacts::default()
    };
    let r = report_sys(&before, &after, &[], ssd(), ssd());
    let disk = row(&r, "disk");
    let sat = disk.saturation.as_ref().expect("cell");
    assert_eq!(sat.status, Status::Warn, "{sat:?}");
    assert!(sat.why.as_deref().is_some_and(|w| w.contains("parallel")));
    assert_eq!(
        disk.errors.as_ref().map(|c| c.status),
        Some(Status::Unavailable)
    );
    assert!(!disk.metrics.contains_key("io_errors"));

    // PSI io full 12 %: the io row is saturated.
    let after = grown(
        &before,
        &[("node_pressure_io_stalled_seconds_total", vec![], 0.12)],
    );
    let r = report(&before, &after, &[]);
    assert_eq!(
        row(&r, "io").saturation.as_ref().map(|c| c.status),
        Some(Status::Saturated)
    );
}

#[test]
fn network_link_share_drops_and_tcp() {
    let e = || vec![("device", "eth0")];
    let mut before = host(&[], 0.0);
    before.extend([
        ("node_network_receive_bytes_total", e(), 0.0),
        ("node_network_transmit_bytes_total", e(), 0.0),
        ("node_network_receive_drop_total", e(), 0.0),
        ("node_network_transmit_drop_total", e(), 0.0),
        ("node_network_receive_fifo_total", e(), 0.0),
        ("node_network_transmit_fifo_total", e(), 0.0),
        ("node_network_receive_errs_total", e(), 0.0),
        ("node_network_transmit_errs_total", e(), 0.0),
    ]);
    // 95 MB/s received on a 1000 Mb/s link = 76 %; 2 drops; 6 % retransmits; one overflow.
    let after = grown(
        &before,
        &[
            ("node_network_receive_bytes_total", e(), 95e6),
            ("node_network_receive_drop_total", e(), 2.0),
            ("node_netstat_Tcp_OutSegs", vec![], 1000.0),
            ("node_netstat_Tcp_RetransSegs", vec![], 60.0),
            ("node_netstat_TcpExt_ListenOverflows", vec![], 1.0),
        ],
    );
    let sys = || SysFacts {
        link_speed_mbps: [("eth0".to_string(), 1000.0)].into(),
        ..SysFacts::default()
    };
    let r = report_sys(&before, &after, &[], sys(), sys());
    let net = row(&r, "network");
    assert!((net.metrics["link_ratio"] - 0.76).abs() < 1e-9);
    assert_eq!(
        net.utilisation.as_ref().map(|c| c.status),
        Some(Status::Warn)
    );
    assert_eq!(
        net.saturation.as_ref().map(|c| c.status),
        Some(Status::Warn)
    );
    assert_eq!(net.errors.as_ref().map(|c| c.status), Some(Status::Ok));
    let tcp = row(&r, "tcp");
    assert!((tcp.metrics["retransmit_ratio"] - 0.06).abs() < 1e-9);
    assert_eq!(
        tcp.saturation.as_ref().map(|c| c.status),
        Some(Status::Saturated)
    );

    // Unknown link speed: throughput only, never a made-up share.
    let r = report(&before, &after, &[]);
    let net = row(&r, "network");
    assert!(!net.metrics.contains_key("link_ratio"));
    assert!(net
        .utilisation
        .as_ref()
        .is_some_and(|c| c.value.contains("unknown")));
}

#[test]
fn file_descriptors_near_the_limit() {
    let before = host(&[("node_filefd_allocated", vec![], 96_000.0)], 0.0);
    let after = grown(&before, &idle_growth());
    let r = report(&before, &after, &[]);
    let fd = row(&r, "file_descriptors");
    assert_eq!(
        fd.utilisation.as_ref().map(|c| c.status),
        Some(Status::Saturated)
    );
    assert!(fd.saturation.is_none() && fd.errors.is_none());
}

#[test]
fn the_table_names_every_finding_and_its_next_command() {
    let before = host(&[], 0.0);
    let mut growth = idle_growth();
    growth.push(("node_pressure_cpu_waiting_seconds_total", vec![], 0.9));
    let after = grown(&before, &growth);
    let r = report(&before, &after, &[6.0]);
    let text = table::render(&r, false);
    assert!(
        text.starts_with("USE over 1.0 s, 2 CPUs: SATURATED"),
        "{text}"
    );
    assert!(text.contains("RESOURCE") && text.contains("SATURATION"));
    assert!(
        text.contains(&format!("next: {}", t::NEXT_CPU_SATURATED)),
        "{text}"
    );
    assert!(table::render(&r, true).contains("\x1b[1;31mSAT"));
}
