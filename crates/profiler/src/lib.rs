//! The sampling profiler behind `whyslow record`.
//!
//! Collection (`linux/`) opens `perf_event_open` events per CPU, reads their ring
//! buffers and turns raw records into [`event::Event`]s. Analysis (`builder`)
//! follows processes through MMAP2/COMM/FORK/EXIT, unwinds user stacks copied by
//! the kernel (DWARF CFI via framehop, frame pointers as fallback), pairs
//! `sched_switch` records into off-CPU intervals, symbolizes every frame and
//! produces a [`model::Profile`]. Rendering the profile is not this crate's job.

mod analysis;
pub mod builder;
pub mod debuginfo;
pub mod error;
pub mod event;
#[cfg(target_os = "linux")]
pub mod linux;
pub mod options;
pub mod record;

pub use error::ProfilerError;
pub use event::{Event, MmapEvent, RawSample, SampleKind, UserRegs};
pub use options::{Progress, RecordOptions, RecordStats, Recording, SamplingEvent, Target};
pub use record::{record, record_continuous};
