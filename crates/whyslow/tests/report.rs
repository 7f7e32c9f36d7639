//! End-to-end: every output format, `report` round trips, `diff`, and readers
//! of other tools' files (`go tool pprof`, `perf script`).

mod common;

use common::*;
use std::process::Command;

/// One recording of the workload in every format, shared by the checks below.
fn record_all_formats(dir: &TempDir) {
    let w = workload(Build::NoFramePointers)
        .to_string_lossy()
        .into_owned();
    let output = run(&[
        "record",
        "-q",
        "-F",
        "499",
        "--view",
        "cpu",
        "-o",
        &dir.str("p.html"),
        "-o",
        &dir.str("p.folded"),
        "-o",
        &dir.str("p.pb.gz"),
        "-o",
        &dir.str("p.speedscope.json"),
        "-o",
        &dir.str("p.perf-script"),
        "--",
        &w,
        "1",
        "0",
    ]);
    assert!(output.status.success(), "{:?}", text(&output));
}

/// Converts `input` to folded via `report`.
fn to_folded(input: &str, out: &str) -> Folded {
    let output = run(&["report", input, "--view", "cpu", "--top", "0", "-o", out]);
    assert!(
        output.status.success(),
        "report {input}: {:?}",
        text(&output)
    );
    parse_folded(&std::fs::read_to_string(out).expect("output written"))
}

#[test]
fn report_round_trips_every_format() {
    let dir = TempDir::new("formats");
    record_all_formats(&dir);
    let original = parse_folded(&std::fs::read_to_string(dir.path("p.folded")).unwrap());
    assert!(total(&original) > 0);
    for input in [
        "p.html",
        "p.pb.gz",
        "p.speedscope.json",
        "p.perf-script",
        "p.folded",
    ] {
        let back = to_folded(&dir.str(input), &dir.str(&format!("{input}.folded")));
        assert_eq!(total(&back), total(&original), "{input}: totals differ");
        assert_eq!(
            back, original,
            "{input}: stacks differ after the round trip"
        );
    }
    // And a second hop: pprof → speedscope → html → folded.
    let hop1 = dir.str("hop.speedscope.json");
    let hop2 = dir.str("hop.html");
    assert!(run(&[
        "report",
        &dir.str("p.pb.gz"),
        "--top",
        "0",
        "--view",
        "cpu",
        "-o",
        &hop1
    ])
    .status
    .success());
    assert!(run(&["report", &hop1, "--top", "0", "-o", &hop2])
        .status
        .success());
    let back = to_folded(&hop2, &dir.str("hop.folded"));
    assert_eq!(total(&back), total(&original));
}

#[test]
fn folded_matches_flamegraph_totals() {
    let dir = TempDir::new("totals");
    record_all_formats(&dir);
    let folded = parse_folded(&std::fs::read_to_string(dir.path("p.folded")).unwrap());
    // The HTML embeds the data the page draws; `report` reads it back.
    let from_html = to_folded(&dir.str("p.html"), &dir.str("html.folded"));
    assert_eq!(total(&folded), total(&from_html));
    assert_eq!(
        leaf_percent(&folded, "hot_a"),
        leaf_percent(&from_html, "hot_a")
    );
    let html = std::fs::read_to_string(dir.path("p.html")).unwrap();
    assert!(
        html.contains("<canvas") || html.contains("canvas"),
        "flamegraph page has no canvas"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://cdn"),
        "page must be self-contained"
    );
    let _ = std::fs::copy(
        dir.path("p.html"),
        artifacts_dir().join("record-workload.html"),
    );
}

#[test]
fn go_tool_pprof_reads_our_pprof() {
    if Command::new("go").arg("version").output().is_err() {
        eprintln!("SKIP: `go` not installed (dev/test installs golang-go)");
        return;
    }
    let dir = TempDir::new("pprof");
    record_all_formats(&dir);
    let output = Command::new("go")
        .args(["tool", "pprof", "-top", "-nodecount=5"])
        .arg(dir.path("p.pb.gz"))
        .env("HOME", &dir.0)
        .env("GOCACHE", dir.path("gocache"))
        .env("GOFLAGS", "-mod=mod")
        .output()
        .expect("go tool pprof runs");
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "go tool pprof failed:\n{stdout}\n{stderr}"
    );
    let first = stdout
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("flat"))
        .nth(1)
        .unwrap_or_default();
    assert!(
        first.contains("workload::hot_a"),
        "top function per go tool pprof is not hot_a:\n{stdout}"
    );
}

#[test]
fn report_reads_perf_script_output() {
    let dir = TempDir::new("perfscript");
    let w = workload(Build::FramePointers)
        .to_string_lossy()
        .into_owned();
    let data = dir.str("perf.data");
    let rec = Command::new("perf")
        .args([
            "record",
            "-q",
            "-e",
            "cpu-clock",
            "-F",
            "499",
            "-g",
            "-o",
            &data,
            "--",
            &w,
            "1",
            "0",
        ])
        .output();
    let Ok(rec) = rec else {
        eprintln!("SKIP: perf not installed (dev/test installs linux-perf)");
        return;
    };
    assert!(rec.status.success(), "perf record: {:?}", text(&rec));
    let script = Command::new("perf")
        .args(["script", "-i", &data])
        .output()
        .unwrap();
    assert!(script.status.success());
    let input = dir.path("perf.txt");
    std::fs::write(&input, &script.stdout).unwrap();
    let out = dir.str("perf.folded");
    let folded = to_folded(&input.to_string_lossy(), &out);
    let a = leaf_percent(&folded, "hot_a");
    // The share perf's own text gives (leaf frame of each record), counted
    // here independently: the reader must agree exactly, whatever the load
    // on the machine did to the workload's timing.
    let perf_text = String::from_utf8_lossy(&script.stdout);
    let (mut all, mut hot) = (0u64, 0u64);
    for record in perf_text.split("\n\n").filter(|r| !r.trim().is_empty()) {
        // `comm pid/tid time: PERIOD cpu-clock:` then frames, leaf first.
        let mut lines = record.lines();
        let header: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
        let event = header.iter().position(|t| *t == "cpu-clock:");
        let period: u64 = event
            .and_then(|i| header.get(i.wrapping_sub(1)))
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        all += period;
        let symbol = lines
            .next()
            .and_then(|leaf| leaf.split_whitespace().nth(1))
            .unwrap_or("");
        let symbol = symbol.rsplit_once("+0x").map_or(symbol, |(name, _)| name);
        if symbol.ends_with("hot_a") {
            hot += period;
        }
    }
    let expected = 100.0 * hot as f64 / all.max(1) as f64;
    assert!(
        (a - expected).abs() < 0.01,
        "hot_a {a:.2}% from whyslow, {expected:.2}% counted in perf's text"
    );
    assert!(a > 30.0, "hot_a only {a:.1}%: the workload did not run");
    // And from standard input.
    let mut child = whyslow()
        .args(["report", "-", "--top", "5"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&script.stdout)
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains("hot_a"));
}

#[test]
fn diff_writes_differential_flamegraph_and_changes() {
    let dir = TempDir::new("diff");
    let w = workload(Build::NoFramePointers)
        .to_string_lossy()
        .into_owned();
    // Same program, different shape: 70/30 before, 40/60 after.
    let a = dir.str("a.pb.gz");
    let b = dir.str("b.pb.gz");
    assert!(
        run(&["record", "-q", "-F", "499", "-o", &a, "--", &w, "1", "0", "70"])
            .status
            .success()
    );
    assert!(
        run(&["record", "-q", "-F", "499", "-o", &b, "--", &w, "1", "0", "40"])
            .status
            .success()
    );
    let out = dir.str("diff.html");
    let output = run(&["diff", &a, &b, "-o", &out]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("hot_a"));
    let row = stdout
        .lines()
        .find(|l| l.contains("hot_a"))
        .unwrap_or_else(|| panic!("changes table:\n{stdout}"));
    assert!(row.contains('-'), "hot_a should have shrunk: {row}");
    let _ = std::fs::copy(&out, artifacts_dir().join("diff-example.html"));
}
