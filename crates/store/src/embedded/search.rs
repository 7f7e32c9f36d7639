//! Query pieces that combine results across layers (head, frozen head,
//! blocks): the newest-first trace candidate set of a search, and turning
//! parent/child span rows into service dependency links.

use model::{SpanId, TraceId};
use rustc_hash::FxHashMap;
use std::sync::Arc;

use crate::DependencyLink;

/// Traces found by a search, each with the start of its newest matching span.
#[derive(Debug, Default)]
pub struct Candidates {
    best: FxHashMap<TraceId, u64>,
}

impl Candidates {
    /// Records a match; `true` when the trace was not a candidate yet.
    pub fn offer(&mut self, trace_id: TraceId, start_unix_nano: u64) -> bool {
        match self.best.get_mut(&trace_id) {
            Some(best) => {
                *best = (*best).max(start_unix_nano);
                false
            }
            None => {
                self.best.insert(trace_id, start_unix_nano);
                true
            }
        }
    }

    /// The start of the `limit`-th newest candidate, when there are that many:
    /// a layer whose spans all started before it cannot change the result.
    pub fn cutoff(&self, limit: usize) -> Option<u64> {
        if self.best.len() < limit || limit == 0 {
            return None;
        }
        let mut starts: Vec<u64> = self.best.values().copied().collect();
        starts.sort_unstable_by(|a, b| b.cmp(a));
        starts.get(limit - 1).copied()
    }

    /// Drops all but the `limit` newest candidates.
    pub fn keep_newest(&mut self, limit: usize) {
        if self.best.len() > limit {
            let kept = std::mem::take(self).newest_with_starts(limit);
            self.best.extend(kept);
        }
    }

    /// The `limit` newest trace ids, newest first.
    pub fn newest(self, limit: usize) -> Vec<TraceId> {
        self.newest_with_starts(limit)
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    /// The `limit` newest traces with their newest matching start, newest first.
    pub fn newest_with_starts(self, limit: usize) -> Vec<(TraceId, u64)> {
        let mut all: Vec<(TraceId, u64)> = self.best.into_iter().collect();
        all.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(limit);
        all
    }
}

/// What dependency computation needs of one span.
#[derive(Debug, Clone)]
pub struct DependencyRow {
    /// Trace.
    pub trace_id: TraceId,
    /// The span.
    pub span_id: SpanId,
    /// Its parent.
    pub parent_span_id: Option<SpanId>,
    /// Its service (shared: one allocation per service, not per span).
    pub service: Arc<str>,
}

/// Counts parent → child calls between different services.
pub fn dependency_links(rows: &[DependencyRow]) -> Vec<DependencyLink> {
    let by_span: FxHashMap<(TraceId, SpanId), &str> = rows
        .iter()
        .map(|r| ((r.trace_id, r.span_id), &*r.service))
        .collect();
    let mut counts: FxHashMap<(&str, &str), u64> = FxHashMap::default();
    for row in rows {
        let Some(parent) = row.parent_span_id else {
            continue;
        };
        if let Some(parent_service) = by_span.get(&(row.trace_id, parent)) {
            if **parent_service != *row.service {
                *counts.entry((parent_service, &*row.service)).or_default() += 1;
            }
        }
    }
    let mut links: Vec<DependencyLink> = counts
        .into_iter()
        .map(|((parent, child), call_count)| DependencyLink {
            parent: parent.to_string(),
            child: child.to_string(),
            call_count,
        })
        .collect();
    links.sort();
    links
}
