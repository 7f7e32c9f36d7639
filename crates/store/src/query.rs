//! Query parameters and results shared by every store backend.

use model::SpanKind;

/// A trace search (Jaeger's `/api/traces?…` parameters, parsed).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceQuery {
    /// Service that must have a span in the trace.
    pub service: Option<String>,
    /// Operation (span name) of that service's span.
    pub operation: Option<String>,
    /// Span attributes (or resource attributes) that one matching span must have, compared as text.
    /// The key `error` with value `true` matches spans with error status.
    pub tags: Vec<(String, String)>,
    /// Matching span started at or after (Unix ns).
    pub start_min: Option<u64>,
    /// Matching span started at or before (Unix ns).
    pub start_max: Option<u64>,
    /// Matching span lasted at least (ns).
    pub duration_min: Option<u64>,
    /// Matching span lasted at most (ns).
    pub duration_max: Option<u64>,
    /// Most traces to return (0 = the backend's default, 20).
    pub limit: usize,
}

/// An operation of a service.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Operation {
    /// Span name.
    pub name: String,
    /// Span kind.
    pub kind: SpanKind,
}

/// Calls from one service to another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DependencyLink {
    /// Calling service.
    pub parent: String,
    /// Called service.
    pub child: String,
    /// Number of calls.
    pub call_count: u64,
}
