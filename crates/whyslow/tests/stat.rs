//! End-to-end: `whyslow stat` against the real binary, side by side with
//! Debian's `perf stat` on the same commands: the same event rows in the same
//! order, `<not supported>` where perf says so, counts that agree, and the
//! `-r`, `-x`, `-j`, `-I`, `-p` and exit-status behaviour perf users rely on.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output, Stdio};

/// 20 sleeps of 10 ms: at least 20 context switches, known page faults.
const SLEEPER: &str =
    "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sleep 0.01; done";

/// Runs `whyslow stat ARGS`; returns the output (perf's layout is on stderr).
fn stat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_whyslow"))
        .arg("stat")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Debian's perf, when installed and allowed to count.
fn perf_stat(args: &[&str]) -> Option<String> {
    let output = Command::new("perf").arg("stat").args(args).output().ok()?;
    output.status.success().then(|| stderr(&output))
}

/// One event row of perf's text layout.
#[derive(Debug, PartialEq)]
struct EventRow {
    name: String,
    /// `None` for `<not supported>` / `<not counted>`.
    count: Option<f64>,
    /// Where the ` # ` metric column starts, if the row has one.
    metric_at: Option<usize>,
    /// The line's length (perf pads every row to fixed columns).
    width: usize,
}

/// The event rows of perf's text layout, in order.
fn event_rows(text: &str) -> Vec<EventRow> {
    let mut rows = Vec::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.starts_with(" Performance counter stats for") {
            in_block = true;
            continue;
        }
        if !in_block || line.trim().is_empty() {
            continue;
        }
        if line.contains("seconds time elapsed") {
            break;
        }
        let body = line.split(" # ").next().unwrap().trim();
        let (count, rest) = if let Some(rest) = body.strip_prefix("<not supported>") {
            (None, rest)
        } else if let Some(rest) = body.strip_prefix("<not counted>") {
            (None, rest)
        } else {
            let (count, rest) = body.split_once(' ').unwrap();
            (Some(count.replace(',', "").parse::<f64>().unwrap()), rest)
        };
        let rest = rest.trim_start();
        let rest = rest.strip_prefix("msec").unwrap_or(rest);
        let name = rest.split_whitespace().next().unwrap().to_string();
        rows.push(EventRow {
            name,
            count,
            metric_at: line.find(" # "),
            width: line.len(),
        });
    }
    rows
}

fn row<'a>(rows: &'a [EventRow], name: &str) -> &'a EventRow {
    rows.iter().find(|r| r.name == name).unwrap()
}

#[test]
fn default_rows_match_perf_stat() {
    let ours = stat(&["--", "sh", "-c", SLEEPER]);
    assert!(ours.status.success(), "{}", stderr(&ours));
    let text = stderr(&ours);
    let our_rows = event_rows(&text);
    let names: Vec<&str> = our_rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        &names[..4],
        [
            "task-clock",
            "context-switches",
            "cpu-migrations",
            "page-faults"
        ],
        "{text}"
    );
    assert!(text.contains(" Performance counter stats for 'sh -c for i in"));
    assert!(text.contains(" seconds time elapsed\n\n"));
    assert!(text.contains(" seconds user\n"));
    assert!(text.contains(" seconds sys\n"));
    assert!(
        row(&our_rows, "context-switches").count.unwrap() >= 20.0,
        "{text}"
    );
    let Some(perf) = perf_stat(&["--", "sh", "-c", SLEEPER]) else {
        eprintln!("perf stat is not available: skipping the differential part");
        return;
    };
    let perf_rows = event_rows(&perf);
    let shape = |rows: &[EventRow]| {
        rows.iter()
            .map(|r| (r.name.clone(), r.count.is_some()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        shape(&our_rows),
        shape(&perf_rows),
        "ours:\n{text}\nperf:\n{perf}"
    );
    assert!(row(&perf_rows, "context-switches").count.unwrap() >= 20.0);
    let (ours, theirs) = (
        row(&our_rows, "page-faults").count.unwrap(),
        row(&perf_rows, "page-faults").count.unwrap(),
    );
    assert!(
        (ours - theirs).abs() <= 0.25 * theirs,
        "page-faults: whyslow {ours}, perf {theirs}"
    );
}

#[test]
fn without_a_pmu_says_why_and_what_is_real() {
    if std::path::Path::new("/sys/bus/event_source/devices/cpu").exists() {
        return;
    }
    let output = stat(&["--", "sleep", "0.05"]);
    let text = stderr(&output);
    let rows = event_rows(&text);
    for name in ["cycles", "instructions", "branches", "branch-misses"] {
        assert_eq!(
            row(&rows, name).count,
            None,
            "{name} must be <not supported>"
        );
    }
    assert!(
        !text.contains("insn per cycle"),
        "never an invented IPC:\n{text}"
    );
    assert!(text.contains(" hardware counters: not supported: no hardware PMU ("));
    assert!(text.contains(" top-down level 1: unavailable: no hardware PMU"));
    assert!(
        text.contains(" wall ") && text.contains("blocked/sleeping"),
        "{text}"
    );
    assert!(text.contains(" rusage: user "), "{text}");
}

#[test]
fn repeat_prints_plus_minus() {
    let output = stat(&["-r", "3", "--", "sh", "-c", "sleep 0.01"]);
    let text = stderr(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains(" Performance counter stats for 'sh -c sleep 0.01' (3 runs):"));
    assert!(
        text.contains("task-clock") && text.contains("( +-"),
        "{text}"
    );
    assert!(
        text.contains(" +- ") && text.contains(" seconds time elapsed"),
        "{text}"
    );
}

#[test]
fn csv_and_json_parse() {
    let output = stat(&["-x,", "--", "true"]);
    let text = stderr(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 8, "{text}");
    assert_eq!(lines[0].split(',').nth(2), Some("task-clock"), "{text}");
    for line in &lines {
        assert_eq!(line.split(',').count(), 7, "{line}");
    }
    let output = stat(&["-j", "--", "true"]);
    let text = stderr(&output);
    let events: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["event"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(events[0], "task-clock");
    assert_eq!(events.len(), 8, "{text}");
}

#[test]
fn interval_printing() {
    let output = stat(&["-I", "100", "-e", "task-clock,cs", "--", "sleep", "0.45"]);
    let text = stderr(&output);
    assert!(
        text.starts_with("#           time             counts unit events\n"),
        "{text}"
    );
    let times: std::collections::BTreeSet<&str> = text
        .lines()
        .filter(|l| l.contains("task-clock"))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert!(times.len() >= 4, "{text}");
}

#[test]
fn exit_status_propagates() {
    let output = stat(&["--", "sh", "-c", "exit 7"]);
    assert_eq!(output.status.code(), Some(7));
    let output = stat(&["--", "definitely-not-a-command-xyz"]);
    assert_eq!(output.status.code(), Some(127));
    assert!(stderr(&output).contains("command not found: `definitely-not-a-command-xyz`"));
    let output = stat(&["-e", "nosuch", "--", "true"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("unknown event 'nosuch'"));
}

#[test]
fn attaches_to_a_sleeping_process() {
    let mut child = Command::new("sleep")
        .arg("0.5")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let started = std::time::Instant::now();
    let output = stat(&["-p", &pid]);
    let text = stderr(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        started.elapsed().as_secs_f64() < 3.0,
        "stops when the process exits"
    );
    assert!(text.contains(&format!(
        " Performance counter stats for process id '{pid}':"
    )));
    assert!(text.contains("task-clock"), "{text}");
    child.wait().unwrap();
    let output = stat(&["-p", "999999999"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("no such process"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn system_wide_with_tracepoint() {
    let output = stat(&[
        "-a",
        "-e",
        "cpu-clock,cs,sched:sched_switch",
        "--duration",
        "200ms",
    ]);
    let text = stderr(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains(" Performance counter stats for 'system wide':"),
        "{text}"
    );
    let rows = event_rows(&text);
    assert!(
        row(&rows, "sched:sched_switch").count.unwrap() > 0.0,
        "{text}"
    );
    assert!(row(&rows, "cpu-clock").count.unwrap() > 100.0, "{text}");
}
