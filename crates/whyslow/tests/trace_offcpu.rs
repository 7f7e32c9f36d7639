//! The off-CPU user flow through the real binary: `whyslow trace
//! offcputime -f` writes folded stacks of a shell that keeps waiting for
//! short sleeps, and `whyslow report` turns the file into a flamegraph.
//! Needs root (bpf() and perf_event_open); says why it skips without it.

mod common;

use std::process::{Command, Stdio};

#[test]
fn offcputime_folded_output_renders_as_a_flamegraph() {
    if !common::root::root_or_skip(
        "offcputime_folded_output_renders_as_a_flamegraph",
        "bpf() and perf_event_open",
    ) {
        return;
    }
    // A shell blocked in wait4 for a 50 ms sleep, over and over (bounded).
    let mut shell = Command::new("/bin/sh")
        .args([
            "-c",
            "i=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done",
        ])
        .stdin(Stdio::null())
        .spawn()
        .expect("sh starts");
    let pid = shell.id().to_string();
    let out = common::whyslow()
        .args(["trace", "offcputime", "-f", "-p", &pid, "2"])
        .stdin(Stdio::null())
        .output()
        .expect("whyslow runs");
    let _ = shell.kill();
    let _ = shell.wait();
    let folded = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Each line: comm;frames… microseconds; the shell's lines add up to
    // most of the two seconds it spent waiting.
    let mut total_us = 0u64;
    for line in folded.lines() {
        let (stack, value) = line.rsplit_once(' ').expect("`stack value` lines");
        assert!(
            stack.starts_with("sh;"),
            "another task in -p output: {line}"
        );
        total_us += value.parse::<u64>().expect("a count of microseconds");
    }
    assert!(
        (1_000_000..=2_500_000).contains(&total_us),
        "off-CPU {total_us} µs of the shell in 2 s:\n{folded}"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("offcpu.folded");
    let html = dir.path().join("offcpu.html");
    std::fs::write(&input, &folded).expect("folded file");
    let out = common::whyslow()
        .arg("report")
        .arg(&input)
        .arg("-o")
        .arg(&html)
        .output()
        .expect("whyslow report runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&html).expect("flamegraph written");
    assert!(
        page.contains("<html") || page.contains("<!DOCTYPE"),
        "not HTML"
    );
    assert!(
        page.contains("schedule"),
        "kernel frames missing from the flamegraph"
    );
}
