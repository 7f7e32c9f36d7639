//! speedscope's JSON file format (<https://www.speedscope.app/file-format-schema.json>),
//! opened by speedscope.app and written by many profilers. speedscope has no
//! per-sample labels, addresses or mappings, so those are not carried.

use crate::error::RenderError;
use model::{
    FrameKind, Function, Line, Location, Profile, ProfileBuilder, Sample, SampleLabels, ValueType,
};
use query::{ValueExtractor, ValueView};
use std::collections::HashMap;
use std::io::Write;

mod schema;

use schema::{Event, File, Frame, Shared, SpeedscopeProfile};

/// The `$schema` value every speedscope file carries.
pub const SCHEMA: &str = "https://www.speedscope.app/file-format-schema.json";

/// speedscope's unit for a profile unit.
fn speedscope_unit(unit: &str) -> &'static str {
    match unit {
        "nanoseconds" => "nanoseconds",
        "microseconds" => "microseconds",
        "milliseconds" => "milliseconds",
        "seconds" => "seconds",
        "bytes" => "bytes",
        _ => "none",
    }
}

/// Writes `profile` as a speedscope file titled `title`, `view` active.
///
/// Shared frames are keyed by function name and file (line = the function's
/// start line); there is one "sampled" profile per distinct value view the
/// profile has, named `samples`, `cpu`, `off-cpu` or `wall`.
pub fn write(
    profile: &Profile,
    view: ValueView,
    title: &str,
    out: &mut dyn Write,
) -> Result<(), RenderError> {
    // Frames keyed by (name, file); each location expands to frame indices, caller first.
    let mut frames: Vec<Frame> = Vec::new();
    let mut frame_index: HashMap<(String, String), usize> = HashMap::new();
    let mut intern = |name: String, file: &str, line: u32| -> usize {
        let key = (name, file.to_string());
        if let Some(&i) = frame_index.get(&key) {
            return i;
        }
        let i = frames.len();
        frames.push(Frame {
            name: key.0.clone(),
            file: (!file.is_empty()).then(|| file.to_string()),
            line: (line != 0).then(|| line.into()),
        });
        frame_index.insert(key, i);
        i
    };
    let location_frames: Vec<Vec<usize>> = profile
        .locations
        .iter()
        .map(|loc| {
            if loc.lines.is_empty() {
                return vec![intern(format!("{:#x}", loc.address), "", 0)];
            }
            loc.lines
                .iter()
                .rev()
                .filter_map(|l| profile.functions.get(l.function))
                .map(|f| intern(f.name.clone(), &f.filename, f.start_line))
                .collect()
        })
        .collect();

    let mut views: Vec<(ValueView, ValueExtractor)> = Vec::new();
    for v in ValueView::available(profile) {
        let e = v.extractor(profile);
        if !views.iter().any(|(_, seen)| *seen == e) {
            views.push((v, e));
        }
    }
    let chosen = view.extractor(profile);
    let active = views.iter().position(|(_, e)| *e == chosen);

    let mut profiles = Vec::with_capacity(views.len());
    for (v, extractor) in &views {
        let mut samples = Vec::new();
        let mut weights = Vec::new();
        for sample in &profile.samples {
            let value = extractor.value(sample);
            if value == 0 {
                continue;
            }
            let stack: Vec<usize> = sample
                .locations
                .iter()
                .rev()
                .filter_map(|&l| location_frames.get(l))
                .flatten()
                .copied()
                .collect();
            samples.push(stack);
            weights.push(value);
        }
        profiles.push(SpeedscopeProfile::Sampled {
            name: v.name().to_string(),
            unit: speedscope_unit(v.unit(profile)).to_string(),
            start_value: 0,
            end_value: weights.iter().sum::<i64>(),
            samples,
            weights,
        });
    }
    let file: File<i64> = File {
        schema: SCHEMA.to_string(),
        shared: Shared { frames },
        profiles,
        name: Some(title.to_string()),
        active_profile_index: active,
        exporter: Some("whyslow".to_string()),
    };
    serde_json::to_writer(&mut *out, &file).map_err(|e| RenderError::Io(e.into()))?;
    out.write_all(b"\n")?;
    Ok(())
}

/// The column a speedscope profile's weights go to, and the factor that
/// converts them to that column's unit.
fn column_of(name: &str, unit: &str) -> (ValueType, f64) {
    let time = |kind: &str| match unit {
        "microseconds" => (ValueType::new(kind, "nanoseconds"), 1e3),
        "milliseconds" => (ValueType::new(kind, "nanoseconds"), 1e6),
        "seconds" => (ValueType::new(kind, "nanoseconds"), 1e9),
        _ => (ValueType::new(kind, "nanoseconds"), 1.0),
    };
    match (name, unit) {
        ("samples", _) => (ValueType::new("samples", "count"), 1.0),
        ("cpu", "none") => (ValueType::new("cpu", "count"), 1.0),
        ("cpu", _) => time("cpu"),
        ("off-cpu" | "off_cpu", _) => time("off_cpu"),
        ("wall", _) => time("wall"),
        (_, "bytes") => (ValueType::new("space", "bytes"), 1.0),
        (_, "nanoseconds" | "microseconds" | "milliseconds" | "seconds") => time("wall"),
        _ => (ValueType::new("samples", "count"), 1.0),
    }
}

/// Reads a speedscope file (sampled and evented profiles).
///
/// Profiles named after our views become those columns again (a `wall`
/// profile is skipped when `cpu` and `off-cpu` are there); others are summed
/// into one column per unit: `samples/count`, `wall/nanoseconds` for time
/// units, `space/bytes`.
pub fn read(text: &str) -> Result<Profile, RenderError> {
    let file: File<f64> =
        serde_json::from_str(text).map_err(|e| RenderError::NotSpeedscope(e.to_string()))?;
    let has = |n: &str| {
        file.profiles.iter().any(|p| match p {
            SpeedscopeProfile::Sampled { name, .. } | SpeedscopeProfile::Evented { name, .. } => {
                name == n
            }
        })
    };
    let skip_wall = has("cpu") && (has("off-cpu") || has("off_cpu"));

    // Stacks (frame indices, root first) with weights, per column.
    let mut columns: Vec<ValueType> = Vec::new();
    let mut weighted: Vec<(usize, Vec<usize>, f64)> = Vec::new();
    for p in &file.profiles {
        let (name, unit) = match p {
            SpeedscopeProfile::Sampled { name, unit, .. }
            | SpeedscopeProfile::Evented { name, unit, .. } => (name.as_str(), unit.as_str()),
        };
        if name == "wall" && skip_wall {
            continue;
        }
        let (value_type, scale) = column_of(name, unit);
        let column = match columns.iter().position(|c| *c == value_type) {
            Some(c) => c,
            None => {
                columns.push(value_type);
                columns.len() - 1
            }
        };
        match p {
            SpeedscopeProfile::Sampled {
                samples, weights, ..
            } => {
                if samples.len() != weights.len() {
                    return Err(RenderError::NotSpeedscope(format!(
                        "profile '{name}' has {} samples but {} weights",
                        samples.len(),
                        weights.len()
                    )));
                }
                for (stack, w) in samples.iter().zip(weights) {
                    weighted.push((column, stack.clone(), w * scale));
                }
            }
            SpeedscopeProfile::Evented { events, .. } => {
                for (stack, w) in evented_stacks(name, events)? {
                    weighted.push((column, stack, w * scale));
                }
            }
        }
    }

    let mut builder = ProfileBuilder::new(columns.clone());
    let mut frame_locations: HashMap<usize, usize> = HashMap::new();
    for (column, stack, weight) in weighted {
        let mut locations = Vec::with_capacity(stack.len());
        for &index in stack.iter().rev() {
            let location = match frame_locations.get(&index) {
                Some(&l) => l,
                None => {
                    let frame = file.shared.frames.get(index).ok_or_else(|| {
                        RenderError::NotSpeedscope(format!(
                            "a stack refers to frame {index}, but there are only {} frames",
                            file.shared.frames.len()
                        ))
                    })?;
                    let start_line = frame
                        .line
                        .as_ref()
                        .and_then(serde_json::Number::as_u64)
                        .and_then(|l| u32::try_from(l).ok())
                        .unwrap_or(0);
                    let function = builder.function(Function {
                        name: frame.name.clone(),
                        system_name: String::new(),
                        filename: frame.file.clone().unwrap_or_default(),
                        start_line,
                    });
                    let l = builder.location(Location {
                        mapping: None,
                        address: 0,
                        lines: vec![Line { function, line: 0 }],
                        kind: FrameKind::User,
                    });
                    frame_locations.insert(index, l);
                    l
                }
            };
            locations.push(location);
        }
        let mut values = vec![0; columns.len()];
        values[column] = weight.round() as i64;
        builder.add_sample(Sample {
            locations,
            values,
            labels: SampleLabels::default(),
        });
    }
    let mut profile = builder.finish();
    if let Some(name) = file.name.filter(|n| !n.is_empty()) {
        profile.comments.push(format!("speedscope: {name}"));
    }
    Ok(profile)
}

/// Time spent in each stack of an evented profile: open/close events replayed,
/// the time between two events credited to the stack open in between.
fn evented_stacks(
    name: &str,
    events: &[Event<f64>],
) -> Result<Vec<(Vec<usize>, f64)>, RenderError> {
    let mut open: Vec<usize> = Vec::new();
    let mut totals: HashMap<Vec<usize>, f64> = HashMap::new();
    let mut order: Vec<Vec<usize>> = Vec::new();
    let mut last_at: Option<f64> = None;
    for event in events {
        if let Some(last) = last_at {
            let elapsed = event.at - last;
            if elapsed > 0.0 && !open.is_empty() {
                match totals.get_mut(&open) {
                    Some(t) => *t += elapsed,
                    None => {
                        order.push(open.clone());
                        totals.insert(open.clone(), elapsed);
                    }
                }
            }
        }
        last_at = Some(event.at);
        match event.kind.as_str() {
            "O" => open.push(event.frame),
            "C" => match open.iter().rposition(|&f| f == event.frame) {
                Some(at) => open.truncate(at),
                None => {
                    return Err(RenderError::NotSpeedscope(format!(
                        "profile '{name}' closes frame {} at {}, which is not open",
                        event.frame, event.at
                    )))
                }
            },
            other => {
                return Err(RenderError::NotSpeedscope(format!(
                    "profile '{name}' has an event of unknown type '{other}' (expected O or C)"
                )))
            }
        }
    }
    Ok(order
        .into_iter()
        .map(|stack| {
            let t = totals.get(&stack).copied().unwrap_or(0.0);
            (stack, t)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::rich_profile;

    fn written(profile: &Profile, view: ValueView) -> String {
        let mut out = Vec::new();
        write(profile, view, "t", &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn one_sampled_profile_per_view_with_the_chosen_one_active() {
        let p = rich_profile();
        let json: serde_json::Value = serde_json::from_str(&written(&p, ValueView::Cpu)).unwrap();
        let names: Vec<&str> = json["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["samples", "cpu", "off-cpu", "wall"]);
        assert_eq!(json["activeProfileIndex"], 1);
        assert_eq!(json["profiles"][1]["unit"], "nanoseconds");
        assert_eq!(json["profiles"][1]["endValue"], 40_000_000);
        assert_eq!(json["$schema"], SCHEMA);
    }

    #[test]
    fn round_trip_keeps_stacks_and_totals() {
        let p = rich_profile();
        let back = read(&written(&p, ValueView::Wall)).unwrap();
        assert_eq!(
            back.sample_types,
            vec![
                ValueType::new("samples", "count"),
                ValueType::new("cpu", "nanoseconds"),
                ValueType::new("off_cpu", "nanoseconds"),
            ]
        );
        for view in ValueView::ALL {
            assert_eq!(view.total(&back), view.total(&p), "{view}");
        }
        let stacks = |p: &Profile| {
            let mut s: Vec<Vec<String>> = p.samples.iter().map(|s| p.stack_names(s)).collect();
            s.sort();
            s
        };
        assert_eq!(stacks(&back), stacks(&p));
    }

    #[test]
    fn reads_evented_profiles() {
        let text = r#"{"$schema":"https://www.speedscope.app/file-format-schema.json",
            "shared":{"frames":[{"name":"main"},{"name":"work","file":"w.rs","line":3}]},
            "profiles":[{"type":"evented","name":"thread","unit":"milliseconds",
              "startValue":0,"endValue":10,"events":[
                {"type":"O","frame":0,"at":0},{"type":"O","frame":1,"at":2},
                {"type":"C","frame":1,"at":7},{"type":"C","frame":0,"at":10}]}]}"#;
        let p = read(text).unwrap();
        assert_eq!(p.sample_types, vec![ValueType::new("wall", "nanoseconds")]);
        assert_eq!(ValueView::Wall.total(&p), 10_000_000);
        let work = p
            .samples
            .iter()
            .find(|s| p.stack_names(s) == ["main", "work"])
            .unwrap();
        assert_eq!(work.values, vec![5_000_000]);
        assert_eq!(p.functions[1].start_line, 3);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let err = read("{\"profiles\": 3}").unwrap_err().to_string();
        assert!(err.starts_with("not a speedscope profile: "), "{err}");
        let text = r#"{"shared":{"frames":[]},"profiles":[{"type":"sampled","name":"x",
            "unit":"none","startValue":0,"endValue":1,"samples":[[4]],"weights":[1]}]}"#;
        let err = read(text).unwrap_err().to_string();
        assert!(err.contains("frame 4"), "{err}");
    }
}
