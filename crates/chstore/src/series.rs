//! [`ClickHouseSeriesStore`]: the [`SeriesStore`] over the tables of
//! [`crate::series_tables`]. (Stub.)

use crate::client::Client;
use model::metrics::{Labels, MetricMetadata};
use std::sync::Arc;
use store::series::{
    Appended, Matcher, Select, SeriesBatch, SeriesData, SeriesExemplars, SeriesQuery, SeriesStats,
    SeriesStore,
};
use store::StoreError;

/// Metric series in ClickHouse.
pub struct ClickHouseSeriesStore {
    _client: Arc<Client>,
}

impl ClickHouseSeriesStore {
    /// A store over `client` (whose schema is migrated) holding at most
    /// `budget_bytes` of samples not yet inserted.
    pub fn new(client: Arc<Client>, _budget_bytes: u64) -> Self {
        Self { _client: client }
    }
}

fn todo<T>() -> Result<T, StoreError> {
    Err(StoreError::Unavailable(
        "metrics in ClickHouse are not written yet".into(),
    ))
}

impl SeriesStore for ClickHouseSeriesStore {
    fn append(&self, _batch: SeriesBatch) -> Result<Appended, StoreError> {
        todo()
    }
    fn select(&self, _select: &Select) -> Result<Vec<SeriesData>, StoreError> {
        todo()
    }
    fn series(&self, _query: &SeriesQuery) -> Result<Vec<Labels>, StoreError> {
        todo()
    }
    fn label_names(&self, _query: &SeriesQuery) -> Result<Vec<String>, StoreError> {
        todo()
    }
    fn label_values(&self, _name: &str, _query: &SeriesQuery) -> Result<Vec<String>, StoreError> {
        todo()
    }
    fn metadata(&self) -> Result<Vec<MetricMetadata>, StoreError> {
        todo()
    }
    fn exemplars(
        &self,
        _matcher_sets: &[Vec<Matcher>],
        _start_ms: i64,
        _end_ms: i64,
    ) -> Result<Vec<SeriesExemplars>, StoreError> {
        todo()
    }
    fn stats(&self) -> SeriesStats {
        SeriesStats::default()
    }
}
