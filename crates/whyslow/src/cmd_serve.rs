//! `whyslow serve`: opens the embedded store and runs three listeners on one
//! small tokio runtime — OTLP/gRPC, OTLP/HTTP (+ Zipkin), and the query API
//! with the web UI — until Ctrl-C or SIGTERM, then drains in-flight requests
//! and closes the store (which commits every queued batch). With
//! `--tls-cert`/`--tls-key` all three speak TLS (gRPC with ALPN h2), with
//! `--tls-client-ca` only to clients holding a certificate from that CA
//! (`listen_tls.rs`); serve's scrape of its own /metrics stays in process.
//!
//! `--memory-budget` is split three ways ([`MemoryBudget::split`]): a
//! quarter ([`IN_FLIGHT_SHARE`]) admits requests in flight (bodies being
//! read, decoded and converted; see `ingest::admission`), 3/8 bounds the span
//! store's queued and recent spans, 3/8 the metrics store (its head of
//! active series, and an eighth of that for its write queue). Over the
//! in-flight or span share, or the metrics write queue, senders get 429 +
//! `Retry-After` / RESOURCE_EXHAUSTED + `RetryInfo`; a new metric series
//! that would take the metrics head over its part is refused (400 naming
//! it, as over `--max-series`) while existing series keep taking samples.
//! So ingest holds at most the budget, plus one request larger than the
//! in-flight share when it is the only one in flight, plus the growth of
//! existing series' chunks until the next block cut.
//!
//! With `--auth-file` every listener asks for credentials
//! ([`crate::serve_access`]).

use crate::cli::ServeArgs;
use crate::serve_access::Access;
use anyhow::{Context, Result};
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;
use store::{EmbeddedConfig, EmbeddedStore, ProfileStore, SeriesStore, SpanStore};
use tls::Alpn;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Runs the server until interrupted.
pub fn run(args: ServeArgs) -> Result<()> {
    if args.print_default_rules {
        print!("{}", crate::serve_rules::DEFAULT_RULES);
        return Ok(());
    }
    // First: the warning about open listeners comes at once, and a bad
    // --auth-file stops serve before anything is opened.
    let access = Access::open(&args)?;
    let scrape_targets = match &args.scrape_config {
        Some(path) => ingest::scrape::load(path)?,
        None => Vec::new(),
    };
    let rule_groups = crate::serve_rules::load(&args)?;
    let budget = MemoryBudget::split(args.memory_budget);
    // One --max-disk for the whole data directory: the oldest block of
    // either store goes first.
    let disk_quota = store::DiskQuota::new(args.max_disk);
    let (store, spans, series, profiles) = match &args.store {
        Some(url) => {
            let clickhouse = crate::serve_clickhouse::ClickHouse::open(&args, url)?;
            (
                clickhouse.spans(budget.span_store_bytes),
                Weak::new(),
                clickhouse.series(budget.metrics_bytes),
                clickhouse.profiles(budget.span_store_bytes / 4),
            )
        }
        None => {
            let (store, spans) = open_embedded_spans(&args, &budget, &disk_quota)?;
            let series = open_series_store(&args, &budget, Arc::clone(&disk_quota))?;
            let profiles = open_profile_store(&args, disk_quota)?;
            (store, spans, series, profiles)
        }
    };
    let profiles = resymbolizing(&args, profiles);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("serve")
        .build()
        .context("starting the tokio runtime")?;
    let stores = Stores {
        spans: store,
        series,
        profiles,
        span_engine: spans,
    };
    let result = runtime.block_on(serve(
        &args,
        stores,
        budget,
        scrape_targets,
        rule_groups,
        access,
    ));
    // Servers have stopped and dropped their store handles: the store closes here.
    drop(runtime);
    result
}

/// The embedded span store in `--data-dir` (and a handle for serve's own metrics).
fn open_embedded_spans(
    args: &ServeArgs,
    budget: &MemoryBudget,
    disk_quota: &Arc<store::DiskQuota>,
) -> Result<(Arc<dyn SpanStore>, Weak<EmbeddedStore>)> {
    let mut config = EmbeddedConfig::new(&args.data_dir);
    config.retention = args.retention;
    config.disk_quota = Arc::clone(disk_quota);
    config.memory_budget_bytes = budget.span_store_bytes;
    config.head_flush_bytes = budget.span_store_bytes / 4;
    let store = EmbeddedStore::open(config).with_context(|| {
        format!(
            "opening the trace store in {} (is another `whyslow serve` using it?)",
            args.data_dir.display()
        )
    })?;
    let recovery = store.recovery();
    eprintln!(
        "whyslow: store {}: {} blocks, {} spans replayed from the write-ahead log{}",
        args.data_dir.display(),
        recovery.blocks,
        recovery.wal_spans,
        if recovery.skipped_records + (recovery.truncated_bytes as usize) > 0 {
            format!(
                " ({} damaged records skipped, {} torn bytes cut)",
                recovery.skipped_records, recovery.truncated_bytes
            )
        } else {
            String::new()
        }
    );
    eprintln!(
        "whyslow: memory budget {} MiB: {} MiB for requests in flight, {} MiB for queued and recent spans, \
         {} MiB for the metrics store ({} MiB head of active series, {} MiB write queue)",
        args.memory_budget >> 20,
        budget.in_flight_bytes >> 20,
        budget.span_store_bytes >> 20,
        budget.metrics_bytes >> 20,
        budget.metrics_head_bytes() >> 20,
        budget.metrics_queue_bytes() >> 20,
    );
    let store = Arc::new(store);
    let spans = Arc::downgrade(&store);
    Ok((store, spans))
}

/// This machine's host name (`localhost` when it cannot be read).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// The three signal stores `serve` runs over.
struct Stores {
    spans: Arc<dyn SpanStore>,
    series: Arc<dyn SeriesStore>,
    profiles: Arc<dyn ProfileStore>,
    /// The embedded span engine, for `serve`'s own metrics.
    span_engine: Weak<EmbeddedStore>,
}

async fn serve(
    args: &ServeArgs,
    stores: Stores,
    budget: MemoryBudget,
    mut scrape_targets: Vec<ingest::scrape::Target>,
    rule_groups: crate::serve_rules::Loaded,
    access: Access,
) -> Result<()> {
    let Stores {
        spans: store,
        series,
        profiles,
        span_engine: spans,
    } = stores;
    let tls = crate::listen_tls::load(&args.tls, "")?;
    let listen = |port, what, alpn| bind(args, port, what, tls.as_ref(), alpn);
    let grpc = listen(args.otlp_grpc_port, "OTLP/gRPC", Alpn::H2).await?;
    let otlp_http = listen(args.otlp_http_port, "OTLP/HTTP", Alpn::Http1).await?;
    let ui = listen(args.http_port, "UI and query API", Alpn::Http1).await?;
    let ui_url = format!("{}://{}", ui.scheme(), local(&ui)?);
    // gRPC clients take a bare host:port for plaintext, https:// for TLS.
    let grpc_scheme = if grpc.is_tls() { "https://" } else { "" };
    println!("OTLP/gRPC   listening on {grpc_scheme}{}", local(&grpc)?);
    println!(
        "OTLP/HTTP   listening on {}://{}/v1/traces and /v1/metrics (Zipkin v2 JSON: /api/v2/spans)",
        otlp_http.scheme(),
        local(&otlp_http)?
    );
    println!("UI and API  listening on {ui_url}/");
    // Instances sharing a ClickHouse store tell their own series apart by
    // `instance` = host name and UI port (loopback addresses repeat across hosts).
    let instance = args
        .store
        .is_some()
        .then(|| format!("{}:{}", host_name(), local(&ui).map_or(0, |a| a.port())));

    let (stop_tx, stop_rx) = watch::channel(false);
    let reload_task = tls
        .as_ref()
        .map(|server| crate::listen_tls::spawn_reload(server, "", stopped(stop_rx.clone())));
    // RED and service-graph metrics from every span the store accepts; the
    // last flush runs once the receivers have drained.
    let span_metrics = Arc::new(ingest::spanmetrics::SpanMetrics::new(
        ingest::spanmetrics::SpanMetricsOptions {
            instance: instance.clone(),
            ..Default::default()
        },
    ));
    let store: Arc<dyn SpanStore> = Arc::new(ingest::spanmetrics::SpanMetricsTee::new(
        store,
        Arc::clone(&span_metrics),
    ));
    let (red_stop_tx, red_stop_rx) = watch::channel(false);
    let red_task = tokio::spawn(ingest::spanmetrics::flush_loop(
        Arc::clone(&span_metrics),
        Arc::clone(&series),
        stopped(red_stop_rx),
    ));
    // One in-flight budget: both receivers get clones of these limits.
    let limits = ingest::Limits {
        in_flight: ingest::InFlightBudget::new(budget.in_flight_bytes),
        ..ingest::Limits::default()
    };
    let grpc_task = tokio::spawn(ingest::serve_grpc(
        grpc,
        Arc::clone(&store),
        Arc::clone(&series),
        limits.clone(),
        access.gate.clone(),
        stopped(stop_rx.clone()),
    ));
    let query = server::QueryOptions {
        max_clock_skew_adjustment_nanos: u64::try_from(args.max_clock_skew_adjustment.as_nanos())
            .unwrap_or(u64::MAX),
        engine: server::EngineOptions {
            lookback_delta_ms: 5 * 60 * 1000,
            max_samples: args.query_max_samples,
            timeout: args.query_timeout,
        },
        limits: server::ReadLimits {
            max_range: args.query_max_range,
            max_traces: args.query_max_traces,
        },
    };
    let mut app_state = server::AppState::new(Arc::clone(&store), Arc::clone(&series), query);
    app_state.profiles = Arc::clone(&profiles);
    app_state.ui = server::ui::UiOptions {
        anonymous_warning: access.warn_open,
        logout: access.gate.is_some(),
    };
    let own_metrics = Arc::new(crate::serve_metrics::ServeMetrics {
        series: Arc::clone(&series),
        spans,
        in_flight: limits.in_flight.clone(),
        store_budget_bytes: budget.span_store_bytes,
        series_budget_bytes: budget.metrics_bytes,
        scrape: Arc::new(ingest::scrape::ScrapeStats::default()),
        queries: Arc::clone(&app_state.query_metrics),
        span_metrics,
    });
    // serve scrapes its own /metrics too (job "whyslow"), in process: past
    // TLS and the gate, so it needs no certificate and no token.
    if !args.self_scrape_interval.is_zero() {
        let router = crate::serve_metrics::router(Arc::clone(&own_metrics));
        let mut own = ingest::scrape::Target::self_scrape(local(&ui)?, router);
        if let Some(instance) = &instance {
            own.labels.set("instance", instance);
        }
        own.interval = args.self_scrape_interval;
        own.timeout = own.timeout.min(args.self_scrape_interval);
        scrape_targets.push(own);
    }
    if !scrape_targets.is_empty() {
        println!(
            "Scraping    {} target{} every {}",
            scrape_targets.len(),
            if scrape_targets.len() == 1 { "" } else { "s" },
            scrape_intervals(&scrape_targets)
        );
    }
    let rules_runner = crate::serve_rules::start(
        args,
        rule_groups,
        &series,
        &app_state.engine,
        &ui_url,
        stop_rx.clone(),
    );
    if let Some(runner) = &rules_runner {
        app_state.rules = Arc::clone(&runner.states);
    }
    let scrape_tasks =
        ingest::scrape::spawn_scrapers(scrape_targets, &series, &own_metrics.scrape, &stop_rx);
    let http_task = tokio::spawn(ingest::serve_http(
        otlp_http,
        Arc::clone(&store),
        Arc::clone(&series),
        limits.clone(),
        access.gate.clone(),
        stopped(stop_rx.clone()),
    ));
    let read = server::router_for(app_state).merge(crate::serve_metrics::router(own_metrics));
    let write = ingest::pyroscope_router(profiles, limits.clone())
        .merge(ingest::prometheus_router(Arc::clone(&series), limits));
    let share = gate::FairShareOptions {
        per_reader: usize::try_from(args.query_max_per_reader).unwrap_or(usize::MAX),
        max_wait: args.query_timeout,
        ..gate::FairShareOptions::default()
    };
    let app = access.ui_router(read, write, share);
    let ui_task = tokio::spawn(
        axum::serve(
            ui,
            // The peer address is what the gate's failure limiter counts by.
            app.into_make_service_with_connect_info::<tls::Peer>(),
        )
        .with_graceful_shutdown(stopped(stop_rx))
        .into_future(),
    );
    drop(store);
    drop(series);

    let signal = shutdown_signal().await;
    eprintln!("whyslow: {signal}: finishing in-flight requests and closing the store");
    let _ = stop_tx.send(true);
    let grpc_result = grpc_task.await.context("OTLP/gRPC server task")?;
    let http_result = http_task.await.context("OTLP/HTTP server task")?;
    let ui_result = ui_task.await.context("UI server task")?;
    if let Some(runner) = rules_runner {
        runner.join().await;
    }
    let _ = red_stop_tx.send(true);
    red_task.await.context("span metrics flush task")?;
    if let Some(task) = reload_task {
        task.await.context("TLS reload task")?;
    }
    for task in scrape_tasks {
        task.await.context("scrape task")?;
    }
    grpc_result.context("OTLP/gRPC server")?;
    http_result.context("OTLP/HTTP server")?;
    ui_result.context("UI server")?;
    Ok(())
}

/// "15s" or "15s to 1m" across the targets' scrape intervals.
fn scrape_intervals(targets: &[ingest::scrape::Target]) -> String {
    let secs = |d: Duration| format!("{}s", d.as_secs_f64());
    let min = targets.iter().map(|t| t.interval).min().unwrap_or_default();
    let max = targets.iter().map(|t| t.interval).max().unwrap_or_default();
    if min == max {
        secs(min)
    } else {
        format!("{} to {}", secs(min), secs(max))
    }
}

/// Opens the metrics store in `DATA_DIR/metrics` with its part of
/// `--memory-budget`: an eighth for the write queue (samples accepted but
/// not yet fdatasynced; over it senders get 429), the rest for the head
/// (new series past it are refused), besides `--max-series`; and its place
/// in the data directory's shared `--max-disk`.
fn open_series_store(
    args: &ServeArgs,
    budget: &MemoryBudget,
    disk_quota: Arc<store::DiskQuota>,
) -> Result<Arc<dyn SeriesStore>> {
    let mut config = store::tsdb::TsdbConfig::new(&args.data_dir);
    config.retention = args.retention;
    config.disk_quota = disk_quota;
    config.max_series = args.max_series;
    config.max_series_per_metric = args.max_series_per_metric;
    config.memory_budget_bytes = budget.metrics_queue_bytes();
    config.head_budget_bytes = budget.metrics_head_bytes();
    let dir = config.dir.clone();
    let tsdb = store::tsdb::Tsdb::open(config).with_context(|| {
        format!(
            "opening the metrics store in {} (is another `whyslow serve` using it?)",
            dir.display()
        )
    })?;
    let r = tsdb.recovery();
    eprintln!(
        "whyslow: metrics {}: {} blocks, {} series with {} samples replayed from the write-ahead log{}",
        dir.display(),
        r.blocks,
        r.series,
        r.samples,
        if r.skipped_records + (r.truncated_bytes as usize) > 0 {
            format!(
                " ({} damaged records skipped, {} torn bytes cut)",
                r.skipped_records, r.truncated_bytes
            )
        } else {
            String::new()
        }
    );
    Ok(Arc::new(tsdb))
}

/// Opens the profile store in `DATA_DIR/profiles` (Pyroscope ingest and
/// query APIs on the HTTP port) with the shared `--retention` and
/// `--max-disk`.
fn open_profile_store(
    args: &ServeArgs,
    disk_quota: Arc<store::DiskQuota>,
) -> Result<Arc<dyn ProfileStore>> {
    let dir = args.data_dir.join("profiles");
    let mut config = store::profiles::ProfileStoreConfig::new(&dir);
    config.retention = args.retention;
    config.disk_quota = disk_quota;
    let profiles = store::profiles::EmbeddedProfileStore::open(config)
        .with_context(|| format!("opening the profile store in {}", dir.display()))?;
    let r = profiles.recovery();
    let (series, samples, stacks) = profiles.stats();
    eprintln!(
        "whyslow: profiles {}: {} blocks; {} series, {} samples, {} stacks replayed from {} write-ahead log records{}",
        dir.display(),
        r.blocks,
        series,
        samples,
        stacks,
        r.records,
        if r.skipped + r.truncated_bytes > 0 {
            format!(
                " ({} damaged records skipped, {} torn bytes cut)",
                r.skipped, r.truncated_bytes
            )
        } else {
            String::new()
        }
    );
    Ok(Arc::new(profiles))
}

/// Profiles named through `--debuginfo-dir` when it is given.
fn resymbolizing(args: &ServeArgs, profiles: Arc<dyn ProfileStore>) -> Arc<dyn ProfileStore> {
    if args.debuginfo_dir.is_empty() {
        return profiles;
    }
    let namer = crate::serve_debuginfo::Namer::new(args.debuginfo_dir.clone());
    Arc::new(store::profiles::Resymbolizing::new(
        profiles,
        Arc::new(namer),
    ))
}

/// The part of `--memory-budget` that admits requests in flight (the rest is the stores').
pub const IN_FLIGHT_SHARE: u64 = 4;

/// `--memory-budget` split between requests in flight, the span store and
/// the metrics store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MemoryBudget {
    /// Bodies being read, decoded and converted (`ingest::Limits::in_flight`).
    in_flight_bytes: u64,
    /// Spans queued for the write-ahead log and held in the head.
    span_store_bytes: u64,
    /// The metrics store: its head and its write queue.
    metrics_bytes: u64,
}

impl MemoryBudget {
    /// A quarter for requests in flight, the rest halved between the two
    /// stores (3/8 each). Request memory is short-lived (milliseconds per
    /// batch) while the stores hold minutes of spans and hours of samples,
    /// so they get the larger part; a quarter still admits ~10 MiB of
    /// protobuf (or ~7 MiB of OTLP JSON) on the wire at once with the
    /// default 512 MB. The span store flushes its head to Parquet every few
    /// minutes, so 192 MiB of it is plenty, while the metrics head holds up
    /// to three hours of every active series (~300 B each): with the default
    /// 512 MB its 168 MiB head part takes ~500 000 series.
    fn split(total_bytes: u64) -> Self {
        let in_flight_bytes = total_bytes / IN_FLIGHT_SHARE;
        let span_store_bytes = (total_bytes - in_flight_bytes) / 2;
        Self {
            in_flight_bytes,
            span_store_bytes,
            metrics_bytes: total_bytes - in_flight_bytes - span_store_bytes,
        }
    }

    /// The metrics store's write queue: an eighth of its part (at least 1 MiB).
    fn metrics_queue_bytes(&self) -> u64 {
        (self.metrics_bytes / 8).max(1 << 20)
    }

    /// The metrics head: the rest of its part (0, no limit, only when the
    /// budget is 0).
    fn metrics_head_bytes(&self) -> u64 {
        if self.metrics_bytes == 0 {
            return 0;
        }
        self.metrics_bytes
            .saturating_sub(self.metrics_queue_bytes())
            .max(1)
    }
}

async fn bind(
    args: &ServeArgs,
    port: u16,
    what: &str,
    tls: Option<&tls::ServerTls>,
    alpn: Alpn,
) -> Result<tls::Listener> {
    let addr = SocketAddr::new(args.bind, port);
    let tcp = TcpListener::bind(addr).await.with_context(|| {
        format!("binding the {what} listener on {addr} (port in use? choose another with the --*-port options)")
    })?;
    crate::listen_tls::listener(tcp, tls, alpn, what)
}

fn local(listener: &tls::Listener) -> Result<SocketAddr> {
    listener
        .local_addr()
        .context("reading a listener's address")
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Waits for Ctrl-C or SIGTERM and names which one came.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "interrupted",
                _ = term.recv() => "terminated",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "interrupted"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "interrupted"
    }
}

/// Parses a size: `20GB`, `512MB`, `64KiB`, `1.5G`, `1048576` (bytes).
/// Units are 1024-based whether written MB or MiB, as Prometheus and Docker read them.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(format!("invalid size '{text}' (examples: 512MB, 20GB, 0)")),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid size '{text}' (examples: 512MB, 20GB, 0)"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("size must be zero or positive, got '{text}'"));
    }
    Ok((value * scale as f64).round() as u64)
}

/// Parses an age: `7d`, `12h`, `30m`, `90s`, `2w`.
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let parse = |number: &str, seconds: f64| -> Result<Duration, String> {
        let value: f64 = number
            .trim()
            .parse()
            .map_err(|_| format!("invalid age '{text}' (examples: 7d, 12h, 30m)"))?;
        if !value.is_finite() || value <= 0.0 {
            return Err(format!("age must be positive, got '{text}'"));
        }
        Ok(Duration::from_secs_f64(value * seconds))
    };
    if let Some(n) = trimmed.strip_suffix('w') {
        parse(n, 7.0 * 86400.0)
    } else if let Some(n) = trimmed.strip_suffix('d') {
        parse(n, 86400.0)
    } else {
        crate::cli::parse_duration(trimmed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_bytes("20GB"), Ok(20 << 30));
        assert_eq!(parse_bytes("512MB"), Ok(512 << 20));
        assert_eq!(parse_bytes("64 KiB"), Ok(64 << 10));
        assert_eq!(parse_bytes("1.5G"), Ok(3 << 29));
        assert_eq!(parse_bytes("0"), Ok(0));
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("5XB").is_err());
    }

    #[test]
    fn the_memory_budget_is_split_a_quarter_for_requests_in_flight_and_3_8_per_store() {
        let budget = MemoryBudget::split(512 << 20);
        assert_eq!(budget.in_flight_bytes, 128 << 20);
        assert_eq!(budget.span_store_bytes, 192 << 20);
        assert_eq!(budget.metrics_bytes, 192 << 20);
        assert_eq!(budget.metrics_queue_bytes(), 24 << 20);
        assert_eq!(budget.metrics_head_bytes(), 168 << 20);
        let odd = MemoryBudget::split(1001);
        assert_eq!(
            odd.in_flight_bytes + odd.span_store_bytes + odd.metrics_bytes,
            1001
        );
        let budget = MemoryBudget::split(0);
        assert_eq!(
            (
                budget.in_flight_bytes,
                budget.span_store_bytes,
                budget.metrics_bytes,
                budget.metrics_head_bytes()
            ),
            (0, 0, 0, 0)
        );
    }

    #[test]
    fn the_help_text_names_the_decode_expansions_in_use() {
        // `--memory-budget`'s help (cli.rs) spells these out.
        use ingest::admission::{EXPANSION_OTLP_JSON, EXPANSION_PROTOBUF, EXPANSION_ZIPKIN_JSON};
        assert_eq!(
            (
                EXPANSION_PROTOBUF,
                EXPANSION_OTLP_JSON,
                EXPANSION_ZIPKIN_JSON
            ),
            (12, 18, 6)
        );
    }

    #[test]
    fn ages_parse() {
        assert_eq!(parse_age("7d"), Ok(Duration::from_secs(7 * 86400)));
        assert_eq!(parse_age("2w"), Ok(Duration::from_secs(14 * 86400)));
        assert_eq!(parse_age("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(parse_age("30m"), Ok(Duration::from_secs(1800)));
        assert!(parse_age("0d").is_err());
        assert!(parse_age("soon").is_err());
    }
}
