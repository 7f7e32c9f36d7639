//! Round trips: a profile written in every format and read back keeps its
//! stacks and totals in every view the format carries.

#![allow(clippy::unwrap_used)] // test helpers may panic

use model::{
    FrameKind, Line, Location, Mapping, Profile, ProfileBuilder, Sample, SampleLabels, ValueType,
};
use query::ValueView;
use render::{read_profile, write_profile, Format};
use std::path::Path;

/// On- and off-CPU samples with inlined frames, an unsymbolized frame, kernel
/// frames and thread labels.
fn profile() -> Profile {
    let mut b = ProfileBuilder::new(vec![
        ValueType::new("samples", "count"),
        ValueType::new("cpu", "nanoseconds"),
        ValueType::new("off_cpu", "nanoseconds"),
    ]);
    let exe = b.mapping(Mapping {
        start: 0x5000,
        limit: 0x9000,
        file_offset: 0x1000,
        path: "/usr/bin/app".to_string(),
        build_id: "0123abcd".to_string(),
    });
    let root = b.named_location("app", "", 0, FrameKind::Synthetic);
    let main = b.named_location("main", "src/main.rs", 5, FrameKind::User);
    let outer = b.function_named("app::outer", "src/lib.rs");
    let inner = b.function_named("app::inner", "src/lib.rs");
    let inlined = b.location(Location {
        mapping: Some(exe),
        address: 0x5100,
        lines: vec![
            Line {
                function: inner,
                line: 30,
            },
            Line {
                function: outer,
                line: 20,
            },
        ],
        kind: FrameKind::User,
    });
    let raw = b.location(Location {
        mapping: Some(exe),
        address: 0x5200,
        lines: vec![],
        kind: FrameKind::User,
    });
    let schedule = b.named_location("schedule", "", 0, FrameKind::Kernel);
    let read = b.named_location("app::read_input", "src/io.rs", 7, FrameKind::User);
    for (i, (locations, values)) in [
        (vec![inlined, main, root], vec![60, 600_000_000, 0]),
        (vec![raw, main, root], vec![10, 100_000_000, 0]),
        (vec![main, root], vec![5, 50_000_000, 0]),
        (vec![schedule, read, main, root], vec![3, 0, 900_000_000]),
    ]
    .into_iter()
    .enumerate()
    {
        b.add_sample(Sample {
            locations,
            values,
            labels: SampleLabels {
                pid: 100,
                tid: 100 + i as u32 % 2,
                thread_name: format!("thread {}", i % 2),
                time_ns: 0,
            },
        });
    }
    b.finish()
}

/// Folded text of a view: the comparison key for stacks and totals.
fn folded(profile: &Profile, view: ValueView) -> String {
    let mut out = Vec::new();
    render::folded::write(profile, view, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn through(profile: &Profile, format: Format, view: ValueView) -> Profile {
    let mut bytes = Vec::new();
    write_profile(profile, format, view, "round trip", &mut bytes).unwrap();
    assert_eq!(
        render::detect_format(&bytes),
        Some(format),
        "{format} output is not recognized as {format}"
    );
    read_profile(&bytes, None).unwrap_or_else(|e| panic!("{format}/{view}: {e}"))
}

#[test]
fn every_format_keeps_stacks_and_totals_of_every_view() {
    let original = profile();
    for format in Format::ALL {
        for view in ValueView::available(&original) {
            let back = through(&original, format, view);
            // Formats without typed columns (folded, html) come back with one generic column.
            let back_view = if ValueView::available(&back).contains(&view) {
                view
            } else {
                ValueView::Samples
            };
            assert_eq!(
                folded(&back, back_view),
                folded(&original, view),
                "{format} written as {view}"
            );
        }
    }
}

#[test]
fn pprof_is_lossless() {
    let original = profile();
    for view in ValueView::ALL {
        assert_eq!(through(&original, Format::Pprof, view), original, "{view}");
    }
}

#[test]
fn real_perf_script_survives_every_format_and_a_second_hop() {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/perf_script_workload.input"),
    )
    .unwrap();
    let original = read_profile(&bytes, None).unwrap();
    let want = folded(&original, ValueView::Cpu);
    for format in Format::ALL {
        let back = through(&original, format, ValueView::Cpu);
        assert_eq!(folded(&back, ValueView::Cpu), want, "{format}");
        for second in Format::ALL {
            let again = through(&back, second, ValueView::Cpu);
            assert_eq!(
                folded(&again, ValueView::Cpu),
                want,
                "{format} then {second}"
            );
        }
    }
}

#[test]
fn perf_script_input_is_lossless_through_pprof() {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/perf_script_variants.input"),
    )
    .unwrap();
    let original = read_profile(&bytes, None).unwrap();
    for view in ValueView::available(&original) {
        assert_eq!(through(&original, Format::Pprof, view), original, "{view}");
    }
}

#[test]
fn empty_profile_round_trips() {
    let empty = Profile::new(vec![ValueType::new("samples", "count")]);
    for format in [
        Format::Pprof,
        Format::Speedscope,
        Format::Folded,
        Format::PerfScript,
    ] {
        let mut bytes = Vec::new();
        write_profile(&empty, format, ValueView::Samples, "empty", &mut bytes).unwrap();
        let back = read_profile(&bytes, Some(format)).unwrap();
        assert!(back.samples.is_empty(), "{format}");
    }
}
