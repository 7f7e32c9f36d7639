//! Differential test: `whyslow agent` against the real node_exporter (Debian's
//! `prometheus-node-exporter`, 1.5.0 on bookworm) on the same machine, both
//! with only the cpu, diskstats, filefd, filesystem, loadavg, meminfo, netdev,
//! netstat, pressure, stat, uname and vmstat collectors.
//!
//! Both are scraped in the order agent, node_exporter, agent, and parsed with
//! `ingest::exposition`. Required:
//! - the same series (metric name and label set) and, per family, the same
//!   TYPE and HELP. Left out of node_exporter's answer: `go_*`, `process_*`,
//!   `promhttp_*` (the Go runtime, process and HTTP handler of node_exporter
//!   itself) and `node_exporter_build_info` (its version);
//! - values: a counter read by node_exporter lies between the agent's two
//!   reads (it was read between them), give or take 2 clock ticks for CPU
//!   times; constants (uname, boot time, sizes, totals, collector success)
//!   are equal; gauges lie within the agent's two reads widened by a stated
//!   per-family slack (memory 5 % or 64 MiB, load 0.3, process counts 8, …);
//!   `node_scrape_collector_duration_seconds` is timing and not compared.
//!
//! Skips with a message when node_exporter is not installed, unless
//! WHYSLOW_REQUIRE_NODE_EXPORTER=1 (dev/test sets it).

mod agent;

use agent::{free_port, get, wait_listening, Running};
use ingest::exposition::{parse, Exposition, Format};
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};

const NODE_EXPORTER: &str = "/usr/bin/prometheus-node-exporter";

/// Series key (`name{a="b",…}`, labels sorted) to value, and family name to (TYPE, HELP).
struct Scrape {
    series: BTreeMap<String, f64>,
    families: BTreeMap<String, (String, String)>,
}

fn scrape(addr: &str) -> Scrape {
    let (status, body) = get(addr, "/metrics");
    assert!(
        status.contains(" 200 "),
        "GET http://{addr}/metrics: {status}"
    );
    let exposition: Exposition = parse(body.as_bytes(), Format::PrometheusText)
        .unwrap_or_else(|e| panic!("{addr}: {e}\n{body}"));
    let own = |name: &str| {
        // The agent's per-process and per-cgroup families are compared
        // with process-exporter in agent_vs_process_exporter.rs.
        [
            "go_",
            "process_",
            "promhttp_",
            "namedprocess_",
            "container_",
        ]
        .iter()
        .any(|p| name.starts_with(p))
            || name == "node_exporter_build_info"
    };
    let mut series = BTreeMap::new();
    for sample in exposition.samples {
        let name = sample.labels.metric_name().unwrap_or_default().to_string();
        if own(&name) {
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
        .filter(|m| !own(&m.metric_family_name))
        .map(|m| {
            (
                m.metric_family_name.clone(),
                (format!("{:?}", m.metric_type), m.help.clone()),
            )
        })
        .collect();
    Scrape { series, families }
}

/// How far node_exporter's value may be from the agent's two reads.
enum Tolerance {
    /// Not compared (timing).
    Skip,
    /// Equal.
    Exact,
    /// Within [min, max] of the agent's reads, widened by `abs` plus `rel` of max.
    Between { abs: f64, rel: f64 },
}

fn tolerance(key: &str) -> Tolerance {
    let name = key.split('{').next().unwrap_or_default();
    const MIB: f64 = 1024.0 * 1024.0;
    let exact = [
        "node_uname_info",
        "node_disk_info",
        "node_boot_time_seconds",
        "node_filefd_maximum",
        "node_filesystem_size_bytes",
        "node_filesystem_files",
        "node_filesystem_readonly",
        "node_filesystem_device_error",
        "node_scrape_collector_success",
        "node_netstat_Ip_Forwarding",
        "node_memory_MemTotal_bytes",
        "node_memory_SwapTotal_bytes",
        "node_memory_VmallocTotal_bytes",
        "node_memory_Hugepagesize_bytes",
        "node_memory_HugePages_Total",
    ];
    match name {
        "node_scrape_collector_duration_seconds" => Tolerance::Skip,
        n if exact.contains(&n) => Tolerance::Exact,
        n if n.starts_with("node_memory_") => Tolerance::Between {
            abs: 64.0 * MIB,
            rel: 0.05,
        },
        "node_load1" | "node_load5" | "node_load15" => Tolerance::Between { abs: 0.3, rel: 0.1 },
        "node_procs_running" | "node_procs_blocked" => Tolerance::Between { abs: 8.0, rel: 0.0 },
        "node_filefd_allocated" => Tolerance::Between {
            abs: 512.0,
            rel: 0.0,
        },
        "node_disk_io_now" => Tolerance::Between {
            abs: 64.0,
            rel: 0.0,
        },
        "node_filesystem_free_bytes" | "node_filesystem_avail_bytes" => Tolerance::Between {
            abs: 1024.0 * MIB,
            rel: 0.0,
        },
        "node_filesystem_files_free" => Tolerance::Between {
            abs: 100_000.0,
            rel: 0.0,
        },
        "node_netstat_Tcp_CurrEstab" => Tolerance::Between {
            abs: 32.0,
            rel: 0.0,
        },
        // CPU times are clock ticks / 100: two ticks of slack for the
        // idle/iowait accounting the kernel may revise between reads.
        "node_cpu_seconds_total" | "node_cpu_guest_seconds_total" => Tolerance::Between {
            abs: 0.02,
            rel: 1e-9,
        },
        // Counters (and netstat/vmstat's untyped counters): bracketed by the agent's reads.
        _ => Tolerance::Between {
            abs: 0.0,
            rel: 1e-12,
        },
    }
}

#[test]
fn agent_matches_node_exporter() {
    if !std::path::Path::new(NODE_EXPORTER).exists() {
        assert!(
            std::env::var("WHYSLOW_REQUIRE_NODE_EXPORTER").as_deref() != Ok("1"),
            "{NODE_EXPORTER} is missing and WHYSLOW_REQUIRE_NODE_EXPORTER=1: apt-get install prometheus-node-exporter"
        );
        eprintln!("SKIP agent_matches_node_exporter: {NODE_EXPORTER} is not installed (apt-get install prometheus-node-exporter)");
        return;
    }
    let ne_addr = format!("127.0.0.1:{}", free_port());
    let mut ne = Command::new(NODE_EXPORTER);
    ne.arg(format!("--web.listen-address={ne_addr}"))
        .arg("--collector.disable-defaults");
    for c in host::COLLECTORS {
        ne.arg(format!("--collector.{c}"));
    }
    let mut ne = Running(
        ne.stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting node_exporter"),
    );
    let agent_addr = format!("127.0.0.1:{}", free_port());
    let mut agent = Running(
        Command::new(env!("CARGO_BIN_EXE_whyslow"))
            .args(["agent", "--listen", &agent_addr])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting whyslow agent"),
    );
    wait_listening(&ne_addr, "node_exporter", &mut ne);
    wait_listening(&agent_addr, "whyslow agent", &mut agent);

    // One warm-up each (node_exporter registers some families lazily), then the compared reads.
    let _ = (scrape(&agent_addr), scrape(&ne_addr));
    let before = scrape(&agent_addr);
    let reference = scrape(&ne_addr);
    let after = scrape(&agent_addr);

    let ours: BTreeSet<&String> = before.series.keys().collect();
    let theirs: BTreeSet<&String> = reference.series.keys().collect();
    let missing: Vec<_> = theirs.difference(&ours).collect();
    let extra: Vec<_> = ours.difference(&theirs).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "series differ\nonly node_exporter has: {missing:#?}\nonly the agent has: {extra:#?}"
    );
    for (name, (kind, help)) in &reference.families {
        if let Some((our_kind, our_help)) = before.families.get(name) {
            assert_eq!((our_kind, our_help), (kind, help), "TYPE/HELP of {name}");
        }
    }

    let mut wrong = Vec::new();
    for (key, value) in &reference.series {
        let (a, b) = (
            before.series[key],
            after.series.get(key).copied().unwrap_or(before.series[key]),
        );
        let ok = match tolerance(key) {
            Tolerance::Skip => true,
            Tolerance::Exact => value == &a,
            Tolerance::Between { abs, rel } => {
                let (lo, hi) = (a.min(b), a.max(b));
                let slack = abs + rel * hi.abs();
                *value >= lo - slack && *value <= hi + slack
            }
        };
        if !ok {
            wrong.push(format!("{key}: node_exporter {value}, agent {a} then {b}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "values out of tolerance:\n{}",
        wrong.join("\n")
    );
    eprintln!(
        "agent and node_exporter agree on {} series in {} families",
        reference.series.len(),
        reference.families.len()
    );
}
