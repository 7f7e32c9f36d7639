//! `whyslow serve`: opens the embedded store and runs three listeners on one
//! small tokio runtime — OTLP/gRPC, OTLP/HTTP (+ Zipkin), and the query API
//! with the web UI — until Ctrl-C or SIGTERM, then drains in-flight requests
//! and closes the store (which commits every queued batch).
//!
//! `--memory-budget` is split: a quarter ([`IN_FLIGHT_SHARE`]) admits requests
//! in flight (bodies being read, decoded and converted; see
//! `ingest::admission`), the rest bounds the store's queued and recent spans.
//! Over either share senders get 429 + `Retry-After` / RESOURCE_EXHAUSTED +
//! `RetryInfo`. So ingest holds at most the budget, plus one request larger
//! than the in-flight share when it is the only one in flight.

use crate::cli::ServeArgs;
use anyhow::{Context, Result};
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use store::{EmbeddedConfig, EmbeddedStore, SpanStore};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Runs the server until interrupted.
pub fn run(args: ServeArgs) -> Result<()> {
    let budget = MemoryBudget::split(args.memory_budget);
    let mut config = EmbeddedConfig::new(&args.data_dir);
    config.retention = args.retention;
    config.max_disk_bytes = args.max_disk;
    config.memory_budget_bytes = budget.store_bytes;
    config.head_flush_bytes = budget.store_bytes / 4;
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
        "whyslow: memory budget {} MiB: {} MiB for requests in flight, {} MiB for queued and recent spans",
        args.memory_budget >> 20,
        budget.in_flight_bytes >> 20,
        budget.store_bytes >> 20
    );
    let store: Arc<dyn SpanStore> = Arc::new(store);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("serve")
        .build()
        .context("starting the tokio runtime")?;
    let result = runtime.block_on(serve(&args, store, budget));
    // Servers have stopped and dropped their store handles: the store closes here.
    drop(runtime);
    result
}

async fn serve(args: &ServeArgs, store: Arc<dyn SpanStore>, budget: MemoryBudget) -> Result<()> {
    let grpc = bind(args, args.otlp_grpc_port, "OTLP/gRPC").await?;
    let otlp_http = bind(args, args.otlp_http_port, "OTLP/HTTP").await?;
    let ui = bind(args, args.http_port, "UI and query API").await?;
    println!("OTLP/gRPC   listening on {}", local(&grpc)?);
    println!(
        "OTLP/HTTP   listening on http://{}/v1/traces (Zipkin v2 JSON: /api/v2/spans)",
        local(&otlp_http)?
    );
    println!("UI and API  listening on http://{}/", local(&ui)?);

    let (stop_tx, stop_rx) = watch::channel(false);
    // One in-flight budget: both receivers get clones of these limits.
    let limits = ingest::Limits {
        in_flight: ingest::InFlightBudget::new(budget.in_flight_bytes),
        ..ingest::Limits::default()
    };
    let grpc_task = tokio::spawn(ingest::serve_grpc(
        grpc,
        Arc::clone(&store),
        limits.clone(),
        stopped(stop_rx.clone()),
    ));
    let http_task = tokio::spawn(ingest::serve_http(
        otlp_http,
        Arc::clone(&store),
        limits,
        stopped(stop_rx.clone()),
    ));
    let query = server::QueryOptions {
        max_clock_skew_adjustment_nanos: u64::try_from(args.max_clock_skew_adjustment.as_nanos())
            .unwrap_or(u64::MAX),
    };
    let ui_task = tokio::spawn(
        axum::serve(ui, server::router_with_options(Arc::clone(&store), query))
            .with_graceful_shutdown(stopped(stop_rx))
            .into_future(),
    );
    drop(store);

    let signal = shutdown_signal().await;
    eprintln!("whyslow: {signal}: finishing in-flight requests and closing the store");
    let _ = stop_tx.send(true);
    let grpc_result = grpc_task.await.context("OTLP/gRPC server task")?;
    let http_result = http_task.await.context("OTLP/HTTP server task")?;
    let ui_result = ui_task.await.context("UI server task")?;
    grpc_result.context("OTLP/gRPC server")?;
    http_result.context("OTLP/HTTP server")?;
    ui_result.context("UI server")?;
    Ok(())
}

/// The part of `--memory-budget` that admits requests in flight (the rest is the store's).
pub const IN_FLIGHT_SHARE: u64 = 4;

/// `--memory-budget` split between requests in flight and the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MemoryBudget {
    /// Bodies being read, decoded and converted (`ingest::Limits::in_flight`).
    in_flight_bytes: u64,
    /// Spans queued for the write-ahead log and held in the head.
    store_bytes: u64,
}

impl MemoryBudget {
    /// A quarter for requests in flight, the rest for the store. Request
    /// memory is short-lived (milliseconds per batch) while the store's
    /// head holds minutes of spans, so the store gets the larger part; a
    /// quarter still admits ~10 MiB of protobuf (or ~7 MiB of OTLP JSON) on
    /// the wire at once with the default 512 MB.
    fn split(total_bytes: u64) -> Self {
        let in_flight_bytes = total_bytes / IN_FLIGHT_SHARE;
        Self {
            in_flight_bytes,
            store_bytes: total_bytes - in_flight_bytes,
        }
    }
}

async fn bind(args: &ServeArgs, port: u16, what: &str) -> Result<TcpListener> {
    let addr = SocketAddr::new(args.bind, port);
    TcpListener::bind(addr).await.with_context(|| {
        format!("binding the {what} listener on {addr} (port in use? choose another with the --*-port options)")
    })
}

fn local(listener: &TcpListener) -> Result<SocketAddr> {
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
    fn the_memory_budget_is_split_a_quarter_for_requests_in_flight() {
        let budget = MemoryBudget::split(512 << 20);
        assert_eq!(budget.in_flight_bytes, 128 << 20);
        assert_eq!(budget.store_bytes, 384 << 20);
        let budget = MemoryBudget::split(0);
        assert_eq!((budget.in_flight_bytes, budget.store_bytes), (0, 0));
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
