//! An in-memory [`SeriesStore`] with no durability: the reference behaviour
//! for the trait (out-of-order and duplicate checks, matcher semantics) and
//! the fixture unit tests of the PromQL engine and the APIs run against. Not
//! used by `serve` (that is [`crate::tsdb`]).

use super::{
    Appended, Matcher, Rejections, Select, SeriesBatch, SeriesData, SeriesExemplars, SeriesQuery,
    SeriesStats, SeriesStore,
};
use crate::StoreError;
use model::metrics::{Exemplar, Labels, MetricMetadata, Sample};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{PoisonError, RwLock};

#[derive(Default)]
struct Series {
    samples: Vec<Sample>,
    exemplars: Vec<Exemplar>,
}

#[derive(Default)]
struct Inner {
    series: BTreeMap<Labels, Series>,
    metadata: BTreeMap<String, MetricMetadata>,
    appended: u64,
    rejected: u64,
}

/// Every series in a `BTreeMap`, every sample in a `Vec`.
#[derive(Default)]
pub struct MemorySeriesStore {
    inner: RwLock<Inner>,
}

impl MemorySeriesStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn note(messages: &mut Vec<String>, kind: &str, labels: &Labels, t: i64) {
    if !messages.iter().any(|m| m.starts_with(kind)) {
        messages.push(format!("{kind} for series {labels} at {t}"));
    }
}

fn series_matches(labels: &Labels, query: &SeriesQuery) -> bool {
    query.matcher_sets.is_empty()
        || query
            .matcher_sets
            .iter()
            .any(|set| Matcher::all_match(set, labels))
}

fn in_time(series: &Series, query: &SeriesQuery) -> bool {
    series
        .samples
        .iter()
        .any(|s| s.timestamp_ms >= query.start_ms && s.timestamp_ms <= query.end_ms)
}

impl SeriesStore for MemorySeriesStore {
    fn append(&self, batch: SeriesBatch) -> Result<Appended, StoreError> {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let mut rejected = Rejections::default();
        let mut accepted = 0u64;
        for meta in batch.metadata {
            inner.metadata.insert(meta.metric_family_name.clone(), meta);
        }
        for ts in batch.series {
            let series = inner.series.entry(ts.labels.clone()).or_default();
            for sample in ts.samples {
                match series.samples.last() {
                    Some(last) if sample.timestamp_ms < last.timestamp_ms => {
                        rejected.out_of_order += 1;
                        note(
                            &mut rejected.messages,
                            "out of order sample",
                            &ts.labels,
                            sample.timestamp_ms,
                        );
                    }
                    Some(last) if sample.timestamp_ms == last.timestamp_ms => {
                        if last.value.to_bits() != sample.value.to_bits() {
                            rejected.duplicate += 1;
                            note(
                                &mut rejected.messages,
                                "duplicate sample for timestamp",
                                &ts.labels,
                                sample.timestamp_ms,
                            );
                        }
                    }
                    _ => {
                        series.samples.push(sample);
                        accepted += 1;
                    }
                }
            }
            series.exemplars.extend(ts.exemplars);
        }
        inner.appended += accepted;
        inner.rejected += rejected.total();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let _ = tx.send(Ok(()));
        Ok(Appended {
            ack: rx,
            accepted_samples: accepted,
            rejected,
        })
    }

    fn select(&self, select: &Select) -> Result<Vec<SeriesData>, StoreError> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let mut out = Vec::new();
        let mut total = 0u64;
        for (labels, series) in &inner.series {
            if !Matcher::all_match(&select.matchers, labels) {
                continue;
            }
            let samples: Vec<Sample> = series
                .samples
                .iter()
                .filter(|s| s.timestamp_ms >= select.start_ms && s.timestamp_ms <= select.end_ms)
                .copied()
                .collect();
            if samples.is_empty() {
                continue;
            }
            total += samples.len() as u64;
            if select.max_samples > 0 && total > select.max_samples {
                return Err(StoreError::TooManySamples {
                    limit: select.max_samples,
                });
            }
            out.push(SeriesData {
                labels: labels.clone(),
                samples,
            });
        }
        Ok(out)
    }

    fn series(&self, query: &SeriesQuery) -> Result<Vec<Labels>, StoreError> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<Labels> = inner
            .series
            .iter()
            .filter(|(labels, series)| series_matches(labels, query) && in_time(series, query))
            .map(|(labels, _)| labels.clone())
            .collect();
        if query.limit > 0 {
            out.truncate(query.limit);
        }
        Ok(out)
    }

    fn label_names(&self, query: &SeriesQuery) -> Result<Vec<String>, StoreError> {
        let names: BTreeSet<String> = self
            .series(&SeriesQuery {
                limit: 0,
                ..query.clone()
            })?
            .iter()
            .flat_map(|l| l.iter().map(|(n, _)| n.to_string()).collect::<Vec<_>>())
            .collect();
        let mut out: Vec<String> = names.into_iter().collect();
        if query.limit > 0 {
            out.truncate(query.limit);
        }
        Ok(out)
    }

    fn label_values(&self, name: &str, query: &SeriesQuery) -> Result<Vec<String>, StoreError> {
        let values: BTreeSet<String> = self
            .series(&SeriesQuery {
                limit: 0,
                ..query.clone()
            })?
            .iter()
            .filter_map(|l| l.get(name).map(str::to_string))
            .collect();
        let mut out: Vec<String> = values.into_iter().collect();
        if query.limit > 0 {
            out.truncate(query.limit);
        }
        Ok(out)
    }

    fn metadata(&self) -> Result<Vec<MetricMetadata>, StoreError> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        Ok(inner.metadata.values().cloned().collect())
    }

    fn exemplars(
        &self,
        matcher_sets: &[Vec<Matcher>],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<SeriesExemplars>, StoreError> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        Ok(inner
            .series
            .iter()
            .filter(|(labels, _)| {
                matcher_sets
                    .iter()
                    .any(|set| Matcher::all_match(set, labels))
            })
            .filter_map(|(labels, series)| {
                let exemplars: Vec<Exemplar> = series
                    .exemplars
                    .iter()
                    .filter(|e| e.timestamp_ms >= start_ms && e.timestamp_ms <= end_ms)
                    .cloned()
                    .collect();
                (!exemplars.is_empty()).then(|| SeriesExemplars {
                    labels: labels.clone(),
                    exemplars,
                })
            })
            .collect())
    }

    fn stats(&self) -> SeriesStats {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        SeriesStats {
            active_series: inner.series.len() as u64,
            head_samples: inner.series.values().map(|s| s.samples.len() as u64).sum(),
            samples_appended: inner.appended,
            samples_rejected: inner.rejected,
            ..SeriesStats::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::metrics::TimeSeries;

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

    #[test]
    fn out_of_order_and_duplicates_are_refused_and_named() {
        let store = MemorySeriesStore::new();
        let up = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
        let first = store
            .append(batch(&up, &[(1000, 1.0), (2000, 1.0)]))
            .expect("append");
        assert_eq!(first.accepted_samples, 2);
        let second = store
            .append(batch(
                &up,
                &[(1500, 1.0), (2000, 1.0), (2000, 5.0), (3000, 0.0)],
            ))
            .expect("append");
        assert_eq!(second.accepted_samples, 1);
        assert_eq!(second.rejected.out_of_order, 1);
        assert_eq!(second.rejected.duplicate, 1);
        assert!(second.rejected.messages[0].contains(r#"up{job="a"}"#));
    }

    #[test]
    fn select_applies_matchers_and_range() {
        let store = MemorySeriesStore::new();
        for job in ["a", "b"] {
            let labels = Labels::from_pairs([("__name__", "up"), ("job", job)]);
            store
                .append(batch(&labels, &[(1000, 1.0), (2000, 2.0), (3000, 3.0)]))
                .expect("append");
        }
        let got = store
            .select(&Select {
                matchers: vec![Matcher::equal("job", "b")],
                start_ms: 2000,
                end_ms: 3000,
                max_samples: 0,
            })
            .expect("select");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].samples.len(), 2);
        assert_eq!(
            store
                .label_values("job", &SeriesQuery::all())
                .expect("values"),
            ["a", "b"]
        );
    }
}
