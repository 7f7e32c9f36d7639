//! The kernel side of `whyslow trace`, with no libbpf and no LLVM: BPF
//! instructions encoded here, maps and programs loaded with the raw
//! `bpf()` system call, attached through `perf_event_open` to tracepoints,
//! uprobes and perf events, and tracefs found (or mounted) for tracepoint
//! ids and formats.
