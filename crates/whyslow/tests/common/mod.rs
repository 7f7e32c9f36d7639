//! Helpers for the end-to-end tests: the real `whyslow` binary, the test
//! workload (with and without frame pointers), temp dirs and folded-stack parsing.
#![allow(dead_code)]

pub mod clickhouse;
pub mod flamebearer;
#[path = "../../../../tests/support/root.rs"]
pub mod root;
pub mod serve;
pub mod test_store;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The `whyslow` binary under test.
pub fn whyslow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_whyslow"))
}

/// Runs `whyslow ARGS` and returns its output.
pub fn run(args: &[&str]) -> Output {
    whyslow().args(args).output().expect("whyslow runs")
}

/// Frame-pointer flavour of the workload build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// `-C force-frame-pointers=yes`.
    FramePointers,
    /// Rust's release default on x86_64: no frame pointers (needs DWARF unwinding).
    NoFramePointers,
}

/// Path to the workload binary, built on first use unless dev/test built it.
pub fn workload(build: Build) -> PathBuf {
    static FP: OnceLock<PathBuf> = OnceLock::new();
    static NOFP: OnceLock<PathBuf> = OnceLock::new();
    let (cell, var, dir, flags) = match build {
        Build::FramePointers => (
            &FP,
            "WHYSLOW_WORKLOAD_FP",
            "workload-fp",
            "-C force-frame-pointers=yes",
        ),
        Build::NoFramePointers => (&NOFP, "WHYSLOW_WORKLOAD_NOFP", "workload-nofp", ""),
    };
    cell.get_or_init(|| {
        if let Ok(path) = std::env::var(var) {
            return PathBuf::from(path);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let target = root.join("target").join(dir);
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--release",
                "--quiet",
                "-p",
                "workload",
                "--target-dir",
            ])
            .arg(&target)
            .env("RUSTFLAGS", flags)
            .current_dir(&root)
            .status()
            .expect("cargo builds the workload");
        assert!(status.success(), "building the workload failed");
        target.join("release/workload")
    })
    .clone()
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates `$TMPDIR/whyslow-test-NAME-PID-N`.
    pub fn new(name: &str) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "whyslow-test-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    /// A path inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// The path as a `&str`.
    pub fn str(&self, name: &str) -> String {
        self.path(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where test artifacts (screenshots, sample outputs) are kept.
pub fn artifacts_dir() -> PathBuf {
    let dir = std::env::var("WHYSLOW_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/artifacts"));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Folded stacks: stack (frames root first) → value.
pub type Folded = BTreeMap<Vec<String>, i64>;

/// Parses `a;b;c 123` lines.
pub fn parse_folded(text: &str) -> Folded {
    let mut out = Folded::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (stack, count) = line
            .trim_end()
            .rsplit_once(' ')
            .expect("folded line has a count");
        let count: i64 = count.parse().expect("folded count is a number");
        let frames = stack.split(';').map(str::to_string).collect();
        *out.entry(frames).or_default() += count;
    }
    out
}

/// Total value of all stacks.
pub fn total(folded: &Folded) -> i64 {
    folded.values().sum()
}

/// Share (0..=100) of the total held by stacks whose leaf frame ends with `leaf`.
pub fn leaf_percent(folded: &Folded, leaf: &str) -> f64 {
    let hit: i64 = folded
        .iter()
        .filter(|(stack, _)| stack.last().is_some_and(|f| f.ends_with(leaf)))
        .map(|(_, v)| v)
        .sum();
    100.0 * hit as f64 / total(folded).max(1) as f64
}

/// Share (0..=100) of the total held by stacks containing a frame ending with `frame`.
pub fn inclusive_percent(folded: &Folded, frame: &str) -> f64 {
    let hit: i64 = folded
        .iter()
        .filter(|(stack, _)| stack.iter().any(|f| f.ends_with(frame)))
        .map(|(_, v)| v)
        .sum();
    100.0 * hit as f64 / total(folded).max(1) as f64
}

/// Whether `needle` appears in `stack` as an ordered (not necessarily adjacent) subsequence
/// of frames, matching by suffix.
pub fn has_chain(stack: &[String], needle: &[&str]) -> bool {
    let mut it = stack.iter();
    needle.iter().all(|n| it.any(|f| f.ends_with(n)))
}

/// Stdout and stderr as text, for assertion messages.
pub fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Whether this machine lets us call perf_event_open at all (for a clear skip message).
pub fn perf_available() -> bool {
    std::fs::metadata("/proc/sys/kernel/perf_event_paranoid").is_ok()
}
