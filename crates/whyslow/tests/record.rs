//! End-to-end: `whyslow record` on the test workload, checked against its known shape.
//!
//! The workload spends ~70 % of its CPU in `hot_a` (main → cpu_phase → caller_a
//! → hot_a) and ~30 % in `hot_b` (… → caller_b → middle_b → hot_b), then blocks
//! in `blocked_sleep` and `blocked_read`. Each check runs on a build with and one
//! without frame pointers.

mod common;

use common::*;

/// Records the workload and returns its folded stacks for `view`.
fn record_folded(
    build: Build,
    cpu_seconds: &str,
    blocked_seconds: &str,
    extra: &[&str],
    view: &str,
) -> Folded {
    let dir = TempDir::new("record");
    let out = dir.str("out.folded");
    let w = workload(build);
    let mut args = vec!["record", "-q", "-F", "999", "--view", view, "-o", &out];
    args.extend_from_slice(extra);
    args.push("--");
    let w = w.to_string_lossy().into_owned();
    args.extend_from_slice(&[&w, cpu_seconds, blocked_seconds]);
    let output = run(&args);
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "record failed:\n{stdout}\n{stderr}"
    );
    parse_folded(&std::fs::read_to_string(&out).expect("folded output written"))
}

fn check_attribution(build: Build) {
    let folded = record_folded(build, "2", "0", &[], "cpu");
    assert!(total(&folded) > 0, "no samples");
    let a = leaf_percent(&folded, "hot_a");
    let b = leaf_percent(&folded, "hot_b");
    assert!(
        (a - 70.0).abs() <= 5.0,
        "{build:?}: hot_a has {a:.1}% of CPU, expected 70 ± 5\n{folded:#?}"
    );
    assert!(
        (b - 30.0).abs() <= 5.0,
        "{build:?}: hot_b has {b:.1}% of CPU, expected 30 ± 5"
    );
    // Full caller chains, demangled Rust names.
    let chain_a = [
        "workload::main",
        "workload::cpu_phase",
        "workload::caller_a",
        "workload::hot_a",
    ];
    let chain_b = [
        "workload::main",
        "workload::cpu_phase",
        "workload::caller_b",
        "workload::middle_b",
        "workload::hot_b",
    ];
    let full = |chain: &[&str], leaf: &str| -> f64 {
        let hit: i64 = folded
            .iter()
            .filter(|(s, _)| s.last().is_some_and(|f| f.ends_with(leaf)) && has_chain(s, chain))
            .map(|(_, v)| v)
            .sum();
        let all: i64 = folded
            .iter()
            .filter(|(s, _)| s.last().is_some_and(|f| f.ends_with(leaf)))
            .map(|(_, v)| v)
            .sum();
        100.0 * hit as f64 / all.max(1) as f64
    };
    let full_a = full(&chain_a, "hot_a");
    let full_b = full(&chain_b, "hot_b");
    assert!(
        full_a >= 95.0,
        "{build:?}: only {full_a:.1}% of hot_a samples have the full chain {chain_a:?}"
    );
    assert!(
        full_b >= 95.0,
        "{build:?}: only {full_b:.1}% of hot_b samples have the full chain {chain_b:?}"
    );
    // Unwinding reaches the process entry (libc's start) for almost every sample.
    let rooted: i64 = folded
        .iter()
        .filter(|(s, _)| s.iter().any(|f| f.contains("main")))
        .map(|(_, v)| v)
        .sum();
    assert!(
        rooted as f64 >= 0.95 * total(&folded) as f64,
        "{build:?}: stacks not rooted in main"
    );
}

#[test]
fn attribution_and_chains_without_frame_pointers() {
    check_attribution(Build::NoFramePointers);
}

#[test]
fn attribution_and_chains_with_frame_pointers() {
    check_attribution(Build::FramePointers);
}

#[test]
fn off_cpu_shows_blocked_phase_only_when_asked() {
    for build in [Build::NoFramePointers, Build::FramePointers] {
        let on_cpu = record_folded(build, "0.5", "1", &[], "cpu");
        let blocked_on = inclusive_percent(&on_cpu, "blocked_sleep")
            + inclusive_percent(&on_cpu, "blocked_read");
        assert!(
            blocked_on < 2.0,
            "{build:?}: blocked phase visible on-CPU ({blocked_on:.1}%)"
        );

        let off = record_folded(build, "0.5", "1", &["--off-cpu"], "off-cpu");
        let sleep = inclusive_percent(&off, "blocked_sleep");
        let read = inclusive_percent(&off, "blocked_read");
        assert!(
            sleep > 20.0,
            "{build:?}: blocked_sleep has {sleep:.1}% of off-CPU time\n{off:#?}"
        );
        assert!(
            read > 20.0,
            "{build:?}: blocked_read has {read:.1}% of off-CPU time\n{off:#?}"
        );
        // ~0.5 s sleeping + ~0.5 s in read (in ns), within generous bounds.
        let sleep_ns: i64 = off
            .iter()
            .filter(|(s, _)| s.iter().any(|f| f.ends_with("blocked_sleep")))
            .map(|(_, v)| v)
            .sum();
        assert!(
            (300_000_000..=900_000_000).contains(&sleep_ns),
            "{build:?}: blocked_sleep {sleep_ns} ns, expected ~500 ms"
        );

        let wall = record_folded(build, "0.5", "1", &["--off-cpu"], "wall");
        // On-CPU time shrinks when the machine is busy (the CPU phase is timed by
        // the clock), so only ask for a clear presence, not its unloaded share.
        assert!(
            inclusive_percent(&wall, "hot_a") > 3.0,
            "{build:?}: wall view lacks on-CPU time"
        );
        assert!(
            inclusive_percent(&wall, "blocked_sleep") > 10.0,
            "{build:?}: wall view lacks off-CPU time"
        );
    }
}

#[test]
fn speedscope_frames_have_file_and_line() {
    let dir = TempDir::new("speedscope");
    let out = dir.str("p.speedscope.json");
    let w = workload(Build::NoFramePointers)
        .to_string_lossy()
        .into_owned();
    let output = run(&[
        "record", "-q", "-F", "499", "-o", &out, "--", &w, "0.5", "0",
    ]);
    assert!(output.status.success(), "{:?}", text(&output));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let frames = json["shared"]["frames"]
        .as_array()
        .expect("speedscope shared frames");
    let hot_a = frames
        .iter()
        .find(|f| f["name"].as_str().is_some_and(|n| n.ends_with("hot_a")))
        .expect("hot_a frame");
    assert!(
        hot_a["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("workload/src/lib.rs")),
        "hot_a has no file: {hot_a}"
    );
    assert!(
        hot_a["line"].as_u64().is_some_and(|l| l > 0),
        "hot_a has no line: {hot_a}"
    );
}

#[test]
fn top_table_is_printed_with_file_and_line() {
    let w = workload(Build::NoFramePointers)
        .to_string_lossy()
        .into_owned();
    let dir = TempDir::new("top");
    let out = dir.str("p.html");
    let output = run(&["record", "-F", "499", "-o", &out, "--", &w, "0.5", "0"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    let first_rows: Vec<&str> = stdout.lines().filter(|l| l.contains("hot_")).collect();
    assert!(
        first_rows
            .iter()
            .any(|l| l.contains("hot_a") && l.contains("lib.rs:")),
        "top table:\n{stdout}"
    );
    assert!(
        stderr.contains("cpu-clock") || stderr.contains("cycles"),
        "no event line:\n{stderr}"
    );
    assert!(stderr.contains("samples"), "no summary:\n{stderr}");
}

#[test]
fn pid_target_profiles_a_running_process() {
    let w = workload(Build::NoFramePointers);
    let mut child = std::process::Command::new(&w)
        .args(["3", "0"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let dir = TempDir::new("pid");
    let out = dir.str("p.folded");
    let pid = child.id().to_string();
    let output = run(&[
        "record", "-q", "-F", "499", "-p", &pid, "-d", "1", "--view", "cpu", "-o", &out,
    ]);
    let _ = child.kill();
    let _ = child.wait();
    assert!(output.status.success(), "{:?}", text(&output));
    let folded = parse_folded(&std::fs::read_to_string(&out).unwrap());
    // The split between the two hot functions, which load on the machine
    // does not move (other stacks, e.g. kernel work, can grow under load).
    let a = leaf_percent(&folded, "hot_a");
    let b = leaf_percent(&folded, "hot_b");
    let split = 100.0 * a / (a + b).max(f64::MIN_POSITIVE);
    assert!(a + b >= 50.0, "hot_a {a:.1}% + hot_b {b:.1}%\n{folded:#?}");
    assert!(
        (split - 70.0).abs() <= 10.0,
        "hot_a {split:.1}% of hot_a + hot_b\n{folded:#?}"
    );
}

#[test]
fn short_lived_children_still_symbolize() {
    let w = workload(Build::NoFramePointers)
        .to_string_lossy()
        .into_owned();
    let script = format!("for i in 1 2 3; do {w} 0.2 0 >/dev/null; done");
    let dir = TempDir::new("children");
    let out = dir.str("p.folded");
    let output = run(&[
        "record", "-q", "-F", "999", "--view", "cpu", "-o", &out, "--", "sh", "-c", &script,
    ]);
    assert!(output.status.success(), "{:?}", text(&output));
    let folded = parse_folded(&std::fs::read_to_string(&out).unwrap());
    let a = leaf_percent(&folded, "hot_a");
    assert!(a > 50.0, "hot_a {a:.1}% in exited children\n{folded:#?}");
}

#[test]
fn whole_system_recording_names_processes() {
    let w = workload(Build::NoFramePointers);
    let mut child = std::process::Command::new(&w)
        .args(["2", "0"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Let it exec and reach its CPU phase before the system-wide recording starts.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let dir = TempDir::new("all");
    let out = dir.str("p.folded");
    let output = run(&["record", "-q", "-a", "-d", "1", "--view", "cpu", "-o", &out]);
    let _ = child.kill();
    let _ = child.wait();
    assert!(output.status.success(), "{:?}", text(&output));
    let folded = parse_folded(&std::fs::read_to_string(&out).unwrap());
    assert!(
        folded
            .keys()
            .any(|s| s.first().is_some_and(|f| f == "workload")
                && s.iter().any(|f| f.ends_with("hot_a"))),
        "no workload;…;hot_a stack in -a profile"
    );
}

#[test]
fn demo_profiles_the_builtin_workload() {
    let dir = TempDir::new("demo");
    let out = dir.str("demo.html");
    let output = run(&[
        "demo",
        "-o",
        &out,
        "--cpu-seconds",
        "0.5",
        "--blocked-seconds",
        "0.2",
    ]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.contains("workload::hot_a"),
        "top table lacks hot_a:\n{stdout}"
    );
    let html = std::fs::read_to_string(&out).expect("demo wrote its flamegraph");
    assert!(
        html.contains("<html") || html.contains("<!DOCTYPE"),
        "not HTML"
    );
}
