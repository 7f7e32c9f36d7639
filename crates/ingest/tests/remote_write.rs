//! Prometheus remote_write 1.0 receiver: a real Prometheus (Debian's
//! `/usr/bin/prometheus`) scraping itself and remote-writing to the receiver,
//! and bad input (malformed protobuf, bad snappy, snappy bombs, invalid
//! names, huge label values, out-of-order samples, overload) answered with a
//! precise 4xx and message while the server keeps serving.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ingest::remote_write::proto::{Label, Sample, TimeSeries, WriteRequest};
use ingest::Limits;
use model::metrics::Labels;
use prost::Message;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::series::{
    Appended, Matcher, MemorySeriesStore, Select, SeriesBatch, SeriesData, SeriesExemplars,
    SeriesQuery, SeriesStats, SeriesStore,
};
use store::StoreError;

/// A [`MemorySeriesStore`] that can be told to refuse writes as overloaded.
#[derive(Default)]
struct Store {
    inner: MemorySeriesStore,
    overloaded: AtomicBool,
}

impl SeriesStore for Store {
    fn append(&self, batch: SeriesBatch) -> Result<Appended, StoreError> {
        if self.overloaded.load(Ordering::SeqCst) {
            return Err(StoreError::Overloaded {
                used_bytes: 600,
                budget_bytes: 512,
                retry_after_ms: 2500,
            });
        }
        self.inner.append(batch)
    }
    fn select(&self, select: &Select) -> Result<Vec<SeriesData>, StoreError> {
        self.inner.select(select)
    }
    fn series(&self, query: &SeriesQuery) -> Result<Vec<Labels>, StoreError> {
        self.inner.series(query)
    }
    fn label_names(&self, query: &SeriesQuery) -> Result<Vec<String>, StoreError> {
        self.inner.label_names(query)
    }
    fn label_values(&self, name: &str, query: &SeriesQuery) -> Result<Vec<String>, StoreError> {
        self.inner.label_values(name, query)
    }
    fn metadata(&self) -> Result<Vec<model::metrics::MetricMetadata>, StoreError> {
        self.inner.metadata()
    }
    fn exemplars(
        &self,
        matcher_sets: &[Vec<Matcher>],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<SeriesExemplars>, StoreError> {
        self.inner.exemplars(matcher_sets, start_ms, end_ms)
    }
    fn stats(&self) -> SeriesStats {
        self.inner.stats()
    }
}

async fn start(store: Arc<Store>, limits: Limits) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, ingest::prometheus_router(store, limits))
            .await
            .unwrap();
    });
    addr
}

fn series(name: &str, extra: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
    let mut labels = vec![Label {
        name: "__name__".into(),
        value: name.into(),
    }];
    labels.extend(extra.iter().map(|(n, v)| Label {
        name: (*n).into(),
        value: (*v).into(),
    }));
    TimeSeries {
        labels,
        samples: samples
            .iter()
            .map(|&(timestamp, value)| Sample { value, timestamp })
            .collect(),
        exemplars: Vec::new(),
    }
}

fn snappy(data: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new().compress_vec(data).unwrap()
}

fn body(timeseries: Vec<TimeSeries>) -> Vec<u8> {
    snappy(
        &WriteRequest {
            timeseries,
            metadata: Vec::new(),
        }
        .encode_to_vec(),
    )
}

async fn post(addr: SocketAddr, body: Vec<u8>) -> (u16, String, String) {
    post_with(addr, body, "application/x-protobuf", "snappy").await
}

async fn post_with(
    addr: SocketAddr,
    body: Vec<u8>,
    content_type: &str,
    encoding: &str,
) -> (u16, String, String) {
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/api/v1/write"))
        .header("content-type", content_type)
        .header("content-encoding", encoding)
        .header("x-prometheus-remote-write-version", "0.1.0")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, response.text().await.unwrap(), retry_after)
}

fn all_series(store: &Store) -> Vec<Labels> {
    store.series(&SeriesQuery::all()).unwrap()
}

#[tokio::test]
async fn valid_writes_are_stored_and_answered_204() {
    let store = Arc::new(Store::default());
    let addr = start(Arc::clone(&store), Limits::default()).await;
    let (status, text, _) = post(
        addr,
        body(vec![
            series("up", &[("job", "a")], &[(1000, 1.0), (2000, 0.0)]),
            series("temp", &[("room", "b")], &[(1000, 21.5)]),
        ]),
    )
    .await;
    assert_eq!((status, text.as_str()), (204, ""));
    let data = store
        .select(&Select {
            matchers: vec![Matcher::equal("__name__", "up")],
            start_ms: 0,
            end_ms: i64::MAX,
            max_samples: 0,
        })
        .unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0].labels.to_string(), r#"up{job="a"}"#);
    assert_eq!(data[0].samples.len(), 2);
    assert_eq!(all_series(&store).len(), 2);
}

#[tokio::test]
async fn out_of_order_and_duplicate_samples_are_400_naming_the_series() {
    let store = Arc::new(Store::default());
    let addr = start(Arc::clone(&store), Limits::default()).await;
    let (status, _, _) = post(addr, body(vec![series("c", &[("j", "x")], &[(2000, 1.0)])])).await;
    assert_eq!(status, 204);
    let (status, text, _) = post(
        addr,
        body(vec![
            series("c", &[("j", "x")], &[(1000, 5.0), (2000, 2.0), (3000, 3.0)]),
            series("d", &[], &[(1000, 1.0)]),
        ]),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert!(
        text.contains(r#"out of order sample for series c{j="x"} at 1000"#),
        "{text}"
    );
    assert!(
        text.contains(r#"duplicate sample for timestamp for series c{j="x"} at 2000"#),
        "{text}"
    );
    assert!(text.starts_with("2 of 4 samples were not stored"), "{text}");
    // The valid samples of the same request were stored.
    assert_eq!(all_series(&store).len(), 2);
}

#[tokio::test]
async fn bad_input_is_a_precise_4xx_and_the_server_keeps_serving() {
    let store = Arc::new(Store::default());
    let limits = Limits {
        max_request_bytes: 1 << 20,
        ..Limits::default()
    };
    let addr = start(Arc::clone(&store), limits).await;

    // Bad snappy.
    let (status, text, _) = post(addr, b"\x10definitely not snappy".to_vec()).await;
    assert_eq!(status, 400);
    assert!(text.starts_with("malformed snappy body"), "{text}");

    // Framed snappy instead of the block format.
    let mut framed = Vec::new();
    {
        use std::io::Write;
        let mut writer = snap::write::FrameEncoder::new(&mut framed);
        writer
            .write_all(
                &WriteRequest {
                    timeseries: vec![series("up", &[], &[(1000, 1.0)])],
                    metadata: Vec::new(),
                }
                .encode_to_vec(),
            )
            .unwrap();
    }
    let (status, text, _) = post(addr, framed).await;
    assert_eq!(status, 400);
    assert!(text.contains("framed"), "{text}");

    // Empty body.
    let (status, text, _) = post(addr, Vec::new()).await;
    assert_eq!(status, 400);
    assert!(text.starts_with("empty remote_write body"), "{text}");

    // Malformed protobuf inside valid snappy.
    let (status, text, _) = post(addr, snappy(b"\x0a\xff\xff\xff\xff\x0f")).await;
    assert_eq!(status, 400);
    assert!(
        text.starts_with("malformed protobuf prometheus.WriteRequest"),
        "{text}"
    );

    // Snappy bomb: 16 MiB of zeros compress to ~750 KiB, under the 1 MiB
    // wire limit, and would expand far past it.
    let bomb = snappy(&vec![0u8; 16 << 20]);
    assert!(bomb.len() < 1 << 20, "bomb is {} bytes", bomb.len());
    let (status, text, _) = post(addr, bomb).await;
    assert_eq!(status, 413);
    assert!(text.contains("after decompression"), "{text}");
    // A header that lies about the size.
    let (status, _, _) = post(addr, vec![0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]).await;
    assert_eq!(status, 413);

    // Invalid metric name and a huge label value: 400, the valid series stored.
    let huge = "x".repeat(100_000);
    let (status, text, _) = post(
        addr,
        body(vec![
            series("http-requests", &[("job", "a")], &[(1000, 1.0)]),
            series("ok", &[("big", &huge)], &[(1000, 1.0)]),
            series("ok", &[("job", "a")], &[(1000, 1.0)]),
        ]),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        text.contains(r#"invalid metric name "http-requests""#),
        "{text}"
    );
    assert!(
        text.contains(r#"value of label "big" is 100000 bytes, over the limit of 16384"#),
        "{text}"
    );
    assert!(text.starts_with("2 of 3 samples were not stored"), "{text}");

    // Remote write 2.0 and other encodings: 415.
    let (status, text, _) = post_with(
        addr,
        body(Vec::new()),
        "application/x-protobuf;proto=io.prometheus.write.v2.Request",
        "snappy",
    )
    .await;
    assert_eq!(status, 415);
    assert!(text.contains("remote_write 1.0"), "{text}");
    let (status, text, _) =
        post_with(addr, body(Vec::new()), "application/x-protobuf", "gzip").await;
    assert_eq!(status, 415);
    assert!(text.contains("snappy"), "{text}");

    // Still serving.
    let (status, _, _) = post(addr, body(vec![series("after", &[], &[(1000, 1.0)])])).await;
    assert_eq!(status, 204);
    let names: Vec<String> = all_series(&store)
        .iter()
        .map(|l| l.metric_name().unwrap().to_string())
        .collect();
    assert_eq!(names, ["after", "ok"]);
}

#[tokio::test]
async fn overload_is_429_with_retry_after() {
    let store = Arc::new(Store::default());
    let addr = start(Arc::clone(&store), Limits::default()).await;
    store.overloaded.store(true, Ordering::SeqCst);
    let (status, text, retry_after) =
        post(addr, body(vec![series("up", &[], &[(1000, 1.0)])])).await;
    assert_eq!(status, 429, "{text}");
    assert_eq!(retry_after, "3");
    store.overloaded.store(false, Ordering::SeqCst);
    let (status, _, _) = post(addr, body(vec![series("up", &[], &[(1000, 1.0)])])).await;
    assert_eq!(status, 204);
}

/// Debian's prometheus, killed when dropped.
struct Prometheus(Child);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_prometheus_remote_writes_its_own_series() {
    let binary = std::path::Path::new("/usr/bin/prometheus");
    if !binary.exists() {
        assert!(
            std::env::var_os("WHYSLOW_REQUIRE_PROMETHEUS").is_none(),
            "/usr/bin/prometheus is missing but WHYSLOW_REQUIRE_PROMETHEUS is set"
        );
        eprintln!("SKIPPED real_prometheus_remote_writes_its_own_series: no /usr/bin/prometheus (apt install prometheus)");
        return;
    }
    let store = Arc::new(Store::default());
    let addr = start(Arc::clone(&store), Limits::default()).await;
    let dir = std::env::temp_dir().join(format!(
        "whyslow-remote-write-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let config = format!(
        r#"global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:{port}"]
remote_write:
  - url: http://{addr}/api/v1/write
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 50ms
      max_backoff: 1s
    metadata_config:
      send_interval: 1s
"#
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let _prometheus = Prometheus(
        Command::new(binary)
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting /usr/bin/prometheus"),
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    let (mut up, mut prometheus_series, mut metadata) = (false, 0, 0);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let series = all_series(&store);
        up = series.iter().any(|l| {
            l.metric_name() == Some("up")
                && l.get("job") == Some("prometheus")
                && l.get("instance") == Some(format!("127.0.0.1:{port}").as_str())
        });
        prometheus_series = series
            .iter()
            .filter(|l| {
                l.metric_name()
                    .is_some_and(|n| n.starts_with("prometheus_"))
            })
            .count();
        metadata = store.metadata().unwrap().len();
        if up && prometheus_series > 50 && metadata > 50 {
            break;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(up, "no up{{job=\"prometheus\"}} series arrived");
    assert!(
        prometheus_series > 50,
        "only {prometheus_series} prometheus_* series arrived"
    );
    assert!(metadata > 50, "only {metadata} metadata entries arrived");
    // `up` is 1 in every sample Prometheus sent.
    let up = store
        .select(&Select {
            matchers: vec![Matcher::equal("__name__", "up")],
            start_ms: 0,
            end_ms: i64::MAX,
            max_samples: 0,
        })
        .unwrap();
    assert!(up[0].samples.iter().all(|s| s.value == 1.0), "{up:?}");
    let meta = store.metadata().unwrap();
    let head = meta
        .iter()
        .find(|m| m.metric_family_name == "prometheus_tsdb_head_series")
        .expect("metadata of prometheus_tsdb_head_series");
    assert_eq!(head.metric_type, model::metrics::MetricType::Gauge);
    assert!(!head.help.is_empty());
}
