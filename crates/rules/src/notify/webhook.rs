//! `--alert-webhook URL`: Alertmanager's webhook payload (`version: "4"`,
//! the shape Alertmanager 0.25's `webhook_config` posts) sent by serve
//! itself, for users without an Alertmanager. Each rule is one group
//! (`groupLabels: {alertname}`, receiver `whyslow`); a notification goes
//! out when alerts start firing, resolve, or keep firing for 4 hours
//! (Alertmanager's default `repeat_interval`). A failed POST (connection
//! error, 5xx, 429) is retried up to [`ATTEMPTS`] times, waiting 1 s, 2 s,
//! 4 s, … (at most [`MAX_BACKOFF`]) between attempts; other 4xx are not.

use super::{NotifyStats, Poster};
use crate::alert::{Alert, AlertState};
use crate::gofmt::rfc3339_nanos;
use crate::group::Notification;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Tries per notification.
pub const ATTEMPTS: u32 = 6;
/// Wait before the first retry; doubles per retry.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// Longest wait between retries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(16);

/// The receiver name in payloads.
pub const RECEIVER: &str = "whyslow";

/// Alertmanager's webhook payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Always "4".
    pub version: String,
    /// `{}:{alertname="…"}`.
    pub group_key: String,
    /// Alerts left out (never: there is no `max_alerts`).
    pub truncated_alerts: u64,
    /// `firing` if any alert fires, else `resolved`.
    pub status: String,
    /// [`RECEIVER`].
    pub receiver: String,
    /// `{alertname}`.
    pub group_labels: BTreeMap<String, String>,
    /// Labels every alert has.
    pub common_labels: BTreeMap<String, String>,
    /// Annotations every alert has.
    pub common_annotations: BTreeMap<String, String>,
    /// Serve's URL.
    #[serde(rename = "externalURL")]
    pub external_url: String,
    /// The alerts.
    pub alerts: Vec<WebhookAlert>,
}

/// One alert in a webhook payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookAlert {
    /// `firing` or `resolved`.
    pub status: String,
    /// Identity labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// When it started firing (RFC 3339).
    pub starts_at: String,
    /// When it resolved; Go's zero time while firing.
    pub ends_at: String,
    /// Link back to the expression.
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
    /// Alertmanager's fingerprint of the labels (16 hex digits).
    pub fingerprint: String,
}

/// Alertmanager's label-set fingerprint: FNV-1a 64 over sorted
/// `name 0xff value 0xff`.
pub fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut add = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for (k, v) in labels {
        add(k.as_bytes());
        add(&[0xff]);
        add(v.as_bytes());
        add(&[0xff]);
    }
    format!("{h:016x}")
}

fn common<'a>(
    maps: impl Iterator<Item = &'a BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let mut out: Option<BTreeMap<String, String>> = None;
    for m in maps {
        out = Some(match out {
            None => m.clone(),
            Some(acc) => acc
                .into_iter()
                .filter(|(k, v)| m.get(k) == Some(v))
                .collect(),
        });
    }
    out.unwrap_or_default()
}

fn webhook_alert(a: &Alert, generator: &str) -> WebhookAlert {
    let labels: BTreeMap<String, String> = a
        .labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let firing = a.state == AlertState::Firing;
    WebhookAlert {
        status: if firing { "firing" } else { "resolved" }.into(),
        fingerprint: fingerprint(&labels),
        labels,
        annotations: a.annotations.iter().cloned().collect(),
        starts_at: rfc3339_nanos(Some(a.fired_at_ns.unwrap_or(a.active_at_ns))),
        ends_at: rfc3339_nanos(if firing { None } else { a.resolved_at_ns }),
        generator_url: generator.to_string(),
    }
}

/// The payload for one rule's due alerts.
pub fn message(n: &Notification, external_url: &str) -> Message {
    let generator = super::generator_url(external_url, &n.query);
    let alerts: Vec<WebhookAlert> = n
        .webhook
        .iter()
        .map(|a| webhook_alert(a, &generator))
        .collect();
    let firing = alerts.iter().any(|a| a.status == "firing");
    let group_labels = BTreeMap::from([("alertname".to_string(), n.rule.clone())]);
    Message {
        version: "4".into(),
        group_key: format!("{{}}:{{alertname={:?}}}", n.rule),
        truncated_alerts: 0,
        status: if firing { "firing" } else { "resolved" }.into(),
        receiver: RECEIVER.into(),
        group_labels,
        common_labels: common(alerts.iter().map(|a| &a.labels)),
        common_annotations: common(alerts.iter().map(|a| &a.annotations)),
        external_url: external_url.to_string(),
        alerts,
    }
}

/// Delivers queued payloads to one webhook until `stop`.
pub(super) async fn run(
    url: String,
    client: Poster,
    mut rx: mpsc::Receiver<Message>,
    mut stop: watch::Receiver<bool>,
    stats: Arc<NotifyStats>,
) {
    loop {
        let message = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            m = rx.recv() => match m {
                Some(m) => m,
                None => return,
            },
        };
        let count = message.alerts.len() as u64;
        let body = serde_json::to_vec(&message).unwrap_or_default();
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let result = tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                r = client.post_json(&url, body.clone()) => r,
            };
            match result {
                Ok(()) => {
                    stats.sent.fetch_add(count, Ordering::Relaxed);
                    break;
                }
                Err((why, retry)) if retry && attempt < ATTEMPTS => {
                    tokio::select! {
                        _ = stop.wait_for(|s| *s) => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    attempt += 1;
                    let _ = why;
                }
                Err((why, _)) => {
                    stats.errors.fetch_add(count, Ordering::Relaxed);
                    eprintln!(
                        "whyslow: rules: webhook notification for {} ({}) dropped after {attempt} \
                         attempt{}: {why}",
                        message
                            .group_labels
                            .get("alertname")
                            .map_or("", String::as_str),
                        message.status,
                        if attempt == 1 { "" } else { "s" }
                    );
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_match_alertmanager() {
        // model.LabelSet{}.Fingerprint() is FNV-1a's offset basis.
        assert_eq!(fingerprint(&BTreeMap::new()), "cbf29ce484222325");
        let one = BTreeMap::from([("alertname".to_string(), "A".to_string())]);
        assert_eq!(fingerprint(&one).len(), 16);
        assert_ne!(fingerprint(&one), fingerprint(&BTreeMap::new()));
    }
}
