//! A cumulative histogram with fixed explicit bounds, as a Prometheus client
//! library keeps one: a count per bucket (upper bound inclusive, the last
//! bucket is `+Inf`), the sum and the count, plus the latest exemplar per
//! bucket since the previous export. [`Histogram::export`] turns it into the
//! `_bucket{le}`, `_sum` and `_count` series at one timestamp.
//!
//! Not a general metrics library: no resets, no native histograms.

use model::metrics::{Exemplar, Label, Labels, Sample, TimeSeries, METRIC_NAME};
use model::{SpanId, TraceId};

/// The spanmetrics connector's default explicit buckets, in milliseconds
/// (`+Inf` is implied).
pub const DURATION_BUCKETS_MS: [f64; 16] = [
    2.0, 4.0, 6.0, 8.0, 10.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1000.0, 1400.0, 2000.0, 5000.0,
    10000.0, 15000.0,
];

/// Tempo's service-graph buckets, `ExponentialBuckets(0.1, 2, 8)`, in seconds.
pub const SERVICE_GRAPH_BUCKETS_S: [f64; 8] = [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8];

/// One traced observation, kept until the next export.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExemplarData {
    /// The trace the observation came from.
    pub trace_id: TraceId,
    /// The span (none when the observation has no span of its own).
    pub span_id: Option<SpanId>,
    /// The observed value, in the histogram's unit.
    pub value: f64,
    /// When it was observed (the span's end), Unix ms.
    pub timestamp_ms: i64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// Observations in this bucket alone (not cumulative).
    count: u64,
    /// The latest exemplar since the last export.
    pending: Option<ExemplarData>,
    /// Timestamp of the last exemplar exported for this bucket: later ones
    /// must be newer (stores refuse out-of-order exemplars).
    last_exported_ms: i64,
}

/// Bucket counts, sum, count and pending exemplars.
#[derive(Debug, Clone)]
pub struct Histogram {
    slots: Box<[Slot]>,
    sum: f64,
    count: u64,
}

/// The bucket `value` falls in: the first bound ≥ value, or `bounds.len()` (+Inf).
pub fn bucket_index(bounds: &[f64], value: f64) -> usize {
    bounds.partition_point(|&bound| bound < value)
}

/// `le` as Prometheus client libraries print a bound (shortest round-trip form).
pub fn format_le(bound: f64) -> String {
    if bound == f64::INFINITY {
        "+Inf".to_string()
    } else {
        format!("{bound}")
    }
}

impl Histogram {
    /// An empty histogram over `bounds` (+Inf added).
    pub fn new(bounds: &[f64]) -> Self {
        Self {
            slots: vec![Slot::default(); bounds.len() + 1].into_boxed_slice(),
            sum: 0.0,
            count: 0,
        }
    }

    /// Records one observation.
    pub fn observe(&mut self, bounds: &[f64], value: f64, exemplar: Option<ExemplarData>) {
        let index = bucket_index(bounds, value).min(self.slots.len() - 1);
        let slot = &mut self.slots[index];
        slot.count += 1;
        if exemplar.is_some() {
            slot.pending = exemplar;
        }
        self.sum += value;
        self.count += 1;
    }

    /// The values to write at `timestamp_ms`, taking the pending exemplars
    /// (one later than `timestamp_ms` is stamped with it; one not newer than
    /// the bucket's previous exemplar is dropped). Cheap: callers take it
    /// under their lock and build the series after releasing it.
    pub fn snapshot(&mut self, timestamp_ms: i64) -> Snapshot {
        let mut cumulative = Vec::with_capacity(self.slots.len());
        let mut exemplars = Vec::new();
        let mut total = 0u64;
        for (index, slot) in self.slots.iter_mut().enumerate() {
            total += slot.count;
            cumulative.push(total);
            if let Some(mut exemplar) = slot.pending.take() {
                exemplar.timestamp_ms = exemplar.timestamp_ms.min(timestamp_ms);
                if exemplar.timestamp_ms > slot.last_exported_ms {
                    slot.last_exported_ms = exemplar.timestamp_ms;
                    exemplars.push((index, exemplar));
                }
            }
        }
        Snapshot {
            cumulative,
            sum: self.sum,
            count: self.count,
            exemplars,
        }
    }

    /// [`Histogram::snapshot`] written out at once.
    pub fn export(
        &mut self,
        family: &str,
        bounds: &[f64],
        labels: &[Label],
        timestamp_ms: i64,
        out: &mut Vec<TimeSeries>,
    ) {
        self.snapshot(timestamp_ms)
            .write(family, bounds, labels, timestamp_ms, out);
    }
}

/// A histogram's values at one flush, detached from the live histogram.
#[derive(Debug, Clone)]
pub struct Snapshot {
    cumulative: Vec<u64>,
    sum: f64,
    count: u64,
    exemplars: Vec<(usize, ExemplarData)>,
}

impl Snapshot {
    /// Appends `{family}_bucket` (one per bound and +Inf, with the
    /// exemplars), `{family}_sum` and `{family}_count` at `timestamp_ms`.
    /// `labels` are the series' labels without `__name__` and `le`.
    pub fn write(
        &self,
        family: &str,
        bounds: &[f64],
        labels: &[Label],
        timestamp_ms: i64,
        out: &mut Vec<TimeSeries>,
    ) {
        let bucket_name = format!("{family}_bucket");
        for (index, &cumulative) in self.cumulative.iter().enumerate() {
            let le = bounds.get(index).copied().unwrap_or(f64::INFINITY);
            let exemplars = self
                .exemplars
                .iter()
                .filter(|(bucket, _)| *bucket == index)
                .map(|(_, data)| exemplar_of(data))
                .collect();
            out.push(TimeSeries {
                labels: series_labels(&bucket_name, labels, Some(le)),
                samples: vec![sample(timestamp_ms, cumulative as f64)],
                exemplars,
            });
        }
        out.push(plain(
            series_labels(&format!("{family}_sum"), labels, None),
            timestamp_ms,
            self.sum,
        ));
        out.push(plain(
            series_labels(&format!("{family}_count"), labels, None),
            timestamp_ms,
            self.count as f64,
        ));
    }
}

fn sample(timestamp_ms: i64, value: f64) -> Sample {
    Sample {
        timestamp_ms,
        value,
    }
}

/// One series with one sample and no exemplars.
pub fn plain(labels: Labels, timestamp_ms: i64, value: f64) -> TimeSeries {
    TimeSeries {
        labels,
        samples: vec![sample(timestamp_ms, value)],
        exemplars: Vec::new(),
    }
}

/// `labels` plus `__name__` (and `le` when given), sorted.
pub fn series_labels(name: &str, labels: &[Label], le: Option<f64>) -> Labels {
    let mut pairs = Vec::with_capacity(labels.len() + 2);
    pairs.push(Label {
        name: METRIC_NAME.to_string(),
        value: name.to_string(),
    });
    pairs.extend_from_slice(labels);
    if let Some(le) = le {
        pairs.push(Label {
            name: "le".to_string(),
            value: format_le(le),
        });
    }
    Labels::new(pairs)
}

fn exemplar_of(data: &ExemplarData) -> Exemplar {
    let mut pairs = vec![("trace_id", data.trace_id.to_string())];
    if let Some(span_id) = data.span_id {
        pairs.push(("span_id", span_id.to_string()));
    }
    Exemplar {
        labels: Labels::from_pairs(pairs),
        value: data.value,
        timestamp_ms: data.timestamp_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_on_a_bound_falls_in_that_bucket_and_past_the_last_in_inf() {
        let bounds = DURATION_BUCKETS_MS;
        assert_eq!(bucket_index(&bounds, 0.0), 0);
        assert_eq!(bucket_index(&bounds, 2.0), 0);
        assert_eq!(bucket_index(&bounds, 2.000_001), 1);
        assert_eq!(bucket_index(&bounds, 50.0), 5);
        assert_eq!(bucket_index(&bounds, 15000.0), 15);
        assert_eq!(bucket_index(&bounds, 15000.5), 16);
    }

    #[test]
    fn bounds_print_as_prometheus_clients_print_them() {
        let printed: Vec<String> = SERVICE_GRAPH_BUCKETS_S
            .iter()
            .map(|&b| format_le(b))
            .collect();
        assert_eq!(
            printed,
            ["0.1", "0.2", "0.4", "0.8", "1.6", "3.2", "6.4", "12.8"]
        );
        assert_eq!(format_le(15000.0), "15000");
        assert_eq!(format_le(f64::INFINITY), "+Inf");
    }

    #[test]
    fn export_is_cumulative_with_the_latest_exemplar_per_bucket_once() {
        let bounds = [1.0, 10.0];
        let mut histogram = Histogram::new(&bounds);
        let ex = |value: f64, t: i64, id: u8| ExemplarData {
            trace_id: TraceId([id; 16]),
            span_id: Some(SpanId([id; 8])),
            value,
            timestamp_ms: t,
        };
        histogram.observe(&bounds, 0.5, Some(ex(0.5, 100, 1)));
        histogram.observe(&bounds, 5.0, Some(ex(5.0, 101, 2)));
        histogram.observe(&bounds, 7.0, Some(ex(7.0, 102, 3)));
        histogram.observe(&bounds, 70.0, None);
        let labels = [Label {
            name: "job".into(),
            value: "a".into(),
        }];
        let mut out = Vec::new();
        histogram.export("h", &bounds, &labels, 1000, &mut out);
        let values: Vec<(String, f64, usize)> = out
            .iter()
            .map(|s| (s.labels.to_string(), s.samples[0].value, s.exemplars.len()))
            .collect();
        assert_eq!(
            values,
            [
                (r#"h_bucket{job="a", le="1"}"#.to_string(), 1.0, 1),
                (r#"h_bucket{job="a", le="10"}"#.to_string(), 3.0, 1),
                (r#"h_bucket{job="a", le="+Inf"}"#.to_string(), 4.0, 0),
                (r#"h_sum{job="a"}"#.to_string(), 82.5, 0),
                (r#"h_count{job="a"}"#.to_string(), 4.0, 0),
            ]
        );
        let latest = &out[1].exemplars[0];
        assert_eq!(latest.value, 7.0);
        assert_eq!(latest.timestamp_ms, 102);
        assert_eq!(latest.labels.get("trace_id"), Some(&*"03".repeat(16)));
        assert_eq!(latest.labels.get("span_id"), Some(&*"03".repeat(8)));

        // Nothing new: no exemplars the second time; an older one is not re-sent.
        histogram.observe(&bounds, 6.0, Some(ex(6.0, 90, 4)));
        let mut again = Vec::new();
        histogram.export("h", &bounds, &labels, 2000, &mut again);
        assert!(again.iter().all(|s| s.exemplars.is_empty()));
        assert_eq!(again[1].samples[0].value, 4.0);
    }
}
