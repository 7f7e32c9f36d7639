//! Where spans live: the [`SpanStore`] trait every backend implements (the
//! embedded engine now, ClickHouse later) and the query types the Jaeger API
//! and the UI ask it with.
//!
//! Writes are asynchronous and durable: [`SpanStore::write`] either refuses at
//! once ([`StoreError::Overloaded`], so receivers can answer 429 /
//! RESOURCE_EXHAUSTED) or returns a receiver that resolves once the batch is
//! durable on disk. Reads are synchronous (servers call them from
//! `spawn_blocking`).
//!
//! The default backend is [`EmbeddedStore`] (module [`embedded`]): a
//! write-ahead log, an indexed in-memory head and Parquet blocks in one data
//! directory — `EmbeddedStore::open(EmbeddedConfig::new(dir))`.

pub mod disk_quota;
pub mod embedded;
pub mod error;
pub mod profiles;
pub mod query;
pub mod series;
pub mod tsdb;

pub use disk_quota::{DiskQuota, QuotaMember};
pub use embedded::{EmbeddedConfig, EmbeddedStore};
pub use error::StoreError;
pub use profiles::ProfileStore;
pub use query::{DependencyLink, Operation, TraceQuery};
pub use series::SeriesStore;

use model::{Span, SpanKind, TraceId};
use tokio::sync::oneshot;

/// Resolves when a write is durable (or failed).
pub type WriteAck = oneshot::Receiver<Result<(), StoreError>>;

/// A trace store.
pub trait SpanStore: Send + Sync + 'static {
    /// Queues `spans` for a durable write. `Err(Overloaded)` when the memory
    /// budget is exhausted (nothing was taken); otherwise the receiver
    /// resolves `Ok(())` once the spans are durable and queryable.
    fn write(&self, spans: Vec<Span>) -> Result<WriteAck, StoreError>;

    /// Service names seen, sorted.
    fn services(&self) -> Result<Vec<String>, StoreError>;

    /// Operations of a service (optionally of one span kind), sorted by name.
    fn operations(
        &self,
        service: &str,
        kind: Option<SpanKind>,
    ) -> Result<Vec<Operation>, StoreError>;

    /// Traces matching a search, newest first, at most `query.limit`; each
    /// trace with all its spans.
    fn find_traces(&self, query: &TraceQuery) -> Result<Vec<Vec<Span>>, StoreError>;

    /// All spans of one trace (`None` when unknown).
    fn trace(&self, id: TraceId) -> Result<Option<Vec<Span>>, StoreError>;

    /// Service-to-service call counts from parent/child spans of different
    /// services that started in `[end - lookback, end]` (Unix ns).
    fn dependencies(
        &self,
        end_unix_nano: u64,
        lookback_nanos: u64,
    ) -> Result<Vec<DependencyLink>, StoreError>;
}
