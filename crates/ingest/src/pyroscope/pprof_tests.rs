//! Tests of the pprof conversion (`pprof.rs`, `pprof_split.rs`) on
//! profiles built with the prost structs.

use super::error::ProfileError;
use super::limits::{MAX_PROFILE_BYTES, MAX_SAMPLES_PER_PROFILE, MAX_STACK_DEPTH};
use super::pprof::{derive_name, parse_pprof, PprofSeries};
use super::testutil::{go_cpu, gzip, Builder};
use render::pprof_proto::Location;
use std::collections::HashMap;
use store::profiles::{ProfileWrite, PROFILE_TYPE_LABEL};

fn series(labels: &[(&str, &str)]) -> PprofSeries {
    PprofSeries {
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        default_time_ns: 7,
        default_duration_ns: 3,
        ..PprofSeries::default()
    }
}

fn app() -> PprofSeries {
    series(&[("service_name", "app")])
}

/// `(profile type, [(frames, value, span)])` of each write.
type Summary = Vec<(String, Vec<(String, i64, Option<u64>)>)>;

fn summary(writes: &[ProfileWrite]) -> Summary {
    writes
        .iter()
        .map(|w| {
            let stacks = w
                .samples
                .iter()
                .map(|s| (s.frames.join(";"), s.value, s.span_id))
                .collect();
            (
                w.labels.get(PROFILE_TYPE_LABEL).unwrap_or("").to_string(),
                stacks,
            )
        })
        .collect()
}

fn invalid(result: Result<Vec<ProfileWrite>, ProfileError>) -> String {
    match result {
        Err(e @ (ProfileError::Invalid(_) | ProfileError::TooLarge(_))) => e.to_string(),
        other => panic!("expected an input error, got {other:?}"),
    }
}

#[test]
fn one_write_per_sample_type_with_stacks_root_first_and_merged() {
    let mut b = go_cpu();
    b.sample("main;run;work", &[2, 20], &[]);
    b.sample("main;run", &[1, 10], &[]);
    b.sample("main;run;work", &[3, 30], &[]);
    let writes = parse_pprof(&b.gzip(), &app()).unwrap();
    assert_eq!(
        summary(&writes),
        vec![
            (
                "process_cpu:samples:count:cpu:nanoseconds".into(),
                vec![
                    ("main;run;work".into(), 5, None),
                    ("main;run".into(), 1, None)
                ]
            ),
            (
                "process_cpu:cpu:nanoseconds:cpu:nanoseconds".into(),
                vec![
                    ("main;run;work".into(), 50, None),
                    ("main;run".into(), 10, None)
                ]
            ),
        ]
    );
    let w = &writes[0];
    assert_eq!(w.labels.get("__name__"), Some("process_cpu"));
    assert_eq!(w.labels.get("service_name"), Some("app"));
    assert_eq!(
        (w.time_ns, w.duration_ns),
        (1_700_000_000_000_000_000, 10_000_000_000)
    );
}

#[test]
fn sample_labels_split_series_and_ids_stay_per_sample() {
    let mut b = Builder::new(&[("cpu", "nanoseconds")], Some(("cpu", "nanoseconds")));
    let span = [
        ("span_id", "00000000000000ab"),
        ("trace_id", "0123456789abcdef0123456789abcdef"),
    ];
    b.sample("a;b", &[10], &[("thread_name", "t1"), span[0], span[1]]);
    b.sample("a;b", &[5], &[("thread_name", "t1")]);
    b.sample("a;b", &[1], &[("thread_name", "t1"), span[0], span[1]]);
    b.sample(
        "a;c",
        &[7],
        &[("thread_name", "t2"), ("profile_id", "00000000000000cd")],
    );
    b.sample(
        "a;c",
        &[1],
        &[
            ("span_id", "not-hex"),
            ("service_name", "ignored"),
            ("__x", "y"),
        ],
    );
    let writes = parse_pprof(
        &b.encode(),
        &series(&[("service_name", "app"), ("__name__", "custom")]),
    )
    .unwrap();
    let threads: Vec<_> = writes.iter().map(|w| w.labels.get("thread_name")).collect();
    assert_eq!(threads, vec![Some("t1"), Some("t2"), None]);
    assert!(writes
        .iter()
        .all(|w| w.labels.get("service_name") == Some("app")));
    assert!(writes.iter().all(|w| w.labels.get("__x").is_none()));
    assert_eq!(
        writes[0].labels.get(PROFILE_TYPE_LABEL),
        Some("custom:cpu:nanoseconds:cpu:nanoseconds")
    );
    let t1 = &writes[0].samples;
    assert_eq!(t1.len(), 2, "{t1:?}");
    assert_eq!((t1[0].value, t1[0].span_id), (11, Some(0xab)));
    assert_eq!(t1[0].trace_id, Some(0x0123456789abcdef0123456789abcdef));
    assert_eq!(
        (t1[1].value, t1[1].span_id, t1[1].trace_id),
        (5, None, None)
    );
    assert_eq!(writes[1].samples[0].span_id, Some(0xcd));
    assert_eq!(
        (writes[2].samples[0].value, writes[2].samples[0].span_id),
        (1, None)
    );
}

#[test]
fn numeric_thread_and_time_labels_become_timed_samples() {
    const T: i64 = 1_700_000_000_000_000_000;
    let mut b = go_cpu();
    b.sample("main;hot", &[1, 10], &[]);
    b.sample("main;hot", &[1, 10], &[]);
    b.sample("main;cold", &[1, 10], &[]);
    b.sample("main;cold", &[1, 10], &[]);
    // tid/thread_id and timestamp on the first three; the last has only a
    // millisecond-looking time, which is not a time.
    let numeric = |b: &mut Builder, sample: usize, key: &str, num: i64| {
        let key = b.s(key);
        b.profile.sample[sample]
            .label
            .push(render::pprof_proto::Label {
                key,
                str: 0,
                num,
                num_unit: 0,
            });
    };
    numeric(&mut b, 0, "tid", 41);
    numeric(&mut b, 0, "timestamp", T + 5);
    numeric(&mut b, 1, "thread_id", 42);
    numeric(&mut b, 1, "timestamp", T + 6);
    numeric(&mut b, 2, "timestamp", T + 7);
    numeric(&mut b, 3, "timestamp", 1_700_000_000_000);
    let writes = parse_pprof(&b.encode(), &app()).unwrap();
    assert_eq!(writes.len(), 2, "numeric labels split no series");
    for w in &writes {
        assert_eq!(w.samples.len(), 2, "timed samples still merge by stack");
        let hot = w
            .samples
            .iter()
            .position(|s| s.frames == ["main", "hot"])
            .unwrap();
        let ticks: Vec<(u32, u32, i64)> = w
            .ticks
            .iter()
            .map(|t| (t.sample, t.thread_id, t.time_ns))
            .collect();
        assert_eq!(
            ticks,
            vec![
                (hot as u32, 41, T + 5),
                (hot as u32, 42, T + 6),
                (1 - hot as u32, 0, T + 7)
            ]
        );
    }
    assert_eq!(writes[1].ticks[0].value, 10);
}

#[test]
fn inlined_lines_and_unknown_functions() {
    let mut b = Builder::new(&[("cpu", "nanoseconds")], None);
    // One location: `inner` inlined into `outer`.
    let inlined = b.location(&["inner", "outer"], 0x10);
    let bare = b.profile.location.len() as u64 + 1;
    b.profile.location.push(Location {
        id: bare,
        address: 0xbeef,
        ..Location::default()
    });
    let unnamed = b.location(&["x"], 0x20);
    b.profile.location[unnamed as usize - 1].line[0].function_id = 99;
    let root = b.location(&["main"], 0x30);
    b.raw_sample(vec![bare, unnamed, inlined, root], &[4], &[]);
    let writes = parse_pprof(&b.encode(), &app()).unwrap();
    assert_eq!(
        summary(&writes)[0].1,
        vec![("main;outer;inner;0x20;0xbeef".into(), 4, None)]
    );
    assert_eq!(
        writes[0].labels.get(PROFILE_TYPE_LABEL),
        Some("process_cpu:cpu:nanoseconds::")
    );
}

#[test]
fn unsymbolized_frames_keep_their_object_file() {
    let mut b = Builder::new(&[("cpu", "nanoseconds")], None);
    let mapping = |b: &mut Builder, id, path: &str, build_id: &str| {
        let (filename, build_id) = (b.s(path), b.s(build_id));
        b.profile.mapping.push(render::pprof_proto::Mapping {
            id,
            memory_start: 0x5555_0000_0000,
            memory_limit: 0x5555_0001_0000,
            file_offset: 0x3000,
            filename,
            build_id,
            ..Default::default()
        });
    };
    mapping(&mut b, 1, "/opt/app/server", "ab12cd");
    mapping(&mut b, 2, "/lib/libc.so.6", "ffee");
    let stripped = b.location(&["server+0x3456"], 0x5555_0000_0456);
    let named = b.location(&["main"], 0x5555_0000_0100);
    let libc = b.location(&["__libc_start_main"], 0x7f00_0000_0000);
    // Named like the mapping, but outside its range: not its frame.
    let outside = b.location(&["server+0x99999"], 0x5555_0009_9999);
    for (location, mapping_id) in [(stripped, 1), (named, 1), (libc, 2), (outside, 1)] {
        b.profile.location[location as usize - 1].mapping_id = mapping_id;
    }
    b.raw_sample(vec![stripped, named, libc], &[4], &[]);
    b.raw_sample(vec![outside, named, libc], &[1], &[]);
    let writes = parse_pprof(&b.encode(), &app()).unwrap();
    let objects: Vec<_> = writes[0]
        .objects
        .iter()
        .map(|o| (o.path.as_str(), o.build_id.as_str(), o.offset, o.size))
        .collect();
    assert_eq!(objects, [("/opt/app/server", "ab12cd", 0x3000, 0x1_0000)]);
    assert_eq!(
        writes[0].objects[0].offset_of("server+0x3456"),
        Some(0x3456)
    );
    assert_eq!(writes[0].objects[0].offset_of("server+0x99999"), None);
    assert_eq!(writes[0].objects[0].offset_of("client+0x3456"), None);
}

#[test]
fn deep_stacks_keep_the_root_side_and_times_fall_back() {
    let mut b = Builder::new(&[("cpu", "nanoseconds")], None);
    b.profile.time_nanos = 1_700_000_000_000_000; // microseconds, as old pyroscope-rs sent
    let stack: Vec<String> = (0..MAX_STACK_DEPTH + 10).map(|i| format!("f{i}")).collect();
    b.sample(&stack.join(";"), &[1], &[]);
    let writes = parse_pprof(&b.encode(), &app()).unwrap();
    let frames = &writes[0].samples[0].frames;
    assert_eq!((frames.len(), frames[0].as_str()), (MAX_STACK_DEPTH, "f0"));
    assert_eq!((writes[0].time_ns, writes[0].duration_ns), (7, 3));
}

#[test]
fn names_are_derived_from_sample_types() {
    let none = HashMap::new();
    let name = |types: &[(&str, &str)], names: &HashMap<String, String>| derive_name(types, names);
    assert_eq!(name(&[("samples", "count")], &none), "process_cpu");
    assert_eq!(
        name(
            &[("alloc_objects", "count"), ("alloc_space", "bytes")],
            &none
        ),
        "memory"
    );
    assert_eq!(
        name(&[("samples", "count"), ("wall", "nanoseconds")], &none),
        "wall"
    );
    assert_eq!(name(&[("goroutines", "count")], &none), "goroutines");
    assert_eq!(
        name(&[("contentions", "count"), ("delay", "nanoseconds")], &none),
        "delay"
    );
    let names = HashMap::from([("contentions".to_string(), "mutex_count".to_string())]);
    assert_eq!(name(&[("contentions", "count")], &names), "mutex");
    let names = HashMap::from([("contentions".to_string(), "block_count".to_string())]);
    assert_eq!(name(&[("contentions", "count")], &names), "block");
}

#[test]
fn malformed_profiles_are_refused_with_a_reason() {
    assert!(invalid(parse_pprof(b"\x0a\xff\xff", &app())).contains("malformed pprof protobuf"));
    assert!(invalid(parse_pprof(&[0x1f, 0x8b, 1, 2, 3], &app())).contains("malformed gzip"));
    assert!(invalid(parse_pprof(&[], &app())).contains("no sample types"));

    let mut b = go_cpu();
    b.sample("a", &[1], &[]);
    assert!(invalid(parse_pprof(&b.encode(), &app())).contains("1 values for 2 sample types"));

    let mut b = go_cpu();
    b.sample("a", &[1, 1], &[]);
    b.profile.function[0].name = 1000;
    assert!(invalid(parse_pprof(&b.encode(), &app())).contains("string index 1000"));

    let mut b = go_cpu();
    b.raw_sample(vec![42], &[1, 1], &[]);
    assert!(invalid(parse_pprof(&b.encode(), &app())).contains("location 42"));

    let mut b = go_cpu();
    b.sample("a", &[1, 1], &[]);
    b.profile.location[0].id = 0;
    assert!(invalid(parse_pprof(&b.encode(), &app())).contains("location has id 0"));

    let mut b = Builder::new(&[("a:b", "count")], None);
    b.sample("a", &[1], &[]);
    assert!(invalid(parse_pprof(&b.encode(), &app())).contains("contains ':'"));
}

#[test]
fn limits_are_refused_naming_the_limit() {
    let mut b = go_cpu();
    for _ in 0..=MAX_SAMPLES_PER_PROFILE {
        b.raw_sample(vec![], &[1, 1], &[]);
    }
    assert!(invalid(parse_pprof(&b.encode(), &app())).contains("max_profile_stacktrace_samples"));

    let bomb = gzip(&vec![0u8; MAX_PROFILE_BYTES + 1]);
    let err = invalid(parse_pprof(&bomb, &app()));
    assert!(err.contains("max_profile_size_bytes"), "{err}");
    let raw = vec![0u8; MAX_PROFILE_BYTES + 1];
    assert!(invalid(parse_pprof(&raw, &app())).contains("max_profile_size_bytes"));

    let mut b = go_cpu();
    let labels: Vec<(String, String)> = (0..30)
        .map(|i| (format!("k{i}"), "v".to_string()))
        .collect();
    let labels: Vec<(&str, &str)> = labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.sample("a", &[1, 1], &labels);
    let err = invalid(parse_pprof(&b.encode(), &app()));
    assert!(err.contains("max_label_names_per_series"), "{err}");

    let mut b = go_cpu();
    b.sample("a", &[1, 1], &[]);
    assert!(invalid(parse_pprof(&b.encode(), &series(&[]))).contains("no service_name"));
}

#[test]
fn zero_values_and_empty_stacks_store_nothing() {
    let mut b = go_cpu();
    b.sample("a", &[0, 0], &[]);
    b.raw_sample(vec![], &[1, 1], &[]);
    b.sample("b", &[0, 5], &[]);
    let writes = parse_pprof(&b.encode(), &app()).unwrap();
    assert_eq!(
        summary(&writes),
        vec![(
            "process_cpu:cpu:nanoseconds:cpu:nanoseconds".into(),
            vec![("b".into(), 5, None)]
        )]
    );
}

#[test]
fn mutated_and_random_inputs_never_panic() {
    use super::folded::{parse_folded, Folded, FoldedSeries};
    use super::limits::{no_reserve, Budget};
    let mut b = go_cpu();
    b.sample(
        "main;run;work",
        &[2, 20],
        &[("span_id", "00000000000000ab"), ("thread_name", "t")],
    );
    b.sample(
        "main;idle",
        &[1, 10],
        &[("trace_id", "0123456789abcdef0123456789abcdef")],
    );
    let valid = b.encode();
    let mut rng = fastrand::Rng::with_seed(7);
    for round in 0..3000 {
        let mut bytes = if round % 3 == 0 {
            (0..rng.usize(0..200)).map(|_| rng.u8(..)).collect()
        } else {
            valid.clone()
        };
        for _ in 0..rng.usize(1..6) {
            if bytes.is_empty() {
                break;
            }
            let i = rng.usize(..bytes.len());
            match rng.u8(..3) {
                0 => bytes[i] = rng.u8(..),
                1 => bytes.truncate(i),
                _ => bytes.insert(i, rng.u8(..)),
            }
        }
        let _ = parse_pprof(&bytes, &app());
        let _ = parse_pprof(&super::testutil::gzip(&bytes), &app());
        let _ = super::parse_push(&bytes, false);
        let _ = super::parse_push(&bytes, true);
        let _ = super::multipart::parse(&bytes, "b");
        let text = String::from_utf8_lossy(&bytes);
        let _ = super::time::parse_time(&text, 0);
        let _ = super::labels::parse_app_name(&text);
        let series = FoldedSeries {
            app: text.to_string(),
            sample_rate: 1,
            ..FoldedSeries::default()
        };
        let _ = parse_folded(
            &bytes,
            Folded::Groups,
            &series,
            &mut Budget::new(&mut no_reserve),
        );
    }
}
