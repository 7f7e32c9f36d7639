//! execsnoop on the real kernel: a child that runs /bin/true K times with a
//! marker argument shows up as exactly K events whose parent is the child.

#[path = "common/child.rs"]
mod child;
mod common;

use std::time::{Duration, Instant};
use tracetools::execsnoop::{Execsnoop, Options};
use tracetools::runtime::EventTool;

const K: usize = 7;
const MARKER: &str = "whyslow-execsnoop-marker";

fn run_true_k_times() {
    for _ in 0..K {
        // SAFETY: fork/execve/_exit/waitpid; the strings are copied to the
        // grandchild's stack first, because BPF reads of user memory cannot
        // fault in the file pages a fresh fork has not mapped yet (a real
        // shell's argv lives on its stack or heap too).
        unsafe {
            let pid = libc::fork();
            if pid == 0 {
                let mut path = [0u8; 16];
                let mut marker = [0u8; 32];
                path[..9].copy_from_slice(b"/bin/true");
                marker[..MARKER.len()].copy_from_slice(MARKER.as_bytes());
                let path = std::hint::black_box(&mut path);
                let marker = std::hint::black_box(&mut marker);
                let argv = [
                    path.as_ptr().cast::<libc::c_char>(),
                    marker.as_ptr().cast(),
                    std::ptr::null(),
                ];
                let envp = [std::ptr::null()];
                libc::execve(argv[0], argv.as_ptr(), envp.as_ptr());
                libc::_exit(127);
            }
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
        }
    }
}

#[test]
fn sees_exactly_k_execs_of_true() {
    let Some(_lock) = common::root_or_skip("sees_exactly_k_execs_of_true") else {
        return;
    };
    let child = child::Child::spawn(run_true_k_times);
    let parent = child.pid;
    let options = Options {
        timestamp: true,
        ..Options::default()
    };
    let mut tracer = Execsnoop::start(&options).expect("start");
    child.go_and_wait();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        for e in tracer.poll(Duration::from_millis(100)).expect("poll") {
            if e.args.get(1).map(String::as_str) == Some(MARKER) {
                seen.push(e);
            }
        }
    }
    assert_eq!(seen.len(), K, "{seen:?}");
    eprintln!("{}", tracer.header());
    for e in &seen {
        eprintln!("{}", tracer.line(e));
        assert_eq!(e.ppid, parent);
        assert_eq!(e.ret, 0);
        assert_eq!(e.comm, "true");
        assert_eq!(e.args[0], "/bin/true");
    }
    assert_eq!(
        tracer.header(),
        "TIME(s)  PCOMM            PID    PPID   RET ARGS"
    );
}
