//! `whyslow trace` end to end through the real binary, on the real kernel,
//! next to Debian's bpftrace 0.17 on the same deterministic workloads (dd
//! making a known number of writes, a compiled helper calling a function a
//! known number of times): the same map lines, byte for byte. Kernel tests
//! need root and print why they skip without it; the bpftrace comparisons
//! also skip (saying so) when bpftrace is not installed. A lock keeps the
//! workloads from overlapping (filters match by comm).

mod common;

use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::new(());

const DD: &str = "/usr/bin/dd";

fn root_or_skip(test: &str) -> bool {
    common::root::root_or_skip(test, "bpf() and perf_event_open")
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `whyslow trace [-c CMD] PROGRAM`.
fn trace(program: &str, command: Option<&str>) -> Output {
    let mut cmd = common::whyslow();
    cmd.arg("trace");
    if let Some(c) = command {
        cmd.args(["-c", c]);
    }
    cmd.arg(program)
        .stdin(Stdio::null())
        .output()
        .expect("whyslow runs")
}

/// `bpftrace [-c CMD] -e PROGRAM`, or None (with the reason printed) when
/// it is not installed.
fn bpftrace(program: &str, command: Option<&str>) -> Option<Output> {
    if !std::path::Path::new("/usr/bin/bpftrace").exists() {
        eprintln!("bpftrace comparison skipped: /usr/bin/bpftrace not installed");
        return None;
    }
    let mut cmd = Command::new("/usr/bin/bpftrace");
    if let Some(c) = command {
        cmd.args(["-c", c]);
    }
    let out = cmd
        .args(["-e", program])
        .stdin(Stdio::null())
        .output()
        .expect("bpftrace runs");
    assert!(
        out.status.success(),
        "bpftrace failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out)
}

/// Runs both and requires the same standard output.
fn same_as_bpftrace(program: &str, command: Option<&str>) -> String {
    let ours = trace(program, command);
    assert!(
        ours.status.success(),
        "whyslow trace failed: {}",
        String::from_utf8_lossy(&ours.stderr)
    );
    if let Some(theirs) = bpftrace(program, command) {
        assert_eq!(text(&ours), text(&theirs), "program: {program}");
    }
    text(&ours)
}

/// `@[1234]: 5` → `@[PID]: 5` (each run has its own dd).
fn without_pids(out: &str) -> String {
    out.lines()
        .map(|l| match (l.strip_prefix("@["), l.find("]:")) {
            (Some(_), Some(end)) if l[2..end].bytes().all(|b| b.is_ascii_digit()) => {
                format!("@[PID]{}", &l[end + 1..])
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_issue_one_liner_counts_dd_writes_as_bpftrace_does() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !root_or_skip("the_issue_one_liner_counts_dd_writes_as_bpftrace_does") {
        return;
    }
    let program = r#"tracepoint:syscalls:sys_enter_write /comm == "dd"/ { @[pid] = count(); }"#;
    let command = format!("{DD} if=/dev/zero of=/dev/null bs=1 count=1000");
    let ours = trace(program, Some(&command));
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let ours = text(&ours);
    // 1000 one-byte writes, plus dd's three lines of statistics.
    assert_eq!(
        without_pids(&ours),
        "Attaching 1 probe...\n\n\n@[PID]: 1003"
    );
    if let Some(theirs) = bpftrace(program, Some(&command)) {
        assert_eq!(without_pids(&ours), without_pids(&text(&theirs)));
    }
}

#[test]
fn every_aggregation_filter_and_branch_matches_bpftrace() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !root_or_skip("every_aggregation_filter_and_branch_matches_bpftrace") {
        return;
    }
    let program = r#"
tracepoint:syscalls:sys_enter_write /comm == "dd" && args->fd == 1/ {
    @bytes = sum(args->count); @h = hist(args->count); @l = lhist(args->count, 0, 2000, 100);
    @a = avg(args->count); @mn = min(args->count); @mx = max(args->count); @s = stats(args->count);
    @c[comm, args->fd] = count();
}
tracepoint:syscalls:sys_enter_read /comm == "dd" || comm == "nosuch"/ {
    @r = count();
    if (args->count > 100) { @big = count(); } else { @small = count(); }
    $x = args->count * 2 + 1; @x = $x; @neg[-3 + 1] = sum(args->count % 7);
}"#;
    let out = same_as_bpftrace(
        program,
        Some(&format!("{DD} if=/dev/zero of=/dev/null bs=512 count=100")),
    );
    assert!(out.contains("@bytes: 51200\n"), "{out}");
    assert!(out.contains("@c[dd, 1]: 100\n"), "{out}");
    assert!(out.contains("[512, 1K)            100 |"), "{out}");
}

#[test]
fn empty_maps_print_as_bpftrace_prints_them() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !root_or_skip("empty_maps_print_as_bpftrace_prints_them") {
        return;
    }
    same_as_bpftrace(
        "BEGIN { exit(); } tracepoint:syscalls:sys_enter_reboot { @c = count(); @s = sum(1); \
         @a = avg(1); @mn = min(1); @h = hist(1); @l = lhist(1,0,10,1); @st = stats(1); \
         @k[1] = count(); @i = 5; }",
        None,
    );
}

#[test]
fn printf_lines_and_exit_match_bpftrace() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !root_or_skip("printf_lines_and_exit_match_bpftrace") {
        return;
    }
    let out = same_as_bpftrace(
        r#"BEGIN { printf("start %d %s\n", 42, "x"); }
tracepoint:syscalls:sys_enter_write /comm == "dd" && args->fd == 1/ {
    printf("%s wrote %d to fd %d, %-5s|%05d\n", comm, args->count, args->fd, "pad", 42);
}"#,
        Some(&format!("{DD} if=/dev/zero of=/dev/null bs=3 count=4")),
    );
    assert_eq!(
        out.matches("dd wrote 3 to fd 1, pad  |00042\n").count(),
        4,
        "{out}"
    );
    let out = same_as_bpftrace(
        r#"tracepoint:sched:sched_process_exec /comm == "true"/ { printf("%s\n", str(args->filename)); exit(); }"#,
        Some("/bin/true"),
    );
    assert!(out.contains("/bin/true\n"), "{out}");
}

#[test]
fn interval_with_if_else_and_exit_matches_bpftrace() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !root_or_skip("interval_with_if_else_and_exit_matches_bpftrace") {
        return;
    }
    let out = same_as_bpftrace(
        r#"BEGIN { @x = 0; } interval:ms:100 { @n = count(); if (@x > 2) { exit(); } else { @y = 1; } @x = @x + 1; } END { printf("bye\n"); }"#,
        None,
    );
    assert!(out.contains("@n: 4\n@x: 3\n@y: 1\n"), "{out}");
}

#[test]
fn profile_samples_a_spinning_process() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !root_or_skip("profile_samples_a_spinning_process") {
        return;
    }
    let mut spin = Command::new("sh")
        .args(["-c", "while :; do :; done"])
        .spawn()
        .expect("sh");
    let program = format!(
        "profile:hz:99 /pid == {}/ {{ @c = count(); }} interval:ms:500 {{ exit(); }}",
        spin.id()
    );
    let out = trace(&program, None);
    let _ = spin.kill();
    let _ = spin.wait();
    let out = text(&out);
    let samples: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix("@c: "))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    // ~50 expected at 99 Hz for 0.5 s of one busy CPU (less on a loaded box).
    assert!(samples >= 5, "{out}");
}

#[test]
fn uprobe_and_uretprobe_count_a_planted_function_as_bpftrace_does() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !root_or_skip("uprobe_and_uretprobe_count_a_planted_function_as_bpftrace_does") {
        return;
    }
    let dir = common::TempDir::new("trace-uprobe");
    let source = dir.path("planted.c");
    std::fs::write(
        &source,
        "__attribute__((noinline)) long planted(long x) { __asm__ volatile(\"\"); return x * 2; }\n\
         int main(void) { long s = 0; for (long i = 0; i < 250; i++) s += planted(i); return s == 0; }\n",
    )
    .expect("write");
    let helper = dir.str("planted");
    let built = Command::new("cc")
        .args(["-O1", "-o", &helper])
        .arg(&source)
        .status();
    if !built.is_ok_and(|s| s.success()) {
        eprintln!("uprobe test skipped: no C compiler (cc) to build the planted helper");
        return;
    }
    let program = format!(
        "uprobe:{helper}:planted {{ @calls = count(); @args = sum(arg0); @big[arg0 >= 200] = count(); }} \
         uretprobe:{helper}:planted {{ @ret = max(retval); @h = hist(retval); }}"
    );
    let out = same_as_bpftrace(&program, Some(&helper));
    assert!(out.contains("@calls: 250\n"), "{out}");
    assert!(out.contains("@args: 31125\n"), "{out}");
    assert!(out.contains("@ret: 498\n"), "{out}");
}

#[test]
fn kernel_stacks_and_probe_names_match_bpftrace() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !root_or_skip("kernel_stacks_and_probe_names_match_bpftrace") {
        return;
    }
    let out = same_as_bpftrace(
        r#"tracepoint:syscalls:sys_enter_clock_nanosleep,t:syscalls:sys_enter_nanosleep /comm == "sleep"/ {
            @[kstack] = count(); @p[probe] = count(); printf("%s|\n", kstack(perf, 2));
        }"#,
        Some("/usr/bin/sleep 0.1"),
    );
    assert!(out.contains("\n    do_syscall_64+"), "{out}");
    assert!(
        out.contains("@p[tracepoint:syscalls:sys_enter_clock_nanosleep]: 1\n"),
        "{out}"
    );
}

#[test]
fn list_shows_tracepoints_and_uprobe_functions() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !root_or_skip("list_shows_tracepoints_and_uprobe_functions") {
        return;
    }
    let out = common::run(&["trace", "-l", "tracepoint:syscalls:sys_enter_writ*"]);
    assert_eq!(
        text(&out),
        "tracepoint:syscalls:sys_enter_write\ntracepoint:syscalls:sys_enter_writev\n"
    );
    let out = common::run(&["trace", "-l", "uprobe:/bin/bash:read_comma*"]);
    assert!(
        text(&out).contains("uprobe:/bin/bash:read_command\n"),
        "{}",
        text(&out)
    );
}

#[test]
fn compile_errors_point_at_line_and_column() {
    let out = common::run(&["trace", "BEGIN {\n  @x = nosuch;\n}"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "stdin:2:8-14: ERROR: Unknown identifier: 'nosuch'\n  @x = nosuch;\n       ~~~~~~\n"
    );
    // Stack options are checked before anything is loaded, as bpftrace does.
    let out = common::run(&["trace", "interval:s:1 { @s[kstack(2000)] = count(); }"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(
            "stdin:1:19-31: ERROR: kstack([int limit]): limit shouldn't exceed 1024, 2000 given"
        ),
        "{err}"
    );
    let out = common::run(&[
        "trace",
        "interval:s:1 { printf(\"%d\\n\", 1); }\nBEGIN { printf(\"%d\", pid); }",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("stdin:2:22-25: ERROR: BEGIN supports"),
        "{err}"
    );
}

#[test]
fn unknown_tracepoints_are_reported_as_bpftrace_does() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !root_or_skip("unknown_tracepoints_are_reported_as_bpftrace_does") {
        return;
    }
    let out = common::run(&[
        "trace",
        "BEGIN { exit(); } tracepoint:syscalls:sys_enter_nosuch { @c = count(); }",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "stdin:1:19-55: ERROR: tracepoint not found: syscalls:sys_enter_nosuch\n\
         BEGIN { exit(); } tracepoint:syscalls:sys_enter_nosuch { @c = count(); }\n                  \
         ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n"
    );
}

#[test]
fn ready_made_tools_run_through_whyslow_trace_with_their_own_options() {
    if !root_or_skip("ready_made_tools_run_through_whyslow_trace_with_their_own_options") {
        return;
    }
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // runqlat's interval and count, libbpf-tools' positional arguments.
    let out = common::whyslow()
        .args(["trace", "runqlat", "-m", "1", "1"])
        .stdin(Stdio::null())
        .output()
        .expect("whyslow runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text(&out).contains("msecs"), "{}", text(&out));
    // A bad option gets the tool's usage and a failure.
    let out = common::whyslow()
        .args(["trace", "syscount", "--no-such-option"])
        .output()
        .expect("whyslow runs");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("syscount"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
