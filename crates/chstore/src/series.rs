//! [`ClickHouseSeriesStore`]: the [`SeriesStore`] over the tables of
//! `series_tables.rs`.
//!
//! Writes go through [`crate::batch`]: acknowledged once inserted (batches
//! go every 200 ms, see `FLUSH_AFTER`), retried, bounded by the store's
//! budget (429 past it). A series' labels are
//! written once per day per instance (a small cache of what this instance
//! wrote, forgotten when a batch fails so the rows go again).
//!
//! Out-of-order and duplicate samples are refused as the embedded TSDB
//! refuses them, against the newest sample this instance took for the
//! series (a bounded cache: after a restart, or for a series another
//! instance writes, the check has nothing to compare with and the sample is
//! taken). Samples a retry or a second sender stores twice are one row after
//! merges and are read once (the first of equal timestamps). The per-series
//! cardinality limits of the embedded store (`--max-series`) do not apply:
//! no instance sees the whole database's series count cheaply.
//!
//! Reads: the series that may match come from `metric_series` (equality
//! matchers in SQL), every matcher is applied again here (regular
//! expressions only here, see [`crate::series_sql`]), then the samples of
//! the matching fingerprints come from `metric_samples`.

use crate::batch::{self, Batcher};
use crate::client::Client;
use crate::rowbinary::{day_of_ms, RowReader, RowWriter};
use crate::series_sql;
use model::metrics::{Exemplar, Label, Labels, MetricMetadata, MetricType, Sample};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use store::series::{
    Appended, Matcher, Rejections, Select, SeriesBatch, SeriesData, SeriesExemplars, SeriesQuery,
    SeriesStats, SeriesStore,
};
use store::StoreError;

/// How long a sample waits for its batch. Shorter than the span store's
/// second: Prometheus's remote_write sends one request at a time per shard
/// and waits for its answer, so this bounds each shard's throughput (2,000
/// samples per request / 0.2 s); 200 ms is also ClickHouse's own
/// `async_insert_busy_timeout_ms`.
const FLUSH_AFTER: Duration = Duration::from_millis(200);
/// Fingerprints per `IN (…)` list (about 21 bytes each, far below
/// ClickHouse's 256 KiB max_query_size).
const FINGERPRINTS_PER_QUERY: usize = 5000;
/// Series whose newest sample and written days an instance remembers;
/// past it the caches start over (costing only extra series rows and
/// unchecked order for a while).
const CACHE_SERIES: usize = 1 << 20;

/// The stable identity of a label set: xxHash64 of `name\xffvalue\xff…`
/// over the sorted pairs (0xff never occurs in UTF-8).
pub fn fingerprint(labels: &Labels) -> u64 {
    let mut bytes = Vec::with_capacity(labels.heap_bytes() + 2 * labels.len());
    for (name, value) in labels.iter() {
        bytes.extend_from_slice(name.as_bytes());
        bytes.push(0xff);
        bytes.extend_from_slice(value.as_bytes());
        bytes.push(0xff);
    }
    twox_hash::XxHash64::oneshot(0, &bytes)
}

/// What this instance remembers of the series it wrote.
#[derive(Default)]
struct Caches {
    /// Newest sample taken per fingerprint: `(time, value bits)`.
    newest: HashMap<u64, (i64, u64)>,
    /// `(fingerprint, day)` whose series row was written.
    series_days: HashSet<(u64, u16)>,
    /// Metadata rows written, per day.
    metadata: HashSet<(u16, MetricMetadata)>,
}

/// Metric series in ClickHouse.
pub struct ClickHouseSeriesStore {
    client: Arc<Client>,
    writer: Batcher<Rows>,
    caches: Arc<Mutex<Caches>>,
    appended: AtomicU64,
    rejected: AtomicU64,
}

impl std::fmt::Debug for ClickHouseSeriesStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouseSeriesStore")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl ClickHouseSeriesStore {
    /// A store over `client` (whose schema is migrated) holding at most
    /// `budget_bytes` of samples not yet inserted.
    pub fn new(client: Arc<Client>, budget_bytes: u64) -> Self {
        let caches = Arc::new(Mutex::new(Caches::default()));
        let forget = Arc::clone(&caches);
        let on_inserted: batch::OnInserted = Box::new(move |ok| {
            if !ok {
                let mut caches = forget.lock().unwrap_or_else(PoisonError::into_inner);
                caches.series_days.clear();
                caches.metadata.clear();
            }
        });
        let writer =
            Batcher::with_flush_after(&client, budget_bytes, FLUSH_AFTER, Some(on_inserted));
        Self {
            client,
            writer,
            caches,
            appended: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
        }
    }

    fn caches(&self) -> std::sync::MutexGuard<'_, Caches> {
        self.caches.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn query(&self, sql: String) -> Result<bytes::Bytes, StoreError> {
        Ok(self.client.rows(&sql)?)
    }

    /// Series matching every matcher with a row in the range's days.
    fn matching(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<BTreeMap<u64, Labels>, StoreError> {
        let answer = self.query(series_sql::series(matchers, start_ms, end_ms))?;
        let mut rows = RowReader::new(&answer);
        let mut out = BTreeMap::new();
        while !rows.is_done() {
            let fingerprint = rows.u64().map_err(StoreError::from)?;
            let keys = rows.strings().map_err(StoreError::from)?;
            let values = rows.strings().map_err(StoreError::from)?;
            let labels = Labels::new(
                keys.into_iter()
                    .zip(values)
                    .map(|(name, value)| Label { name, value })
                    .collect(),
            );
            if Matcher::all_match(matchers, &labels) {
                out.insert(fingerprint, labels);
            }
        }
        Ok(out)
    }

    /// Series matching any of the query's matcher sets (all series when none).
    fn matching_any(&self, query: &SeriesQuery) -> Result<BTreeMap<u64, Labels>, StoreError> {
        if query.matcher_sets.is_empty() {
            return self.matching(&[], query.start_ms, query.end_ms);
        }
        let mut out = BTreeMap::new();
        for set in &query.matcher_sets {
            out.extend(self.matching(set, query.start_ms, query.end_ms)?);
        }
        Ok(out)
    }

    /// Label sets of `series` ordered by labels, limited.
    fn sorted_labels(series: BTreeMap<u64, Labels>, limit: usize) -> Vec<Labels> {
        let mut labels: Vec<Labels> = series.into_values().collect();
        labels.sort();
        labels.dedup();
        if limit > 0 {
            labels.truncate(limit);
        }
        labels
    }
}

impl SeriesStore for ClickHouseSeriesStore {
    fn append(&self, batch: SeriesBatch) -> Result<Appended, StoreError> {
        let mut rows = Rows::default();
        let mut rejected = Rejections::default();
        let mut accepted = 0u64;
        let mut caches = self.caches();
        if caches.newest.len() > CACHE_SERIES {
            caches.newest.clear();
        }
        if caches.series_days.len() > CACHE_SERIES {
            caches.series_days.clear();
        }
        let now_day = day_of_ms(now_ms());
        for meta in batch.metadata {
            if caches.metadata.insert((now_day, meta.clone())) {
                rows.metadata(now_day, &meta);
            }
        }
        for series in &batch.series {
            let fingerprint = fingerprint(&series.labels);
            let mut newest = caches.newest.get(&fingerprint).copied();
            let mut taken_days: Vec<u16> = Vec::new();
            for sample in &series.samples {
                if let Some((t, bits)) = newest {
                    if sample.timestamp_ms < t {
                        rejected.out_of_order += 1;
                        note(
                            &mut rejected.messages,
                            "out of order sample",
                            &series.labels,
                            sample.timestamp_ms,
                        );
                        continue;
                    }
                    if sample.timestamp_ms == t {
                        if bits != sample.value.to_bits() {
                            rejected.duplicate += 1;
                            note(
                                &mut rejected.messages,
                                "duplicate sample for timestamp",
                                &series.labels,
                                sample.timestamp_ms,
                            );
                        }
                        continue;
                    }
                }
                newest = Some((sample.timestamp_ms, sample.value.to_bits()));
                let day = day_of_ms(sample.timestamp_ms);
                if taken_days.last() != Some(&day) {
                    taken_days.push(day);
                }
                rows.sample(day, fingerprint, sample);
                accepted += 1;
            }
            if let Some(newest) = newest {
                caches.newest.insert(fingerprint, newest);
            }
            for exemplar in &series.exemplars {
                let day = day_of_ms(exemplar.timestamp_ms);
                rows.exemplar(day, fingerprint, exemplar);
            }
            for day in taken_days {
                if caches.series_days.insert((fingerprint, day)) {
                    rows.series(day, fingerprint, &series.labels);
                }
            }
        }
        drop(caches);
        let ack = match self.writer.push(rows) {
            Ok(ack) => ack,
            Err(e) => {
                // Nothing was taken: the cache must not think otherwise.
                let mut caches = self.caches();
                for series in &batch.series {
                    caches.newest.remove(&fingerprint(&series.labels));
                }
                caches.series_days.clear();
                return Err(e);
            }
        };
        self.appended.fetch_add(accepted, Ordering::Relaxed);
        self.rejected.fetch_add(rejected.total(), Ordering::Relaxed);
        Ok(Appended {
            ack,
            accepted_samples: accepted,
            rejected,
        })
    }

    fn select(&self, select: &Select) -> Result<Vec<SeriesData>, StoreError> {
        let series = self.matching(&select.matchers, select.start_ms, select.end_ms)?;
        let fingerprints: Vec<u64> = series.keys().copied().collect();
        let mut samples: HashMap<u64, Vec<Sample>> = HashMap::new();
        let mut total = 0u64;
        let limit = if select.max_samples > 0 {
            select.max_samples + 1
        } else {
            0
        };
        for chunk in fingerprints.chunks(FINGERPRINTS_PER_QUERY) {
            let answer = self.query(series_sql::samples(
                chunk,
                select.start_ms,
                select.end_ms,
                limit,
            ))?;
            let mut rows = RowReader::new(&answer);
            while !rows.is_done() {
                let fingerprint = rows.u64().map_err(StoreError::from)?;
                let timestamp_ms = rows.i64().map_err(StoreError::from)?;
                let value = rows.f64().map_err(StoreError::from)?;
                let list = samples.entry(fingerprint).or_default();
                // Copies of one sample (a retried insert) sit side by side.
                if list.last().is_some_and(|s| s.timestamp_ms == timestamp_ms) {
                    continue;
                }
                list.push(Sample {
                    timestamp_ms,
                    value,
                });
                total += 1;
                if select.max_samples > 0 && total > select.max_samples {
                    return Err(StoreError::TooManySamples {
                        limit: select.max_samples,
                    });
                }
            }
        }
        let mut out: Vec<SeriesData> = series
            .into_iter()
            .filter_map(|(fingerprint, labels)| {
                let samples = samples.remove(&fingerprint)?;
                Some(SeriesData { labels, samples })
            })
            .collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(out)
    }

    fn series(&self, query: &SeriesQuery) -> Result<Vec<Labels>, StoreError> {
        Ok(Self::sorted_labels(self.matching_any(query)?, query.limit))
    }

    fn label_names(&self, query: &SeriesQuery) -> Result<Vec<String>, StoreError> {
        let mut names: Vec<String> = if query.matcher_sets.is_empty() {
            let answer = self.query(series_sql::label_names(query.start_ms, query.end_ms))?;
            let mut rows = RowReader::new(&answer);
            let mut names = Vec::new();
            while !rows.is_done() {
                names.push(rows.string().map_err(StoreError::from)?);
            }
            names
        } else {
            let series = self.matching_any(query)?;
            let mut names: Vec<String> = series
                .values()
                .flat_map(|l| l.iter().map(|(n, _)| n.to_string()))
                .collect();
            names.sort();
            names.dedup();
            names
        };
        if query.limit > 0 {
            names.truncate(query.limit);
        }
        Ok(names)
    }

    fn label_values(&self, name: &str, query: &SeriesQuery) -> Result<Vec<String>, StoreError> {
        let mut values: Vec<String> = if query.matcher_sets.is_empty() {
            let answer =
                self.query(series_sql::label_values(name, query.start_ms, query.end_ms))?;
            let mut rows = RowReader::new(&answer);
            let mut values = Vec::new();
            while !rows.is_done() {
                values.push(rows.string().map_err(StoreError::from)?);
            }
            values
        } else {
            let series = self.matching_any(query)?;
            let mut values: Vec<String> = series
                .values()
                .filter_map(|l| l.get(name).map(str::to_string))
                .collect();
            values.sort();
            values.dedup();
            values
        };
        if query.limit > 0 {
            values.truncate(query.limit);
        }
        Ok(values)
    }

    fn metadata(&self) -> Result<Vec<MetricMetadata>, StoreError> {
        let answer = self.query(series_sql::metadata())?;
        let mut rows = RowReader::new(&answer);
        let mut out = Vec::new();
        while !rows.is_done() {
            let metric_family_name = rows.string().map_err(StoreError::from)?;
            let metric_type = rows.string().map_err(StoreError::from)?;
            out.push(MetricMetadata {
                metric_family_name,
                metric_type: MetricType::parse(&metric_type).unwrap_or_default(),
                help: rows.string().map_err(StoreError::from)?,
                unit: rows.string().map_err(StoreError::from)?,
            });
        }
        Ok(out)
    }

    fn exemplars(
        &self,
        matcher_sets: &[Vec<Matcher>],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<SeriesExemplars>, StoreError> {
        let series = self.matching_any(&SeriesQuery {
            matcher_sets: matcher_sets.to_vec(),
            start_ms,
            end_ms,
            limit: 0,
        })?;
        let fingerprints: Vec<u64> = series.keys().copied().collect();
        let mut found: HashMap<u64, Vec<Exemplar>> = HashMap::new();
        for chunk in fingerprints.chunks(FINGERPRINTS_PER_QUERY) {
            let answer = self.query(series_sql::exemplars(chunk, start_ms, end_ms))?;
            let mut rows = RowReader::new(&answer);
            while !rows.is_done() {
                let fingerprint = rows.u64().map_err(StoreError::from)?;
                let timestamp_ms = rows.i64().map_err(StoreError::from)?;
                let value = rows.f64().map_err(StoreError::from)?;
                let keys = rows.strings().map_err(StoreError::from)?;
                let values = rows.strings().map_err(StoreError::from)?;
                let list = found.entry(fingerprint).or_default();
                if list.last().is_some_and(|e| e.timestamp_ms == timestamp_ms) {
                    continue;
                }
                list.push(Exemplar {
                    labels: Labels::from_pairs(keys.into_iter().zip(values)),
                    value,
                    timestamp_ms,
                });
            }
        }
        let mut out: Vec<SeriesExemplars> = series
            .into_iter()
            .filter_map(|(fingerprint, labels)| {
                let exemplars = found.remove(&fingerprint)?;
                Some(SeriesExemplars { labels, exemplars })
            })
            .collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(out)
    }

    fn stats(&self) -> SeriesStats {
        SeriesStats {
            // The series this instance took samples of (since start, or
            // since its cache last started over).
            active_series: self.caches().newest.len() as u64,
            samples_appended: self.appended.load(Ordering::Relaxed),
            samples_rejected: self.rejected.load(Ordering::Relaxed),
            memory_bytes: self.writer.queued_bytes(),
            ..SeriesStats::default()
        }
    }
}

fn note(messages: &mut Vec<String>, kind: &str, labels: &Labels, t: i64) {
    if !messages.iter().any(|m| m.starts_with(kind)) {
        messages.push(format!("{kind} for series {labels} at {t}"));
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The rows of one write or batch.
#[derive(Default)]
struct Rows {
    series: RowWriter,
    samples: RowWriter,
    metadata: RowWriter,
    exemplars: RowWriter,
}

impl Rows {
    fn series(&mut self, day: u16, fingerprint: u64, labels: &Labels) {
        let w = &mut self.series;
        w.u16(day);
        w.str(labels.metric_name().unwrap_or(""));
        w.u64(fingerprint);
        let (keys, values): (Vec<&str>, Vec<&str>) = labels.iter().unzip();
        w.strings(&keys);
        w.strings(&values);
        w.end_row();
    }

    fn sample(&mut self, day: u16, fingerprint: u64, sample: &Sample) {
        let w = &mut self.samples;
        w.u16(day);
        w.u64(fingerprint);
        w.i64(sample.timestamp_ms);
        w.f64(sample.value);
        w.end_row();
    }

    fn metadata(&mut self, day: u16, meta: &MetricMetadata) {
        let w = &mut self.metadata;
        w.u16(day);
        w.str(&meta.metric_family_name);
        w.str(meta.metric_type.as_str());
        w.str(&meta.help);
        w.str(&meta.unit);
        w.i64(now_ms());
        w.end_row();
    }

    fn exemplar(&mut self, day: u16, fingerprint: u64, exemplar: &Exemplar) {
        let w = &mut self.exemplars;
        w.u16(day);
        w.u64(fingerprint);
        w.i64(exemplar.timestamp_ms);
        w.f64(exemplar.value);
        let (keys, values): (Vec<&str>, Vec<&str>) = exemplar.labels.iter().unzip();
        w.strings(&keys);
        w.strings(&values);
        w.end_row();
    }
}

impl batch::Rows for Rows {
    fn rows(&self) -> usize {
        self.samples.rows()
    }

    fn bytes(&self) -> u64 {
        (self.series.len() + self.samples.len() + self.metadata.len() + self.exemplars.len()) as u64
    }

    fn append(&mut self, other: Self) {
        self.series.extend_rows(other.series);
        self.samples.extend_rows(other.samples);
        self.metadata.extend_rows(other.metadata);
        self.exemplars.extend_rows(other.exemplars);
    }

    // Series rows first: a reader that finds a sample finds its labels.
    fn into_inserts(self) -> Vec<(&'static str, Vec<u8>)> {
        vec![
            ("metric_series", self.series.into_bytes()),
            ("metric_metadata", self.metadata.into_bytes()),
            ("metric_exemplars", self.exemplars.into_bytes()),
            ("metric_samples", self.samples.into_bytes()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_and_tell_label_sets_apart() {
        let a = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
        let b = Labels::from_pairs([("job", "a"), ("__name__", "up")]);
        assert_eq!(fingerprint(&a), fingerprint(&b));
        // The separator keeps `ab=c` apart from `a=bc`.
        let c = Labels::from_pairs([("ab", "c")]);
        let d = Labels::from_pairs([("a", "bc")]);
        assert_ne!(fingerprint(&c), fingerprint(&d));
        // Pinned: a change would split every stored series in two.
        assert_eq!(fingerprint(&a), 6_193_206_268_627_925_327);
    }
}
