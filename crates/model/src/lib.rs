//! The data model every whyslow source produces and every view consumes.
//!
//! Sources (the profiler, wire-format readers) turn their input into these types;
//! nothing downstream knows where the data came from. This crate holds plain data
//! and small invariant-keeping helpers only: no I/O, no rendering, no analysis.

pub mod metrics;
pub mod profile;
pub mod trace;

pub use profile::merge_identical_samples;

pub use profile::{
    Frame, FrameKind, Function, FunctionId, Line, Location, LocationId, Mapping, MappingId,
    Profile, ProfileBuilder, Sample, SampleLabels, ValueType,
};
pub use trace::{
    attr, AttrValue, KeyValue, Resource, Scope, Span, SpanEvent, SpanId, SpanKind, SpanLink,
    Status, StatusCode, TraceId,
};
