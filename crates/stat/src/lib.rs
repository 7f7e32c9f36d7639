//! `whyslow stat`: counters for a command, a process or the whole system,
//! in `perf stat`'s layout.
//!
//! - [`topdown`]: top-down level 1 (retiring, bad speculation, frontend and
//!   backend bound) from vendor events, where a hardware PMU exists.

pub mod topdown;
