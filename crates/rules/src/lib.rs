//! Alerting and recording rules for `whyslow serve`: Prometheus rule files
//! loaded and checked at start ([`file`]), evaluated group by group on the
//! series store with the PromQL engine ([`group`], [`manager`]), alerts
//! moving pending → firing → resolved as Prometheus moves them ([`alert`]),
//! labels and annotations expanded from Go-style templates ([`template`]),
//! notifications to Alertmanager and webhooks ([`notify`]), and the status
//! the HTTP API and UI read ([`status`]).
//!
//! A crate of its own rather than a module of `server` or `promql`: it owns
//! background tasks, an HTTP client and a YAML format, none of which the
//! query engine or the HTTP app need; `server` only reads [`RuleStates`].
//!
//! ```ignore
//! let groups = rules::file::load(&["rules.yml"], rules::file::DEFAULT_EVALUATION_INTERVAL)?;
//! let runner = rules::RulesRunner::start(groups, store, engine, &notify_options, stop_rx);
//! app_state.rules = runner.states.clone();
//! ```

pub mod alert;
pub mod file;
mod gofmt;
pub mod group;
pub mod manager;
pub mod notify;
pub mod status;
pub mod template;

pub use alert::AlertState;
pub use file::{GroupSpec, RuleKind, RuleSpec};
pub use gofmt::{format_value_e, rfc3339_nanos};
pub use manager::RulesRunner;
pub use notify::NotifyOptions;
pub use status::{AlertStatus, GroupStatus, Health, RuleStates, RuleStatus};

/// Why rule files were refused.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The file could not be read.
    #[error("{path}: cannot read the rule file: {why}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        why: String,
    },
    /// Not YAML of the rule file shape (the message names line and column).
    #[error("{why}")]
    Yaml {
        /// The file.
        path: String,
        /// The parser's message, with the file name and position.
        why: String,
    },
    /// A group or rule Prometheus would refuse too.
    #[error("{path}:{line}: {why}")]
    Invalid {
        /// The file.
        path: String,
        /// 1-based line (0 when the whole file is meant).
        line: usize,
        /// What is wrong, naming the group and rule.
        why: String,
    },
}
