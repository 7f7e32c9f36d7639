//! What the evaluator publishes after every group evaluation, for
//! `/api/v1/rules`, `/api/v1/alerts` and (later) the UI's Alerts page:
//! each group's rules with health, last error, timings, and each alerting
//! rule's alerts with state, active/fired/resolved times, plus the alerts
//! that resolved recently.

use crate::alert::AlertState;
use model::metrics::Labels;
use std::sync::RwLock;
use std::time::Duration;

/// A rule's health after its last evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Not evaluated yet.
    Unknown,
    /// The last evaluation worked.
    Ok,
    /// The last evaluation failed (see `last_error`).
    Err,
}

impl Health {
    /// Prometheus's name: `unknown`, `ok`, `err`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Ok => "ok",
            Self::Err => "err",
        }
    }
}

/// One alert as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertStatus {
    /// Identity labels.
    pub labels: Labels,
    /// Expanded annotations, sorted by name.
    pub annotations: Vec<(String, String)>,
    /// State.
    pub state: AlertState,
    /// Latest value of its series.
    pub value: f64,
    /// When it became pending (Unix ns).
    pub active_at_ns: i64,
    /// When it started firing.
    pub fired_at_ns: Option<i64>,
    /// When it resolved.
    pub resolved_at_ns: Option<i64>,
}

/// The alert-only part of a rule's status.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertingStatus {
    /// The most severe state among its alerts.
    pub state: AlertState,
    /// `for`.
    pub hold: Duration,
    /// `keep_firing_for`.
    pub keep_firing_for: Duration,
    /// Annotation templates as written.
    pub annotations: Vec<(String, String)>,
    /// Pending, firing and (for 15 minutes) resolved alerts, sorted by labels.
    pub alerts: Vec<AlertStatus>,
    /// The latest alerts that resolved, newest first (at most
    /// [`RECENTLY_RESOLVED`]), kept after the 15 minutes.
    pub recently_resolved: Vec<AlertStatus>,
}

/// How many resolved alerts a rule remembers for the UI.
pub const RECENTLY_RESOLVED: usize = 50;

/// One rule as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleStatus {
    /// Recorded metric or alert name.
    pub name: String,
    /// The expression as Prometheus prints it.
    pub query: String,
    /// Labels as written (templates for alerts).
    pub labels: Vec<(String, String)>,
    /// Health after the last evaluation.
    pub health: Health,
    /// Why the last evaluation failed.
    pub last_error: Option<String>,
    /// How long the last evaluation took.
    pub evaluation_time: Duration,
    /// When the last evaluation started (wall clock, Unix ns).
    pub last_evaluation_ns: Option<i64>,
    /// `Some` for alerting rules.
    pub alerting: Option<AlertingStatus>,
}

/// One group as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupStatus {
    /// Group name.
    pub name: String,
    /// Rule file.
    pub file: String,
    /// Evaluation interval.
    pub interval: Duration,
    /// Series / alert limit per rule (0 = none).
    pub limit: usize,
    /// How long the last evaluation of the whole group took.
    pub evaluation_time: Duration,
    /// When it started (wall clock, Unix ns).
    pub last_evaluation_ns: Option<i64>,
    /// Evaluations skipped because one overran the interval.
    pub iterations_missed: u64,
    /// The rules, in file order.
    pub rules: Vec<RuleStatus>,
}

/// The latest status of every group; written by the evaluator, read by the
/// API. Empty when serve runs without `--rules`.
#[derive(Debug, Default)]
pub struct RuleStates {
    groups: RwLock<Vec<GroupStatus>>,
}

impl RuleStates {
    /// States for these groups (sorted by file, then name, as Prometheus lists them).
    pub fn new(mut groups: Vec<GroupStatus>) -> Self {
        groups.sort_by(|a, b| (&a.file, &a.name).cmp(&(&b.file, &b.name)));
        Self {
            groups: RwLock::new(groups),
        }
    }

    /// Every group's latest status.
    pub fn snapshot(&self) -> Vec<GroupStatus> {
        self.groups
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the status of the group with the same file and name.
    pub fn publish(&self, status: GroupStatus) {
        let mut groups = self
            .groups
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(slot) = groups
            .iter_mut()
            .find(|g| g.file == status.file && g.name == status.name)
        {
            *slot = status;
        }
    }
}
