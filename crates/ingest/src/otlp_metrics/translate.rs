//! One OTLP `ExportMetricsServiceRequest` as Prometheus series, the way
//! Prometheus's OTLP receiver translates by default:
//!
//! - Gauge → gauge. Sum: monotonic → counter named `…_total`, non-monotonic
//!   → gauge; DELTA sums are accumulated into cumulative totals (`delta.rs`).
//! - Histogram → `_bucket{le}` (cumulative counts, `le="+Inf"` = count),
//!   `_sum` (when the point has one), `_count`; DELTA accumulated per bucket.
//! - Exponential histogram → the same classic series at the exponential
//!   bucket boundaries (`expo.rs`).
//! - Summary → `{quantile}`, `_sum`, `_count`.
//! - Names and unit suffixes per `names.rs`; attributes, `job`/`instance`,
//!   `otel_scope_*` and `target_info` per `labels.rs`.
//! - Exemplars (with `trace_id`, `span_id`) on monotonic sums and on the
//!   histogram bucket their value falls in.
//! - The `NO_RECORDED_VALUE` flag writes staleness markers; times ns → ms.
//!
//! A data point that cannot be translated (no time, no value, unspecified
//! temporality, bucket counts that do not match the bounds, labels over the
//! [`Limits`]) is rejected and counted; the rest of the request is kept.

use super::delta::{Bound, DeltaState, DeltaUpdates, HistogramTotals};
use super::expo;
use super::labels::{attribute_labels, float_string, Context};
use super::names::{metric_name, unit_name, Kind};
use crate::limits::{truncate_utf8, Limits};
use model::metrics::{
    stale_nan, Exemplar, Label, Labels, MetricMetadata, MetricType, Sample, TimeSeries, METRIC_NAME,
};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, metric::Data, number_data_point, AggregationTemporality, Exemplar as OtlpExemplar,
    HistogramDataPoint, Metric, NumberDataPoint, SummaryDataPoint,
};
use std::collections::{BTreeMap, HashMap};
use store::series::SeriesBatch;

/// How many rejection reasons a response spells out (the rest are counted).
pub const MAX_REASONS: usize = 5;

/// `DataPointFlags.FLAG_NO_RECORDED_VALUE`.
const NO_RECORDED_VALUE: u32 = 1;

/// A request after translation.
#[derive(Debug, Default)]
pub struct Translated {
    /// The series and metadata to append.
    pub batch: SeriesBatch,
    /// Data points in the request.
    pub points: u64,
    /// Data points not translated.
    pub rejected_points: u64,
    /// Why, for the first [`MAX_REASONS`].
    pub reasons: Vec<String>,
    /// Delta totals to commit once the batch is stored.
    pub deltas: DeltaUpdates,
}

/// Translates `request`; delta points are accumulated on top of `deltas`
/// (into [`Translated::deltas`], not yet committed).
pub fn translate(
    request: &ExportMetricsServiceRequest,
    limits: &Limits,
    deltas: &DeltaState,
) -> Translated {
    let mut builder = Builder {
        limits,
        deltas,
        out: Translated::default(),
        index: HashMap::new(),
        series: Vec::new(),
        metadata: BTreeMap::new(),
        newest_ms: None,
    };
    for resource_metrics in &request.resource_metrics {
        let resource = Context::for_resource(resource_metrics.resource.as_ref());
        builder.newest_ms = None;
        for scope_metrics in &resource_metrics.scope_metrics {
            let context = resource.with_scope(scope_metrics.scope.as_ref());
            for metric in &scope_metrics.metrics {
                builder.metric(&context, metric);
            }
        }
        if let (Some(info), Some(ms)) = (&resource.target_info, builder.newest_ms) {
            let mut pairs = info.clone();
            for label in &mut pairs {
                truncate_utf8(&mut label.value, limits.max_attribute_value_bytes);
            }
            pairs.truncate(limits.max_attributes_per_span.saturating_sub(1));
            pairs.push(Label {
                name: METRIC_NAME.into(),
                value: "target_info".into(),
            });
            builder.push(
                Labels::new(pairs),
                Sample {
                    timestamp_ms: ms,
                    value: 1.0,
                },
            );
            builder.meta("target_info", MetricType::Gauge, "Target metadata", "");
        }
    }
    let mut out = builder.out;
    out.batch.series = builder.series;
    for series in &mut out.batch.series {
        series.samples.sort_by_key(|s| s.timestamp_ms);
        series.exemplars.sort_by_key(|e| e.timestamp_ms);
    }
    out.batch.metadata = builder.metadata.into_values().collect();
    out
}

struct Builder<'a> {
    limits: &'a Limits,
    deltas: &'a DeltaState,
    out: Translated,
    index: HashMap<Labels, usize>,
    series: Vec<TimeSeries>,
    metadata: BTreeMap<String, MetricMetadata>,
    /// Newest sample time of the current resource (for `target_info`).
    newest_ms: Option<i64>,
}

/// Unix nanoseconds to milliseconds.
fn time_ms(ns: u64) -> i64 {
    i64::try_from(ns / 1_000_000).unwrap_or(i64::MAX)
}

/// Where a point's samples go: its base labels (`__name__` = the family) and time.
struct Point {
    labels: Labels,
    time_ns: u64,
    time_ms: i64,
    stale: bool,
}

impl Builder<'_> {
    fn reject(&mut self, reason: impl FnOnce() -> String) {
        self.reject_points(1, reason);
    }

    /// Refuses a whole metric's data points (counted as seen and refused).
    fn reject_metric(&mut self, data: &Data, reason: impl FnOnce() -> String) {
        let points = point_count(data);
        self.out.points += points;
        self.reject_points(points, reason);
    }

    fn reject_points(&mut self, points: u64, reason: impl FnOnce() -> String) {
        self.out.rejected_points += points;
        if self.out.reasons.len() < MAX_REASONS {
            self.out.reasons.push(reason());
        }
    }

    fn meta(&mut self, family: &str, metric_type: MetricType, help: &str, unit: &str) {
        self.metadata.insert(
            family.to_string(),
            MetricMetadata {
                metric_family_name: family.to_string(),
                metric_type,
                help: help.to_string(),
                unit: unit.to_string(),
            },
        );
    }

    fn push(&mut self, labels: Labels, sample: Sample) {
        self.newest_ms = Some(
            self.newest_ms
                .map_or(sample.timestamp_ms, |t| t.max(sample.timestamp_ms)),
        );
        let index = match self.index.get(&labels) {
            Some(&i) => i,
            None => {
                self.series.push(TimeSeries {
                    labels: labels.clone(),
                    samples: Vec::new(),
                    exemplars: Vec::new(),
                });
                self.index.insert(labels, self.series.len() - 1);
                self.series.len() - 1
            }
        };
        self.series[index].samples.push(sample);
    }

    fn push_exemplar(&mut self, labels: &Labels, exemplar: Exemplar) {
        if let Some(&i) = self.index.get(labels) {
            self.series[i].exemplars.push(exemplar);
        }
    }

    /// Checks a data point's labels and time; `None` (rejected) when invalid.
    fn point(
        &mut self,
        context: &Context,
        metric: &Metric,
        family: &str,
        attributes: &[KeyValue],
        time_ns: u64,
        flags: u32,
    ) -> Option<Point> {
        self.out.points += 1;
        if time_ns == 0 {
            self.reject(|| format!("a data point of {} has no time_unix_nano", metric.name));
            return None;
        }
        let labels = context.series_labels(attributes, family, &[]);
        let limits = self.limits;
        if labels.len() > limits.max_attributes_per_span {
            self.reject(|| {
                format!(
                    "a data point of {} has {} labels, over the limit of {}",
                    metric.name,
                    labels.len(),
                    limits.max_attributes_per_span
                )
            });
            return None;
        }
        if let Some((name, value)) = labels
            .iter()
            .find(|(_, v)| v.len() > limits.max_attribute_value_bytes)
        {
            let (name, len) = (name.to_string(), value.len());
            self.reject(|| {
                format!(
                    "a data point of {} has label {name} of {len} bytes, over the limit of {}",
                    metric.name, limits.max_attribute_value_bytes
                )
            });
            return None;
        }
        Some(Point {
            labels,
            time_ns,
            time_ms: time_ms(time_ns),
            stale: flags & NO_RECORDED_VALUE != 0,
        })
    }

    fn metric(&mut self, context: &Context, metric: &Metric) {
        let help = metric.description.as_str();
        let unit = unit_name(&metric.unit);
        let Some(data) = &metric.data else {
            // serde's `flatten` turns undecodable JSON data into "none".
            self.out.points += 1;
            self.reject(|| {
                format!(
                    "metric {} has no gauge, sum, histogram, exponentialHistogram or summary (or it did not decode)",
                    metric.name
                )
            });
            return;
        };
        let kind = match data {
            Data::Gauge(_) => Kind::Gauge,
            Data::Sum(sum) if sum.is_monotonic => Kind::Counter,
            // Non-monotonic sums (Prometheus's "non-monotonic counter", no
            // `_ratio` for unit 1), histograms and summaries.
            _ => Kind::Other,
        };
        let Some(family) = metric_name(&metric.name, &metric.unit, kind) else {
            self.reject_metric(data, || {
                format!(
                    "metric name {:?} has no letters or digits to build a Prometheus name from",
                    metric.name
                )
            });
            return;
        };
        let delta = match data {
            Data::Sum(s) => temporality(s.aggregation_temporality),
            Data::Histogram(h) => temporality(h.aggregation_temporality),
            Data::ExponentialHistogram(h) => temporality(h.aggregation_temporality),
            Data::Gauge(_) | Data::Summary(_) => Some(false),
        };
        let Some(delta) = delta else {
            self.reject_metric(data, || {
                format!(
                    "metric {} has AGGREGATION_TEMPORALITY_UNSPECIFIED; send DELTA or CUMULATIVE",
                    metric.name
                )
            });
            return;
        };
        match data {
            Data::Gauge(g) => {
                self.meta(&family, MetricType::Gauge, help, &unit);
                for p in &g.data_points {
                    self.number(context, metric, &family, p, false, false);
                }
            }
            Data::Sum(s) => {
                let metric_type = if s.is_monotonic {
                    MetricType::Counter
                } else {
                    MetricType::Gauge
                };
                self.meta(&family, metric_type, help, &unit);
                for p in &s.data_points {
                    self.number(context, metric, &family, p, delta, s.is_monotonic);
                }
            }
            Data::Histogram(h) => {
                self.meta(&family, MetricType::Histogram, help, &unit);
                for p in &h.data_points {
                    self.histogram(context, metric, &family, p, delta);
                }
            }
            Data::ExponentialHistogram(h) => {
                self.meta(&family, MetricType::Histogram, help, &unit);
                for p in &h.data_points {
                    let Some(point) = self.point(
                        context,
                        metric,
                        &family,
                        &p.attributes,
                        p.time_unix_nano,
                        p.flags,
                    ) else {
                        continue;
                    };
                    self.emit_histogram(point, expo::to_totals(p), delta, &p.exemplars);
                }
            }
            Data::Summary(s) => {
                self.meta(&family, MetricType::Summary, help, &unit);
                for p in &s.data_points {
                    self.summary(context, metric, &family, p);
                }
            }
        }
    }

    fn number(
        &mut self,
        context: &Context,
        metric: &Metric,
        family: &str,
        p: &NumberDataPoint,
        delta: bool,
        with_exemplars: bool,
    ) {
        let Some(point) = self.point(
            context,
            metric,
            family,
            &p.attributes,
            p.time_unix_nano,
            p.flags,
        ) else {
            return;
        };
        let value = match (point.stale, p.value) {
            (true, _) => stale_nan(),
            (false, Some(number_data_point::Value::AsDouble(d))) => d,
            (false, Some(number_data_point::Value::AsInt(i))) => i as f64,
            (false, None) => {
                self.reject(|| format!("a data point of {} has no value", metric.name));
                return;
            }
        };
        let value = if delta && !point.stale {
            match self
                .deltas
                .add_sum(&mut self.out.deltas, &point.labels, point.time_ns, value)
            {
                Ok(total) => total,
                Err(reason) => {
                    self.reject(|| reason);
                    return;
                }
            }
        } else {
            value
        };
        self.push(
            point.labels.clone(),
            Sample {
                timestamp_ms: point.time_ms,
                value,
            },
        );
        if with_exemplars {
            for e in p.exemplars.iter().filter_map(exemplar) {
                self.push_exemplar(&point.labels, e);
            }
        }
    }

    fn histogram(
        &mut self,
        context: &Context,
        metric: &Metric,
        family: &str,
        p: &HistogramDataPoint,
        delta: bool,
    ) {
        let Some(point) = self.point(
            context,
            metric,
            family,
            &p.attributes,
            p.time_unix_nano,
            p.flags,
        ) else {
            return;
        };
        let bounds = p.explicit_bounds.len();
        if !(p.bucket_counts.is_empty() && bounds == 0) && p.bucket_counts.len() != bounds + 1 {
            self.reject(|| {
                format!(
                    "a data point of {} has {} bucket counts for {bounds} explicit bounds (needs {})",
                    metric.name,
                    p.bucket_counts.len(),
                    bounds + 1
                )
            });
            return;
        }
        if p.explicit_bounds.iter().any(|b| b.is_nan()) {
            self.reject(|| format!("a data point of {} has a NaN bucket bound", metric.name));
            return;
        }
        let mut totals = HistogramTotals {
            count: p.count as f64,
            sum: p.sum,
            ..HistogramTotals::default()
        };
        for (bound, &count) in p.explicit_bounds.iter().zip(&p.bucket_counts) {
            if bound.is_finite() {
                *totals.buckets.entry(Bound(*bound)).or_insert(0.0) += count as f64;
            }
        }
        self.emit_histogram(point, totals, delta, &p.exemplars);
    }

    /// `_bucket{le}`, `_sum`, `_count` of one point (accumulated when delta).
    fn emit_histogram(
        &mut self,
        point: Point,
        totals: HistogramTotals,
        delta: bool,
        exemplars: &[OtlpExemplar],
    ) {
        let totals = if point.stale {
            let bounds = if delta {
                self.deltas
                    .histogram_bounds(&self.out.deltas, &point.labels)
            } else {
                totals.buckets.keys().map(|b| b.0).collect()
            };
            HistogramTotals {
                buckets: bounds
                    .into_iter()
                    .map(|b| (Bound(b), stale_nan()))
                    .collect(),
                count: stale_nan(),
                sum: Some(stale_nan()),
            }
        } else if delta {
            match self.deltas.add_histogram(
                &mut self.out.deltas,
                &point.labels,
                point.time_ns,
                &totals,
            ) {
                Ok(totals) => totals,
                Err(reason) => {
                    self.reject(|| reason);
                    return;
                }
            }
        } else {
            totals
        };
        let family = point.labels.metric_name().unwrap_or("").to_string();
        let at = |value| Sample {
            timestamp_ms: point.time_ms,
            value,
        };
        let mut bucket = point.labels.clone();
        bucket.set(METRIC_NAME, &format!("{family}_bucket"));
        let mut cumulative = 0.0;
        let mut buckets: Vec<(f64, Labels)> = Vec::with_capacity(totals.buckets.len() + 1);
        for (bound, count) in &totals.buckets {
            cumulative += count;
            let mut labels = bucket.clone();
            labels.set("le", &float_string(bound.0));
            let value = if point.stale { stale_nan() } else { cumulative };
            self.push(labels.clone(), at(value));
            buckets.push((bound.0, labels));
        }
        let mut inf = bucket;
        inf.set("le", "+Inf");
        self.push(inf.clone(), at(totals.count));
        buckets.push((f64::INFINITY, inf));
        if let Some(sum) = totals.sum {
            let mut labels = point.labels.clone();
            labels.set(METRIC_NAME, &format!("{family}_sum"));
            self.push(labels, at(sum));
        }
        let mut count = point.labels.clone();
        count.set(METRIC_NAME, &format!("{family}_count"));
        self.push(count, at(totals.count));
        if !point.stale {
            for e in exemplars.iter().filter_map(exemplar) {
                if let Some((_, labels)) = buckets.iter().find(|(bound, _)| e.value <= *bound) {
                    let labels = labels.clone();
                    self.push_exemplar(&labels, e);
                }
            }
        }
    }

    fn summary(&mut self, context: &Context, metric: &Metric, family: &str, p: &SummaryDataPoint) {
        let Some(point) = self.point(
            context,
            metric,
            family,
            &p.attributes,
            p.time_unix_nano,
            p.flags,
        ) else {
            return;
        };
        let value = |v: f64| if point.stale { stale_nan() } else { v };
        let at = |v| Sample {
            timestamp_ms: point.time_ms,
            value: value(v),
        };
        for q in &p.quantile_values {
            let mut labels = point.labels.clone();
            labels.set("quantile", &float_string(q.quantile));
            self.push(labels, at(q.value));
        }
        let mut sum = point.labels.clone();
        sum.set(METRIC_NAME, &format!("{family}_sum"));
        self.push(sum, at(p.sum));
        let mut count = point.labels.clone();
        count.set(METRIC_NAME, &format!("{family}_count"));
        self.push(count, at(p.count as f64));
    }
}

/// `Some(true)` for DELTA, `Some(false)` for CUMULATIVE, `None` otherwise.
fn temporality(value: i32) -> Option<bool> {
    match AggregationTemporality::try_from(value) {
        Ok(AggregationTemporality::Delta) => Some(true),
        Ok(AggregationTemporality::Cumulative) => Some(false),
        _ => None,
    }
}

fn point_count(data: &Data) -> u64 {
    (match data {
        Data::Gauge(g) => g.data_points.len(),
        Data::Sum(s) => s.data_points.len(),
        Data::Histogram(h) => h.data_points.len(),
        Data::ExponentialHistogram(h) => h.data_points.len(),
        Data::Summary(s) => s.data_points.len(),
    }) as u64
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An OTLP exemplar with `trace_id`/`span_id` labels (when set).
fn exemplar(e: &OtlpExemplar) -> Option<Exemplar> {
    let value = match e.value? {
        exemplar::Value::AsDouble(d) => d,
        exemplar::Value::AsInt(i) => i as f64,
    };
    let mut pairs = attribute_labels(&e.filtered_attributes);
    for (name, id) in [("trace_id", &e.trace_id), ("span_id", &e.span_id)] {
        if id.iter().any(|&b| b != 0) {
            pairs.push(Label {
                name: name.into(),
                value: hex(id),
            });
        }
    }
    Some(Exemplar {
        labels: Labels::new(pairs),
        value,
        timestamp_ms: time_ms(e.time_unix_nano),
    })
}

#[cfg(test)]
#[path = "translate_tests.rs"]
mod tests;
