//! `GET /metrics` of `whyslow serve`: its own state in the Prometheus text
//! format 0.0.4, which `serve` also scrapes into its series store as job
//! `whyslow` (every 15 s, see `ingest::scrape::Target::self_scrape`).
//!
//! What it shows: the series store ([`SeriesStore::stats`]: active series,
//! head samples and bytes, blocks, disk bytes, samples appended and refused,
//! series over the cardinality limits and over the memory budget), the span
//! store (head spans, blocks, block bytes), `--memory-budget` and its use per
//! part (in flight, span store, metrics store), the scrapers
//! (`ingest::scrape::ScrapeStats`), and the process (CPU, RSS, virtual
//! memory, open files, start time, from `/proc/self`), and spans and samples
//! ingested (`ingest::counters`, added for this page: the receivers kept no
//! counters), PromQL queries (count, failures, latency histogram from
//! `server::prom::QueryMetrics`) and the span-metrics generators.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use ingest::scrape::ScrapeStats;
use ingest::InFlightBudget;
use std::fmt::Write;
use std::sync::{Arc, Weak};
use store::{EmbeddedStore, SeriesStore};

/// Where `serve`'s own metrics come from.
pub struct ServeMetrics {
    /// The metrics store.
    pub series: Arc<dyn SeriesStore>,
    /// The span store (weak: `/metrics` must not keep it open at shutdown).
    pub spans: Weak<EmbeddedStore>,
    /// The in-flight part of `--memory-budget`.
    pub in_flight: InFlightBudget,
    /// The span store's part of `--memory-budget`.
    pub store_budget_bytes: u64,
    /// The metrics store's part of `--memory-budget` (head and write queue).
    pub series_budget_bytes: u64,
    /// Counters of every scraper.
    pub scrape: Arc<ScrapeStats>,
    /// PromQL queries served (count, failures, latency).
    pub queries: Arc<server::prom::QueryMetrics>,
    /// RED and service-graph generators fed by every stored span.
    pub span_metrics: Arc<ingest::spanmetrics::SpanMetrics>,
}

/// The `/metrics` route, to merge into the UI and query API router.
pub fn router(metrics: Arc<ServeMetrics>) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let metrics = Arc::clone(&metrics);
            async move {
                // Reads take the stores' locks and /proc: off the async workers.
                let body = tokio::task::spawn_blocking(move || metrics.render())
                    .await
                    .unwrap_or_else(|e| format!("# rendering failed: {e}\n"));
                (
                    [(
                        header::CONTENT_TYPE,
                        ingest::exposition::Format::PrometheusText.content_type(),
                    )],
                    body,
                )
                    .into_response()
            }
        }),
    )
}

/// Builds the text: one `# HELP`, `# TYPE` and samples per family.
struct Text(String);

impl Text {
    fn family(&mut self, name: &str, kind: &str, help: &str, samples: &[(&str, f64)]) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(self.0, "{name}{labels} {}", format_value(*value));
        }
    }

    fn one(&mut self, name: &str, kind: &str, help: &str, value: f64) {
        self.family(name, kind, help, &[("", value)]);
    }
}

fn format_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value == f64::INFINITY {
        "+Inf".into()
    } else if value == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        value.to_string()
    }
}

impl ServeMetrics {
    /// The exposition now.
    pub fn render(&self) -> String {
        let mut t = Text(String::with_capacity(4096));
        let version = format!("{{version=\"{}\"}}", env!("CARGO_PKG_VERSION"));
        t.family(
            "whyslow_build_info",
            "gauge",
            "A 1 labelled with the version of whyslow serving.",
            &[(version.as_str(), 1.0)],
        );
        self.series_store(&mut t);
        self.span_store(&mut t);
        self.scrapes(&mut t);
        self.queries(&mut t);
        self.span_metrics(&mut t);
        ingest_counters(&mut t);
        process(&mut t);
        t.0
    }

    fn series_store(&self, t: &mut Text) {
        let s = self.series.stats();
        t.one(
            "whyslow_series_active",
            "gauge",
            "Metric series with samples in the head.",
            s.active_series as f64,
        );
        t.one(
            "whyslow_series_head_samples",
            "gauge",
            "Samples held in the series store's head.",
            s.head_samples as f64,
        );
        t.one(
            "whyslow_series_head_bytes",
            "gauge",
            "Bytes the series store's head holds (labels, index, chunks).",
            s.head_bytes as f64,
        );
        t.one(
            "whyslow_series_blocks",
            "gauge",
            "Immutable series blocks on disk.",
            s.blocks as f64,
        );
        t.one(
            "whyslow_series_disk_bytes",
            "gauge",
            "Bytes of series blocks and WAL on disk.",
            s.disk_bytes as f64,
        );
        t.one(
            "whyslow_series_samples_appended_total",
            "counter",
            "Samples the series store took since start.",
            s.samples_appended as f64,
        );
        t.one("whyslow_series_samples_rejected_total", "counter", "Samples the series store refused since start (out of order, duplicate, too old, over a limit).", s.samples_rejected as f64);
        t.one(
            "whyslow_series_over_limit_total",
            "counter",
            "Series refused by --max-series or --max-series-per-metric since start.",
            s.series_over_limit as f64,
        );
        t.one(
            "whyslow_series_over_memory_budget_total",
            "counter",
            "New series refused since start because the metrics head was at its part of --memory-budget.",
            s.series_over_budget as f64,
        );
    }

    fn span_store(&self, t: &mut Text) {
        let in_flight = (self.in_flight.budget_bytes(), self.in_flight.in_use_bytes());
        let series_used = self.series.stats().memory_bytes;
        let spans = self.spans.upgrade();
        let store_used = spans.as_ref().map_or(0, |s| s.used_bytes());
        t.family(
            "whyslow_memory_budget_bytes",
            "gauge",
            "--memory-budget by part: requests in flight, queued and recent spans, and the metrics store (head and write queue).",
            &[
                ("{part=\"in_flight\"}", in_flight.0 as f64),
                ("{part=\"span_store\"}", self.store_budget_bytes as f64),
                ("{part=\"metrics_store\"}", self.series_budget_bytes as f64),
            ],
        );
        t.family(
            "whyslow_memory_budget_used_bytes",
            "gauge",
            "Bytes charged to each part of --memory-budget now.",
            &[
                ("{part=\"in_flight\"}", in_flight.1 as f64),
                ("{part=\"span_store\"}", store_used as f64),
                ("{part=\"metrics_store\"}", series_used as f64),
            ],
        );
        if let Some(spans) = spans {
            t.one(
                "whyslow_span_store_head_spans",
                "gauge",
                "Spans in the span store's in-memory head.",
                spans.head_spans() as f64,
            );
            t.one(
                "whyslow_span_store_blocks",
                "gauge",
                "Span blocks (Parquet) on disk.",
                spans.block_count() as f64,
            );
            t.one(
                "whyslow_span_store_block_bytes",
                "gauge",
                "Bytes of span blocks on disk.",
                spans.block_bytes() as f64,
            );
        }
    }

    fn scrapes(&self, t: &mut Text) {
        let s = self.scrape.snapshot();
        t.one(
            "whyslow_scrape_targets",
            "gauge",
            "Targets being scraped (--scrape-config jobs and serve itself).",
            s.targets as f64,
        );
        t.one(
            "whyslow_scrape_targets_up",
            "gauge",
            "Targets whose last scrape succeeded.",
            s.targets_up as f64,
        );
        t.one(
            "whyslow_scrapes_total",
            "counter",
            "Scrapes since start.",
            s.scrapes as f64,
        );
        t.one(
            "whyslow_scrape_failures_total",
            "counter",
            "Failed scrapes since start (up = 0).",
            s.failures as f64,
        );
        t.one(
            "whyslow_scrape_samples_scraped_total",
            "counter",
            "Sample lines scraped since start.",
            s.samples_scraped as f64,
        );
        t.one("whyslow_scrape_samples_appended_total", "counter", "Samples from scrapes (with synthetic series and staleness markers) the series store took.", s.samples_appended as f64);
        t.one(
            "whyslow_scrape_samples_rejected_total",
            "counter",
            "Samples from scrapes the series store refused.",
            s.samples_rejected as f64,
        );
        t.one(
            "whyslow_scrape_duration_seconds_total",
            "counter",
            "Time spent scraping, summed over targets.",
            s.duration_micros as f64 / 1e6,
        );
    }
}

impl ServeMetrics {
    fn queries(&self, t: &mut Text) {
        let q = self.queries.snapshot();
        t.family(
            "whyslow_promql_queries_total",
            "counter",
            "PromQL queries served by /api/v1/query and /api/v1/query_range.",
            &[
                ("{endpoint=\"query\"}", q.instant_queries as f64),
                ("{endpoint=\"query_range\"}", q.range_queries as f64),
            ],
        );
        t.one(
            "whyslow_promql_queries_failed_total",
            "counter",
            "PromQL queries answered with an error.",
            q.failed_queries as f64,
        );
        let name = "whyslow_promql_query_duration_seconds";
        let _ = writeln!(
            t.0,
            "# HELP {name} Time to evaluate and encode a PromQL query."
        );
        let _ = writeln!(t.0, "# TYPE {name} histogram");
        let bounds = server::prom::LATENCY_BUCKETS_S
            .iter()
            .map(|b| b.to_string());
        for (le, count) in bounds
            .chain(std::iter::once("+Inf".to_string()))
            .zip(&q.latency_cumulative)
        {
            let _ = writeln!(t.0, "{name}_bucket{{le=\"{le}\"}} {count}");
        }
        let count = q.latency_cumulative.last().copied().unwrap_or(0);
        let _ = writeln!(t.0, "{name}_sum {}", format_value(q.latency_sum_s));
        let _ = writeln!(t.0, "{name}_count {count}");
    }

    fn span_metrics(&self, t: &mut Text) {
        let s = self.span_metrics.stats();
        t.one(
            "whyslow_span_metrics_spans_total",
            "counter",
            "Spans counted into RED and service-graph metrics.",
            s.spans as f64,
        );
        t.one(
            "whyslow_span_metrics_series",
            "gauge",
            "RED label combinations held (service, span name, kind, status).",
            s.series as f64,
        );
        t.one(
            "whyslow_span_metrics_overflowed_spans_total",
            "counter",
            "Spans counted into the overflow series because the RED table was full.",
            s.overflowed_spans as f64,
        );
        t.one(
            "whyslow_service_graph_edges",
            "gauge",
            "Service-graph edges held.",
            s.edges as f64,
        );
        t.one(
            "whyslow_service_graph_pending_spans",
            "gauge",
            "Client or server spans waiting for the other half of their edge.",
            s.pending_edges as f64,
        );
        t.family(
            "whyslow_service_graph_unpaired_spans_total",
            "counter",
            "Edge halves that expired unpaired, or were dropped because too many waited.",
            &[
                ("{reason=\"expired\"}", s.unpaired_edge_spans as f64),
                ("{reason=\"dropped\"}", s.dropped_edge_spans as f64),
            ],
        );
        t.one(
            "whyslow_span_metrics_flush_errors_total",
            "counter",
            "Span-metrics flushes the series store refused.",
            s.flush_errors as f64,
        );
    }
}

/// Spans and samples taken by the receivers (`ingest::counters`).
fn ingest_counters(t: &mut Text) {
    let c = ingest::counters::snapshot();
    t.family(
        "whyslow_ingest_spans_total",
        "counter",
        "Spans the trace receivers stored durably, or had refused by the store, since start.",
        &[
            ("{outcome=\"stored\"}", c.spans_stored as f64),
            ("{outcome=\"refused\"}", c.spans_refused as f64),
        ],
    );
    let labels: Vec<(String, f64)> = c
        .samples
        .iter()
        .flat_map(|&(source, accepted, rejected)| {
            let source = source.as_str();
            [
                (
                    format!("{{source=\"{source}\",outcome=\"accepted\"}}"),
                    accepted as f64,
                ),
                (
                    format!("{{source=\"{source}\",outcome=\"rejected\"}}"),
                    rejected as f64,
                ),
            ]
        })
        .collect();
    let samples: Vec<(&str, f64)> = labels.iter().map(|(l, v)| (l.as_str(), *v)).collect();
    t.family(
        "whyslow_ingest_samples_total",
        "counter",
        "Metric samples the series store took or refused, by source, since start.",
        &samples,
    );
}

/// Linux's USER_HZ: the unit of CPU times in `/proc/self/stat`.
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

/// The standard `process_*` metrics, from `/proc/self` (left out elsewhere).
fn process(t: &mut Text) {
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
        // Fields after the command (which may hold spaces) in its parentheses.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
        let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<f64>().ok());
        if let (Some(user), Some(system)) = (field(14), field(15)) {
            t.one(
                "process_cpu_seconds_total",
                "counter",
                "Total user and system CPU time spent in seconds.",
                (user + system) / CLOCK_TICKS_PER_SECOND,
            );
        }
        let boot_time = std::fs::read_to_string("/proc/stat").ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("btime "))
                .and_then(|v| v.trim().parse::<f64>().ok())
        });
        if let (Some(start), Some(boot)) = (field(22), boot_time) {
            t.one(
                "process_start_time_seconds",
                "gauge",
                "Start time of the process since unix epoch in seconds.",
                boot + start / CLOCK_TICKS_PER_SECOND,
            );
        }
    }
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        let kib = |key: &str| {
            status.lines().find_map(|l| {
                l.strip_prefix(key)?
                    .trim()
                    .strip_suffix("kB")?
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
        };
        if let Some(rss) = kib("VmRSS:") {
            t.one(
                "process_resident_memory_bytes",
                "gauge",
                "Resident memory size in bytes.",
                rss * 1024.0,
            );
        }
        if let Some(size) = kib("VmSize:") {
            t.one(
                "process_virtual_memory_bytes",
                "gauge",
                "Virtual memory size in bytes.",
                size * 1024.0,
            );
        }
    }
    if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
        t.one(
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            entries.count() as f64,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ingest::exposition::{parse, Format};
    use model::metrics::MetricType;

    #[test]
    fn the_exposition_parses_and_names_every_part() {
        let metrics = ServeMetrics {
            series: Arc::new(store::series::MemorySeriesStore::new()),
            spans: Weak::new(),
            in_flight: InFlightBudget::new(128 << 20),
            store_budget_bytes: 192 << 20,
            series_budget_bytes: 192 << 20,
            scrape: Arc::new(ScrapeStats::default()),
            queries: Arc::default(),
            span_metrics: Arc::new(ingest::spanmetrics::SpanMetrics::new(Default::default())),
        };
        metrics.queries.observe(
            server::prom::QueryKind::Range,
            std::time::Duration::from_millis(30),
            true,
        );
        let text = metrics.render();
        let parsed = parse(text.as_bytes(), Format::PrometheusText).expect("our own text parses");
        let value = |name: &str, part: Option<&str>| {
            parsed
                .samples
                .iter()
                .find(|s| s.labels.metric_name() == Some(name) && s.labels.get("part") == part)
                .unwrap_or_else(|| panic!("no {name}"))
                .value
        };
        assert_eq!(value("whyslow_series_active", None), 0.0);
        assert_eq!(
            value("whyslow_promql_query_duration_seconds_count", None),
            1.0
        );
        assert_eq!(value("whyslow_span_metrics_spans_total", None), 0.0);
        assert_eq!(
            value("whyslow_memory_budget_bytes", Some("in_flight")),
            (128u64 << 20) as f64
        );
        assert_eq!(
            value("whyslow_memory_budget_bytes", Some("span_store")),
            (192u64 << 20) as f64
        );
        assert_eq!(
            value("whyslow_memory_budget_bytes", Some("metrics_store")),
            (192u64 << 20) as f64
        );
        assert_eq!(
            value("whyslow_memory_budget_used_bytes", Some("metrics_store")),
            0.0
        );
        assert_eq!(value("whyslow_series_over_memory_budget_total", None), 0.0);
        assert_eq!(value("whyslow_scrape_targets", None), 0.0);
        assert!(value("process_resident_memory_bytes", None) > 1e6);
        assert!(value("process_cpu_seconds_total", None) >= 0.0);
        assert!(value("process_start_time_seconds", None) > 1.6e9);
        assert!(value("process_open_fds", None) >= 3.0);
        assert!(parsed.samples.iter().any(|s| {
            s.labels.metric_name() == Some("whyslow_ingest_samples_total")
                && s.labels.get("source") == Some("remote_write")
                && s.labels.get("outcome") == Some("rejected")
        }));
        let counter = parsed
            .metadata
            .iter()
            .find(|m| m.metric_family_name == "whyslow_scrapes_total")
            .expect("metadata");
        assert_eq!(counter.metric_type, MetricType::Counter);
        assert!(!counter.help.is_empty());
        // Every family has HELP and TYPE.
        assert!(parsed.metadata.iter().all(|m| !m.help.is_empty()));
    }

    #[test]
    fn values_are_spelled_as_prometheus_reads_them() {
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(0.25), "0.25");
    }
}
