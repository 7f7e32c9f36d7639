//! The errors of the load crate: bad configuration, refused targets, I/O on
//! report files. Per-request failures are not errors here; they are counted
//! by kind in [`crate::ErrorKind`].

use thiserror::Error;

/// What can stop a load test from starting or finishing.
#[derive(Debug, Error)]
pub enum LoadError {
    /// An option or its value makes no sense; the message names it.
    #[error("{0}")]
    Config(String),
    /// The URL could not be parsed or uses an unsupported scheme.
    #[error("bad target URL '{url}': {why}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// The host name did not resolve.
    #[error("cannot resolve '{host}': {source}")]
    Resolve {
        /// Host name.
        host: String,
        /// The resolver's error.
        source: std::io::Error,
    },
    /// The target is not on this machine and `--allow-remote` was not given.
    #[error(
        "refusing to load {host} ({address}): it is not a loopback address (127.0.0.0/8, ::1). \
         Load tests hit only this machine unless you pass --allow-remote for a target you own."
    )]
    NotLoopback {
        /// Host name as given.
        host: String,
        /// The first address that is not loopback.
        address: std::net::IpAddr,
    },
    /// A bad `--slo` expression.
    #[error("bad --slo '{expression}': {why}")]
    Slo {
        /// The threshold that did not parse.
        expression: String,
        /// What is wrong with it.
        why: String,
    },
    /// A bad `--scenario` file.
    #[error("bad scenario {path}: {why}")]
    Scenario {
        /// The file.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    /// The worker threads could not be started.
    #[error("cannot start load threads: {0}")]
    Runtime(#[source] std::io::Error),
}
