//! End-to-end: every error a user of `record`/`report` is likely to hit gives one
//! precise message and a non-zero exit, and partial results are still written.

mod common;

use common::*;
use std::process::Command;

#[test]
fn command_not_found() {
    let output = run(&[
        "record",
        "-q",
        "-o",
        "/tmp/never.html",
        "--",
        "no-such-command-xyz",
    ]);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains("command not found: `no-such-command-xyz`"),
        "{stderr}"
    );
}

#[test]
fn no_such_pid() {
    let output = run(&["record", "-q", "-p", "999999999", "-d", "1"]);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("no such process: 999999999"), "{stderr}");
}

#[test]
fn nothing_to_record() {
    let output = run(&["record"]);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("nothing to record"), "{stderr}");
}

#[test]
fn unknown_output_extension_fails_before_recording() {
    let output = run(&["record", "-o", "/tmp/x.docx", "--", "true"]);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("cannot tell the output format"), "{stderr}");
}

#[test]
fn target_exits_immediately_still_writes() {
    let dir = TempDir::new("true");
    let out = dir.str("p.pb.gz");
    let output = run(&["record", "-o", &out, "--", "true"]);
    let (_, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        dir.path("p.pb.gz").exists(),
        "no output written for an immediately exiting command"
    );
}

#[test]
fn failing_command_is_reported_but_profile_written() {
    let dir = TempDir::new("false");
    let out = dir.str("p.folded");
    let output = run(&["record", "-o", &out, "--", "sh", "-c", "exit 3"]);
    let (_, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("exited with status 3"), "{stderr}");
    assert!(dir.path("p.folded").exists());
}

#[test]
fn permission_denied_names_the_sysctl() {
    // As an unprivileged user, whole-system recording needs perf_event_paranoid <= 0.
    let paranoid: i32 = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(2);
    if paranoid <= 0 {
        eprintln!("SKIP: perf_event_paranoid={paranoid} lets everyone record everything");
        return;
    }
    let is_root = unsafe { libc::geteuid() } == 0;
    if !is_root {
        let output = run(&["record", "-q", "-a", "-d", "0.2"]);
        let (_, stderr) = text(&output);
        assert!(!output.status.success());
        assert!(stderr.contains("perf_event_paranoid"), "{stderr}");
        return;
    }
    // Root: drop to `nobody` with setpriv (util-linux) to see what a normal user sees.
    let dir = TempDir::new("perm");
    let bin = dir.path("whyslow");
    std::fs::copy(env!("CARGO_BIN_EXE_whyslow"), &bin).unwrap();
    Command::new("chmod")
        .args(["-R", "a+rx"])
        .arg(&dir.0)
        .status()
        .unwrap();
    let output = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .args([
            "record",
            "-q",
            "-a",
            "-d",
            "0.2",
            "-o",
            "/dev/null",
            "--format",
            "folded",
        ])
        .current_dir(&dir.0)
        .output()
        .expect("setpriv runs");
    let (_, stderr) = text(&output);
    assert!(
        !output.status.success(),
        "unprivileged -a succeeded: {stderr}"
    );
    assert!(stderr.contains("perf_event_paranoid"), "{stderr}");
    assert!(stderr.contains("sysctl"), "{stderr}");
}

#[test]
fn deleted_binary_frames_fall_back_to_addresses() {
    let dir = TempDir::new("deleted");
    let copy = dir.path("victim");
    std::fs::copy(workload(Build::NoFramePointers), &copy).unwrap();
    let script = format!(
        "{c} 1 0 >/dev/null & sleep 0.3; rm -f {c}; wait",
        c = copy.display()
    );
    let out = dir.str("p.folded");
    let output = run(&[
        "record", "-q", "-F", "499", "--view", "cpu", "-o", &out, "--", "sh", "-c", &script,
    ]);
    assert!(output.status.success(), "{:?}", text(&output));
    let folded = parse_folded(&std::fs::read_to_string(&out).unwrap());
    // Every sample is still there; the victim's frames are named by module+offset or address.
    assert!(total(&folded) > 100, "samples lost: {}", total(&folded));
    assert!(
        folded
            .keys()
            .flatten()
            .any(|f| f.contains("victim+0x") || f.starts_with("0x") || f.contains("hot_a")),
        "no fallback frames: {folded:#?}"
    );
}

#[test]
fn ctrl_c_stops_and_still_writes() {
    use std::os::unix::process::CommandExt;
    let dir = TempDir::new("ctrlc");
    let out = dir.str("p.folded");
    let w = workload(Build::NoFramePointers);
    let mut child = whyslow()
        .args(["record", "-q", "-F", "499", "-o", &out, "--"])
        .arg(&w)
        .args(["20", "0"])
        .process_group(0)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // Like a terminal's Ctrl-C: SIGINT to the whole foreground process group.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGINT) };
    let status = child.wait().unwrap();
    assert!(status.success(), "record exited with {status} after Ctrl-C");
    let folded =
        parse_folded(&std::fs::read_to_string(&out).expect("profile written after Ctrl-C"));
    assert!(leaf_percent(&folded, "hot_a") > 50.0);
}

#[test]
fn report_of_garbage_says_what_is_wrong() {
    let dir = TempDir::new("garbage");
    let path = dir.path("bad.pb.gz");
    std::fs::write(&path, b"\x1f\x8b\x08\x00garbage").unwrap();
    let output = run(&["report", &path.to_string_lossy()]);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("bad.pb.gz"), "{stderr}");
    let output = run(&["report", "/nonexistent/file.folded"]);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains("cannot read /nonexistent/file.folded"),
        "{stderr}"
    );
}
