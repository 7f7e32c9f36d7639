//! Real stacks of this test process: a function of the test binary
//! symbolized through `/proc/self/maps`, and stacks unwound from registers
//! captured with inline assembly and bytes copied through `/proc/self/mem`.

use super::*;
use std::io::{Read, Seek, SeekFrom};

/// A function of this test binary to symbolize.
#[inline(never)]
fn symbolization_marker(x: u64) -> u64 {
    std::hint::black_box(x).wrapping_mul(31).rotate_left(7)
}

#[test]
fn symbolizes_a_function_of_this_test_binary() {
    assert_eq!(symbolization_marker(1), 31 << 7);
    let pid = std::process::id();
    let address = symbolization_marker as *const () as usize as u64;
    let mut a = Assembler::new(config(false));
    a.seed_process(pid);
    a.handle(on_cpu(pid, pid, 0, &[address]));
    let (p, _) = a.finish(0, 0);
    let sample = &p.samples[0];
    let names = p.stack_names(sample);
    // std's `black_box`, inlined at the function's first instruction, is
    // folded into the function.
    assert_eq!(
        names,
        ["profiler::builder::tests::real_stacks::symbolization_marker"],
        "demangled, qualified, without the hash"
    );
    let leaf = &p.locations[sample.locations[0]];
    let line = leaf.lines.last().expect("symbolized");
    let function = &p.functions[line.function];
    assert!(
        function.filename.ends_with("real_stacks.rs"),
        "{function:?}"
    );
    assert!(line.line > 0, "{leaf:?}");
    assert!(
        function.start_line > 0 && function.start_line <= line.line,
        "the function starts at or above the sampled line: {function:?}"
    );
    let mapping = &p.mappings[leaf.mapping.expect("user frames keep their mapping")];
    let exe = std::env::current_exe().unwrap();
    assert_eq!(Path::new(&mapping.path), exe.as_path());
    assert!(
        mapping.build_id.chars().all(|c| c.is_ascii_hexdigit()),
        "{mapping:?}"
    );
}

/// Registers and stack bytes at the point of the call.
#[inline(never)]
pub(super) fn capture_stack() -> (UserRegs, Vec<u8>) {
    let (ip, sp, bp): (u64, u64, u64);
    // SAFETY: reads rip, rsp and rbp into registers; touches no memory.
    unsafe {
        std::arch::asm!(
            "lea {ip}, [rip]",
            "mov {sp}, rsp",
            "mov {bp}, rbp",
            ip = out(reg) ip,
            sp = out(reg) sp,
            bp = out(reg) bp,
            options(nostack, nomem, preserves_flags),
        );
    }
    let mut stack = Vec::new();
    for size in [64 * 1024, 32 * 1024, 16 * 1024, 8 * 1024, 4 * 1024] {
        let mut mem = std::fs::File::open("/proc/self/mem").unwrap();
        mem.seek(SeekFrom::Start(sp)).unwrap();
        let mut bytes = vec![0u8; size];
        if mem.read_exact(&mut bytes).is_ok() {
            stack = bytes;
            break;
        }
    }
    (UserRegs { ip, sp, bp }, std::hint::black_box(stack))
}

#[inline(never)]
fn unwinding_caller() -> (UserRegs, Vec<u8>) {
    let captured = capture_stack();
    std::hint::black_box(captured)
}

fn unwound(regs: UserRegs, stack: Vec<u8>) -> (Vec<String>, AssemblerStats) {
    let pid = std::process::id();
    let mut a = Assembler::new(config(false));
    a.seed_process(pid);
    a.handle(Event::Sample(RawSample {
        pid,
        tid: pid,
        period: 1,
        user_regs: Some(regs),
        user_stack: stack,
        ..RawSample::default()
    }));
    let (p, stats) = a.finish(0, 0);
    (p.stack_names(&p.samples[0]), stats)
}

#[test]
fn unwinds_this_binary_without_frame_pointers() {
    let (regs, stack) = unwinding_caller();
    assert!(stack.len() >= 4096, "could not copy the stack");
    let (names, stats) = unwound(regs, stack);
    let position = |name: &str| names.iter().position(|n| n.ends_with(name));
    let leaf = position("real_stacks::capture_stack").expect("leaf frame");
    let caller = position("real_stacks::unwinding_caller").expect("caller frame");
    let test = position("unwinds_this_binary_without_frame_pointers").expect("test frame");
    assert!(test < caller && caller < leaf, "{names:#?}");
    assert!(
        names
            .first()
            .is_some_and(|n| n.starts_with("clone") || n.starts_with("__clone")),
        "unwound through libc's thread start to the root: {names:#?}"
    );
    assert_eq!(stats.truncated_stacks, 0);
}

/// The instruction pointer inside a function that is always inlined.
#[inline(always)]
fn inlined_helper() -> u64 {
    let ip: u64;
    // SAFETY: reads rip into a register; touches no memory.
    unsafe {
        std::arch::asm!(
            "2: lea {ip}, [rip + 2b]",
            ip = out(reg) ip,
            options(nostack, nomem, preserves_flags),
        );
    }
    ip
}

#[inline(never)]
fn calls_inlined_helper() -> u64 {
    std::hint::black_box(inlined_helper())
}

#[test]
fn inlined_user_functions_are_frames_of_their_own() {
    let ip = calls_inlined_helper();
    let pid = std::process::id();
    let mut a = Assembler::new(config(false));
    a.seed_process(pid);
    a.handle(on_cpu(pid, pid, 0, &[ip]));
    let (p, _) = a.finish(0, 0);
    let sample = &p.samples[0];
    // The outer name comes from the symbol table; the inlined one from
    // DWARF, qualified only with full debug info.
    let names = p.stack_names(sample);
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(
        names[0],
        "profiler::builder::tests::real_stacks::calls_inlined_helper"
    );
    assert!(names[1].ends_with("inlined_helper"), "{names:?}");
    let location = &p.locations[sample.locations[0]];
    let lines: Vec<(&str, u32)> = location
        .lines
        .iter()
        .map(|l| (p.functions[l.function].name.as_str(), l.line))
        .collect();
    assert_eq!(lines.len(), 2, "innermost first: {lines:?}");
    assert!(lines.iter().all(|&(_, line)| line > 0), "{lines:?}");
    assert!(
        lines[0].1 < lines[1].1,
        "the helper is defined above its caller: {lines:?}"
    );
}

/// The captured stack from inside a libc `qsort` comparator.
static FROM_QSORT: std::sync::Mutex<Option<(UserRegs, Vec<u8>)>> = std::sync::Mutex::new(None);

extern "C" fn compare(a: *const libc::c_void, b: *const libc::c_void) -> libc::c_int {
    let mut slot = FROM_QSORT.lock().unwrap();
    if slot.is_none() {
        *slot = Some(capture_stack());
    }
    // SAFETY: qsort passes pointers to elements of the u64 array below.
    let (a, b) = unsafe { (*(a as *const u64), *(b as *const u64)) };
    a.cmp(&b) as libc::c_int
}

#[inline(never)]
fn sort_with_libc() {
    let mut values: Vec<u64> = (0..64).rev().collect();
    // SAFETY: the array, its length and element size match; `compare`
    // reads only u64 elements.
    unsafe {
        libc::qsort(
            values.as_mut_ptr().cast(),
            values.len(),
            std::mem::size_of::<u64>(),
            Some(compare),
        );
    }
    assert_eq!(values[0], 0);
}

#[test]
fn unwinds_through_libc_via_eh_frame() {
    sort_with_libc();
    let (regs, stack) = FROM_QSORT.lock().unwrap().take().expect("comparator ran");
    let (names, _) = unwound(regs, stack);
    let position = |name: &str| names.iter().position(|n| n.ends_with(name));
    let sorter = position("real_stacks::sort_with_libc").expect("caller of qsort");
    let comparator = position("real_stacks::compare").expect("comparator");
    let test = position("unwinds_through_libc_via_eh_frame").expect("test frame");
    assert!(
        test < sorter && sorter + 1 < comparator,
        "libc frames lie between qsort's caller and the comparator: {names:#?}"
    );
    assert!(
        names[sorter + 1..comparator]
            .iter()
            .any(|n| n.contains("sort") || n.contains("libc")),
        "{names:#?}"
    );
}

#[test]
fn names_frames_in_the_vdso() {
    use object::{Object, ObjectSymbol};
    let Some(vdso) = crate::analysis::vdso::load_own_vdso() else {
        eprintln!("SKIP: no vDSO readable here");
        return;
    };
    let elf = object::read::elf::ElfFile64::<object::Endianness>::parse(vdso.bytes()).unwrap();
    let symbol = elf
        .dynamic_symbols()
        .find(|s| s.name().is_ok_and(|n| n.contains("clock_gettime")))
        .expect("the vDSO exports clock_gettime");
    let me = crate::analysis::proc_maps::read_process(std::process::id()).unwrap();
    let mapping = me
        .mappings
        .iter()
        .find(|m| m.path == "[vdso]")
        .expect("a [vdso] mapping");
    // The vDSO is linked at 0 and mapped from its start.
    let address = mapping.start + symbol.address() + 2;
    let pid = std::process::id();
    let mut a = Assembler::new(config(false));
    a.seed_process(pid);
    // The vDSO image is loaded with the first user stack.
    a.handle(Event::Sample(RawSample {
        pid,
        tid: pid,
        period: 1,
        user_regs: Some(UserRegs {
            ip: address,
            sp: 0,
            bp: 0,
        }),
        user_ips: vec![address, 0x10],
        ..RawSample::default()
    }));
    let (p, _) = a.finish(0, 0);
    let names = p.stack_names(&p.samples[0]);
    assert!(
        names.last().is_some_and(|n| n.contains("clock_gettime")),
        "{names:?}"
    );
}
