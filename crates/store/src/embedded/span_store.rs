//! [`SpanStore`] for [`EmbeddedStore`]: writes go to the WAL writer's queue
//! (or are refused over budget); reads combine the head, the head being
//! flushed and the blocks under one snapshot of the layers.

use model::{Span, SpanKind, TraceId};
use std::sync::atomic::Ordering;
use tokio::sync::oneshot;

use super::filter::SpanFilter;
use super::pending::Pending;
use super::search::{dependency_links, Candidates};
use super::{codec, head, EmbeddedStore};
use crate::{DependencyLink, Operation, SpanStore, StoreError, TraceQuery, WriteAck};

impl SpanStore for EmbeddedStore {
    fn write(&self, spans: Vec<Span>) -> Result<WriteAck, StoreError> {
        let (tx, rx) = oneshot::channel();
        if spans.is_empty() {
            let _ = tx.send(Ok(()));
            return Ok(rx);
        }
        let budget = self.shared.config.memory_budget_bytes;
        let estimate: u64 = spans.iter().map(head::span_bytes).sum();
        let used = self.used_bytes();
        // An idle store takes any batch, so one oversized batch cannot wedge it.
        if used > 0 && used + estimate > budget {
            return Err(StoreError::Overloaded {
                used_bytes: used,
                budget_bytes: budget,
                retry_after_ms: 200,
            });
        }
        let payload = codec::encode_spans(&spans)?;
        let queued_bytes = estimate + payload.len() as u64;
        self.shared.pending.add(|queue| {
            self.shared
                .queued_bytes
                .fetch_add(queued_bytes, Ordering::Relaxed);
            queue.items.push(Pending {
                payload,
                spans,
                queued_bytes,
                ack: tx,
            });
        })?;
        Ok(rx)
    }

    fn services(&self) -> Result<Vec<String>, StoreError> {
        let layers = self.shared.read_layers();
        let mut names: Vec<String> = layers.head.service_names().map(str::to_string).collect();
        if let Some(frozen) = &layers.frozen {
            names.extend(frozen.service_names().map(str::to_string));
        }
        for block in &layers.blocks {
            names.extend(block.meta().services.iter().cloned());
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn operations(
        &self,
        service: &str,
        kind: Option<SpanKind>,
    ) -> Result<Vec<Operation>, StoreError> {
        let layers = self.shared.read_layers();
        let mut ops = Vec::new();
        layers.head.operations(service, kind, &mut ops);
        if let Some(frozen) = &layers.frozen {
            frozen.operations(service, kind, &mut ops);
        }
        for block in &layers.blocks {
            block.operations(service, kind, &mut ops);
        }
        ops.sort();
        ops.dedup();
        Ok(ops)
    }

    fn find_traces(&self, query: &TraceQuery) -> Result<Vec<Vec<Span>>, StoreError> {
        let filter = SpanFilter::new(query);
        let mut candidates = Candidates::default();
        let mut blocks = {
            let layers = self.shared.read_layers();
            layers.head.search(&filter, &mut candidates);
            if let Some(frozen) = &layers.frozen {
                frozen.search(&filter, &mut candidates);
            }
            layers.blocks.clone()
        };
        blocks.sort_by_key(|b| std::cmp::Reverse(b.meta().max_start));
        // Newest blocks first, a few in parallel; stop once `limit` traces
        // newer than every remaining block are found.
        let parallel = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut rest = blocks.as_slice();
        while !rest.is_empty() {
            if let Some(cutoff) = candidates.cutoff(filter.limit) {
                if rest.first().is_some_and(|b| b.meta().max_start < cutoff) {
                    break;
                }
            }
            let take = parallel.min(rest.len());
            let (wave, later) = rest.split_at(take);
            rest = later;
            if wave.len() == 1 {
                wave[0].search(&filter, &mut candidates)?;
                continue;
            }
            let found: Vec<Result<Candidates, StoreError>> = std::thread::scope(|scope| {
                let handles: Vec<_> = wave
                    .iter()
                    .map(|block| {
                        let filter = &filter;
                        scope.spawn(move || {
                            let mut local = Candidates::default();
                            block.search(filter, &mut local).map(|()| local)
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(StoreError::Corrupt {
                                what: "block search".into(),
                                detail: "a search thread panicked".into(),
                            })
                        })
                    })
                    .collect()
            });
            for local in found {
                for (trace_id, start) in local?.newest_with_starts(filter.limit) {
                    candidates.offer(trace_id, start);
                }
            }
        }
        let ids = candidates.newest(filter.limit);
        self.collect_traces(&ids)
    }

    fn trace(&self, id: TraceId) -> Result<Option<Vec<Span>>, StoreError> {
        let mut traces = self.collect_traces(&[id])?;
        Ok(traces.pop().filter(|t| !t.is_empty()))
    }

    fn dependencies(
        &self,
        end_unix_nano: u64,
        lookback_nanos: u64,
    ) -> Result<Vec<DependencyLink>, StoreError> {
        let from = end_unix_nano.saturating_sub(lookback_nanos);
        let mut rows = Vec::new();
        let blocks = {
            let layers = self.shared.read_layers();
            layers.head.dependency_rows(from, end_unix_nano, &mut rows);
            if let Some(frozen) = &layers.frozen {
                frozen.dependency_rows(from, end_unix_nano, &mut rows);
            }
            layers.blocks.clone()
        };
        for block in &blocks {
            block.dependency_rows(from, end_unix_nano, &mut rows)?;
        }
        Ok(dependency_links(&rows))
    }
}
