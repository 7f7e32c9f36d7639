//! What the bpftrace differential tests share: whether Debian's bpftrace
//! 0.17 can run here, and skipping (saying why) or, with
//! `WHYSLOW_REQUIRE_BPFTRACE` set, failing when it cannot.

use std::process::Command;

/// Whether bpftrace 0.17 can run here; `Err` says why not.
fn bpftrace_usable() -> Result<(), String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        == Some("0");
    if !root {
        return Err("not running as root".into());
    }
    match Command::new("bpftrace").arg("--version").output() {
        Ok(out) if String::from_utf8_lossy(&out.stdout).contains("v0.17") => Ok(()),
        Ok(out) => Err(format!(
            "bpftrace is {}, the expectations are pinned to v0.17",
            String::from_utf8_lossy(&out.stdout).trim()
        )),
        Err(e) => Err(format!(
            "bpftrace not found ({e}); apt-get install bpftrace"
        )),
    }
}

/// Whether the differential test `what` can run; prints why it skips, and
/// panics instead when `WHYSLOW_REQUIRE_BPFTRACE` is set.
pub fn require_or_skip(what: &str) -> bool {
    match bpftrace_usable() {
        Ok(()) => true,
        Err(why) if std::env::var_os("WHYSLOW_REQUIRE_BPFTRACE").is_some() => {
            panic!("WHYSLOW_REQUIRE_BPFTRACE is set but bpftrace cannot run: {why}")
        }
        Err(why) => {
            eprintln!("skipping the bpftrace {what} differential test: {why}");
            false
        }
    }
}
