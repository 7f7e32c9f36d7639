//! RED and service-graph metrics from every ingested span, with no
//! configuration: the series the OpenTelemetry Collector's spanmetrics
//! connector and Tempo's metrics-generator produce, so Jaeger's Monitor tab
//! and existing Grafana dashboards work unchanged against `serve`.
//!
//! - [`red`]: `traces_span_metrics_calls_total` and
//!   `traces_span_metrics_duration_milliseconds_{bucket,sum,count}` per
//!   service, span name, kind and status, with trace exemplars.
//! - [`graph`]: `traces_service_graph_request_{total,failed_total}` and
//!   `…_request_{server,client}_seconds_{bucket,sum,count}` per client,
//!   server and connection type, pairing client and server spans.
//! - [`tee`]: a [`store::SpanStore`] that feeds both from the spans the
//!   store accepted, and the task that writes their cumulative values into a
//!   [`store::SeriesStore`] every 15 s (and at shutdown).
//!
//! Values are cumulative from `serve`'s start (a restart resets them, as an
//! exporter restart does; `rate()` handles that). Label combinations are
//! bounded ([`SpanMetricsOptions`]); the excess goes to one series labelled
//! `otel_metric_overflow="true"`.

mod edge;
pub mod graph;
mod hash;
pub mod histogram;
pub mod red;
mod table;
pub mod tee;

pub use tee::{flush_loop, flush_once, SpanMetricsTee};

use graph::{edge_span, EdgeSpan, EdgeWait};
use model::metrics::{MetricMetadata, MetricType};
use model::Span;
use red::Red;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use store::series::SeriesBatch;

/// Bounds and timings. `Default` suits one `serve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanMetricsOptions {
    /// Span-metrics label combinations (service, span name, kind, status).
    pub max_series: usize,
    /// Bytes of service and span names those combinations may hold.
    pub max_key_bytes: usize,
    /// Service-graph edges (client, server, connection type).
    pub max_edges: usize,
    /// How long half an edge waits for its other half.
    pub edge_wait: Duration,
    /// Halves waiting at once; more are dropped (and counted).
    pub max_pending_edges: usize,
    /// How often [`flush_loop`] writes the values.
    pub flush_interval: Duration,
    /// An `instance` label on every series written, naming the `serve`
    /// that counted: several instances over one shared store each write
    /// their own counters, which `sum`/`rate` then add up (`None`: no
    /// label, what one `serve` with its own store needs).
    pub instance: Option<String>,
}

impl Default for SpanMetricsOptions {
    fn default() -> Self {
        Self {
            max_series: 10_000,
            max_key_bytes: 4 << 20,
            max_edges: 10_000,
            edge_wait: Duration::from_secs(10),
            max_pending_edges: 10_000,
            flush_interval: Duration::from_secs(15),
            instance: None,
        }
    }
}

/// Counters for `serve`'s own metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanMetricsStats {
    /// Spans counted (their store write was accepted).
    pub spans: u64,
    /// Span-metrics label combinations held.
    pub series: u64,
    /// Spans counted into the overflow series.
    pub overflowed_spans: u64,
    /// Service-graph edges held.
    pub edges: u64,
    /// Edge halves waiting for their other half.
    pub pending_edges: u64,
    /// Edge halves dropped because too many were waiting.
    pub dropped_edge_spans: u64,
    /// Edge halves that expired without an edge.
    pub unpaired_edge_spans: u64,
    /// Flushes the series store refused (overloaded, or failed).
    pub flush_errors: u64,
}

/// Spans resolved to their series, to be counted once the write is accepted.
#[derive(Debug, Default)]
pub struct Prepared {
    red: Vec<red::Observation>,
    edges: Vec<EdgeSpan>,
}

/// The generators' state, shared by every receiver and the flush task.
pub struct SpanMetrics {
    options: SpanMetricsOptions,
    red: Mutex<Red>,
    graph: Mutex<EdgeWait>,
    last_flush_ms: Mutex<i64>,
    spans: AtomicU64,
    pub(crate) flush_errors: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SpanMetrics {
    /// Empty generators.
    pub fn new(options: SpanMetricsOptions) -> Self {
        Self {
            red: Mutex::new(Red::new(options.max_series, options.max_key_bytes)),
            graph: Mutex::new(EdgeWait::new(
                options.edge_wait,
                options.max_pending_edges,
                options.max_edges,
                options.max_key_bytes,
            )),
            last_flush_ms: Mutex::new(i64::MIN),
            spans: AtomicU64::new(0),
            flush_errors: AtomicU64::new(0),
            options,
        }
    }

    /// The options in use.
    pub fn options(&self) -> &SpanMetricsOptions {
        &self.options
    }

    /// Resolves `spans` to their series (creating series as needed, which
    /// stay silent until counted) without counting them.
    pub fn prepare(&self, spans: &[Span]) -> Prepared {
        let edges: Vec<EdgeSpan> = spans.iter().filter_map(edge_span).collect();
        let mut red = lock(&self.red);
        Prepared {
            red: spans.iter().map(|span| red.resolve(span)).collect(),
            edges,
        }
    }

    /// Counts prepared spans; `now` drives the edge wait.
    pub fn commit(&self, prepared: Prepared, now: Instant) {
        self.spans
            .fetch_add(prepared.red.len() as u64, Ordering::Relaxed);
        {
            let mut red = lock(&self.red);
            for observation in &prepared.red {
                red.record(observation);
            }
        }
        if !prepared.edges.is_empty() {
            let mut graph = lock(&self.graph);
            for edge in prepared.edges {
                graph.add(edge, now);
            }
        }
    }

    /// Counts `spans` at once (prepare + commit).
    pub fn observe(&self, spans: &[Span], now: Instant) {
        let prepared = self.prepare(spans);
        self.commit(prepared, now);
    }

    /// Every series' cumulative value at `timestamp_ms` (raised past the
    /// previous collection's, so samples never go backwards), with the
    /// exemplars seen since then; edge halves due at `now` expire first.
    pub fn collect(&self, timestamp_ms: i64, now: Instant) -> SeriesBatch {
        let timestamp_ms = {
            let mut last = lock(&self.last_flush_ms);
            let t = timestamp_ms.max(last.saturating_add(1));
            *last = t;
            t
        };
        // Values are copied under the locks; labels are built after, so
        // receivers are not held up by a large export.
        let red = lock(&self.red).snapshot(timestamp_ms);
        let graph = {
            let mut graph = lock(&self.graph);
            graph.expire(now);
            graph.snapshot(timestamp_ms)
        };
        let mut series = Vec::new();
        red.write(timestamp_ms, &mut series);
        graph.write(timestamp_ms, &mut series);
        SeriesBatch {
            series,
            metadata: metadata(),
        }
    }

    /// Current counters.
    pub fn stats(&self) -> SpanMetricsStats {
        let (series, overflowed_spans) = {
            let red = lock(&self.red);
            (red.series() as u64, red.overflowed())
        };
        let graph = lock(&self.graph);
        SpanMetricsStats {
            spans: self.spans.load(Ordering::Relaxed),
            series,
            overflowed_spans,
            edges: graph.edges() as u64,
            pending_edges: graph.pending() as u64,
            dropped_edge_spans: graph.dropped,
            unpaired_edge_spans: graph.unpaired,
            flush_errors: self.flush_errors.load(Ordering::Relaxed),
        }
    }
}

/// Type, help and unit of the families written.
pub fn metadata() -> Vec<MetricMetadata> {
    let family = |name: &str, metric_type, help: &str, unit: &str| MetricMetadata {
        metric_family_name: name.to_string(),
        metric_type,
        help: help.to_string(),
        unit: unit.to_string(),
    };
    vec![
        family(
            red::CALLS_TOTAL,
            MetricType::Counter,
            "Spans seen, per service, span name, span kind and status (derived from ingested spans).",
            "",
        ),
        family(
            red::DURATION_MS,
            MetricType::Histogram,
            "Span durations, per service, span name, span kind and status (derived from ingested spans).",
            "milliseconds",
        ),
        family(
            graph::REQUEST_TOTAL,
            MetricType::Counter,
            "Requests between two nodes (client and server spans paired by parent id).",
            "",
        ),
        family(
            graph::REQUEST_FAILED_TOTAL,
            MetricType::Counter,
            "Failed requests between two nodes (either span has error status).",
            "",
        ),
        family(
            graph::REQUEST_SERVER_SECONDS,
            MetricType::Histogram,
            "Time for a request between two nodes as seen from the server.",
            "seconds",
        ),
        family(
            graph::REQUEST_CLIENT_SECONDS,
            MetricType::Histogram,
            "Time for a request between two nodes as seen from the client.",
            "seconds",
        ),
    ]
}

#[cfg(test)]
mod tests;
