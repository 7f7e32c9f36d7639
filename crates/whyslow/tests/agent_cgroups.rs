//! `whyslow agent`'s per-cgroup metrics (cAdvisor's `container_*` names) on
//! a cgroup this test creates: a CPU quota of 0.2 CPU and a 256 MiB memory
//! limit, with a busy process in it. cgroup v1 (cpu, cpuacct and memory
//! hierarchies) and v2 (the unified hierarchy with the cpu and memory
//! controllers) are both handled. Needs root (creating cgroups); without it
//! the test says so and skips.

mod agent;

use agent::{free_port, get, wait_listening, Running};
use ingest::exposition::{parse, Format};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The cgroup directories created, removed on drop (after the process left).
struct Cgroup {
    dirs: Vec<PathBuf>,
    id: String,
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        for dir in &self.dirs {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

fn mounts() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let point = left.split(' ').nth(4)?.to_string();
            let mut right = right.split(' ');
            let fstype = right.next()?.to_string();
            let options = right.nth(1)?.to_string();
            Some((point, fstype, options))
        })
        .collect()
}

/// Creates the test cgroup and sets its limits; `Err` says why not.
fn create(name: &str) -> Result<Cgroup, String> {
    let mounts = mounts();
    let v1 = |controller: &str| {
        mounts.iter().find(|(_, fstype, options)| {
            fstype == "cgroup" && options.split(',').any(|o| o == controller)
        })
    };
    let write = |path: PathBuf, value: &str| {
        std::fs::write(&path, value).map_err(|e| format!("writing {}: {e}", path.display()))
    };
    if let (Some(cpu), Some(memory)) = (v1("cpu"), v1("memory")) {
        let mut dirs = vec![
            Path::new(&cpu.0).join(name),
            Path::new(&memory.0).join(name),
        ];
        if let Some(acct) = v1("cpuacct").filter(|a| a.0 != cpu.0) {
            dirs.push(Path::new(&acct.0).join(name));
        }
        for dir in &dirs {
            std::fs::create_dir(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        }
        let cgroup = Cgroup {
            dirs,
            id: format!("/{name}"),
        };
        write(cgroup.dirs[0].join("cpu.cfs_period_us"), "100000")?;
        write(cgroup.dirs[0].join("cpu.cfs_quota_us"), "20000")?;
        write(cgroup.dirs[1].join("memory.limit_in_bytes"), "268435456")?;
        return Ok(cgroup);
    }
    let unified = mounts
        .iter()
        .find(|(_, fstype, _)| fstype == "cgroup2")
        .ok_or("no cgroup mount")?;
    let root = Path::new(&unified.0);
    write(root.join("cgroup.subtree_control"), "+cpu +memory")?;
    let dir = root.join(name);
    std::fs::create_dir(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let cgroup = Cgroup {
        dirs: vec![dir],
        id: format!("/{name}"),
    };
    write(cgroup.dirs[0].join("cpu.max"), "20000 100000")?;
    write(cgroup.dirs[0].join("memory.max"), "268435456")?;
    Ok(cgroup)
}

#[test]
fn a_throttled_cgroup_shows_its_quota_usage_and_limit() {
    let name = format!("whyslow-test-{}", std::process::id());
    let cgroup = match create(&name) {
        Ok(cgroup) => cgroup,
        Err(why) => {
            eprintln!("SKIP a_throttled_cgroup_shows_its_quota_usage_and_limit: cannot create a cgroup ({why}); run as root");
            return;
        }
    };
    // The shell joins the cgroup, then execs the busy loop, so the memory
    // it maps is charged to the cgroup (v1 does not move existing charges).
    let procs: Vec<_> = cgroup.dirs.iter().map(|d| d.join("cgroup.procs")).collect();
    let busy = Running(
        Command::new("/bin/sh")
            .args([
                "-c",
                "for f in \"$@\"; do echo $$ > \"$f\" || exit 1; done; exec /usr/bin/yes",
                "sh",
            ])
            .args(&procs)
            .stdout(Stdio::null())
            .spawn()
            .expect("starting yes"),
    );
    let addr = format!("127.0.0.1:{}", free_port());
    let mut agent = Running(
        Command::new(env!("CARGO_BIN_EXE_whyslow"))
            .args(["agent", "--listen", &addr, "--no-process-metrics"])
            .stdout(Stdio::null())
            .spawn()
            .expect("starting whyslow agent"),
    );
    wait_listening(&addr, "whyslow agent", &mut agent);
    std::thread::sleep(Duration::from_millis(1500));
    let (status, body) = get(&addr, "/metrics");
    assert!(status.contains(" 200 "), "{status}");
    let exposition = parse(body.as_bytes(), Format::PrometheusText).expect("exposition");
    let value = |name: &str| {
        exposition
            .samples
            .iter()
            .find(|s| {
                s.labels.metric_name() == Some(name)
                    && s.labels.get("id") == Some(cgroup.id.as_str())
            })
            .map(|s| s.value)
            .unwrap_or_else(|| panic!("no {name}{{id=\"{}\"}} in\n{body}", cgroup.id))
    };
    assert_eq!(value("container_spec_cpu_quota"), 20000.0);
    assert_eq!(value("container_spec_cpu_period"), 100000.0);
    assert_eq!(value("container_spec_memory_limit_bytes"), 268435456.0);
    let usage = value("container_cpu_usage_seconds_total");
    assert!(
        usage > 0.05 && usage < 1.0,
        "0.2 CPU for ~1.5 s used {usage} s"
    );
    assert!(value("container_cpu_cfs_throttled_periods_total") >= 1.0);
    assert!(value("container_cpu_cfs_throttled_seconds_total") > 0.0);
    assert!(value("container_memory_usage_bytes") > 0.0);
    assert!(value("container_memory_working_set_bytes") <= value("container_memory_usage_bytes"));
    // The root cgroup is the machine.
    assert!(exposition.samples.iter().any(|s| {
        s.labels.metric_name() == Some("container_cpu_usage_seconds_total")
            && s.labels.get("id") == Some("/")
    }));
    drop(busy);
    drop(agent);
}
