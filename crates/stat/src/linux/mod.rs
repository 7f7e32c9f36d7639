//! Linux collection: counters via `perf_event_open` (`counter.rs`), tracepoint
//! ids (`tracefs.rs`), the PMU check (`pmu.rs`), target processes
//! (`process.rs`), /proc readers (`procfs.rs`) and one measurement from start
//! to reaped command (`session.rs`).

pub mod counter;
pub mod pmu;
pub mod process;
pub mod procfs;
pub mod session;
pub mod tracefs;
