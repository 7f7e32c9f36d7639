//! Head memory per active series of the metrics store, as RSS: opens a
//! `Tsdb`, appends SERIES new series shaped like `remote_write_bench
//! active`'s (`bench_active_series{instance="host-NNNN:9100", job="active",
//! series="N"}`, 1,000 per instance, 2 samples each) in 2,000-series
//! batches built on the fly (so only the store holds them), and prints RSS
//! growth per series next to the head's own count (`head_bytes`).
//! Uses only the store's public API, so it runs on older commits too.
//!
//! `cargo run --release -p store --example head_memory -- [SERIES]`

use model::metrics::{Labels, Sample, TimeSeries};
use store::series::{SeriesBatch, SeriesStore};
use store::tsdb::{Tsdb, TsdbConfig};

/// The allocator `whyslow serve` uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = TsdbConfig::new(dir.path());
    config.maintenance_interval = std::time::Duration::from_secs(3600);
    config.memory_budget_bytes = 1 << 30;
    let store = Tsdb::open(config).expect("open");
    let base = 1_700_000_000_000i64;
    let before = rss_kib();
    for round in 0..2 {
        for first in (0..count).step_by(2000) {
            let series = (first..(first + 2000).min(count))
                .map(|i| TimeSeries {
                    labels: Labels::from_pairs([
                        ("__name__", "bench_active_series".to_string()),
                        ("instance", format!("host-{:04}:9100", i / 1000)),
                        ("job", "active".to_string()),
                        ("series", i.to_string()),
                    ]),
                    samples: vec![Sample {
                        timestamp_ms: base + round * 15_000,
                        value: i as f64,
                    }],
                    exemplars: Vec::new(),
                })
                .collect();
            let appended = store
                .append(SeriesBatch {
                    series,
                    metadata: Vec::new(),
                })
                .expect("append");
            appended.ack.blocking_recv().expect("ack").expect("durable");
        }
    }
    let grown = (rss_kib() - before) * 1024;
    let stats = store.stats();
    println!(
        "{} active series: RSS grew {} MiB = {:.0} B/series; head counts {:.0} B/series",
        stats.active_series,
        grown >> 20,
        grown as f64 / stats.active_series.max(1) as f64,
        stats.head_bytes as f64 / stats.active_series.max(1) as f64
    );
}
