//! The text `perf script` prints by default: a header line per sample
//! (`comm [pid/]tid [cpu] time: [period] event:`), then one indented
//! `address symbol+offset (dso)` line per frame, leaf first, and a blank line.
//! Written by hand: no maintained crate parses perf's text into our model.

use crate::error::RenderError;
use model::{
    FrameKind, Line, Location, Mapping, Profile, ProfileBuilder, Sample, SampleLabels, ValueType,
};
use query::{ValueExtractor, ValueView};
use std::collections::HashMap;
use std::io::Write;

mod lines;

use lines::{kind_of_dso, parse_frame, parse_header, FrameLine};

/// Event names whose period is on-CPU time in nanoseconds.
const CPU_EVENTS: [&str; 2] = ["cpu-clock", "task-clock"];
/// Event name of perf's off-CPU samples (period: nanoseconds blocked).
const OFF_CPU_EVENT: &str = "offcpu-time";
/// The dso perf names kernel frames by.
const KERNEL_DSO: &str = "[kernel.kallsyms]";
/// Event name we write for the samples view (period: number of samples).
const SAMPLES_EVENT: &str = "samples";

/// Builds the profile while records are parsed.
struct Reader {
    builder: ProfileBuilder,
    /// One value per record: (samples, cpu, off_cpu), before columns are chosen.
    records: Vec<(Vec<usize>, SampleLabels, [i64; 3])>,
    mappings: HashMap<String, usize>,
    first_time_s: Option<f64>,
    last_time_s: Option<f64>,
    period: Option<i64>,
}

impl Reader {
    fn frame(&mut self, frame: &FrameLine<'_>) -> usize {
        let kind = kind_of_dso(frame.dso);
        // Pseudo objects are no mappings: `[kernel.kallsyms]` is said by the kind.
        let mapping = if frame.dso.is_empty() || frame.dso == "[unknown]" || frame.dso == KERNEL_DSO
        {
            None
        } else {
            let builder = &mut self.builder;
            Some(
                *self
                    .mappings
                    .entry(frame.dso.to_string())
                    .or_insert_with(|| {
                        builder.mapping(Mapping {
                            start: 0,
                            limit: 0,
                            file_offset: 0,
                            path: frame.dso.to_string(),
                            build_id: String::new(),
                        })
                    }),
            )
        };
        let lines = if frame.symbol == "[unknown]" || frame.symbol.is_empty() {
            Vec::new()
        } else {
            let function = self.builder.function_named(frame.symbol, "");
            vec![Line { function, line: 0 }]
        };
        self.builder.location(Location {
            mapping,
            address: frame.address,
            lines,
            kind,
        })
    }
}

/// Reads `perf script` text into a profile.
///
/// The comm becomes the thread name label, pid/tid the labels; frames are
/// named by symbol (offset dropped); a `[unknown]` symbol becomes an
/// unsymbolized location at its address (views show it as `0x…`). Columns:
/// `samples/count` (one per record), `cpu/nanoseconds` from the periods of
/// `cpu-clock`/`task-clock` records, `off_cpu/nanoseconds` from `offcpu-time`
/// records (what `perf record --off-cpu` writes).
pub fn read(text: &str) -> Result<Profile, RenderError> {
    let mut reader = Reader {
        builder: ProfileBuilder::new(Vec::new()),
        records: Vec::new(),
        mappings: HashMap::new(),
        first_time_s: None,
        last_time_s: None,
        period: None,
    };
    let mut current: Option<(Vec<usize>, SampleLabels, [i64; 3])> = None;
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            if let Some(record) = current.take() {
                reader.records.push(record);
            }
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            let Some(record) = current.as_mut() else {
                return Err(RenderError::PerfScript {
                    line: index + 1,
                    reason: "frame line before any sample header".to_string(),
                });
            };
            if let Some(frame) = parse_frame(line) {
                let location = reader.frame(&frame);
                record.0.push(location);
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if let Some(record) = current.take() {
            reader.records.push(record);
        }
        let header = parse_header(line).map_err(|reason| RenderError::PerfScript {
            line: index + 1,
            reason,
        })?;
        if let Some(t) = header.time_s {
            reader.first_time_s.get_or_insert(t);
            reader.last_time_s = Some(t);
        }
        let period = header.period.unwrap_or(0);
        let values = if CPU_EVENTS.contains(&header.event) {
            reader.period.get_or_insert(period);
            [1, period, 0]
        } else if header.event == OFF_CPU_EVENT {
            [1, 0, period]
        } else if header.event == SAMPLES_EVENT {
            [header.period.unwrap_or(1), 0, 0]
        } else {
            [1, 0, 0]
        };
        let labels = SampleLabels {
            pid: header.pid,
            tid: header.tid,
            thread_name: if header.comm.starts_with(':') {
                String::new()
            } else {
                header.comm.to_string()
            },
            time_ns: 0,
        };
        let mut locations = Vec::new();
        if !header.rest.is_empty() {
            if let Some(frame) = parse_frame(header.rest) {
                locations.push(reader.frame(&frame));
            }
        }
        current = Some((locations, labels, values));
    }
    if let Some(record) = current.take() {
        reader.records.push(record);
    }
    finish(reader)
}

/// Chooses the columns the records need and builds the profile.
fn finish(reader: Reader) -> Result<Profile, RenderError> {
    let Reader {
        mut builder,
        records,
        first_time_s,
        last_time_s,
        period,
        ..
    } = reader;
    let has_cpu = records.iter().any(|r| r.2[1] != 0);
    let has_off_cpu = records.iter().any(|r| r.2[2] != 0);
    let mut types = vec![ValueType::new("samples", "count")];
    let mut columns = vec![0];
    if has_cpu {
        types.push(ValueType::new("cpu", "nanoseconds"));
        columns.push(1);
    }
    if has_off_cpu {
        types.push(ValueType::new("off_cpu", "nanoseconds"));
        columns.push(2);
    }
    {
        let p = builder.profile_mut();
        p.sample_types = types;
        if let (Some(a), Some(b)) = (first_time_s, last_time_s) {
            p.duration_ns = ((b - a) * 1e9).round() as i64;
        }
        if has_cpu {
            p.period_type = Some(ValueType::new("cpu", "nanoseconds"));
            p.period = period.unwrap_or(0);
        }
    }
    for (locations, labels, values) in records {
        builder.add_sample(Sample {
            locations,
            values: columns.iter().map(|&c| values[c]).collect(),
            labels,
        });
    }
    Ok(builder.finish())
}

/// Writes `profile` in `perf script`'s default text shape with the values of `view`.
///
/// One record per sample with the view's value as period and event
/// `cpu-clock`, `offcpu-time` (two records per sample for `wall`) or `samples`.
/// Per-sample times are not in the model: records carry time 0.000000.
pub fn write(profile: &Profile, view: ValueView, out: &mut dyn Write) -> Result<(), RenderError> {
    let records: Vec<(&str, ValueExtractor)> = match view.extractor(profile) {
        ValueExtractor::Sum(cpu, off_cpu) => vec![
            (CPU_EVENTS[0], ValueExtractor::Column(cpu)),
            (OFF_CPU_EVENT, ValueExtractor::Column(off_cpu)),
        ],
        e => {
            let event = match view {
                ValueView::Samples => SAMPLES_EVENT,
                ValueView::Cpu => CPU_EVENTS[0],
                ValueView::OffCpu => OFF_CPU_EVENT,
                ValueView::Wall => "wall",
            };
            vec![(event, e)]
        }
    };
    let mut text = String::new();
    for sample in &profile.samples {
        for (event, extractor) in &records {
            let value = extractor.value(sample);
            if value == 0 {
                continue;
            }
            write_record(profile, sample, event, value, &mut text);
            out.write_all(text.as_bytes())?;
            text.clear();
        }
    }
    Ok(())
}

/// Appends one record (header, frames leaf first, blank line) to `text`.
fn write_record(profile: &Profile, sample: &Sample, event: &str, value: i64, text: &mut String) {
    use std::fmt::Write as _;
    let labels = &sample.labels;
    let comm = if labels.thread_name.is_empty() {
        format!(":{}", labels.tid)
    } else {
        labels.thread_name.replace(char::is_whitespace, " ")
    };
    let _ = writeln!(
        text,
        "{comm} {}/{} 0.000000: {value} {event}: ",
        labels.pid, labels.tid
    );
    for &id in &sample.locations {
        let Some(location) = profile.locations.get(id) else {
            continue;
        };
        let dso = match location.mapping.and_then(|m| profile.mappings.get(m)) {
            Some(m) => m.path.as_str(),
            None if location.kind == FrameKind::Kernel => KERNEL_DSO,
            None => "[unknown]",
        };
        if location.lines.is_empty() {
            let _ = writeln!(text, "\t{:>16x} [unknown] ({dso})", location.address);
            continue;
        }
        for line in &location.lines {
            let name = profile
                .functions
                .get(line.function)
                .map_or("[unknown]", |f| f.name.as_str());
            let name = if name.is_empty() { "[unknown]" } else { name };
            // A name that ends like an offset (`libc.so.6+0x1f2`, what `record`
            // calls an unsymbolized frame) gets an explicit one, which the
            // reader strips, so the name comes back whole.
            let offset = if ends_with_offset(name) { "+0x0" } else { "" };
            let _ = writeln!(text, "\t{:>16x} {name}{offset} ({dso})", location.address);
        }
    }
    text.push('\n');
}

/// Whether `name` ends in `+0x` and hex digits, as perf's `symbol+offset` does.
fn ends_with_offset(name: &str) -> bool {
    name.rfind("+0x")
        .is_some_and(|i| name[i + 3..].chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::rich_profile;

    #[test]
    fn reads_cpu_and_off_cpu_records() {
        let text = "app 1/2 1.0: 100 cpu-clock: \n\t 10 hot+0x1 (/bin/app)\n\t 20 main+0x2 (/bin/app)\n\n\
                    app 1/2 3.0: 5000 offcpu-time: \n\t ffff00 schedule+0x0 ([kernel.kallsyms])\n\t 20 main+0x2 (/bin/app)\n";
        let p = read(text).unwrap();
        let kinds: Vec<&str> = p.sample_types.iter().map(|t| t.kind.as_str()).collect();
        assert_eq!(kinds, ["samples", "cpu", "off_cpu"]);
        assert_eq!(ValueView::Cpu.total(&p), 100);
        assert_eq!(ValueView::OffCpu.total(&p), 5000);
        assert_eq!(p.duration_ns, 2_000_000_000);
        assert_eq!(p.stack_names(&p.samples[1]), ["main", "schedule"]);
        assert_eq!(
            p.locations[p.samples[1].locations[0]].kind,
            FrameKind::Kernel
        );
        assert_eq!(p.samples[0].labels.thread_name, "app");
    }

    #[test]
    fn round_trip_keeps_stacks_and_view_totals() {
        let p = rich_profile();
        for view in ValueView::available(&p) {
            let mut out = Vec::new();
            write(&p, view, &mut out).unwrap();
            let back = read(std::str::from_utf8(&out).unwrap()).unwrap();
            assert_eq!(view.total(&back), view.total(&p), "{view}");
            let stacks = |p: &Profile| {
                let mut s: Vec<Vec<String>> = p
                    .samples
                    .iter()
                    .filter(|s| view.value(p, s) != 0)
                    .map(|s| p.stack_names(s))
                    .collect();
                s.sort();
                s
            };
            assert_eq!(stacks(&back), stacks(&p), "{view}");
            assert!(back
                .samples
                .iter()
                .any(|s| s.labels.thread_name == "worker"));
        }
    }

    #[test]
    fn names_that_look_like_offsets_survive_the_round_trip() {
        let mut b = ProfileBuilder::new(vec![ValueType::new("samples", "count")]);
        let f = b.function_named("libgcc_s.so.1+0x198c8", "");
        let loc = b.location(Location {
            mapping: None,
            address: 0x198c8,
            lines: vec![Line {
                function: f,
                line: 0,
            }],
            kind: FrameKind::User,
        });
        b.add_sample(Sample {
            locations: vec![loc],
            values: vec![1],
            labels: SampleLabels::default(),
        });
        let p = b.finish();
        let mut out = Vec::new();
        write(&p, ValueView::Samples, &mut out).unwrap();
        let back = read(std::str::from_utf8(&out).unwrap()).unwrap();
        assert_eq!(
            back.stack_names(&back.samples[0]),
            ["libgcc_s.so.1+0x198c8"]
        );
    }

    #[test]
    fn reads_records_without_call_graphs() {
        let text = "app 5 1.0: 250 cpu-clock:      1a7b1 hot+0x61 (/bin/app)\n\
                    app 5 1.1: 250 cpu-clock:      1a7c0 cold+0x2 (/bin/app)\n";
        let p = read(text).unwrap();
        assert_eq!(p.samples.len(), 2);
        assert_eq!(p.stack_names(&p.samples[0]), ["hot"]);
        assert_eq!(ValueView::Cpu.total(&p), 500);
    }

    #[test]
    fn frame_before_header_is_an_error() {
        let err = read("\t 10 hot (/x)\n").unwrap_err().to_string();
        assert_eq!(
            err,
            "line 1 of perf script input: frame line before any sample header"
        );
    }
}
