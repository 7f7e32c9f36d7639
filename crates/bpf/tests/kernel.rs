//! The crate against the real kernel: hand-assembled programs load, attach
//! and count exactly what a planted workload does. Needs root; without it
//! every test prints why it skipped and passes. The tests take a lock so
//! their workloads never overlap.

use bpf::attach::{self, UprobeTarget};
use bpf::insn::{Helper, Insn, JmpOp, Reg, Size};
use bpf::map::{Map, MapSpec, MapType, UpdateFlag};
use bpf::prog::{ProgType, Program};
use bpf::ringbuf::RingBuf;
use bpf::tracefs::Tracefs;
use bpf::{elf, Error};
use std::collections::HashMap;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[path = "../../../tests/support/root.rs"]
mod root;

/// Calls each workload makes.
const N: u64 = 1000;

static SERIAL: Mutex<()> = Mutex::new(());

/// Whether we may run: effective uid 0.
fn root_or_skip(test: &str) -> bool {
    root::root_or_skip(test, "bpf() and perf_event_open of tracepoints/uprobes")
}

/// A tiny assembler with labels, so test programs read top to bottom.
#[derive(Default)]
struct Asm {
    insns: Vec<Insn>,
    labels: HashMap<&'static str, usize>,
    fixups: Vec<(usize, &'static str)>,
}

impl Asm {
    fn push(&mut self, insn: Insn) -> &mut Self {
        self.insns.push(insn);
        self
    }

    fn wide(&mut self, pair: [Insn; 2]) -> &mut Self {
        self.insns.extend(pair);
        self
    }

    /// A jump (any with `off` 0 as built) to `label`.
    fn jump(&mut self, insn: Insn, label: &'static str) -> &mut Self {
        self.fixups.push((self.insns.len(), label));
        self.push(insn)
    }

    fn label(&mut self, name: &'static str) -> &mut Self {
        self.labels.insert(name, self.insns.len());
        self
    }

    fn finish(&mut self) -> Vec<Insn> {
        for &(at, label) in &self.fixups {
            let target = self.labels[label];
            self.insns[at].off = (target as i64 - at as i64 - 1) as i16;
        }
        self.insns.clone()
    }

    /// `value = lookup(map, &key at r10-4)`; if present `*value += 1` (a
    /// per-CPU slot: no atomics), else when `create` insert 1.
    fn increment(&mut self, map: &Map, create: bool) -> &mut Self {
        self.wide(Insn::ld_map_fd(Reg::R1, map.fd()))
            .push(Insn::mov64_reg(Reg::R2, Reg::R10))
            .push(Insn::alu64_imm(bpf::insn::AluOp::Add, Reg::R2, -4))
            .push(Insn::call(Helper::MapLookupElem))
            .jump(Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 0), "absent")
            .push(Insn::ldx(Size::DW, Reg::R1, Reg::R0, 0))
            .push(Insn::alu64_imm(bpf::insn::AluOp::Add, Reg::R1, 1))
            .push(Insn::stx(Size::DW, Reg::R0, 0, Reg::R1))
            .jump(Insn::ja(0), "out")
            .label("absent");
        if create {
            self.push(Insn::st(Size::DW, Reg::R10, -16, 1))
                .wide(Insn::ld_map_fd(Reg::R1, map.fd()))
                .push(Insn::mov64_reg(Reg::R2, Reg::R10))
                .push(Insn::alu64_imm(bpf::insn::AluOp::Add, Reg::R2, -4))
                .push(Insn::mov64_reg(Reg::R3, Reg::R10))
                .push(Insn::alu64_imm(bpf::insn::AluOp::Add, Reg::R3, -16))
                .push(Insn::mov64_imm(Reg::R4, 0))
                .push(Insn::call(Helper::MapUpdateElem));
        }
        self.label("out")
            .push(Insn::mov64_imm(Reg::R0, 0))
            .push(Insn::exit())
    }
}

/// The sum over CPUs of a per-CPU u64 value.
fn percpu_sum(map: &Map, key: &[u8]) -> u64 {
    map.lookup_percpu(key)
        .expect("lookup")
        .unwrap_or_default()
        .iter()
        .map(|slot| u64::from_le_bytes(slot[..8].try_into().expect("8 bytes")))
        .sum()
}

/// This thread's id, from /proc/thread-self (a link to `PID/task/TID`).
fn gettid() -> u32 {
    let link = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self");
    link.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.parse().ok())
        .expect("tid")
}

/// A thread that reports its tid, waits for the go signal, runs `work`.
fn planted<F: FnOnce() + Send + 'static>(
    work: F,
) -> (u32, mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (tid_tx, tid_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let handle = std::thread::spawn(move || {
        tid_tx.send(gettid()).expect("send tid");
        go_rx.recv().expect("go");
        work();
    });
    (tid_rx.recv().expect("tid"), go_tx, handle)
}

#[test]
fn tracepoint_counts_exactly_the_writes_of_one_tgid() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !root_or_skip("tracepoint_counts_exactly_the_writes_of_one_tgid") {
        return;
    }
    let tracefs = Tracefs::open().expect("tracefs");
    if tracefs.mounted_now() {
        eprintln!("mounted tracefs at {}", tracefs.root().display());
    }
    let fields = tracefs
        .tracepoint_fields("syscalls", "sys_enter_write")
        .expect("format");
    let fd_field = fields.iter().find(|f| f.name == "fd").expect("fd field");
    let fd_size = Size::from_bytes(fd_field.size).expect("fd size");
    let devnull = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .expect("/dev/null");
    let tgid = std::process::id();

    let t0 = Instant::now();
    let counts = Map::create(MapSpec::new(MapType::PercpuHash, "writes", 4, 8, 64)).expect("map");
    let t_map = t0.elapsed();
    // Only writes of this process to our /dev/null descriptor count, so the
    // harness's own output cannot creep in.
    let insns = Asm::default()
        .push(Insn::mov64_reg(Reg::R6, Reg::R1))
        .push(Insn::ldx(fd_size, Reg::R0, Reg::R6, fd_field.offset as i16))
        .jump(
            Insn::jmp_imm(JmpOp::Ne, Reg::R0, devnull.as_raw_fd(), 0),
            "out",
        )
        .push(Insn::call(Helper::GetCurrentPidTgid))
        .push(Insn::alu64_imm(bpf::insn::AluOp::Rsh, Reg::R0, 32))
        .jump(Insn::jmp_imm(JmpOp::Ne, Reg::R0, tgid as i32, 0), "out")
        .push(Insn::stx(Size::W, Reg::R10, -4, Reg::R0))
        .increment(&counts, true)
        .finish();
    let t1 = Instant::now();
    let prog = Program::load(ProgType::Tracepoint, "count_writes", &insns).expect("load");
    let t_load = t1.elapsed();
    let id = tracefs
        .tracepoint_id("syscalls", "sys_enter_write")
        .expect("id");
    let t2 = Instant::now();
    let attached = attach::tracepoint(&prog, id).expect("attach");
    let t_attach = t2.elapsed();
    eprintln!(
        "timing: map create {t_map:?}, prog load {t_load:?} ({} insns), attach {t_attach:?}, total {:?}",
        prog.insn_count(),
        t0.elapsed()
    );

    let (_, go, writer) = planted(move || {
        for _ in 0..N {
            assert_eq!((&devnull).write(b"whyslow").expect("write"), 7);
        }
    });
    go.send(()).expect("go");
    writer.join().expect("writer");
    drop(attached);

    assert_eq!(percpu_sum(&counts, &tgid.to_le_bytes()), N);
    assert_eq!(
        counts.keys().expect("keys"),
        vec![tgid.to_le_bytes().to_vec()]
    );
}

#[test]
fn ringbuf_carries_one_record_per_event() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !root_or_skip("ringbuf_carries_one_record_per_event") {
        return;
    }
    const WRITES: u64 = 50;
    let tracefs = Tracefs::open().expect("tracefs");
    let fields = tracefs
        .tracepoint_fields("syscalls", "sys_enter_write")
        .expect("format");
    let offset_of = |name: &str| {
        fields
            .iter()
            .find(|f| f.name == name)
            .expect("field")
            .offset as i16
    };
    let devnull = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .expect("/dev/null");
    let events =
        Map::create(MapSpec::new(MapType::RingBuf, "events", 0, 0, 64 * 1024)).expect("map");
    // Each write of ours to /dev/null sends {pid_tgid, count}.
    let insns = Asm::default()
        .push(Insn::mov64_reg(Reg::R6, Reg::R1))
        .push(Insn::ldx(Size::DW, Reg::R0, Reg::R6, offset_of("fd")))
        .jump(
            Insn::jmp_imm(JmpOp::Ne, Reg::R0, devnull.as_raw_fd(), 0),
            "out",
        )
        .push(Insn::ldx(Size::DW, Reg::R7, Reg::R6, offset_of("count")))
        .push(Insn::call(Helper::GetCurrentPidTgid))
        .push(Insn::stx(Size::DW, Reg::R10, -16, Reg::R0))
        .push(Insn::stx(Size::DW, Reg::R10, -8, Reg::R7))
        .wide(Insn::ld_map_fd(Reg::R1, events.fd()))
        .push(Insn::mov64_reg(Reg::R2, Reg::R10))
        .push(Insn::alu64_imm(bpf::insn::AluOp::Add, Reg::R2, -16))
        .push(Insn::mov64_imm(Reg::R3, 16))
        .push(Insn::mov64_imm(Reg::R4, 0))
        .push(Insn::call(Helper::RingbufOutput))
        .label("out")
        .push(Insn::mov64_imm(Reg::R0, 0))
        .push(Insn::exit())
        .finish();
    let prog = Program::load(ProgType::Tracepoint, "send_writes", &insns).expect("load");
    let mut ring = RingBuf::new(&events).expect("mmap");
    let id = tracefs
        .tracepoint_id("syscalls", "sys_enter_write")
        .expect("id");
    let attached = attach::tracepoint(&prog, id).expect("attach");
    for i in 0..WRITES {
        let len = 1 + (i as usize % 5);
        assert_eq!((&devnull).write(&b"hello"[..len]).expect("write"), len);
    }
    drop(attached);

    assert!(
        ring.poll(Duration::from_secs(1)).expect("poll"),
        "no wakeup"
    );
    let mut records = Vec::new();
    let consumed = ring.consume(|r| records.push(r.to_vec())).expect("consume");
    assert_eq!(consumed as u64, WRITES);
    for (i, record) in records.iter().enumerate() {
        assert_eq!(record.len(), 16);
        let pid_tgid = u64::from_le_bytes(record[..8].try_into().expect("8"));
        let count = u64::from_le_bytes(record[8..].try_into().expect("8"));
        assert_eq!(pid_tgid >> 32, u64::from(std::process::id()));
        assert_eq!(count, 1 + (i as u64 % 5), "record {i} out of order");
    }
    assert_eq!(ring.consume(|_| {}).expect("consume again"), 0);
}

#[test]
fn get_stackid_records_kernel_stacks() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !root_or_skip("get_stackid_records_kernel_stacks") {
        return;
    }
    let tracefs = Tracefs::open().expect("tracefs");
    let devnull = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .expect("/dev/null");
    let fd_offset = tracefs
        .tracepoint_fields("syscalls", "sys_enter_write")
        .expect("format")
        .iter()
        .find(|f| f.name == "fd")
        .expect("fd")
        .offset as i16;
    let value_size = bpf::map::stack_trace_value_size();
    let stacks = Map::create(MapSpec::new(
        MapType::StackTrace,
        "stacks",
        4,
        value_size,
        128,
    ))
    .expect("stack map");
    let ids = Map::create(MapSpec::new(MapType::Hash, "ids", 4, 8, 128)).expect("id map");
    // @[kstack] = count() for our writes to /dev/null.
    let insns = Asm::default()
        .push(Insn::mov64_reg(Reg::R6, Reg::R1))
        .push(Insn::ldx(Size::DW, Reg::R0, Reg::R6, fd_offset))
        .jump(
            Insn::jmp_imm(JmpOp::Ne, Reg::R0, devnull.as_raw_fd(), 0),
            "out",
        )
        .push(Insn::mov64_reg(Reg::R1, Reg::R6))
        .wide(Insn::ld_map_fd(Reg::R2, stacks.fd()))
        .push(Insn::mov64_imm(Reg::R3, 0))
        .push(Insn::call(Helper::GetStackid))
        .jump(Insn::jmp_imm(JmpOp::Slt, Reg::R0, 0, 0), "out")
        .push(Insn::stx(Size::W, Reg::R10, -4, Reg::R0))
        .increment(&ids, true)
        .finish();
    let prog = Program::load(ProgType::Tracepoint, "kstacks", &insns).expect("load");
    let id = tracefs
        .tracepoint_id("syscalls", "sys_enter_write")
        .expect("id");
    let attached = attach::tracepoint(&prog, id).expect("attach");
    for _ in 0..10 {
        (&devnull).write_all(b"x").expect("write");
    }
    drop(attached);

    let keys = ids.keys().expect("keys");
    assert!(!keys.is_empty(), "no stack ids");
    let total: u64 = keys
        .iter()
        .map(|k| {
            u64::from_le_bytes(
                ids.lookup(k).expect("lookup").expect("present")[..8]
                    .try_into()
                    .expect("8"),
            )
        })
        .sum();
    assert_eq!(total, 10);
    let frames = stacks
        .lookup(&keys[0])
        .expect("stack lookup")
        .expect("stack present");
    let first = u64::from_le_bytes(frames[..8].try_into().expect("8"));
    assert!(
        first >= 0xffff_8000_0000_0000,
        "kernel address expected, got {first:#x}"
    );
}

/// libc's file and getpid's offset in it, from our own mappings.
fn libc_getpid() -> (PathBuf, u64) {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("maps");
    let path = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| {
            p.rsplit('/')
                .next()
                .is_some_and(|f| f.starts_with("libc.so"))
        })
        .map(PathBuf::from)
        .expect("libc mapped");
    let offset = elf::function_offset(&path, "getpid").expect("getpid in libc");
    (path, offset)
}

#[test]
fn uprobe_and_uretprobe_count_exactly_the_calls() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !root_or_skip("uprobe_and_uretprobe_count_exactly_the_calls") {
        return;
    }
    if !attach::uprobe_pmu_available() {
        eprintln!("skipped: no uprobe PMU");
        return;
    }
    let (libc_path, offset) = libc_getpid();
    let calls = Map::create(MapSpec::new(MapType::PercpuArray, "calls", 4, 8, 2)).expect("map");
    let (tid, go, caller) = planted(|| {
        for _ in 0..N {
            std::hint::black_box(std::process::id()); // one getpid() in libc
        }
    });
    let pid_tgid = (u64::from(std::process::id()) << 32) | u64::from(tid);
    let program = |slot: i32| {
        Asm::default()
            .push(Insn::call(Helper::GetCurrentPidTgid))
            .wide(Insn::ld_imm64(Reg::R1, pid_tgid))
            .jump(Insn::jmp_reg(JmpOp::Ne, Reg::R0, Reg::R1, 0), "out")
            .push(Insn::st(Size::W, Reg::R10, -4, slot))
            .increment(&calls, false)
            .finish()
    };
    let entry = Program::load(ProgType::Kprobe, "getpid_entry", &program(0)).expect("load entry");
    let exit = Program::load(ProgType::Kprobe, "getpid_return", &program(1)).expect("load return");
    let target = |retprobe| UprobeTarget {
        path: libc_path.clone(),
        file_offset: offset,
        retprobe,
        pid: None,
    };
    let t = Instant::now();
    let on_entry = attach::uprobe(&entry, &target(false)).expect("uprobe");
    // The return probe is limited to this process (`-p`): the kernel filters
    // by address space, so the worker thread is seen too.
    let on_return = attach::uprobe(
        &exit,
        &UprobeTarget {
            pid: Some(std::process::id() as i32),
            ..target(true)
        },
    )
    .expect("uretprobe");
    eprintln!(
        "timing: uprobe + uretprobe attach {:?} ({} +{offset:#x})",
        t.elapsed(),
        libc_path.display()
    );

    go.send(()).expect("go");
    caller.join().expect("caller");
    drop((on_entry, on_return));

    assert_eq!(percpu_sum(&calls, &0u32.to_le_bytes()), N, "uprobe hits");
    assert_eq!(percpu_sum(&calls, &1u32.to_le_bytes()), N, "uretprobe hits");
}

#[test]
fn profile_cpu_clock_fires_while_a_thread_spins() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !root_or_skip("profile_cpu_clock_fires_while_a_thread_spins") {
        return;
    }
    let samples = Map::create(MapSpec::new(MapType::PercpuArray, "samples", 4, 8, 1)).expect("map");
    let tgid = std::process::id();
    let insns = Asm::default()
        .push(Insn::call(Helper::GetCurrentPidTgid))
        .push(Insn::alu64_imm(bpf::insn::AluOp::Rsh, Reg::R0, 32))
        .jump(Insn::jmp_imm(JmpOp::Ne, Reg::R0, tgid as i32, 0), "out")
        .push(Insn::st(Size::W, Reg::R10, -4, 0))
        .increment(&samples, false)
        .finish();
    let prog = Program::load(ProgType::PerfEvent, "profile", &insns).expect("load");
    let attached = attach::profile(&prog, 1000).expect("attach");
    let spin_for = Duration::from_millis(300);
    let (_, go, spinner) = planted(move || {
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed() < spin_for {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    });
    go.send(()).expect("go");
    spinner.join().expect("spinner");
    let events = attached.event_count();
    drop(attached);

    let hits = percpu_sum(&samples, &0u32.to_le_bytes());
    eprintln!(
        "profile: {hits} samples of this process at 1000 Hz over {spin_for:?} on {events} CPUs"
    );
    // ~300 expected; a loaded 2-vCPU guest still gives far more than this.
    assert!(hits >= 30, "only {hits} samples");
}

#[test]
fn interval_cpu_clock_fires_on_one_cpu() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !root_or_skip("interval_cpu_clock_fires_on_one_cpu") {
        return;
    }
    let ticks = Map::create(MapSpec::new(MapType::PercpuArray, "ticks", 4, 8, 1)).expect("map");
    let insns = Asm::default()
        .push(Insn::st(Size::W, Reg::R10, -4, 0))
        .increment(&ticks, false)
        .finish();
    let prog = Program::load(ProgType::PerfEvent, "interval", &insns).expect("load");
    let attached = attach::interval(&prog, 10_000_000, 0).expect("attach");
    std::thread::sleep(Duration::from_millis(200));
    drop(attached);
    let hits = percpu_sum(&ticks, &0u32.to_le_bytes());
    eprintln!("interval: {hits} ticks of 10 ms in 200 ms");
    assert!((5..=25).contains(&hits), "{hits} ticks");
}

#[test]
fn verifier_rejections_carry_the_log() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !root_or_skip("verifier_rejections_carry_the_log") {
        return;
    }
    // r0 = r2 with r2 never written.
    let uninit = [Insn::mov64_reg(Reg::R0, Reg::R2), Insn::exit()];
    match Program::load(ProgType::Tracepoint, "uninit", &uninit) {
        Err(Error::Verifier { log, .. }) => assert!(log.contains("R2 !read_ok"), "log:\n{log}"),
        other => panic!("expected a verifier error, got {other:?}"),
    }
    // A scalar where map_lookup_elem wants a map.
    let not_a_map = [
        Insn::st(Size::DW, Reg::R10, -8, 0),
        Insn::mov64_imm(Reg::R1, 0),
        Insn::mov64_reg(Reg::R2, Reg::R10),
        Insn::alu64_imm(bpf::insn::AluOp::Add, Reg::R2, -8),
        Insn::call(Helper::MapLookupElem),
        Insn::mov64_imm(Reg::R0, 0),
        Insn::exit(),
    ];
    let err = Program::load(ProgType::Tracepoint, "not_a_map", &not_a_map).expect_err("rejected");
    let text = err.to_string();
    eprintln!("{text}");
    assert!(text.contains("expected=map_ptr"), "{text}");
    assert!(text.contains("not_a_map"), "{text}");
    // The verbose mode returns the log of an accepted program too.
    let ok = [Insn::mov64_imm(Reg::R0, 0), Insn::exit()];
    let (_, log) = Program::load_with_log(ProgType::Tracepoint, "ok", &ok).expect("loads");
    assert!(log.contains("processed 2 insns"), "log:\n{log}");
}

#[test]
fn tracefs_describes_sys_enter_openat() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !root_or_skip("tracefs_describes_sys_enter_openat") {
        return;
    }
    let tracefs = Tracefs::open().expect("tracefs");
    let fields = tracefs
        .tracepoint_fields("syscalls", "sys_enter_openat")
        .expect("format");
    let filename = fields
        .iter()
        .find(|f| f.name == "filename")
        .expect("filename");
    assert_eq!((filename.offset, filename.size), (24, 8));
    assert_eq!(filename.type_name, "const char *");
    assert!(
        tracefs
            .tracepoint_id("syscalls", "sys_enter_openat")
            .expect("id")
            > 0
    );
    let listed = tracefs
        .tracepoints("syscalls:sys_enter_open*")
        .expect("list");
    assert!(
        listed.iter().any(|t| t.name == "sys_enter_openat"),
        "{listed:?}"
    );
    assert!(listed
        .iter()
        .all(|t| t.category == "syscalls" && t.name.starts_with("sys_enter_open")));
}

#[test]
fn maps_round_trip() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !root_or_skip("maps_round_trip") {
        // Without privileges the refusal must say what to change.
        if let Err(e) = Map::create(MapSpec::new(MapType::Hash, "denied", 4, 8, 1)) {
            eprintln!("as expected: {e}");
            assert!(matches!(e, Error::Permission { .. }), "{e}");
            assert!(e.to_string().contains("CAP_BPF"), "{e}");
        }
        return;
    }
    let map = Map::create(MapSpec::new(MapType::Hash, "round_trip", 4, 8, 16)).expect("map");
    let key = |k: u32| k.to_le_bytes();
    let value = |v: u64| v.to_le_bytes();
    assert_eq!(map.next_key(None).expect("empty walk"), None);
    map.update(&key(1), &value(10), UpdateFlag::Any)
        .expect("update 1");
    map.update(&key(2), &value(20), UpdateFlag::NoExist)
        .expect("update 2");
    assert!(
        map.update(&key(2), &value(21), UpdateFlag::NoExist)
            .is_err(),
        "NOEXIST on a present key"
    );
    assert!(
        map.update(&key(3), &value(30), UpdateFlag::Exist).is_err(),
        "EXIST on an absent key"
    );
    assert_eq!(
        map.lookup(&key(2)).expect("lookup"),
        Some(value(20).to_vec())
    );
    let mut keys = map.keys().expect("keys");
    keys.sort();
    assert_eq!(keys, vec![key(1).to_vec(), key(2).to_vec()]);
    assert!(map.delete(&key(1)).expect("delete"));
    assert!(!map.delete(&key(1)).expect("delete again"));
    assert_eq!(map.lookup(&key(1)).expect("lookup"), None);
    assert!(matches!(
        map.lookup(&[1, 2]),
        Err(Error::Size { what: "key", .. })
    ));
    assert!(matches!(
        map.update(&key(1), &[0; 4], UpdateFlag::Any),
        Err(Error::Size { what: "value", .. })
    ));

    let cpus = bpf::cpus::possible().expect("possible CPUs").len();
    let percpu =
        Map::create(MapSpec::new(MapType::PercpuArray, "percpu", 4, 4, 1)).expect("percpu map");
    assert_eq!(
        percpu.value_len(),
        8 * cpus,
        "4-byte values padded to 8 per CPU"
    );
    let mut all = vec![0u8; percpu.value_len()];
    for (cpu, slot) in all.chunks_mut(8).enumerate() {
        slot[..4].copy_from_slice(&(cpu as u32 + 7).to_le_bytes());
    }
    percpu
        .update(&key(0), &all, UpdateFlag::Any)
        .expect("percpu update");
    let slots = percpu
        .lookup_percpu(&key(0))
        .expect("lookup")
        .expect("present");
    assert_eq!(slots.len(), cpus);
    for (cpu, slot) in slots.iter().enumerate() {
        assert_eq!(slot, &(cpu as u32 + 7).to_le_bytes().to_vec());
    }
}
