//! The load side of `dev/bench/metrics`: one sender and one data set for
//! whyslow and Prometheus alike, so their numbers compare.
//!
//! ```text
//! remote_write_bench ingest URL SERIES HOURS [SENDERS]   # node_exporter-like history, time order
//! remote_write_bench capture METRICS_URL K DIR           # K scrapes of a node_exporter, 1 s apart
//! remote_write_bench node URL DIR SERIES HOURS [SENDERS]  # real node_exporter history from DIR
//! remote_write_bench active URL SERIES                   # SERIES new series, 2 samples each
//! remote_write_bench query  BASE_URL HOURS ROUNDS        # the dashboard queries, p50/p99
//! ```
//!
//! `ingest` sends `HOURS` of 15 s samples of `SERIES` series ending now,
//! window by window (10 samples per series per window, so both receivers see
//! time order), sharded by series over `SENDERS` connections, and prints
//! samples/s. Requests carry ≤ 2,000 samples, Prometheus's default
//! `max_samples_per_send`. The data is node_exporter-like: CPU-seconds and
//! byte counters that grow by small irregular steps, gauges that change now
//! and then, stable label sets of 4–5 labels. Its values are noisier than a
//! real node_exporter's: the "noisy synthetic" data of the benchmark.
//!
//! `node` sends the same way (pre-encoded, time order) a day of real
//! node_exporter series captured by `capture`, for as many hosts as reach
//! `SERIES` series; how they move is in `node_data`.

use ingest::remote_write::proto::{Label, Sample, TimeSeries, WriteRequest};
use prost::Message;

mod node_data;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const STEP_MS: i64 = 15_000;
const SAMPLES_PER_WINDOW: usize = 10;
const MAX_SAMPLES_PER_SEND: usize = 2_000;

/// The 20 dashboard queries (rate, sum by, histogram_quantile, topk).
pub const QUERIES: &[&str] = &[
    "rate(node_cpu_seconds_total[5m])",
    "sum by (instance) (rate(node_cpu_seconds_total[5m]))",
    "sum by (mode) (rate(node_cpu_seconds_total[5m]))",
    "1 - avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\"}[5m]))",
    "sum by (instance) (irate(node_network_receive_bytes_total[5m]))",
    "topk(5, rate(node_network_receive_bytes_total[5m]))",
    "topk(3, sum by (instance) (rate(node_disk_read_bytes_total[5m])))",
    "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes",
    "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes",
    "sum(rate(node_network_transmit_bytes_total[5m]))",
    "increase(node_disk_io_time_seconds_total[1h])",
    "avg_over_time(node_load1[10m])",
    "max by (instance) (node_load1)",
    "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
    "histogram_quantile(0.5, sum by (le, instance) (rate(http_request_duration_seconds_bucket[5m])))",
    "histogram_quantile(0.9, rate(http_request_duration_seconds_bucket[5m]))",
    "sum by (instance) (rate(http_request_duration_seconds_count[5m]))",
    "count by (instance) (node_cpu_seconds_total)",
    "bottomk(3, node_filesystem_avail_bytes)",
    "rate(http_request_duration_seconds_sum[5m]) / rate(http_request_duration_seconds_count[5m])",
];

/// One generated series: labels and how its value moves.
struct Series {
    labels: Vec<Label>,
    kind: Kind,
    value: f64,
}

#[derive(Clone, Copy)]
enum Kind {
    /// Counter that, in `active` of 256 scrapes, grows by `base` plus up to
    /// `step`, in multiples of `quantum` (CPU seconds in 0.01 s, bytes in 1
    /// or 4096, as the kernel counts them).
    Counter {
        base: f64,
        step: f64,
        quantum: f64,
        active: u8,
    },
    /// Gauge that, in `change` of 256 scrapes, moves by up to ±16 `quantum`s.
    Gauge { quantum: f64, change: u8 },
    /// Never changes (sizes, totals).
    Constant,
    /// Cumulative histogram bucket: grows by `share` of a common rate.
    Bucket { share: f64 },
}

fn counter(base: f64, step: f64, quantum: f64, active: u8) -> Kind {
    Kind::Counter {
        base,
        step,
        quantum,
        active,
    }
}

fn label(name: &str, value: impl Into<String>) -> Label {
    Label {
        name: name.into(),
        value: value.into(),
    }
}

/// `count` node_exporter-like series (rounded up to whole hosts of 100).
fn generate(count: usize, rng: &mut fastrand::Rng) -> Vec<Series> {
    const LE: [&str; 10] = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf",
    ];
    let mut out = Vec::with_capacity(count);
    let mut host = 0;
    while out.len() < count {
        let instance = format!("host-{host:04}:9100");
        let common = |name: &str| vec![label("__name__", name), label("instance", &instance)];
        for cpu in 0..8 {
            for mode in [
                "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user",
            ] {
                let mut labels = common("node_cpu_seconds_total");
                labels.push(label("cpu", cpu.to_string()));
                labels.push(label("mode", mode));
                out.push(Series {
                    labels,
                    kind: match mode {
                        "idle" => counter(14.0, 1.0, 0.01, 255),
                        "user" => counter(0.0, 0.8, 0.01, 255),
                        "system" => counter(0.0, 0.3, 0.01, 255),
                        "iowait" => counter(0.0, 0.05, 0.01, 64),
                        _ => counter(0.0, 0.02, 0.01, 16),
                    },
                    value: 0.0,
                });
            }
        }
        for device in ["eth0", "eth1", "lo", "docker0"] {
            for name in [
                "node_network_receive_bytes_total",
                "node_network_transmit_bytes_total",
            ] {
                let mut labels = common(name);
                labels.push(label("device", device));
                out.push(Series {
                    labels,
                    kind: match device {
                        "eth0" => counter(40_000.0, 20_000.0, 1.0, 255),
                        "lo" => counter(500.0, 1_000.0, 1.0, 255),
                        "eth1" => counter(0.0, 2_000.0, 1.0, 128),
                        _ => counter(0.0, 500.0, 1.0, 8),
                    },
                    value: 0.0,
                });
            }
        }
        for device in ["sda", "sdb"] {
            for name in [
                "node_disk_read_bytes_total",
                "node_disk_io_time_seconds_total",
            ] {
                let mut labels = common(name);
                labels.push(label("device", device));
                let kind = if name.ends_with("seconds_total") {
                    counter(0.0, 0.2, 0.001, 64)
                } else {
                    counter(0.0, 400_000.0, 4096.0, 64)
                };
                out.push(Series {
                    labels,
                    kind,
                    value: 0.0,
                });
            }
            let mut labels = common("node_filesystem_avail_bytes");
            labels.push(label("device", device));
            out.push(Series {
                labels,
                kind: Kind::Gauge {
                    quantum: 4096.0,
                    change: 32,
                },
                value: 5.0e10,
            });
        }
        for name in [
            "node_memory_MemAvailable_bytes",
            "node_memory_MemTotal_bytes",
            "node_load1",
        ] {
            let value = match name {
                "node_load1" => 1.5,
                "node_memory_MemTotal_bytes" => 1.6e10,
                _ => 8.0e9,
            };
            let kind = match name {
                "node_load1" => Kind::Gauge {
                    quantum: 0.01,
                    change: 255,
                },
                "node_memory_MemTotal_bytes" => Kind::Constant,
                _ => Kind::Gauge {
                    quantum: 4096.0,
                    change: 255,
                },
            };
            out.push(Series {
                labels: common(name),
                kind,
                value,
            });
        }
        let mut share = 0.0;
        for (i, le) in LE.iter().enumerate() {
            share += [0.3, 0.2, 0.15, 0.1, 0.1, 0.05, 0.04, 0.03, 0.02, 0.01][i];
            let mut labels = common("http_request_duration_seconds_bucket");
            labels.push(label("le", *le));
            out.push(Series {
                labels,
                kind: Kind::Bucket { share },
                value: 0.0,
            });
        }
        out.push(Series {
            labels: common("http_request_duration_seconds_count"),
            kind: Kind::Bucket { share: 1.0 },
            value: 0.0,
        });
        out.push(Series {
            labels: common("http_request_duration_seconds_sum"),
            kind: counter(0.0, 3.0, 0.001, 255),
            value: 0.0,
        });
        host += 1;
    }
    out.truncate(count);
    for series in &mut out {
        series.labels.push(label("job", "node"));
        series.labels.sort_by(|a, b| a.name.cmp(&b.name));
        if let Kind::Gauge { quantum, .. } = series.kind {
            // Start on a whole number of quanta, like a kernel's figure.
            series.value = (series.value * (0.9 + rng.f64() * 0.2) / quantum).round() * quantum;
        }
    }
    out
}

/// The next value of `series` (a scrape later).
fn advance(series: &mut Series, requests: f64, rng: &mut fastrand::Rng) -> f64 {
    series.value = match series.kind {
        Kind::Counter {
            base,
            step,
            quantum,
            active,
        } if rng.u8(..) < active => {
            let steps = ((base + rng.f64() * step) / quantum).round();
            // Whole quanta, then back to the counter's unit: the same
            // rounding a kernel counter printed with fixed decimals has.
            ((series.value / quantum).round() + steps) * quantum
        }
        Kind::Gauge { quantum, change } if rng.u8(..) < change => {
            (series.value + f64::from(rng.i8(-16..=16)) * quantum).max(0.0)
        }
        Kind::Counter { .. } | Kind::Gauge { .. } | Kind::Constant => series.value,
        Kind::Bucket { share } => series.value + (requests * share).floor(),
    };
    series.value
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn encode(request: &WriteRequest) -> Vec<u8> {
    let raw = request.encode_to_vec();
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .unwrap_or_default()
}

async fn post(client: &reqwest::Client, url: &str, body: Vec<u8>) -> Result<(), String> {
    let response = client
        .post(url)
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("sending to {url}: {e}"))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        let text = response.text().await.unwrap_or_default();
        Err(format!("{url} answered {status}: {}", text.trim()))
    }
}

/// Requests of one shard for one window: ≤ 2,000 samples each.
fn window_requests(
    shard: &mut [Series],
    first_ms: i64,
    rng: &mut fastrand::Rng,
) -> Vec<WriteRequest> {
    let per_request = (MAX_SAMPLES_PER_SEND / SAMPLES_PER_WINDOW).max(1);
    let requests_rate: Vec<f64> = (0..SAMPLES_PER_WINDOW)
        .map(|_| 50.0 + rng.f64() * 100.0)
        .collect();
    shard
        .chunks_mut(per_request)
        .map(|chunk| WriteRequest {
            timeseries: chunk
                .iter_mut()
                .map(|series| TimeSeries {
                    labels: series.labels.clone(),
                    samples: (0..SAMPLES_PER_WINDOW)
                        .map(|k| Sample {
                            value: advance(series, requests_rate[k], rng),
                            timestamp: first_ms + k as i64 * STEP_MS,
                        })
                        .collect(),
                    exemplars: Vec::new(),
                })
                .collect(),
            metadata: Vec::new(),
        })
        .collect()
}

/// Shards `items` into at most `senders` contiguous runs.
fn shard<T>(items: Vec<T>, senders: usize) -> Vec<Vec<T>> {
    let shard_len = items.len().div_ceil(senders.max(1)).max(1);
    let mut shards: Vec<Vec<T>> = Vec::new();
    let mut rest = items;
    while !rest.is_empty() {
        let tail = rest.split_off(shard_len.min(rest.len()));
        shards.push(rest);
        rest = tail;
    }
    shards
}

/// Sends pre-encoded bodies (per shard, per window) over one connection per
/// shard, windows in lockstep; returns the seconds taken.
async fn send_all(url: &str, bodies: Vec<Vec<Vec<Vec<u8>>>>) -> Result<f64, String> {
    let client = reqwest::Client::new();
    let began = Instant::now();
    let mut tasks = Vec::new();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(bodies.len()));
    for shard in bodies {
        let client = client.clone();
        let url = url.to_string();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            for window in shard {
                for body in window {
                    post(&client, &url, body).await?;
                }
                // Lockstep windows keep global time order across shards.
                barrier.wait().await;
            }
            Ok::<(), String>(())
        }));
    }
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    Ok(began.elapsed().as_secs_f64())
}

fn wire_mib(bodies: &[Vec<Vec<Vec<u8>>>]) -> usize {
    bodies
        .iter()
        .flatten()
        .flatten()
        .map(Vec::len)
        .sum::<usize>()
        >> 20
}

async fn ingest(url: String, count: usize, hours: f64, senders: usize) -> Result<(), String> {
    let mut rng = fastrand::Rng::with_seed(7);
    let series = generate(count, &mut rng);
    let window_ms = STEP_MS * SAMPLES_PER_WINDOW as i64;
    let end = now_ms() / STEP_MS * STEP_MS;
    let windows = ((hours * 3_600_000.0) as i64 / window_ms).max(1);
    let start = end - windows * window_ms;
    let mut shards = shard(series, senders);
    let total_samples = count as u64 * windows as u64 * SAMPLES_PER_WINDOW as u64;
    // Encoded before the clock starts, so the sender's CPU (it shares the
    // machine) is not what is measured.
    let bodies: Vec<Vec<Vec<Vec<u8>>>> = shards
        .iter_mut()
        .enumerate()
        .map(|(i, shard)| {
            let mut rng = fastrand::Rng::with_seed(100 + i as u64);
            (0..windows)
                .map(|w| {
                    window_requests(shard, start + w * window_ms, &mut rng)
                        .iter()
                        .map(encode)
                        .collect()
                })
                .collect()
        })
        .collect();
    let mib = wire_mib(&bodies);
    let seconds = send_all(&url, bodies).await?;
    println!(
        "ingest: {total_samples} samples ({count} series x {windows} windows x {SAMPLES_PER_WINDOW}, {mib} MiB snappy) in {seconds:.2} s = {:.0} samples/s",
        total_samples as f64 / seconds
    );
    Ok(())
}

/// Scrapes `url` `count` times 1 s apart into `dir/NNNN.txt`.
async fn capture(url: String, count: usize, dir: String) -> Result<(), String> {
    let count = count.clamp(2, 1000);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {dir}: {e}"))?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    let began = Instant::now();
    for k in 0..count {
        let body = client
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("scraping {url}: {e}"))?
            .bytes()
            .await
            .map_err(|e| format!("scraping {url}: {e}"))?;
        let path = format!("{dir}/{k:04}.txt");
        std::fs::write(&path, &body).map_err(|e| format!("writing {path}: {e}"))?;
        let next = began + Duration::from_secs(k as u64 + 1);
        tokio::time::sleep_until(next.into()).await;
    }
    println!("capture: {count} scrapes of {url} 1 s apart in {dir}");
    Ok(())
}

/// `HOURS` of 15 s samples of real node_exporter series for enough hosts to
/// reach `count` series (see `node_data`).
async fn node(
    url: String,
    dir: String,
    count: usize,
    hours: f64,
    senders: usize,
) -> Result<(), String> {
    let capture = node_data::Capture::load(std::path::Path::new(&dir))?;
    let hosts = count.div_ceil(capture.per_host().max(1)).max(1);
    let series = capture.series(hosts);
    let n = series.len();
    let window_ms = STEP_MS * SAMPLES_PER_WINDOW as i64;
    let windows = ((hours * 3_600_000.0) as i64 / window_ms).max(1) as usize;
    let steps = windows * SAMPLES_PER_WINDOW;
    let end = now_ms() / STEP_MS * STEP_MS;
    let times = node_data::scrape_times(hosts, end - steps as i64 * STEP_MS, steps);
    let per_request = (MAX_SAMPLES_PER_SEND / SAMPLES_PER_WINDOW).max(1);
    let bodies: Vec<Vec<Vec<Vec<u8>>>> = shard(series, senders)
        .into_iter()
        .map(|mut shard| {
            (0..windows)
                .map(|w| {
                    shard
                        .chunks_mut(per_request)
                        .map(|chunk| {
                            encode(&WriteRequest {
                                timeseries: chunk
                                    .iter_mut()
                                    .map(|s| TimeSeries {
                                        labels: s.labels.clone(),
                                        samples: (0..SAMPLES_PER_WINDOW)
                                            .map(|k| {
                                                let step = w * SAMPLES_PER_WINDOW + k;
                                                node_data::sample(&capture, s, &times, step)
                                            })
                                            .collect(),
                                        exemplars: Vec::new(),
                                    })
                                    .collect(),
                                metadata: Vec::new(),
                            })
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    let mib = wire_mib(&bodies);
    let seconds = send_all(&url, bodies).await?;
    let total = (n * steps) as f64;
    println!("node data: {}; {hosts} hosts", capture.describe());
    println!(
        "ingest: {total} samples ({n} series x {steps} steps, {mib} MiB snappy) in {seconds:.2} s = {:.0} samples/s",
        total / seconds
    );
    Ok(())
}

async fn active(url: String, count: usize) -> Result<(), String> {
    let client = reqwest::Client::new();
    let now = now_ms();
    for round in 0..2 {
        for first in (0..count).step_by(MAX_SAMPLES_PER_SEND) {
            let timeseries = (first..(first + MAX_SAMPLES_PER_SEND).min(count))
                .map(|i| TimeSeries {
                    labels: vec![
                        label("__name__", "bench_active_series"),
                        label("instance", format!("host-{:04}:9100", i / 1000)),
                        label("job", "active"),
                        label("series", i.to_string()),
                    ],
                    samples: vec![Sample {
                        value: i as f64,
                        timestamp: now - 15_000 + round * 15_000,
                    }],
                    exemplars: Vec::new(),
                })
                .collect();
            let request = WriteRequest {
                timeseries,
                metadata: Vec::new(),
            };
            post(&client, &url, encode(&request)).await?;
        }
    }
    println!("active: {count} series, 2 samples each");
    Ok(())
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(rank).copied().unwrap_or(f64::NAN)
}

async fn query(base: String, hours: f64, rounds: usize) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| e.to_string())?;
    let end = now_ms() / 1000;
    let start = end - (hours * 3600.0) as i64;
    let mut all = Vec::new();
    for q in QUERIES {
        let mut times = Vec::new();
        let mut points = 0usize;
        for _ in 0..rounds {
            let began = Instant::now();
            let response = client
                .post(format!("{base}/api/v1/query_range"))
                .form(&[
                    ("query", q.to_string()),
                    ("start", start.to_string()),
                    ("end", end.to_string()),
                    ("step", "15".to_string()),
                ])
                .send()
                .await
                .map_err(|e| format!("{q}: {e}"))?;
            let status = response.status();
            let body = response.bytes().await.map_err(|e| format!("{q}: {e}"))?;
            times.push(began.elapsed().as_secs_f64() * 1000.0);
            if !status.is_success() {
                return Err(format!("{q}: {status}: {}", String::from_utf8_lossy(&body)));
            }
            points = bytecount(&body);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "query p50 {:8.1} ms  p99 {:8.1} ms  {points:>8} points  {q}",
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
        all.extend(times);
    }
    all.sort_by(f64::total_cmp);
    println!(
        "queries: all {} runs p50 {:.1} ms p99 {:.1} ms",
        all.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.99)
    );
    Ok(())
}

/// Points in a matrix answer (each `[t,"v"]` pair has one `",` … count `],[`).
fn bytecount(body: &[u8]) -> usize {
    body.windows(2).filter(|w| w == b"\"]").count()
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let number = |i: usize, default: f64| arg(i).parse::<f64>().unwrap_or(default);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    match arg(0).as_str() {
        "ingest" => runtime.block_on(ingest(
            arg(1),
            number(2, 1000.0) as usize,
            number(3, 24.0),
            number(4, 4.0) as usize,
        )),
        "capture" => runtime.block_on(capture(arg(1), number(2, 120.0) as usize, arg(3))),
        "node" => runtime.block_on(node(
            arg(1),
            arg(2),
            number(3, 1000.0) as usize,
            number(4, 24.0),
            number(5, 4.0) as usize,
        )),
        "active" => runtime.block_on(active(arg(1), number(2, 100_000.0) as usize)),
        "query" => runtime.block_on(query(arg(1), number(2, 24.0), number(3, 5.0) as usize)),
        _ => Err("usage: remote_write_bench ingest URL SERIES HOURS [SENDERS] | capture METRICS_URL K DIR | node URL DIR SERIES HOURS [SENDERS] | active URL SERIES | query BASE_URL HOURS ROUNDS".into()),
    }
}
