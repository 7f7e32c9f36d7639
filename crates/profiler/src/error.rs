//! Errors a user of `whyslow record` can hit, each with what to do about it.

use thiserror::Error;

/// Why recording failed.
#[derive(Debug, Error)]
pub enum ProfilerError {
    /// The command to profile could not be started.
    #[error("command not found: `{command}` (is it installed and on PATH?)")]
    CommandNotFound {
        /// The program name as given.
        command: String,
    },
    /// The command exists but could not be executed.
    #[error("cannot run `{command}`: {source}")]
    CommandFailed {
        /// The program name as given.
        command: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// `-p PID` named a process that does not exist.
    #[error("no such process: {pid} (check the PID with `ps -p {pid}`)")]
    NoSuchProcess {
        /// The PID given.
        pid: u32,
    },
    /// perf_event_open was refused for lack of permission.
    #[error("{message}")]
    PermissionDenied {
        /// Precise advice: the sysctl value to set or the capability to grant.
        message: String,
    },
    /// The kernel has no usable sampling event (neither cycles nor cpu-clock).
    #[error("perf_event_open failed for {what}: {source}")]
    PerfEventOpen {
        /// Which event failed.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Any other OS-level failure, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A feature the recording needs is not available here (with what to do).
    #[error("{message}")]
    Unavailable {
        /// What is missing and how to get it.
        message: String,
    },
    /// Not supported on this platform.
    #[error("recording is supported on Linux only")]
    Unsupported,
}
