//! The crate's error type: bad options (with the tool's usage), kernel-side
//! failures from `bpf`, and I/O on the output or /proc.

use std::io;

/// Anything a tool can fail at.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An unknown tool name.
    #[error("unknown tool `{0}` (tools: {1})")]
    UnknownTool(String, String),
    /// A bad option or argument; the message ends with the usage line.
    #[error("{tool}: {message}\n{usage}")]
    Usage {
        tool: &'static str,
        message: String,
        usage: &'static str,
    },
    /// Loading, attaching or reading BPF objects failed.
    #[error(transparent)]
    Bpf(#[from] bpf::Error),
    /// A tracepoint lacks a field the tool reads (a kernel we do not know).
    #[error("tracepoint {tracepoint} has no field `{field}` (or not of a readable size)")]
    MissingField { tracepoint: String, field: String },
    /// Writing the output or reading /proc failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// This crate's result.
pub type Result<T> = std::result::Result<T, Error>;
