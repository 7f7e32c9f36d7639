//! The pprof-to-series conversion behind [`super::pprof`] (Pyroscope's
//! `pprofsplit`): samples grouped by their string labels, stacks resolved
//! to function names root first and summed, then one [`ProfileWrite`] per
//! group and sample type. Every index into the message is checked; nothing
//! here panics on any input.
//!
//! A sample with the numeric labels `timestamp` (Unix ns) and `tid` (or
//! `thread_id`) — what `whyslow agent` sends, and Pyroscope ignores — is
//! also kept as a timed sample ([`Tick`]) of its stack, so a span's thread
//! and time find it.
//!
//! A location the sender named `FILE+0xOFFSET` (it could not symbolize it;
//! `whyslow agent` does this) inside a mapping whose path ends in `FILE`
//! keeps that mapping as an [`ObjectFile`] of the series (path, build id,
//! mapped range), so the frame can be symbolized later.

use super::error::ProfileError;
use super::labels::{check_pair, check_series};
use super::limits::{
    symbol_tail, Budget, FRAME_OVERHEAD_BYTES, MAX_SAMPLES_PER_PROFILE, MAX_SAMPLE_LABELS,
    MAX_SAMPLE_TYPES, MAX_STACK_DEPTH, SAMPLE_OVERHEAD_BYTES,
};
use super::pprof::{derive_name, PprofSeries};
use model::metrics::{Label, Labels, METRIC_NAME};
use render::pprof_proto::{Function, Location, Profile, Sample};
use std::collections::HashMap;
use store::profiles::{ObjectFile, ProfileWrite, StackSample, Tick, PROFILE_TYPE_LABEL};

/// A `time_nanos` before 1971 is not a time (Pyroscope: old pyroscope-rs
/// sent microseconds there); the series' default time is used instead.
const PLAUSIBLE_TIME_NS: i64 = 365 * 86_400 * 1_000_000_000;

/// A stack within one group: frames (root first), span, trace.
type StackKey = (Vec<String>, Option<u64>, Option<u128>);

/// A sample's stack before symbolisation: group, location ids, span, trace.
type LocationKey<'p> = (usize, &'p [u64], Option<u64>, Option<u128>);

/// A sample's string labels (sorted), span id, trace id, and `(thread,
/// Unix ns)` when it is timed.
type SampleLabels<'p> = (
    Vec<(&'p str, &'p str)>,
    Option<u64>,
    Option<u128>,
    Option<(u32, i64)>,
);

/// Memory charged per timed sample.
const TICK_BYTES: u64 = 32;

/// Object files kept per profile; more are left out (their frames keep
/// their `FILE+0xOFFSET` names).
const MAX_OBJECTS: usize = 256;

/// What every write of one profile shares.
struct Header {
    /// `__profile_type__` of each sample type.
    profile_types: Vec<String>,
    time_ns: i64,
    duration_ns: i64,
}

/// Samples sharing one set of sample labels.
struct Group {
    labels: Labels,
    index: HashMap<StackKey, usize>,
    /// `values[stack * sample_types + type]`.
    values: Vec<i64>,
    /// Timed samples: `(stack, thread, Unix ns, pprof sample index)`.
    ticks: Vec<(usize, u32, i64, usize)>,
}

/// One profile being converted.
pub(super) struct Converter<'p, 'b, 'r> {
    profile: &'p Profile,
    budget: &'b mut Budget<'r>,
    functions: HashMap<u64, &'p Function>,
    locations: HashMap<u64, usize>,
    /// Function names of each location (by index), root first, once built.
    names: Vec<Option<Vec<String>>>,
    /// Mapping index by id.
    mappings: HashMap<u64, usize>,
    /// Object files of the `FILE+0xOFFSET` frames seen, distinct.
    objects: Vec<ObjectFile>,
}

impl<'p, 'b, 'r> Converter<'p, 'b, 'r> {
    /// Indexes functions and locations (ids must be non-zero).
    pub(super) fn new(
        profile: &'p Profile,
        budget: &'b mut Budget<'r>,
    ) -> Result<Self, ProfileError> {
        let mut functions = HashMap::with_capacity(profile.function.len());
        for f in &profile.function {
            if f.id == 0 {
                return Err(ProfileError::Invalid(
                    "malformed pprof: a function has id 0".into(),
                ));
            }
            functions.insert(f.id, f);
        }
        let mut locations = HashMap::with_capacity(profile.location.len());
        for (i, l) in profile.location.iter().enumerate() {
            if l.id == 0 {
                return Err(ProfileError::Invalid(
                    "malformed pprof: a location has id 0".into(),
                ));
            }
            locations.insert(l.id, i);
        }
        let mappings = profile
            .mapping
            .iter()
            .enumerate()
            .filter(|(_, m)| m.id != 0)
            .map(|(i, m)| (m.id, i))
            .collect();
        Ok(Self {
            profile,
            budget,
            functions,
            locations,
            names: vec![None; profile.location.len()],
            mappings,
            objects: Vec::new(),
        })
    }

    /// String `index` of the table; 0 is always `""`.
    fn string(&self, index: i64) -> Result<&'p str, ProfileError> {
        let table = &self.profile.string_table;
        if index == 0 {
            return Ok("");
        }
        usize::try_from(index)
            .ok()
            .and_then(|i| table.get(i))
            .map(String::as_str)
            .ok_or_else(|| {
                ProfileError::Invalid(format!(
                    "malformed pprof: string index {index} is outside the string table ({} strings)",
                    table.len()
                ))
            })
    }

    /// Converts the whole profile.
    pub(super) fn run(mut self, series: &PprofSeries) -> Result<Vec<ProfileWrite>, ProfileError> {
        let p = self.profile;
        let types = self.sample_types()?;
        let period = match p.period_type {
            Some(vt) => (self.string(vt.r#type)?, self.string(vt.unit)?),
            None => ("", ""),
        };
        if period.0.contains(':') || period.1.contains(':') {
            return Err(ProfileError::Invalid(
                "the pprof period type contains ':'".into(),
            ));
        }
        if p.sample.len() > MAX_SAMPLES_PER_PROFILE {
            return Err(ProfileError::Invalid(format!(
                "the profile has {} samples; the limit is {MAX_SAMPLES_PER_PROFILE} (max_profile_stacktrace_samples)",
                p.sample.len()
            )));
        }
        let mut base: Vec<Label> = Vec::with_capacity(series.labels.len() + 1);
        for (name, value) in &series.labels {
            check_pair(name, value)?;
            base.push(Label {
                name: name.clone(),
                value: value.clone(),
            });
        }
        let name = match series.labels.iter().find(|(n, _)| n == METRIC_NAME) {
            Some((_, name)) => name.clone(),
            None => derive_name(&types, &series.display_names),
        };
        base.push(Label {
            name: METRIC_NAME.into(),
            value: name.clone(),
        });
        let groups = self.group_samples(types.len(), &base)?;
        let header = Header {
            profile_types: types
                .iter()
                .map(|(t, u)| format!("{name}:{t}:{u}:{}:{}", period.0, period.1))
                .collect(),
            time_ns: if p.time_nanos >= PLAUSIBLE_TIME_NS {
                p.time_nanos
            } else {
                series.default_time_ns
            },
            duration_ns: if p.duration_nanos > 0 {
                p.duration_nanos
            } else {
                series.default_duration_ns.max(0)
            },
        };
        self.writes(groups, &header)
    }

    /// Sums the samples into groups (one per sample label set) of distinct
    /// stacks; `base` are the series labels, which win over sample labels.
    fn group_samples(&mut self, types: usize, base: &[Label]) -> Result<Vec<Group>, ProfileError> {
        let p = self.profile;
        let mut groups: Vec<Group> = Vec::new();
        let mut group_of: HashMap<Vec<(&'p str, &'p str)>, usize> = HashMap::new();
        let mut stack_of: HashMap<LocationKey<'p>, usize> = HashMap::new();
        for (i, sample) in p.sample.iter().enumerate() {
            if sample.value.len() != types {
                return Err(ProfileError::Invalid(format!(
                    "malformed pprof: sample {i} has {} values for {types} sample types",
                    sample.value.len(),
                )));
            }
            if sample.location_id.is_empty() || sample.value.iter().all(|v| *v == 0) {
                continue;
            }
            let (pairs, span, trace, timed) = self.sample_labels(sample)?;
            let g = match group_of.get(&pairs) {
                Some(&g) => g,
                None => {
                    let mut all: Vec<Label> = pairs
                        .iter()
                        .map(|(n, v)| Label {
                            name: (*n).into(),
                            value: (*v).into(),
                        })
                        .collect();
                    all.extend(base.iter().cloned());
                    let labels = Labels::new(all);
                    check_series(&labels)?;
                    groups.push(Group {
                        labels,
                        index: HashMap::new(),
                        values: Vec::new(),
                        ticks: Vec::new(),
                    });
                    group_of.insert(pairs, groups.len() - 1);
                    groups.len() - 1
                }
            };
            let key = (g, &sample.location_id[..], span, trace);
            let s = match stack_of.get(&key) {
                Some(&s) => s,
                None => {
                    let frames = self.frames(&sample.location_id)?;
                    let group = &mut groups[g];
                    let next = group.index.len();
                    let s = *group.index.entry((frames, span, trace)).or_insert(next);
                    if s == next {
                        group.values.resize(group.values.len() + types, 0);
                    }
                    stack_of.insert(key, s);
                    s
                }
            };
            if let Some((thread, time)) = timed {
                self.budget.charge(TICK_BYTES, "timed samples")?;
                groups[g].ticks.push((s, thread, time, i));
            }
            let values = &mut groups[g].values[s * types..(s + 1) * types];
            for (total, v) in values.iter_mut().zip(&sample.value) {
                *total = total.saturating_add(*v);
            }
        }
        Ok(groups)
    }

    /// One write per group and sample type with a non-zero value.
    fn writes(
        &mut self,
        groups: Vec<Group>,
        header: &Header,
    ) -> Result<Vec<ProfileWrite>, ProfileError> {
        let types = header.profile_types.len();
        self.objects.sort_unstable();
        let mut writes = Vec::new();
        for group in groups {
            let mut stacks: Vec<(StackKey, usize)> = group.index.into_iter().collect();
            stacks.sort_unstable_by_key(|(_, s)| *s);
            for (t, profile_type) in header.profile_types.iter().enumerate() {
                let mut samples = Vec::new();
                // Index in `samples` of each stack kept for this type.
                let mut kept = vec![u32::MAX; stacks.len()];
                for ((frames, span_id, trace_id), s) in &stacks {
                    let value = group.values[s * types + t];
                    if value == 0 {
                        continue;
                    }
                    kept[*s] = samples.len() as u32;
                    self.budget.charge(frames_bytes(frames), "stacks")?;
                    samples.push(StackSample {
                        frames: frames.clone(),
                        value,
                        span_id: *span_id,
                        trace_id: *trace_id,
                    });
                }
                if samples.is_empty() {
                    continue;
                }
                let ticks = group
                    .ticks
                    .iter()
                    .filter_map(|&(s, thread_id, time_ns, i)| {
                        let value = self.profile.sample.get(i)?.value.get(t).copied()?;
                        let sample = *kept.get(s)?;
                        (value != 0 && sample != u32::MAX).then_some(Tick {
                            sample,
                            thread_id,
                            time_ns,
                            value,
                        })
                    })
                    .collect();
                let mut labels = group.labels.clone();
                labels.set(PROFILE_TYPE_LABEL, profile_type);
                writes.push(ProfileWrite {
                    labels,
                    time_ns: header.time_ns,
                    duration_ns: header.duration_ns,
                    samples,
                    ticks,
                    objects: self.objects.clone(),
                });
            }
        }
        Ok(writes)
    }

    /// `(type, unit)` of each sample type.
    fn sample_types(&self) -> Result<Vec<(&'p str, &'p str)>, ProfileError> {
        let p = self.profile;
        if p.sample_type.is_empty() {
            return Err(ProfileError::Invalid(
                "the pprof has no sample types".into(),
            ));
        }
        if p.sample_type.len() > MAX_SAMPLE_TYPES {
            return Err(ProfileError::Invalid(format!(
                "the pprof has {} sample types; the limit is {MAX_SAMPLE_TYPES}",
                p.sample_type.len()
            )));
        }
        p.sample_type
            .iter()
            .map(|vt| {
                let (t, u) = (self.string(vt.r#type)?, self.string(vt.unit)?);
                if t.is_empty() || t.contains(':') || u.contains(':') {
                    return Err(ProfileError::Invalid(format!(
                        "pprof sample type '{t}/{u}' is empty or contains ':'"
                    )));
                }
                Ok((t, u))
            })
            .collect()
    }

    /// String labels of a sample (sorted, first of each name kept, `__`
    /// names dropped), its span id and its trace id.
    fn sample_labels(&self, sample: &Sample) -> Result<SampleLabels<'p>, ProfileError> {
        if sample.label.len() > MAX_SAMPLE_LABELS {
            return Err(ProfileError::Invalid(format!(
                "a sample has {} labels; the limit is {MAX_SAMPLE_LABELS} (max_profile_stacktrace_sample_labels)",
                sample.label.len()
            )));
        }
        let (mut pairs, mut span, mut profile_id, mut trace) = (Vec::new(), None, None, None);
        let (mut thread, mut time) = (None, None);
        for label in &sample.label {
            if label.str <= 0 {
                // Numeric labels: only the thread and time of a timed sample count.
                match self.string(label.key)? {
                    "tid" | "thread_id" => thread = thread.or(u32::try_from(label.num).ok()),
                    "timestamp" if label.num >= PLAUSIBLE_TIME_NS => {
                        time = time.or(Some(label.num))
                    }
                    _ => {}
                }
                continue;
            }
            let (key, value) = (self.string(label.key)?, self.string(label.str)?);
            match key {
                "span_id" => {
                    span = span.or_else(|| hex_id(value, 16).and_then(|v| u64::try_from(v).ok()))
                }
                "profile_id" => {
                    profile_id =
                        profile_id.or_else(|| hex_id(value, 16).and_then(|v| u64::try_from(v).ok()))
                }
                "trace_id" => trace = trace.or_else(|| hex_id(value, 32)),
                _ if key.starts_with("__") => {}
                _ if pairs.iter().any(|(k, _)| *k == key) => {}
                _ => {
                    check_pair(key, value)?;
                    pairs.push((key, value));
                }
            }
        }
        pairs.sort_unstable();
        let timed = time.map(|t| (thread.unwrap_or(0), t));
        Ok((pairs, span.or(profile_id), trace, timed))
    }

    /// Function names of a sample's stack, root first, at most
    /// [`MAX_STACK_DEPTH`] (the root side).
    fn frames(&mut self, location_ids: &[u64]) -> Result<Vec<String>, ProfileError> {
        let mut out = Vec::new();
        for id in location_ids.iter().rev() {
            let index = *self.locations.get(id).ok_or_else(|| {
                ProfileError::Invalid(format!(
                    "malformed pprof: a sample refers to location {id}, which is not in the profile"
                ))
            })?;
            if self.names[index].is_none() {
                let profile = self.profile;
                let location = &profile.location[index];
                let names = self.location_names(location)?;
                self.budget.charge(frames_bytes(&names), "function names")?;
                self.note_object(location, &names)?;
                self.names[index] = Some(names);
            }
            for name in self.names[index].iter().flatten() {
                if out.len() == MAX_STACK_DEPTH {
                    break;
                }
                out.push(name.clone());
            }
            if out.len() == MAX_STACK_DEPTH {
                break;
            }
        }
        self.budget.charge(frames_bytes(&out), "stacks")?;
        Ok(out)
    }

    /// Keeps the mapping of a location named `FILE+0xOFFSET` as an object file.
    fn note_object(&mut self, location: &Location, names: &[String]) -> Result<(), ProfileError> {
        let Some(&m) = self.mappings.get(&location.mapping_id) else {
            return Ok(());
        };
        let mapping = &self.profile.mapping[m];
        let path = self.string(mapping.filename)?;
        if path.is_empty() || self.objects.len() >= MAX_OBJECTS {
            return Ok(());
        }
        // Most frames have names: nothing to keep, nothing to copy.
        let file = ObjectFile::file_name(path);
        let named_like_file = |n: &String| n.rsplit_once("+0x").is_some_and(|(f, _)| f == file);
        if !names.iter().any(named_like_file) {
            return Ok(());
        }
        let object = ObjectFile {
            path: path.to_string(),
            build_id: self.string(mapping.build_id)?.to_string(),
            offset: mapping.file_offset,
            size: mapping.memory_limit.saturating_sub(mapping.memory_start),
        };
        if names.iter().any(|n| object.offset_of(n).is_some()) && !self.objects.contains(&object) {
            let bytes = (object.path.len() + object.build_id.len()) as u64 + FRAME_OVERHEAD_BYTES;
            self.budget.charge(bytes, "object files")?;
            self.objects.push(object);
        }
        Ok(())
    }

    /// A location's function names, outermost (caller) first.
    fn location_names(&self, location: &Location) -> Result<Vec<String>, ProfileError> {
        let address = || format!("0x{:x}", location.address);
        if location.line.is_empty() {
            return Ok(vec![address()]);
        }
        let mut names = Vec::with_capacity(location.line.len());
        for line in location.line.iter().rev() {
            let name = match self.functions.get(&line.function_id) {
                Some(f) => match self.string(f.name)? {
                    "" => self.string(f.system_name)?,
                    name => name,
                },
                None => "",
            };
            names.push(if name.is_empty() {
                address()
            } else {
                symbol_tail(name).to_string()
            });
        }
        Ok(names)
    }
}

/// Memory of a materialised stack.
fn frames_bytes(frames: &[String]) -> u64 {
    SAMPLE_OVERHEAD_BYTES
        + frames
            .iter()
            .map(|f| f.len() as u64 + FRAME_OVERHEAD_BYTES)
            .sum::<u64>()
}

/// A non-zero id of exactly `digits` hex digits.
fn hex_id(text: &str, digits: usize) -> Option<u128> {
    if text.len() != digits || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(text, 16).ok().filter(|v| *v != 0)
}
