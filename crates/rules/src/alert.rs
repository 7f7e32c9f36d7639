//! One alerting rule's alerts and how they move between states, as
//! Prometheus 2.42's `rules/alerting.go` moves them:
//!
//! - a series the expression returns becomes a *pending* alert (labels: the
//!   series' without `__name__`, plus the rule's expanded labels and
//!   `alertname`), and *firing* once it has been returned for `for`;
//! - when its series is no longer returned a pending alert is dropped; a
//!   firing one stays firing for `keep_firing_for`, then turns *inactive*
//!   (resolved) and is kept 15 minutes so receivers hear it resolved;
//! - every evaluation writes `ALERTS{alertstate}` = 1 and `ALERTS_FOR_STATE`
//!   = the Unix second it became active, for each pending and firing alert —
//!   once the rule's `for` state has been restored (see
//!   [`crate::group::Group::restore_for_state`]);
//! - firing alerts are (re)sent every resend delay, resolved ones at once.

use crate::file::{AlertSpec, RuleSpec};
use crate::template::TemplateData;
use model::metrics::Labels;
use std::collections::{HashMap, HashSet};

/// How long a resolved alert is kept (and re-sent as resolved).
pub const RESOLVED_RETENTION_NS: i64 = 15 * 60 * 1_000_000_000;

/// An alert's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertState {
    /// Resolved (or, for a rule, no active alert).
    Inactive,
    /// Returned by the expression for less than `for`.
    Pending,
    /// Returned for at least `for` (or kept by `keep_firing_for`).
    Firing,
}

impl AlertState {
    /// Prometheus's name: `inactive`, `pending`, `firing`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inactive => "inactive",
            Self::Pending => "pending",
            Self::Firing => "firing",
        }
    }
}

/// One alert of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Identity: series labels + rule labels + `alertname`.
    pub labels: Labels,
    /// Expanded annotations, sorted by name.
    pub annotations: Vec<(String, String)>,
    /// Current state.
    pub state: AlertState,
    /// The latest value of its series.
    pub value: f64,
    /// When it became pending (Unix ns, an evaluation time).
    pub active_at_ns: i64,
    /// When it started firing.
    pub fired_at_ns: Option<i64>,
    /// When it resolved.
    pub resolved_at_ns: Option<i64>,
    /// Since when `keep_firing_for` keeps it firing.
    pub keep_firing_since_ns: Option<i64>,
    /// When it was last sent to Alertmanagers.
    pub last_sent_at_ns: Option<i64>,
    /// When Alertmanager should consider it resolved unless re-sent.
    pub valid_until_ns: i64,
    /// The last state sent to webhooks, and when.
    pub webhook_sent: Option<(AlertState, i64)>,
}

impl Alert {
    fn needs_sending(&self, ts_ns: i64, resend_delay_ns: i64) -> bool {
        if self.state == AlertState::Pending {
            return false;
        }
        let last = self.last_sent_at_ns.unwrap_or(i64::MIN);
        if self.resolved_at_ns.is_some_and(|r| r > last) {
            return true;
        }
        self.last_sent_at_ns.is_none() || last.saturating_add(resend_delay_ns) < ts_ns
    }
}

/// The alerts of one alerting rule.
#[derive(Debug, Clone)]
pub struct AlertingRule {
    /// Rule name (`alertname`).
    pub name: String,
    /// Label templates (as written and parsed).
    pub labels: Vec<(String, crate::template::Template)>,
    /// `for`, `keep_firing_for`, annotations.
    pub spec: AlertSpec,
    /// Active alerts (pending, firing, resolved within the retention), by labels.
    pub active: HashMap<Labels, Alert>,
    /// Whether ALERTS series are written yet (after the `for` state is restored).
    pub restored: bool,
}

/// One output sample of an alerting rule: `ALERTS` or `ALERTS_FOR_STATE`.
pub type OutSample = (Labels, f64);

impl AlertingRule {
    /// The rule's state machine, nothing active, not yet restored.
    pub fn new(rule: &RuleSpec, spec: &AlertSpec) -> Self {
        Self {
            name: rule.name.clone(),
            labels: rule.labels.clone(),
            spec: spec.clone(),
            active: HashMap::new(),
            restored: false,
        }
    }

    fn hold_ns(&self) -> i64 {
        i64::try_from(self.spec.hold.as_nanos()).unwrap_or(i64::MAX)
    }

    /// Applies one evaluation's result (series labels and values) at
    /// `ts_ns`; returns the `ALERTS` / `ALERTS_FOR_STATE` samples to write.
    pub fn eval(
        &mut self,
        result: Vec<(Labels, f64)>,
        ts_ns: i64,
        limit: usize,
        external_url: &str,
    ) -> Result<Vec<OutSample>, String> {
        let external = Labels::default();
        let mut current: HashMap<Labels, Alert> = HashMap::with_capacity(result.len());
        for (series, value) in result {
            let data = TemplateData {
                labels: &series,
                external_labels: &external,
                external_url,
                value,
            };
            let mut labels = series.clone();
            labels.set(model::metrics::METRIC_NAME, "");
            for (name, template) in &self.labels {
                labels.set(name, &template.expand_or_error(&data));
            }
            labels.set("alertname", &self.name);
            let annotations = self
                .spec
                .annotations
                .iter()
                .map(|(name, t)| (name.clone(), t.expand_or_error(&data)))
                .collect();
            if current.contains_key(&labels) {
                return Err(
                    "vector contains metrics with the same labelset after applying alert labels"
                        .into(),
                );
            }
            current.insert(
                labels.clone(),
                Alert {
                    labels,
                    annotations,
                    state: AlertState::Pending,
                    value,
                    active_at_ns: ts_ns,
                    fired_at_ns: None,
                    resolved_at_ns: None,
                    keep_firing_since_ns: None,
                    last_sent_at_ns: None,
                    valid_until_ns: 0,
                    webhook_sent: None,
                },
            );
        }
        let returned: HashSet<Labels> = current.keys().cloned().collect();
        for (key, alert) in current {
            match self.active.get_mut(&key) {
                Some(existing) if existing.state != AlertState::Inactive => {
                    existing.value = alert.value;
                    existing.annotations = alert.annotations;
                }
                _ => {
                    self.active.insert(key, alert);
                }
            }
        }
        let keep_ns = i64::try_from(self.spec.keep_firing_for.as_nanos()).unwrap_or(i64::MAX);
        let hold_ns = self.hold_ns();
        let mut out = Vec::new();
        let mut active_pending = 0;
        let mut drop = Vec::new();
        let mut keys: Vec<Labels> = self.active.keys().cloned().collect();
        keys.sort();
        for key in keys {
            let Some(a) = self.active.get_mut(&key) else {
                continue;
            };
            if !returned.contains(&key) {
                let mut keep_firing = false;
                if a.state == AlertState::Firing && keep_ns > 0 {
                    let since = *a.keep_firing_since_ns.get_or_insert(ts_ns);
                    keep_firing = ts_ns - since < keep_ns;
                }
                if a.state == AlertState::Pending
                    || a.resolved_at_ns
                        .is_some_and(|r| ts_ns - r > RESOLVED_RETENTION_NS)
                {
                    drop.push(key.clone());
                }
                if a.state != AlertState::Inactive && !keep_firing {
                    a.state = AlertState::Inactive;
                    a.resolved_at_ns = Some(ts_ns);
                }
                if !keep_firing {
                    continue;
                }
            } else {
                a.keep_firing_since_ns = None;
            }
            active_pending += 1;
            if a.state == AlertState::Pending && ts_ns - a.active_at_ns >= hold_ns {
                a.state = AlertState::Firing;
                a.fired_at_ns = Some(ts_ns);
            }
            if self.restored {
                let mut alerts = base_labels(&self.labels, &a.labels, &self.name);
                alerts.set(model::metrics::METRIC_NAME, "ALERTS");
                alerts.set("alertstate", a.state.as_str());
                out.push((alerts, 1.0));
                let mut for_state = base_labels(&self.labels, &a.labels, &self.name);
                for_state.set(model::metrics::METRIC_NAME, "ALERTS_FOR_STATE");
                out.push((for_state, a.active_at_ns.div_euclid(1_000_000_000) as f64));
            }
        }
        for key in drop {
            self.active.remove(&key);
        }
        if limit > 0 && active_pending > limit {
            self.active.clear();
            return Err(format!(
                "exceeded limit of {limit} with {active_pending} alerts"
            ));
        }
        Ok(out)
    }

    /// The labels of this rule's `ALERTS_FOR_STATE` series for `alert`.
    pub fn for_state_labels(&self, alert: &Alert) -> Labels {
        let mut labels = base_labels(&self.labels, &alert.labels, &self.name);
        labels.set(model::metrics::METRIC_NAME, "ALERTS_FOR_STATE");
        labels
    }

    /// Alerts due to Alertmanager at `ts_ns` (firing ones every resend
    /// delay, resolved ones once more); marks them sent.
    pub fn due_for_alertmanager(
        &mut self,
        ts_ns: i64,
        resend_delay_ns: i64,
        interval_ns: i64,
    ) -> Vec<Alert> {
        let mut due = Vec::new();
        for alert in self.active.values_mut() {
            if alert.needs_sending(ts_ns, resend_delay_ns) {
                alert.last_sent_at_ns = Some(ts_ns);
                // Allow for two evaluation or send failures.
                alert.valid_until_ns = ts_ns + 4 * resend_delay_ns.max(interval_ns);
                due.push(alert.clone());
            }
        }
        due.sort_by(|a, b| a.labels.cmp(&b.labels));
        due
    }

    /// Alerts due to webhooks at `ts_ns`: newly firing, firing again after
    /// `repeat_ns`, or resolved after a firing notification; marks them sent.
    pub fn due_for_webhook(&mut self, ts_ns: i64, repeat_ns: i64) -> Vec<Alert> {
        let mut due = Vec::new();
        for alert in self.active.values_mut() {
            let send = match (alert.state, alert.webhook_sent) {
                (AlertState::Firing, None) => true,
                (AlertState::Firing, Some((AlertState::Firing, at))) => ts_ns - at >= repeat_ns,
                (AlertState::Firing, Some(_)) => true,
                (AlertState::Inactive, Some((AlertState::Firing, _))) => true,
                _ => false,
            };
            if send {
                alert.webhook_sent = Some((alert.state, ts_ns));
                due.push(alert.clone());
            }
        }
        due.sort_by(|a, b| a.labels.cmp(&b.labels));
        due
    }

    /// The rule's state: the most severe of its alerts'.
    pub fn state(&self) -> AlertState {
        self.active
            .values()
            .map(|a| a.state)
            .max()
            .unwrap_or(AlertState::Inactive)
    }
}

/// Rule labels as written, overlaid with the alert's labels and `alertname`
/// (as Prometheus builds `ALERTS` series).
fn base_labels(
    rule_labels: &[(String, crate::template::Template)],
    alert: &Labels,
    name: &str,
) -> Labels {
    let mut labels = Labels::from_pairs(
        rule_labels
            .iter()
            .map(|(k, t)| (k.clone(), t.source().to_string())),
    );
    for (k, v) in alert.iter() {
        labels.set(k, v);
    }
    labels.set("alertname", name);
    labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::{parse, RuleKind};
    use std::time::Duration;

    const S: i64 = 1_000_000_000;

    fn rule(extra: &str) -> AlertingRule {
        let text = format!(
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n{extra}"
        );
        let groups = parse(&text, "r.yml", Duration::from_secs(60)).expect("valid");
        let spec = &groups[0].rules[0];
        let RuleKind::Alerting(a) = &spec.kind else {
            panic!("an alert")
        };
        let mut r = AlertingRule::new(spec, a);
        r.restored = true;
        r
    }

    fn up(instance: &str) -> (Labels, f64) {
        (
            Labels::from_pairs([("__name__", "up"), ("instance", instance)]),
            0.0,
        )
    }

    fn states(r: &AlertingRule) -> Vec<AlertState> {
        let mut s: Vec<_> = r.active.values().map(|a| a.state).collect();
        s.sort();
        s
    }

    #[test]
    fn pending_then_firing_after_for_then_resolved_and_kept() {
        let mut r = rule(
            "        for: 2m\n        labels: {severity: page, i: '{{ $labels.instance }}'}\n",
        );
        let out = r.eval(vec![up("a")], 0, 0, "").expect("eval");
        assert_eq!(states(&r), [AlertState::Pending]);
        let alerts = &out[0].0;
        assert_eq!(alerts.get("__name__"), Some("ALERTS"));
        assert_eq!(alerts.get("alertstate"), Some("pending"));
        assert_eq!(alerts.get("i"), Some("a"));
        assert_eq!(alerts.get("severity"), Some("page"));
        assert_eq!(out[1].0.get("__name__"), Some("ALERTS_FOR_STATE"));
        assert!(r.due_for_alertmanager(0, 60 * S, 60 * S).is_empty());
        r.eval(vec![up("a")], 60 * S, 0, "").expect("eval");
        assert_eq!(states(&r), [AlertState::Pending]);
        let out = r.eval(vec![up("a")], 120 * S, 0, "").expect("eval");
        assert_eq!(states(&r), [AlertState::Firing]);
        assert_eq!(out[0].0.get("alertstate"), Some("firing"));
        assert_eq!(r.due_for_alertmanager(120 * S, 60 * S, 60 * S).len(), 1);
        assert_eq!(r.due_for_webhook(120 * S, 3600 * S).len(), 1);
        assert!(r.due_for_webhook(180 * S, 3600 * S).is_empty());
        let out = r.eval(vec![], 180 * S, 0, "").expect("eval");
        assert!(out.is_empty());
        assert_eq!(states(&r), [AlertState::Inactive]);
        let resolved = r.due_for_alertmanager(180 * S, 60 * S, 60 * S);
        assert_eq!(resolved[0].resolved_at_ns, Some(180 * S));
        assert_eq!(r.due_for_webhook(180 * S, 3600 * S).len(), 1);
        // Kept 15 minutes, then dropped.
        r.eval(vec![], 180 * S + RESOLVED_RETENTION_NS, 0, "")
            .expect("eval");
        assert_eq!(r.active.len(), 1);
        r.eval(vec![], 181 * S + RESOLVED_RETENTION_NS, 0, "")
            .expect("eval");
        assert!(r.active.is_empty());
    }

    #[test]
    fn keep_firing_for_holds_a_firing_alert() {
        let mut r = rule("        keep_firing_for: 2m\n");
        r.eval(vec![up("a")], 0, 0, "").expect("eval");
        assert_eq!(states(&r), [AlertState::Firing]);
        r.eval(vec![], 60 * S, 0, "").expect("eval");
        assert_eq!(states(&r), [AlertState::Firing]);
        r.eval(vec![], 179 * S, 0, "").expect("eval");
        assert_eq!(states(&r), [AlertState::Firing]);
        r.eval(vec![], 180 * S, 0, "").expect("eval");
        assert_eq!(states(&r), [AlertState::Inactive]);
    }

    #[test]
    fn a_pending_alert_that_goes_away_is_dropped_and_limits_apply() {
        let mut r = rule("        for: 5m\n");
        r.eval(vec![up("a"), up("b")], 0, 0, "").expect("eval");
        r.eval(vec![up("a")], 60 * S, 0, "").expect("eval");
        assert_eq!(r.active.len(), 1);
        let e = r
            .eval(vec![up("a"), up("b")], 120 * S, 1, "")
            .expect_err("over the limit");
        assert_eq!(e, "exceeded limit of 1 with 2 alerts");
        assert!(r.active.is_empty());
    }
}
