//! [`SeriesStore`] for [`Tsdb`]: reads merge the blocks (oldest first) and
//! the head. The head is read under its lock together with a snapshot of the
//! block list; blocks are read after the lock is released. A sample can be
//! in both only while a cut is being published, so merging keeps strictly
//! increasing timestamps per series.

use super::maintenance::wal_bytes;
use super::Tsdb;
use crate::series::{
    Appended, Matcher, Select, SeriesBatch, SeriesData, SeriesExemplars, SeriesQuery, SeriesStats,
    SeriesStore,
};
use crate::StoreError;
use model::metrics::{Labels, MetricMetadata, Sample};
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;

fn push_merged(into: &mut Vec<Sample>, more: &[Sample]) -> u64 {
    let last = into.last().map_or(i64::MIN, |s| s.timestamp_ms);
    let before = into.len();
    into.extend(more.iter().filter(|s| s.timestamp_ms > last));
    (into.len() - before) as u64
}

fn is_everything(query: &SeriesQuery) -> bool {
    query.matcher_sets.is_empty() && query.start_ms == i64::MIN && query.end_ms == i64::MAX
}

fn limited<T>(mut v: Vec<T>, limit: usize) -> Vec<T> {
    if limit > 0 {
        v.truncate(limit);
    }
    v
}

impl SeriesStore for Tsdb {
    fn append(&self, batch: SeriesBatch) -> Result<Appended, StoreError> {
        self.append_batch(batch)
    }

    fn select(&self, select: &Select) -> Result<Vec<SeriesData>, StoreError> {
        let (lo, hi) = (select.start_ms, select.end_ms);
        let mut total = 0u64;
        let mut check = |n: u64| {
            total += n;
            if select.max_samples > 0 && total > select.max_samples {
                Err(StoreError::TooManySamples {
                    limit: select.max_samples,
                })
            } else {
                Ok(())
            }
        };
        let (head_part, blocks) = {
            let head = self.shared.head();
            let blocks = self.shared.blocks();
            let mut part = Vec::new();
            for id in head.resolve(&select.matchers) {
                let mut samples = Vec::new();
                head.samples(id, lo, hi, &mut samples);
                if !samples.is_empty() {
                    part.push((head.labels(id), samples));
                }
            }
            (part, blocks)
        };
        // A series' first part is moved in, not copied: most series live in
        // one block or only in the head.
        let mut out: BTreeMap<Labels, Vec<Sample>> = BTreeMap::new();
        let mut merge = |labels: Labels, samples: Vec<Sample>| match out.entry(labels) {
            Entry::Vacant(slot) => {
                let n = samples.len() as u64;
                slot.insert(samples);
                n
            }
            Entry::Occupied(mut slot) => push_merged(slot.get_mut(), &samples),
        };
        for block in blocks.iter().filter(|b| b.overlaps(lo, hi)) {
            for id in block.resolve(&select.matchers) {
                let mut samples = Vec::new();
                block.samples(id, lo, hi, &mut samples)?;
                if !samples.is_empty() {
                    check(merge(block.labels(id), samples))?;
                }
            }
        }
        for (labels, samples) in head_part {
            check(merge(labels, samples))?;
        }
        Ok(out
            .into_iter()
            .map(|(labels, samples)| SeriesData { labels, samples })
            .collect())
    }

    fn series(&self, query: &SeriesQuery) -> Result<Vec<Labels>, StoreError> {
        let (lo, hi) = (query.start_ms, query.end_ms);
        let (mut out, blocks) = {
            let head = self.shared.head();
            let blocks = self.shared.blocks();
            let set: BTreeSet<Labels> = head
                .resolve_any(&query.matcher_sets)
                .into_iter()
                .filter(|&id| head.has_sample_in(id, lo, hi))
                .map(|id| head.labels(id))
                .collect();
            (set, blocks)
        };
        for block in blocks.iter().filter(|b| b.overlaps(lo, hi)) {
            for id in block.resolve_any(&query.matcher_sets) {
                if block.has_sample_in(id, lo, hi)? {
                    out.insert(block.labels(id));
                }
            }
        }
        Ok(limited(out.into_iter().collect(), query.limit))
    }

    fn label_names(&self, query: &SeriesQuery) -> Result<Vec<String>, StoreError> {
        let names: BTreeSet<String> = if is_everything(query) {
            let mut names: BTreeSet<String> = self
                .shared
                .head()
                .all_names()
                .into_iter()
                .map(str::to_string)
                .collect();
            for block in self.shared.blocks() {
                names.extend(block.label_names());
            }
            names
        } else {
            self.series(&SeriesQuery {
                limit: 0,
                ..query.clone()
            })?
            .iter()
            .flat_map(|l| l.iter().map(|(n, _)| n.to_string()).collect::<Vec<_>>())
            .collect()
        };
        Ok(limited(names.into_iter().collect(), query.limit))
    }

    fn label_values(&self, name: &str, query: &SeriesQuery) -> Result<Vec<String>, StoreError> {
        let values: BTreeSet<String> = if is_everything(query) {
            let mut values: BTreeSet<String> = self
                .shared
                .head()
                .all_values(name)
                .into_iter()
                .map(str::to_string)
                .collect();
            for block in self.shared.blocks() {
                values.extend(block.label_values(name));
            }
            values
        } else {
            self.series(&SeriesQuery {
                limit: 0,
                ..query.clone()
            })?
            .iter()
            .filter_map(|l| l.get(name).map(str::to_string))
            .collect()
        };
        Ok(limited(values.into_iter().collect(), query.limit))
    }

    fn metadata(&self) -> Result<Vec<MetricMetadata>, StoreError> {
        Ok(self.shared.head().metadata.values().cloned().collect())
    }

    fn exemplars(
        &self,
        matcher_sets: &[Vec<Matcher>],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<SeriesExemplars>, StoreError> {
        if matcher_sets.is_empty() {
            return Ok(Vec::new());
        }
        let head = self.shared.head();
        let ids = head.resolve_any(matcher_sets);
        let mut out = head.exemplars(&ids, start_ms, end_ms);
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(out)
    }

    fn stats(&self) -> SeriesStats {
        let blocks = self.shared.blocks();
        let (active, samples, bytes) = {
            let head = self.shared.head();
            (head.active, head.sample_count(), head.bytes() as u64)
        };
        SeriesStats {
            active_series: active as u64,
            head_samples: samples,
            head_bytes: bytes,
            blocks: blocks.len() as u64,
            disk_bytes: blocks.iter().map(|b| b.meta().bytes).sum::<u64>()
                + wal_bytes(&self.shared),
            samples_appended: self.shared.appended.load(Ordering::Relaxed),
            samples_rejected: self.shared.rejected.load(Ordering::Relaxed),
            series_over_limit: self.shared.series_over_limit.load(Ordering::Relaxed),
            series_over_budget: self.shared.series_over_budget.load(Ordering::Relaxed),
            memory_bytes: bytes + self.shared.wal.queued_bytes.load(Ordering::Relaxed),
        }
    }
}
