//! Reading cgroup files, shared by `usecheck::cgroup` (the shell's cgroup,
//! for `whyslow use`) and `cgroups` (every cgroup, for the agent): one
//! number, `key value` lines, PSI `total=` counters, v1's "no limit", and
//! mountinfo's octal escapes.
//!
//! Hand-parsed: each file is one number or a few `key value` lines, and the
//! `procfs` crate's cgroup support would bring `rustix` for that.

use std::path::Path;

/// v1 reports "no limit" as a page-rounded i64::MAX.
pub(crate) const NO_LIMIT: f64 = (1u64 << 62) as f64;

/// mountinfo escapes space, tab, newline and backslash as octal (`\040`).
pub(crate) fn unescape(text: &str) -> String {
    text.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// A file holding one number.
pub(crate) fn number(path: &Path) -> Option<f64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The value of `key` in a file of `key value` lines.
pub(crate) fn keyed(path: &Path, key: &str) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok())?
    })
}

/// `total=` microseconds of the `some` or `full` line of PSI text.
pub(crate) fn psi_total(text: &str, line: &str) -> Option<f64> {
    let record = text.lines().find(|l| l.starts_with(line))?;
    record
        .split_whitespace()
        .find_map(|f| f.strip_prefix("total="))?
        .parse()
        .ok()
}

/// [`psi_total`] of a PSI file.
pub(crate) fn psi(path: &Path, line: &str) -> Option<f64> {
    psi_total(&std::fs::read_to_string(path).ok()?, line)
}
