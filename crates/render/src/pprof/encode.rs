//! Model → pprof message: table copies plus the encodings `pprof.rs`
//! documents (marker mappings for frame kinds, a derived `wall` column, the
//! main binary listed first). No gzip or I/O here.

use super::{
    kind_of_mapping, LABEL_PID, LABEL_THREAD_NAME, LABEL_TID, LABEL_TIMESTAMP, MARKERS,
    UNIT_NANOSECONDS,
};
use crate::pprof_proto as proto;
use model::{FrameKind, Mapping, Profile};
use query::{ValueExtractor, ValueView};
use std::collections::HashMap;

/// Index of the mapping most likely the main executable: the first real file
/// that is not a shared library, else the first real file.
fn main_binary(profile: &Profile) -> Option<usize> {
    let file = |m: &&Mapping| !m.path.is_empty() && !m.path.starts_with('[');
    let executable = |m: &&Mapping| file(m) && !m.path.contains(".so");
    let by = |f: &dyn Fn(&&Mapping) -> bool| profile.mappings.iter().position(|m| f(&m));
    by(&executable).or_else(|| by(&file))
}

/// Interns strings into pprof's string table.
struct Strings {
    table: Vec<String>,
    index: HashMap<String, i64>,
}

impl Strings {
    fn new() -> Self {
        let mut s = Self {
            table: Vec::new(),
            index: HashMap::new(),
        };
        s.get("");
        s
    }

    fn get(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.table.len() as i64;
        self.table.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
}

/// Converts a profile to the pprof message; `view` becomes the default sample type.
pub fn to_proto(profile: &Profile, view: ValueView) -> proto::Profile {
    let mut strings = Strings::new();
    let mut sample_type: Vec<proto::ValueType> = profile
        .sample_types
        .iter()
        .map(|t| proto::ValueType {
            r#type: strings.get(&t.kind),
            unit: strings.get(&t.unit),
        })
        .collect();
    let extractor = view.extractor(profile);
    let wall_sum = match extractor {
        ValueExtractor::Sum(a, b) => {
            let unit = profile
                .sample_types
                .get(a)
                .map_or("nanoseconds", |t| &t.unit);
            sample_type.push(proto::ValueType {
                r#type: strings.get(view.column_kind()),
                unit: strings.get(unit),
            });
            Some((a, b))
        }
        _ => None,
    };
    let default_sample_type = match extractor {
        ValueExtractor::Missing => 0,
        ValueExtractor::Column(i) => profile
            .sample_types
            .get(i)
            .map_or(0, |t| strings.get(&t.kind)),
        ValueExtractor::Sum(..) => strings.get(view.column_kind()),
    };

    let mut mapping: Vec<proto::Mapping> = profile
        .mappings
        .iter()
        .enumerate()
        .map(|(i, m)| proto::Mapping {
            id: i as u64 + 1,
            memory_start: m.start,
            memory_limit: m.limit,
            file_offset: m.file_offset,
            filename: strings.get(&m.path),
            build_id: strings.get(&m.build_id),
            ..proto::Mapping::default()
        })
        .collect();
    let mut marker_ids: HashMap<FrameKind, u64> = HashMap::new();
    let mut location = Vec::with_capacity(profile.locations.len());
    for (i, loc) in profile.locations.iter().enumerate() {
        let mut mapping_id = loc.mapping.map_or(0, |m| m as u64 + 1);
        if loc.mapping.is_none() && loc.kind != kind_of_mapping(None) {
            let next_id = (profile.mappings.len() + marker_ids.len()) as u64 + 1;
            mapping_id = *marker_ids.entry(loc.kind).or_insert_with(|| {
                let name = MARKERS
                    .iter()
                    .find(|(_, k)| *k == loc.kind)
                    .map_or("[synthetic]", |(n, _)| n);
                mapping.push(proto::Mapping {
                    id: next_id,
                    filename: strings.get(name),
                    ..proto::Mapping::default()
                });
                next_id
            });
        }
        if let Some(m) = mapping_id
            .checked_sub(1)
            .and_then(|m| mapping.get_mut(m as usize))
        {
            m.has_functions |= !loc.lines.is_empty();
            m.has_inline_frames |= loc.lines.len() > 1;
            for line in &loc.lines {
                m.has_line_numbers |= line.line != 0;
                m.has_filenames |= profile
                    .functions
                    .get(line.function)
                    .is_some_and(|f| !f.filename.is_empty());
            }
        }
        location.push(proto::Location {
            id: i as u64 + 1,
            mapping_id,
            address: loc.address,
            line: loc
                .lines
                .iter()
                .map(|l| proto::Line {
                    function_id: l.function as u64 + 1,
                    line: i64::from(l.line),
                    column: 0,
                })
                .collect(),
            is_folded: false,
        });
    }
    // pprof takes the first listed mapping as the main binary: list that one
    // first (ids keep the model's order, which `from_proto` restores).
    if let Some(main) = main_binary(profile) {
        let m = mapping.remove(main);
        mapping.insert(0, m);
    }
    let function = profile
        .functions
        .iter()
        .enumerate()
        .map(|(i, f)| proto::Function {
            id: i as u64 + 1,
            name: strings.get(&f.name),
            system_name: strings.get(&f.system_name),
            filename: strings.get(&f.filename),
            start_line: i64::from(f.start_line),
        })
        .collect();
    let sample = profile
        .samples
        .iter()
        .map(|s| {
            let mut value = s.values.clone();
            value.resize(profile.sample_types.len(), 0);
            if let Some((a, b)) = wall_sum {
                value.push(value.get(a).copied().unwrap_or(0) + value.get(b).copied().unwrap_or(0));
            }
            let mut label = Vec::new();
            if s.labels.pid != 0 {
                label.push(proto::Label {
                    key: strings.get(LABEL_PID),
                    num: i64::from(s.labels.pid),
                    ..proto::Label::default()
                });
            }
            if s.labels.tid != 0 {
                label.push(proto::Label {
                    key: strings.get(LABEL_TID),
                    num: i64::from(s.labels.tid),
                    ..proto::Label::default()
                });
            }
            if s.labels.time_ns != 0 {
                label.push(proto::Label {
                    key: strings.get(LABEL_TIMESTAMP),
                    num: s.labels.time_ns,
                    num_unit: strings.get(UNIT_NANOSECONDS),
                    ..proto::Label::default()
                });
            }
            if !s.labels.thread_name.is_empty() {
                label.push(proto::Label {
                    key: strings.get(LABEL_THREAD_NAME),
                    str: strings.get(&s.labels.thread_name),
                    ..proto::Label::default()
                });
            }
            proto::Sample {
                location_id: s.locations.iter().map(|&l| l as u64 + 1).collect(),
                value,
                label,
            }
        })
        .collect();
    let period_type = profile.period_type.as_ref().map(|t| proto::ValueType {
        r#type: strings.get(&t.kind),
        unit: strings.get(&t.unit),
    });
    let comment = profile.comments.iter().map(|c| strings.get(c)).collect();
    proto::Profile {
        sample_type,
        sample,
        mapping,
        location,
        function,
        string_table: strings.table,
        drop_frames: 0,
        keep_frames: 0,
        time_nanos: profile.start_time_ns,
        duration_nanos: profile.duration_ns,
        period_type,
        period: profile.period,
        comment,
        default_sample_type,
    }
}
