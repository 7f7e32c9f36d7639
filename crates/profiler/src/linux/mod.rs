//! Linux collection: `perf_event_open` events, their ring buffers, and the
//! recording loop that feeds decoded records to the analysis side.

pub mod attr;
pub mod child;
pub mod procfs;
pub mod records;
pub mod ring;
pub mod run;
pub mod session;
pub mod sys;
pub mod tracefs;
