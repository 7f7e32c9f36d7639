//! Parses and scrapes the real thing: Debian's `/usr/bin/prometheus` 2.42 (no
//! scrape jobs of its own) serving its `/metrics`, asked for OpenMetrics
//! first and for the text format, then scraped into a `MemorySeriesStore`
//! until it is stopped (up = 0, staleness markers for all its series).
//! Prometheus 2.42 answers its own `/metrics` in the text format even when
//! OpenMetrics is asked for first (its handler does not enable OpenMetrics),
//! so both requests must be read by Content-Type; real OpenMetrics comes from
//! the Python client in `scrape_python_client.rs`.

use ingest::exposition::{parse, Format};
use ingest::scrape::{ScrapeStats, Target, TargetScraper};
use model::metrics::{is_stale_nan, Labels, MetricType};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::series::{Matcher, MemorySeriesStore, Select, SeriesQuery, SeriesStore};

const PROMETHEUS: &str = "/usr/bin/prometheus";

/// A Prometheus process on a free port; killed on drop.
struct Prometheus {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start() -> Self {
        assert!(
            std::path::Path::new(PROMETHEUS).exists(),
            "{PROMETHEUS} is missing: install Debian's prometheus package (dev/test does)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            "global:\n  scrape_interval: 1m\nscrape_configs: []\n",
        )
        .expect("write config");
        let addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let child = Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus");
        let prometheus = Self {
            child,
            addr,
            _dir: dir,
        };
        prometheus.wait_ready();
        prometheus
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(self.addr).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("prometheus did not listen on {} within 30 s", self.addr);
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn get(addr: SocketAddr, accept: &str) -> (String, Vec<u8>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let response = client
        .get(format!("http://{addr}/metrics"))
        .header("Accept", accept)
        .send()
        .await
        .expect("GET /metrics");
    assert!(response.status().is_success());
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (content_type, response.bytes().await.expect("body").to_vec())
}

fn family<'a>(
    metadata: &'a [model::metrics::MetricMetadata],
    name: &str,
) -> &'a model::metrics::MetricMetadata {
    metadata
        .iter()
        .find(|m| m.metric_family_name == name)
        .unwrap_or_else(|| panic!("no family {name}"))
}

#[tokio::test]
async fn prometheus_own_metrics_parse_whichever_format_is_asked_for() {
    let prometheus = Prometheus::start();
    // Request metrics (the latency histogram) have series once a request was served.
    let _ = get(prometheus.addr, "text/plain").await;
    let mut parsed = Vec::new();
    for accept in [
        ingest::exposition::ACCEPT_HEADER,
        "text/plain;version=0.0.4",
    ] {
        let (content_type, body) = get(prometheus.addr, accept).await;
        let format = Format::from_content_type(Some(&content_type));
        assert_eq!(format, Format::PrometheusText, "{content_type}");
        parsed.push(parse(&body, format).expect("Prometheus's /metrics parses"));
    }
    for exposition in &parsed {
        assert!(
            exposition.samples.len() > 200,
            "{}",
            exposition.samples.len()
        );
        let gc = family(&exposition.metadata, "go_gc_duration_seconds");
        assert_eq!(gc.metric_type, MetricType::Summary);
        assert!(!gc.help.is_empty());
        let latency = family(
            &exposition.metadata,
            "prometheus_http_request_duration_seconds",
        );
        assert_eq!(latency.metric_type, MetricType::Histogram);
        assert_eq!(
            family(&exposition.metadata, "prometheus_build_info").metric_type,
            MetricType::Gauge
        );
        // The text format names a counter's family with its _total.
        assert_eq!(
            family(&exposition.metadata, "prometheus_http_requests_total").metric_type,
            MetricType::Counter
        );
        let info = exposition
            .samples
            .iter()
            .find(|s| s.labels.metric_name() == Some("prometheus_build_info"))
            .expect("build info sample");
        assert_eq!(info.labels.get("version"), Some("2.42.0+ds"));
        assert!(exposition.samples.iter().any(|s| {
            s.labels.metric_name() == Some("prometheus_http_request_duration_seconds_bucket")
                && s.labels.get("le") == Some("+Inf")
        }));
        assert!(exposition.samples.iter().any(|s| {
            s.labels.metric_name() == Some("go_gc_duration_seconds")
                && s.labels.get("quantile") == Some("0.5")
        }));
    }
    // The same families either way: Prometheus registers families lazily
    // while it starts (its TSDB, rule and notifier metrics can appear between
    // the two requests on a loaded machine), so compare the types of the
    // families both answers have, and require well over a hundred of them.
    let types = |e: &ingest::exposition::Exposition| {
        e.metadata
            .iter()
            .map(|m| (m.metric_family_name.clone(), m.metric_type))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let (first, second) = (types(&parsed[0]), types(&parsed[1]));
    let common: Vec<_> = first.keys().filter(|k| second.contains_key(*k)).collect();
    assert!(
        common.len() >= 100,
        "{} common of {} and {}",
        common.len(),
        first.len(),
        second.len()
    );
    for name in common {
        assert_eq!(first[name], second[name], "{name}");
    }
}

fn up_values(store: &MemorySeriesStore) -> Vec<(Labels, Vec<f64>)> {
    store
        .select(&Select {
            matchers: vec![Matcher::equal("__name__", "up")],
            start_ms: i64::MIN,
            end_ms: i64::MAX,
            max_samples: 0,
        })
        .expect("select")
        .into_iter()
        .map(|s| (s.labels, s.samples.iter().map(|p| p.value).collect()))
        .collect()
}

#[tokio::test]
async fn scraping_prometheus_until_it_stops() {
    let mut prometheus = Prometheus::start();
    let address = prometheus.addr.to_string();
    let target = Target {
        labels: Labels::from_pairs([
            ("job", "prometheus"),
            ("instance", address.as_str()),
            ("team", "obs"),
        ]),
        interval: Duration::from_secs(15),
        ..Target::new("prometheus", &address)
    };
    let store = Arc::new(MemorySeriesStore::new());
    let dyn_store: Arc<dyn SeriesStore> = store.clone();
    let stats = Arc::new(ScrapeStats::default());
    let mut scraper = TargetScraper::new(target, dyn_store, Arc::clone(&stats));

    let first = scraper.scrape_once().await;
    assert_eq!(first.error, None);
    assert!(first.samples_scraped > 200);
    assert_eq!(first.series_added, first.samples_scraped);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = scraper.scrape_once().await;
    assert_eq!(second.error, None);

    let up = up_values(&store);
    assert_eq!(up.len(), 1);
    assert_eq!(up[0].1, [1.0, 1.0]);
    let labels = &up[0].0;
    assert_eq!(
        (
            labels.get("job"),
            labels.get("instance"),
            labels.get("team")
        ),
        (Some("prometheus"), Some(address.as_str()), Some("obs"))
    );
    // Every scraped series carries the target labels.
    let all = store.series(&SeriesQuery::all()).expect("series");
    assert!(
        all.iter()
            .all(|l| l.get("job") == Some("prometheus")
                && l.get("instance") == Some(address.as_str()))
    );
    let metadata = store.metadata().expect("metadata");
    let requests = metadata
        .iter()
        .find(|m| m.metric_family_name == "prometheus_http_requests_total")
        .expect("counter family");
    assert_eq!(requests.metric_type, MetricType::Counter);
    assert!(metadata
        .iter()
        .any(|m| m.metric_family_name == "go_gc_duration_seconds"
            && m.metric_type == MetricType::Summary));

    prometheus.stop();
    let down = scraper.scrape_once().await;
    assert!(down.error.is_some());
    assert!(
        down.stale_markers >= first.samples_scraped.min(second.samples_scraped) - 5,
        "{} markers for {} series",
        down.stale_markers,
        second.samples_scraped
    );
    assert_eq!(up_values(&store)[0].1, [1.0, 1.0, 0.0]);
    let goroutines = store
        .select(&Select {
            matchers: vec![Matcher::equal("__name__", "go_goroutines")],
            start_ms: i64::MIN,
            end_ms: i64::MAX,
            max_samples: 0,
        })
        .expect("select");
    let last = goroutines[0].samples.last().expect("samples");
    assert!(is_stale_nan(last.value));
    assert_eq!(last.timestamp_ms, down.timestamp_ms);
    let snapshot = stats.snapshot();
    assert_eq!((snapshot.scrapes, snapshot.failures), (3, 1));
}
