//! Differential tests of `kstack`/`ustack`, `func`, `probe` and map reads
//! before any assignment, run on the real kernel through
//! [`tracer::runtime::run`] and through Debian's bpftrace 0.17 on the same
//! workloads: the same standard output, byte for byte (user addresses,
//! which ASLR moves between the two runs of an exited process, masked).
//! Skips like `bpftrace_layout.rs` (fails instead with
//! `WHYSLOW_REQUIRE_BPFTRACE`); the uprobe cases also skip without a C
//! compiler to build their helper.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use tracer::runtime::{run, RunConfig};

/// The workloads filter by comm and path: one case at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// `program` through whyslow's runtime (`-c command` when given).
fn ours(program: &str, command: Option<&str>) -> String {
    let config = RunConfig {
        command: command.map(|c| c.split_whitespace().map(str::to_string).collect()),
        pid: None,
    };
    let stop = AtomicBool::new(false);
    let mut out = Vec::new();
    if let Err(e) = run(program, &config, &stop, &mut out, &mut |_| {}) {
        let text = match &e {
            tracer::runtime::RunError::Compile {
                diagnostics,
                detail,
            } => format!("{}{detail}", diagnostics.render("stdin", program)),
            other => other.to_string(),
        };
        panic!("whyslow failed on:\n{program}\n{text}");
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `bpftrace -e program [-c command]`'s standard output.
fn theirs(program: &str, command: Option<&str>) -> String {
    let mut cmd = Command::new("timeout");
    cmd.args(["60", "bpftrace", "-e", program]);
    if let Some(c) = command {
        cmd.args(["-c", c]);
    }
    let out = cmd.stdin(Stdio::null()).output().expect("run bpftrace");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "bpftrace failed on:\n{program}\n{err}"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs both (whyslow first: it mounts tracefs when missing, bpftrace does
/// not) and returns both outputs.
fn both(program: &str, command: Option<&str>) -> (String, String) {
    (ours(program, command), theirs(program, command))
}

/// Every hex address (`0x…`, and perf mode's `\t…` column) as `ADDR`.
fn masked(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(['\t', '0']) {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let (prefix, digits_from) = if let Some(r) = from.strip_prefix("0x") {
            ("0x", r)
        } else if let Some(r) = from.strip_prefix('\t') {
            ("\t", r)
        } else {
            out.push('0');
            rest = &from[1..];
            continue;
        };
        let len = digits_from
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(digits_from.len());
        out.push_str(prefix);
        if len >= 6 {
            out.push_str("ADDR");
        } else {
            out.push_str(&digits_from[..len]);
        }
        rest = &digits_from[len..];
    }
    out.push_str(rest);
    out
}

/// A C helper with `planted` (called by `other`, called by `main`)
/// compiled with frame pointers, or None without a C compiler. `loops`:
/// calls, `pause_ms` between them.
struct Helper {
    dir: PathBuf,
    path: String,
}

impl Helper {
    fn build(name: &str, loops: u32, pause_ms: u32) -> Option<Helper> {
        let dir =
            std::env::temp_dir().join(format!("tracer-builtins-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let source = dir.join(format!("{name}.c"));
        std::fs::write(
            &source,
            format!(
                "#include <unistd.h>\n\
                 __attribute__((noinline)) long planted(long x) {{ __asm__ volatile(\"\"); return x * 2; }}\n\
                 __attribute__((noinline)) long other(long x) {{ __asm__ volatile(\"\"); return planted(x) + 1; }}\n\
                 int main(void) {{ long s = 0; for (long i = 0; i < {loops}; i++) {{ s += other(i); \
                 if ({pause_ms}) usleep({pause_ms} * 1000); }} return s == 0; }}\n"
            ),
        )
        .expect("write helper source");
        let path = dir.join(name).to_string_lossy().into_owned();
        let built = Command::new("cc")
            .args(["-O1", "-fno-omit-frame-pointer", "-o", &path])
            .arg(&source)
            .status();
        if !built.is_ok_and(|s| s.success()) {
            eprintln!("skipping: no C compiler (cc) to build the uprobe helper");
            return None;
        }
        Some(Helper { dir, path })
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Kills a background workload when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn kernel_stacks_match_bpftrace() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !common::require_or_skip("kstack") {
        return;
    }
    let program = r#"tracepoint:syscalls:sys_enter_clock_nanosleep /comm == "sleep"/ {
        @[kstack] = count(); @s[comm] = kstack; @p[kstack(perf, 3)] = count(); @l[kstack(2)] = count();
        $k = kstack(1); @v[$k, comm] = count(); printf("%s|%s|\n", kstack(2), kstack(perf, 1));
    }"#;
    let (ours, theirs) = both(program, Some("/usr/bin/sleep 0.1"));
    assert_eq!(ours, theirs, "program:\n{program}");
    assert!(ours.contains("do_syscall_64+"), "{ours}");
}

#[test]
fn user_stacks_and_func_of_an_exited_process_match_bpftrace() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !common::require_or_skip("ustack") {
        return;
    }
    let Some(helper) = Helper::build("exited", 5, 0) else {
        return;
    };
    let h = &helper.path;
    let program = format!(
        "uprobe:{h}:planted {{ @[ustack] = count(); @f[func] = count(); @u[ustack(perf, 2)] = count(); \
           @k[kstack] = count(); @p[probe] = count(); @s[comm] = ustack(1); }} \
         uretprobe:{h}:planted {{ @r[func] = count(); @q[probe] = count(); }}"
    );
    let (ours, theirs) = both(&program, Some(h));
    assert_eq!(masked(&ours), masked(&theirs), "program:\n{program}");
    // Gone before its addresses are printed: no symbols, as in bpftrace.
    assert!(ours.contains("@f[0x"), "{ours}");
    assert!(ours.contains("@k[]: 5\n"), "{ours}");
    assert!(
        ours.contains(&format!("@p[uprobe:{h}:planted]: 5\n")),
        "{ours}"
    );
}

#[test]
fn user_stacks_and_func_of_a_live_process_match_bpftrace() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !common::require_or_skip("live ustack") {
        return;
    }
    let Some(helper) = Helper::build("live", 200, 50) else {
        return;
    };
    let h = &helper.path;
    let _workload = Running(Command::new(h).spawn().expect("start the helper"));
    std::thread::sleep(std::time::Duration::from_millis(200));
    let program = format!(
        "uprobe:{h}:planted {{ @[ustack] = count(); @f[func] = count(); @s = ustack(perf); \
           printf(\"%s %s|%s\\n\", func, probe, ustack(2)); @n = @n + 1; if (@n >= 3) {{ exit(); }} }} \
         uretprobe:{h}:planted {{ @r[func] = count(); }}"
    );
    let (ours, theirs) = both(&program, None);
    // bpftrace stops asynchronously after exit(): its counts may be higher
    // (and include the uretprobe of the call that exits); the lines that
    // name things may not differ.
    let named = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| match l.rfind(": ") {
                Some(at) if l[at + 2..].bytes().all(|b| b.is_ascii_digit()) => {
                    format!("{}: N", &l[..at])
                }
                _ => l.to_string(),
            })
            .collect()
    };
    assert_eq!(named(&ours), named(&theirs), "program:\n{program}");
    assert!(ours.contains("planted+0\n"), "{ours}");
    assert!(
        ours.contains(&format!("planted uprobe:{h}:planted|\n")),
        "{ours}"
    );
    assert!(ours.contains("@f[planted]: 3\n"), "{ours}");
    assert!(ours.contains("\n@n: 3\n"), "{ours}");
    assert!(ours.contains("@r[other]: "), "{ours}");
}

#[test]
fn probe_names_across_wildcards_match_bpftrace() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !common::require_or_skip("probe") {
        return;
    }
    let program = r#"tracepoint:syscalls:sys_enter_clos*,t:syscalls:sys_enter_openat /comm == "cat"/ {
        @[probe] = count(); @last[comm] = probe; printf("%s\n", probe);
    }
    END { printf("%s\n", probe); @e = probe; }"#;
    // cat prints nothing: its output would go into bpftrace's.
    let (ours, theirs) = both(program, Some("/usr/bin/cat /dev/null"));
    assert_eq!(ours, theirs, "program:\n{program}");
    assert!(
        ours.contains("@[tracepoint:syscalls:sys_enter_openat]: "),
        "{ours}"
    );
    assert!(ours.contains("@e: END\n"), "{ours}");
}

#[test]
fn maps_read_before_any_assignment_start_at_zero_as_in_bpftrace() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !common::require_or_skip("map read before assignment") {
        return;
    }
    // bpftrace 0.17 types `@x` from `@x + 1` alone: `@x: 1`.
    let program = r#"BEGIN { @x = @x + 1; @y[1] = @y[2] * 3 + 2; @z = -@z; @c++; @d -= 5;
        printf("%d %d %s\n", @x, @y[1] >> 1, probe); exit(); }"#;
    let (ours, theirs) = both(program, None);
    assert_eq!(ours, theirs, "program:\n{program}");
    assert!(ours.contains("\n@x: 1\n"), "{ours}");
    let program = r#"tracepoint:syscalls:sys_enter_write /comm == "dd"/ {
        @x = @x + 1; @y[args->fd] = @y[args->fd] + 1; @z = -@z; @w = (@w > 1) ? 1 : 2;
    }"#;
    let (ours, theirs) = both(
        program,
        Some("/usr/bin/dd if=/dev/zero of=/dev/null bs=1 count=100"),
    );
    assert_eq!(ours, theirs, "program:\n{program}");
    assert!(ours.contains("@x: 103\n"), "{ours}");
}
