//! Every construct of the language through the kernel's verifier: each
//! program below is compiled and loaded ([`tracer::runtime::load_only`]:
//! maps created, one program per target, nothing attached) and must be
//! accepted. Together they cover each probe type, map function, builtin,
//! filter, printf conversion, string comparison and statement form. Needs
//! root; skips (saying why) without it, or fails with
//! `WHYSLOW_REQUIRE_BPFTRACE` set (the same switch the bpftrace comparisons
//! use: a machine meant to run kernel tests).

use tracer::runtime::{load_only, RunError};

/// Programs and how many BPF programs each loads.
const PROGRAMS: &[(&str, usize)] = &[
    // Tracepoints: integer, pointer, char-array and __data_loc fields.
    (
        r#"tracepoint:syscalls:sys_enter_write /comm == "dd" && args.fd == 1/ {
            @c = count(); @s[pid, tid] = sum(args.count); @a[uid] = avg(args.count);
            @mn[gid] = min(args.count); @mx[cpu] = max(args.count); @st = stats(args.count);
            @h[comm] = hist(args.count); @l = lhist(args.count, 0, 1000, 100);
            @b = str(args.buf, 8); @t = nsecs; delete(@t); clear(@h); print(@c, 1, 10); exit();
        }"#,
        1,
    ),
    (
        r#"tracepoint:sched:sched_switch /args->prev_comm != "swapper/0" || args->prev_pid > 0/ {
            @[args->prev_comm, args->next_comm] = count(); @p[args->prev_prio] = max(args->prev_prio);
            if (args->prev_comm == args->next_comm) { @same = count(); } else if (args->prev_pid == 1) { @one++; } else { @other--; }
        }"#,
        1,
    ),
    (
        r#"tracepoint:sched:sched_process_exec { @f[str(args->filename)] = count(); $n = str(args->filename); @n = $n == "/bin/true" ? "yes" : "no"; }"#,
        1,
    ),
    (
        r#"tracepoint:syscalls:sys_enter_openat { printf("%s %d %u %x %X %o %c %p %5d|%-5d|%05d %ld %lu %lld %llu %hd %hhu %-16s %.3s\n",
            str(args->filename), args->dfd, args->flags, args->mode, 255, 8, 65, args->filename, 1, 2, 3, -4, 5, -6, 7, 8, 9, comm, "abcdef"); }"#,
        1,
    ),
    // Wildcards: one program per matching tracepoint.
    (
        r#"tracepoint:syscalls:sys_enter_clos* { @[probe] = count(); @k[kstack] = count(); @u[ustack] = count(); @last = probe; }"#,
        2,
    ),
    // Stacks in every position and mode.
    (
        r#"tracepoint:syscalls:sys_enter_nanosleep { @[kstack(perf, 5), ustack(3)] = count(); @v[tid] = kstack; $s = ustack(perf);
            @w = $s; printf("%s %s %s\n", kstack, ustack(bpftrace, 2), probe); @x = @x + 1; @y = -@y; }"#,
        1,
    ),
    // Uprobes: arguments, return values, func, probe, stacks.
    (
        r#"uprobe:libc:getpid { @[func] = count(); @a = sum(arg0 + arg1 + arg2 + arg3 + arg4 + arg5); $f = func; @g[$f] = count();
            @h = func; printf("%s %s %s\n", func, probe, ustack); @s[ustack, kstack] = count(); }
           uretprobe:libc:getpid /retval > 0/ { @r = hist(retval); @rf[func, probe] = count(); @last = retval > 10 ? retval : 0; }"#,
        2,
    ),
    // Timed probes, integer operators, scratch variables.
    (
        r#"profile:hz:99 /pid != 0/ { @[comm] = count(); @u[ustack] = count(); @k[kstack(4)] = count(); }
           interval:ms:100 { $x = 7; $x += 3; $x *= 2; $x -= 1; $x /= 2; $x %= 5; $y = ($x << 2) >> 1; $z = ~$x & 0xff | 3 ^ 1;
             @b = !$x; @c = $x >= 2 && $y <= 3 || $z < 1 || $z > 0; @p = probe; @n = nsecs / 1000; }"#,
        2,
    ),
    // BEGIN/END run in user space; their maps are still created.
    (
        r#"BEGIN { printf("start %s\n", probe); @start = 1; @name["x"] = "y"; } END { @e = probe; }
           tracepoint:syscalls:sys_enter_getpid { @c[@name["x"]] = count(); @t = @start + 1; }"#,
        1,
    ),
];

#[path = "../../../tests/support/root.rs"]
mod root;

#[test]
fn every_construct_passes_the_verifier() {
    if !root::is_root() {
        if std::env::var_os("WHYSLOW_REQUIRE_BPFTRACE").is_some() {
            panic!("WHYSLOW_REQUIRE_BPFTRACE is set but the verifier test needs root");
        }
        eprintln!("skipping the verifier test: needs root (bpf())");
        return;
    }
    for (program, programs) in PROGRAMS {
        match load_only(program) {
            Ok(n) => assert_eq!(n, *programs, "programs loaded for:\n{program}"),
            Err(RunError::Compile {
                diagnostics,
                detail,
            }) => panic!("{}{detail}", diagnostics.render("stdin", program)),
            Err(e) => panic!("{e} for:\n{program}"),
        }
    }
}
