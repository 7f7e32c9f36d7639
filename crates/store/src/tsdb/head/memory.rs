//! Memory accounting of the head, for `--memory-budget`: what the head's
//! containers hold, counted from their capacities (what is allocated, not
//! what is used) with the same formula two ways:
//!
//! - a running count ([`Head::bytes`]) that every mutation adjusts by the
//!   change it made — O(labels) per new series, O(1) per sample — so the
//!   budget check on a new series costs nothing per append;
//! - an exact recount ([`Head::recount`], O(series)) that head truncation
//!   (already O(series)) uses to reset the running count, and tests use to
//!   check the two agree.
//!
//! After a truncation that dropped series, [`Head::reclaim`] gives back
//! what they held: strings no live series uses, emptied postings and
//! per-metric entries, trailing free series slots and oversized tables.
//!
//! Hash tables are charged for their buckets (capacity × 8/7) with one
//! control byte each, as hashbrown lays them out. Allocator rounding and
//! the process around the head (query buffers, the WAL queue, the runtime)
//! are not counted: `whyslow serve` keeps the rest of `--memory-budget` for them.

use super::ids::IdList;
use super::Head;
use crate::tsdb::series::MemSeries;
use model::metrics::{Exemplar, Labels, MetricMetadata};
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::mem::size_of;

/// Bytes a hash map's table holds: buckets of `(K, V)` plus control bytes.
pub(super) fn map_bytes<K, V, S>(map: &HashMap<K, V, S>) -> usize {
    let cap = map.capacity();
    if cap == 0 {
        return 0;
    }
    (cap * 8 / 7) * (size_of::<(K, V)>() + 1)
}

/// Bytes a list of colliding series ids holds.
pub(super) fn list_bytes(list: &Vec<u32>) -> usize {
    list.capacity() * size_of::<u32>()
}

/// Bytes an exemplar in the ring holds besides its slot.
pub(super) fn exemplar_heap(e: &Exemplar) -> usize {
    e.labels.heap_bytes()
}

/// Bytes a metadata entry holds.
pub(super) fn metadata_bytes(m: &MetricMetadata) -> usize {
    // A B-tree entry (key and value) plus the strings: the key is a copy of the name.
    size_of::<(String, MetricMetadata)>()
        + 2 * m.metric_family_name.capacity()
        + m.help.capacity()
        + m.unit.capacity()
}

impl Head {
    /// Bytes the head holds now (the running count).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Containers whose size changes in O(1) steps: series slots, the free
    /// list, the hash, the top of the postings index, per-metric counts,
    /// symbols and the exemplar ring's slots. Mutations read it before and
    /// after and add the difference to the running count.
    pub(super) fn fixed_bytes(&self) -> usize {
        self.series.bytes()
            + self.free.capacity() * size_of::<u32>()
            + map_bytes(&self.by_hash)
            + map_bytes(&self.collided)
            + map_bytes(&self.postings)
            + map_bytes(&self.per_metric)
            + self.symbols.heap_bytes()
            + self.exemplars.capacity() * size_of::<(u32, Exemplar)>()
    }

    /// Adds a signed change to the running count.
    pub(super) fn charge(&mut self, delta: isize) {
        self.bytes = self.bytes.saturating_add_signed(delta);
    }

    /// The exact count, walking every series, postings list and exemplar.
    pub fn recount(&self) -> usize {
        let series: usize = self.series.iter().map(|(_, s)| s.heap_bytes()).sum();
        let collided: usize = self.collided.values().map(list_bytes).sum();
        let postings: usize = self
            .postings
            .values()
            .map(|values| {
                map_bytes(values) + values.values().map(IdList::heap_bytes).sum::<usize>()
            })
            .sum();
        let exemplars: usize = self.exemplars.iter().map(|(_, e)| exemplar_heap(e)).sum();
        let metadata: usize = self.metadata.values().map(metadata_bytes).sum();
        self.fixed_bytes() + series + collided + postings + exemplars + metadata
    }

    /// About what creating a series with `labels` adds: its slot, label
    /// pairs, first chunk, hash entry and postings, its strings if new, and
    /// the regrowth of any table it fills (so the budget is not overshot by
    /// a doubling).
    pub(super) fn new_series_estimate(&self, labels: &Labels) -> usize {
        let full = |len: usize, cap: usize, bytes: usize| if len >= cap { bytes } else { 0 };
        let mut bytes = size_of::<Option<MemSeries>>() + 24 + 16 + labels.len() * 12;
        for (n, v) in labels.iter() {
            let name = self.symbols.get(n);
            let value = self.symbols.get(v);
            // A new string: the symbol table's entry and a postings entry.
            bytes += usize::from(name.is_none()) * (n.len() + 64);
            bytes += usize::from(value.is_none()) * (v.len() + 64);
            if let Some(values) = name.and_then(|n| self.postings.get(&n)) {
                bytes += full(values.len(), values.capacity(), map_bytes(values));
            }
        }
        if self.free.is_empty() {
            bytes += self.series.growth_bytes();
        }
        bytes += full(
            self.by_hash.len(),
            self.by_hash.capacity(),
            map_bytes(&self.by_hash),
        );
        bytes += self.symbols.growth_bytes(labels.len() * 2);
        bytes
    }

    /// Frees what dropped series left behind (see the module doc); ids of
    /// live series do not change, symbol ids are renumbered.
    pub(super) fn reclaim(&mut self) {
        self.per_metric.retain(|_, count| *count > 0);
        let mut live = vec![false; self.symbols.len()];
        for (_, series) in self.series.iter() {
            for &(n, v) in series.labels.iter() {
                live[n as usize] = true;
                live[v as usize] = true;
            }
        }
        // A metric's name is the value of a live series' `__name__`, so
        // per-metric keys are live already.
        let remap = self.symbols.retain(&live);
        let new_id = |old: u32| remap.get(old as usize).copied().unwrap_or(u32::MAX);
        for (_, series) in self.series.iter_mut() {
            for pair in series.labels.iter_mut() {
                *pair = (new_id(pair.0), new_id(pair.1));
            }
        }
        let old = std::mem::take(&mut self.postings);
        self.postings = FxHashMap::with_capacity_and_hasher(old.len(), Default::default());
        for (n, values) in old {
            let mut renamed = FxHashMap::with_capacity_and_hasher(values.len(), Default::default());
            for (v, mut list) in values {
                list.shrink_to_fit();
                renamed.insert(new_id(v), list);
            }
            self.postings.insert(new_id(n), renamed);
        }
        self.per_metric = self
            .per_metric
            .iter()
            .map(|(&name, &count)| (new_id(name), count))
            .collect();
        self.series.trim();
        let slots = self.series.len();
        self.free.retain(|&id| (id as usize) < slots);
        if self.free.len() * 2 < self.free.capacity() {
            self.free.shrink_to_fit();
        }
        if self.by_hash.len() * 2 < self.by_hash.capacity() {
            self.by_hash.shrink_to_fit();
        }
        if self.collided.len() * 2 < self.collided.capacity() {
            self.collided.shrink_to_fit();
        }
    }
}
