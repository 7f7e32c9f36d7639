//! Turns the JSON a flamegraph page embeds back into a `Profile`, checking
//! every index so a damaged page gives an error, never a panic.
//!
//! Each frame becomes its own location (inlined frames come back as separate
//! locations, which keeps the stacks' names); frames named by a hex address
//! with no file or line come back unsymbolized. Not the HTML scanning.

use super::data::{kind_of_code, ProfileData, FORMAT, VERSION};
use crate::error::RenderError;
use model::{Location, LocationId, Profile, ProfileBuilder, Sample, SampleLabels, ValueType};

fn bad(reason: String) -> RenderError {
    RenderError::NotFlamegraphHtml(reason)
}

/// The address an unsymbolized frame's name spells (`0x5200`), if it is one.
fn address_of(name: &str) -> Option<u64> {
    let address = u64::from_str_radix(name.strip_prefix("0x")?, 16).ok()?;
    (format!("{address:#x}") == name).then_some(address)
}

/// The profile `data` describes.
pub(crate) fn decode(data: &ProfileData) -> Result<Profile, RenderError> {
    if data.format != FORMAT || data.version != VERSION {
        return Err(bad(format!(
            "embedded data is {} version {}, expected {FORMAT} version {VERSION}",
            data.format, data.version
        )));
    }
    let string = |id: u32, what: &str| {
        data.strings.get(id as usize).ok_or_else(|| {
            bad(format!(
                "{what} names string {id} of {}",
                data.strings.len()
            ))
        })
    };
    let value_type = |(kind, unit): &(String, String)| ValueType::new(kind, unit);
    let mut builder = ProfileBuilder::new(data.sample_types.iter().map(value_type).collect());

    let mut frame_locations: Vec<LocationId> = Vec::with_capacity(data.frames.len());
    for (i, &(name, file, line, kind)) in data.frames.iter().enumerate() {
        let what = format!("frame {i}");
        let name = string(name, &what)?;
        let file = string(file, &what)?;
        let kind = kind_of_code(kind);
        let location = match address_of(name) {
            Some(address) if file.is_empty() && line == 0 => builder.location(Location {
                mapping: None,
                address,
                lines: Vec::new(),
                kind,
            }),
            _ => builder.named_location(name, file, line, kind),
        };
        frame_locations.push(location);
    }

    if data.stack_parent_delta.len() != data.stack_frame.len() {
        return Err(bad(format!(
            "stack table has {} parents but {} frames",
            data.stack_parent_delta.len(),
            data.stack_frame.len()
        )));
    }
    let mut stack_parent: Vec<i64> = Vec::with_capacity(data.stack_frame.len());
    for (i, (&delta, &frame)) in data
        .stack_parent_delta
        .iter()
        .zip(&data.stack_frame)
        .enumerate()
    {
        if delta as usize > i {
            return Err(bad(format!(
                "stack {i} has its parent {delta} entries before the table"
            )));
        }
        stack_parent.push(if delta == 0 {
            -1
        } else {
            i as i64 - i64::from(delta)
        });
        if frame as usize >= frame_locations.len() {
            return Err(bad(format!("stack {i} names frame {frame}")));
        }
    }

    let samples = &data.samples;
    let count = samples.stack.len();
    if samples.label.len() != count
        || samples.values.len() != data.sample_types.len()
        || samples.values.iter().any(|column| column.len() != count)
    {
        return Err(bad(format!(
            "sample arrays differ in length ({count} stacks, {} labels, {} value columns for {} sample types)",
            samples.label.len(),
            samples.values.len(),
            data.sample_types.len()
        )));
    }
    let mut labels = Vec::with_capacity(data.labels.len());
    for (i, &(pid, tid, name)) in data.labels.iter().enumerate() {
        labels.push(SampleLabels {
            pid,
            tid,
            thread_name: string(name, &format!("label {i}"))?.clone(),
            time_ns: 0,
        });
    }

    for i in 0..count {
        let mut locations = Vec::new();
        let mut stack = samples.stack[i];
        while stack >= 0 {
            // Both lookups were checked above; parents strictly decrease, so this ends.
            let at = stack as usize;
            let (Some(&frame), Some(&parent)) = (data.stack_frame.get(at), stack_parent.get(at))
            else {
                return Err(bad(format!("sample {i} names stack {stack}")));
            };
            locations.extend(frame_locations.get(frame as usize));
            stack = parent;
        }
        let label = samples.label[i];
        let labels = labels
            .get(label as usize)
            .ok_or_else(|| bad(format!("sample {i} names label {label}")))?
            .clone();
        builder.add_sample(Sample {
            locations,
            values: samples.values.iter().map(|column| column[i]).collect(),
            labels,
        });
    }

    let metadata = builder.profile_mut();
    metadata.period_type = data.period_type.as_ref().map(value_type);
    metadata.period = data.period;
    metadata.start_time_ns = data.start_time_ns;
    metadata.duration_ns = data.duration_ns;
    metadata.comments = data.comments.clone();
    Ok(builder.finish())
}
