//! The in-memory head: interned series with compressed chunks, a hash from
//! label set to series id, and a postings index (label name → value →
//! sorted series ids). Appends are validated and applied here under the
//! store's write lock, and their WAL payload is encoded in the same pass so
//! the log's order is the head's order. Reads live in [`read`], memory
//! accounting in [`memory`].

mod ids;
mod memory;
mod read;
mod slots;

use super::record;
use super::series::MemSeries;
use super::symbols::Symbols;
use crate::series::Rejections;
use ids::IdList;
use memory::{exemplar_heap, list_bytes, map_bytes, metadata_bytes};
use model::metrics::{Exemplar, Label, Labels, MetricMetadata, Sample, TimeSeries, METRIC_NAME};
use rustc_hash::{FxHashMap, FxHasher};
use slots::Slots;
use std::collections::{BTreeMap, VecDeque};
use std::hash::Hasher;

/// Cardinality limits applied to new series (0 = none).
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// Active series in total.
    pub max_series: u64,
    /// Active series per metric name.
    pub max_series_per_metric: u64,
    /// Bytes the head may hold before new series are refused.
    pub max_head_bytes: u64,
}

/// What one append did.
#[derive(Debug, Default)]
pub struct AppendOutcome {
    /// Samples taken.
    pub accepted: u64,
    /// Samples refused.
    pub rejected: Rejections,
    /// New series refused by the cardinality limits.
    pub series_over_limit: u64,
    /// New series refused because the head is at its memory budget.
    pub series_over_budget: u64,
}

/// Why a new series was refused, with the message's detail.
enum Refusal {
    /// `--max-series` or `--max-series-per-metric`.
    Cardinality(String),
    /// The head is at its share of `--memory-budget`.
    Memory(String),
}

/// The head.
pub struct Head {
    pub(super) symbols: Symbols,
    series: Slots,
    free: Vec<u32>,
    by_hash: FxHashMap<u64, u32>,
    collided: FxHashMap<u64, Vec<u32>>,
    postings: FxHashMap<u32, FxHashMap<u32, IdList>>,
    per_metric: FxHashMap<u32, u64>,
    /// Live series.
    pub active: usize,
    /// Oldest sample held (`i64::MAX` when empty).
    pub min_t: i64,
    /// Newest sample held (`i64::MIN` when empty).
    pub max_t: i64,
    /// Samples before this are in blocks: refused, and skipped on replay.
    pub min_valid_t: i64,
    range_ms: i64,
    exemplars: VecDeque<(u32, Exemplar)>,
    exemplar_cap: usize,
    /// Family metadata, latest per family.
    pub metadata: BTreeMap<String, MetricMetadata>,
    /// Running count of the bytes held ([`memory`]).
    bytes: usize,
    /// Running count of the samples held.
    samples: u64,
}

/// FxHash of a label set's strings.
pub fn hash_labels<'a>(labels: impl Iterator<Item = (&'a str, &'a str)>) -> u64 {
    let mut h = FxHasher::default();
    for (n, v) in labels {
        h.write(n.as_bytes());
        h.write_u8(0xff);
        h.write(v.as_bytes());
        h.write_u8(0xfe);
    }
    h.finish()
}

fn note(messages: &mut Vec<String>, kind: &str, detail: String) {
    if !messages.iter().any(|m| m.starts_with(kind)) {
        messages.push(format!("{kind} {detail}"));
    }
}

impl Head {
    /// An empty head cutting chunks at `range_ms` boundaries.
    pub fn new(range_ms: i64, exemplar_cap: usize) -> Self {
        Self {
            symbols: Symbols::default(),
            series: Slots::default(),
            free: Vec::new(),
            by_hash: FxHashMap::default(),
            collided: FxHashMap::default(),
            postings: FxHashMap::default(),
            per_metric: FxHashMap::default(),
            active: 0,
            min_t: i64::MAX,
            max_t: i64::MIN,
            min_valid_t: i64::MIN,
            range_ms,
            exemplars: VecDeque::new(),
            exemplar_cap,
            metadata: BTreeMap::new(),
            bytes: 0,
            samples: 0,
        }
    }

    fn get(&self, id: u32) -> Option<&MemSeries> {
        self.series.get(id)
    }

    fn same_labels(&self, id: u32, labels: &Labels) -> bool {
        self.get(id).is_some_and(|s| {
            s.labels.len() == labels.len()
                && s.labels
                    .iter()
                    .zip(labels.iter())
                    .all(|(&(n, v), (ln, lv))| {
                        self.symbols.str(n) == ln && self.symbols.str(v) == lv
                    })
        })
    }

    /// The id of a live series.
    pub fn lookup(&self, labels: &Labels, hash: u64) -> Option<u32> {
        match self.by_hash.get(&hash) {
            Some(&id) if self.same_labels(id, labels) => Some(id),
            _ => self
                .collided
                .get(&hash)?
                .iter()
                .copied()
                .find(|&id| self.same_labels(id, labels)),
        }
    }

    /// The label set of a live series.
    pub fn labels(&self, id: u32) -> Labels {
        let pairs = self.get(id).map_or(&[][..], |s| &s.labels[..]);
        Labels::from_sorted_unchecked(
            pairs
                .iter()
                .map(|&(n, v)| Label {
                    name: self.symbols.str(n).to_string(),
                    value: self.symbols.str(v).to_string(),
                })
                .collect(),
        )
    }

    fn create(&mut self, labels: &Labels, hash: u64, first: Sample) -> u32 {
        let fixed_before = self.fixed_bytes();
        let mut delta = 0isize;
        let pairs: Box<[(u32, u32)]> = labels
            .iter()
            .map(|(n, v)| (self.symbols.intern(n), self.symbols.intern(v)))
            .collect();
        let id = match self.free.pop() {
            Some(id) => id,
            None => self.series.push(),
        };
        for &(n, v) in pairs.iter() {
            let values = self.postings.entry(n).or_default();
            let values_before = map_bytes(values);
            let list = values.entry(v).or_default();
            let list_before = list.heap_bytes();
            list.insert(id);
            delta += list.heap_bytes() as isize - list_before as isize;
            delta += map_bytes(values) as isize - values_before as isize;
        }
        if let Some(name) = labels.metric_name() {
            *self
                .per_metric
                .entry(self.symbols.intern(name))
                .or_default() += 1;
        }
        match self.by_hash.entry(hash) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(id);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                let list = self.collided.entry(hash).or_default();
                let before = list_bytes(list);
                list.push(id);
                delta += list_bytes(list) as isize - before as isize;
            }
        }
        let series = MemSeries::new(pairs, first);
        delta += series.heap_bytes() as isize;
        self.series.set(id, series);
        delta += self.fixed_bytes() as isize - fixed_before as isize;
        self.charge(delta);
        self.samples += 1;
        self.active += 1;
        self.note_time(first.timestamp_ms);
        id
    }

    fn remove(&mut self, id: u32) {
        let Some(series) = self.series.take(id) else {
            return;
        };
        let fixed_before = self.fixed_bytes();
        let mut delta = -(series.heap_bytes() as isize);
        self.samples = self.samples.saturating_sub(series.sample_count());
        let labels: Vec<(String, String)> = series
            .labels
            .iter()
            .map(|&(n, v)| (self.symbols.str(n).into(), self.symbols.str(v).into()))
            .collect();
        let hash = hash_labels(labels.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        if self.by_hash.get(&hash) == Some(&id) {
            self.by_hash.remove(&hash);
            if let Some(list) = self.collided.get_mut(&hash) {
                if let Some(moved) = list.pop() {
                    self.by_hash.insert(hash, moved);
                }
            }
        } else if let Some(list) = self.collided.get_mut(&hash) {
            list.retain(|&x| x != id);
        }
        if self.collided.get(&hash).is_some_and(Vec::is_empty) {
            if let Some(list) = self.collided.remove(&hash) {
                delta -= list_bytes(&list) as isize;
            }
        }
        for &(n, v) in series.labels.iter() {
            if let Some(values) = self.postings.get_mut(&n) {
                if let Some(list) = values.get_mut(&v) {
                    list.remove(id);
                    if list.is_empty() {
                        delta -= list.heap_bytes() as isize;
                        values.remove(&v);
                    }
                }
                if values.is_empty() {
                    delta -= map_bytes(values) as isize;
                    self.postings.remove(&n);
                }
            }
        }
        if let Some((_, name)) = labels.iter().find(|(n, _)| n == METRIC_NAME) {
            if let Some(sym) = self.symbols.get(name) {
                if let Some(count) = self.per_metric.get_mut(&sym) {
                    *count = count.saturating_sub(1);
                }
            }
        }
        self.free.push(id);
        delta += self.fixed_bytes() as isize - fixed_before as isize;
        self.charge(delta);
        self.active -= 1;
    }

    fn note_time(&mut self, t: i64) {
        self.min_t = self.min_t.min(t);
        self.max_t = self.max_t.max(t);
    }

    /// Oldest timestamp appends may carry: after the newest block, and no
    /// more than half a block range before the head's newest sample.
    pub fn appendable_from(&self) -> i64 {
        let window = if self.active > 0 {
            self.max_t.saturating_sub(self.range_ms / 2)
        } else {
            i64::MIN
        };
        self.min_valid_t.max(window)
    }

    /// Validates and applies one series' samples and exemplars, logging
    /// what was taken to `wal`.
    pub fn append_series(
        &mut self,
        ts: &TimeSeries,
        limits: Limits,
        wal: &mut record::Payload,
        scratch: &mut Vec<Sample>,
        out: &mut AppendOutcome,
    ) {
        let hash = hash_labels(ts.labels.iter());
        let mut id = self.lookup(&ts.labels, hash);
        let mut last = id.and_then(|id| self.get(id)).map(MemSeries::last);
        let from = self.appendable_from();
        scratch.clear();
        let rejected = &mut out.rejected;
        for s in &ts.samples {
            let t = s.timestamp_ms;
            match last {
                _ if t < from => {
                    rejected.too_old += 1;
                    note(
                        &mut rejected.messages,
                        "out of bounds",
                        format!(
                            "sample for series {} at {t} (appendable from {from})",
                            ts.labels
                        ),
                    );
                }
                Some((lt, _)) if t < lt => {
                    rejected.out_of_order += 1;
                    note(
                        &mut rejected.messages,
                        "out of order sample",
                        format!("for series {} at {t}", ts.labels),
                    );
                }
                Some((lt, bits)) if t == lt => {
                    if bits != s.value.to_bits() {
                        rejected.duplicate += 1;
                        note(
                            &mut rejected.messages,
                            "duplicate sample for timestamp",
                            format!("for series {} at {t}", ts.labels),
                        );
                    }
                }
                _ => {
                    scratch.push(*s);
                    last = Some((t, s.value.to_bits()));
                }
            }
        }
        if id.is_none() && !scratch.is_empty() {
            if let Some(refusal) = self.over_limit(&ts.labels, limits) {
                rejected.over_limit += scratch.len() as u64;
                let kind = match refusal {
                    Refusal::Cardinality(_) => {
                        out.series_over_limit += 1;
                        "too many series"
                    }
                    Refusal::Memory(_) => {
                        out.series_over_budget += 1;
                        "metrics head memory budget exhausted"
                    }
                };
                let (Refusal::Cardinality(detail) | Refusal::Memory(detail)) = refusal;
                note(&mut rejected.messages, kind, detail);
                return;
            }
            let new_id = self.create(&ts.labels, hash, scratch[0]);
            record::put_series(&mut wal.buf, new_id, ts.labels.iter());
            id = Some(new_id);
            self.push_samples(new_id, &scratch[1..]);
        } else if let Some(id) = id {
            self.push_samples(id, scratch);
        }
        let Some(id) = id else { return };
        if !scratch.is_empty() {
            wal.samples(id, scratch);
            out.accepted += scratch.len() as u64;
        }
        for e in &ts.exemplars {
            record::put_exemplar(&mut wal.buf, id, e);
            self.add_exemplar(id, e.clone());
        }
    }

    fn over_limit(&mut self, labels: &Labels, limits: Limits) -> Option<Refusal> {
        let name = labels.metric_name().unwrap_or("");
        if limits.max_series > 0 && self.active as u64 >= limits.max_series {
            return Some(Refusal::Cardinality(format!(
                "(--max-series {}): refusing new series {labels} of metric {name}",
                limits.max_series
            )));
        }
        let per_metric = self
            .symbols
            .get(name)
            .and_then(|sym| self.per_metric.get(&sym))
            .copied()
            .unwrap_or(0);
        if limits.max_series_per_metric > 0 && per_metric >= limits.max_series_per_metric {
            return Some(Refusal::Cardinality(format!(
                "for metric {name} (--max-series-per-metric {}): refusing new series {labels}",
                limits.max_series_per_metric
            )));
        }
        if limits.max_head_bytes > 0
            && (self.bytes + self.new_series_estimate(labels)) as u64 > limits.max_head_bytes
        {
            let mib = |b: u64| b as f64 / f64::from(1 << 20);
            return Some(Refusal::Memory(format!(
                "(the metrics head holds {:.1} MiB of the {:.1} MiB --memory-budget gives it): \
                 refusing new series {labels} of metric {name}; existing series still take samples",
                mib(self.bytes as u64),
                mib(limits.max_head_bytes)
            )));
        }
        None
    }

    fn push_samples(&mut self, id: u32, samples: &[Sample]) {
        let range = self.range_ms;
        let Some(series) = self.series.get_mut(id) else {
            return;
        };
        let mut delta = 0isize;
        for s in samples {
            delta += series.push(*s, range);
        }
        self.charge(delta);
        self.samples += samples.len() as u64;
        if let (Some(first), Some(last)) = (samples.first(), samples.last()) {
            self.note_time(first.timestamp_ms);
            self.note_time(last.timestamp_ms);
        }
    }

    fn add_exemplar(&mut self, id: u32, e: Exemplar) {
        if self.exemplar_cap == 0 {
            return;
        }
        let fixed_before = self.fixed_bytes();
        let mut delta = exemplar_heap(&e) as isize;
        if self.exemplars.len() >= self.exemplar_cap {
            if let Some((_, old)) = self.exemplars.pop_front() {
                delta -= exemplar_heap(&old) as isize;
            }
        }
        self.exemplars.push_back((id, e));
        delta += self.fixed_bytes() as isize - fixed_before as isize;
        self.charge(delta);
    }

    /// Records metadata; returns whether it changed (and so needs logging).
    pub fn set_metadata(&mut self, meta: MetricMetadata) -> bool {
        if self.metadata.get(&meta.metric_family_name) == Some(&meta) {
            return false;
        }
        let mut delta = metadata_bytes(&meta) as isize;
        if let Some(old) = self.metadata.insert(meta.metric_family_name.clone(), meta) {
            delta -= metadata_bytes(&old) as isize;
        }
        self.charge(delta);
        true
    }

    /// Replay: applies logged samples of `labels`, skipping those already
    /// in blocks or not newer than the series' last sample (replay is
    /// idempotent, so a checkpoint may overlap the segments after it).
    pub fn replay_samples(&mut self, labels: &Labels, samples: &[Sample]) {
        let hash = hash_labels(labels.iter());
        let mut id = self.lookup(labels, hash);
        let mut last = id.and_then(|id| self.get(id)).map(|s| s.last().0);
        for s in samples {
            let t = s.timestamp_ms;
            if t < self.min_valid_t || last.is_some_and(|lt| t <= lt) {
                continue;
            }
            match id {
                Some(id) => self.push_samples(id, std::slice::from_ref(s)),
                None => id = Some(self.create(labels, hash, *s)),
            }
            last = Some(t);
        }
    }

    /// Replay: an exemplar of a live series.
    pub fn replay_exemplar(&mut self, labels: &Labels, e: Exemplar) {
        if let Some(id) = self.lookup(labels, hash_labels(labels.iter())) {
            self.add_exemplar(id, e);
        }
    }

    /// Drops samples before `boundary` (now in a block) and series left
    /// without samples, and refuses appends before it from now on.
    pub fn truncate(&mut self, boundary: i64) {
        self.min_valid_t = self.min_valid_t.max(boundary);
        let mut gone = Vec::new();
        for (id, series) in self.series.iter_mut() {
            if !series.truncate(boundary) {
                gone.push(id);
            }
        }
        for &id in &gone {
            self.remove(id);
        }
        if !gone.is_empty() {
            self.exemplars
                .retain(|(id, _)| gone.binary_search(id).is_err());
            self.reclaim();
        }
        self.min_t = self
            .series
            .iter()
            .map(|(_, s)| s.min_t())
            .min()
            .unwrap_or(i64::MAX);
        if self.active == 0 {
            self.max_t = i64::MIN;
        }
        // Truncation walked every series anyway: recount.
        self.bytes = self.recount();
        self.samples = self.series.iter().map(|(_, s)| s.sample_count()).sum();
    }
}
