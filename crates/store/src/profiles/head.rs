//! The in-memory side of the embedded profile store: [`Tables`] plus the
//! maps that intern names, call-tree nodes and series. [`Head::intern`]
//! turns a write into a WAL [`Record`] (declaring what is new);
//! [`Head::apply`] adds a record, on write and on replay alike, so both
//! paths build the same ids. [`Head::absorb`] adds a whole table (compaction
//! merges blocks with it).

use super::record::{Record, RecordProfile};
use super::tables::{Series, Tables};
use super::{ObjectFile, ProfileWrite, PROFILE_TYPE_LABEL};
use crate::StoreError;
use model::metrics::Labels;
use rustc_hash::{FxHashMap, FxHashSet};

/// Stored profiles and the maps that intern what they use.
#[derive(Default)]
pub struct Head {
    tables: Tables,
    name_ids: FxHashMap<String, u32>,
    node_ids: FxHashMap<(u32, u32), u32>,
    series_ids: FxHashMap<Labels, u32>,
}

impl std::ops::Deref for Head {
    type Target = Tables;
    fn deref(&self) -> &Tables {
        &self.tables
    }
}

impl Head {
    /// The tables, without the interning maps.
    pub fn into_tables(self) -> Tables {
        self.tables
    }

    /// Whether nothing was added yet.
    pub fn is_empty(&self) -> bool {
        self.tables.series.is_empty()
    }

    /// The record that adds `writes`, declaring names, nodes and series the
    /// head does not have yet (not applied: call [`Head::apply`] with it).
    pub fn intern(&self, writes: &[ProfileWrite]) -> Record {
        let t = &self.tables;
        let mut record = Record {
            first_name: t.names.len() as u32,
            first_node: t.nodes.len() as u32,
            ..Record::default()
        };
        let mut new_names: FxHashMap<&str, u32> = FxHashMap::default();
        let mut new_nodes: FxHashMap<(u32, u32), u32> = FxHashMap::default();
        let mut new_series: FxHashMap<&Labels, u32> = FxHashMap::default();
        let mut new_objects: FxHashSet<(u32, &ObjectFile)> = FxHashSet::default();
        for write in writes {
            let next_series = (t.series.len() + record.series.len()) as u32;
            let series = match self.series_ids.get(&write.labels) {
                Some(&id) => id,
                None => *new_series.entry(&write.labels).or_insert_with(|| {
                    record.series.push((next_series, write.labels.clone()));
                    next_series
                }),
            };
            for object in &write.objects {
                let known = t
                    .series
                    .get(series as usize)
                    .is_some_and(|s| s.has_object(object));
                if !known && new_objects.insert((series, object)) {
                    record.objects.push((series, object.clone()));
                }
            }
            let mut profile = RecordProfile {
                series,
                time_ns: write.time_ns,
                duration_ns: write.duration_ns,
                ..RecordProfile::default()
            };
            // Leaf node of each sample (`None`: an empty stack, left out).
            let mut leafs: Vec<Option<u32>> = Vec::with_capacity(write.samples.len());
            for sample in &write.samples {
                leafs.push(None);
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
                if let Some(last) = leafs.last_mut() {
                    *last = Some(parent - 1);
                }
            }
            let index = record.profiles.len() as u32;
            for tick in &write.ticks {
                if let Some(&Some(node)) = leafs.get(tick.sample as usize) {
                    record
                        .ticks
                        .push((index, node, tick.thread_id, tick.time_ns, tick.value));
                }
            }
            record.profiles.push(profile);
        }
        record
    }

    /// Whether `record` starts a new id space (the first record after a
    /// block cut): it declares names, nodes and series from zero while this
    /// head already has some.
    pub fn starts_over(&self, record: &Record) -> bool {
        !self.is_empty()
            && record.first_name == 0
            && record.first_node == 0
            && record.series.first().is_some_and(|(id, _)| *id == 0)
    }

    /// Adds a record (from [`Head::intern`] or the WAL).
    pub fn apply(&mut self, record: Record) -> Result<(), StoreError> {
        let corrupt = |detail: String| StoreError::Corrupt {
            what: "profile WAL".into(),
            detail,
        };
        let t = &mut self.tables;
        if record.first_name as usize != t.names.len()
            || record.first_node as usize != t.nodes.len()
        {
            return Err(corrupt(format!(
                "record declares names from {} and nodes from {}, the head has {} and {}",
                record.first_name,
                record.first_node,
                t.names.len(),
                t.nodes.len()
            )));
        }
        for name in record.names {
            self.name_ids.insert(name.clone(), t.names.len() as u32);
            t.names.push(name);
        }
        for (parent, name) in record.nodes {
            if parent as usize > t.nodes.len() || name as usize >= t.names.len() {
                return Err(corrupt(format!("node ({parent}, {name}) refers ahead")));
            }
            self.node_ids.insert((parent, name), t.nodes.len() as u32);
            t.nodes.push((parent, name));
        }
        for (id, labels) in record.series {
            if id as usize != t.series.len() {
                return Err(corrupt(format!(
                    "series {id} declared, the head has {}",
                    t.series.len()
                )));
            }
            self.series_ids.insert(labels.clone(), id);
            let profile_type = labels.get(PROFILE_TYPE_LABEL).unwrap_or("").to_string();
            t.series.push(Series::new(labels, profile_type));
        }
        for (id, object) in record.objects {
            let Some(series) = t.series.get_mut(id as usize) else {
                return Err(corrupt(format!("object file of unknown series {id}")));
            };
            series.add_objects([&object]);
        }
        let node_count = t.nodes.len() as u32;
        if record
            .ticks
            .iter()
            .any(|&(p, node, ..)| p as usize >= record.profiles.len() || node >= node_count)
        {
            return Err(corrupt(
                "timed samples refer to unknown profiles or stacks".into(),
            ));
        }
        let mut ticks = record.ticks.into_iter().peekable();
        for (index, p) in record.profiles.into_iter().enumerate() {
            let Some(series) = t.series.get_mut(p.series as usize) else {
                return Err(corrupt(format!("profile of unknown series {}", p.series)));
            };
            if p.nodes.len() != p.values.len()
                || p.nodes.iter().any(|&n| n >= node_count)
                || p.links.iter().any(|l| l.0 as usize >= p.nodes.len())
            {
                return Err(corrupt("profile samples refer to unknown stacks".into()));
            }
            t.samples += p.nodes.len() as u64;
            // Ticks come in profile order (as `intern` writes them).
            let mut mine = Vec::new();
            while let Some((_, node, thread, time, value)) =
                ticks.next_if(|tick| tick.0 as usize == index)
            {
                mine.push((node, thread, time, value));
            }
            series.push_profile(p.time_ns, p.duration_ns, &p.nodes, &p.values, p.links, mine);
        }
        Ok(())
    }

    fn intern_name(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.name_ids.get(name) {
            return id;
        }
        let id = self.tables.names.len() as u32;
        self.tables.names.push(name.to_string());
        self.name_ids.insert(name.to_string(), id);
        id
    }

    /// Adds every profile of `other` (another part's tables) under this
    /// head's ids.
    pub fn absorb(&mut self, other: &Tables) {
        let names: Vec<u32> = other.names.iter().map(|n| self.intern_name(n)).collect();
        let mut nodes = Vec::with_capacity(other.nodes.len());
        for &(parent, name) in &other.nodes {
            let parent = if parent == 0 {
                0
            } else {
                nodes[parent as usize - 1] + 1
            };
            let key = (parent, names[name as usize]);
            let id = match self.node_ids.get(&key) {
                Some(&id) => id,
                None => {
                    let id = self.tables.nodes.len() as u32;
                    self.tables.nodes.push(key);
                    self.node_ids.insert(key, id);
                    id
                }
            };
            nodes.push(id);
        }
        for s in &other.series {
            let id = match self.series_ids.get(&s.labels) {
                Some(&id) => id,
                None => {
                    let id = self.tables.series.len() as u32;
                    self.tables
                        .series
                        .push(Series::new(s.labels.clone(), s.profile_type.clone()));
                    self.series_ids.insert(s.labels.clone(), id);
                    id
                }
            };
            let into = &mut self.tables.series[id as usize];
            into.add_objects(&s.objects);
            for p in &s.profiles {
                let range = p.first as usize..(p.first + p.len) as usize;
                let leafs: Vec<u32> = s.nodes[range.clone()]
                    .iter()
                    .map(|&n| nodes[n as usize])
                    .collect();
                let links = range.clone().filter_map(|i| {
                    s.links
                        .get(&(i as u32))
                        .map(|&(span, trace)| ((i - range.start) as u32, span, trace))
                });
                let ticks = s
                    .ticks_of(p)
                    .map(|(node, thread, time, value)| (nodes[node as usize], thread, time, value));
                into.push_profile(
                    p.time_ns,
                    p.duration_ns,
                    &leafs,
                    &s.values[range.clone()],
                    links,
                    ticks,
                );
            }
            self.tables.samples += s.nodes.len() as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::{MergedStacks, ProfileQuery, StackSample};
    use crate::series::Matcher;

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
            ticks: Vec::new(),
            objects: Vec::new(),
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
    fn span_hits_list_the_spans_whose_stacks_hold_a_frame() {
        let mut head = Head::default();
        let mut w = write(
            "a",
            100,
            &[(&["main", "work", "hot"], 7), (&["main", "idle"], 3)],
        );
        w.samples[1].span_id = Some(0x55);
        w.samples[1].trace_id = Some(0x1);
        w.samples.push(StackSample {
            frames: vec!["main".into(), "work".into()],
            value: 2,
            span_id: Some(0x55),
            trace_id: Some(0x1),
        });
        let r = head.intern(&[w]);
        head.apply(r).unwrap();
        let q = query(0, 1000);
        let work = head.span_hits(&q, Some("work"), 10);
        assert_eq!(work.len(), 2);
        assert_eq!((work[0].span_id, work[0].value), (Some(0x99), 7));
        assert_eq!(
            (work[1].span_id, work[1].value, work[1].samples),
            (Some(0x55), 2, 1)
        );
        let all = head.span_hits(&q, None, 10);
        assert_eq!(all.len(), 2);
        assert_eq!((all[1].span_id, all[1].value), (Some(0x55), 5));
        assert_eq!(head.span_hits(&q, Some("hot"), 1).len(), 1);
        assert!(head.span_hits(&q, Some("nowhere"), 10).is_empty());
        assert!(head.span_hits(&query(500, 1000), None, 10).is_empty());
    }

    #[test]
    fn object_files_are_declared_once_per_series() {
        let object = |path: &str| ObjectFile {
            path: path.into(),
            build_id: "beef".into(),
            offset: 0,
            size: 0x1000,
        };
        let mut head = Head::default();
        let mut w = write("a", 1, &[(&["main", "app+0x10"], 1)]);
        w.objects = vec![object("/bin/app"), object("/lib/libc.so.6")];
        let r = head.intern(&[w.clone(), w.clone()]);
        assert_eq!(r.objects.len(), 2);
        head.apply(r).unwrap();
        assert!(head.intern(&[w.clone()]).objects.is_empty());
        w.objects.push(object("/lib/libm.so.6"));
        let r = head.intern(&[w]);
        assert_eq!(r.objects, [(0, object("/lib/libm.so.6"))]);
        head.apply(r).unwrap();
        let mut q = query(0, 10);
        assert_eq!(head.objects(&q).len(), 3);
        q.matchers = vec![Matcher::equal("service_name", "b")];
        assert!(head.objects(&q).is_empty());
        let mut copy = Head::default();
        copy.absorb(&head);
        assert_eq!(copy.series[0].objects.len(), 3);
        let bad = Record {
            objects: vec![(9, object("/bin/x"))],
            first_name: copy.names.len() as u32,
            first_node: copy.nodes.len() as u32,
            ..Record::default()
        };
        assert!(matches!(copy.apply(bad), Err(StoreError::Corrupt { .. })));
    }

    #[test]
    fn replayed_records_must_continue_the_ids() {
        let mut head = Head::default();
        let r = head.intern(&[write("a", 1, &[(&["x"], 1)])]);
        head.apply(r.clone()).unwrap();
        assert!(matches!(head.apply(r), Err(StoreError::Corrupt { .. })));
    }
}
