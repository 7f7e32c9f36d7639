//! One rule group's evaluation at one timestamp, as Prometheus 2.42's
//! `rules/group.go` does it: rules in file order, each an instant query at
//! the group's evaluation time; recording rules' results (renamed, labels
//! added) and alerting rules' `ALERTS` / `ALERTS_FOR_STATE` written back to
//! the series store before the next rule runs (so later rules see them);
//! series a rule wrote last time but not now get a staleness marker.
//! Evaluation times are spread over the interval by the same hash of the
//! group's name and file Prometheus uses, so both evaluate a group at the
//! same instants. Synchronous: the runner calls it on the blocking pool.

use crate::alert::{Alert, AlertingRule};
use crate::file::{GroupSpec, RuleKind};
use crate::status::{
    AlertStatus, AlertingStatus, GroupStatus, Health, RuleStatus, RECENTLY_RESOLVED,
};
use model::metrics::{stale_nan, Labels, Sample, TimeSeries, METRIC_NAME};
use promql::{Engine, Value};
use std::collections::{HashSet, VecDeque};
use std::hash::Hasher;
use std::time::{Duration, Instant};
use store::series::{Matcher, Select, SeriesBatch};
use store::SeriesStore;

/// Prometheus's `--rules.alert.resend-delay`.
pub const RESEND_DELAY: Duration = Duration::from_secs(60);
/// Prometheus's `--rules.alert.for-outage-tolerance`.
pub const FOR_OUTAGE_TOLERANCE: Duration = Duration::from_secs(3600);
/// Prometheus's `--rules.alert.for-grace-period`.
pub const FOR_GRACE_PERIOD: Duration = Duration::from_secs(600);
/// How often a webhook hears a still-firing alert again (Alertmanager's `repeat_interval`).
pub const WEBHOOK_REPEAT: Duration = Duration::from_secs(4 * 3600);

fn ns(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// Wall-clock Unix nanoseconds.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, ns)
}

struct RuleRuntime {
    health: Health,
    last_error: Option<String>,
    evaluation_time: Duration,
    last_evaluation_ns: Option<i64>,
    alerting: Option<AlertingRule>,
    recently_resolved: VecDeque<AlertStatus>,
    /// Series written at the last evaluation (for staleness markers).
    previous: HashSet<Labels>,
}

/// Alerts one rule hands to the notifiers after an evaluation.
#[derive(Debug, Clone)]
pub struct Notification {
    /// Alert name.
    pub rule: String,
    /// The rule's expression (for `generatorURL`).
    pub query: String,
    /// Alerts due to Alertmanagers (Prometheus's resend rules).
    pub alertmanager: Vec<Alert>,
    /// Alerts due to webhooks (state changes, repeats).
    pub webhook: Vec<Alert>,
}

/// A rule group and its evaluation state.
pub struct Group {
    spec: GroupSpec,
    rules: Vec<RuleRuntime>,
    external_url: String,
    evaluation_time: Duration,
    last_evaluation_ns: Option<i64>,
    /// Restore `for` state after the second evaluation (Prometheus does at start).
    pub should_restore: bool,
    /// Evaluations skipped because one overran.
    pub iterations_missed: u64,
}

impl Group {
    /// A group not yet evaluated.
    pub fn new(spec: GroupSpec, external_url: &str) -> Self {
        let rules = spec
            .rules
            .iter()
            .map(|r| RuleRuntime {
                health: Health::Unknown,
                last_error: None,
                evaluation_time: Duration::ZERO,
                last_evaluation_ns: None,
                alerting: match &r.kind {
                    RuleKind::Alerting(a) => Some(AlertingRule::new(r, a)),
                    RuleKind::Recording => None,
                },
                recently_resolved: VecDeque::new(),
                previous: HashSet::new(),
            })
            .collect();
        Self {
            spec,
            rules,
            external_url: external_url.trim_end_matches('/').to_string(),
            evaluation_time: Duration::ZERO,
            last_evaluation_ns: None,
            should_restore: true,
            iterations_missed: 0,
        }
    }

    /// The group's definition.
    pub fn spec(&self) -> &GroupSpec {
        &self.spec
    }

    /// Interval in ns (at least 1 ms).
    pub fn interval_ns(&self) -> i64 {
        ns(self.spec.interval).max(1_000_000)
    }

    /// The evaluation time at or before `now_ns` (Prometheus's
    /// `EvalTimestamp`): interval boundaries shifted by the xxhash64 of
    /// `file` and `name`, modulo the interval.
    pub fn eval_timestamp(&self, now_ns: i64) -> i64 {
        let mut hasher = twox_hash::XxHash64::with_seed(0);
        for (k, v) in [("file", &self.spec.file), ("name", &self.spec.name)] {
            hasher.write(k.as_bytes());
            hasher.write(&[0xff]);
            hasher.write(v.as_bytes());
            hasher.write(&[0xff]);
        }
        let interval = self.interval_ns();
        let offset = (hasher.finish() % interval as u64) as i64;
        let adjusted = now_ns - offset;
        adjusted - adjusted.rem_euclid(interval) + offset
    }

    /// Evaluates every rule at `ts_ns`, writing results to `store`.
    pub fn eval(
        &mut self,
        store: &dyn SeriesStore,
        engine: &Engine,
        ts_ns: i64,
    ) -> Vec<Notification> {
        let group_start = Instant::now();
        self.last_evaluation_ns = Some(now_ns());
        let ts_ms = ts_ns.div_euclid(1_000_000);
        let interval_ns = self.interval_ns();
        let mut notifications = Vec::new();
        for (spec, rule) in self.spec.rules.iter().zip(self.rules.iter_mut()) {
            let start = Instant::now();
            rule.last_evaluation_ns = Some(now_ns());
            let result = engine
                .instant_query(store, &spec.query, ts_ms)
                .map_err(|e| e.to_string())
                .and_then(to_vector);
            let output = result.and_then(|vector| match &mut rule.alerting {
                None => record(&spec.name, &spec.labels, vector, self.spec.limit),
                Some(alerting) => {
                    let out = alerting.eval(vector, ts_ns, self.spec.limit, &self.external_url);
                    for alert in alerting.active.values() {
                        if alert.resolved_at_ns == Some(ts_ns) {
                            rule.recently_resolved.push_front(alert_status(alert));
                            rule.recently_resolved.truncate(RECENTLY_RESOLVED);
                        }
                    }
                    notifications.push(Notification {
                        rule: spec.name.clone(),
                        query: spec.query.clone(),
                        alertmanager: alerting.due_for_alertmanager(
                            ts_ns,
                            ns(RESEND_DELAY),
                            interval_ns,
                        ),
                        webhook: alerting.due_for_webhook(ts_ns, ns(WEBHOOK_REPEAT)),
                    });
                    out
                }
            });
            match output {
                Err(e) => {
                    rule.health = Health::Err;
                    rule.last_error = Some(e);
                }
                Ok(samples) => {
                    rule.health = Health::Ok;
                    rule.last_error = None;
                    if let Err(e) = write(store, &mut rule.previous, samples, ts_ms) {
                        rule.health = Health::Err;
                        rule.last_error = Some(e);
                    }
                }
            }
            rule.evaluation_time = start.elapsed();
        }
        self.evaluation_time = group_start.elapsed();
        notifications.retain(|n| !n.alertmanager.is_empty() || !n.webhook.is_empty());
        notifications
    }

    /// Restores the `for` state of pending and firing alerts from
    /// `ALERTS_FOR_STATE` after a restart (Prometheus's `RestoreForState`):
    /// an alert active before the outage keeps its `activeAt`, shifted by
    /// the downtime, and never fires sooner than the grace period from now.
    /// Then marks every alerting rule restored (its `ALERTS` series start).
    pub fn restore_for_state(&mut self, store: &dyn SeriesStore, ts_ns: i64) {
        self.should_restore = false;
        let grace = ns(FOR_GRACE_PERIOD);
        for rule in &mut self.rules {
            let Some(alerting) = &mut rule.alerting else {
                continue;
            };
            let hold = ns(alerting.spec.hold);
            if hold < grace {
                alerting.restored = true;
                continue;
            }
            let keys: Vec<Labels> = alerting.active.keys().cloned().collect();
            for key in keys {
                let labels = match alerting.active.get(&key) {
                    Some(a) => alerting.for_state_labels(a),
                    None => continue,
                };
                let select = Select {
                    matchers: labels.iter().map(|(k, v)| Matcher::equal(k, v)).collect(),
                    start_ms: (ts_ns - ns(FOR_OUTAGE_TOLERANCE)).div_euclid(1_000_000),
                    end_ms: ts_ns.div_euclid(1_000_000),
                    max_samples: 0,
                };
                let Ok(found) = store.select(&select) else {
                    continue;
                };
                let Some(last) = found
                    .iter()
                    .find(|s| s.labels == labels)
                    .and_then(|s| s.samples.last())
                else {
                    continue;
                };
                if model::metrics::is_stale_nan(last.value) {
                    continue;
                }
                let down_at = last.timestamp_ms.div_euclid(1000) * 1_000_000_000;
                let mut active_at = (last.value as i64).saturating_mul(1_000_000_000);
                let remaining = hold - (down_at - active_at);
                if remaining <= 0 {
                    // It was firing when serve stopped: fires again at the next evaluation.
                } else if remaining < grace {
                    active_at = ts_ns + grace - hold;
                } else {
                    active_at += ts_ns - down_at;
                }
                if let Some(a) = alerting.active.get_mut(&key) {
                    a.active_at_ns = active_at;
                }
            }
            alerting.restored = true;
        }
    }

    /// The group's status for the API and UI.
    pub fn status(&self) -> GroupStatus {
        GroupStatus {
            name: self.spec.name.clone(),
            file: self.spec.file.clone(),
            interval: self.spec.interval,
            limit: self.spec.limit,
            evaluation_time: self.evaluation_time,
            last_evaluation_ns: self.last_evaluation_ns,
            iterations_missed: self.iterations_missed,
            rules: self
                .spec
                .rules
                .iter()
                .zip(&self.rules)
                .map(|(spec, rule)| RuleStatus {
                    name: spec.name.clone(),
                    query: spec.query.clone(),
                    labels: spec
                        .labels
                        .iter()
                        .map(|(k, t)| (k.clone(), t.source().to_string()))
                        .collect(),
                    health: rule.health,
                    last_error: rule.last_error.clone(),
                    evaluation_time: rule.evaluation_time,
                    last_evaluation_ns: rule.last_evaluation_ns,
                    alerting: rule.alerting.as_ref().map(|a| {
                        let mut alerts: Vec<AlertStatus> =
                            a.active.values().map(alert_status).collect();
                        alerts.sort_by(|x, y| x.labels.cmp(&y.labels));
                        AlertingStatus {
                            state: a.state(),
                            hold: a.spec.hold,
                            keep_firing_for: a.spec.keep_firing_for,
                            annotations: a
                                .spec
                                .annotations
                                .iter()
                                .map(|(k, t)| (k.clone(), t.source().to_string()))
                                .collect(),
                            alerts,
                            recently_resolved: rule.recently_resolved.iter().cloned().collect(),
                        }
                    }),
                })
                .collect(),
        }
    }
}

fn alert_status(a: &Alert) -> AlertStatus {
    AlertStatus {
        labels: a.labels.clone(),
        annotations: a.annotations.clone(),
        state: a.state,
        value: a.value,
        active_at_ns: a.active_at_ns,
        fired_at_ns: a.fired_at_ns,
        resolved_at_ns: a.resolved_at_ns,
    }
}

/// A query result as the rule manager takes it: a vector, or a scalar as
/// one label-less sample.
fn to_vector(value: Value) -> Result<Vec<(Labels, f64)>, String> {
    match value {
        Value::Vector(samples) => Ok(samples.into_iter().map(|s| (s.labels, s.value)).collect()),
        Value::Scalar { value, .. } => Ok(vec![(Labels::default(), value)]),
        _ => Err("rule result is not a vector or scalar".into()),
    }
}

/// A recording rule's output: renamed, rule labels set.
fn record(
    name: &str,
    labels: &[(String, crate::template::Template)],
    vector: Vec<(Labels, f64)>,
    limit: usize,
) -> Result<Vec<(Labels, f64)>, String> {
    let mut out = Vec::with_capacity(vector.len());
    let mut seen = HashSet::with_capacity(vector.len());
    for (mut series, value) in vector {
        series.set(METRIC_NAME, name);
        for (k, t) in labels {
            series.set(k, t.source());
        }
        if !seen.insert(series.clone()) {
            return Err(
                "vector contains metrics with the same labelset after applying rule labels".into(),
            );
        }
        out.push((series, value));
    }
    if limit > 0 && out.len() > limit {
        return Err(format!(
            "exceeded limit of {limit} with {} series",
            out.len()
        ));
    }
    Ok(out)
}

/// Appends a rule's samples at `ts_ms` plus staleness markers for the
/// series it wrote last time but not now; waits until they are queryable.
fn write(
    store: &dyn SeriesStore,
    previous: &mut HashSet<Labels>,
    samples: Vec<(Labels, f64)>,
    ts_ms: i64,
) -> Result<(), String> {
    let now: HashSet<Labels> = samples.iter().map(|(l, _)| l.clone()).collect();
    let mut series: Vec<TimeSeries> = samples
        .into_iter()
        .map(|(labels, value)| TimeSeries {
            labels,
            samples: vec![Sample {
                timestamp_ms: ts_ms,
                value,
            }],
            exemplars: Vec::new(),
        })
        .collect();
    series.extend(previous.difference(&now).map(|labels| TimeSeries {
        labels: labels.clone(),
        samples: vec![Sample {
            timestamp_ms: ts_ms,
            value: stale_nan(),
        }],
        exemplars: Vec::new(),
    }));
    *previous = now;
    if series.is_empty() {
        return Ok(());
    }
    let appended = store
        .append(SeriesBatch {
            series,
            metadata: Vec::new(),
        })
        .map_err(|e| format!("writing the rule's result: {e}"))?;
    let acked = appended.ack.blocking_recv();
    if let Some(message) = appended.rejected.messages.first() {
        return Err(message.clone());
    }
    match acked {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("writing the rule's result: {e}")),
        Err(_) => Err("writing the rule's result: the store closed".into()),
    }
}

#[cfg(test)]
#[path = "group_tests.rs"]
mod tests;
