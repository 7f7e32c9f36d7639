//! The root check the kernel tests of several crates share (bpf() and
//! perf_event_open of tracepoints and uprobes need it): the effective uid
//! read from /proc/self/status, so no libc is needed. Included with
//! `#[path]` by each crate's tests.

#![allow(dead_code)] // each includer uses part of it

/// Whether this process runs with effective uid 0.
pub fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0")
}

/// Whether `test` may run; without root it says on stderr that it skips and
/// why (`needs`).
pub fn root_or_skip(test: &str, needs: &str) -> bool {
    if is_root() {
        return true;
    }
    eprintln!("{test}: skipped: needs root ({needs})");
    false
}
