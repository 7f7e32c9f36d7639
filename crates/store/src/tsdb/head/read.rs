//! Reads of the head: live series ids, samples, postings resolution for
//! matchers (the [`Postings`] index over interned label pairs), exemplars,
//! sizes, and the checkpoint writer.

use super::Head;
use crate::series::{Matcher, SeriesExemplars};
use crate::tsdb::postings::{self, Postings};
use crate::tsdb::record;
use model::metrics::{Exemplar, Sample};
use std::collections::BTreeMap;

impl Head {
    /// Ids of live series, ascending.
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.series.iter().map(|(id, _)| id)
    }

    /// Samples of series `id` in `[lo, hi]` onto `out`.
    pub fn samples(&self, id: u32, lo: i64, hi: i64, out: &mut Vec<Sample>) {
        if let Some(s) = self.get(id) {
            s.samples(lo, hi, out);
        }
    }

    /// Whether series `id` has a sample in `[lo, hi]`.
    pub fn has_sample_in(&self, id: u32, lo: i64, hi: i64) -> bool {
        self.get(id).is_some_and(|s| s.has_sample_in(lo, hi))
    }

    /// Samples held in total (a running count).
    pub fn sample_count(&self) -> u64 {
        self.samples
    }

    /// Exemplars of the series in `ids` (sorted) within `[lo, hi]`, per series in id order.
    pub fn exemplars(&self, ids: &[u32], lo: i64, hi: i64) -> Vec<SeriesExemplars> {
        let mut by_id: BTreeMap<u32, Vec<Exemplar>> = BTreeMap::new();
        for (id, e) in &self.exemplars {
            if e.timestamp_ms >= lo && e.timestamp_ms <= hi && ids.binary_search(id).is_ok() {
                by_id.entry(*id).or_default().push(e.clone());
            }
        }
        by_id
            .into_iter()
            .map(|(id, exemplars)| SeriesExemplars {
                labels: self.labels(id),
                exemplars,
            })
            .collect()
    }

    /// Ids matching every matcher.
    pub fn resolve(&self, matchers: &[Matcher]) -> Vec<u32> {
        postings::resolve(self, matchers)
    }

    /// Ids matching any matcher set.
    pub fn resolve_any(&self, sets: &[Vec<Matcher>]) -> Vec<u32> {
        postings::resolve_any(self, sets)
    }

    /// Writes the head as checkpoint payloads (series, chunks, exemplars,
    /// metadata), calling `emit` with each payload of about `piece` bytes.
    pub fn checkpoint(&self, piece: usize, emit: &mut dyn FnMut(&[u8])) {
        let mut buf = Vec::with_capacity(piece + 4096);
        let mut flush = |buf: &mut Vec<u8>, force: bool| {
            if !buf.is_empty() && (force || buf.len() >= piece) {
                emit(buf);
                buf.clear();
            }
        };
        for id in self.ids() {
            let Some(s) = self.get(id) else { continue };
            let labels: Vec<(&str, &str)> = s
                .labels
                .iter()
                .map(|&(n, v)| (self.symbols.str(n), self.symbols.str(v)))
                .collect();
            record::put_series(&mut buf, id, labels.into_iter());
            for c in &s.chunks {
                record::put_chunk(&mut buf, id, c.enc, c.min_t, u32::from(c.count), &c.data);
            }
            let o = &s.open;
            record::put_chunk(
                &mut buf,
                id,
                crate::tsdb::chunk::ENC_XOR,
                o.min_t,
                u32::from(o.count),
                o.bytes(),
            );
            flush(&mut buf, false);
        }
        for (id, e) in &self.exemplars {
            record::put_exemplar(&mut buf, *id, e);
            flush(&mut buf, false);
        }
        for m in self.metadata.values() {
            record::put_metadata(&mut buf, m);
        }
        flush(&mut buf, true);
    }

    /// Label values of `name` among all live series (no time bound).
    pub fn all_values(&self, name: &str) -> Vec<&str> {
        let Some(values) = self.symbols.get(name).and_then(|n| self.postings.get(&n)) else {
            return Vec::new();
        };
        values.keys().map(|&v| self.symbols.str(v)).collect()
    }

    /// Label names among all live series (no time bound).
    pub fn all_names(&self) -> Vec<&str> {
        self.postings.keys().map(|&n| self.symbols.str(n)).collect()
    }
}

impl Postings for Head {
    fn all(&self) -> Vec<u32> {
        self.ids().collect()
    }

    fn equal(&self, name: &str, value: &str) -> Vec<u32> {
        let (Some(n), Some(v)) = (self.symbols.get(name), self.symbols.get(value)) else {
            return Vec::new();
        };
        self.postings
            .get(&n)
            .and_then(|values| values.get(&v))
            .map(|list| list.as_slice().to_vec())
            .unwrap_or_default()
    }

    fn matching(&self, name: &str, pred: &dyn Fn(&str) -> bool) -> Vec<u32> {
        let Some(values) = self.symbols.get(name).and_then(|n| self.postings.get(&n)) else {
            return Vec::new();
        };
        postings::union(
            values
                .iter()
                .filter(|(&v, _)| pred(self.symbols.str(v)))
                .map(|(_, list)| list.as_slice())
                .collect(),
        )
    }
}
