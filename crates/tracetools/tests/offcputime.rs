//! offcputime on the real kernel: a thread sleeps 10 × 30 ms inside a
//! uniquely named function that makes the nanosleep syscall itself (so the
//! user stack's first frame, the syscall's return address, is in it without
//! frame pointers); its entries must add up to about 300 ms, with the
//! scheduler in the kernel stack and that function in the user stack.

#![cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]

mod common;

use std::sync::mpsc;
use std::time::Duration;
use tracetools::offcputime::{self, Entry, Offcputime, Options, Stack};

const SLEEPS: u32 = 10;
const SLEEP_MS: u64 = 30;
const PLANTED: &str = "offcputime_planted_nap_q7x";
/// Stack-map buckets for the system-wide tests: with libbpf-tools' 1024, a
/// busy machine's stacks collide with the planted one now and then
/// (`EEXIST`, a missed stack).
const ROOMY: u32 = 16384;

/// One `nanosleep(ts, NULL)` made right here; the syscall's return value.
#[cfg(target_arch = "x86_64")]
#[inline(never)]
#[no_mangle]
extern "C" fn offcputime_planted_nap_q7x(ts: &libc::timespec) -> i64 {
    let ret: i64;
    // SAFETY: nanosleep reads the timespec we pass and writes nothing
    // (rem is NULL); the syscall clobbers rcx and r11 only.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") libc::SYS_nanosleep => ret,
            in("rdi") ts as *const libc::timespec,
            in("rsi") 0usize,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

#[cfg(target_arch = "aarch64")]
#[inline(never)]
#[no_mangle]
extern "C" fn offcputime_planted_nap_q7x(ts: &libc::timespec) -> i64 {
    let ret: i64;
    // SAFETY: as above; the syscall number goes in x8.
    unsafe {
        std::arch::asm!(
            "svc 0",
            in("x8") libc::SYS_nanosleep,
            inlateout("x0") ts as *const libc::timespec => ret,
            in("x1") 0usize,
            options(nostack),
        );
    }
    ret
}

/// A thread that makes the planted sleeps once told to.
struct Sleeper {
    tid: u32,
    go: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Sleeper {
    fn spawn() -> Sleeper {
        let (tid_tx, tid_rx) = mpsc::channel();
        let (go, go_rx) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            tid_tx.send(common::gettid()).expect("send tid");
            go_rx.recv().expect("go");
            let ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: (SLEEP_MS * 1_000_000) as libc::c_long,
            };
            for _ in 0..SLEEPS {
                assert_eq!(offcputime_planted_nap_q7x(std::hint::black_box(&ts)), 0);
            }
        });
        let tid = tid_rx.recv().expect("tid");
        Sleeper { tid, go, thread }
    }

    /// Runs the sleeps and waits for them.
    fn run(self) -> u32 {
        self.go.send(()).expect("go");
        self.thread.join().expect("sleeper");
        self.tid
    }
}

/// Runs the planted sleeps on a new thread; its tid.
fn planted_sleeper() -> u32 {
    Sleeper::spawn().run()
}

fn traced(options: &Options) -> (u32, Vec<Entry>) {
    let mut tracer = Offcputime::start(options).expect("start");
    let tid = planted_sleeper();
    std::thread::sleep(Duration::from_millis(50));
    tracer.stop();
    (tid, tracer.collect().expect("collect"))
}

fn planted(entries: &[Entry], tid: u32) -> Vec<&Entry> {
    entries
        .iter()
        .filter(|e| e.pid == tid && e.user.mentions(PLANTED))
        .collect()
}

#[test]
fn planted_sleeps_add_up_with_both_stacks() {
    let Some(_lock) = common::root_or_skip("planted_sleeps_add_up_with_both_stacks") else {
        return;
    };
    let (tid, entries) = traced(&Options {
        stack_storage_size: ROOMY,
        ..Options::default()
    });
    let ours = planted(&entries, tid);
    let total: u64 = ours.iter().map(|e| e.total_us).sum();
    for e in &ours {
        eprint!("{}", offcputime::render::block(&Options::default(), e));
    }
    let expected = u64::from(SLEEPS) * SLEEP_MS * 1000;
    assert!(
        total >= expected * 97 / 100,
        "{total} us off CPU in {PLANTED}, expected about {expected}"
    );
    assert!(total <= expected * 4, "{total} us is far above {expected}");
    assert!(
        ours.iter().all(|e| e.kernel.mentions("schedule")),
        "a planted entry lacks the scheduler in its kernel stack"
    );
    let me = std::process::id();
    assert!(ours.iter().all(|e| e.tgid == me && !e.comm.is_empty()));
    // Other threads were traced too (all threads by default).
    assert!(entries.iter().any(|e| e.tgid != me));
}

#[test]
fn tid_filter_keeps_one_thread() {
    let Some(_lock) = common::root_or_skip("tid_filter_keeps_one_thread") else {
        return;
    };
    let sleeper = Sleeper::spawn();
    let options = Options {
        tids: vec![sleeper.tid],
        user_stacks_only: true,
        ..Options::default()
    };
    let mut tracer = Offcputime::start(&options).expect("start");
    let tid = sleeper.run();
    tracer.stop();
    let entries = tracer.collect().expect("collect");
    assert!(!entries.is_empty());
    assert!(entries.iter().all(|e| e.pid == tid), "{entries:?}");
    assert!(entries.iter().all(|e| e.kernel == Stack::Absent));
    let total: u64 = planted(&entries, tid).iter().map(|e| e.total_us).sum();
    assert!(total >= 290_000, "{total} us");
}

#[test]
fn pid_filter_and_kernel_stacks_only() {
    let Some(_lock) = common::root_or_skip("pid_filter_and_kernel_stacks_only") else {
        return;
    };
    let options = Options {
        pids: vec![std::process::id()],
        kernel_stacks_only: true,
        ..Options::default()
    };
    let (tid, entries) = traced(&options);
    assert!(entries.iter().all(|e| e.tgid == std::process::id()));
    assert!(entries.iter().all(|e| e.user == Stack::Absent));
    let total: u64 = entries
        .iter()
        .filter(|e| e.pid == tid)
        .map(|e| e.total_us)
        .sum();
    assert!(total >= 290_000, "{total} us");
}

/// Whether thread `pid` of `tgid` is a kernel thread (`PF_KTHREAD` in the
/// flags of /proc/PID/stat); `None` once it is gone.
fn is_kthread(tgid: u32, pid: u32) -> Option<bool> {
    let stat = std::fs::read_to_string(format!("/proc/{tgid}/task/{pid}/stat")).ok()?;
    let (_, fields) = stat.rsplit_once(')')?;
    let flags: u64 = fields.split_whitespace().nth(6)?.parse().ok()?;
    Some(flags & 0x0020_0000 != 0)
}

#[test]
fn user_threads_only_sees_no_kernel_thread_and_min_block_filters() {
    let Some(_lock) = common::root_or_skip("user_threads_only_sees_no_kernel_thread") else {
        return;
    };
    let options = Options {
        user_threads_only: true,
        min_block_us: 20_000,
        stack_storage_size: ROOMY,
        ..Options::default()
    };
    let (tid, entries) = traced(&options);
    let kthreads: Vec<&Entry> = entries
        .iter()
        .filter(|e| is_kthread(e.tgid, e.pid) == Some(true))
        .collect();
    assert!(kthreads.is_empty(), "kernel threads traced: {kthreads:?}");
    assert!(entries.iter().all(|e| e.total_us >= 20_000));
    let total: u64 = planted(&entries, tid).iter().map(|e| e.total_us).sum();
    assert!(total >= 290_000, "{total} us");
}

#[test]
fn kernel_threads_only_sees_only_kernel_threads() {
    let Some(_lock) = common::root_or_skip("kernel_threads_only_sees_only_kernel_threads") else {
        return;
    };
    let options = Options {
        kernel_threads_only: true,
        ..Options::default()
    };
    let (_, entries) = traced(&options);
    // A 2-CPU machine has kworkers, ksoftirqd and rcu threads switching
    // every few milliseconds.
    assert!(!entries.is_empty());
    for e in &entries {
        assert_ne!(is_kthread(e.tgid, e.pid), Some(false), "{e:?}");
        assert_eq!(e.user, Stack::Absent, "{e:?}");
    }
}

#[test]
fn folded_output_from_the_command_line() {
    let Some(_lock) = common::root_or_skip("folded_output_from_the_command_line") else {
        return;
    };
    let sleeper = std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(200));
        planted_sleeper()
    });
    let mut out = Vec::new();
    let args: Vec<String> = ["-f", "-d", "-p", &std::process::id().to_string(), "1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let code = tracetools::run_to("offcputime", &args, &mut out).expect("run");
    sleeper.join().expect("join");
    assert_eq!(code, 0);
    let text = String::from_utf8(out).expect("utf-8");
    assert!(!text.starts_with("Tracing"), "folded output has no header");
    // What `whyslow report x.folded` reads: every line, every microsecond.
    let profile = render::read_profile(text.as_bytes(), Some(render::Format::Folded))
        .expect("whyslow reads the folded output");
    let sum: u64 = text
        .lines()
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<u64>().ok())
        .sum();
    assert_eq!(profile.total(0), sum as i64);
    let line = text
        .lines()
        .find(|l| l.contains(PLANTED))
        .unwrap_or_else(|| panic!("no line with {PLANTED}:\n{text}"));
    // comm;user frames (outermost first);-;kernel frames (innermost last) value
    let (stack, value) = line.rsplit_once(' ').expect("value");
    let value: u64 = value.parse().expect("number");
    assert!(value > 0);
    let frames: Vec<&str> = stack.split(';').collect();
    let planted_at = frames.iter().position(|f| f.contains(PLANTED));
    let dash = frames.iter().position(|f| *f == "-");
    assert!(planted_at < dash, "{line}");
    assert!(
        frames.last().is_some_and(|f| f.contains("schedule")),
        "{line}"
    );
}

#[test]
fn header_and_blocks_from_the_command_line() {
    let Some(_lock) = common::root_or_skip("header_and_blocks_from_the_command_line") else {
        return;
    };
    let mut out = Vec::new();
    let args: Vec<String> = ["-K", "-t", "1", "1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let code = tracetools::run_to("offcputime", &args, &mut out).expect("run");
    assert_eq!(code, 0);
    let text = String::from_utf8(out).expect("utf-8");
    assert!(
        text.starts_with("Tracing off-CPU time (us) of TIDs 1 by kernel stack for 1 secs.\n\n"),
        "{text}"
    );
    for block in text.split("\n\n").skip(1).filter(|b| !b.is_empty()) {
        assert!(block.contains("    -                "), "{block:?}");
        assert!(block.contains(" (1)\n        "), "{block:?}");
    }
}
