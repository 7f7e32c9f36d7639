//! Round trips, escaping, damaged input and the size of the flamegraph page.

#![allow(clippy::unwrap_used)] // tests may panic

use super::*;
use crate::test_support::rich_profile;
use model::{FrameKind, ProfileBuilder, Sample, SampleLabels, ValueType};

/// Every sample as (stack names root first, values, labels), sorted.
fn samples_of(profile: &Profile) -> Vec<(Vec<String>, Vec<i64>, SampleLabels)> {
    let mut out: Vec<_> = profile
        .samples
        .iter()
        .map(|s| (profile.stack_names(s), s.values.clone(), s.labels.clone()))
        .collect();
    out.sort_by(|a, b| (&a.0, &a.1, a.2.tid).cmp(&(&b.0, &b.1, b.2.tid)));
    out
}

fn page_of(profile: &Profile, view: ValueView) -> String {
    let mut out = Vec::new();
    write(profile, view, "test page", &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The embedded JSON of a page.
fn island(page: &str) -> serde_json::Value {
    let tag = "<script type=\"application/json\" id=\"whyslow-profile\">";
    let start = page.find(tag).unwrap() + tag.len();
    let len = page[start..].find("</script>").unwrap();
    serde_json::from_str(&page[start..start + len]).unwrap()
}

#[test]
fn round_trip_keeps_stacks_values_types_labels_and_metadata() {
    let original = rich_profile();
    let back = read(&page_of(&original, ValueView::Cpu)).unwrap();
    assert_eq!(back.sample_types, original.sample_types);
    assert_eq!(samples_of(&back), samples_of(&original));
    assert_eq!(back.period_type, original.period_type);
    assert_eq!(back.period, original.period);
    assert_eq!(back.start_time_ns, original.start_time_ns);
    assert_eq!(back.duration_ns, original.duration_ns);
    assert_eq!(back.comments, original.comments);
    // Kinds and source positions come back too.
    let schedule = back
        .locations
        .iter()
        .find(|l| back.frames_of(l)[0].name == "schedule")
        .unwrap();
    assert_eq!(schedule.kind, FrameKind::Kernel);
    let inner = back
        .locations
        .iter()
        .flat_map(|l| back.frames_of(l))
        .find(|f| f.name == "inner")
        .unwrap();
    assert_eq!((inner.filename, inner.line), ("lib.rs", 12));
}

#[test]
fn unsymbolized_frames_come_back_unsymbolized() {
    let back = read(&page_of(&rich_profile(), ValueView::Samples)).unwrap();
    let raw = back.locations.iter().find(|l| l.address == 0x2000).unwrap();
    assert!(raw.lines.is_empty());
}

#[test]
fn page_is_recognized_and_lists_every_view() {
    let page = page_of(&rich_profile(), ValueView::Wall);
    assert_eq!(
        crate::detect_format(page.as_bytes()),
        Some(crate::Format::FlamegraphHtml)
    );
    let data = island(&page);
    assert_eq!(data["view"], "wall");
    let views: Vec<&str> = data["views"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(views, ["samples", "cpu", "off-cpu", "wall"]);
    assert_eq!(data["views"][3]["columns"], serde_json::json!([1, 2]));
    assert_eq!(data["views"][3]["unit"], "nanoseconds");
}

#[test]
fn stacks_share_prefixes_and_parents_come_first() {
    let data = island(&page_of(&rich_profile(), ValueView::Cpu));
    let deltas: Vec<u32> = serde_json::from_value(data["stack_parent_delta"].clone()).unwrap();
    // app → main → {outer → inner, 0x2000, schedule}: 6 entries, not 3 × 4.
    assert_eq!(deltas, [0, 1, 1, 1, 3, 4]);
}

#[test]
fn script_closing_names_stay_inside_the_data() {
    let mut b = ProfileBuilder::new(vec![ValueType::new("samples", "count")]);
    let evil = "</script><script>alert(1)</script><!--";
    let loc = b.named_location(evil, "a<b>.rs", 1, FrameKind::User);
    b.add_sample(Sample {
        locations: vec![loc],
        values: vec![1],
        labels: SampleLabels::default(),
    });
    let profile = b.finish();
    let mut out = Vec::new();
    write(
        &profile,
        ValueView::Samples,
        "</title><script>x</script>",
        &mut out,
    )
    .unwrap();
    let page = String::from_utf8(out).unwrap();
    // Only the four real script elements end.
    assert_eq!(page.matches("</script>").count(), 4);
    assert!(page.contains("<title>&lt;/title&gt;&lt;script&gt;x&lt;/script&gt;</title>"));
    let back = read(&page).unwrap();
    assert_eq!(back.stack_names(&back.samples[0]), vec![evil.to_string()]);
}

#[test]
fn page_script_cannot_close_its_element_early() {
    assert!(!PAGE_JS.to_ascii_lowercase().contains("</script"));
}

#[test]
fn empty_profile_writes_and_reads() {
    let empty = Profile::new(vec![ValueType::new("samples", "count")]);
    let back = read(&page_of(&empty, ValueView::Samples)).unwrap();
    assert!(back.samples.is_empty());
    assert_eq!(back.sample_types, empty.sample_types);
}

#[test]
fn damaged_pages_give_errors_not_panics() {
    let page = page_of(&rich_profile(), ValueView::Cpu);
    assert!(matches!(
        read("<html>nothing here</html>"),
        Err(RenderError::NotFlamegraphHtml(_))
    ));
    let cut = &page[..page.find("\"frames\"").unwrap()];
    assert!(matches!(read(cut), Err(RenderError::NotFlamegraphHtml(_))));
    for (from, to) in [
        ("\"stack_parent_delta\":[0", "\"stack_parent_delta\":[7"),
        ("\"stack_frame\":[0", "\"stack_frame\":[99"),
        ("\"label\":[0", "\"label\":[99"),
        ("\"version\":1", "\"version\":9"),
        ("\"frames\":[[", "\"frames\":[[999,"),
    ] {
        assert!(page.contains(from), "{from}");
        let damaged = page.replacen(from, to, 1);
        assert!(
            matches!(read(&damaged), Err(RenderError::NotFlamegraphHtml(_))),
            "{to}"
        );
    }
}

/// A deterministic profile of `count` samples shaped like a busy recording:
/// 2,000 call paths 8 to 40 frames deep, picked with a skew, each ending in a
/// short random tail of leaf functions, on 8 threads.
fn large_profile(count: usize) -> Profile {
    let mut b = ProfileBuilder::new(vec![
        ValueType::new("samples", "count"),
        ValueType::new("cpu", "nanoseconds"),
    ]);
    let functions: Vec<_> = (0..500)
        .map(|i| {
            b.named_location(
                &format!("crate::module_{}::function_{i}", i % 17),
                "src/lib.rs",
                i,
                FrameKind::User,
            )
        })
        .collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let paths: Vec<Vec<usize>> = (0..2000)
        .map(|_| {
            let depth = 8 + (next() % 32) as usize;
            let mut at = 0;
            (0..depth)
                .map(|_| {
                    at = (at * 7 + (next() % 3) as usize + 1) % 450;
                    functions[at]
                })
                .collect()
        })
        .collect();
    for i in 0..count {
        let pick = (next() % 2000) * (next() % 2000) / 2000;
        let mut locations = paths[pick as usize].clone();
        for _ in 0..next() % 4 {
            locations.push(functions[450 + (next() % 50) as usize]);
        }
        locations.reverse();
        b.add_sample(Sample {
            locations,
            values: vec![1, 10_101_010],
            labels: SampleLabels {
                pid: 1000,
                tid: 1000 + (i % 8) as u32,
                thread_name: format!("worker-{}", i % 8),
                time_ns: 0,
            },
        });
    }
    b.finish()
}

#[test]
fn page_of_100k_samples_stays_small() {
    let profile = large_profile(100_000);
    assert!(profile.samples.len() > 50_000, "{}", profile.samples.len());
    let page = page_of(&profile, ValueView::Cpu);
    let per_sample = page.len() / profile.samples.len();
    // Stack ids, label ids and two values per sample, plus the stack table.
    assert!(
        page.len() < 4_000_000,
        "{} bytes, {per_sample} bytes per sample",
        page.len()
    );
    let back = read(&page).unwrap();
    assert_eq!(back.samples.len(), profile.samples.len());
}
