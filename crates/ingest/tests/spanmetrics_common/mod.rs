//! Shared by the span-metrics tests: the receiver → tee → flush-loop
//! pipeline over in-memory stores, and lookups of the series it wrote.
#![allow(dead_code, clippy::unwrap_used)]

use crate::common::MemoryStore;
use ingest::spanmetrics::{flush_loop, SpanMetrics, SpanMetricsOptions, SpanMetricsTee};
use ingest::Limits;
use model::metrics::Labels;
use std::sync::Arc;
use std::time::Duration;
use store::series::{Matcher, MemorySeriesStore, Select, SeriesStore};
use store::SpanStore;

/// The newest value of the one series `text` names (`name{a="b", ...}`).
pub fn latest(series: &MemorySeriesStore, labels: &Labels) -> Option<f64> {
    let matchers: Vec<Matcher> = labels.iter().map(|(n, v)| Matcher::equal(n, v)).collect();
    let found = series
        .select(&Select {
            matchers,
            start_ms: 0,
            end_ms: i64::MAX,
            max_samples: 0,
        })
        .unwrap();
    let exact: Vec<_> = found.into_iter().filter(|s| &s.labels == labels).collect();
    assert!(exact.len() <= 1);
    exact
        .first()
        .and_then(|s| s.samples.last())
        .map(|s| s.value)
}

pub fn labels(name: &str, pairs: &[(&str, &str)]) -> Labels {
    let mut all = vec![("__name__", name)];
    all.extend_from_slice(pairs);
    Labels::from_pairs(all)
}

pub fn red(service: &str, name: &str, kind: &str, status: &str) -> Vec<(&'static str, String)> {
    vec![
        ("job", service.to_string()),
        ("service_name", service.to_string()),
        ("span_name", name.to_string()),
        ("span_kind", kind.to_string()),
        ("status_code", status.to_string()),
    ]
}

pub fn with<'a>(
    pairs: &'a [(&'static str, String)],
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> = pairs.iter().map(|(n, v)| (*n, v.as_str())).collect();
    out.extend_from_slice(extra);
    out
}

/// Receiver, tee and flush loop over fresh stores; returns what stops them.
pub struct Pipeline {
    pub addr: std::net::SocketAddr,
    pub series: Arc<MemorySeriesStore>,
    pub metrics: Arc<SpanMetrics>,
    stop_http: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    stop_flush: tokio::sync::oneshot::Sender<()>,
    flusher: tokio::task::JoinHandle<()>,
}

impl Pipeline {
    pub async fn start(inner: Arc<MemoryStore>) -> Self {
        let metrics = Arc::new(SpanMetrics::new(SpanMetricsOptions {
            flush_interval: Duration::from_millis(50),
            ..SpanMetricsOptions::default()
        }));
        let tee: Arc<dyn SpanStore> = Arc::new(SpanMetricsTee::new(
            inner as Arc<dyn SpanStore>,
            Arc::clone(&metrics),
        ));
        let series = Arc::new(MemorySeriesStore::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop_http, http_stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(ingest::serve_http(
            listener,
            tee,
            Arc::clone(&series) as Arc<dyn SeriesStore>,
            Limits::default(),
            None,
            async move {
                let _ = http_stopped.await;
            },
        ));
        let (stop_flush, flush_stopped) = tokio::sync::oneshot::channel::<()>();
        let flusher = tokio::spawn(flush_loop(
            Arc::clone(&metrics),
            Arc::clone(&series) as Arc<dyn SeriesStore>,
            async move {
                let _ = flush_stopped.await;
            },
        ));
        Self {
            addr,
            series,
            metrics,
            stop_http,
            server,
            stop_flush,
            flusher,
        }
    }

    /// Stops the receiver, then the flush loop (which flushes once more).
    pub async fn stop(self) -> (Arc<MemorySeriesStore>, Arc<SpanMetrics>) {
        let _ = self.stop_http.send(());
        self.server.await.unwrap().unwrap();
        let _ = self.stop_flush.send(());
        self.flusher.await.unwrap();
        (self.series, self.metrics)
    }
}
