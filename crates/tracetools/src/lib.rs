//! Ready-made tools for `whyslow trace TOOL`, each a hand-built BPF
//! program on tracepoints (no kprobes on the kernels we run on) with the
//! options and output layout of its libbpf-tools namesake.
