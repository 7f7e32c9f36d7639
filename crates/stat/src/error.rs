//! Errors a user of `whyslow stat` can hit, each naming the input and what to
//! do about it.

use thiserror::Error;

/// Why counting failed.
#[derive(Debug, Error)]
pub enum StatError {
    /// `-e` named an event we do not know.
    #[error(
        "unknown event '{event}': use perf's names ({}) or a tracepoint CATEGORY:NAME \
         (see `ls /sys/kernel/tracing/events`)",
        crate::event::known_names()
    )]
    UnknownEvent {
        /// The event as typed.
        event: String,
    },
    /// A tracepoint that tracefs does not have.
    #[error("unknown tracepoint '{event}': {path} does not exist (list them with `ls /sys/kernel/tracing/events/*`)")]
    UnknownTracepoint {
        /// `category:name`.
        event: String,
        /// The id file looked for.
        path: String,
    },
    /// tracefs is missing or unreadable.
    #[error("{message}")]
    Tracefs {
        /// What is wrong and the way out.
        message: String,
    },
    /// The command to count could not be found.
    #[error("command not found: `{command}` (is it installed and on PATH?)")]
    CommandNotFound {
        /// The program as given.
        command: String,
    },
    /// The command exists but could not be started.
    #[error("cannot run `{command}`: {source}")]
    CommandFailed {
        /// The program as given.
        command: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// `-p PID` named a process that does not exist.
    #[error("no such process: {pid} (check the PID with `ps -p {pid}`)")]
    NoSuchProcess {
        /// The PID.
        pid: u32,
    },
    /// perf_event_open was refused for lack of permission.
    #[error("{message}")]
    PermissionDenied {
        /// The sysctl to change or the capability to grant.
        message: String,
    },
    /// perf_event_open failed for another reason.
    #[error("perf_event_open failed for {event}: {source}")]
    PerfEventOpen {
        /// The event.
        event: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Options that do not go together or are out of range.
    #[error("{0}")]
    InvalidOptions(String),
    /// Writing the output or another OS call failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Not supported on this platform.
    #[error("whyslow stat is supported on Linux only")]
    Unsupported,
}
