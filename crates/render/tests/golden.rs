//! Golden-file tests: inputs in `tests/data/NAME.input` (real `perf script`
//! output, a Go CPU profile, hand-written folded and speedscope files) read and
//! rendered, compared with `tests/data/NAME.WHAT.expected`.
//!
//! Run with `WHYSLOW_BLESS=1` to rewrite the expected files after an intended change.

#![allow(clippy::unwrap_used)] // test helpers may panic

use query::ValueView;
use render::{read_profile, top_table::top_table_with_width, write_profile, Format};
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn read_input(name: &str, hint: Option<Format>) -> model::Profile {
    let bytes = std::fs::read(data(&format!("{name}.input"))).unwrap();
    read_profile(&bytes, hint).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn render(profile: &model::Profile, format: Format, view: ValueView) -> String {
    let mut out = Vec::new();
    write_profile(profile, format, view, "golden", &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Compares `actual` with `tests/data/{name}.expected` (or rewrites it when blessing).
fn check(name: &str, actual: &str) {
    let path = data(&format!("{name}.expected"));
    if std::env::var_os("WHYSLOW_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with WHYSLOW_BLESS=1 to create it)",
            path.display()
        )
    });
    assert_eq!(actual, expected, "{name} differs from {}", path.display());
}

#[test]
fn real_perf_script_output() {
    // `perf record -e cpu-clock -F 99 -g -- workload 0.35 0` (frame-pointer build), then `perf script`.
    let p = read_input("perf_script_workload", None);
    check(
        "perf_script_workload.folded",
        &render(&p, Format::Folded, ValueView::Cpu),
    );
    check(
        "perf_script_workload.top",
        &top_table_with_width(&p, ValueView::Cpu, 8, 100),
    );
}

#[test]
fn perf_script_variants_kernel_unknown_deleted_off_cpu() {
    let p = read_input("perf_script_variants", Some(Format::PerfScript));
    check(
        "perf_script_variants.wall.folded",
        &render(&p, Format::Folded, ValueView::Wall),
    );
    check(
        "perf_script_variants.perf-script",
        &render(&p, Format::PerfScript, ValueView::Wall),
    );
    check(
        "perf_script_variants.top",
        &top_table_with_width(&p, ValueView::Wall, 10, 90),
    );
}

#[test]
fn go_cpu_profile() {
    // runtime/pprof CPU profile of a Go program spending ~70 % in hotA, ~30 % in hotB.
    let p = read_input("go_cpu", None);
    check("go_cpu.folded", &render(&p, Format::Folded, ValueView::Cpu));
    check(
        "go_cpu.top",
        &top_table_with_width(&p, ValueView::Cpu, 5, 80),
    );
}

#[test]
fn messy_folded_input() {
    let p = read_input("folded_messy", None);
    check(
        "folded_messy.folded",
        &render(&p, Format::Folded, ValueView::Samples),
    );
    check(
        "folded_messy.speedscope",
        &render(&p, Format::Speedscope, ValueView::Samples),
    );
    check(
        "folded_messy.perf-script",
        &render(&p, Format::PerfScript, ValueView::Samples),
    );
}

#[test]
fn evented_and_sampled_speedscope() {
    let p = read_input("speedscope_evented", None);
    check(
        "speedscope_evented.folded",
        &render(&p, Format::Folded, ValueView::Wall),
    );
}
