//! Tests of the assembler: synthetic event streams for process tracking,
//! off-CPU pairing, aggregation and naming fallbacks, and real stacks of this
//! test binary for unwinding and symbolization.

use super::*;
use crate::event::{MmapEvent, UserRegs};
use model::Profile;
use std::path::Path;

/// Pids above the kernel's maximum (4194304), so `/proc` never knows them.
const PID: u32 = 5_000_001;
const OTHER_PID: u32 = 5_000_002;

fn config(off_cpu: bool) -> AssemblerConfig {
    AssemblerConfig {
        sampling_event: SamplingEvent::CpuClock,
        frequency_hz: 100,
        off_cpu,
        names_only: false,
        sample_times: false,
    }
}

fn comm(pid: u32, name: &str) -> Event {
    Event::Comm {
        pid,
        tid: pid,
        name: name.to_string(),
        exec: true,
        time_ns: 0,
    }
}

fn mmap(pid: u32, start: u64, len: u64, file_offset: u64, path: &str) -> Event {
    Event::Mmap(MmapEvent {
        pid,
        tid: pid,
        start,
        len,
        file_offset,
        path: path.to_string(),
        executable: true,
        build_id: Some(vec![0xde, 0xad, 0xbe, 0xef]),
        time_ns: 0,
    })
}

/// An on-CPU sample whose user stack is `user_ips` (leaf first).
fn on_cpu(pid: u32, tid: u32, time_ns: u64, user_ips: &[u64]) -> Event {
    Event::Sample(RawSample {
        kind: SampleKind::OnCpu,
        pid,
        tid,
        time_ns,
        period: 10_000_000,
        user_ips: user_ips.to_vec(),
        ..RawSample::default()
    })
}

fn switch_out(pid: u32, tid: u32, time_ns: u64, prev_state: i64, user_ips: &[u64]) -> Event {
    Event::Sample(RawSample {
        kind: SampleKind::SwitchOut { prev_state },
        pid,
        tid,
        time_ns,
        user_ips: user_ips.to_vec(),
        ..RawSample::default()
    })
}

/// Stacks (root first) and their values in column `kind`.
fn stacks(p: &Profile, kind: &str) -> Vec<(Vec<String>, i64)> {
    let column = p.value_index(kind).expect("column exists");
    let mut out: Vec<_> = p
        .samples
        .iter()
        .map(|s| (p.stack_names(s), s.values[column]))
        .filter(|(_, v)| *v != 0)
        .collect();
    out.sort();
    out
}

#[test]
fn value_columns_match_the_views() {
    let (p, _) = Assembler::new(config(false)).finish(1, 2);
    let kinds: Vec<&str> = p.sample_types.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(kinds, ["samples", "cpu"]);
    assert_eq!((p.start_time_ns, p.duration_ns), (1, 2));
    assert_eq!(p.period, 10_000_000);
    let (p, _) = Assembler::new(config(true)).finish(0, 0);
    let kinds: Vec<&str> = p.sample_types.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(kinds, ["samples", "cpu", "off_cpu"]);
    assert_eq!(p.sample_types[2].unit, "nanoseconds");
}

#[test]
fn unreadable_binary_frames_are_named_by_file_offset() {
    let mut a = Assembler::new(config(false));
    a.handle(comm(PID, "victim"));
    a.handle(mmap(
        PID,
        0x40_1000,
        0x1000,
        0x1000,
        "/nonexistent/dir/victim (deleted)",
    ));
    a.handle(on_cpu(PID, PID, 1, &[0x40_1234, 0x40_1100, 0x9999_0000]));
    let (p, stats) = a.finish(0, 0);
    assert_eq!(
        stacks(&p, "samples"),
        [(
            vec![
                "0x99990000".to_string(),
                "victim+0x1100".to_string(),
                "victim+0x1234".to_string()
            ],
            1
        )]
    );
    assert_eq!(stats.truncated_stacks, 0);
    let mapping = p
        .mappings
        .iter()
        .find(|m| m.path == "/nonexistent/dir/victim");
    let mapping = mapping.expect("the mapping is kept for re-symbolization");
    assert_eq!(mapping.build_id, "deadbeef");
    assert_eq!((mapping.start, mapping.file_offset), (0x40_1000, 0x1000));
    let leaf = &p.locations[p.samples[0].locations[0]];
    assert_eq!(leaf.address, 0x40_1234, "the real address is kept");
}

#[test]
fn fork_copies_mappings_and_exec_clears_them() {
    let mut a = Assembler::new(config(false));
    a.handle(comm(PID, "parent"));
    a.handle(mmap(PID, 0x40_0000, 0x1000, 0, "/nonexistent/parent"));
    a.handle(Event::Fork {
        pid: OTHER_PID,
        ppid: PID,
        tid: OTHER_PID,
        ptid: PID,
        time_ns: 1,
    });
    a.handle(on_cpu(OTHER_PID, OTHER_PID, 2, &[0x40_0010]));
    a.handle(comm(OTHER_PID, "child"));
    a.handle(on_cpu(OTHER_PID, OTHER_PID, 3, &[0x40_0020]));
    a.handle(mmap(OTHER_PID, 0x40_0000, 0x1000, 0, "/nonexistent/child"));
    a.handle(on_cpu(OTHER_PID, OTHER_PID, 4, &[0x40_0030]));
    a.handle(Event::Exit {
        pid: OTHER_PID,
        tid: OTHER_PID,
        time_ns: 5,
    });
    let (p, _) = a.finish(0, 0);
    let names: Vec<Vec<String>> = stacks(&p, "samples").into_iter().map(|s| s.0).collect();
    assert_eq!(
        names,
        [
            vec!["0x400020".to_string()],
            vec!["child+0x30".to_string()],
            vec!["parent+0x10".to_string()],
        ],
        "before exec the child runs the parent's code, after exec only the new mappings count"
    );
    let labels: Vec<&str> = p
        .samples
        .iter()
        .map(|s| s.labels.thread_name.as_str())
        .collect();
    assert_eq!(labels, ["parent", "child", "child"]);
}

#[test]
fn identical_samples_are_aggregated_per_thread() {
    let mut a = Assembler::new(config(false));
    a.handle(comm(PID, "app"));
    a.handle(Event::Fork {
        pid: PID,
        ppid: PID,
        tid: PID + 1,
        ptid: PID,
        time_ns: 0,
    });
    a.handle(Event::Comm {
        pid: PID,
        tid: PID + 1,
        name: "worker".to_string(),
        exec: false,
        time_ns: 0,
    });
    for t in 0..3 {
        a.handle(on_cpu(PID, PID, t, &[0x10, 0x20]));
    }
    a.handle(on_cpu(PID, PID + 1, 9, &[0x10, 0x20]));
    let (p, stats) = a.finish(0, 0);
    assert_eq!(p.samples.len(), 2);
    let main = p.samples.iter().find(|s| s.labels.tid == PID).unwrap();
    assert_eq!(main.values, [3, 30_000_000]);
    assert_eq!(main.labels.thread_name, "app");
    let worker = p.samples.iter().find(|s| s.labels.tid == PID + 1).unwrap();
    assert_eq!(worker.values, [1, 10_000_000]);
    assert_eq!(worker.labels.thread_name, "worker");
    assert_eq!(stats.on_cpu_samples, 4);
}

#[test]
fn cycles_are_converted_to_nominal_nanoseconds() {
    let mut a = Assembler::new(AssemblerConfig {
        sampling_event: SamplingEvent::Cycles,
        frequency_hz: 1000,
        off_cpu: false,
        names_only: false,
        sample_times: false,
    });
    a.handle(on_cpu(PID, PID, 0, &[0x10]));
    let (p, stats) = a.finish(0, 0);
    assert_eq!(p.samples[0].values, [1, 1_000_000]);
    assert_eq!(
        stats.truncated_stacks, 1,
        "a one-frame user stack is truncated"
    );
}

#[test]
fn off_cpu_time_goes_to_the_blocked_stack() {
    let mut a = Assembler::new(config(true));
    a.handle(comm(PID, "app"));
    // Blocked for 5 µs, closed by the switch-in.
    a.handle(switch_out(PID, PID, 1_000, 1, &[0xa0, 0xa1]));
    a.handle(Event::SwitchIn {
        pid: PID,
        tid: PID,
        time_ns: 6_000,
    });
    // Preempted: not off-CPU time.
    a.handle(switch_out(PID, PID, 7_000, 0, &[0xb0, 0xb1]));
    a.handle(Event::SwitchIn {
        pid: PID,
        tid: PID,
        time_ns: 9_000,
    });
    // Closed by an on-CPU sample that comes before any switch-in.
    a.handle(switch_out(PID, PID, 10_000, 2, &[0xc0, 0xc1]));
    a.handle(on_cpu(PID, PID, 10_500, &[0xd0, 0xd1]));
    // Still open at the end: dropped.
    a.handle(switch_out(PID, PID, 20_000, 1, &[0xe0, 0xe1]));
    let (p, stats) = a.finish(0, 0);
    let off: Vec<(Vec<String>, i64)> = stacks(&p, "off_cpu");
    assert_eq!(
        off,
        [
            (vec!["0xa1".to_string(), "0xa0".to_string()], 5_000),
            (vec!["0xc1".to_string(), "0xc0".to_string()], 500),
        ]
    );
    assert_eq!(
        stacks(&p, "samples"),
        [(vec!["0xd1".to_string(), "0xd0".to_string()], 1)],
        "switch-outs are not samples"
    );
    assert_eq!(stats.blocking_switch_outs, 3);
    assert_eq!(stats.off_cpu_intervals, 2);
    assert_eq!(stats.open_off_cpu_intervals, 1);
}

#[test]
fn switch_outs_are_ignored_without_off_cpu() {
    let mut a = Assembler::new(config(false));
    a.handle(switch_out(PID, PID, 1_000, 1, &[0xa0]));
    a.handle(Event::SwitchIn {
        pid: PID,
        tid: PID,
        time_ns: 6_000,
    });
    let (p, stats) = a.finish(0, 0);
    assert!(p.samples.is_empty());
    assert_eq!(stats.blocking_switch_outs, 0);
}

#[test]
fn several_processes_get_a_root_frame_each() {
    let mut a = Assembler::new(config(false));
    a.handle(comm(PID, "workload"));
    a.handle(comm(OTHER_PID, "other"));
    a.handle(on_cpu(PID, PID, 0, &[0x10, 0x20]));
    a.handle(on_cpu(OTHER_PID, OTHER_PID, 0, &[0x30]));
    a.handle(on_cpu(PID + 10, PID + 10, 0, &[0x30]));
    let (p, _) = a.finish(0, 0);
    let names: Vec<Vec<String>> = stacks(&p, "samples").into_iter().map(|s| s.0).collect();
    assert_eq!(
        names,
        [
            vec!["[pid 5000011]".to_string(), "0x30".to_string()],
            vec!["other".to_string(), "0x30".to_string()],
            vec![
                "workload".to_string(),
                "0x20".to_string(),
                "0x10".to_string()
            ],
        ]
    );
    let root = p.samples[0].locations.last().copied().unwrap();
    assert_eq!(p.locations[root].kind, FrameKind::Synthetic);
}

#[test]
fn kernel_frames_are_leafward_of_user_frames() {
    let mut a = Assembler::new(config(false));
    a.handle(Event::Sample(RawSample {
        pid: PID,
        tid: PID,
        period: 1,
        kernel_ips: vec![0xffff_ffff_8100_0100, 0xffff_ffff_8100_0200],
        user_ips: vec![0x10, 0x20],
        ..RawSample::default()
    }));
    let (p, _) = a.finish(0, 0);
    let kinds: Vec<FrameKind> = p.samples[0]
        .locations
        .iter()
        .map(|&l| p.locations[l].kind)
        .collect();
    assert_eq!(
        kinds,
        [
            FrameKind::Kernel,
            FrameKind::Kernel,
            FrameKind::User,
            FrameKind::User
        ]
    );
    let leaf = &p.locations[p.samples[0].locations[0]];
    let name = &p.functions[leaf.lines[0].function].name;
    assert!(!name.is_empty() && !name.starts_with("0x"), "{name}");
}

#[test]
fn empty_stacks_are_kept_as_unknown() {
    let mut a = Assembler::new(config(false));
    a.handle(on_cpu(PID, PID, 0, &[]));
    let (p, stats) = a.finish(0, 0);
    assert_eq!(stacks(&p, "samples"), [(vec!["[unknown]".to_string()], 1)]);
    assert_eq!(stats.truncated_stacks, 0);
}

#[test]
fn lost_records_are_counted() {
    let mut a = Assembler::new(config(false));
    a.handle(Event::Lost { count: 3 });
    a.handle(Event::Lost { count: 4 });
    assert_eq!(a.finish(0, 0).1.lost, 7);
}

#[test]
fn assembler_can_move_to_another_thread() {
    fn is_send<T: Send>() {}
    is_send::<Assembler>();
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod real_stacks;

#[test]
fn continuous_profiling_keeps_sample_times_apart() {
    let mut a = Assembler::new(AssemblerConfig {
        sample_times: true,
        ..config(true)
    });
    a.handle(comm(PID, "app"));
    a.handle(on_cpu(PID, PID, 1_000, &[0x10, 0x20]));
    a.handle(on_cpu(PID, PID, 2_000, &[0x10, 0x20]));
    // Blocked 2 ms: timed; then 5 µs: summed without a time.
    a.handle(switch_out(PID, PID, 3_000, 1, &[0xa0, 0xa1]));
    a.handle(Event::SwitchIn {
        pid: PID,
        tid: PID,
        time_ns: 2_003_000,
    });
    a.handle(switch_out(PID, PID, 2_004_000, 1, &[0xa0, 0xa1]));
    a.handle(Event::SwitchIn {
        pid: PID,
        tid: PID,
        time_ns: 2_009_000,
    });
    a.set_wall_offset(1_000_000_000);
    let p = a.cut(0, 0);
    let mut times: Vec<(i64, Vec<i64>)> = p
        .samples
        .iter()
        .map(|s| (s.labels.time_ns, s.values.clone()))
        .collect();
    times.sort();
    assert_eq!(
        times,
        vec![
            (0, vec![0, 0, 5_000]),
            (1_000_001_000, vec![1, 10_000_000, 0]),
            (1_000_002_000, vec![1, 10_000_000, 0]),
            (1_000_003_000, vec![0, 0, 2_000_000]),
        ]
    );
}
