//! Differential test: `whyslow agent`'s per-process metrics against the real
//! process-exporter (Debian's `prometheus-process-exporter`, 0.7.10 on
//! bookworm), run side by side with the configuration the agent's grouping
//! equals (`name: "{{.Comm}}"`, `cmdline: ['.+']`), `-threads=false` and
//! `-gather-smaps=false` (the agent's defaults; `smaps_with_gather_smaps`
//! below compares the proportional memory with `--gather-smaps`).
//!
//! Three planted groups start after both exporters: `wsburn` (a copy of
//! `yes`, busy), `wssleep` (two copies of `sleep`) and `wsthreads` (Python
//! with three sleeping threads, renamed with prctl). Both exporters are
//! scraped in the order agent, process-exporter, agent, and required:
//! - the same `namedprocess_*` series for those groups (the busy group's wait
//!   channels left out: a running task's wchan flickers), and per family the
//!   same TYPE and HELP;
//! - equal process, thread and state counts, open fds, fd ratio, virtual
//!   memory and start time (±1 s); resident and proportional memory within
//!   5 % + 64 KiB; counters between the agent's two reads (±2 clock ticks
//!   for CPU);
//! - once `wssleep`'s processes are killed, both keep the group with zero
//!   processes, Go's zero time as its start, and its counters.
//!
//! Skips with a message when process-exporter is not installed, unless
//! WHYSLOW_REQUIRE_PROCESS_EXPORTER=1 (dev/test sets it).

mod agent;

use agent::{free_port, get, wait_listening, Running};
use ingest::exposition::{parse, Format};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const PROCESS_EXPORTER: &str = "/usr/bin/prometheus-process-exporter";

struct Scrape {
    /// `name{sorted labels}` to value, for the planted groups.
    series: BTreeMap<String, f64>,
    /// Family name to (TYPE, HELP), for every `namedprocess_` family.
    families: BTreeMap<String, (String, String)>,
}

fn scrape(addr: &str, groups: &[String; 3]) -> Scrape {
    let (status, body) = get(addr, "/metrics");
    assert!(
        status.contains(" 200 "),
        "GET http://{addr}/metrics: {status}"
    );
    let exposition =
        parse(body.as_bytes(), Format::PrometheusText).unwrap_or_else(|e| panic!("{addr}: {e}"));
    let mut series = BTreeMap::new();
    for sample in exposition.samples {
        let name = sample.labels.metric_name().unwrap_or_default().to_string();
        let group = sample.labels.get("groupname").unwrap_or_default();
        if !groups.iter().any(|g| g == group) {
            continue;
        }
        if group == groups[0] && name == "namedprocess_namegroup_threads_wchan" {
            continue;
        }
        let mut pairs: Vec<String> = sample
            .labels
            .iter()
            .filter(|(n, _)| *n != "__name__")
            .map(|(n, v)| format!("{n}={v:?}"))
            .collect();
        pairs.sort();
        series.insert(format!("{name}{{{}}}", pairs.join(",")), sample.value);
    }
    let families = exposition
        .metadata
        .into_iter()
        .filter(|m| m.metric_family_name.starts_with("namedprocess_"))
        .map(|m| {
            let kind = format!("{:?}", m.metric_type);
            (m.metric_family_name, (kind, m.help))
        })
        .collect();
    Scrape { series, families }
}

/// Whether process-exporter's `theirs` agrees with the agent's reads `a` then `b`.
fn agrees(key: &str, theirs: f64, a: f64, b: f64) -> bool {
    let (lo, hi) = (a.min(b), a.max(b));
    let within = |slack: f64| theirs >= lo - slack && theirs <= hi + slack;
    if key.contains("cpu_seconds_total") {
        within(0.02)
    } else if key.ends_with("_total") || key.contains("_total{") {
        within(0.0)
    } else if key.contains("oldest_start_time") {
        within(1.0)
    } else if key.contains("memtype=\"resident\"") || key.contains("memtype=\"proportional") {
        within(0.05 * hi.abs() + 65536.0)
    } else {
        theirs == a
    }
}

fn compare(agent_addr: &str, pe_addr: &str, groups: &[String; 3]) -> usize {
    let before = scrape(agent_addr, groups);
    let reference = scrape(pe_addr, groups);
    let after = scrape(agent_addr, groups);
    let ours: BTreeSet<&String> = before.series.keys().collect();
    let theirs: BTreeSet<&String> = reference.series.keys().collect();
    let missing: Vec<_> = theirs.difference(&ours).collect();
    let extra: Vec<_> = ours.difference(&theirs).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "series differ\nonly process-exporter has: {missing:#?}\nonly the agent has: {extra:#?}"
    );
    for (name, meta) in &reference.families {
        if let Some(our) = before.families.get(name) {
            assert_eq!(our, meta, "TYPE/HELP of {name}");
        }
    }
    let mut wrong = Vec::new();
    for (key, value) in &reference.series {
        let a = before.series[key];
        let b = after.series.get(key).copied().unwrap_or(a);
        if !agrees(key, *value, a, b) {
            wrong.push(format!(
                "{key}: process-exporter {value}, agent {a} then {b}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "values out of tolerance:\n{}",
        wrong.join("\n")
    );
    reference.series.len()
}

fn copy_binary(from: &str, to: &Path) {
    std::fs::copy(from, to).unwrap_or_else(|e| panic!("copying {from}: {e}"));
}

fn spawn(program: &Path, args: &[&str]) -> Running {
    Running(
        Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", program.display())),
    )
}

#[test]
fn agent_matches_process_exporter() {
    differential("", false);
}

#[test]
fn smaps_with_gather_smaps() {
    differential("2", true);
}

/// Plants the groups `wsburn{suffix}`, `wssleep{suffix}`, `wsthreads{suffix}`
/// and compares the two exporters on them.
fn differential(suffix: &str, smaps: bool) {
    if !Path::new(PROCESS_EXPORTER).exists() {
        assert!(
            std::env::var("WHYSLOW_REQUIRE_PROCESS_EXPORTER").as_deref() != Ok("1"),
            "{PROCESS_EXPORTER} is missing and WHYSLOW_REQUIRE_PROCESS_EXPORTER=1: apt-get install prometheus-process-exporter"
        );
        eprintln!("SKIP agent_matches_process_exporter: {PROCESS_EXPORTER} is not installed (apt-get install prometheus-process-exporter)");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("process-exporter.yml");
    std::fs::write(
        &config,
        "process_names:\n  - name: \"{{.Comm}}\"\n    cmdline:\n    - '.+'\n",
    )
    .expect("config");
    let pe_addr = format!("127.0.0.1:{}", free_port());
    let mut pe = spawn(
        Path::new(PROCESS_EXPORTER),
        &[
            "-config.path",
            config.to_str().expect("UTF-8 path"),
            "-web.listen-address",
            &pe_addr,
            "-threads=false",
            if smaps {
                "-gather-smaps=true"
            } else {
                "-gather-smaps=false"
            },
        ],
    );
    let agent_addr = format!("127.0.0.1:{}", free_port());
    let mut args = vec!["agent", "--listen", &agent_addr, "--no-cgroup-metrics"];
    if smaps {
        args.push("--gather-smaps");
    }
    let mut agent = spawn(Path::new(env!("CARGO_BIN_EXE_whyslow")), &args);
    let groups = ["wsburn", "wssleep", "wsthreads"].map(|g| format!("{g}{suffix}"));
    wait_listening(&pe_addr, "process-exporter", &mut pe);
    wait_listening(&agent_addr, "whyslow agent", &mut agent);
    // The first collection of each: processes running now count from here.
    let _ = (scrape(&agent_addr, &groups), scrape(&pe_addr, &groups));
    std::thread::sleep(Duration::from_millis(1100));

    let burn = dir.path().join(&groups[0]);
    copy_binary("/usr/bin/yes", &burn);
    let sleep = dir.path().join(&groups[1]);
    copy_binary("/bin/sleep", &sleep);
    let _burn = Running(
        Command::new(&burn)
            .stdout(Stdio::null())
            .spawn()
            .expect("starting wsburn"),
    );
    let sleepers = [spawn(&sleep, &["300"]), spawn(&sleep, &["301"])];
    let script = format!(
        "import ctypes, threading, time\n\
         ctypes.CDLL(None).prctl(15, b'{}', 0, 0, 0)\n\
         for _ in range(3): threading.Thread(target=time.sleep, args=(300,), daemon=True).start()\n\
         time.sleep(300)\n",
        groups[2]
    );
    let threads = spawn(Path::new("python3"), &["-c", &script]);
    // Neither exporter may see the Python process before it has renamed
    // itself and started its threads (both name a group at first sight):
    // wait for that, however slow the machine.
    let proc = format!("/proc/{}", threads.0.id());
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let comm = std::fs::read_to_string(format!("{proc}/comm")).unwrap_or_default();
        let tasks = std::fs::read_dir(format!("{proc}/task")).map_or(0, |d| d.count());
        if comm.trim() == groups[2] && tasks == 4 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} did not start its threads within 60 s",
            groups[2]
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1000));

    let compared = compare(&agent_addr, &pe_addr, &groups);
    assert!(compared >= 60, "only {compared} series compared");

    // All of wssleep's processes exit: the group stays, with its counters.
    drop(sleepers);
    std::thread::sleep(Duration::from_millis(300));
    let after_exit = compare(&agent_addr, &pe_addr, &groups);
    let gone = scrape(&agent_addr, &groups);
    let key = format!(
        "namedprocess_namegroup_num_procs{{groupname={:?}}}",
        groups[1]
    );
    assert_eq!(gone.series.get(&key).copied(), Some(0.0));
    if smaps {
        let pss = format!(
            "namedprocess_namegroup_memory_bytes{{groupname={:?},memtype=\"proportionalResident\"}}",
            groups[2]
        );
        assert!(gone.series.get(&pss).is_some_and(|v| *v > 0.0), "{pss}");
    }
    eprintln!("agent and process-exporter (smaps {smaps}) agree on {compared} series, then {after_exit} after {} exited", groups[1]);
}
