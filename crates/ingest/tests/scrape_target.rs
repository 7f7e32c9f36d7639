//! Scrapes a small axum target of our own: series that disappear (staleness
//! markers), honor_labels conflicts, the target's own timestamps, gzip and
//! OpenMetrics bodies with exemplars, a response slower than scrape_timeout
//! (up = 0), a target that stops, and the scrape loop stopping on its watch
//! channel.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use ingest::scrape::{ScrapeStats, Target, TargetScraper};
use model::metrics::{is_stale_nan, Labels, MetricType, Sample};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::series::{Matcher, MemorySeriesStore, Select, SeriesStore};
use tokio::sync::watch;

#[derive(Clone, Default)]
struct Exposed {
    body: String,
    content_type: &'static str,
    gzip: bool,
    delay: Duration,
}

type Shared = Arc<Mutex<Exposed>>;

async fn metrics(State(state): State<Shared>) -> impl IntoResponse {
    let exposed = state.lock().expect("state lock").clone();
    tokio::time::sleep(exposed.delay).await;
    let content_type = if exposed.content_type.is_empty() {
        "text/plain; version=0.0.4"
    } else {
        exposed.content_type
    };
    let mut body = exposed.body.into_bytes();
    let mut headers = vec![(header::CONTENT_TYPE, content_type)];
    if exposed.gzip {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&body).expect("gzip");
        body = encoder.finish().expect("gzip");
        headers.push((header::CONTENT_ENCODING, "gzip"));
    }
    let headers: Vec<(header::HeaderName, String)> = headers
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
    (
        axum::http::StatusCode::OK,
        axum::http::HeaderMap::from_iter(
            headers
                .into_iter()
                .map(|(k, v)| (k, v.parse().expect("header value"))),
        ),
        body,
    )
}

struct TestTarget {
    addr: SocketAddr,
    state: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl TestTarget {
    async fn start(body: &str) -> Self {
        let state: Shared = Arc::new(Mutex::new(Exposed {
            body: body.to_string(),
            ..Exposed::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let addr = listener.local_addr().expect("local addr");
        let app = Router::new()
            .route("/metrics", get(metrics))
            .with_state(Arc::clone(&state));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Self {
            addr,
            state,
            stop: Some(tx),
            task,
        }
    }

    fn set(&self, change: impl FnOnce(&mut Exposed)) {
        change(&mut self.state.lock().expect("state lock"));
    }

    fn target(&self, honor_labels: bool) -> Target {
        let address = self.addr.to_string();
        Target {
            labels: Labels::from_pairs([
                ("job", "test"),
                ("instance", address.as_str()),
                ("env", "ci"),
            ]),
            interval: Duration::from_secs(1),
            timeout: Duration::from_millis(500),
            honor_labels,
            ..Target::new("test", &address)
        }
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
    }
}

fn samples(store: &MemorySeriesStore, name: &str) -> Vec<(Labels, Vec<Sample>)> {
    store
        .select(&Select {
            matchers: vec![Matcher::equal("__name__", name)],
            start_ms: i64::MIN,
            end_ms: i64::MAX,
            max_samples: 0,
        })
        .expect("select")
        .into_iter()
        .map(|s| (s.labels, s.samples))
        .collect()
}

fn values(store: &MemorySeriesStore, name: &str) -> Vec<f64> {
    let series = samples(store, name);
    assert_eq!(series.len(), 1, "one series {name}: {series:?}");
    series[0].1.iter().map(|s| s.value).collect()
}

fn scraper(target: Target) -> (Arc<MemorySeriesStore>, TargetScraper) {
    let store = Arc::new(MemorySeriesStore::new());
    let dyn_store: Arc<dyn SeriesStore> = store.clone();
    let scraper = TargetScraper::new(target, dyn_store, Arc::new(ScrapeStats::default()));
    (store, scraper)
}

#[tokio::test]
async fn series_that_disappear_get_staleness_markers() {
    let server = TestTarget::start("# TYPE a gauge\na 1\nb{x=\"1\"} 2\n").await;
    let (store, mut scraper) = scraper(server.target(false));
    let first = scraper.scrape_once().await;
    assert_eq!(first.error, None);
    assert_eq!((first.samples_scraped, first.series_added), (2, 2));
    tokio::time::sleep(Duration::from_millis(5)).await;
    server.set(|e| e.body = "a 3\n".into());
    let second = scraper.scrape_once().await;
    assert_eq!(
        (
            second.samples_scraped,
            second.series_added,
            second.stale_markers
        ),
        (1, 0, 1)
    );

    let b = samples(&store, "b");
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].0.get("x"), Some("1"));
    assert_eq!(b[0].0.get("env"), Some("ci"));
    let points = &b[0].1;
    assert_eq!(points.len(), 2);
    assert_eq!(points[0].value, 2.0);
    assert!(is_stale_nan(points[1].value));
    assert_eq!(points[1].timestamp_ms, second.timestamp_ms);
    assert_eq!(values(&store, "a"), [1.0, 3.0]);
    assert_eq!(values(&store, "up"), [1.0, 1.0]);
    assert_eq!(values(&store, "scrape_samples_scraped"), [2.0, 1.0]);
    assert_eq!(
        values(&store, "scrape_samples_post_metric_relabeling"),
        [2.0, 1.0]
    );
    assert_eq!(values(&store, "scrape_series_added"), [2.0, 0.0]);
    assert!(values(&store, "scrape_duration_seconds")
        .iter()
        .all(|d| *d > 0.0 && *d < 1.0));
    let up = &samples(&store, "up")[0].0;
    assert_eq!(up.get("job"), Some("test"));
    assert_eq!(up.get("instance"), Some(server.addr.to_string().as_str()));
    assert_eq!(up.get("env"), Some("ci"));
    let meta = store.metadata().expect("metadata");
    assert_eq!(meta.len(), 1);
    assert_eq!(
        (meta[0].metric_family_name.as_str(), meta[0].metric_type),
        ("a", MetricType::Gauge)
    );
    server.stop().await;
}

#[tokio::test]
async fn honor_labels_decides_who_wins_a_conflict() {
    let body = "m{job=\"pushed\",instance=\"elsewhere\",env=\"ci\"} 1\n";
    let server = TestTarget::start(body).await;
    let instance = server.addr.to_string();

    let (store, mut plain) = scraper(server.target(false));
    assert_eq!(plain.scrape_once().await.error, None);
    let m = &samples(&store, "m")[0].0;
    assert_eq!(m.get("job"), Some("test"));
    assert_eq!(m.get("exported_job"), Some("pushed"));
    assert_eq!(m.get("instance"), Some(instance.as_str()));
    assert_eq!(m.get("exported_instance"), Some("elsewhere"));
    // Same value on both sides: nothing to export.
    assert_eq!((m.get("env"), m.get("exported_env")), (Some("ci"), None));

    let (store, mut honoring) = scraper(server.target(true));
    assert_eq!(honoring.scrape_once().await.error, None);
    let m = &samples(&store, "m")[0].0;
    assert_eq!(m.get("job"), Some("pushed"));
    assert_eq!(m.get("instance"), Some("elsewhere"));
    assert_eq!(m.get("exported_job"), None);
    // The synthetic series always carry the target's labels.
    let up = &samples(&store, "up")[0].0;
    assert_eq!(up.get("job"), Some("test"));
    server.stop().await;
}

#[tokio::test]
async fn the_targets_own_timestamps_are_kept_and_never_marked_stale() {
    let server = TestTarget::start("t 5 1700000000000\nu 6\n").await;
    let (store, mut scraper_a) = scraper(server.target(false));
    let first = scraper_a.scrape_once().await;
    assert_eq!(first.error, None);
    assert_eq!(
        samples(&store, "t")[0].1,
        [Sample {
            timestamp_ms: 1_700_000_000_000,
            value: 5.0
        }]
    );
    assert_eq!(
        samples(&store, "u")[0].1[0].timestamp_ms,
        first.timestamp_ms
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    server.set(|e| e.body = String::new());
    let second = scraper_a.scrape_once().await;
    assert_eq!(second.stale_markers, 1, "only u, which had no timestamp");
    assert_eq!(samples(&store, "t")[0].1.len(), 1);
    assert!(is_stale_nan(samples(&store, "u")[0].1[1].value));

    // honor_timestamps: false stamps everything with the scrape time.
    server.set(|e| e.body = "t 5 1700000000000\n".into());
    let mut target = server.target(false);
    target.honor_timestamps = false;
    let (store, mut scraper_b) = scraper(target);
    let outcome = scraper_b.scrape_once().await;
    assert_eq!(
        samples(&store, "t")[0].1[0].timestamp_ms,
        outcome.timestamp_ms
    );
    server.stop().await;
}

#[tokio::test]
async fn gzip_openmetrics_with_exemplars_is_read() {
    let body = concat!(
        "# TYPE rpc_seconds histogram\n",
        "# UNIT rpc_seconds seconds\n",
        "# HELP rpc_seconds RPC latency.\n",
        "rpc_seconds_bucket{le=\"0.5\"} 3 # {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\"} 0.25 1700000000.5\n",
        "rpc_seconds_bucket{le=\"+Inf\"} 4\n",
        "rpc_seconds_sum 1.5\n",
        "rpc_seconds_count 4\n",
        "# EOF\n",
    );
    let server = TestTarget::start(body).await;
    server.set(|e| {
        e.gzip = true;
        e.content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    });
    let (store, mut scraper) = scraper(server.target(false));
    let outcome = scraper.scrape_once().await;
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.samples_scraped, 4);
    let meta = store.metadata().expect("metadata");
    assert_eq!(meta.len(), 1);
    assert_eq!(meta[0].metric_family_name, "rpc_seconds");
    assert_eq!(meta[0].metric_type, MetricType::Histogram);
    assert_eq!(
        (meta[0].unit.as_str(), meta[0].help.as_str()),
        ("seconds", "RPC latency.")
    );
    let exemplars = store
        .exemplars(
            &[vec![Matcher::equal("__name__", "rpc_seconds_bucket")]],
            i64::MIN,
            i64::MAX,
        )
        .expect("exemplars");
    assert_eq!(exemplars.len(), 1);
    let exemplar = &exemplars[0].exemplars[0];
    assert_eq!(
        exemplar.labels.get("trace_id"),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert_eq!(
        (exemplar.value, exemplar.timestamp_ms),
        (0.25, 1_700_000_000_500)
    );
    assert_eq!(exemplars[0].labels.get("job"), Some("test"));

    // A body cut short of "# EOF" fails the scrape and names the problem.
    server.set(|e| e.body = "rpc_seconds_count 5\n".into());
    let outcome = scraper.scrape_once().await;
    let error = outcome.error.expect("missing EOF fails");
    assert!(error.contains("# EOF"), "{error}");
    assert_eq!(outcome.stale_markers, 4);
    assert_eq!(values(&store, "up"), [1.0, 0.0]);
    server.stop().await;
}

#[tokio::test]
async fn a_response_slower_than_the_timeout_is_a_failed_scrape() {
    let server = TestTarget::start("a 1\n").await;
    let (store, mut scraper) = scraper(server.target(false));
    assert_eq!(scraper.scrape_once().await.error, None);
    server.set(|e| e.delay = Duration::from_secs(2));
    let started = std::time::Instant::now();
    let outcome = scraper.scrape_once().await;
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    let error = outcome.error.expect("timed out");
    assert!(error.contains("timed out after 500ms"), "{error}");
    assert_eq!(values(&store, "up"), [1.0, 0.0]);
    assert_eq!(values(&store, "scrape_samples_scraped"), [1.0, 0.0]);
    let a = &samples(&store, "a")[0].1;
    assert!(is_stale_nan(a[1].value));
    // Fast again: up again, on a new connection.
    server.set(|e| e.delay = Duration::ZERO);
    assert_eq!(scraper.scrape_once().await.error, None);
    assert_eq!(values(&store, "up"), [1.0, 0.0, 1.0]);
    server.stop().await;
}

#[tokio::test]
async fn a_target_that_stops_goes_down_and_its_series_go_stale() {
    let server = TestTarget::start("a 1\nb 2\n").await;
    let (store, mut scraper) = scraper(server.target(false));
    assert_eq!(scraper.scrape_once().await.error, None);
    server.stop().await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let outcome = scraper.scrape_once().await;
    assert!(outcome.error.is_some());
    assert_eq!(outcome.stale_markers, 2);
    assert_eq!(values(&store, "up"), [1.0, 0.0]);
    assert!(is_stale_nan(values(&store, "b")[1]));
    // Down again: nothing left to mark.
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(scraper.scrape_once().await.stale_markers, 0);
}

#[tokio::test]
async fn the_scrape_loop_runs_on_its_interval_and_stops_on_the_watch_channel() {
    let server = TestTarget::start("a 1\n").await;
    let mut target = server.target(false);
    target.interval = Duration::from_millis(200);
    target.timeout = Duration::from_millis(100);
    let store = Arc::new(MemorySeriesStore::new());
    let dyn_store: Arc<dyn SeriesStore> = store.clone();
    let stats = Arc::new(ScrapeStats::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let tasks = ingest::scrape::spawn_scrapers(vec![target], &dyn_store, &stats, &stop_rx);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(stats.snapshot().targets, 1);
    assert_eq!(stats.snapshot().targets_up, 1);
    stop_tx.send(true).expect("scrapers listen");
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(2), task)
            .await
            .expect("stops promptly")
            .expect("no panic");
    }
    let ups = values(&store, "up");
    assert!((3..=6).contains(&ups.len()), "{ups:?}");
    let snapshot = stats.snapshot();
    assert_eq!(snapshot.targets, 0);
    assert_eq!(snapshot.scrapes, ups.len() as u64);
    assert_eq!(snapshot.failures, 0);
    server.stop().await;
}

#[tokio::test]
async fn sample_and_body_size_limits_fail_the_scrape() {
    let server = TestTarget::start("a 1\nb 2\nc 3\n").await;
    let mut target = server.target(false);
    target.sample_limit = 2;
    let (store, mut limited) = scraper(target);
    let outcome = limited.scrape_once().await;
    let error = outcome.error.expect("over sample_limit");
    assert!(
        error.contains("sample_limit exceeded: 3 samples, the limit is 2"),
        "{error}"
    );
    assert!(samples(&store, "a").is_empty());
    assert_eq!(values(&store, "up"), [0.0]);

    let mut target = server.target(false);
    target.body_size_limit = 8;
    let (_, mut small) = scraper(target.clone());
    let error = small
        .scrape_once()
        .await
        .error
        .expect("over body_size_limit");
    assert!(error.contains("body_size_limit is 8 bytes"), "{error}");
    // The limit holds after gzip too.
    server.set(|e| {
        e.gzip = true;
        e.body = "a 1\n".repeat(1000);
    });
    target.body_size_limit = 1000;
    let (_, mut gzipped) = scraper(target);
    let error = gzipped
        .scrape_once()
        .await
        .error
        .expect("over the limit once unzipped");
    assert!(error.contains("once decompressed"), "{error}");
    server.stop().await;
}
