//! `whyslow agent`: host metrics with node_exporter's names, per-process
//! metrics with process-exporter's and per-cgroup metrics with cAdvisor's
//! (the `host` crate's collectors), served in the Prometheus text format at
//! `http://--listen/metrics` (collected on each scrape, as node_exporter
//! does) and, with `--server`, pushed every `--interval` by remote_write
//! ([`crate::agent_push`]) with the series a Prometheus scrape adds (`up`,
//! `scrape_duration_seconds`, `scrape_samples_*`); on Ctrl-C or SIGTERM the
//! pushed series are marked stale, as Prometheus marks a vanished target's.
//!
//! One current-thread tokio runtime; collection (blocking file reads and
//! statfs) runs on its blocking pool, one collection at a time. A collector
//! whose source is missing or broken is logged once (and again after it
//! recovers and fails anew); `node_scrape_collector_success` says so per scrape.
//!
//! `--token-file` makes every push carry `Authorization: Bearer TOKEN`;
//! `--auth-file` asks readers of `--listen` for a read token.
//!
//! TLS: `--tls-cert`/`--tls-key` (and `--tls-client-ca`) make `--listen`
//! https, reloaded on SIGHUP or file change (`listen_tls.rs`); an https://
//! `--server` is trusted through `--tls-ca` (else the public roots), with
//! `--tls-client-cert`/`--tls-client-key` for a server that wants one.

use crate::agent_push::{Pushed, Pusher};
use crate::cli::AgentArgs;
use crate::http_post::Endpoint;
use anyhow::{bail, Context, Result};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use host::{Extra, Family, Host, Kind, Paths};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// `whyslow agent --help` examples.
pub const AFTER_HELP: &str = "Examples:\n  whyslow agent                                   # http://127.0.0.1:9469/metrics for Prometheus\n  whyslow agent --server http://127.0.0.1:16686   # and push to `whyslow serve` every 10 s\n  whyslow agent --listen off --server http://127.0.0.1:16686 --interval 15s\n  whyslow agent --server https://serve.example:16686 --tls-ca ca.pem   # serve with --tls-cert\n\nMetric names, labels and units are node_exporter's (cpu, meminfo, loadavg, pressure,\ndiskstats, filesystem, netdev, netstat, vmstat, stat, filefd, uname collectors), so\nits dashboards and alert rules work unchanged; per-process metrics are process-exporter's\n(namedprocess_namegroup_*, grouped by command name) and per-cgroup metrics cAdvisor's\n(container_*{id=\"/system.slice/x.service\"}). Pushed series carry job=\"node\" and\ninstance=<hostname:port>.";

/// The collectors and which of them have been reported failing.
struct Collector {
    host: Host,
    warned: HashSet<&'static str>,
}

impl Collector {
    fn collect(&mut self) -> Vec<Family> {
        let collected = self.host.collect();
        let failing: HashSet<&'static str> = collected.errors.iter().map(|(n, _)| *n).collect();
        for (name, error) in &collected.errors {
            if self.warned.insert(name) {
                eprintln!(
                    "whyslow agent: collector {name}: {error} (its metrics are left out; node_scrape_collector_success{{collector=\"{name}\"}} is 0)"
                );
            }
        }
        self.warned.retain(|name| failing.contains(name));
        collected.families
    }
}

type Shared = Arc<Mutex<Collector>>;

/// Runs the agent until Ctrl-C or SIGTERM.
pub fn run(args: AgentArgs) -> Result<()> {
    let listen = match args.listen.trim() {
        "off" | "" => None,
        text => Some(text.parse::<SocketAddr>().with_context(|| {
            format!("--listen {text}: expected ADDR:PORT such as 127.0.0.1:9469, or off")
        })?),
    };
    if listen.is_none() && args.server.is_none() {
        bail!("--listen off without --server leaves the agent nothing to do: give --server URL or a --listen address");
    }
    if listen.is_none() && args.tls.tls_cert.is_some() {
        bail!("--tls-cert and --tls-key are for --listen, which is off: leave them out or give --listen ADDR:PORT");
    }
    // A bad URL, token, auth or TLS file is refused before anything is bound.
    let access = Access::from_args(&args, listen)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .max_blocking_threads(2)
        .thread_keep_alive(Duration::from_secs(60))
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(agent(args, access))
}

/// Where the agent listens and with which credentials and TLS it talks.
struct Access {
    listen: Option<SocketAddr>,
    /// TLS for `--listen`.
    listen_tls: Option<tls::ServerTls>,
    /// Asks readers of `--listen` for a read token.
    gate: Option<Arc<gate::Gate>>,
    /// `--server` (with its TLS and `Authorization` header) and the path it names.
    server: Option<(Endpoint, Option<String>)>,
}

impl Access {
    /// Reads `--server` with its TLS files and `--token-file`, `--auth-file`
    /// and `--listen`'s TLS files; warns when `--listen` takes anyone.
    fn from_args(args: &AgentArgs, listen: Option<SocketAddr>) -> Result<Access> {
        let server = match &args.server {
            Some(url) => Some(server_endpoint(url, args)?),
            None => None,
        };
        let gate = match &args.auth_file {
            Some(path) => Some(crate::access::load_gate(
                path,
                gate::GateOptions {
                    secure_cookies: args.tls.tls_cert.is_some(),
                    ..gate::GateOptions::default()
                },
            )?),
            None => None,
        };
        let listen_tls = crate::listen_tls::load(&args.tls, " agent")?;
        if let Some(addr) = listen {
            if crate::access::open_beyond_loopback(addr.ip(), gate.is_some())
                && !args.insecure_allow_anonymous
            {
                crate::access::warn_open("whyslow agent", "--listen serves /metrics", addr.ip());
            }
        }
        Ok(Access {
            listen,
            listen_tls,
            gate,
            server,
        })
    }
}

/// `--server URL` with the TLS files an https:// URL uses and the
/// `--token-file` token, and its path.
fn server_endpoint(url: &str, args: &AgentArgs) -> Result<(Endpoint, Option<String>)> {
    if let Some(key) = &args.tls_client_key {
        crate::access::warn_if_anyone_may_read("--tls-client-key", key);
    }
    let files = tls::ClientFiles {
        ca: args.tls_ca.clone(),
        identity: args
            .tls_client_cert
            .clone()
            .zip(args.tls_client_key.clone()),
    };
    let (endpoint, path) = Endpoint::from_url(url, &files)?;
    let authorization = match &args.token_file {
        Some(path) => Some(format!("Bearer {}", crate::access::read_token_file(path)?)),
        None => None,
    };
    Ok((
        endpoint.with_authorization(authorization),
        path.map(str::to_string),
    ))
}

async fn agent(args: AgentArgs, access: Access) -> Result<()> {
    let Access {
        listen,
        listen_tls,
        gate,
        server: server_endpoint,
    } = access;
    let mut host = Host::new(Paths::default());
    if args.gather_smaps {
        host = host.with(Extra::ProcessesWithSmaps);
    } else if !args.no_process_metrics {
        host = host.with(Extra::Processes);
    }
    if !args.no_cgroup_metrics {
        host = host.with(Extra::Cgroups);
    }
    let shared: Shared = Arc::new(Mutex::new(Collector {
        host,
        warned: HashSet::new(),
    }));
    let mut server = None;
    let mut port = None;
    if let Some(addr) = listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("--listen {addr}: cannot bind (is another agent or node_exporter on it? pick another port)"))?;
        let listener = crate::listen_tls::listener(
            listener,
            listen_tls.as_ref(),
            tls::Alpn::Http1,
            "agent /metrics",
        )?;
        let local = listener
            .local_addr()
            .context("reading the listener's address")?;
        port = Some(local.port());
        eprintln!(
            "whyslow agent: serving host metrics at {}://{local}/metrics",
            listener.scheme()
        );
        let mut router = Router::new()
            .route("/metrics", get(metrics))
            .route("/", get(index))
            .with_state(Arc::clone(&shared));
        if let Some(gate) = &gate {
            router = gate.protect(router, gate::Permission::Read);
        }
        let router = gate::security_headers(router);
        server = Some(tokio::spawn(async move {
            // The peer address is what the gate's failure limiter counts by.
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<tls::Peer>(),
            )
            .await
        }));
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let reload = listen_tls.as_ref().map(|server| {
        let mut stop = stop_rx.clone();
        crate::listen_tls::spawn_reload(server, " agent", async move {
            let _ = stop.wait_for(|stop| *stop).await;
        })
    });
    let pusher = match &server_endpoint {
        Some((endpoint, path)) => {
            let instance = args.instance.clone().unwrap_or_else(|| {
                let host = host::hostname();
                port.map_or(host.clone(), |p| format!("{host}:{p}"))
            });
            let pusher = Pusher::new(endpoint, path.as_deref(), instance.clone());
            eprintln!(
                "whyslow agent: pushing to {}{} every {:?} as job=\"node\", instance=\"{instance}\"",
                endpoint.base_url(),
                path.as_deref().unwrap_or("/api/v1/write"),
                args.interval
            );
            Some(tokio::spawn(push_loop(
                pusher,
                Arc::clone(&shared),
                args.interval,
                stop_rx.clone(),
            )))
        }
        None => None,
    };
    let profiling = match (&server_endpoint, args.no_profile) {
        (Some((endpoint, _)), false) => Some(start_profiling(&args, endpoint, stop_rx.clone())?),
        (None, false) => {
            eprintln!("whyslow agent: not profiling: there is no --server to ship profiles to");
            None
        }
        (_, true) => None,
    };
    let signal = tokio::select! {
        signal = shutdown_signal() => signal,
        Some(result) = async { match server.as_mut() { Some(s) => Some(s.await), None => None } } => {
            result.context("the /metrics server stopped")?.context("the /metrics server failed")?;
            "server stopped"
        }
    };
    eprintln!("whyslow agent: {signal}, stopping");
    let _ = stop_tx.send(true);
    if let Some(reload) = reload {
        let _ = reload.await;
    }
    if let Some(profiling) = profiling {
        profiling
            .stop
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = tokio::task::spawn_blocking(move || profiling.thread.join()).await;
        let _ = profiling.shipper.await;
        eprintln!("whyslow agent: {}", profiling.shipping.summary());
    }
    if let Some(mut pusher) = pusher {
        // Let it mark the series stale (a few seconds at most), as Prometheus
        // does when a target goes away.
        if tokio::time::timeout(Duration::from_secs(5), &mut pusher)
            .await
            .is_err()
        {
            pusher.abort();
        }
    }
    Ok(())
}

/// The running profiler thread and the task shipping its profiles.
struct Profiling {
    shipping: Arc<crate::agent_profile::Shipping>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
    shipper: tokio::task::JoinHandle<()>,
}

/// Starts continuous profiling shipped to `endpoint`.
fn start_profiling(
    args: &AgentArgs,
    endpoint: &Endpoint,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<Profiling> {
    let shipping = Arc::new(crate::agent_profile::Shipping::default());
    let stop_flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let options = crate::agent_profile::ProfileOptions {
        hz: args.profile_hz,
        off_cpu: args.off_cpu,
        interval: args.profile_interval,
        host: host::hostname(),
    };
    eprintln!(
        "whyslow agent: profiling every CPU at {} Hz{}, shipping every {:?} to {}/push.v1.PusherService/Push",
        args.profile_hz,
        if args.off_cpu { " with off-CPU time" } else { "" },
        args.profile_interval,
        endpoint.base_url()
    );
    let thread = crate::agent_profile::start_profiler(
        options,
        Arc::clone(&shipping),
        Arc::clone(&stop_flag),
    )?;
    let shipper = tokio::spawn(crate::agent_profile::ship(
        endpoint.clone(),
        Arc::clone(&shipping),
        stop,
        Duration::from_secs(5),
    ));
    Ok(Profiling {
        shipping,
        stop: stop_flag,
        thread,
        shipper,
    })
}

/// Collects on the blocking pool (file reads, statfs with its own timeout).
async fn collect(shared: Shared) -> Vec<Family> {
    tokio::task::spawn_blocking(move || match shared.lock() {
        Ok(mut collector) => collector.collect(),
        Err(poisoned) => poisoned.into_inner().collect(),
    })
    .await
    .unwrap_or_default()
}

async fn metrics(State(shared): State<Shared>) -> impl IntoResponse {
    let families = collect(shared).await;
    let mut text = String::with_capacity(64 * 1024);
    host::write_text(&families, &mut text);
    ([(header::CONTENT_TYPE, host::TEXT_CONTENT_TYPE)], text)
}

async fn index() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<html><head><title>whyslow agent</title></head><body><h1>whyslow agent</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>",
    )
}

/// Pushes every `interval` until `stop`; then pushes staleness markers for the
/// last series pushed so queries stop returning them at once.
async fn push_loop(
    mut pusher: Pusher,
    shared: Shared,
    interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    let mut last: Option<Vec<Family>> = None;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => break,
        }
        let start = Instant::now();
        let mut families = collect(Arc::clone(&shared)).await;
        scrape_series(&mut families, start.elapsed());
        match pusher.push(&families, now_ms(), interval).await {
            Pushed::Accepted => {
                if failing {
                    eprintln!("whyslow agent: pushing again");
                }
                failing = false;
                last = Some(families);
            }
            Pushed::Dropped(why) => {
                if !failing {
                    eprintln!(
                        "whyslow agent: dropped a batch: {why} (will keep trying every interval)"
                    );
                }
                failing = true;
            }
        }
    }
    if let Some(mut families) = last {
        for sample in families.iter_mut().flat_map(|f| f.samples.iter_mut()) {
            sample.value = model::metrics::stale_nan();
        }
        let _ = pusher
            .push(&families, now_ms(), Duration::from_secs(3))
            .await;
    }
}

/// The series Prometheus adds to every scrape: `up`, `scrape_duration_seconds`,
/// `scrape_samples_scraped`, `scrape_samples_post_metric_relabeling`.
fn scrape_series(families: &mut Vec<Family>, took: Duration) {
    let samples = families.iter().map(|f| f.samples.len()).sum::<usize>() as f64;
    families.push(Family::single(
        "up",
        "Health of the scrape target.",
        Kind::Gauge,
        1.0,
    ));
    families.push(Family::single(
        "scrape_duration_seconds",
        "Duration of the scrape.",
        Kind::Gauge,
        took.as_secs_f64(),
    ));
    for name in [
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
    ] {
        families.push(Family::single(
            name,
            "Samples in the scrape.",
            Kind::Gauge,
            samples,
        ));
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Waits for Ctrl-C or SIGTERM and names which one came.
async fn shutdown_signal() -> &'static str {
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
