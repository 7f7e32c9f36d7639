//! The in-memory side of the embedded profile store: interned function
//! names, a call tree shared by every series (a stack is its leaf node), and
//! per series its profiles as columns (leaf node, value) with span/trace ids
//! kept sparsely beside them. [`Head::intern`] turns a write into a WAL
//! [`Record`] (declaring what is new); [`Head::apply`] adds a record, on
//! write and on replay alike, so both paths build the same ids.

use super::record::{Record, RecordProfile};
use super::{MergedStacks, ProfileQuery, ProfileWrite, TotalSeries, PROFILE_TYPE_LABEL};
use crate::series::Matcher;
use crate::StoreError;
use model::metrics::Labels;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// Stored profiles and their symbols.
#[derive(Default)]
pub struct Head {
    names: Vec<String>,
    name_ids: FxHashMap<String, u32>,
    nodes: Vec<(u32, u32)>,
    node_ids: FxHashMap<(u32, u32), u32>,
    series: Vec<Series>,
    series_ids: FxHashMap<Labels, u32>,
    samples: u64,
}

struct Series {
    labels: Labels,
    profile_type: String,
    profiles: Vec<Profile>,
    nodes: Vec<u32>,
    values: Vec<i64>,
    links: FxHashMap<u32, (Option<u64>, Option<u128>)>,
    min_t: i64,
    max_t: i64,
}

struct Profile {
    time_ns: i64,
    first: u32,
    len: u32,
}

impl Head {
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

    /// The record that adds `writes`, declaring names, nodes and series the
    /// head does not have yet (not applied: call [`Head::apply`] with it).
    pub fn intern(&self, writes: &[ProfileWrite]) -> Record {
        let mut record = Record {
            first_name: self.names.len() as u32,
            first_node: self.nodes.len() as u32,
            ..Record::default()
        };
        let mut new_names: FxHashMap<&str, u32> = FxHashMap::default();
        let mut new_nodes: FxHashMap<(u32, u32), u32> = FxHashMap::default();
        let mut new_series: FxHashMap<&Labels, u32> = FxHashMap::default();
        for write in writes {
            let next_series = (self.series.len() + record.series.len()) as u32;
            let series = match self.series_ids.get(&write.labels) {
                Some(&id) => id,
                None => *new_series.entry(&write.labels).or_insert_with(|| {
                    record.series.push((next_series, write.labels.clone()));
                    next_series
                }),
            };
            let mut profile = RecordProfile {
                series,
                time_ns: write.time_ns,
                duration_ns: write.duration_ns,
                ..RecordProfile::default()
            };
            for sample in &write.samples {
                let mut parent = 0u32;
                for frame in &sample.frames {
                    let name = match self.name_ids.get(frame.as_str()) {
                        Some(&id) => id,
                        None => {
                            let next = record.first_name + record.names.len() as u32;
                            *new_names.entry(frame.as_str()).or_insert_with(|| {
                                record.names.push(frame.clone());
                                next
                            })
                        }
                    };
                    let node = match self.node_ids.get(&(parent, name)) {
                        Some(&id) => id,
                        None => {
                            let next = record.first_node + record.nodes.len() as u32;
                            *new_nodes.entry((parent, name)).or_insert_with(|| {
                                record.nodes.push((parent, name));
                                next
                            })
                        }
                    };
                    parent = node + 1;
                }
                if parent == 0 {
                    continue; // an empty stack says nothing
                }
                if sample.span_id.is_some() || sample.trace_id.is_some() {
                    profile.links.push((
                        profile.nodes.len() as u32,
                        sample.span_id,
                        sample.trace_id,
                    ));
                }
                profile.nodes.push(parent - 1);
                profile.values.push(sample.value);
            }
            record.profiles.push(profile);
        }
        record
    }

    /// Adds a record (from [`Head::intern`] or the WAL).
    pub fn apply(&mut self, record: Record) -> Result<(), StoreError> {
        let corrupt = |detail: String| StoreError::Corrupt {
            what: "profile WAL".into(),
            detail,
        };
        if record.first_name as usize != self.names.len()
            || record.first_node as usize != self.nodes.len()
        {
            return Err(corrupt(format!(
                "record declares names from {} and nodes from {}, the head has {} and {}",
                record.first_name,
                record.first_node,
                self.names.len(),
                self.nodes.len()
            )));
        }
        for name in record.names {
            self.name_ids.insert(name.clone(), self.names.len() as u32);
            self.names.push(name);
        }
        for (parent, name) in record.nodes {
            if parent as usize > self.nodes.len() || name as usize >= self.names.len() {
                return Err(corrupt(format!("node ({parent}, {name}) refers ahead")));
            }
            self.node_ids
                .insert((parent, name), self.nodes.len() as u32);
            self.nodes.push((parent, name));
        }
        for (id, labels) in record.series {
            if id as usize != self.series.len() {
                return Err(corrupt(format!(
                    "series {id} declared, the head has {}",
                    self.series.len()
                )));
            }
            self.series_ids.insert(labels.clone(), id);
            let profile_type = labels.get(PROFILE_TYPE_LABEL).unwrap_or("").to_string();
            self.series.push(Series {
                labels,
                profile_type,
                profiles: Vec::new(),
                nodes: Vec::new(),
                values: Vec::new(),
                links: FxHashMap::default(),
                min_t: i64::MAX,
                max_t: i64::MIN,
            });
        }
        for p in record.profiles {
            let node_count = self.nodes.len() as u32;
            let Some(series) = self.series.get_mut(p.series as usize) else {
                return Err(corrupt(format!("profile of unknown series {}", p.series)));
            };
            if p.nodes.len() != p.values.len() || p.nodes.iter().any(|&n| n >= node_count) {
                return Err(corrupt("profile samples refer to unknown stacks".into()));
            }
            let first = series.nodes.len() as u32;
            for (i, span, trace) in p.links {
                series.links.insert(first + i, (span, trace));
            }
            self.samples += p.nodes.len() as u64;
            series.profiles.push(Profile {
                time_ns: p.time_ns,
                first,
                len: p.nodes.len() as u32,
            });
            series.nodes.extend_from_slice(&p.nodes);
            series.values.extend_from_slice(&p.values);
            series.min_t = series.min_t.min(p.time_ns);
            series.max_t = series.max_t.max(p.time_ns.saturating_add(p.duration_ns));
        }
        Ok(())
    }

    fn overlaps(series: &Series, start_ns: i64, end_ns: i64) -> bool {
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

    /// Calls `f(series, sample index)` for every sample the query selects.
    fn for_each_sample(&self, query: &ProfileQuery, mut f: impl FnMut(&Series, i64, usize)) {
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
        // Keep every node with a value and its ancestors; parents have
        // smaller ids than their children, so one pass upwards then one
        // pass in id order renumbers them parents first.
        let mut keep = vec![false; self.nodes.len()];
        for node in (0..self.nodes.len()).rev() {
            if self_values[node] != 0 || keep[node] {
                keep[node] = true;
                let parent = self.nodes[node].0;
                if parent != 0 {
                    keep[parent as usize - 1] = true;
                }
            }
        }
        let mut out = MergedStacks::default();
        let mut new_id = vec![u32::MAX; self.nodes.len()];
        let mut name_map: FxHashMap<u32, u32> = FxHashMap::default();
        for node in 0..self.nodes.len() {
            if !keep[node] {
                continue;
            }
            let (parent, name) = self.nodes[node];
            let parent = if parent == 0 {
                0
            } else {
                new_id[parent as usize - 1] + 1
            };
            let name = *name_map.entry(name).or_insert_with(|| {
                out.names.push(self.names[name as usize].clone());
                out.names.len() as u32 - 1
            });
            new_id[node] = out.nodes.len() as u32;
            out.nodes.push((parent, name));
            out.self_values.push(self_values[node]);
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
        let mut last: Option<(*const Series, Labels)> = None;
        self.for_each_sample(query, |series, time_ns, i| {
            let key = match &last {
                Some((ptr, key)) if std::ptr::eq(*ptr, series) => key.clone(),
                _ => {
                    let key = Labels::from_pairs(group_by.iter().filter_map(|name| {
                        series
                            .labels
                            .get(name)
                            .map(|v| (name.clone(), v.to_string()))
                    }));
                    last = Some((series as *const Series, key.clone()));
                    key
                }
            };
            let bucket = query.start_ns + (time_ns - query.start_ns).div_euclid(step_ns) * step_ns;
            *groups
                .entry(key)
                .or_default()
                .entry(bucket / 1_000_000)
                .or_default() += series.values[i] as f64;
        });
        groups
            .into_iter()
            .map(|(labels, points)| TotalSeries {
                labels,
                points: points.into_iter().collect(),
            })
            .collect()
    }

    /// Oldest profile start and newest profile end.
    pub fn time_bounds(&self) -> Option<(i64, i64)> {
        let min = self.series.iter().map(|s| s.min_t).min()?;
        let max = self.series.iter().map(|s| s.max_t).max()?;
        (min <= max).then_some((min, max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::StackSample;

    fn write(service: &str, time_ns: i64, stacks: &[(&[&str], i64)]) -> ProfileWrite {
        ProfileWrite {
            labels: Labels::from_pairs([
                ("__name__", "process_cpu"),
                (
                    PROFILE_TYPE_LABEL,
                    "process_cpu:cpu:nanoseconds:cpu:nanoseconds",
                ),
                ("service_name", service),
            ]),
            time_ns,
            duration_ns: 10,
            samples: stacks
                .iter()
                .map(|(frames, value)| StackSample {
                    frames: frames.iter().map(|f| f.to_string()).collect(),
                    value: *value,
                    span_id: (*value == 7).then_some(0x99),
                    trace_id: None,
                })
                .collect(),
        }
    }

    fn query(start_ns: i64, end_ns: i64) -> ProfileQuery {
        ProfileQuery {
            profile_type: "process_cpu:cpu:nanoseconds:cpu:nanoseconds".into(),
            start_ns,
            end_ns,
            ..ProfileQuery::default()
        }
    }

    #[test]
    fn merges_stacks_across_series_and_filters_by_time_labels_and_span() {
        let mut head = Head::default();
        let r = head.intern(&[
            write(
                "a",
                100,
                &[(&["main", "work", "hot"], 5), (&["main", "idle"], 2)],
            ),
            write("b", 200, &[(&["main", "work", "hot"], 7)]),
        ]);
        assert_eq!(r.names.len(), 4);
        assert_eq!(r.series.len(), 2);
        head.apply(r).unwrap();
        let merged = head.merge(&query(0, 1000));
        let mut stacks = merged.stacks();
        stacks.sort();
        assert_eq!(
            stacks,
            vec![(vec!["main", "idle"], 2), (vec!["main", "work", "hot"], 12)]
        );
        assert_eq!(merged.total(), 14);
        assert_eq!(head.merge(&query(150, 1000)).total(), 7);
        let mut q = query(0, 1000);
        q.matchers = vec![Matcher::equal("service_name", "a")];
        assert_eq!(head.merge(&q).total(), 7);
        let mut q = query(0, 1000);
        q.span_ids = vec![0x99];
        assert_eq!(
            head.merge(&q).stacks(),
            vec![(vec!["main", "work", "hot"], 7)]
        );
        assert_eq!(head.merge(&query(500, 1000)), MergedStacks::default());
        // Interning again reuses everything.
        let again = head.intern(&[write("a", 300, &[(&["main", "idle"], 1)])]);
        assert!(again.names.is_empty() && again.nodes.is_empty() && again.series.is_empty());
    }

    #[test]
    fn totals_group_by_label_per_step() {
        let mut head = Head::default();
        let r = head.intern(&[
            write("a", 1_000_000, &[(&["x"], 1)]),
            write("a", 5_000_000, &[(&["x"], 2)]),
            write("b", 12_000_000, &[(&["y"], 4)]),
        ]);
        head.apply(r).unwrap();
        let grouped = head.totals(&query(0, 20_000_000), 10_000_000, &["service_name".into()]);
        assert_eq!(grouped.len(), 2);
        assert_eq!(grouped[0].points, vec![(0, 3.0)]);
        assert_eq!(grouped[1].points, vec![(10, 4.0)]);
        let all = head.totals(&query(0, 20_000_000), 10_000_000, &[]);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].points, vec![(0, 3.0), (10, 4.0)]);
    }

    #[test]
    fn replayed_records_must_continue_the_ids() {
        let mut head = Head::default();
        let r = head.intern(&[write("a", 1, &[(&["x"], 1)])]);
        head.apply(r.clone()).unwrap();
        assert!(matches!(head.apply(r), Err(StoreError::Corrupt { .. })));
    }
}
