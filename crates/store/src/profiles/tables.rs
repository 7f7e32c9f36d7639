//! Stored profiles as plain tables, the shape the head and every decoded
//! block share: interned function names, a call tree of `(parent + 1 or 0,
//! name)` nodes (a parent always before its children; a stack is its leaf
//! node), and per series its profiles as columns (leaf node, value) with
//! span/trace ids kept sparsely beside them, and timed samples (thread,
//! time, leaf node, value) as columns of their own, and the object files
//! its unsymbolized frames came from. The queries here read
//! one table; [`super::combine`] joins the answers of several.

use super::{
    MergedStacks, ObjectFile, ProfileQuery, ProfileWrite, SpanHit, StackSample, Tick, TickMerge,
    TotalSeries,
};
use crate::series::Matcher;
use model::metrics::Labels;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// Names, call tree and series of one part of the store.
#[derive(Default)]
pub struct Tables {
    /// Function names by id.
    pub(super) names: Vec<String>,
    /// Call-tree nodes: `(parent node + 1 or 0 for a root, name id)`.
    pub(super) nodes: Vec<(u32, u32)>,
    /// Series by id.
    pub(super) series: Vec<Series>,
    /// Samples stored.
    pub(super) samples: u64,
}

/// A call tree cut down by [`Tables::prune`].
pub(super) struct Pruned {
    /// The names the kept nodes use.
    pub(super) names: Vec<String>,
    /// The kept nodes, `(parent + 1 or 0, name)` in the new ids.
    pub(super) nodes: Vec<(u32, u32)>,
    /// New id by old node id (`u32::MAX`: dropped).
    pub(super) node_map: Vec<u32>,
}

/// One series' profiles.
pub(super) struct Series {
    pub(super) labels: Labels,
    pub(super) profile_type: String,
    pub(super) profiles: Vec<Profile>,
    /// Leaf node per sample.
    pub(super) nodes: Vec<u32>,
    /// Value per sample.
    pub(super) values: Vec<i64>,
    /// `(span, trace)` by sample index, for the samples that have them.
    pub(super) links: FxHashMap<u32, (Option<u64>, Option<u128>)>,
    /// Timed samples; a profile's are `ticks_first..ticks_first + ticks_len`.
    pub(super) ticks: Ticks,
    /// Object files of its `FILE+0xOFFSET` frames, sorted, distinct.
    pub(super) objects: Vec<ObjectFile>,
    pub(super) min_t: i64,
    pub(super) max_t: i64,
}

/// Timed samples of a series as columns.
#[derive(Default)]
pub(super) struct Ticks {
    /// Leaf node.
    pub(super) nodes: Vec<u32>,
    /// OS thread id.
    pub(super) threads: Vec<u32>,
    /// Unix ns.
    pub(super) times: Vec<i64>,
    pub(super) values: Vec<i64>,
}

/// One timed sample on its way into a series: `(leaf node, thread, Unix ns, value)`.
pub(super) type TickRow = (u32, u32, i64, i64);

impl Ticks {
    pub(super) fn push(&mut self, (node, thread, time, value): TickRow) {
        self.nodes.push(node);
        self.threads.push(thread);
        self.times.push(time);
        self.values.push(value);
    }
}

/// One profile: its samples are `first..first + len` of its series.
#[derive(Clone, Copy)]
pub(super) struct Profile {
    pub(super) time_ns: i64,
    pub(super) duration_ns: i64,
    pub(super) first: u32,
    pub(super) len: u32,
    pub(super) ticks_first: u32,
    pub(super) ticks_len: u32,
}

impl Series {
    pub(super) fn new(labels: Labels, profile_type: String) -> Self {
        Self {
            labels,
            profile_type,
            profiles: Vec::new(),
            nodes: Vec::new(),
            values: Vec::new(),
            links: FxHashMap::default(),
            ticks: Ticks::default(),
            objects: Vec::new(),
            min_t: i64::MAX,
            max_t: i64::MIN,
        }
    }

    /// Appends a profile's samples (nodes already in this table's ids).
    pub(super) fn push_profile(
        &mut self,
        time_ns: i64,
        duration_ns: i64,
        nodes: &[u32],
        values: &[i64],
        links: impl IntoIterator<Item = (u32, Option<u64>, Option<u128>)>,
        ticks: impl IntoIterator<Item = TickRow>,
    ) {
        let first = self.nodes.len() as u32;
        for (i, span, trace) in links {
            self.links.insert(first + i, (span, trace));
        }
        let ticks_first = self.ticks.times.len() as u32;
        self.min_t = self.min_t.min(time_ns);
        self.max_t = self.max_t.max(time_ns.saturating_add(duration_ns));
        for row in ticks {
            self.ticks.push(row);
            self.min_t = self.min_t.min(row.2);
            self.max_t = self.max_t.max(row.2);
        }
        self.profiles.push(Profile {
            time_ns,
            duration_ns,
            first,
            len: nodes.len() as u32,
            ticks_first,
            ticks_len: self.ticks.times.len() as u32 - ticks_first,
        });
        self.nodes.extend_from_slice(nodes);
        self.values.extend_from_slice(values);
    }

    /// Whether the series already lists `object`.
    pub(super) fn has_object(&self, object: &ObjectFile) -> bool {
        self.objects.binary_search(object).is_ok()
    }

    /// Adds `objects` it does not list yet.
    pub(super) fn add_objects<'a>(&mut self, objects: impl IntoIterator<Item = &'a ObjectFile>) {
        for object in objects {
            if let Err(at) = self.objects.binary_search(object) {
                self.objects.insert(at, object.clone());
            }
        }
    }

    /// Replaces the timed samples: `per_profile[i]` are profile `i`'s.
    pub(super) fn attach_ticks(&mut self, per_profile: Vec<Vec<TickRow>>) {
        self.ticks = Ticks::default();
        for (p, rows) in self.profiles.iter_mut().zip(per_profile) {
            p.ticks_first = self.ticks.times.len() as u32;
            for row in rows {
                self.ticks.push(row);
                self.min_t = self.min_t.min(row.2);
                self.max_t = self.max_t.max(row.2);
            }
            p.ticks_len = self.ticks.times.len() as u32 - p.ticks_first;
        }
    }

    /// The timed samples of profile `p` as rows.
    pub(super) fn ticks_of(&self, p: &Profile) -> impl Iterator<Item = TickRow> + '_ {
        let t = &self.ticks;
        (p.ticks_first as usize..(p.ticks_first + p.ticks_len) as usize)
            .map(move |i| (t.nodes[i], t.threads[i], t.times[i], t.values[i]))
    }
}

impl Tables {
    /// Samples stored.
    pub fn sample_count(&self) -> u64 {
        self.samples
    }

    /// Series stored.
    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    /// Distinct stacks (call-tree nodes) stored.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Every stored profile as a write again (frames rebuilt from the tree).
    pub fn to_writes(&self) -> Vec<ProfileWrite> {
        let stacks: Vec<Vec<String>> = {
            let mut out: Vec<Vec<String>> = Vec::with_capacity(self.nodes.len());
            for &(parent, name) in &self.nodes {
                let mut frames = if parent == 0 {
                    Vec::new()
                } else {
                    out[parent as usize - 1].clone()
                };
                frames.push(self.names[name as usize].clone());
                out.push(frames);
            }
            out
        };
        let mut writes = Vec::new();
        for s in &self.series {
            for p in &s.profiles {
                let mut samples: Vec<StackSample> = (p.first..p.first + p.len)
                    .map(|i| {
                        let (span_id, trace_id) = s.links.get(&i).copied().unwrap_or((None, None));
                        StackSample {
                            frames: stacks[s.nodes[i as usize] as usize].clone(),
                            value: s.values[i as usize],
                            span_id,
                            trace_id,
                        }
                    })
                    .collect();
                // A tick points at a sample with its stack (an unlinked one
                // when there is a choice), added with value 0 if none.
                let mut by_node: FxHashMap<u32, u32> = FxHashMap::default();
                for i in (p.first..p.first + p.len).rev() {
                    let slot = by_node.entry(s.nodes[i as usize]).or_insert(i - p.first);
                    if !s.links.contains_key(&i) {
                        *slot = i - p.first;
                    }
                }
                let ticks = s
                    .ticks_of(p)
                    .map(|(node, thread_id, time_ns, value)| {
                        let sample = *by_node.entry(node).or_insert_with(|| {
                            samples.push(StackSample {
                                frames: stacks[node as usize].clone(),
                                value: 0,
                                span_id: None,
                                trace_id: None,
                            });
                            samples.len() as u32 - 1
                        });
                        Tick {
                            sample,
                            thread_id,
                            time_ns,
                            value,
                        }
                    })
                    .collect();
                writes.push(ProfileWrite {
                    labels: s.labels.clone(),
                    time_ns: p.time_ns,
                    duration_ns: p.duration_ns,
                    samples,
                    ticks,
                    objects: s.objects.clone(),
                });
            }
        }
        writes
    }

    /// Rough bytes of memory held.
    pub fn approx_bytes(&self) -> u64 {
        let names: usize = self.names.iter().map(|n| n.len() + 48).sum();
        let series: usize = self
            .series
            .iter()
            .map(|s| {
                s.labels
                    .iter()
                    .map(|(n, v)| n.len() + v.len() + 48)
                    .sum::<usize>()
                    + s.profiles.len() * 24
                    + s.nodes.len() * 12
                    + s.links.len() * 48
                    + s.ticks.times.len() * 24
                    + s.objects
                        .iter()
                        .map(|o| o.path.len() + o.build_id.len() + 64)
                        .sum::<usize>()
            })
            .sum();
        (names + self.nodes.len() * 24 + series) as u64
    }

    pub(super) fn overlaps(series: &Series, start_ns: i64, end_ns: i64) -> bool {
        series.min_t < end_ns && series.max_t >= start_ns
    }

    /// Distinct profile types with profiles in the range.
    pub fn profile_types(&self, start_ns: i64, end_ns: i64) -> Vec<String> {
        let mut out: Vec<String> = self
            .series
            .iter()
            .filter(|s| Self::overlaps(s, start_ns, end_ns) && !s.profile_type.is_empty())
            .map(|s| s.profile_type.clone())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Label sets of matching series with profiles in the range.
    pub fn series(&self, matchers: &[Matcher], start_ns: i64, end_ns: i64) -> Vec<Labels> {
        let mut out: Vec<Labels> = self
            .series
            .iter()
            .filter(|s| {
                Self::overlaps(s, start_ns, end_ns) && Matcher::all_match(matchers, &s.labels)
            })
            .map(|s| s.labels.clone())
            .collect();
        out.sort_unstable();
        out
    }

    /// Object files of the series the query selects with profiles in its
    /// range (unsorted, may repeat).
    pub fn objects(&self, query: &ProfileQuery) -> Vec<ObjectFile> {
        self.series
            .iter()
            .filter(|s| {
                s.profile_type == query.profile_type
                    && Self::overlaps(s, query.start_ns, query.end_ns)
                    && Matcher::all_match(&query.matchers, &s.labels)
            })
            .flat_map(|s| s.objects.iter().cloned())
            .collect()
    }

    /// Calls `f(series, sample index)` for every sample the query selects.
    pub(super) fn for_each_sample(
        &self,
        query: &ProfileQuery,
        mut f: impl FnMut(&Series, i64, usize),
    ) {
        let filtered = !query.span_ids.is_empty() || !query.trace_ids.is_empty();
        for series in &self.series {
            if series.profile_type != query.profile_type
                || !Self::overlaps(series, query.start_ns, query.end_ns)
                || !Matcher::all_match(&query.matchers, &series.labels)
            {
                continue;
            }
            for profile in &series.profiles {
                if profile.time_ns < query.start_ns || profile.time_ns >= query.end_ns {
                    continue;
                }
                let range = profile.first as usize..(profile.first + profile.len) as usize;
                if filtered {
                    for i in range {
                        let Some(&(span, trace)) = series.links.get(&(i as u32)) else {
                            continue;
                        };
                        let span_ok = span.is_some_and(|s| query.span_ids.contains(&s));
                        let trace_ok = trace.is_some_and(|t| query.trace_ids.contains(&t));
                        if span_ok || trace_ok {
                            f(series, profile.time_ns, i);
                        }
                    }
                } else {
                    for i in range {
                        f(series, profile.time_ns, i);
                    }
                }
            }
        }
    }

    /// The selected samples merged into a call tree holding only the nodes
    /// they reach.
    pub fn merge(&self, query: &ProfileQuery) -> MergedStacks {
        let mut self_values = vec![0i64; self.nodes.len()];
        let mut touched = false;
        self.for_each_sample(query, |series, _, i| {
            self_values[series.nodes[i] as usize] += series.values[i];
            touched = true;
        });
        if !touched {
            return MergedStacks::default();
        }
        self.merged(self_values)
    }

    /// The timed samples of matching series within the query's range, of
    /// `threads` (all when empty), merged; with sample counts per thread.
    pub fn merge_ticks(&self, query: &ProfileQuery, threads: &[u32]) -> TickMerge {
        let selected = self.tick_series(query);
        self.merge_tick_columns(
            query,
            threads,
            selected.iter().map(|&i| &self.series[i].ticks),
        )
    }

    /// Indexes of the series whose timed samples `query` may select.
    pub(super) fn tick_series(&self, query: &ProfileQuery) -> Vec<usize> {
        (0..self.series.len())
            .filter(|&i| {
                let series = &self.series[i];
                series.profile_type == query.profile_type
                    && Self::overlaps(series, query.start_ns, query.end_ns)
                    && Matcher::all_match(&query.matchers, &series.labels)
            })
            .collect()
    }

    /// [`Tables::merge_ticks`] over given tick columns (of this table's nodes).
    pub(super) fn merge_tick_columns<'a>(
        &self,
        query: &ProfileQuery,
        threads: &[u32],
        columns: impl Iterator<Item = &'a Ticks>,
    ) -> TickMerge {
        let mut self_values = vec![0i64; self.nodes.len()];
        let mut per_thread: BTreeMap<u32, u64> = BTreeMap::new();
        let mut touched = false;
        for t in columns {
            for (i, &time) in t.times.iter().enumerate() {
                if time < query.start_ns || time >= query.end_ns {
                    continue;
                }
                *per_thread.entry(t.threads[i]).or_default() += 1;
                if threads.is_empty() || threads.contains(&t.threads[i]) {
                    self_values[t.nodes[i] as usize] += t.values[i];
                    touched = true;
                }
            }
        }
        TickMerge {
            stacks: if touched {
                self.merged(self_values)
            } else {
                MergedStacks::default()
            },
            threads: per_thread.into_iter().collect(),
        }
    }

    /// The call tree cut down to the nodes with a self value, with them.
    fn merged(&self, self_values: Vec<i64>) -> MergedStacks {
        let seeds = self_values.iter().map(|&v| v != 0).collect();
        let pruned = self.prune(seeds);
        let self_values = self_values
            .into_iter()
            .zip(&pruned.node_map)
            .filter(|(_, &new)| new != u32::MAX)
            .map(|(v, _)| v)
            .collect();
        MergedStacks {
            names: pruned.names,
            nodes: pruned.nodes,
            self_values,
        }
    }

    /// The call tree cut down to the nodes marked in `keep` and their
    /// ancestors, renumbered in id order (parents stay before children),
    /// with only the names they use.
    pub(super) fn prune(&self, mut keep: Vec<bool>) -> Pruned {
        for node in (0..self.nodes.len()).rev() {
            let parent = self.nodes[node].0;
            if keep[node] && parent != 0 {
                keep[parent as usize - 1] = true;
            }
        }
        let mut out = Pruned {
            names: Vec::new(),
            nodes: Vec::new(),
            node_map: vec![u32::MAX; self.nodes.len()],
        };
        let mut name_map = vec![u32::MAX; self.names.len()];
        for (node, &(parent, name)) in self.nodes.iter().enumerate() {
            if !keep[node] {
                continue;
            }
            if name_map[name as usize] == u32::MAX {
                name_map[name as usize] = out.names.len() as u32;
                out.names.push(self.names[name as usize].clone());
            }
            let parent = if parent == 0 {
                0
            } else {
                out.node_map[parent as usize - 1] + 1
            };
            out.node_map[node] = out.nodes.len() as u32;
            out.nodes.push((parent, name_map[name as usize]));
        }
        out
    }

    /// Totals per step bucket, grouped by `group_by` labels.
    pub fn totals(
        &self,
        query: &ProfileQuery,
        step_ns: i64,
        group_by: &[String],
    ) -> Vec<TotalSeries> {
        let step_ns = step_ns.max(1);
        let mut groups: BTreeMap<Labels, BTreeMap<i64, f64>> = BTreeMap::new();
        let bucket_ms = |t: i64| {
            (query.start_ns + (t - query.start_ns).div_euclid(step_ns) * step_ns) / 1_000_000
        };
        // Samples come profile by profile: sum a profile's run, then add it
        // to its group's bucket (the group's labels are made once a series).
        let mut series_key: Option<(*const Series, Labels)> = None;
        let mut run: Option<(*const Series, i64, f64)> = None;
        let mut flush = |key: &Labels, time_ns: i64, sum: f64| {
            if let Some(points) = groups.get_mut(key) {
                *points.entry(bucket_ms(time_ns)).or_default() += sum;
            } else {
                groups.insert(key.clone(), BTreeMap::from([(bucket_ms(time_ns), sum)]));
            }
        };
        self.for_each_sample(query, |series, time_ns, i| {
            let value = series.values[i] as f64;
            let ptr = series as *const Series;
            if let Some((p, t, sum)) = &mut run {
                if *p == ptr && *t == time_ns {
                    *sum += value;
                    return;
                }
                if let Some((_, key)) = &series_key {
                    flush(key, *t, *sum);
                }
            }
            if series_key.as_ref().map(|(p, _)| *p) != Some(ptr) {
                let key = Labels::from_pairs(group_by.iter().filter_map(|name| {
                    series
                        .labels
                        .get(name)
                        .map(|v| (name.clone(), v.to_string()))
                }));
                series_key = Some((ptr, key));
            }
            run = Some((ptr, time_ns, value));
        });
        if let (Some((_, t, sum)), Some((_, key))) = (run, &series_key) {
            flush(key, t, sum);
        }
        groups
            .into_iter()
            .map(|(labels, points)| TotalSeries {
                labels,
                points: points.into_iter().collect(),
            })
            .collect()
    }

    /// Spans of the selected linked samples with `frame` on their stack.
    pub fn span_hits(
        &self,
        query: &ProfileQuery,
        frame: Option<&str>,
        limit: usize,
    ) -> Vec<SpanHit> {
        let target = match frame {
            Some(f) => match self.names.iter().position(|n| n == f) {
                Some(id) => Some(id as u32),
                None => return Vec::new(),
            },
            None => None,
        };
        // Per node: 0 not yet known, 1 has the frame, 2 has not.
        let mut memo = vec![
            0u8;
            if target.is_some() {
                self.nodes.len()
            } else {
                0
            }
        ];
        let mut hits: FxHashMap<(Option<u128>, Option<u64>), SpanHit> = FxHashMap::default();
        self.for_each_sample(query, |series, time_ns, i| {
            let Some(&(span_id, trace_id)) = series.links.get(&(i as u32)) else {
                return;
            };
            if let Some(target) = target {
                if !self.has_frame(series.nodes[i], target, &mut memo) {
                    return;
                }
            }
            let hit = hits.entry((trace_id, span_id)).or_insert(SpanHit {
                trace_id,
                span_id,
                value: 0,
                samples: 0,
                first_ns: time_ns,
            });
            hit.value += series.values[i];
            hit.samples += 1;
            hit.first_ns = hit.first_ns.min(time_ns);
        });
        let mut out: Vec<SpanHit> = hits.into_values().collect();
        super::combine::sort_hits(&mut out);
        out.truncate(limit);
        out
    }

    /// Whether the stack ending in `node` has a frame named `name`, memoized
    /// per node (ancestors first).
    fn has_frame(&self, node: u32, name: u32, memo: &mut [u8]) -> bool {
        let mut path = Vec::new();
        let mut at = node as usize;
        let mut found = loop {
            match memo[at] {
                1 => break true,
                2 => break false,
                _ => {}
            }
            path.push(at);
            let (parent, n) = self.nodes[at];
            if n == name {
                break true;
            }
            if parent == 0 {
                break false;
            }
            at = parent as usize - 1;
        };
        // Nodes below a hit have the frame too; nodes on a miss path do not.
        for &p in path.iter().rev() {
            if self.nodes[p].1 == name {
                found = true;
            }
            memo[p] = if found { 1 } else { 2 };
        }
        memo[node as usize] == 1
    }

    /// Oldest profile start and newest profile end.
    pub fn time_bounds(&self) -> Option<(i64, i64)> {
        let min = self.series.iter().map(|s| s.min_t).min()?;
        let max = self.series.iter().map(|s| s.max_t).max()?;
        (min <= max).then_some((min, max))
    }
}
