//! Where alerts go after an evaluation: every `--alertmanager URL` gets
//! them as Prometheus sends them ([`alertmanager`]: `POST /api/v2/alerts`,
//! firing alerts re-sent every minute, resolved ones with `endsAt`), every
//! `--alert-webhook URL` gets Alertmanager's webhook payload
//! ([`webhook`]: version 4, one notification per rule and evaluation when
//! alerts start firing, resolve, or fire on for 4 hours; retried with
//! bounded exponential backoff). Both over http:// or https://
//! ([`post`]).
//!
//! Each target has its own task and a bounded queue, so a slow or dead
//! receiver never delays rule evaluation; when a queue is full further
//! batches are dropped and counted (firing alerts are re-sent anyway).

pub mod alertmanager;
mod post;
pub mod webhook;

use crate::group::Notification;
pub(crate) use post::Poster;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Batches queued per target before the oldest are dropped.
pub const QUEUE_CAPACITY: usize = 1000;
/// Longest one POST may take (Prometheus's Alertmanager `timeout`).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Counters of notifications, per kind of target.
#[derive(Debug, Default)]
pub struct NotifyStats {
    /// Alerts delivered (2xx).
    pub sent: AtomicU64,
    /// Alerts whose POST failed (after retries, for webhooks).
    pub errors: AtomicU64,
    /// Alerts dropped because a queue was full.
    pub dropped: AtomicU64,
}

/// Where to send and what to call ourselves.
#[derive(Debug, Clone, Default)]
pub struct NotifyOptions {
    /// Alertmanager base URLs (`http://host:9093`).
    pub alertmanagers: Vec<String>,
    /// Webhook URLs that take Alertmanager's webhook payload.
    pub webhooks: Vec<String>,
    /// Our own URL, for `generatorURL` and the webhook's `externalURL`.
    pub external_url: String,
    /// Whom https receivers must prove to be (`tls::client_config`);
    /// without it https URLs fail.
    pub tls: Option<Arc<tls::ClientConfig>>,
}

/// Hands evaluation results to the per-target tasks.
pub struct Notifiers {
    alertmanagers: Vec<mpsc::Sender<Vec<alertmanager::PostableAlert>>>,
    webhooks: Vec<mpsc::Sender<webhook::Message>>,
    external_url: String,
    /// Delivery counters.
    pub stats: Arc<NotifyStats>,
}

impl Notifiers {
    /// Starts one task per target; they end when `stop` turns true.
    pub fn start(
        options: &NotifyOptions,
        stop: &watch::Receiver<bool>,
    ) -> (Self, Vec<JoinHandle<()>>) {
        let stats = Arc::new(NotifyStats::default());
        let client = Poster::new(options.tls.clone());
        let mut tasks = Vec::new();
        let mut alertmanagers = Vec::new();
        for url in &options.alertmanagers {
            let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
            alertmanagers.push(tx);
            tasks.push(tokio::spawn(alertmanager::run(
                alertmanager::alerts_url(url),
                client.clone(),
                rx,
                stop.clone(),
                Arc::clone(&stats),
            )));
        }
        let mut webhooks = Vec::new();
        for url in &options.webhooks {
            let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
            webhooks.push(tx);
            tasks.push(tokio::spawn(webhook::run(
                url.clone(),
                client.clone(),
                rx,
                stop.clone(),
                Arc::clone(&stats),
            )));
        }
        (
            Self {
                alertmanagers,
                webhooks,
                external_url: options.external_url.trim_end_matches('/').to_string(),
                stats,
            },
            tasks,
        )
    }

    /// Queues one group evaluation's notifications.
    pub fn send(&self, notifications: &[Notification]) {
        for n in notifications {
            if !n.alertmanager.is_empty() && !self.alertmanagers.is_empty() {
                let batch = alertmanager::postable(n, &self.external_url);
                for tx in &self.alertmanagers {
                    self.enqueue(tx, batch.clone(), batch.len());
                }
            }
            if !n.webhook.is_empty() && !self.webhooks.is_empty() {
                let message = webhook::message(n, &self.external_url);
                for tx in &self.webhooks {
                    self.enqueue(tx, message.clone(), n.webhook.len());
                }
            }
        }
    }

    fn enqueue<T>(&self, tx: &mpsc::Sender<T>, item: T, alerts: usize) {
        if tx.try_send(item).is_err() {
            self.stats
                .dropped
                .fetch_add(alerts as u64, Ordering::Relaxed);
        }
    }
}

/// `url.QueryEscape` of Go: what Prometheus puts in `generatorURL`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Prometheus's link to an expression: `URL/graph?g0.expr=…&g0.tab=1`.
pub fn generator_url(external_url: &str, query: &str) -> String {
    format!(
        "{external_url}/graph?g0.expr={}&g0.tab=1",
        query_escape(query)
    )
}
