//! Errors of a benchmark, each saying what failed, on which command, and what to do.

use std::path::PathBuf;
use thiserror::Error;

/// Why a benchmark could not be run, analysed or written.
#[derive(Debug, Error)]
pub enum BenchError {
    /// A command could not be started at all.
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        /// The command line as given.
        command: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A benchmarked command exited with a non-zero status (or a signal).
    #[error("command `{command}` {status}; use -i/--ignore-failure to benchmark it anyway")]
    CommandFailed {
        /// The command line as given.
        command: String,
        /// "exited with status N" or "was killed by signal N".
        status: String,
    },
    /// A `--setup`, `--prepare`, `--conclude` or `--cleanup` command failed (never ignored).
    #[error("{role} command `{command}` {status}")]
    HelperFailed {
        /// "setup", "prepare", "conclude" or "cleanup".
        role: &'static str,
        /// The command line as given.
        command: String,
        /// "exited with status N" or "was killed by signal N".
        status: String,
    },
    /// `--shell=none` could not split a command line into words.
    #[error("cannot split `{command}` into arguments: {reason} (check its quotes)")]
    Split {
        /// The command line as given.
        command: String,
        /// What the splitter said.
        reason: String,
    },
    /// The `--input` or `--output` file of a command cannot be opened.
    #[error("cannot open {what} file {path}: {source}")]
    File {
        /// "--input" or "--output".
        what: &'static str,
        /// The path given.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The command line is empty after splitting.
    #[error("empty command: give a program to run")]
    EmptyCommand,
    /// A parameter scan is malformed.
    #[error("parameter scan: {0}")]
    Parameter(String),
    /// Run counts or times are inconsistent.
    #[error("{0}")]
    Options(String),
    /// A baseline file could not be read or understood.
    #[error("cannot read baseline {path}: {reason}")]
    Baseline {
        /// The file given to `--baseline`.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Writing an export or report failed.
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
    /// Serializing to JSON failed.
    #[error("cannot encode JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Writing CSV failed.
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
}
