//! Clock-skew adjustment of one trace, as Jaeger's query service does it (its
//! `adjuster` package, `CorrectClockSkew`): a span recorded on another host
//! than its parent, which starts before the parent or ends after it, is moved
//! so it fits inside the parent, and its whole subtree on that host moves
//! with it. Each moved span gets a warning saying by how much.
//!
//! Works on a copy the caller owns; stored data is never touched. Not a
//! general time-alignment tool: only parent/child containment is used.

use model::{AttrValue, Span, SpanId};
use std::collections::HashMap;

/// Jaeger's default largest adjustment: 1 s. Larger computed deltas are not
/// applied (a warning says so), since they more likely mean a broken clock
/// or an asynchronous child than network-delay-sized skew.
pub const DEFAULT_MAX_ADJUSTMENT_NANOS: u64 = 1_000_000_000;

/// Warnings per span, in the order of the input slice (empty when none).
pub type SpanWarnings = Vec<Vec<String>>;

/// The clock a span's timestamps come from: `host.id`, else `host.ip` (first
/// address of an array), else `host.name`, as Jaeger v2 derives it. Without
/// host attributes the service stands in for the host, so spans of one
/// service are never shifted against each other (Jaeger would compare them).
fn clock_key(span: &Span) -> String {
    let attrs = &span.resource.attributes;
    let text = |key: &str| match model::attr(attrs, key) {
        Some(AttrValue::Str(s)) if !s.is_empty() => Some(s.clone()),
        Some(AttrValue::Array(items)) => items.first().map(AttrValue::to_text),
        _ => None,
    };
    match text("host.id")
        .or_else(|| text("host.ip"))
        .or_else(|| text("host.name"))
    {
        Some(host) => format!("host:{host}"),
        None => format!("service:{}", span.service()),
    }
}

/// How far to move `child` (still unadjusted) to fit `parent` (already
/// adjusted), in ns: a child longer than its parent only gets its start
/// aligned when it starts early; a shorter one that sticks out is centred,
/// assuming network latency splits evenly between request and response.
fn skew_nanos(child: &Span, parent: &Span) -> i64 {
    let (p_start, p_end) = (
        i128::from(parent.start_unix_nano),
        i128::from(parent.end_unix_nano),
    );
    let (c_start, c_end) = (
        i128::from(child.start_unix_nano),
        i128::from(child.end_unix_nano),
    );
    let (p_len, c_len) = (p_end - p_start, c_end - c_start);
    let delta = if c_len > p_len {
        (p_start - c_start).max(0)
    } else if c_start >= p_start && c_end <= p_end {
        0
    } else {
        p_start + (p_len - c_len) / 2 - c_start
    };
    delta.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// `t + delta`, clamped to the u64 range.
fn shifted(t: u64, delta: i64) -> u64 {
    t.saturating_add_signed(delta)
}

/// Moves `span` and its events by `delta` ns.
fn shift(span: &mut Span, delta: i64) {
    span.start_unix_nano = shifted(span.start_unix_nano, delta);
    span.end_unix_nano = shifted(span.end_unix_nano, delta);
    for event in &mut span.events {
        event.time_unix_nano = shifted(event.time_unix_nano, delta);
    }
}

/// A duration as Go prints it (`1.5s`, `250ms`, `-3µs`), as Jaeger's warnings do.
pub fn go_duration(nanos: i64) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let trim = |value: f64, unit: &str| {
        let text = format!("{value:.9}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        format!("{sign}{text}{unit}")
    };
    match n {
        0 => "0s".to_string(),
        1..=999 => format!("{sign}{n}ns"),
        1_000..=999_999 => trim(n as f64 / 1e3, "µs"),
        1_000_000..=999_999_999 => trim(n as f64 / 1e6, "ms"),
        _ => trim(n as f64 / 1e9, "s"),
    }
}

/// Adjusts `spans` (one trace, any order) in place and returns the warnings
/// per span. A child is compared with its parent only when their clocks
/// differ ([`clock_key`]); the delta then applies to the child and to every
/// descendant on the child's clock. Deltas larger than `max_adjustment_nanos`
/// are reported but not applied (0 reports every skew and moves nothing).
/// Spans in parent cycles, duplicate span ids and orphans' parents are left
/// as they are.
pub fn adjust_clock_skew(spans: &mut [Span], max_adjustment_nanos: u64) -> SpanWarnings {
    let mut warnings: SpanWarnings = vec![Vec::new(); spans.len()];
    let mut index: HashMap<SpanId, usize> = HashMap::with_capacity(spans.len());
    let mut duplicate = vec![false; spans.len()];
    for (i, span) in spans.iter().enumerate() {
        match index.entry(span.span_id) {
            std::collections::hash_map::Entry::Occupied(_) => duplicate[i] = true,
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(i);
            }
        }
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
    let mut roots = Vec::new();
    for (i, span) in spans.iter().enumerate() {
        if duplicate[i] {
            continue;
        }
        match span.parent_span_id.and_then(|p| index.get(&p).copied()) {
            Some(p) if p != i => children[p].push(i),
            _ => roots.push(i),
        }
    }
    let keys: Vec<String> = spans.iter().map(clock_key).collect();
    // (span, its parent, the delta inherited from the parent's clock).
    let mut stack: Vec<(usize, Option<usize>, i64)> =
        roots.iter().rev().map(|&r| (r, None, 0)).collect();
    while let Some((i, parent, inherited)) = stack.pop() {
        let delta = match parent {
            Some(p) if keys[p] != keys[i] => skew_nanos(&spans[i], &spans[p]),
            _ => inherited,
        };
        if delta != 0 {
            if delta.unsigned_abs() > max_adjustment_nanos {
                warnings[i].push(if max_adjustment_nanos == 0 {
                    format!(
                        "clock skew adjustment disabled; not applying calculated delta of {}",
                        go_duration(delta)
                    )
                } else {
                    format!(
                        "max clock skew adjustment delta of {} exceeded; not applying calculated delta of {}",
                        go_duration(i64::try_from(max_adjustment_nanos).unwrap_or(i64::MAX)),
                        go_duration(delta)
                    )
                });
            } else {
                shift(&mut spans[i], delta);
                warnings[i].push(format!(
                    "This span's timestamps were adjusted by {}",
                    go_duration(delta)
                ));
            }
        }
        stack.extend(children[i].iter().rev().map(|&c| (c, Some(i), delta)));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::test_support::span;
    use model::{KeyValue, Resource, SpanEvent};
    use std::sync::Arc;

    const MS: u64 = 1_000_000;

    /// `span` on its own service, with `host.name` = `host`.
    fn on_host(id: u8, parent: u8, service: &str, host: &str, start_ms: u64, end_ms: u64) -> Span {
        let mut s = span(id, parent, service, "op", start_ms * MS, end_ms * MS);
        s.resource = Arc::new(Resource {
            service_name: service.into(),
            attributes: vec![
                KeyValue::str("service.name", service),
                KeyValue::str("host.name", host),
            ],
            dropped_attributes_count: 0,
        });
        s
    }

    fn times_ms(s: &Span) -> (u64, u64) {
        (s.start_unix_nano / MS, s.end_unix_nano / MS)
    }

    #[test]
    fn a_child_on_a_fast_clock_is_centred_in_its_parent_with_its_subtree() {
        // frontend (h1) 100–200 ms calls backend (h2) whose clock runs 500 ms
        // ahead: backend reports 550–610, its own child 560–600, and a call
        // back to frontend's host, which is on the parent's clock again.
        let mut spans = vec![
            on_host(1, 0, "frontend", "h1", 100, 200),
            on_host(2, 1, "backend", "h2", 550, 610),
            on_host(3, 2, "backend", "h2", 560, 600),
            on_host(4, 3, "cache", "h1", 75, 85),
        ];
        let mut event = SpanEvent {
            time_unix_nano: 570 * MS,
            name: "retry".into(),
            attributes: Vec::new(),
            dropped_attributes_count: 0,
        };
        spans[2].events.push(event.clone());
        let warnings = adjust_clock_skew(&mut spans, DEFAULT_MAX_ADJUSTMENT_NANOS);
        // Parent 100 ms long, child 60 ms: centred → starts at 120 (delta −430 ms).
        assert_eq!(times_ms(&spans[1]), (120, 180));
        assert_eq!(times_ms(&spans[2]), (130, 170), "same host: moved along");
        event.time_unix_nano = 140 * MS;
        assert_eq!(spans[2].events, vec![event]);
        // cache (h1) 75–85 does not fit backend's adjusted child 130–170: centred.
        assert_eq!(times_ms(&spans[3]), (145, 155));
        assert!(warnings[0].is_empty());
        assert_eq!(
            warnings[1],
            vec!["This span's timestamps were adjusted by -430ms".to_string()]
        );
        assert_eq!(warnings[2], warnings[1]);
        assert_eq!(
            warnings[3],
            vec!["This span's timestamps were adjusted by 70ms".to_string()]
        );
    }

    #[test]
    fn a_child_longer_than_its_parent_only_gets_its_start_aligned() {
        let mut spans = vec![
            on_host(1, 0, "frontend", "h1", 100, 120),
            on_host(2, 1, "queue", "h2", 90, 190),
            on_host(3, 1, "worker", "h3", 105, 300),
        ];
        let warnings = adjust_clock_skew(&mut spans, DEFAULT_MAX_ADJUSTMENT_NANOS);
        assert_eq!(times_ms(&spans[1]), (100, 200));
        assert_eq!(
            times_ms(&spans[2]),
            (105, 300),
            "starts inside: async, left alone"
        );
        assert_eq!(warnings[1].len(), 1);
        assert!(warnings[2].is_empty());
    }

    #[test]
    fn children_that_fit_or_share_the_clock_are_not_moved() {
        let mut spans = vec![
            on_host(1, 0, "frontend", "h1", 100, 200),
            on_host(2, 1, "backend", "h2", 120, 180),
            // Same host as the parent: never adjusted, however it sticks out.
            on_host(3, 1, "frontend", "h1", 150, 260),
            // No host attributes on either side, same service: same clock.
            span(4, 0, "solo", "op", 100 * MS, 110 * MS),
            span(5, 4, "solo", "op", 90 * MS, 95 * MS),
        ];
        let before = spans.clone();
        let warnings = adjust_clock_skew(&mut spans, DEFAULT_MAX_ADJUSTMENT_NANOS);
        assert_eq!(spans, before);
        assert!(warnings.iter().all(Vec::is_empty));
    }

    #[test]
    fn services_without_host_attributes_count_as_separate_clocks() {
        let mut spans = vec![
            span(1, 0, "api", "op", 100 * MS, 200 * MS),
            span(2, 1, "db", "op", 40 * MS, 60 * MS),
        ];
        adjust_clock_skew(&mut spans, DEFAULT_MAX_ADJUSTMENT_NANOS);
        assert_eq!(times_ms(&spans[1]), (140, 160));
    }

    #[test]
    fn deltas_over_the_limit_are_reported_not_applied() {
        let mut spans = vec![
            on_host(1, 0, "frontend", "h1", 10_000, 10_100),
            on_host(2, 1, "backend", "h2", 12_000, 12_050),
        ];
        let warnings = adjust_clock_skew(&mut spans, DEFAULT_MAX_ADJUSTMENT_NANOS);
        assert_eq!(times_ms(&spans[1]), (12_000, 12_050));
        assert_eq!(
            warnings[1],
            vec!["max clock skew adjustment delta of 1s exceeded; not applying calculated delta of -1.975s".to_string()]
        );
        let warnings = adjust_clock_skew(&mut spans, 0);
        assert_eq!(times_ms(&spans[1]), (12_000, 12_050));
        assert!(warnings[1][0].starts_with("clock skew adjustment disabled"));
    }

    #[test]
    fn orphans_cycles_and_duplicates_do_not_panic_or_move() {
        let mut spans = vec![
            on_host(1, 99, "a", "h1", 100, 200),
            on_host(2, 3, "b", "h2", 0, 10),
            on_host(3, 2, "c", "h3", 500, 600),
            on_host(1, 0, "d", "h4", 0, 1),
        ];
        let before = spans.clone();
        let warnings = adjust_clock_skew(&mut spans, DEFAULT_MAX_ADJUSTMENT_NANOS);
        assert_eq!(spans, before);
        assert!(warnings.iter().all(Vec::is_empty));
    }

    #[test]
    fn go_durations_print_like_go() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(999), "999ns");
        assert_eq!(go_duration(1_500), "1.5µs");
        assert_eq!(go_duration(-430 * MS as i64), "-430ms");
        assert_eq!(go_duration(2_250_000_000), "2.25s");
    }
}
