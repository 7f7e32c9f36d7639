//! Runs one process and measures it: wall time around spawn and reap, and
//! the child's user time, system time and peak RSS from `wait4`'s rusage
//! (which include the child's own reaped descendants, so a shell's command
//! is counted). Knows nothing about runs, warmups or statistics.

use crate::error::BenchError;
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

/// Where the child's standard output and error go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Output {
    /// Discarded (`/dev/null`), like hyperfine's default.
    #[default]
    Discard,
    /// Inherited from whyslow (`--show-output`).
    Show,
}

/// Spawns `argv` (standard input from `/dev/null`) and waits for it.
pub fn execute(argv: &[String], output: Output) -> Result<Measurement, BenchError> {
    let (program, args) = argv.split_first().ok_or(BenchError::EmptyCommand)?;
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null());
    if output == Output::Discard {
        command.stdout(Stdio::null()).stderr(Stdio::null());
    }
    let started = Instant::now();
    let child = command.spawn().map_err(|source| BenchError::Spawn {
        command: shell_words::join(argv),
        source,
    })?;
    let reaped = wait(child).map_err(|source| BenchError::Spawn {
        command: shell_words::join(argv),
        source,
    })?;
    let wall_s = started.elapsed().as_secs_f64();
    Ok(Measurement { wall_s, ..reaped })
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
        let m = execute(&sh("sleep 0.05; exit 3"), Output::Discard).expect("runs");
        assert!(m.wall_s >= 0.05, "{m:?}");
        assert_eq!(m.exit_code, Some(3));
        assert!(m.max_rss_bytes > 0, "{m:?}");
        assert_eq!(m.status_text(), "exited with status 3");
    }

    #[test]
    fn counts_cpu_time_of_grandchildren() {
        let m = execute(
            &sh("i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done"),
            Output::Discard,
        )
        .expect("runs");
        assert!(m.user_s + m.system_s > 0.005, "{m:?}");
    }

    #[test]
    fn reports_signals_and_missing_programs() {
        let m = execute(&sh("kill -9 $$"), Output::Discard).expect("runs");
        assert_eq!((m.exit_code, m.signal), (None, Some(9)));
        let missing = execute(&["/nonexistent/program".into()], Output::Discard);
        assert!(matches!(missing, Err(BenchError::Spawn { .. })));
    }
}
