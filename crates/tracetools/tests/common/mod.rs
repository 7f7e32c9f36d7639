//! What the kernel tests share: the root check (skip with a reason
//! otherwise), one lock so workloads in one binary never overlap, and
//! small /proc readers.

#![allow(dead_code)]

use std::sync::{Mutex, MutexGuard};

#[path = "../../../../tests/support/root.rs"]
mod root;

static SERIAL: Mutex<()> = Mutex::new(());

/// The lock, when we are root; `None` (after saying why) otherwise.
pub fn root_or_skip(test: &str) -> Option<MutexGuard<'static, ()>> {
    root::root_or_skip(test, "bpf() and perf_event_open of tracepoints")
        .then(|| SERIAL.lock().unwrap_or_else(|e| e.into_inner()))
}

/// This thread's id.
pub fn gettid() -> u32 {
    let link = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self");
    link.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.parse().ok())
        .expect("tid")
}

/// A `Name:\tvalue` number from /proc/thread-self/status.
pub fn thread_status(name: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/thread-self/status").expect("status");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
        .expect("field")
}
