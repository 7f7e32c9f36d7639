//! `/api/v1/rules` and `/api/v1/alerts` from the rule evaluator's latest
//! status ([`rules::RuleStates`] in the app state), in Prometheus 2.42's
//! shapes (checked against /usr/bin/prometheus by the differential test):
//! groups sorted by file and name, each with `interval`, `limit`,
//! `evaluationTime` (seconds) and `lastEvaluation`; alerting rules with
//! `state`, `duration`, `keepFiringFor`, templates as written and their
//! active alerts; recording rules with `labels` only when they have some;
//! alert `value` as Go's `%e` shortest (`"1e+00"`), times in RFC 3339 with
//! nanoseconds. `?type=alert|record` filters rules.

use super::error::PromApiError;
use super::json::{format_sample_value, push_labels, push_str, success};
use super::params::Form;
use crate::AppState;
use ::rules::{AlertState, AlertStatus, GroupStatus, RuleStatus};
use axum::extract::State;
use axum::response::Response;

/// `GET /api/v1/rules[?type=alert|record]`.
pub async fn rules(State(state): State<AppState>, form: Form) -> Result<Response, PromApiError> {
    let (alerts, records) = match form.value("type").unwrap_or("") {
        "" => (true, true),
        "alert" => (true, false),
        "record" => (false, true),
        other => {
            return Err(PromApiError::invalid_param(
                "type",
                format!("not supported value {other:?}"),
            ))
        }
    };
    let mut out = String::from("{\"groups\":[");
    for (i, group) in state.rules.snapshot().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_group(&mut out, group, alerts, records);
    }
    out.push_str("]}");
    Ok(success(&out, &[]))
}

/// `GET /api/v1/alerts`: pending and firing alerts of every rule.
pub async fn alerts(State(state): State<AppState>) -> Response {
    let mut out = String::from("{\"alerts\":[");
    let mut first = true;
    for group in state.rules.snapshot() {
        for rule in &group.rules {
            for alert in active(rule) {
                if !first {
                    out.push(',');
                }
                first = false;
                push_alert(&mut out, alert);
            }
        }
    }
    out.push_str("]}");
    success(&out, &[])
}

fn active(rule: &RuleStatus) -> impl Iterator<Item = &AlertStatus> {
    rule.alerting
        .iter()
        .flat_map(|a| a.alerts.iter())
        .filter(|a| a.state != AlertState::Inactive)
}

fn seconds(d: std::time::Duration) -> String {
    format_sample_value(d.as_secs_f64())
}

fn push_pairs(out: &mut String, pairs: &[(String, String)]) {
    let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
    sorted.sort();
    out.push('{');
    for (i, (k, v)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, k);
        out.push(':');
        push_str(out, v);
    }
    out.push('}');
}

fn push_group(out: &mut String, group: &GroupStatus, alerts: bool, records: bool) {
    out.push_str("{\"name\":");
    push_str(out, &group.name);
    out.push_str(",\"file\":");
    push_str(out, &group.file);
    out.push_str(",\"rules\":[");
    let mut first = true;
    for rule in &group.rules {
        let is_alert = rule.alerting.is_some();
        if (is_alert && !alerts) || (!is_alert && !records) {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        push_rule(out, rule);
    }
    out.push_str("],\"interval\":");
    out.push_str(&seconds(group.interval));
    out.push_str(&format!(",\"limit\":{}", group.limit));
    out.push_str(",\"evaluationTime\":");
    out.push_str(&seconds(group.evaluation_time));
    out.push_str(",\"lastEvaluation\":");
    push_str(out, &::rules::rfc3339_nanos(group.last_evaluation_ns));
    out.push('}');
}

fn push_rule(out: &mut String, rule: &RuleStatus) {
    out.push('{');
    if let Some(a) = &rule.alerting {
        out.push_str("\"state\":");
        push_str(out, a.state.as_str());
        out.push(',');
    }
    out.push_str("\"name\":");
    push_str(out, &rule.name);
    out.push_str(",\"query\":");
    push_str(out, &rule.query);
    match &rule.alerting {
        Some(a) => {
            out.push_str(",\"duration\":");
            out.push_str(&seconds(a.hold));
            out.push_str(",\"keepFiringFor\":");
            out.push_str(&seconds(a.keep_firing_for));
            out.push_str(",\"labels\":");
            push_pairs(out, &rule.labels);
            out.push_str(",\"annotations\":");
            push_pairs(out, &a.annotations);
            out.push_str(",\"alerts\":[");
            for (i, alert) in active(rule).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_alert(out, alert);
            }
            out.push(']');
        }
        None if !rule.labels.is_empty() => {
            out.push_str(",\"labels\":");
            push_pairs(out, &rule.labels);
        }
        None => {}
    }
    out.push_str(",\"health\":");
    push_str(out, rule.health.as_str());
    if let Some(e) = &rule.last_error {
        out.push_str(",\"lastError\":");
        push_str(out, e);
    }
    out.push_str(",\"evaluationTime\":");
    out.push_str(&seconds(rule.evaluation_time));
    out.push_str(",\"lastEvaluation\":");
    push_str(out, &::rules::rfc3339_nanos(rule.last_evaluation_ns));
    out.push_str(",\"type\":");
    push_str(
        out,
        if rule.alerting.is_some() {
            "alerting"
        } else {
            "recording"
        },
    );
    out.push('}');
}

fn push_alert(out: &mut String, alert: &AlertStatus) {
    out.push_str("{\"labels\":");
    push_labels(out, &alert.labels);
    out.push_str(",\"annotations\":");
    push_pairs(out, &alert.annotations);
    out.push_str(",\"state\":");
    push_str(out, alert.state.as_str());
    out.push_str(",\"activeAt\":");
    push_str(out, &::rules::rfc3339_nanos(Some(alert.active_at_ns)));
    out.push_str(",\"value\":");
    push_str(out, &::rules::format_value_e(alert.value));
    out.push('}');
}
