//! Tests of the metrics store: behaviour identical to the in-memory
//! reference store on random data ([`compare`]), restart, block cuts,
//! compaction, retention and limits ([`lifecycle`]), and acknowledged
//! samples surviving `kill -9` ([`crash`]).

mod budget;
mod compare;
mod crash;
mod lifecycle;

use super::{Tsdb, TsdbConfig};
use crate::series::{SeriesBatch, SeriesStore};
use model::metrics::{Labels, Sample, TimeSeries};
use std::path::Path;
use std::time::Duration;

/// A config for tests: 1 h blocks unless changed, maintenance only when asked.
fn config(dir: &Path) -> TsdbConfig {
    let mut c = TsdbConfig::new(dir);
    c.block_range_ms = 3_600_000;
    c.maintenance_interval = Duration::from_secs(3600);
    c
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

fn batch(labels: &Labels, samples: &[(i64, f64)]) -> SeriesBatch {
    SeriesBatch {
        series: vec![TimeSeries {
            labels: labels.clone(),
            samples: samples
                .iter()
                .map(|&(timestamp_ms, value)| Sample {
                    timestamp_ms,
                    value,
                })
                .collect(),
            exemplars: Vec::new(),
        }],
        metadata: Vec::new(),
    }
}

/// Appends and waits for the ack; returns accepted samples.
fn append_durably(store: &dyn SeriesStore, batch: SeriesBatch) -> u64 {
    let appended = store.append(batch).expect("append");
    appended
        .ack
        .blocking_recv()
        .expect("ack sent")
        .expect("durable");
    appended.accepted_samples
}

fn open(c: &TsdbConfig) -> Tsdb {
    Tsdb::open(c.clone()).expect("open tsdb")
}
