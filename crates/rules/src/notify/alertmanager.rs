//! `--alertmanager URL`: alerts posted as Prometheus 2.42's notifier posts
//! them — `POST URL/api/v2/alerts` with a JSON array of
//! `{labels, annotations, startsAt, endsAt, generatorURL}`, at most 64 per
//! request, 10 s timeout. `startsAt` is when the alert started firing;
//! `endsAt` is when it resolved, or for a firing alert four resend delays
//! ahead (Alertmanager resolves it by itself if serve stops sending). A
//! failed POST is not retried: firing alerts are re-sent every minute anyway.

use super::{generator_url, NotifyStats, Poster};
use crate::gofmt::rfc3339_millis;
use crate::group::Notification;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// Prometheus's `maxBatchSize`.
pub const MAX_BATCH: usize = 64;

/// One alert in Alertmanager's v2 `postableAlert` shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostableAlert {
    /// Identity labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// When it started firing.
    #[serde(rename = "startsAt")]
    pub starts_at: String,
    /// When it resolved, or until when it is valid.
    #[serde(rename = "endsAt")]
    pub ends_at: String,
    /// Link back to the expression.
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
}

/// `http://host:9093` → `http://host:9093/api/v2/alerts` (a URL already
/// ending in `/api/v2/alerts` is kept).
pub fn alerts_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/api/v2/alerts") {
        base.to_string()
    } else {
        format!("{base}/api/v2/alerts")
    }
}

/// The alerts of one notification in Alertmanager's shape.
pub fn postable(n: &Notification, external_url: &str) -> Vec<PostableAlert> {
    let generator = generator_url(external_url, &n.query);
    n.alertmanager
        .iter()
        .map(|a| PostableAlert {
            labels: a
                .labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            annotations: a.annotations.iter().cloned().collect(),
            starts_at: rfc3339_millis(a.fired_at_ns.unwrap_or(a.active_at_ns)),
            ends_at: rfc3339_millis(a.resolved_at_ns.unwrap_or(a.valid_until_ns)),
            generator_url: generator.clone(),
        })
        .collect()
}

/// Sends queued batches to one Alertmanager until `stop`.
pub(super) async fn run(
    url: String,
    client: Poster,
    mut rx: mpsc::Receiver<Vec<PostableAlert>>,
    mut stop: watch::Receiver<bool>,
    stats: Arc<NotifyStats>,
) {
    let mut failing = false;
    loop {
        let batch = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            batch = rx.recv() => match batch {
                Some(b) => b,
                None => return,
            },
        };
        // Whatever else is queued goes in the same requests.
        let mut alerts = batch;
        while let Ok(more) = rx.try_recv() {
            alerts.extend(more);
        }
        for chunk in alerts.chunks(MAX_BATCH) {
            let body = serde_json::to_vec(chunk).unwrap_or_default();
            let sent = tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                r = client.post_json(&url, body) => r,
            };
            match sent {
                Ok(()) => {
                    stats.sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    if failing {
                        eprintln!("whyslow: rules: Alertmanager {url} takes alerts again");
                        failing = false;
                    }
                }
                Err((why, _)) => {
                    stats
                        .errors
                        .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    if !failing {
                        eprintln!(
                            "whyslow: rules: sending {} alerts to Alertmanager failed: {why} \
                             (firing alerts are re-sent every minute)",
                            chunk.len()
                        );
                        failing = true;
                    }
                }
            }
        }
    }
}
