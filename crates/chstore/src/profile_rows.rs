//! The rows a profile write becomes (see `profile_tables`), the
//! stable hashes that key them, and what an instance remembers having
//! written so stacks, series and object files go in about once a day.
//!
//! Hashes are XXH64 (seed 0) of a length-prefixed encoding, the same in
//! every process and version: a series' fingerprint of its sorted label
//! pairs, a stack's of its frames, a profile's id of its series, time,
//! duration, samples and timed samples. A profile sent twice (a sender's
//! retry after a 503 whose inserts partly went in) gets the same id and its
//! rows collapse with the first copy's.
//!
//! The "already written" sets are consulted when a batch is turned into
//! inserts (one batch at a time, after the previous one's outcome is
//! known), are bounded by [`SEEN_MAX`] entries each (cleared when full) and
//! are forgotten when a batch fails, so whatever a failed batch carried is
//! written again with the next.

use crate::batch;
use crate::rowbinary::{day_of_ns, RowWriter};
use model::metrics::Labels;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hash::Hasher as _;
use std::sync::{Arc, Mutex, PoisonError};
use store::profiles::{ObjectFile, ProfileWrite, PROFILE_TYPE_LABEL};
use twox_hash::XxHash64;

/// Entries each "already written" set holds before it starts over.
pub const SEEN_MAX: usize = 1 << 18;

/// The label whose value is the `service` column.
pub const SERVICE_LABEL: &str = "service_name";

/// A value fed to a hash with its length, so concatenations cannot collide.
fn put(h: &mut XxHash64, bytes: &[u8]) {
    h.write(&(bytes.len() as u64).to_le_bytes());
    h.write(bytes);
}

/// A series' fingerprint: of its label pairs in label order.
pub fn fingerprint(labels: &Labels) -> u64 {
    let mut h = XxHash64::with_seed(0);
    for (name, value) in labels.iter() {
        put(&mut h, name.as_bytes());
        put(&mut h, value.as_bytes());
    }
    h.finish()
}

/// A stack's hash: of its frames, root first.
pub fn stack_hash<S: AsRef<str>>(frames: &[S]) -> u64 {
    let mut h = XxHash64::with_seed(0);
    for frame in frames {
        put(&mut h, frame.as_ref().as_bytes());
    }
    h.finish()
}

/// The day (`Date`) of a Unix ns time; times before 1970 on day 0.
pub fn day_of(ns: i64) -> u16 {
    day_of_ns(u64::try_from(ns).unwrap_or(0))
}

/// What an instance has written: `(day, stack)`, `(day, series)` and
/// `(day, series, object file hash)`.
#[derive(Default)]
pub struct Seen {
    sets: Mutex<SeenSets>,
}

#[derive(Default)]
struct SeenSets {
    stacks: HashSet<(u16, u64)>,
    series: HashSet<(u16, u64)>,
    objects: HashSet<(u16, u64, u64)>,
}

impl Seen {
    /// Forgets everything (after a failed batch).
    pub fn forget(&self) {
        *self.sets.lock().unwrap_or_else(PoisonError::into_inner) = SeenSets::default();
    }
}

/// Inserts `key` into a bounded set; whether it was new.
fn first_time<K: std::hash::Hash + Eq>(set: &mut HashSet<K>, key: K) -> bool {
    if set.len() >= SEEN_MAX && !set.contains(&key) {
        set.clear();
    }
    set.insert(key)
}

/// A series row waiting for its batch.
struct SeriesRow {
    profile_type: String,
    service: String,
    labels: Labels,
}

/// The rows of one write or of a batch of writes.
#[derive(Default)]
pub struct Rows {
    seen: Option<Arc<Seen>>,
    stacks: BTreeMap<(u16, u64), Vec<String>>,
    series: BTreeMap<(u16, u64), SeriesRow>,
    objects: BTreeSet<(u16, u64, String, ObjectFile)>,
    profiles: RowWriter,
    samples: RowWriter,
    ticks: RowWriter,
    /// Bytes of the stacks, series and objects held.
    held_bytes: u64,
}

impl Rows {
    /// Rows that will skip what `seen` says was written.
    pub fn new(seen: Arc<Seen>) -> Self {
        Self {
            seen: Some(seen),
            ..Self::default()
        }
    }

    /// Adds one profile's rows.
    pub fn add(&mut self, write: ProfileWrite) {
        let ProfileWrite {
            labels,
            time_ns,
            duration_ns,
            samples,
            ticks,
            objects,
        } = write;
        let fp = fingerprint(&labels);
        let profile_type = labels.get(PROFILE_TYPE_LABEL).unwrap_or("").to_string();
        let day = day_of(time_ns);

        // Stacks: `None` for an empty one, whose samples are left out.
        let hashes: Vec<Option<u64>> = samples
            .iter()
            .map(|s| (!s.frames.is_empty()).then(|| stack_hash(&s.frames)))
            .collect();
        let mut id = XxHash64::with_seed(0);
        id.write(&fp.to_le_bytes());
        id.write(&time_ns.to_le_bytes());
        id.write(&duration_ns.to_le_bytes());
        id.write(&(samples.len() as u64).to_le_bytes());
        for (sample, hash) in samples.iter().zip(&hashes) {
            id.write(&hash.unwrap_or(0).to_le_bytes());
            id.write(&sample.value.to_le_bytes());
            id.write(&[links(sample.span_id, sample.trace_id)]);
            id.write(&sample.span_id.unwrap_or(0).to_le_bytes());
            id.write(&sample.trace_id.unwrap_or(0).to_le_bytes());
        }
        for tick in &ticks {
            id.write(&tick.sample.to_le_bytes());
            id.write(&tick.thread_id.to_le_bytes());
            id.write(&tick.time_ns.to_le_bytes());
            id.write(&tick.value.to_le_bytes());
        }
        let profile_id = id.finish();

        let mut days = BTreeSet::from([day]);
        let (mut min_ns, mut max_ns) = (time_ns, time_ns.saturating_add(duration_ns));
        for (index, tick) in ticks.iter().enumerate() {
            let Some(&Some(hash)) = hashes.get(tick.sample as usize) else {
                continue;
            };
            let tick_day = day_of(tick.time_ns);
            if tick_day != day && !self.stacks.contains_key(&(tick_day, hash)) {
                let frames = samples[tick.sample as usize].frames.clone();
                self.held_bytes += frames_bytes(&frames);
                self.stacks.insert((tick_day, hash), frames);
            }
            days.insert(tick_day);
            min_ns = min_ns.min(tick.time_ns);
            max_ns = max_ns.max(tick.time_ns);
            let t = &mut self.ticks;
            t.u16(tick_day);
            t.str(&profile_type);
            t.u64(fp);
            t.i64(tick.time_ns);
            t.u64(profile_id);
            t.u32(index as u32);
            t.u32(tick.thread_id);
            t.u64(hash);
            t.i64(tick.value);
            t.end_row();
        }

        for (index, (sample, hash)) in samples.into_iter().zip(hashes).enumerate() {
            let Some(hash) = hash else { continue };
            let s = &mut self.samples;
            s.u16(day);
            s.str(&profile_type);
            s.u64(fp);
            s.i64(time_ns);
            s.u64(profile_id);
            s.u32(index as u32);
            s.u64(hash);
            s.i64(sample.value);
            s.u8(links(sample.span_id, sample.trace_id));
            s.u64(sample.span_id.unwrap_or(0));
            s.fixed(&sample.trace_id.unwrap_or(0).to_be_bytes());
            s.end_row();
            if let std::collections::btree_map::Entry::Vacant(e) = self.stacks.entry((day, hash)) {
                self.held_bytes += frames_bytes(&sample.frames);
                e.insert(sample.frames);
            }
        }

        let p = &mut self.profiles;
        p.u16(day);
        p.str(&profile_type);
        p.u64(fp);
        p.i64(time_ns);
        p.u64(profile_id);
        p.i64(duration_ns);
        p.i64(min_ns);
        p.i64(max_ns);
        p.end_row();

        for object in objects {
            self.held_bytes += (object.path.len() + object.build_id.len() + 64) as u64;
            self.objects.insert((day, fp, profile_type.clone(), object));
        }
        let service = labels.get(SERVICE_LABEL).unwrap_or("").to_string();
        for day in days {
            if !self.series.contains_key(&(day, fp)) {
                self.held_bytes += labels.heap_bytes() as u64 + 64;
                self.series.insert(
                    (day, fp),
                    SeriesRow {
                        profile_type: profile_type.clone(),
                        service: service.clone(),
                        labels: labels.clone(),
                    },
                );
            }
        }
    }

    /// The stack, series and object rows not written yet (per `seen`),
    /// which now count as written.
    fn unseen_rows(&self) -> (RowWriter, RowWriter, RowWriter) {
        let mut guard = self
            .seen
            .as_ref()
            .map(|s| s.sets.lock().unwrap_or_else(PoisonError::into_inner));
        let mut stacks = RowWriter::new();
        for (&(day, hash), frames) in &self.stacks {
            if guard
                .as_mut()
                .is_none_or(|g| first_time(&mut g.stacks, (day, hash)))
            {
                stacks.u16(day);
                stacks.u64(hash);
                stacks.strings(frames);
                stacks.end_row();
            }
        }
        let mut series = RowWriter::new();
        for (&(day, fp), row) in &self.series {
            if guard
                .as_mut()
                .is_none_or(|g| first_time(&mut g.series, (day, fp)))
            {
                let (names, values): (Vec<&str>, Vec<&str>) = row.labels.iter().unzip();
                series.u16(day);
                series.str(&row.profile_type);
                series.str(&row.service);
                series.u64(fp);
                series.strings(&names);
                series.strings(&values);
                series.end_row();
            }
        }
        let mut objects = RowWriter::new();
        for (day, fp, profile_type, object) in &self.objects {
            let key = (*day, *fp, object_hash(object));
            if guard
                .as_mut()
                .is_none_or(|g| first_time(&mut g.objects, key))
            {
                objects.u16(*day);
                objects.str(profile_type);
                objects.u64(*fp);
                objects.str(&object.path);
                objects.str(&object.build_id);
                objects.u64(object.offset);
                objects.u64(object.size);
                objects.end_row();
            }
        }
        (stacks, series, objects)
    }
}

/// The `links` column: bit 1 a span id, bit 2 a trace id.
fn links(span_id: Option<u64>, trace_id: Option<u128>) -> u8 {
    u8::from(span_id.is_some()) | (u8::from(trace_id.is_some()) << 1)
}

fn object_hash(object: &ObjectFile) -> u64 {
    let mut h = XxHash64::with_seed(0);
    put(&mut h, object.path.as_bytes());
    put(&mut h, object.build_id.as_bytes());
    h.write(&object.offset.to_le_bytes());
    h.write(&object.size.to_le_bytes());
    h.finish()
}

fn frames_bytes(frames: &[String]) -> u64 {
    frames.iter().map(|f| f.len() as u64 + 24).sum::<u64>() + 24
}

impl batch::Rows for Rows {
    fn rows(&self) -> usize {
        self.samples.rows() + self.ticks.rows()
    }

    fn bytes(&self) -> u64 {
        (self.profiles.len() + self.samples.len() + self.ticks.len()) as u64 + self.held_bytes
    }

    fn append(&mut self, other: Self) {
        if self.seen.is_none() {
            self.seen = other.seen;
        }
        for (key, frames) in other.stacks {
            self.stacks.entry(key).or_insert(frames);
        }
        for (key, row) in other.series {
            self.series.entry(key).or_insert(row);
        }
        self.objects.extend(other.objects);
        self.profiles.extend_rows(other.profiles);
        self.samples.extend_rows(other.samples);
        self.ticks.extend_rows(other.ticks);
        self.held_bytes += other.held_bytes;
    }

    /// Stacks and series first, so samples are never visible without them.
    fn into_inserts(self) -> Vec<(&'static str, Vec<u8>)> {
        let (stacks, series, objects) = self.unseen_rows();
        vec![
            ("profile_stacks", stacks.into_bytes()),
            ("profile_series", series.into_bytes()),
            ("profile_objects", objects.into_bytes()),
            ("profiles", self.profiles.into_bytes()),
            ("profile_samples", self.samples.into_bytes()),
            ("profile_ticks", self.ticks.into_bytes()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Rows as _;
    use store::profiles::{StackSample, Tick};

    fn write(time_ns: i64, frames: &[&[&str]]) -> ProfileWrite {
        ProfileWrite {
            labels: Labels::from_pairs([("__profile_type__", "cpu"), ("service_name", "web")]),
            time_ns,
            duration_ns: 10,
            samples: frames
                .iter()
                .map(|f| StackSample {
                    frames: f.iter().map(|s| s.to_string()).collect(),
                    value: 5,
                    span_id: Some(3),
                    trace_id: None,
                })
                .collect(),
            ticks: vec![Tick {
                sample: 0,
                thread_id: 9,
                time_ns: time_ns + 1,
                value: 5,
            }],
            objects: Vec::new(),
        }
    }

    #[test]
    fn hashes_are_stable_and_unambiguous() {
        // Pinned: rows written by any version must keep matching.
        assert_eq!(stack_hash::<&str>(&[]), 0xef46db3751d8e999);
        assert_ne!(stack_hash(&["ab", "c"]), stack_hash(&["a", "bc"]));
        let a = Labels::from_pairs([("a", "bc")]);
        let b = Labels::from_pairs([("ab", "c")]);
        assert_ne!(fingerprint(&a), fingerprint(&b));
        assert_eq!(fingerprint(&a), fingerprint(&a.clone()));
    }

    #[test]
    fn empty_stacks_are_left_out_and_known_stacks_written_once() {
        let seen = Arc::new(Seen::default());
        let mut rows = Rows::new(Arc::clone(&seen));
        rows.add(write(1_000, &[&["main", "a"], &[], &["main", "a"]]));
        assert_eq!(rows.rows(), 3, "two samples and one tick");
        let inserts = rows.into_inserts();
        assert!(!inserts[0].1.is_empty(), "the stack");
        let mut again = Rows::new(Arc::clone(&seen));
        again.add(write(2_000, &[&["main", "a"]]));
        let inserts = again.into_inserts();
        assert!(inserts[0].1.is_empty() && inserts[1].1.is_empty(), "known");
        seen.forget();
        let mut after_failure = Rows::new(Arc::clone(&seen));
        after_failure.add(write(3_000, &[&["main", "a"]]));
        assert!(!after_failure.into_inserts()[0].1.is_empty());
    }

    #[test]
    fn a_profile_sent_twice_gets_the_same_id() {
        let bodies = |w: ProfileWrite| {
            let mut rows = Rows::default();
            rows.add(w);
            rows.into_inserts()
        };
        let first = bodies(write(1_000, &[&["main"]]));
        assert_eq!(first, bodies(write(1_000, &[&["main"]])));
        assert_ne!(first[4], bodies(write(1_001, &[&["main"]]))[4]);
    }
}
