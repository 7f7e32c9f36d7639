//! Real OpenMetrics: Debian's `python3-prometheus-client` (the official
//! Python client) serving a registry with every family type, exemplars,
//! units and escapes, read as OpenMetrics and as the text format (it
//! negotiates by Accept), and scraped with exemplars kept. Prometheus 2.42's
//! own `/metrics` speaks only the text format (see `scrape_prometheus.rs`).

use ingest::exposition::{parse, Exposition, Format, ACCEPT_HEADER};
use ingest::scrape::{ScrapeStats, Target, TargetScraper};
use model::metrics::{is_stale_nan, Labels, MetricType};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::series::{Matcher, MemorySeriesStore, Select, SeriesStore};

const PYTHON: &str = "/usr/bin/python3";

const APP: &str = r#"
import sys, time
from prometheus_client import Counter, Enum, Gauge, Histogram, Info, Summary, start_http_server
jobs = Counter("jobs", 'Jobs "done".\nSecond line \\ here.', ["queue"])
jobs.labels(queue='a "quoted"\nname\\x').inc(3, exemplar={"trace_id": "abc123"})
latency = Histogram("request_latency_seconds", "Latency.", buckets=[0.1, 0.5])
latency.observe(0.3, exemplar={"trace_id": "def456", "span_id": "0011"})
Gauge("temperature", "Temperature.", unit="celsius").set(float("-inf"))
Info("build", "Build info.").info({"version": "1.2"})
Enum("state", "State.", states=["up", "down"]).state("up")
Summary("payload_bytes", "Payload.").observe(512)
start_http_server(int(sys.argv[1]), addr="127.0.0.1")
while True:
    time.sleep(1)
"#;

/// The Python client's HTTP server on a free port; killed on drop.
struct PythonTarget {
    child: Child,
    addr: SocketAddr,
}

impl PythonTarget {
    fn start() -> Self {
        let ok = Command::new(PYTHON)
            .args(["-c", "import prometheus_client"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "{PYTHON} cannot import prometheus_client: apt-get install python3-prometheus-client (dev/test does)"
        );
        let addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let child = Command::new(PYTHON)
            .args(["-c", APP, &addr.port().to_string()])
            .stdout(Stdio::null())
            .spawn()
            .expect("start the python target");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "python target did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, addr }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PythonTarget {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn get(addr: SocketAddr, accept: &str) -> (Format, Exposition) {
    let response = reqwest::Client::new()
        .get(format!("http://{addr}/metrics"))
        .header("Accept", accept)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("GET /metrics");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let format = Format::from_content_type(content_type.as_deref());
    let body = response.bytes().await.expect("body");
    let parsed =
        parse(&body, format).unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&body)));
    (format, parsed)
}

fn meta<'a>(e: &'a Exposition, name: &str) -> &'a model::metrics::MetricMetadata {
    e.metadata
        .iter()
        .find(|m| m.metric_family_name == name)
        .unwrap_or_else(|| panic!("no family {name}: {:?}", e.metadata))
}

fn sample<'a>(e: &'a Exposition, name: &str) -> &'a ingest::exposition::ScrapedSample {
    e.samples
        .iter()
        .find(|s| s.labels.metric_name() == Some(name))
        .unwrap_or_else(|| panic!("no sample {name}"))
}

#[tokio::test]
async fn the_python_client_parses_as_openmetrics_and_as_text() {
    let target = PythonTarget::start();
    let (format, om) = get(target.addr, ACCEPT_HEADER).await;
    assert_eq!(format, Format::OpenMetrics);
    let (format, text) = get(target.addr, "text/plain;version=0.0.4").await;
    assert_eq!(format, Format::PrometheusText);

    // OpenMetrics: counter family without _total, exemplars, units, _created.
    let jobs = meta(&om, "jobs");
    assert_eq!(jobs.metric_type, MetricType::Counter);
    assert_eq!(jobs.help, "Jobs \"done\".\nSecond line \\ here.");
    let total = sample(&om, "jobs_total");
    assert_eq!(total.labels.get("queue"), Some("a \"quoted\"\nname\\x"));
    assert_eq!(total.value, 3.0);
    let exemplar = total.exemplar.as_ref().expect("counter exemplar");
    assert_eq!(exemplar.labels.get("trace_id"), Some("abc123"));
    assert!(exemplar.timestamp_ms.is_some());
    assert!(sample(&om, "jobs_created").value > 1.6e9);
    assert_eq!(
        meta(&om, "request_latency_seconds").metric_type,
        MetricType::Histogram
    );
    let bucket = om
        .samples
        .iter()
        .find(|s| s.labels.get("le") == Some("0.5"))
        .expect("le=0.5 bucket");
    let exemplar = bucket.exemplar.as_ref().expect("bucket exemplar");
    assert_eq!(exemplar.labels.get("span_id"), Some("0011"));
    assert_eq!(exemplar.value, 0.3);
    let temperature = meta(&om, "temperature_celsius");
    assert_eq!(
        (temperature.metric_type, temperature.unit.as_str()),
        (MetricType::Gauge, "celsius")
    );
    assert_eq!(sample(&om, "temperature_celsius").value, f64::NEG_INFINITY);
    assert_eq!(meta(&om, "build").metric_type, MetricType::Info);
    assert_eq!(sample(&om, "build_info").labels.get("version"), Some("1.2"));
    assert_eq!(meta(&om, "state").metric_type, MetricType::Stateset);
    assert_eq!(meta(&om, "payload_bytes").metric_type, MetricType::Summary);

    // Text: the same values, help and label escapes; no exemplars.
    let jobs = meta(&text, "jobs_total");
    assert_eq!(jobs.metric_type, MetricType::Counter);
    assert_eq!(jobs.help, "Jobs \"done\".\nSecond line \\ here.");
    let total = sample(&text, "jobs_total");
    assert_eq!(total.labels.get("queue"), Some("a \"quoted\"\nname\\x"));
    assert_eq!(total.exemplar, None);
    assert_eq!(
        sample(&text, "temperature_celsius").value,
        f64::NEG_INFINITY
    );
    assert!(text.samples.iter().all(|s| s.exemplar.is_none()));
    // Every series of the text format is in the OpenMetrics answer too.
    let series = |e: &Exposition| -> std::collections::BTreeSet<Labels> {
        e.samples.iter().map(|s| s.labels.clone()).collect()
    };
    let (om_series, text_series) = (series(&om), series(&text));
    let missing: Vec<&Labels> = text_series.difference(&om_series).collect();
    assert!(missing.is_empty(), "only in the text format: {missing:?}");
}

#[tokio::test]
async fn scraping_the_python_client_keeps_exemplars_until_it_stops() {
    let mut python = PythonTarget::start();
    let address = python.addr.to_string();
    let target = Target {
        interval: Duration::from_secs(15),
        ..Target::new("python", &address)
    };
    let store = Arc::new(MemorySeriesStore::new());
    let dyn_store: Arc<dyn SeriesStore> = store.clone();
    let mut scraper = TargetScraper::new(target, dyn_store, Arc::new(ScrapeStats::default()));
    let outcome = scraper.scrape_once().await;
    assert_eq!(outcome.error, None);
    let exemplars = store
        .exemplars(
            &[vec![Matcher::equal("__name__", "jobs_total")]],
            i64::MIN,
            i64::MAX,
        )
        .expect("exemplars");
    assert_eq!(exemplars.len(), 1);
    assert_eq!(exemplars[0].labels.get("job"), Some("python"));
    assert_eq!(
        exemplars[0].exemplars[0].labels.get("trace_id"),
        Some("abc123")
    );
    let metadata = store.metadata().expect("metadata");
    assert!(metadata
        .iter()
        .any(|m| m.metric_family_name == "temperature_celsius" && m.unit == "celsius"));

    python.stop();
    let down = scraper.scrape_once().await;
    assert!(down.error.is_some());
    assert_eq!(down.stale_markers, outcome.samples_scraped);
    let jobs = store
        .select(&Select {
            matchers: vec![Matcher::equal("__name__", "jobs_total")],
            start_ms: i64::MIN,
            end_ms: i64::MAX,
            max_samples: 0,
        })
        .expect("select");
    assert!(is_stale_nan(jobs[0].samples[1].value));
}
