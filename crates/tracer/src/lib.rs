//! `whyslow trace`: a bpftrace-compatible language compiled to BPF by
//! whyslow itself.
