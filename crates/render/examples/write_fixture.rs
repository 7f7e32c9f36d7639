//! Writes the fixture pages the browser tests in `tests/ui` load: a flamegraph
//! of a synthetic profile (`main → hot_a` 70 %, `main → hot_b` 30 % of CPU) and
//! a differential flamegraph against a changed version of it.
//!
//! `cargo run -p render --example write_fixture -- OUT_DIR [LARGE_SAMPLES]`
//! writes `OUT_DIR/flamegraph.html` and `OUT_DIR/diff.html`, plus
//! `OUT_DIR/large.html` with that many deep samples when given (a stress page;
//! prints how long writing it took).

use model::{FrameKind, LocationId, Profile, ProfileBuilder, Sample, SampleLabels, ValueType};
use query::ValueView;
use std::error::Error;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

/// One sampling period at 99 Hz, in nanoseconds.
const PERIOD_NS: i64 = 10_101_010;

/// A frame: function name, file, line, kind.
type FrameSpec = (&'static str, &'static str, u32, FrameKind);

/// A profile from `(stack root first, on-CPU samples, off-CPU ns)`.
fn profile_of(stacks: &[(&[FrameSpec], i64, i64)]) -> Profile {
    let mut b = ProfileBuilder::new(vec![
        ValueType::new("samples", "count"),
        ValueType::new("cpu", "nanoseconds"),
        ValueType::new("off_cpu", "nanoseconds"),
    ]);
    for (stack, samples, off_cpu_ns) in stacks {
        let locations: Vec<LocationId> = stack
            .iter()
            .rev()
            .map(|(name, file, line, kind)| b.named_location(name, file, *line, *kind))
            .collect();
        b.add_sample(Sample {
            locations,
            values: vec![*samples, samples * PERIOD_NS, *off_cpu_ns],
            labels: SampleLabels {
                pid: 4242,
                tid: 4242,
                thread_name: "workload".to_string(),
                time_ns: 0,
            },
        });
    }
    let p = b.profile_mut();
    p.period_type = Some(ValueType::new("cpu", "nanoseconds"));
    p.period = PERIOD_NS;
    p.duration_ns = 10_000_000_000;
    p.comments = vec![
        "event: cpu-clock".to_string(),
        "lost samples: 0".to_string(),
    ];
    b.finish()
}

const MAIN: FrameSpec = ("main", "src/main.rs", 12, FrameKind::User);
const START: FrameSpec = ("_start", "", 0, FrameKind::User);

fn frame(name: &'static str, kind: FrameKind) -> FrameSpec {
    (name, "src/work.rs", 40, kind)
}

/// The fixture: 1000 CPU samples, 700 under `hot_a` and 300 under `hot_b`.
fn before() -> Profile {
    let hot_a = frame("hot_a", FrameKind::User);
    let hot_b = frame("hot_b", FrameKind::User);
    let mix = frame("hot_a::mix", FrameKind::User);
    let write = frame("ksys_write", FrameKind::Kernel);
    let wait = frame("wait_for_input", FrameKind::User);
    let schedule = frame("schedule", FrameKind::Kernel);
    profile_of(&[
        (&[START, MAIN, hot_a], 450, 0),
        (&[START, MAIN, hot_a, mix], 250, 0),
        (&[START, MAIN, hot_b], 220, 0),
        (&[START, MAIN, hot_b, write], 80, 0),
        (&[START, MAIN, wait, schedule], 0, 3_000_000_000),
    ])
}

/// The changed version: `hot_a` got faster, `hot_b` slower, `hot_c` is new.
fn after() -> Profile {
    let hot_a = frame("hot_a", FrameKind::User);
    let hot_b = frame("hot_b", FrameKind::User);
    let hot_c = frame("hot_c", FrameKind::User);
    let mix = frame("hot_a::mix", FrameKind::User);
    let write = frame("ksys_write", FrameKind::Kernel);
    profile_of(&[
        (&[START, MAIN, hot_a], 250, 0),
        (&[START, MAIN, hot_a, mix], 100, 0),
        (&[START, MAIN, hot_b], 420, 0),
        (&[START, MAIN, hot_b, write], 80, 0),
        (&[START, MAIN, hot_c], 150, 0),
    ])
}

/// `count` samples over 5,000 call paths 8–40 frames deep (picked with a
/// skew) ending in 0–3 random leaf frames: a stress page of a busy program.
fn large(count: usize) -> Profile {
    let mut b = ProfileBuilder::new(vec![ValueType::new("samples", "count")]);
    let functions: Vec<LocationId> = (0..2000)
        .map(|i| {
            let name = format!("module_{}::function_{i}", i % 37);
            b.named_location(&name, "", 0, FrameKind::User)
        })
        .collect();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let paths: Vec<Vec<LocationId>> = (0..5000)
        .map(|_| {
            let depth = 8 + (next() % 32) as usize;
            let mut at = 0usize;
            (0..depth)
                .map(|_| {
                    at = (at * 7 + (next() % 3) as usize + 1) % 1800;
                    functions[at]
                })
                .collect()
        })
        .collect();
    for _ in 0..count {
        let pick = (next() % 5000) * (next() % 5000) / 5000;
        let mut locations = paths[pick as usize].clone();
        for _ in 0..next() % 4 {
            locations.push(functions[1800 + (next() % 200) as usize]);
        }
        locations.reverse();
        b.add_sample(Sample {
            locations,
            values: vec![1],
            labels: SampleLabels::default(),
        });
    }
    b.finish()
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .ok_or("usage: write_fixture OUT_DIR [LARGE_SAMPLES]")?;
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir)?;
    let (before, after) = (before(), after());
    let mut out = BufWriter::new(File::create(dir.join("flamegraph.html"))?);
    render::flamegraph_html::write(&before, ValueView::Cpu, "workload (fixture)", &mut out)?;
    let mut out = BufWriter::new(File::create(dir.join("diff.html"))?);
    render::diff_html::write(
        &before,
        &after,
        ValueView::Cpu,
        "before.pb.gz → after.pb.gz",
        &mut out,
    )?;
    if let Some(count) = args.next() {
        let profile = large(count.parse()?);
        let mut page = Vec::new();
        let start = std::time::Instant::now();
        let title = "large synthetic profile";
        render::flamegraph_html::write(&profile, ValueView::Samples, title, &mut page)?;
        eprintln!(
            "large.html: {} samples, {} bytes, written in {:.1} ms",
            profile.samples.len(),
            page.len(),
            start.elapsed().as_secs_f64() * 1e3
        );
        std::fs::write(dir.join("large.html"), page)?;
    }
    eprintln!("wrote fixtures to {}", dir.display());
    Ok(())
}
