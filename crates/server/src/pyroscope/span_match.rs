//! A span's profile when no SDK tagged samples with its id: the agent's
//! timed samples ([`store::profiles::Tick`]) of the span's process, and of
//! its thread when the span names one the agent saw, during the span.
//!
//! The process is the span's resource attribute `process.pid` (with
//! `host.name`, matched to the agent's `host` label, when the resource has
//! it); without a pid, the service (`service_name`, which the agent reads
//! from the process's `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES`). The
//! thread is the span attribute `thread.id` when one of the process's
//! sampled threads during the span has that id (OpenTelemetry's `thread.id`
//! is the OS thread id in C++, Rust, Python's `threading.get_native_id` and
//! Go's `gettid`, but a managed id in Java and .NET, which matches no OS
//! thread; then the whole process is used). What was matched is said in
//! the answer, so the UI can tell a span's own samples from its process's.

use store::profiles::{ProfileQuery, ProfileStore, TickMerge};
use store::series::Matcher;
use store::StoreError;

/// The resource attribute with the process id (OpenTelemetry semantic conventions).
pub const PID_ATTRIBUTE: &str = "process.pid";
/// The resource attribute with the host name.
pub const HOST_ATTRIBUTE: &str = "host.name";
/// The span attribute with the thread id.
pub const THREAD_ATTRIBUTE: &str = "thread.id";

/// How a span's samples were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    /// The span's thread, during the span.
    Thread,
    /// Any thread of the span's process, during the span.
    Process,
    /// Any process of the span's service, during the span.
    Service,
}

impl Matched {
    /// The word the API answers with.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Thread => "thread",
            Self::Process => "process",
            Self::Service => "service",
        }
    }
}

/// Where and when to look for a span's samples.
#[derive(Clone)]
pub struct SpanPlace {
    /// `pid` (and `host`) or `service_name` matchers for the agent's series.
    pub matchers: Vec<Matcher>,
    /// The span's `thread.id`, if it has one.
    pub thread: Option<u32>,
    /// The span's `[start, end)`, Unix ns.
    pub range: (i64, i64),
    /// What the matchers select: by process or by service.
    pub by: Matched,
}

impl SpanPlace {
    /// Where `span` ran, from its attributes.
    pub fn of(span: &model::Span) -> Self {
        let resource = |key: &str| {
            span.resource
                .attributes
                .iter()
                .find(|kv| kv.key == key)
                .map(|kv| kv.value.to_text())
                .filter(|v| !v.is_empty())
        };
        let start = i64::try_from(span.start_unix_nano).unwrap_or(i64::MAX);
        let end = i64::try_from(span.end_unix_nano)
            .unwrap_or(i64::MAX)
            .max(start);
        let thread = span
            .attributes
            .iter()
            .find(|kv| kv.key == THREAD_ATTRIBUTE)
            .and_then(|kv| kv.value.to_text().parse().ok());
        let (matchers, by) = match resource(PID_ATTRIBUTE) {
            Some(pid) => {
                let mut m = vec![Matcher::equal("pid", pid)];
                if let Some(host) = resource(HOST_ATTRIBUTE) {
                    m.push(Matcher::equal("host", host));
                }
                (m, Matched::Process)
            }
            None => (
                vec![Matcher::equal("service_name", span.service())],
                Matched::Service,
            ),
        };
        Self {
            matchers,
            thread,
            range: (start, end.saturating_add(1)),
            by,
        }
    }

    /// The samples of profile type `profile_type`: the thread's when it was
    /// sampled during the span, else all the process's (or service's).
    pub fn merge(
        &self,
        store: &dyn ProfileStore,
        profile_type: &str,
    ) -> Result<(TickMerge, Matched), StoreError> {
        let query = ProfileQuery {
            profile_type: profile_type.to_string(),
            matchers: self.matchers.clone(),
            start_ns: self.range.0,
            end_ns: self.range.1,
            ..ProfileQuery::default()
        };
        let all = store.merge_ticks(&query, &[])?;
        match self.thread {
            Some(tid) if all.threads.iter().any(|&(t, _)| t == tid) => {
                let mine = store.merge_ticks(&query, &[tid])?;
                Ok((mine, Matched::Thread))
            }
            _ => Ok((all, self.by)),
        }
    }
}

/// Samples a merge selected: of the matched thread, or of every thread.
pub fn selected_samples(merge: &TickMerge, matched: Matched, thread: Option<u32>) -> u64 {
    merge
        .threads
        .iter()
        .filter(|&&(t, _)| matched != Matched::Thread || Some(t) == thread)
        .map(|&(_, n)| n)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::trace::{AttrValue, KeyValue, Resource};
    use std::sync::Arc;

    fn kv(key: &str, value: AttrValue) -> KeyValue {
        KeyValue {
            key: key.into(),
            value,
        }
    }

    #[test]
    fn the_place_of_a_span_comes_from_its_resource_and_thread() {
        let mut span = model::Span {
            start_unix_nano: 1_000,
            end_unix_nano: 5_000,
            attributes: vec![kv(THREAD_ATTRIBUTE, AttrValue::Int(4242))],
            resource: Arc::new(Resource {
                service_name: "checkout".into(),
                attributes: vec![
                    kv(PID_ATTRIBUTE, AttrValue::Int(4200)),
                    kv(HOST_ATTRIBUTE, AttrValue::Str("box".into())),
                ],
                dropped_attributes_count: 0,
            }),
            trace_id: model::TraceId([1; 16]),
            span_id: model::SpanId([2; 8]),
            parent_span_id: None,
            trace_state: String::new(),
            flags: 1,
            name: "op".into(),
            kind: model::SpanKind::Server,
            dropped_attributes_count: 0,
            events: Vec::new(),
            dropped_events_count: 0,
            links: Vec::new(),
            dropped_links_count: 0,
            status: model::Status {
                code: model::StatusCode::Unset,
                message: String::new(),
            },
            scope: Arc::new(model::Scope::default()),
        };
        let place = SpanPlace::of(&span);
        let text = |p: &SpanPlace| {
            p.matchers
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(text(&place), [r#"pid="4200""#, r#"host="box""#]);
        assert_eq!(
            (place.thread, place.range, place.by),
            (Some(4242), (1_000, 5_001), Matched::Process)
        );
        span.attributes.clear();
        span.resource = Arc::new(Resource {
            service_name: "checkout".into(),
            attributes: Vec::new(),
            dropped_attributes_count: 0,
        });
        let place = SpanPlace::of(&span);
        assert_eq!(text(&place), [r#"service_name="checkout""#]);
        assert_eq!((place.thread, place.by), (None, Matched::Service));
    }
}
