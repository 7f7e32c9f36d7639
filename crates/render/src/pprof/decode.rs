//! pprof message → model: bounds-checked table copies that undo the
//! encodings of `encode.rs` (marker mappings, derived `wall` column).
//! No gunzip or I/O here.

use super::{kind_of_mapping, LABEL_PID, LABEL_THREAD_NAME, LABEL_TID, LABEL_TIMESTAMP, MARKERS};
use crate::error::RenderError;
use crate::pprof_proto as proto;
use model::{
    FrameKind, Function, Line, Location, Mapping, Profile, Sample, SampleLabels, ValueType,
};
use std::collections::HashMap;

/// Looks up pprof string indices with bounds checks.
struct Table<'a>(&'a [String]);

impl<'a> Table<'a> {
    fn get(&self, index: i64) -> Result<&'a str, RenderError> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.0.get(i))
            .map(String::as_str)
            .ok_or_else(|| {
                RenderError::NotPprof(format!(
                    "string index {index} is outside the string table ({} entries)",
                    self.0.len()
                ))
            })
    }

    fn value_type(&self, t: &proto::ValueType) -> Result<ValueType, RenderError> {
        Ok(ValueType::new(self.get(t.r#type)?, self.get(t.unit)?))
    }
}

/// Converts a decoded pprof message to a profile.
pub fn from_proto(message: &proto::Profile) -> Result<Profile, RenderError> {
    if message.string_table.first().is_some_and(|s| !s.is_empty()) {
        return Err(RenderError::NotPprof(
            "the string table does not start with the empty string".to_string(),
        ));
    }
    if message.sample_type.is_empty() && !message.sample.is_empty() {
        return Err(RenderError::NotPprof(
            "samples without sample types".to_string(),
        ));
    }
    let strings = Table(&message.string_table);
    let mut profile = Profile::new(
        message
            .sample_type
            .iter()
            .map(|t| strings.value_type(t))
            .collect::<Result<_, _>>()?,
    );

    let mut mapping_ids: HashMap<u64, usize> = HashMap::new();
    let mut marker_kinds: HashMap<u64, FrameKind> = HashMap::new();
    let mut mappings: Vec<&proto::Mapping> = message.mapping.iter().collect();
    mappings.sort_by_key(|m| m.id);
    for m in mappings {
        let path = strings.get(m.filename)?;
        let build_id = strings.get(m.build_id)?;
        let marker = MARKERS.iter().find(|(name, _)| *name == path);
        match marker {
            Some(&(_, kind))
                if m.memory_start == 0
                    && m.memory_limit == 0
                    && m.file_offset == 0
                    && build_id.is_empty() =>
            {
                marker_kinds.insert(m.id, kind);
            }
            _ => {
                mapping_ids.insert(m.id, profile.mappings.len());
                profile.mappings.push(Mapping {
                    start: m.memory_start,
                    limit: m.memory_limit,
                    file_offset: m.file_offset,
                    path: path.to_string(),
                    build_id: build_id.to_string(),
                });
            }
        }
    }

    let mut function_ids: HashMap<u64, usize> = HashMap::new();
    for f in &message.function {
        function_ids.insert(f.id, profile.functions.len());
        profile.functions.push(Function {
            name: strings.get(f.name)?.to_string(),
            system_name: strings.get(f.system_name)?.to_string(),
            filename: strings.get(f.filename)?.to_string(),
            start_line: u32::try_from(f.start_line).unwrap_or(0),
        });
    }

    let mut location_ids: HashMap<u64, usize> = HashMap::new();
    for l in &message.location {
        let mapping = mapping_ids.get(&l.mapping_id).copied();
        let kind = match marker_kinds.get(&l.mapping_id) {
            Some(&kind) => kind,
            None => kind_of_mapping(mapping.map(|m| profile.mappings[m].path.as_str())),
        };
        let lines = l
            .line
            .iter()
            .map(|line| {
                let function = function_ids
                    .get(&line.function_id)
                    .copied()
                    .ok_or_else(|| {
                        RenderError::NotPprof(format!(
                            "location {} refers to unknown function id {}",
                            l.id, line.function_id
                        ))
                    })?;
                Ok(Line {
                    function,
                    line: u32::try_from(line.line).unwrap_or(0),
                })
            })
            .collect::<Result<Vec<_>, RenderError>>()?;
        location_ids.insert(l.id, profile.locations.len());
        profile.locations.push(Location {
            mapping,
            address: l.address,
            lines,
            kind,
        });
    }

    let profile_locations_len = profile.locations.len();
    // Most writers number locations 1..=n in order: then ids index directly.
    let dense = message
        .location
        .iter()
        .enumerate()
        .all(|(i, l)| l.id == i as u64 + 1);
    let location_index = |id: &u64| -> Option<usize> {
        if dense {
            let i = usize::try_from(id.checked_sub(1)?).ok()?;
            (i < profile_locations_len).then_some(i)
        } else {
            location_ids.get(id).copied()
        }
    };
    let columns = profile.sample_types.len();
    for s in &message.sample {
        let locations = s
            .location_id
            .iter()
            .map(|id| {
                location_index(id).ok_or_else(|| {
                    RenderError::NotPprof(format!("a sample refers to unknown location id {id}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut values = s.value.clone();
        values.resize(columns, 0);
        let mut labels = SampleLabels::default();
        for label in &s.label {
            match strings.get(label.key)? {
                LABEL_PID => labels.pid = u32::try_from(label.num).unwrap_or(0),
                LABEL_TID => labels.tid = u32::try_from(label.num).unwrap_or(0),
                LABEL_THREAD_NAME => labels.thread_name = strings.get(label.str)?.to_string(),
                LABEL_TIMESTAMP => labels.time_ns = label.num.max(0),
                _ => {}
            }
        }
        profile.samples.push(Sample {
            locations,
            values,
            labels,
        });
    }

    profile.start_time_ns = message.time_nanos;
    profile.duration_ns = message.duration_nanos;
    profile.period = message.period;
    profile.period_type = message
        .period_type
        .as_ref()
        .map(|t| strings.value_type(t))
        .transpose()?;
    profile.comments = message
        .comment
        .iter()
        .map(|&c| strings.get(c).map(str::to_string))
        .collect::<Result<_, _>>()?;
    drop_derived_wall(&mut profile);
    Ok(profile)
}

/// Removes a `wall` column that is exactly `cpu + off_cpu` (what [`write`] adds
/// for the wall view), so our own output reads back unchanged.
fn drop_derived_wall(profile: &mut Profile) {
    let (Some(wall), Some(cpu), Some(off_cpu)) = (
        profile.value_index("wall"),
        profile.value_index("cpu"),
        profile.value_index("off_cpu"),
    ) else {
        return;
    };
    let derived = profile
        .samples
        .iter()
        .all(|s| s.values[wall] == s.values[cpu] + s.values[off_cpu]);
    if derived {
        profile.sample_types.remove(wall);
        for s in &mut profile.samples {
            s.values.remove(wall);
        }
    }
}
