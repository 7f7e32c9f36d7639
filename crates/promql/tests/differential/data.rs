//! The data both sides load, as series keyed by labels, and its timeline:
//! two hours from `t0` (a whole hour) with the moments the queries aim at
//! (a stale period, a gap, a metric that ends). Times in queries and reports
//! are offsets from `t0`, so failures read as `t0+65m`. Made by generate.rs.

use model::metrics::{Labels, Sample, TimeSeries};
use std::collections::BTreeMap;

pub const MINUTE: i64 = 60_000;
/// Data length.
pub const SPAN: i64 = 120 * MINUTE;
/// Where `api-2:8080` (all its series) goes stale (marker written then)…
pub const STALE_AT: i64 = 60 * MINUTE;
/// …and where it comes back (counters restart from zero).
pub const BACK_AT: i64 = 80 * MINUTE;
/// `web-2:80` sends nothing in `[GAP_FROM, GAP_UNTIL)`, without a stale marker.
pub const GAP_FROM: i64 = 90 * MINUTE;
pub const GAP_UNTIL: i64 = 100 * MINUTE;
/// `old_metric` ends here with a stale marker.
pub const OLD_METRIC_END: i64 = 40 * MINUTE;

/// Every generated series, keyed by labels, samples ascending.
pub struct Data {
    pub t0: i64,
    pub series: BTreeMap<Labels, Vec<Sample>>,
}

impl Data {
    /// Batches of about `max_samples` samples in global timestamp order:
    /// every sample of batch k is at or before every sample of batch k + 1.
    pub fn batches(&self, max_samples: usize) -> Vec<Vec<TimeSeries>> {
        let mut all: Vec<(i64, &Labels, Sample)> = self
            .series
            .iter()
            .flat_map(|(labels, samples)| samples.iter().map(move |s| (s.timestamp_ms, labels, *s)))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
        let mut out = Vec::new();
        let mut start = 0;
        while start < all.len() {
            // Never split one timestamp across batches, so batches stay ordered.
            let mut end = (start + max_samples).min(all.len());
            while end < all.len() && all[end].0 == all[end - 1].0 {
                end += 1;
            }
            let mut by_series: BTreeMap<&Labels, Vec<Sample>> = BTreeMap::new();
            for (_, labels, sample) in &all[start..end] {
                by_series.entry(labels).or_default().push(*sample);
            }
            out.push(
                by_series
                    .into_iter()
                    .map(|(labels, samples)| TimeSeries {
                        labels: labels.clone(),
                        samples,
                        exemplars: Vec::new(),
                    })
                    .collect(),
            );
            start = end;
        }
        out
    }
}
