//! `whyslow use` end to end on this machine's real kernel: planted CPU
//! saturation (3× as many spinning threads as CPUs) must be marked saturated
//! with exit code 3; planted direct-I/O writes must mark the disk holding
//! them; an idle run must be all ok; the JSON has a stable shape.
//!
//! The idle test is honest about a shared CI machine (dev/test runs other
//! tests in parallel, and other work may share the host): it measures the
//! kernel's own numbers over the same window, independently of whyslow (PSI
//! totals from /proc/pressure, `procs_running` every 250 ms, per-disk
//! weighted I/O time from /proc/diskstats). When they say the machine was
//! quiet, `use` must exit 0 and mark nothing saturated; when they say it was
//! busy, every cell `use` marks saturated must be backed by them (a saturated
//! CPU by a run queue above the CPU count or PSI cpu some above 10 %, and so
//! on) — so a false alarm fails the test either way.
//!
//! The tests in this file take one lock: a planted load must not leak into
//! another test's window.

mod common;

use serde_json::Value;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `whyslow use --json --duration SECS` and returns the exit code and report.
fn use_json(duration: &str) -> (i32, Value, Duration) {
    let start = Instant::now();
    let out = common::run(&["use", "--json", "--duration", duration]);
    let took = start.elapsed();
    let code = out.status.code().expect("exit code");
    assert!(
        code == 0 || code == 3,
        "exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report on stdout");
    (code, report, took)
}

fn rows<'a>(report: &'a Value, resource: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(move |r| r["resource"] == resource)
}

fn statuses(row: &Value) -> Vec<&str> {
    ["utilisation", "saturation", "errors"]
        .iter()
        .filter_map(|c| row[c]["status"].as_str())
        .collect()
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Spins `n` threads until dropped (or `limit`, whichever comes first).
struct Spinners(Arc<AtomicBool>, Vec<std::thread::JoinHandle<()>>);

impl Spinners {
    fn start(n: usize, limit: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let until = Instant::now() + limit;
        let threads = (0..n)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) && Instant::now() < until {
                        for _ in 0..10_000 {
                            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                        }
                    }
                })
            })
            .collect();
        Self(stop, threads)
    }
}

impl Drop for Spinners {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
        for t in self.1.drain(..) {
            let _ = t.join();
        }
    }
}

#[test]
fn planted_cpu_saturation_is_marked_and_exits_3() {
    let _serial = lock();
    let n = 3 * cpus();
    let _spin = Spinners::start(n, Duration::from_secs(8));
    std::thread::sleep(Duration::from_millis(300));
    let (code, report, _) = use_json("3s");
    let cpu = rows(&report, "cpu").next().expect("cpu row");
    assert_eq!(
        cpu["saturation"]["status"],
        "saturated",
        "{n} spinning threads on {} CPUs: {cpu:#}",
        cpus()
    );
    assert_eq!(
        cpu["saturation"]["next"],
        "whyslow record -a --off-cpu -d 10s"
    );
    assert!(
        cpu["metrics"]["run_queue_per_cpu"]
            .as_f64()
            .expect("run queue")
            > 2.0
    );
    assert_eq!(report["status"], "saturated");
    assert_eq!(code, 3);
}

/// The whole-disk name in /proc/diskstats of the device holding `path`.
fn disk_of(path: &Path) -> Option<String> {
    let dev = std::fs::metadata(path).ok()?.dev();
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    let sys = std::fs::canonicalize(format!("/sys/dev/block/{major}:{minor}")).ok()?;
    let sys = if sys.join("partition").exists() {
        sys.parent()?.to_path_buf()
    } else {
        sys
    };
    Some(sys.file_name()?.to_str()?.to_string())
}

#[test]
fn planted_direct_io_marks_the_disk() {
    let _serial = lock();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir on disk");
    let Some(disk) = disk_of(dir.path()) else {
        eprintln!(
            "SKIP: {} is not on a block device (overlay/tmpfs): no disk to load",
            dir.path().display()
        );
        return;
    };
    // 4 writers, 64 KiB O_DIRECT writes each followed by fdatasync, cycling
    // over a 16 MiB file each (64 MiB on disk), for at most 8 s.
    const BLOCK: usize = 64 << 10;
    const FILE: u64 = 16 << 20;
    let stop = Arc::new(AtomicBool::new(false));
    let until = Instant::now() + Duration::from_secs(8);
    let writers: Vec<_> = (0..4)
        .map(|i| {
            let path = dir.path().join(format!("load{i}"));
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .custom_flags(libc::O_DIRECT)
                .open(&path)
                .expect("O_DIRECT open (filesystem supports direct I/O)");
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut raw = vec![0x5au8; BLOCK + 4096];
                let offset = raw.as_ptr().align_offset(4096);
                let buf = &mut raw[offset..offset + BLOCK];
                let mut at = 0u64;
                while !stop.load(Ordering::Relaxed) && Instant::now() < until {
                    file.write_at(buf, at).expect("direct write");
                    file.sync_data().expect("fdatasync");
                    at = (at + BLOCK as u64) % FILE;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let (_, report, _) = use_json("3s");
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().expect("writer");
    }
    let row = rows(&report, "disk")
        .find(|r| r["device"] == disk.as_str())
        .unwrap_or_else(|| panic!("no row for disk {disk}: {report:#}"));
    let marked = statuses(row)
        .iter()
        .any(|s| *s == "warn" || *s == "saturated");
    assert!(marked, "direct writes on {disk} not marked: {row:#}");
    assert!(
        row["metrics"]["write_bytes_per_second"]
            .as_f64()
            .expect("writes")
            > 1e6
    );
}

/// The kernel's own numbers over a window, read without whyslow.
#[derive(Debug)]
struct Evidence {
    run_queue_per_cpu: f64,
    psi_cpu_some: Option<f64>,
    psi_io_some: Option<f64>,
    psi_memory_some: Option<f64>,
    psi_memory_full: Option<f64>,
    /// Average queue size per disk (Δweighted ms / Δt).
    queue: Vec<(String, f64)>,
    load1: f64,
}

fn psi_total(resource: &str, line: &str) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/pressure/{resource}")).ok()?;
    let l = text.lines().find(|l| l.starts_with(line))?;
    l.split_whitespace()
        .find_map(|f| f.strip_prefix("total="))?
        .parse()
        .ok()
}

fn weighted_ms() -> Vec<(String, f64)> {
    let text = std::fs::read_to_string("/proc/diskstats").expect("/proc/diskstats");
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some((f.get(2)?.to_string(), f.get(13)?.parse().ok()?))
        })
        .collect()
}

fn procs_running() -> f64 {
    let text = std::fs::read_to_string("/proc/stat").expect("/proc/stat");
    text.lines()
        .find_map(|l| l.strip_prefix("procs_running "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .expect("procs_running")
}

#[test]
fn idle_run_is_ok_or_every_saturation_is_backed_by_the_kernel() {
    let _serial = lock();
    let psi = |r: &str, l: &str| psi_total(r, l);
    let keys = [
        ("cpu", "some"),
        ("io", "some"),
        ("memory", "some"),
        ("memory", "full"),
    ];
    let psi_before: Vec<Option<f64>> = keys.iter().map(|(r, l)| psi(r, l)).collect();
    let disks_before = weighted_ms();
    let start = Instant::now();
    let child = common::whyslow()
        .args(["use", "--json", "--duration", "3s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn whyslow use");
    let mut runq = Vec::new();
    while start.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(250));
        runq.push((procs_running() - 1.0).max(0.0)); // not counting this reader
    }
    let out = child.wait_with_output().expect("whyslow use finishes");
    let secs = start.elapsed().as_secs_f64();
    let ratio = |i: usize| -> Option<f64> {
        Some((psi(keys[i].0, keys[i].1)? - psi_before[i]?) / 1e6 / secs)
    };
    let disks_after = weighted_ms();
    let load1: f64 = std::fs::read_to_string("/proc/loadavg")
        .expect("/proc/loadavg")
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .expect("load1");
    let evidence = Evidence {
        run_queue_per_cpu: runq.iter().sum::<f64>() / runq.len().max(1) as f64 / cpus() as f64,
        psi_cpu_some: ratio(0),
        psi_io_some: ratio(1),
        psi_memory_some: ratio(2),
        psi_memory_full: ratio(3),
        queue: disks_after
            .iter()
            .filter_map(|(name, after)| {
                let before = disks_before.iter().find(|(n, _)| n == name)?.1;
                Some((name.clone(), (after - before) / 1000.0 / secs))
            })
            .collect(),
        load1,
    };
    let code = out.status.code().expect("exit code");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let over = |v: Option<f64>, t: f64| v.is_some_and(|v| v > t);
    let quiet = evidence.run_queue_per_cpu < 1.0
        && evidence.load1 < cpus() as f64
        && !over(evidence.psi_cpu_some, 0.10)
        && !over(evidence.psi_io_some, 0.20)
        && !over(evidence.psi_memory_some, 0.10)
        && evidence.queue.iter().all(|(_, q)| *q < 1.0);
    eprintln!("kernel evidence: {evidence:?}; quiet: {quiet}; exit {code}");

    for row in report["rows"].as_array().expect("rows") {
        let resource = row["resource"].as_str().expect("resource");
        for cell in ["utilisation", "saturation", "errors"] {
            if row[cell]["status"] != "saturated" {
                continue;
            }
            // Saturation at half the documented threshold or more on the kernel's own numbers.
            let backed = match resource {
                "cpu" => evidence.run_queue_per_cpu > 1.0 || over(evidence.psi_cpu_some, 0.125),
                "memory" => {
                    over(evidence.psi_memory_full, 0.025)
                        || row["metrics"]["oom_kills"]
                            .as_f64()
                            .is_some_and(|k| k > 0.0)
                        || row["metrics"]["major_faults_per_second"]
                            .as_f64()
                            .is_some_and(|f| f > 1000.0)
                }
                "disk" => evidence
                    .queue
                    .iter()
                    .any(|(n, q)| row["device"] == n.as_str() && *q > 1.0),
                "io" => over(evidence.psi_io_some, 0.05),
                // TCP listen overflows, fds, cgroup throttling: counters whyslow reads
                // directly; the report's own numbers are the evidence.
                _ => true,
            };
            assert!(
                backed,
                "{resource} {cell} marked saturated but the kernel's own numbers say otherwise: \
                 {evidence:?}\n{row:#}"
            );
        }
    }
    if quiet {
        assert_eq!(code, 0, "a quiet machine must exit 0: {report:#}");
        assert_ne!(report["status"], "saturated");
        let cpu = rows(&report, "cpu").next().expect("cpu row");
        assert_eq!(cpu["saturation"]["status"], "ok", "{cpu:#}");
    } else {
        eprintln!("machine busy during the run: checked that every saturation is backed (above)");
    }
}

#[test]
fn json_shape_is_stable_and_finishes_in_time() {
    let _serial = lock();
    let (code, report, took) = use_json("1s");
    assert!(took < Duration::from_secs(3), "1 s run took {took:?}");
    for key in [
        "interval_seconds",
        "cpus",
        "status",
        "rows",
        "per_cpu",
        "top",
    ] {
        assert!(report.get(key).is_some(), "no {key}: {report:#}");
    }
    assert!(report["cpus"].as_u64().expect("cpus") >= 1);
    assert_eq!(
        report["per_cpu"].as_array().expect("per_cpu").len() as u64,
        report["cpus"].as_u64().expect("cpus")
    );
    let status = report["status"].as_str().expect("status");
    assert!(["ok", "warn", "saturated"].contains(&status));
    assert_eq!(code == 3, status == "saturated", "exit {code} vs {status}");
    let allowed = ["ok", "warn", "saturated", "unavailable"];
    for resource in ["cpu", "memory", "io", "tcp", "file_descriptors"] {
        assert!(
            rows(&report, resource).next().is_some(),
            "no {resource} row"
        );
    }
    for row in report["rows"].as_array().expect("rows") {
        for key in [
            "resource",
            "device",
            "utilisation",
            "saturation",
            "errors",
            "metrics",
        ] {
            assert!(row.get(key).is_some(), "row without {key}: {row:#}");
        }
        for cell in ["utilisation", "saturation", "errors"] {
            let c = &row[cell];
            if c.is_null() {
                continue;
            }
            let s = c["status"].as_str().expect("status");
            assert!(allowed.contains(&s), "{s}");
            assert!(c["value"].is_string());
            if s != "ok" {
                assert!(c["why"].is_string(), "non-ok cell without why: {row:#}");
            }
            if s == "warn" || s == "saturated" {
                let next = c["next"].as_str().expect("next command");
                assert!(next.starts_with("whyslow "), "{next}");
            }
        }
        assert!(row["metrics"].is_object());
    }
    for key in ["by_cpu", "by_memory", "by_io"] {
        let list = report["top"][key].as_array().expect("ranking");
        assert!(list.len() <= 5);
        for p in list {
            for field in [
                "pid",
                "comm",
                "cpu_percent",
                "rss_bytes",
                "read_bytes_per_second",
            ] {
                assert!(p.get(field).is_some(), "{field}");
            }
        }
    }
    assert!(!report["top"]["by_memory"]
        .as_array()
        .expect("by_memory")
        .is_empty());
}

#[test]
fn the_table_has_every_resource_and_no_colour_when_piped() {
    let _serial = lock();
    let out = common::run(&["use", "-d", "1s"]);
    let code = out.status.code().expect("exit code");
    assert!(code == 0 || code == 3, "{out:?}");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.starts_with("USE over "), "{text}");
    for word in [
        "RESOURCE",
        "UTILISATION",
        "SATURATION",
        "ERRORS",
        "cpu",
        "memory",
        "Top processes by CPU",
        "Top processes by memory (RSS)",
        "Top processes by I/O",
    ] {
        assert!(text.contains(word), "no {word:?} in\n{text}");
    }
    assert!(!text.contains('\x1b'), "colour codes when piped:\n{text}");
    assert!(
        out.stderr.is_empty(),
        "no progress line when stderr is not a tty"
    );
}

#[test]
fn on_a_terminal_it_shows_progress_and_colours() {
    let _serial = lock();
    // util-linux `script` gives the command a pseudo-terminal.
    let command = format!("{} use -d 500ms", env!("CARGO_BIN_EXE_whyslow"));
    let Ok(out) = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
    else {
        eprintln!("SKIP: no `script` (util-linux) to provide a terminal");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("sampling 500 ms…"), "{text}");
    assert!(
        text.contains("\x1b[32mok"),
        "no colour on a terminal:\n{text}"
    );
    assert!(matches!(out.status.code(), Some(0 | 3)), "{out:?}");
}
