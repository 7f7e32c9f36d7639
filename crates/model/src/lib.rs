//! The data model every whyslow source produces and every view consumes.
//!
//! Sources (the profiler, wire-format readers) turn their input into these types;
//! nothing downstream knows where the data came from. This crate holds plain data
//! and small invariant-keeping helpers only: no I/O, no rendering, no analysis.

pub mod profile;

pub use profile::merge_identical_samples;

pub use profile::{
    Frame, FrameKind, Function, FunctionId, Line, Location, LocationId, Mapping, MappingId,
    Profile, ProfileBuilder, Sample, SampleLabels, ValueType,
};
