//! Benchmark of the embedded metrics store with node_exporter-like data:
//! 40 % near-constant gauges, 20 % integer counters, 15 % CPU-seconds
//! counters (hundredths), 15 % memory gauges (whole pages), 10 % load and
//! temperature gauges (2 and 1 decimals); regular 15 s timestamps.
//!
//! Run 1: 1,000 series × 24 h, one 1,000-sample batch per scrape, blocks cut
//! and compacted as they would be in `serve`; prints append samples/s,
//! bytes/sample of the blocks on disk, head bytes per active series and RSS.
//! Run 2: 1,000,000 active series × SAMPLES_1M samples (default 20),
//! 10,000-series batches; prints the same.
//!
//! `cargo run --release -p store --example tsdb_bench -- [SAMPLES_1M] [DATA_DIR]`
//! (`TSDB_BENCH_ONLY=1` or `2` runs one of them).

use model::metrics::{Labels, Sample, TimeSeries};
use std::collections::VecDeque;
use std::time::Instant;
use store::series::{SeriesBatch, SeriesStore};
use store::tsdb::{Tsdb, TsdbConfig};
use store::WriteAck;

/// The allocator `whyslow serve` uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BASE: i64 = 1_700_000_000_000;
const STEP: i64 = 15_000;
const IN_FLIGHT: usize = 64;

/// One synthetic series: its labels and value generator state.
struct Gen {
    labels: Labels,
    kind: usize,
    value: f64,
    rate: f64,
}

impl Gen {
    fn new(i: usize, rng: &mut fastrand::Rng) -> Self {
        let kind = i % 20;
        let instance = format!("host-{:04}.example.com:9100", i / 1000);
        let (name, extra): (&str, (&str, String)) = match kind {
            0..=7 => (
                "node_filesystem_size_bytes",
                ("mountpoint", format!("/mnt/{}", i % 997)),
            ),
            8..=11 => (
                "node_network_receive_packets_total",
                ("device", format!("eth{}", i % 991)),
            ),
            12..=14 => ("node_cpu_seconds_total", ("cpu", format!("{}", i % 983))),
            15..=17 => ("node_memory_Active_bytes", ("numa", format!("{}", i % 977))),
            _ => ("node_load1", ("sensor", format!("{}", i % 971))),
        };
        let labels = Labels::from_pairs([
            ("__name__", name.to_string()),
            ("instance", instance),
            ("job", "node".to_string()),
            (extra.0, extra.1),
        ]);
        let value = match kind {
            0..=7 => (rng.u64(1..1 << 20) * 4096) as f64,
            8..=11 => rng.u64(..1 << 30) as f64,
            12..=14 => (rng.u64(..10_000_000) as f64) / 100.0,
            15..=17 => (rng.u64(1..1 << 20) * 4096) as f64,
            _ => 1.0,
        };
        Self {
            labels,
            kind,
            value,
            rate: rng.f64(),
        }
    }

    fn next(&mut self, rng: &mut fastrand::Rng) -> f64 {
        match self.kind {
            // Changes about once an hour.
            0..=7 => {
                if rng.u32(..240) == 0 {
                    self.value += (rng.u64(..1000) * 4096) as f64;
                }
            }
            8..=11 => self.value += (self.rate * 2000.0 * rng.f64()).round(),
            12..=14 => {
                let busy = (self.rate * 15.0 * rng.f64() * 100.0).round();
                self.value = ((self.value * 100.0).round() + busy) / 100.0;
            }
            15..=17 => self.value += (rng.i64(-50..50) * 4096) as f64,
            18 => {
                self.value = ((self.value * 100.0 + rng.f64() * 20.0 - 10.0).round() / 100.0).abs()
            }
            _ => self.value = (400.0 + rng.f64() * 200.0).round() / 10.0,
        }
        self.value
    }
}

fn rss_mib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .unwrap_or(0)
            / 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU seconds (user + system) this process has used: on a shared
/// machine a steadier measure than wall time.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn wait(acks: &mut VecDeque<WriteAck>, keep: usize) {
    while acks.len() > keep {
        if let Some(ack) = acks.pop_front() {
            ack.blocking_recv()
                .expect("writer alive")
                .expect("durable write");
        }
    }
}

/// Appends `steps` scrapes of every series, `per_batch` series per batch.
/// Returns samples per wall-clock second and per CPU second.
fn run(
    store: &Tsdb,
    gens: &mut [Gen],
    steps: i64,
    per_batch: usize,
    maintain_every: i64,
) -> (f64, f64) {
    let mut rng = fastrand::Rng::with_seed(42);
    let mut acks = VecDeque::new();
    let started = Instant::now();
    let cpu_start = cpu_seconds();
    let mut samples = 0u64;
    for step in 0..steps {
        let t = BASE + step * STEP;
        for group in gens.chunks_mut(per_batch) {
            let series: Vec<TimeSeries> = group
                .iter_mut()
                .map(|g| TimeSeries {
                    labels: g.labels.clone(),
                    samples: vec![Sample {
                        timestamp_ms: t,
                        value: g.next(&mut rng),
                    }],
                    exemplars: Vec::new(),
                })
                .collect();
            let appended = store
                .append(SeriesBatch {
                    series,
                    metadata: Vec::new(),
                })
                .expect("append (raise the memory budget)");
            assert!(appended.rejected.is_empty(), "{:?}", appended.rejected);
            samples += appended.accepted_samples;
            acks.push_back(appended.ack);
            wait(&mut acks, IN_FLIGHT);
        }
        if maintain_every > 0 && step % maintain_every == maintain_every - 1 {
            store.maintain().expect("maintenance");
        }
    }
    wait(&mut acks, 0);
    (
        samples as f64 / started.elapsed().as_secs_f64(),
        samples as f64 / (cpu_seconds() - cpu_start).max(1e-3),
    )
}

fn report(label: &str, store: &Tsdb, (rate, cpu_rate): (f64, f64)) {
    let stats = store.stats();
    let metas = store.block_metas();
    let block_bytes: u64 = metas.iter().map(|m| m.bytes).sum();
    let block_samples: u64 = metas.iter().map(|m| m.samples).sum();
    let (rss, hwm) = rss_mib();
    println!("{label}");
    println!(
        "  append:            {rate:.0} samples/s wall clock (acked after fdatasync), \
         {cpu_rate:.0} samples per CPU second (generator, store and WAL writer)"
    );
    if block_samples > 0 {
        println!(
            "  blocks:            {} ({:?} h), {} samples, {} bytes = {:.3} bytes/sample",
            metas.len(),
            metas
                .iter()
                .map(|m| (m.max_t - m.min_t) / 3_600_000)
                .collect::<Vec<_>>(),
            block_samples,
            block_bytes,
            block_bytes as f64 / block_samples as f64
        );
    }
    println!(
        "  head:              {} series, {} samples, {} bytes = {:.0} bytes/series",
        stats.active_series,
        stats.head_samples,
        stats.head_bytes,
        stats.head_bytes as f64 / stats.active_series.max(1) as f64
    );
    println!("  RSS:               {rss} MiB now, {hwm} MiB peak");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let samples_1m: i64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let root = args.get(2).map(std::path::PathBuf::from);
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = root.unwrap_or_else(|| tmp.path().to_path_buf());

    // TSDB_BENCH_ONLY=1 or 2 runs one of the two.
    let only = std::env::var("TSDB_BENCH_ONLY").unwrap_or_default();
    let mut rng = fastrand::Rng::with_seed(1);
    if only != "2" {
        let mut config = TsdbConfig::new(root.join("run1"));
        config.maintenance_interval = std::time::Duration::from_secs(3600);
        config.memory_budget_bytes = 256 << 20;
        let store = Tsdb::open(config).expect("open");
        let mut gens: Vec<Gen> = (0..1000).map(|i| Gen::new(i, &mut rng)).collect();
        let rate = run(&store, &mut gens, 24 * 240, 1000, 240);
        store.maintain().expect("maintenance");
        report("1,000 series x 24 h x 15 s (5.76 M samples)", &store, rate);
    }
    if only != "1" {
        let mut config = TsdbConfig::new(root.join("run2"));
        config.maintenance_interval = std::time::Duration::from_secs(3600);
        config.memory_budget_bytes = 1 << 30;
        let store = Tsdb::open(config).expect("open");
        let mut gens: Vec<Gen> = (0..1_000_000).map(|i| Gen::new(i, &mut rng)).collect();
        let rate = run(&store, &mut gens, samples_1m, 10_000, 0);
        drop(gens);
        report(
            &format!("1,000,000 active series x {samples_1m} samples"),
            &store,
            rate,
        );
    }
}
