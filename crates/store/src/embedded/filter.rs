//! Whether one span matches a [`TraceQuery`]: the single place that defines
//! search semantics, used alike by the in-memory head and by Parquet blocks.

use model::{Span, SpanKind, StatusCode};

use crate::TraceQuery;

/// Default number of traces a search returns when `limit` is 0.
pub const DEFAULT_LIMIT: usize = 20;

/// A compiled span predicate for one query.
#[derive(Debug, Clone)]
pub struct SpanFilter<'q> {
    pub(crate) service: Option<&'q str>,
    pub(crate) operation: Option<&'q str>,
    tags: Vec<(&'q str, &'q str)>,
    pub(crate) start_min: u64,
    pub(crate) start_max: u64,
    duration_min: u64,
    duration_max: u64,
    /// Traces wanted.
    pub(crate) limit: usize,
}

impl<'q> SpanFilter<'q> {
    /// Compiles `query`.
    pub fn new(query: &'q TraceQuery) -> Self {
        Self {
            service: query.service.as_deref().filter(|s| !s.is_empty()),
            operation: query.operation.as_deref().filter(|s| !s.is_empty()),
            tags: query
                .tags
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
            start_min: query.start_min.unwrap_or(0),
            start_max: query.start_max.unwrap_or(u64::MAX),
            duration_min: query.duration_min.unwrap_or(0),
            duration_max: query.duration_max.unwrap_or(u64::MAX),
            limit: if query.limit == 0 {
                DEFAULT_LIMIT
            } else {
                query.limit
            },
        }
    }

    /// Whether tag predicates exist (they need the span's attributes decoded).
    pub fn has_tags(&self) -> bool {
        !self.tags.is_empty()
    }

    /// Tags that only attributes can satisfy (not `error`, `span.kind`,
    /// `otel.status_code`, which also match span fields).
    pub fn attribute_tags(&self) -> impl Iterator<Item = (&'q str, &'q str)> + '_ {
        self.tags
            .iter()
            .copied()
            .filter(|(k, _)| !matches!(*k, "error" | "span.kind" | "otel.status_code"))
    }

    /// The cheap part of the predicate, on columns a block stores plainly.
    pub fn matches_columns(&self, service: &str, name: &str, start: u64, duration: u64) -> bool {
        self.service.is_none_or(|s| s == service)
            && self.operation.is_none_or(|o| o == name)
            && (self.start_min..=self.start_max).contains(&start)
            && (self.duration_min..=self.duration_max).contains(&duration)
    }

    /// The full predicate.
    pub fn matches(&self, span: &Span) -> bool {
        self.matches_columns(
            span.service(),
            &span.name,
            span.start_unix_nano,
            span.duration_nanos(),
        ) && self.tags_match(span.kind, span.status.code, |key, value| {
            span.attributes
                .iter()
                .chain(span.resource.attributes.iter())
                .any(|kv| kv.key == key && kv.value.to_text() == value)
        })
    }

    /// The tag part of the predicate. `has_attr(key, value)` tells whether
    /// the span or its resource has attribute `key` whose text is `value`.
    pub fn tags_match(
        &self,
        kind: SpanKind,
        status: StatusCode,
        has_attr: impl Fn(&str, &str) -> bool,
    ) -> bool {
        self.tags
            .iter()
            .all(|(k, v)| virtual_tag_matches(kind, status, k, v) || has_attr(k, v))
    }
}

/// Jaeger tag semantics beyond attributes: `error=true` matches error
/// status, and `span.kind` / `otel.status_code` are virtual tags as the
/// Jaeger OTLP translator shows them.
fn virtual_tag_matches(kind: SpanKind, status: StatusCode, key: &str, value: &str) -> bool {
    match key {
        "error" => value == "true" && status == StatusCode::Error,
        "span.kind" => kind.as_jaeger() == value,
        "otel.status_code" => {
            let code = match status {
                StatusCode::Unset => "",
                StatusCode::Ok => "OK",
                StatusCode::Error => "ERROR",
            };
            code == value
        }
        _ => false,
    }
}
