//! Runs one process and measures it: wall time around spawn and reap, and
//! the child's user time, system time and peak RSS from `wait4`'s rusage
//! (which include the child's own reaped descendants, so a shell's command
//! is counted). Knows nothing about runs, warmups or statistics.

use crate::error::BenchError;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// One process run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    /// Wall-clock seconds from just before spawn to just after reaping.
    pub wall_s: f64,
    /// User CPU seconds of the child and its reaped descendants.
    pub user_s: f64,
    /// System CPU seconds of the child and its reaped descendants.
    pub system_s: f64,
    /// Peak resident set size in bytes (largest of the child and its descendants).
    pub max_rss_bytes: u64,
    /// Exit status; `None` when a signal ended it.
    pub exit_code: Option<i32>,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
}

impl Measurement {
    /// True when the process exited with status 0.
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// "exited with status N" or "was killed by signal N".
    pub fn status_text(&self) -> String {
        match (self.exit_code, self.signal) {
            (Some(code), _) => format!("exited with status {code}"),
            (None, Some(signal)) => format!("was killed by signal {signal}"),
            (None, None) => "ended without a status".to_string(),
        }
    }
}

/// Where the child's standard output and error go (hyperfine's `--output`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Output {
    /// Both discarded (`/dev/null`), like hyperfine's default.
    #[default]
    Discard,
    /// Inherited from whyslow (`--show-output`, `--output=inherit`).
    Show,
    /// Standard output read through a pipe and discarded, so a command that
    /// writes much pays for a reader as it would in a pipeline; standard
    /// error discarded (`--output=pipe`).
    Pipe,
    /// Standard output written to this file, truncated per run; standard
    /// error discarded (`--output=FILE`).
    File(PathBuf),
}

impl Output {
    /// Parses `--output`: `null`, `pipe`, `inherit` or a file path.
    pub fn parse(text: &str) -> Output {
        match text {
            "null" => Output::Discard,
            "pipe" => Output::Pipe,
            "inherit" => Output::Show,
            path => Output::File(PathBuf::from(path)),
        }
    }
}

/// Where the child's standard input comes from (hyperfine's `--input`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Input {
    /// `/dev/null`.
    #[default]
    Null,
    /// This file, opened anew for every run.
    File(PathBuf),
}

impl Input {
    /// Parses `--input`: `null` or a file path.
    pub fn parse(text: &str) -> Input {
        match text {
            "null" => Input::Null,
            path => Input::File(PathBuf::from(path)),
        }
    }
}

/// Spawns `argv` with standard input from `input` and output to `output`,
/// and waits for it.
pub fn execute(argv: &[String], input: &Input, output: &Output) -> Result<Measurement, BenchError> {
    let (program, args) = argv.split_first().ok_or(BenchError::EmptyCommand)?;
    let spawn_error = |source| BenchError::Spawn {
        command: shell_words::join(argv),
        source,
    };
    let mut command = Command::new(program);
    command.args(args);
    match input {
        Input::Null => command.stdin(Stdio::null()),
        Input::File(path) => command.stdin(open_input(path)?),
    };
    match output {
        Output::Show => {}
        Output::Discard => {
            command.stdout(Stdio::null()).stderr(Stdio::null());
        }
        Output::Pipe => {
            command.stdout(Stdio::piped()).stderr(Stdio::null());
        }
        Output::File(path) => {
            let file = File::create(path).map_err(|source| BenchError::File {
                what: "--output",
                path: path.display().to_string(),
                source,
            })?;
            command.stdout(file).stderr(Stdio::null());
        }
    }
    let started = Instant::now();
    let mut child = command.spawn().map_err(spawn_error)?;
    if let Some(mut stdout) = child.stdout.take() {
        std::io::copy(&mut stdout, &mut std::io::sink()).map_err(spawn_error)?;
    }
    let reaped = wait(child).map_err(spawn_error)?;
    let wall_s = started.elapsed().as_secs_f64();
    Ok(Measurement { wall_s, ..reaped })
}

fn open_input(path: &Path) -> Result<File, BenchError> {
    File::open(path).map_err(|source| BenchError::File {
        what: "--input",
        path: path.display().to_string(),
        source,
    })
}

/// whyslow's own peak resident size so far (`VmHWM`), on Linux. The kernel
/// folds the spawning process's peak into a child's `ru_maxrss` when the
/// child execs, so a command whose measured peak is at most this may be
/// smaller still: the measurement is then only an upper bound.
pub fn own_peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(unix)]
fn wait(child: std::process::Child) -> std::io::Result<Measurement> {
    let pid = libc::pid_t::try_from(child.id())
        .map_err(|_| std::io::Error::other("child pid out of range"))?;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; zeroed is a valid value for it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own unreaped child; `status` and `usage` are
        // valid, writable and live for the call. `child` is not waited on by
        // std afterwards (it is only dropped, which does not reap).
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc == pid {
            break;
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
    drop(child);
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    // ru_maxrss is in KiB on Linux (bytes on macOS).
    let rss_unit = if cfg!(target_os = "macos") { 1 } else { 1024 };
    let (exit_code, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else if libc::WIFSIGNALED(status) {
        (None, Some(libc::WTERMSIG(status)))
    } else {
        (None, None)
    };
    Ok(Measurement {
        wall_s: 0.0,
        user_s: seconds(usage.ru_utime),
        system_s: seconds(usage.ru_stime),
        max_rss_bytes: u64::try_from(usage.ru_maxrss).unwrap_or(0) * rss_unit,
        exit_code,
        signal,
    })
}

#[cfg(not(unix))]
fn wait(mut child: std::process::Child) -> std::io::Result<Measurement> {
    let status = child.wait()?;
    Ok(Measurement {
        wall_s: 0.0,
        user_s: 0.0,
        system_s: 0.0,
        max_rss_bytes: 0,
        exit_code: status.code(),
        signal: None,
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(line: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), line.into()]
    }

    #[test]
    fn measures_wall_time_and_status() {
        let m = execute(&sh("sleep 0.05; exit 3"), &Input::Null, &Output::Discard).expect("runs");
        assert!(m.wall_s >= 0.05, "{m:?}");
        assert_eq!(m.exit_code, Some(3));
        assert!(m.max_rss_bytes > 0, "{m:?}");
        assert_eq!(m.status_text(), "exited with status 3");
    }

    #[test]
    fn counts_cpu_time_of_grandchildren() {
        let m = execute(
            &sh("i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done"),
            &Input::Null,
            &Output::Discard,
        )
        .expect("runs");
        assert!(m.user_s + m.system_s > 0.005, "{m:?}");
    }

    #[test]
    fn reports_signals_and_missing_programs() {
        let m = execute(&sh("kill -9 $$"), &Input::Null, &Output::Discard).expect("runs");
        assert_eq!((m.exit_code, m.signal), (None, Some(9)));
        let missing = execute(
            &["/nonexistent/program".into()],
            &Input::Null,
            &Output::Discard,
        );
        assert!(matches!(missing, Err(BenchError::Spawn { .. })));
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_tiny_child_reports_at_most_our_own_peak() {
        let own = own_peak_rss_bytes().expect("VmHWM on Linux");
        let m = execute(&["true".into()], &Input::Null, &Output::Discard).expect("runs");
        assert!(
            m.max_rss_bytes <= own_peak_rss_bytes().unwrap_or(0),
            "{m:?} vs {own}"
        );
    }

    #[test]
    fn input_and_output_go_where_asked() {
        let dir = std::env::temp_dir().join(format!("whyslow-exec-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let (input, output) = (dir.join("in"), dir.join("out"));
        std::fs::write(&input, "hello\n").expect("input");
        let m = execute(
            &sh("tr a-z A-Z; echo err >&2"),
            &Input::File(input.clone()),
            &Output::File(output.clone()),
        )
        .expect("runs");
        assert!(m.succeeded(), "{m:?}");
        assert_eq!(
            std::fs::read_to_string(&output).ok().as_deref(),
            Some("HELLO\n")
        );
        // A pipe is drained, so a writer larger than the pipe buffer finishes.
        let m = execute(
            &sh("head -c 1000000 /dev/zero"),
            &Input::Null,
            &Output::Pipe,
        )
        .expect("runs");
        assert!(m.succeeded(), "{m:?}");
        let missing = execute(
            &sh("true"),
            &Input::File(dir.join("nope")),
            &Output::Discard,
        );
        assert!(
            matches!(
                missing,
                Err(BenchError::File {
                    what: "--input",
                    ..
                })
            ),
            "{missing:?}"
        );
        assert_eq!(Output::parse("pipe"), Output::Pipe);
        assert_eq!(Output::parse("inherit"), Output::Show);
        assert_eq!(Output::parse("null"), Output::Discard);
        assert_eq!(Input::parse("x.txt"), Input::File("x.txt".into()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
