//! syscount on the real kernel: a child making exactly N getppid calls is
//! counted N times under `-p`, at least N times system-wide.

#[path = "common/child.rs"]
mod child;
mod common;

use tracetools::syscount::{Options, Syscount};

const N: u64 = 1234;
const GETPPID: u32 = 110;

fn getppid_n() {
    for _ in 0..N {
        // SAFETY: a raw syscall without arguments.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
}

fn count_of(rows: &[tracetools::syscount::Row], key: u32) -> u64 {
    rows.iter().find(|r| r.key == key).map_or(0, |r| r.count)
}

#[test]
fn counts_exactly_the_childs_getppid_calls() {
    let Some(_lock) = common::root_or_skip("counts_exactly_the_childs_getppid_calls") else {
        return;
    };
    let child = child::Child::spawn(getppid_n);
    let filtered = Options {
        pid: Some(child.pid),
        latency: true,
        ..Options::default()
    };
    let by_pid = Syscount::start(&filtered).expect("start -p");
    let everyone = Syscount::start(&Options::default()).expect("start");
    let per_process = Syscount::start(&Options {
        per_process: true,
        ..Options::default()
    })
    .expect("start -P");
    let pid = child.pid;
    child.go_and_wait();
    let rows = by_pid.take().expect("take");
    assert_eq!(count_of(&rows, GETPPID), N, "{rows:?}");
    let text = by_pid.render(rows);
    eprintln!("{text}");
    assert!(text.starts_with("SYSCALL                   COUNT        TIME (us)\n"));
    assert!(
        text.contains(&format!("getppid                    {N} ")),
        "{text}"
    );
    let all = everyone.take().expect("take");
    assert!(count_of(&all, GETPPID) >= N);
    let procs = per_process.take().expect("take");
    // getppid calls plus the read, exit and the like around them.
    assert!(count_of(&procs, pid) >= N, "{procs:?}");
}
