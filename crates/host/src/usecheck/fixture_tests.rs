//! Tests on fixture trees: cgroup v2 and v1 (hybrid, container mount
//! roots) read from fixture /proc/self/{cgroup,mountinfo} and controller
//! files, and a fixture /proc without PSI, whose cells must say
//! "unavailable" rather than zero.

use super::cgroup::CgroupSample;
use super::cgroup_rows as cgroup;
use super::*;
use std::path::PathBuf;

fn row<'a>(r: &'a UseReport, resource: &'a str) -> &'a Row {
    r.rows_of(resource)
        .next()
        .unwrap_or_else(|| panic!("no {resource} row in {r:#?}"))
}

/// A fixture tree under the temp dir, removed on drop.
struct Fixture(PathBuf);

impl Fixture {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("whyslow-usecheck-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create fixture dir");
        Self(dir)
    }

    fn write(&self, path: &str, text: &str) {
        let path = self.0.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write fixture");
    }

    fn paths(&self) -> Paths {
        Paths {
            proc: self.0.join("proc"),
            sys: self.0.join("sys"),
            udev_data: self.0.join("udev"),
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn cgroup_v2_quota_throttling_limit_and_oom() {
    let f = Fixture::new("cg2");
    let root = f.0.join("cgroup");
    f.write("proc/self/cgroup", "0::/app.slice/web\n");
    f.write(
        "proc/self/mountinfo",
        &format!(
            "30 23 0:26 / {} rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n",
            root.display()
        ),
    );
    let write_state = |usage: u64, periods: u64, throttled: u64, oom: u64, some: u64| {
        f.write(
            "cgroup/app.slice/web/cpu.stat",
            &format!("usage_usec {usage}\nuser_usec 1\nsystem_usec 1\nnr_periods {periods}\nnr_throttled {throttled}\nthrottled_usec {}\n", throttled * 1000),
        );
        f.write("cgroup/app.slice/web/cpu.max", "50000 100000\n");
        f.write("cgroup/app.slice/web/memory.current", "960000000\n");
        f.write("cgroup/app.slice/web/memory.max", "1000000000\n");
        f.write(
            "cgroup/app.slice/web/memory.events",
            &format!("low 0\nhigh 0\nmax 4\noom 1\noom_kill {oom}\n"),
        );
        f.write(
            "cgroup/app.slice/web/cpu.pressure",
            &format!("some avg10=0.00 avg60=0.00 avg300=0.00 total={some}\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"),
        );
        f.write(
            "cgroup/app.slice/web/memory.pressure",
            "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
        );
    };
    write_state(1_000_000, 100, 0, 0, 0);
    let before = CgroupSample::read(&f.paths());
    write_state(1_480_000, 110, 4, 1, 300_000);
    let after = CgroupSample::read(&f.paths());
    assert_eq!(before.version, Some("v2"));
    assert_eq!(before.cpu_quota, Some(Some(0.5)));
    assert_eq!(before.memory_limit, Some(Some(1e9)));
    let rows = cgroup::rows(&before, &after, 1.0, 2);
    let cpu = &rows[0];
    assert_eq!(cpu.device.as_deref(), Some("/app.slice/web"));
    assert!((cpu.metrics["cpus_used"] - 0.48).abs() < 1e-9);
    assert!((cpu.metrics["quota_ratio"] - 0.96).abs() < 1e-9);
    assert_eq!(
        cpu.utilisation.as_ref().map(|c| c.status),
        Some(Status::Warn)
    );
    // 4 of 10 periods throttled (40 %) and PSI some 30 %.
    assert!((cpu.metrics["throttled_ratio"] - 0.4).abs() < 1e-9);
    assert_eq!(
        cpu.saturation.as_ref().map(|c| c.status),
        Some(Status::Saturated)
    );
    let mem = &rows[1];
    assert_eq!(
        mem.utilisation.as_ref().map(|c| c.status),
        Some(Status::Warn)
    );
    assert_eq!(
        mem.errors.as_ref().map(|c| c.status),
        Some(Status::Saturated)
    );
    assert_eq!(mem.metrics["oom_kills"], 1.0);
}

#[test]
fn cgroup_v1_hybrid_finds_each_controller_under_its_mount_root() {
    let f = Fixture::new("cg1");
    let base = f.0.join("fs");
    f.write(
        "proc/self/cgroup",
        "12:memory:/docker/abc\n11:cpu,cpuacct:/docker/abc\n0::/\n",
    );
    // In the container the hierarchy's root is /docker/abc itself.
    f.write(
        "proc/self/mountinfo",
        &format!(
            "40 30 0:40 /docker/abc {b}/memory ro - cgroup cgroup rw,memory\n\
             41 30 0:41 /docker/abc {b}/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct\n\
             42 30 0:42 / {b}/unified rw - cgroup2 cgroup2 rw\n",
            b = base.display()
        ),
    );
    f.write("fs/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
    f.write("fs/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
    f.write(
        "fs/cpu,cpuacct/cpu.stat",
        "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n",
    );
    f.write("fs/cpu,cpuacct/cpuacct.usage", "5000000000\n");
    f.write("fs/memory/memory.usage_in_bytes", "1000\n");
    f.write("fs/memory/memory.limit_in_bytes", "9223372036854771712\n");
    f.write(
        "fs/memory/memory.oom_control",
        "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
    );
    let s = CgroupSample::read(&f.paths());
    assert_eq!(s.version, Some("v1"));
    assert_eq!(s.cpu_path.as_deref(), Some("/docker/abc"));
    assert_eq!(s.cpu_quota, Some(None));
    assert_eq!(s.cpu_usage_us, Some(5e6));
    assert_eq!(s.memory_limit, Some(None), "v1's huge limit means none");
    assert_eq!(s.oom_kills, Some(2.0));
    assert_eq!(
        s.psi_cpu_some_us, None,
        "root v2 cgroup PSI is the system's"
    );
    let rows = cgroup::rows(&s, &s, 1.0, 2);
    assert_eq!(
        rows[0].utilisation.as_ref().map(|c| c.status),
        Some(Status::Ok)
    );
    assert_eq!(rows[1].errors.as_ref().map(|c| c.status), Some(Status::Ok));
    assert_eq!(
        rows[1].saturation.as_ref().map(|c| c.status),
        Some(Status::Unavailable)
    );
}

#[test]
fn a_machine_without_psi_says_unavailable_never_zero() {
    let f = Fixture::new("nopsi");
    f.write(
        "proc/stat",
        "cpu  10 0 10 100 0 0 0 0 0 0\ncpu0 10 0 10 100 0 0 0 0 0 0\nintr 1\nctxt 1\nbtime 1\nprocesses 1\nprocs_running 3\nprocs_blocked 0\n",
    );
    f.write("proc/meminfo", "MemTotal: 1000 kB\nMemAvailable: 500 kB\n");
    f.write("proc/loadavg", "0.10 0.20 0.30 1/100 42\n");
    f.write("proc/vmstat", "pgmajfault 1\npswpin 0\npswpout 0\n");
    let paths = f.paths();
    let mut h = Host::new(paths.clone());
    let before = UseSample::take(&mut h, &paths);
    let after = UseSample::take(&mut h, &paths);
    let r = evaluate(&before, &after, &[]);
    let io = row(&r, "io").saturation.clone().expect("cell");
    assert_eq!(io.status, Status::Unavailable);
    assert!(
        io.why.as_deref().is_some_and(|w| w.contains("pressure")),
        "{io:?}"
    );
    let cpu = row(&r, "cpu");
    assert!(cpu
        .saturation
        .as_ref()
        .is_some_and(|c| c.value.contains("PSI unavailable")));
    assert!(!cpu.metrics.contains_key("psi_some_ratio"));
    assert_eq!(
        cpu.metrics["run_queue"], 2.0,
        "procs_running minus the reader"
    );
    let mem = row(&r, "memory");
    assert!(!mem.metrics.contains_key("psi_full_ratio"));
    assert_eq!(
        mem.errors.as_ref().map(|c| c.status),
        Some(Status::Unavailable)
    );
    assert_eq!(
        row(&r, "cgroup").utilisation.as_ref().map(|c| c.status),
        Some(Status::Unavailable)
    );
    assert_eq!(
        row(&r, "file_descriptors")
            .utilisation
            .as_ref()
            .map(|c| c.status),
        Some(Status::Unavailable)
    );
    // The JSON has no number for what was not measured.
    let text = table::render(&r, false);
    assert!(text.contains("Unavailable on this machine:"), "{text}");
    assert!(!text.contains('\x1b'));
}
