//! Joining the answers of several parts of the profile store (the head,
//! heads being written out, blocks): each part has its own name and node
//! ids, so merged call trees are re-keyed by name path here, totals summed
//! per label set and step, span hits summed per span.

use super::{MergedStacks, SpanHit, TickMerge, TotalSeries};
use model::metrics::Labels;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// Joins the timed-sample merges of several parts: trees merged, samples
/// per thread summed.
pub fn tick_merges(parts: Vec<TickMerge>) -> TickMerge {
    let mut stacks = MergeBuilder::default();
    let mut threads: BTreeMap<u32, u64> = BTreeMap::new();
    for part in parts {
        stacks.add(part.stacks);
        for (thread, n) in part.threads {
            *threads.entry(thread).or_default() += n;
        }
    }
    TickMerge {
        stacks: stacks.finish(),
        threads: threads.into_iter().collect(),
    }
}

/// Merges call trees of different parts into one.
#[derive(Default)]
pub struct MergeBuilder {
    out: MergedStacks,
    names: FxHashMap<String, u32>,
    nodes: FxHashMap<(u32, u32), u32>,
    parts: usize,
}

impl MergeBuilder {
    /// Adds one part's merged stacks.
    pub fn add(&mut self, part: MergedStacks) {
        if part.nodes.is_empty() {
            return;
        }
        self.parts += 1;
        if self.parts == 1 {
            self.out = part;
            return;
        }
        if self.parts == 2 {
            // Index what the first part brought, now that it matters.
            for (i, name) in self.out.names.iter().enumerate() {
                self.names.insert(name.clone(), i as u32);
            }
            for (i, &key) in self.out.nodes.iter().enumerate() {
                self.nodes.insert(key, i as u32);
            }
        }
        let mut node_map = Vec::with_capacity(part.nodes.len());
        let names: Vec<u32> = part
            .names
            .into_iter()
            .map(|name| match self.names.get(&name) {
                Some(&id) => id,
                None => {
                    let id = self.out.names.len() as u32;
                    self.out.names.push(name.clone());
                    self.names.insert(name, id);
                    id
                }
            })
            .collect();
        for (&(parent, name), value) in part.nodes.iter().zip(part.self_values) {
            let parent = if parent == 0 {
                0
            } else {
                node_map[parent as usize - 1] + 1
            };
            let key = (parent, names[name as usize]);
            let id = match self.nodes.get(&key) {
                Some(&id) => {
                    self.out.self_values[id as usize] += value;
                    id
                }
                None => {
                    let id = self.out.nodes.len() as u32;
                    self.out.nodes.push(key);
                    self.out.self_values.push(value);
                    self.nodes.insert(key, id);
                    id
                }
            };
            node_map.push(id);
        }
    }

    /// The merged tree.
    pub fn finish(self) -> MergedStacks {
        self.out
    }

    /// `stacks` with equal names kept once and sibling nodes of equal name
    /// merged (as a part after a first, empty one, so it is re-keyed).
    pub fn dedup(stacks: MergedStacks) -> MergedStacks {
        let mut builder = Self {
            parts: 1,
            ..Self::default()
        };
        builder.add(stacks);
        builder.finish()
    }
}

/// Sums totals of several parts per label set and step.
#[derive(Default)]
pub struct TotalsBuilder(BTreeMap<Labels, BTreeMap<i64, f64>>);

impl TotalsBuilder {
    /// Adds one part's totals.
    pub fn add(&mut self, part: Vec<TotalSeries>) {
        for series in part {
            let points = self.0.entry(series.labels).or_default();
            for (t, v) in series.points {
                *points.entry(t).or_default() += v;
            }
        }
    }

    /// The summed series, ordered by labels, points by time.
    pub fn finish(self) -> Vec<TotalSeries> {
        self.0
            .into_iter()
            .map(|(labels, points)| TotalSeries {
                labels,
                points: points.into_iter().collect(),
            })
            .collect()
    }
}

/// Sums span hits of several parts per span; heaviest first.
pub fn span_hits(parts: Vec<Vec<SpanHit>>, limit: usize) -> Vec<SpanHit> {
    let mut by_span: FxHashMap<(Option<u128>, Option<u64>), SpanHit> = FxHashMap::default();
    for hit in parts.into_iter().flatten() {
        match by_span.entry((hit.trace_id, hit.span_id)) {
            std::collections::hash_map::Entry::Occupied(mut e) => {
                let e = e.get_mut();
                e.value += hit.value;
                e.samples += hit.samples;
                e.first_ns = e.first_ns.min(hit.first_ns);
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(hit);
            }
        }
    }
    let mut out: Vec<SpanHit> = by_span.into_values().collect();
    sort_hits(&mut out);
    out.truncate(limit);
    out
}

/// Heaviest first, then earliest, then by span id.
pub fn sort_hits(hits: &mut [SpanHit]) {
    hits.sort_by(|a, b| {
        b.value
            .cmp(&a.value)
            .then(a.first_ns.cmp(&b.first_ns))
            .then(a.span_id.cmp(&b.span_id))
            .then(a.trace_id.cmp(&b.trace_id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(stacks: &[(&[&str], i64)]) -> MergedStacks {
        let mut b = MergedStacks::default();
        let mut names: Vec<String> = Vec::new();
        for (frames, value) in stacks {
            let mut parent = 0u32;
            for f in *frames {
                let name = match names.iter().position(|n| n == f) {
                    Some(i) => i as u32,
                    None => {
                        names.push(f.to_string());
                        names.len() as u32 - 1
                    }
                };
                let node = match b.nodes.iter().position(|&n| n == (parent, name)) {
                    Some(i) => i,
                    None => {
                        b.nodes.push((parent, name));
                        b.self_values.push(0);
                        b.nodes.len() - 1
                    }
                };
                parent = node as u32 + 1;
            }
            b.self_values[parent as usize - 1] += value;
        }
        b.names = names;
        b
    }

    #[test]
    fn trees_of_different_parts_merge_by_name_path() {
        let mut m = MergeBuilder::default();
        m.add(tree(&[(&["main", "a"], 1), (&["main", "b"], 2)]));
        m.add(MergedStacks::default());
        m.add(tree(&[
            (&["main", "b"], 3),
            (&["other"], 4),
            (&["main"], 1),
        ]));
        let merged = m.finish();
        let mut stacks = merged.stacks();
        stacks.sort();
        assert_eq!(
            stacks,
            vec![
                (vec!["main"], 1),
                (vec!["main", "a"], 1),
                (vec!["main", "b"], 5),
                (vec!["other"], 4)
            ]
        );
    }

    #[test]
    fn span_hits_sum_per_span() {
        let hit = |span: u64, value: i64, first_ns: i64| SpanHit {
            trace_id: Some(1),
            span_id: Some(span),
            value,
            samples: 1,
            first_ns,
        };
        let out = span_hits(
            vec![vec![hit(1, 5, 10), hit(2, 7, 5)], vec![hit(1, 4, 3)]],
            1,
        );
        assert_eq!(
            out,
            vec![SpanHit {
                samples: 2,
                ..hit(1, 9, 3)
            }]
        );
    }
}
