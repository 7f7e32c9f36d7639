//! The span-store tee: a [`SpanStore`] in front of the real one that feeds
//! [`SpanMetrics`] with every batch the store accepted, and the task that
//! writes the metrics into a [`SeriesStore`] on an interval and once more at
//! shutdown.
//!
//! Spans are resolved to their series before the write (the write consumes
//! them) and counted only after the store accepted it, so a batch refused
//! with 429 and sent again is counted once.

use super::SpanMetrics;
use model::{Span, SpanKind, TraceId};
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use store::series::SeriesStore;
use store::{DependencyLink, Operation, SpanStore, StoreError, TraceQuery, WriteAck};

/// Forwards every call to `inner`; counts accepted writes into `metrics`.
pub struct SpanMetricsTee {
    inner: Arc<dyn SpanStore>,
    metrics: Arc<SpanMetrics>,
}

impl SpanMetricsTee {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn SpanStore>, metrics: Arc<SpanMetrics>) -> Self {
        Self { inner, metrics }
    }
}

impl SpanStore for SpanMetricsTee {
    fn write(&self, spans: Vec<Span>) -> Result<WriteAck, StoreError> {
        let prepared = self.metrics.prepare(&spans);
        let ack = self.inner.write(spans)?;
        self.metrics.commit(prepared, Instant::now());
        Ok(ack)
    }

    fn services(&self) -> Result<Vec<String>, StoreError> {
        self.inner.services()
    }

    fn operations(
        &self,
        service: &str,
        kind: Option<SpanKind>,
    ) -> Result<Vec<Operation>, StoreError> {
        self.inner.operations(service, kind)
    }

    fn find_traces(&self, query: &TraceQuery) -> Result<Vec<Vec<Span>>, StoreError> {
        self.inner.find_traces(query)
    }

    fn trace(&self, id: TraceId) -> Result<Option<Vec<Span>>, StoreError> {
        self.inner.trace(id)
    }

    fn dependencies(
        &self,
        end_unix_nano: u64,
        lookback_nanos: u64,
    ) -> Result<Vec<DependencyLink>, StoreError> {
        self.inner.dependencies(end_unix_nano, lookback_nanos)
    }
}

/// How long a flush waits for the series store's acknowledgement.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Writes the current values into `series` stamped with the current time,
/// unless nothing was counted yet. Returns the samples the store took and
/// its acknowledgement (`None` when there was nothing to write); refusals
/// and errors are counted in [`super::SpanMetricsStats::flush_errors`].
pub fn flush_once(
    metrics: &SpanMetrics,
    series: &dyn SeriesStore,
) -> Result<(u64, Option<WriteAck>), StoreError> {
    let mut batch = metrics.collect(now_ms(), Instant::now());
    if batch.series.is_empty() {
        return Ok((0, None));
    }
    if let Some(instance) = &metrics.options().instance {
        for series in &mut batch.series {
            series.labels.set("instance", instance);
        }
    }
    match series.append(batch) {
        Ok(appended) => {
            crate::counters::samples(
                crate::counters::SampleSource::SpanMetrics,
                appended.accepted_samples,
                appended.rejected.total(),
            );
            if !appended.rejected.is_empty() {
                metrics.flush_errors.fetch_add(1, Ordering::Relaxed);
            }
            Ok((appended.accepted_samples, Some(appended.ack)))
        }
        Err(error) => {
            metrics.flush_errors.fetch_add(1, Ordering::Relaxed);
            Err(error)
        }
    }
}

async fn flush_and_wait(metrics: &Arc<SpanMetrics>, series: &Arc<dyn SeriesStore>) {
    let (metrics_for_task, series_for_task) = (Arc::clone(metrics), Arc::clone(series));
    let flushed =
        tokio::task::spawn_blocking(move || flush_once(&metrics_for_task, &*series_for_task)).await;
    if let Ok(Ok((_, Some(ack)))) = flushed {
        match tokio::time::timeout(ACK_TIMEOUT, ack).await {
            Ok(Ok(Ok(()))) => {}
            _ => {
                metrics.flush_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Flushes every `metrics.options().flush_interval` until `stop` resolves,
/// then once more (waiting for that write to be durable).
pub async fn flush_loop(
    metrics: Arc<SpanMetrics>,
    series: Arc<dyn SeriesStore>,
    stop: impl Future<Output = ()>,
) {
    let period = metrics
        .options()
        .flush_interval
        .max(Duration::from_millis(1));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = ticks.tick() => flush_and_wait(&metrics, &series).await,
        }
    }
    flush_and_wait(&metrics, &series).await;
}
