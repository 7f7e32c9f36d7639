//! The one error type of the render crate: what went wrong reading or writing
//! a profile, with the input position where there is one.
//!
//! Messages are for users: they name the format, the line and what was
//! expected. Not for errors of the CLI's own files (the binary adds the path).

/// An error reading or writing a profile.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A `--format` value or hint that names no format.
    #[error(
        "unknown format '{0}' (expected one of: html, folded, pprof, speedscope, perf-script)"
    )]
    UnknownFormat(String),
    /// Input whose format could not be recognized.
    #[error(
        "cannot tell the profile format: expected pprof (gzipped protobuf), speedscope JSON, \
         a whyslow flamegraph page, perf script text or folded stacks; name it with --format"
    )]
    UnknownInput,
    /// Input that should be pprof but is not.
    #[error("not a pprof profile: {0}")]
    NotPprof(String),
    /// Input that should be speedscope JSON but is not.
    #[error("not a speedscope profile: {0}")]
    NotSpeedscope(String),
    /// Input that should be a whyslow flamegraph page but is not.
    #[error("not a whyslow flamegraph page: {0}")]
    NotFlamegraphHtml(String),
    /// A bad line of folded-stack input (`line` counts from 1).
    #[error("line {line} of folded input: {reason}")]
    Folded {
        /// Line number, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A bad line of `perf script` input (`line` counts from 1).
    #[error("line {line} of perf script input: {reason}")]
    PerfScript {
        /// Line number, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// Text input that is not UTF-8.
    #[error("{format} input is not UTF-8 text: {source}")]
    NotText {
        /// The format that was expected.
        format: &'static str,
        /// Where the bad byte is.
        source: std::str::Utf8Error,
    },
    /// A view the profile has no values for.
    #[error("this profile has no '{view}' values (it has: {available})")]
    ViewUnavailable {
        /// The view asked for.
        view: String,
        /// The views it has, comma separated.
        available: String,
    },
    /// Writing the output failed.
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
}
