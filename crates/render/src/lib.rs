//! Reading and writing profiles in every format whyslow speaks, and the
//! pictures made from them: one module per format (folded, pprof, speedscope,
//! perf script, flamegraph HTML), dispatched on [`Format`] by [`read_profile`]
//! and [`write_profile`], plus the text tables the CLI prints. Analysis lives
//! in `query`; nothing here does I/O beyond the writer it is handed.

pub mod diff_html;
pub mod error;
pub mod flamegraph_html;
pub mod folded;
pub mod format;
pub mod perf_script;
pub mod pprof;
pub mod pprof_proto;
pub mod speedscope;
pub mod top_table;

pub use error::RenderError;
pub use format::{detect_format, Format};
pub use top_table::{changes_table, top_table};

use model::Profile;
use query::ValueView;
use std::io::Write;

/// Writes `profile` in `format` with the values of `view`; `title` names the
/// profile where the format has a place for it (HTML, speedscope).
///
/// Fails with [`RenderError::ViewUnavailable`] when the profile has samples but
/// no values for `view`, except for pprof, which always carries every column
/// and only uses `view` to pick the default sample type.
pub fn write_profile(
    profile: &Profile,
    format: Format,
    view: ValueView,
    title: &str,
    out: &mut dyn Write,
) -> Result<(), RenderError> {
    let available = ValueView::available(profile);
    if format != Format::Pprof && !available.contains(&view) && !profile.samples.is_empty() {
        return Err(RenderError::ViewUnavailable {
            view: view.to_string(),
            available: available
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    match format {
        Format::FlamegraphHtml => flamegraph_html::write(profile, view, title, out),
        Format::Folded => folded::write(profile, view, out),
        Format::Pprof => pprof::write(profile, view, out),
        Format::Speedscope => speedscope::write(profile, view, title, out),
        Format::PerfScript => perf_script::write(profile, view, out),
    }
}

/// Reads a profile in `hint`'s format, or in the format [`detect_format`]
/// recognizes when `hint` is `None`.
pub fn read_profile(bytes: &[u8], hint: Option<Format>) -> Result<Profile, RenderError> {
    let format = match hint {
        Some(format) => format,
        None => detect_format(bytes).ok_or(RenderError::UnknownInput)?,
    };
    let text = || {
        std::str::from_utf8(bytes).map_err(|source| RenderError::NotText {
            format: format.name(),
            source,
        })
    };
    match format {
        Format::Pprof => pprof::read(bytes),
        Format::FlamegraphHtml => flamegraph_html::read(text()?),
        Format::Folded => folded::read(text()?),
        Format::Speedscope => speedscope::read(text()?),
        Format::PerfScript => perf_script::read(text()?),
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! A hand-built profile shared by the unit tests of every format.
    use model::{
        FrameKind, Function, Line, Location, Mapping, Profile, ProfileBuilder, Sample,
        SampleLabels, ValueType,
    };

    /// A profile exercising every table: mappings, inlined lines, kinds, labels, metadata.
    pub(crate) fn rich_profile() -> Profile {
        let mut b = ProfileBuilder::new(vec![
            ValueType::new("samples", "count"),
            ValueType::new("cpu", "nanoseconds"),
            ValueType::new("off_cpu", "nanoseconds"),
        ]);
        let exe = b.mapping(Mapping {
            start: 0x1000,
            limit: 0x9000,
            file_offset: 0,
            path: "/usr/bin/app".to_string(),
            build_id: "abcd".to_string(),
        });
        let root = b.named_location("app", "", 0, FrameKind::Synthetic);
        let main = b.named_location("main", "main.rs", 3, FrameKind::User);
        let outer = b.function(Function {
            name: "outer".to_string(),
            system_name: "_ZN5outer".to_string(),
            filename: "lib.rs".to_string(),
            start_line: 10,
        });
        let inner = b.function_named("inner", "lib.rs");
        let inlined = b.location(Location {
            mapping: Some(exe),
            address: 0x1234,
            lines: vec![
                Line {
                    function: inner,
                    line: 12,
                },
                Line {
                    function: outer,
                    line: 11,
                },
            ],
            kind: FrameKind::User,
        });
        let raw = b.location(Location {
            mapping: Some(exe),
            address: 0x2000,
            lines: vec![],
            kind: FrameKind::User,
        });
        let kernel = b.named_location("schedule", "", 0, FrameKind::Kernel);
        let labels = SampleLabels {
            pid: 42,
            tid: 43,
            thread_name: "worker".to_string(),
            time_ns: 0,
        };
        b.add_sample(Sample {
            locations: vec![inlined, main, root],
            values: vec![3, 30_000_000, 0],
            labels: labels.clone(),
        });
        b.add_sample(Sample {
            locations: vec![raw, main, root],
            values: vec![1, 10_000_000, 0],
            labels: SampleLabels::default(),
        });
        b.add_sample(Sample {
            locations: vec![kernel, main, root],
            values: vec![2, 0, 500_000_000],
            labels,
        });
        let p = b.profile_mut();
        p.start_time_ns = 1_700_000_000_000_000_000;
        p.duration_ns = 2_000_000_000;
        p.period_type = Some(ValueType::new("cpu", "nanoseconds"));
        p.period = 10_101_010;
        p.comments = vec!["event: cpu-clock".to_string()];
        b.finish()
    }
}
