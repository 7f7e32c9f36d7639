//! What a receiver accepts: request size, the in-flight memory budget,
//! attribute counts and value lengths, and the trimming that enforces the
//! latter on converted spans.
//!
//! Limits never reject a batch: extra attributes, events and links are dropped
//! and counted into the span's `dropped_*_count`, long strings are cut at a
//! UTF-8 boundary. Request size is enforced by the body readers and the
//! in-flight budget by admission (`admission.rs`), not here.

use crate::admission::InFlightBudget;
use model::{AttrValue, KeyValue, Resource, Scope, Span};

/// Receiver limits. `Default` gives values that suit a single-node backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body in bytes, checked on the wire and again after
    /// decompression (so a small gzip bomb cannot expand past it).
    pub max_request_bytes: usize,
    /// Memory for requests being read, decoded and converted, taken before a
    /// body is read (see [`InFlightBudget`]); over it requests are refused
    /// with 429 / RESOURCE_EXHAUSTED and a retry hint. Clones of `Limits`
    /// share this budget, so the gRPC and HTTP receivers of one server given
    /// clones of one `Limits` draw from one pool. Default: 128 MiB.
    pub in_flight: InFlightBudget,
    /// Attributes kept per span (and per resource); the rest are dropped and counted.
    pub max_attributes_per_span: usize,
    /// Attributes kept per span event.
    pub max_attributes_per_event: usize,
    /// Attributes kept per span link.
    pub max_attributes_per_link: usize,
    /// Events kept per span.
    pub max_events_per_span: usize,
    /// Links kept per span.
    pub max_links_per_span: usize,
    /// Longest string or bytes value kept, in bytes (attribute values, span
    /// and event names, status messages); longer ones are truncated.
    pub max_attribute_value_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_request_bytes: 16 * 1024 * 1024,
            in_flight: InFlightBudget::default(),
            max_attributes_per_span: 128,
            max_attributes_per_event: 128,
            max_attributes_per_link: 128,
            max_events_per_span: 1024,
            max_links_per_span: 1024,
            max_attribute_value_bytes: 16 * 1024,
        }
    }
}

/// What the limits removed from one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trimmed {
    /// String or bytes values cut to `max_attribute_value_bytes`.
    pub truncated_values: u64,
    /// Attributes dropped (spans, events, links, resources).
    pub dropped_attributes: u64,
    /// Events dropped.
    pub dropped_events: u64,
    /// Links dropped.
    pub dropped_links: u64,
}

impl Trimmed {
    /// Whether nothing was removed.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// A one-line description for partial-success messages (empty when nothing was trimmed).
    pub fn describe(&self, limits: &Limits) -> String {
        let mut parts = Vec::new();
        if self.truncated_values > 0 {
            parts.push(format!(
                "{} values truncated to {} bytes",
                self.truncated_values, limits.max_attribute_value_bytes
            ));
        }
        if self.dropped_attributes > 0 {
            parts.push(format!(
                "{} attributes dropped (limit {} per span, {} per event, {} per link)",
                self.dropped_attributes,
                limits.max_attributes_per_span,
                limits.max_attributes_per_event,
                limits.max_attributes_per_link
            ));
        }
        if self.dropped_events > 0 {
            parts.push(format!(
                "{} events dropped (limit {} per span)",
                self.dropped_events, limits.max_events_per_span
            ));
        }
        if self.dropped_links > 0 {
            parts.push(format!(
                "{} links dropped (limit {} per span)",
                self.dropped_links, limits.max_links_per_span
            ));
        }
        parts.join("; ")
    }
}

impl Limits {
    /// Trims one span in place: attribute, event and link counts, value lengths.
    /// The span's resource is not touched (see [`Limits::trim_resource`]).
    pub fn trim_span(&self, span: &mut Span, trimmed: &mut Trimmed) {
        self.trim_text(&mut span.name, trimmed);
        self.trim_text(&mut span.status.message, trimmed);
        span.dropped_attributes_count =
            span.dropped_attributes_count
                .saturating_add(self.trim_attributes(
                    &mut span.attributes,
                    self.max_attributes_per_span,
                    trimmed,
                ));
        let extra_events = cut(&mut span.events, self.max_events_per_span);
        trimmed.dropped_events += u64::from(extra_events);
        span.dropped_events_count = span.dropped_events_count.saturating_add(extra_events);
        for event in &mut span.events {
            self.trim_text(&mut event.name, trimmed);
            let dropped = self.trim_attributes(
                &mut event.attributes,
                self.max_attributes_per_event,
                trimmed,
            );
            event.dropped_attributes_count = event.dropped_attributes_count.saturating_add(dropped);
        }
        let extra_links = cut(&mut span.links, self.max_links_per_span);
        trimmed.dropped_links += u64::from(extra_links);
        span.dropped_links_count = span.dropped_links_count.saturating_add(extra_links);
        for link in &mut span.links {
            let dropped =
                self.trim_attributes(&mut link.attributes, self.max_attributes_per_link, trimmed);
            link.dropped_attributes_count = link.dropped_attributes_count.saturating_add(dropped);
        }
    }

    /// Trims a resource's attributes (same count limit as spans).
    /// `service_name` is cut like its `service.name` attribute but counted once, with the attribute.
    pub fn trim_resource(&self, resource: &mut Resource, trimmed: &mut Trimmed) {
        truncate_utf8(&mut resource.service_name, self.max_attribute_value_bytes);
        let dropped = self.trim_attributes(
            &mut resource.attributes,
            self.max_attributes_per_span,
            trimmed,
        );
        resource.dropped_attributes_count =
            resource.dropped_attributes_count.saturating_add(dropped);
    }

    /// Enforces the limits on an instrumentation scope (its name and version
    /// like values, its attributes like a span's).
    pub fn trim_scope(&self, scope: &mut Scope, trimmed: &mut Trimmed) {
        self.trim_text(&mut scope.name, trimmed);
        self.trim_text(&mut scope.version, trimmed);
        let dropped =
            self.trim_attributes(&mut scope.attributes, self.max_attributes_per_span, trimmed);
        scope.dropped_attributes_count = scope.dropped_attributes_count.saturating_add(dropped);
    }

    /// Keeps the first `max` attributes and truncates long values; returns how many were dropped.
    fn trim_attributes(&self, attrs: &mut Vec<KeyValue>, max: usize, trimmed: &mut Trimmed) -> u32 {
        let dropped = cut(attrs, max);
        trimmed.dropped_attributes += u64::from(dropped);
        for kv in attrs.iter_mut() {
            self.trim_value(&mut kv.value, trimmed);
        }
        dropped
    }

    fn trim_value(&self, value: &mut AttrValue, trimmed: &mut Trimmed) {
        match value {
            AttrValue::Str(s) => self.trim_text(s, trimmed),
            AttrValue::Bytes(b) => {
                if b.len() > self.max_attribute_value_bytes {
                    b.truncate(self.max_attribute_value_bytes);
                    trimmed.truncated_values += 1;
                }
            }
            AttrValue::Array(values) => {
                for v in values {
                    self.trim_value(v, trimmed);
                }
            }
            AttrValue::Map(kvs) => {
                for kv in kvs {
                    self.trim_value(&mut kv.value, trimmed);
                }
            }
            AttrValue::Bool(_) | AttrValue::Int(_) | AttrValue::Double(_) | AttrValue::Empty => {}
        }
    }

    fn trim_text(&self, text: &mut String, trimmed: &mut Trimmed) {
        if text.len() > self.max_attribute_value_bytes {
            truncate_utf8(text, self.max_attribute_value_bytes);
            trimmed.truncated_values += 1;
        }
    }
}

/// Truncates to at most `max_bytes`, backing off to a character boundary.
pub(crate) fn truncate_utf8(text: &mut String, max_bytes: usize) {
    if text.len() <= max_bytes {
        return;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
}

/// Keeps the first `max` items; returns how many were removed (saturating at `u32::MAX`).
fn cut<T>(items: &mut Vec<T>, max: usize) -> u32 {
    let extra = items.len().saturating_sub(max);
    items.truncate(max);
    u32::try_from(extra).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_char_boundaries() {
        let mut s = "aé€".to_string(); // 1 + 2 + 3 bytes
        truncate_utf8(&mut s, 4);
        assert_eq!(s, "aé");
        let mut s = "aé€".to_string();
        truncate_utf8(&mut s, 2);
        assert_eq!(s, "a");
        let mut s = "short".to_string();
        truncate_utf8(&mut s, 100);
        assert_eq!(s, "short");
    }

    #[test]
    fn scope_attributes_are_trimmed_and_counted() {
        let limits = Limits {
            max_attribute_value_bytes: 4,
            max_attributes_per_span: 2,
            ..Limits::default()
        };
        let mut scope = Scope {
            name: "library.name".into(),
            version: "1.0".into(),
            attributes: vec![
                KeyValue::str("a", "long value"),
                KeyValue::str("b", "ok"),
                KeyValue::str("c", "dropped"),
            ],
            dropped_attributes_count: 1,
        };
        let mut trimmed = Trimmed::default();
        limits.trim_scope(&mut scope, &mut trimmed);
        assert_eq!(scope.name, "libr");
        assert_eq!(scope.version, "1.0");
        assert_eq!(
            scope.attributes,
            vec![KeyValue::str("a", "long"), KeyValue::str("b", "ok")]
        );
        assert_eq!(scope.dropped_attributes_count, 2);
        assert_eq!(trimmed.truncated_values, 2);
        assert_eq!(trimmed.dropped_attributes, 1);
    }

    #[test]
    fn nested_values_are_truncated_and_counted() {
        let limits = Limits {
            max_attribute_value_bytes: 3,
            ..Limits::default()
        };
        let mut value = AttrValue::Array(vec![
            AttrValue::Str("abcdef".into()),
            AttrValue::Map(vec![KeyValue::str("k", "xyzxyz")]),
            AttrValue::Bytes(vec![1, 2, 3, 4]),
            AttrValue::Str("ok".into()),
        ]);
        let mut trimmed = Trimmed::default();
        limits.trim_value(&mut value, &mut trimmed);
        assert_eq!(trimmed.truncated_values, 3);
        assert_eq!(
            value,
            AttrValue::Array(vec![
                AttrValue::Str("abc".into()),
                AttrValue::Map(vec![KeyValue::str("k", "xyz")]),
                AttrValue::Bytes(vec![1, 2, 3]),
                AttrValue::Str("ok".into()),
            ])
        );
    }
}
