//! End-to-end: `whyslow bench` against real commands — the ratio of two sleeps,
//! a planted outlier, the baseline gate's exit code, exports, parameter scans,
//! failing commands, the HTML report and `--profile`. Run counts are small so
//! the whole file takes a few seconds.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Output;
use std::sync::{Mutex, MutexGuard};

/// One benchmark at a time: the tests time sleeps, and nine benchmarks
/// sharing two cores would mostly measure each other.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `whyslow bench ARGS`.
fn bench(args: &[&str]) -> Output {
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    run(&all)
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("JSON export written");
    serde_json::from_str(&text).expect("JSON export parses")
}

fn f(value: &Value) -> f64 {
    value.as_f64().expect("a number")
}

/// The comparison's ratio CI, widened by `tolerance`, contains `expected`.
fn assert_ratio_near(json: &Value, faster: &str, expected: f64, tolerance: f64) {
    let comparison = &json["comparisons"][0];
    assert_eq!(comparison["faster"], faster, "{comparison}");
    let (low, high) = (
        f(&comparison["ratio_ci"]["low"]),
        f(&comparison["ratio_ci"]["high"]),
    );
    assert!(
        low - tolerance <= expected && expected <= high + tolerance,
        "ratio CI [{low}, {high}] ± {tolerance} does not contain {expected}: {comparison}"
    );
    assert_eq!(comparison["test"], "Welch's t-test");
    let p = f(&comparison["p_value"]);
    assert!((0.0..=1.0).contains(&p), "{comparison}");
}

#[test]
fn sleeping_twice_as_long_is_twice_as_slow_without_a_shell() {
    let _serial = serial();
    let dir = TempDir::new("bench-ratio-n");
    let json = dir.path("out.json");
    let output = bench(&[
        "-N",
        "--runs",
        "5",
        "--warmup",
        "1",
        "--seed",
        "7",
        "sleep 0.05",
        "sleep 0.1",
        "--export-json",
        json.to_str().expect("utf-8 path"),
    ]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("`sleep 0.05` is "), "{stdout}");
    assert!(
        stdout.contains("× faster than `sleep 0.1` (95 % CI "),
        "{stdout}"
    );
    let json = read_json(&json);
    assert_eq!(json["shell"], "none");
    assert!(json["shell_overhead_s"].is_null());
    // -N subtracts nothing, so the ~1–3 ms spawn of `sleep` (more on a busy
    // machine) pulls the ratio below 2.
    assert_ratio_near(&json, "sleep 0.05", 2.0, 0.15);
}

#[test]
fn the_shell_overhead_is_measured_and_subtracted() {
    let _serial = serial();
    let dir = TempDir::new("bench-ratio-sh");
    let json = dir.path("out.json");
    let output = bench(&[
        "--runs",
        "5",
        "--seed",
        "7",
        "sleep 0.05",
        "sleep 0.1",
        "--export-json",
        json.to_str().expect("utf-8 path"),
    ]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let json = read_json(&json);
    assert_eq!(json["shell"], "sh");
    let overhead = f(&json["shell_overhead_s"]);
    assert!(overhead > 0.0 && overhead < 0.05, "overhead {overhead}");
    assert_ratio_near(&json, "sleep 0.05", 2.0, 0.1);
    let first = &json["results"][0];
    assert!(
        f(&first["mean"]) > 0.045 && f(&first["mean"]) < 0.15,
        "{first}"
    );
}

#[test]
fn a_planted_slow_run_is_flagged_as_an_outlier() {
    let _serial = serial();
    let dir = TempDir::new("bench-outlier");
    let counter = dir.str("counter");
    let json = dir.path("out.json");
    // The third timed run sleeps 0.3 s, the others 0.02 s.
    let command = format!(
        "n=$(cat {counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {counter}; \
         if [ $n -eq 3 ]; then sleep 0.3; else sleep 0.02; fi"
    );
    let output = bench(&[
        "--runs",
        "10",
        &command,
        "--export-json",
        json.to_str().expect("utf-8 path"),
    ]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let outliers = read_json(&json)["results"][0]["outliers"].clone();
    let outliers: Vec<u64> = outliers
        .as_array()
        .expect("outlier indices")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert!(
        outliers.contains(&2),
        "the third run is an outlier: {outliers:?}"
    );
    assert!(stdout.contains("statistical outlier"), "{stdout}");
}

#[test]
fn the_baseline_gate_fails_on_a_regression_and_passes_without_one() {
    let _serial = serial();
    let dir = TempDir::new("bench-baseline");
    let duration = dir.path("duration");
    let baseline = dir.str("baseline.json");
    let command = format!("sleep $(cat {})", duration.display());
    std::fs::write(&duration, "0.05").expect("write");
    let saved = bench(&["--runs", "6", &command, "--export-json", &baseline]);
    assert!(saved.status.success(), "{:?}", text(&saved));

    // Four times as slow: a significant regression far beyond 5 %, even on a busy machine.
    std::fs::write(&duration, "0.2").expect("write");
    let regressed = bench(&["--runs", "6", &command, "--baseline", &baseline]);
    let (stdout, stderr) = text(&regressed);
    assert_eq!(regressed.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(stdout.contains("REGRESSION: `sleep $(cat"), "{stdout}");
    assert!(stdout.contains("% slower than the baseline"), "{stdout}");
    assert!(stderr.contains("exiting with status 3"), "{stderr}");

    // Unchanged: passes. (A 50 % threshold keeps a busy shared machine's jitter out.)
    std::fs::write(&duration, "0.05").expect("write");
    let unchanged = bench(&[
        "--runs",
        "6",
        &command,
        "--baseline",
        &baseline,
        "--threshold",
        "50%",
    ]);
    let (stdout, stderr) = text(&unchanged);
    assert_eq!(unchanged.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(!stdout.contains("REGRESSION"), "{stdout}");

    let missing = bench(&["--runs", "1", "true", "--baseline", &dir.str("nope.json")]);
    let (_, stderr) = text(&missing);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr.contains("cannot read baseline"), "{stderr}");
}

#[test]
fn exports_parse_with_the_expected_fields() {
    let _serial = serial();
    let dir = TempDir::new("bench-exports");
    let (json, csv, markdown, report) = (
        dir.path("a.json"),
        dir.path("a.csv"),
        dir.path("a.md"),
        dir.path("a.html"),
    );
    let output = bench(&[
        "--runs",
        "3",
        "-N",
        "sleep 0.01",
        "sleep 0.02",
        "--export-json",
        json.to_str().expect("utf-8"),
        "--export-csv",
        csv.to_str().expect("utf-8"),
        "--export-markdown",
        markdown.to_str().expect("utf-8"),
        "--report",
        report.to_str().expect("utf-8"),
    ]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    // No progress bar when stderr is not a terminal.
    assert!(!stderr.contains("Benchmark 1/2"), "{stderr}");
    assert!(
        stdout.contains("Time (mean ± σ):") && stdout.contains("Range (min … max):"),
        "{stdout}"
    );

    let json = read_json(&json);
    for field in [
        "command",
        "mean",
        "stddev",
        "median",
        "user",
        "system",
        "min",
        "max",
        "times",
        "exit_codes",
        "memory_usage_byte",
        "peak_rss_bytes",
        "mean_ci",
        "median_ci",
        "outliers",
    ] {
        assert!(
            !json["results"][0][field].is_null(),
            "results[0].{field} missing"
        );
    }
    assert_eq!(
        json["results"][1]["times"].as_array().map(Vec::len),
        Some(3)
    );
    assert!(f(&json["results"][0]["peak_rss_bytes"]) > 0.0);

    let csv = std::fs::read_to_string(csv).expect("CSV written");
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert_eq!(
        &rows[0][..8],
        ["command", "mean", "stddev", "median", "user", "system", "min", "max"]
    );
    assert_eq!(rows[1][0], "sleep 0.01");
    let mean: f64 = rows[2][1].parse().expect("mean is a number");
    assert!(mean > 0.015 && mean < 0.2, "{mean}");

    let markdown = std::fs::read_to_string(markdown).expect("Markdown written");
    assert!(
        markdown.starts_with("| Command | Mean [ms] | Min [ms] | Max [ms] | Relative |"),
        "{markdown}"
    );
    assert!(markdown.contains("| `sleep 0.02` |"), "{markdown}");

    let html = std::fs::read_to_string(report).expect("report written");
    assert!(html.contains("<svg class=\"violins\""));
    assert_eq!(html.matches("<svg class=\"histogram\"").count(), 2);
    assert!(
        html.contains("id=\"bench-data\"")
            && !html.contains("http://")
            && !html.contains("https://")
    );
}

#[test]
fn parameter_scans_expand() {
    let _serial = serial();
    let dir = TempDir::new("bench-params");
    let json = dir.path("p.json");
    let output = bench(&[
        "--runs",
        "2",
        "-P",
        "n",
        "1",
        "3",
        "sleep 0.00{n}",
        "--export-json",
        json.to_str().expect("utf-8"),
    ]);
    assert!(output.status.success(), "{:?}", text(&output));
    let json = read_json(&json);
    let commands: Vec<&str> = json["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["command"].as_str())
        .collect();
    assert_eq!(commands, ["sleep 0.001", "sleep 0.002", "sleep 0.003"]);
    assert_eq!(json["results"][2]["parameters"]["n"], "3");

    let output = bench(&[
        "--runs",
        "1",
        "-N",
        "-L",
        "what",
        "true,false",
        "-i",
        "{what}",
        "--export-json",
        &dir.str("l.json"),
    ]);
    assert!(output.status.success(), "{:?}", text(&output));
    let json = read_json(&dir.path("l.json"));
    assert_eq!(json["results"][1]["command"], "false");
    assert_eq!(json["results"][1]["parameters"]["what"], "false");

    let decimal = bench(&[
        "--runs",
        "1",
        "-P",
        "t",
        "0",
        "0.02",
        "-D",
        "0.01",
        "sleep {t}",
    ]);
    let (stdout, _) = text(&decimal);
    assert!(stdout.contains("Benchmark 3: sleep 0.02"), "{stdout}");
    let unused = bench(&["--runs", "1", "-P", "n", "1", "2", "true"]);
    assert!(
        text(&unused).1.contains("no command uses `{n}`"),
        "{:?}",
        text(&unused)
    );
}

#[test]
fn a_failing_command_errors_unless_ignored() {
    let _serial = serial();
    let failed = bench(&["--runs", "2", "exit 7"]);
    let (_, stderr) = text(&failed);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        stderr.contains("command `exit 7` exited with status 7"),
        "{stderr}"
    );
    assert!(stderr.contains("-i/--ignore-failure"), "{stderr}");

    let dir = TempDir::new("bench-ignore");
    let json = dir.str("i.json");
    let ignored = bench(&["--runs", "2", "-i", "exit 7", "--export-json", &json]);
    let (stdout, stderr) = text(&ignored);
    assert!(ignored.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("2 of 2 runs exited with a non-zero status"),
        "{stdout}"
    );
    assert_eq!(
        read_json(Path::new(&json))["results"][0]["exit_codes"],
        serde_json::json!([7, 7])
    );

    let prepare = bench(&["--runs", "1", "--prepare", "exit 2", "true"]);
    assert!(text(&prepare)
        .1
        .contains("prepare command `exit 2` exited with status 2"));
    let missing = bench(&["--runs", "1", "-N", "no-such-program-xyz"]);
    assert!(
        text(&missing)
            .1
            .contains("cannot run `no-such-program-xyz`"),
        "{:?}",
        text(&missing)
    );
}

#[test]
fn adaptive_run_counts_follow_min_time() {
    let _serial = serial();
    let dir = TempDir::new("bench-adaptive");
    let runs_of = |min_runs: &str, max_runs: &str| {
        let json = dir.str(&format!("a-{min_runs}-{max_runs}.json"));
        let output = bench(&[
            "--min-time",
            "0.3s",
            "--min-runs",
            min_runs,
            "--max-runs",
            max_runs,
            "-N",
            "sleep 0.02",
            "--export-json",
            &json,
        ]);
        assert!(output.status.success(), "{:?}", text(&output));
        read_json(Path::new(&json))["results"][0]["times"]
            .as_array()
            .map_or(0, Vec::len)
    };
    // 0.3 s / ~0.02 s per run ≈ 15 runs (fewer when the first run was slow).
    let free = runs_of("2", "100");
    assert!((5..=16).contains(&free), "{free} runs");
    // The bounds win over the time.
    assert_eq!(runs_of("2", "4"), 4);
    assert_eq!(runs_of("25", "30"), 25);
}

#[test]
fn profile_writes_a_flamegraph_per_command_and_a_diff() {
    let _serial = serial();
    let dir = TempDir::new("bench-profile");
    let profiles = dir.path("profiles");
    let loop_of = |n: u32| format!("i=0; while [ $i -lt {n} ]; do i=$((i+1)); done");
    let output = bench(&[
        "--runs",
        "2",
        &loop_of(100_000),
        &loop_of(200_000),
        "--profile",
        "--profile-dir",
        profiles.to_str().expect("utf-8"),
    ]);
    let (stdout, stderr) = text(&output);
    if !output.status.success() && stderr.contains("perf_event_paranoid") {
        eprintln!("skipping: perf_event_open is not permitted here: {stderr}");
        assert!(stdout.contains("Benchmark 2"), "timing still ran: {stdout}");
        return;
    }
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let mut files: Vec<String> = std::fs::read_dir(&profiles)
        .expect("profile dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    files.sort();
    assert_eq!(files.len(), 3, "{files:?}");
    assert!(
        files[0].starts_with("1-") && files[1].starts_with("2-"),
        "{files:?}"
    );
    assert_eq!(files[2], "diff-1-2.html");
    assert!(stderr.contains("flamegraph of `i=0;"), "{stderr}");
    let page = std::fs::read_to_string(profiles.join(&files[1])).expect("flamegraph");
    assert!(
        page.contains("<canvas") || page.contains("canvas"),
        "a flamegraph page"
    );
}

#[test]
fn hyperfine_options_name_reference_sort_and_export_tables() {
    let _serial = serial();
    let dir = TempDir::new("bench-hyperfine-options");
    let (json, markdown, asciidoc, orgmode) = (
        dir.path("h.json"),
        dir.path("h.md"),
        dir.path("h.adoc"),
        dir.path("h.org"),
    );
    let output = bench(&[
        "--runs",
        "3",
        "-N",
        "--reference",
        "sleep 0.03",
        "--reference-name",
        "ref",
        "-n",
        "slow",
        "-n",
        "fast",
        "sleep 0.04",
        "sleep 0.01",
        "--sort",
        "mean-time",
        "-u",
        "millisecond",
        "--export-json",
        json.to_str().expect("utf-8"),
        "--export-markdown",
        markdown.to_str().expect("utf-8"),
        "--export-asciidoc",
        asciidoc.to_str().expect("utf-8"),
        "--export-orgmode",
        orgmode.to_str().expect("utf-8"),
    ]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Benchmark 1: ref\n"), "{stdout}");
    assert!(stdout.contains("Benchmark 3: fast\n"), "{stdout}");
    // Every comparison is against the reference, fastest other first.
    let summary = stdout.split("Summary").nth(1).expect("a summary");
    let lines: Vec<&str> = summary.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 2, "{summary}");
    assert!(
        lines[0].contains("`fast` is") && lines[0].contains("than `ref`"),
        "{summary}"
    );
    assert!(
        lines[1].contains("`ref` is") && lines[1].contains("than `slow`"),
        "{summary}"
    );

    // The JSON keeps the run order and the command lines behind the names.
    let json = read_json(&json);
    let names: Vec<&str> = json["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["command"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["ref", "slow", "fast"]);
    assert_eq!(json["results"][1]["command_line"], "sleep 0.04");

    // Tables follow --sort mean-time and --time-unit.
    let markdown = std::fs::read_to_string(markdown).expect("Markdown written");
    let rows: Vec<&str> = markdown.lines().skip(2).collect();
    assert!(rows[0].starts_with("| `fast` |"), "{markdown}");
    assert!(rows[2].starts_with("| `slow` |"), "{markdown}");
    let asciidoc = std::fs::read_to_string(asciidoc).expect("AsciiDoc written");
    assert!(
        asciidoc.starts_with("[cols=\"<,>,>,>,>\"]\n|===\n") && asciidoc.contains("| Mean [ms]"),
        "{asciidoc}"
    );
    let orgmode = std::fs::read_to_string(orgmode).expect("Org written");
    assert!(
        orgmode.contains("Mean [ms]") && orgmode.contains("|--+"),
        "{orgmode}"
    );
}

#[test]
fn conclude_input_output_and_style_none() {
    let _serial = serial();
    let dir = TempDir::new("bench-io");
    let (input, output_file, log) = (dir.path("in.txt"), dir.path("out.txt"), dir.path("log"));
    std::fs::write(&input, "abc\n").expect("input");
    let log_text = log.to_str().expect("utf-8");
    let output = bench(&[
        "--runs",
        "2",
        "--warmup",
        "1",
        "--style",
        "none",
        "--prepare",
        &format!("echo prepare >> {log_text}"),
        "--conclude",
        &format!("echo conclude >> {log_text}"),
        "--input",
        input.to_str().expect("utf-8"),
        "--output",
        output_file.to_str().expect("utf-8"),
        "tr a-z A-Z",
    ]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout, "", "--style none prints nothing");
    let log = std::fs::read_to_string(&log).expect("log");
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        ["prepare", "conclude"].repeat(3)
    );
    assert_eq!(
        std::fs::read_to_string(&output_file).ok().as_deref(),
        Some("ABC\n")
    );

    // A failing --conclude stops the benchmark and says which command failed.
    let output = bench(&["--runs", "2", "--conclude", "exit 7", "true"]);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains("conclude command `exit 7` exited with status 7"),
        "{stderr}"
    );

    // --output pipe drains a large writer; a wrong --input path is named.
    let output = bench(&[
        "--runs",
        "2",
        "--output",
        "pipe",
        "head -c 2000000 /dev/zero",
    ]);
    assert!(output.status.success(), "{:?}", text(&output));
    let output = bench(&["--runs", "2", "--input", "/nonexistent/in", "cat"]);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains("cannot open --input file /nonexistent/in"),
        "{stderr}"
    );
}
