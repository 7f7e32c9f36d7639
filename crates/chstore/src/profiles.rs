//! [`ClickHouseProfileStore`]: the [`ProfileStore`] over the tables of
//! [`crate::profile_tables`]. (Stub: every call answers Unavailable.)

use crate::client::Client;
use model::metrics::Labels;
use std::sync::Arc;
use store::profiles::{
    MergedStacks, ObjectFile, ProfileQuery, ProfileStore, ProfileWrite, SpanHit, TickMerge,
    TotalSeries,
};
use store::series::Matcher;
use store::{StoreError, WriteAck};

/// Profiles in ClickHouse.
pub struct ClickHouseProfileStore {
    _client: Arc<Client>,
}

impl ClickHouseProfileStore {
    /// A store over `client` (whose schema is migrated) holding at most
    /// `budget_bytes` of profiles not yet inserted.
    pub fn new(client: Arc<Client>, _budget_bytes: u64) -> Self {
        Self { _client: client }
    }
}

fn todo<T>() -> Result<T, StoreError> {
    Err(StoreError::Unavailable(
        "profiles in ClickHouse are not written yet".into(),
    ))
}

impl ProfileStore for ClickHouseProfileStore {
    fn write(&self, _profiles: Vec<ProfileWrite>) -> Result<WriteAck, StoreError> {
        todo()
    }
    fn profile_types(&self, _start_ns: i64, _end_ns: i64) -> Result<Vec<String>, StoreError> {
        todo()
    }
    fn series(&self, _m: &[Matcher], _s: i64, _e: i64) -> Result<Vec<Labels>, StoreError> {
        todo()
    }
    fn merge(&self, _query: &ProfileQuery) -> Result<MergedStacks, StoreError> {
        todo()
    }
    fn totals(
        &self,
        _query: &ProfileQuery,
        _step_ns: i64,
        _group_by: &[String],
    ) -> Result<Vec<TotalSeries>, StoreError> {
        todo()
    }
    fn span_hits(
        &self,
        _query: &ProfileQuery,
        _frame: Option<&str>,
        _limit: usize,
    ) -> Result<Vec<SpanHit>, StoreError> {
        todo()
    }
    fn merge_ticks(
        &self,
        _query: &ProfileQuery,
        _threads: &[u32],
    ) -> Result<TickMerge, StoreError> {
        todo()
    }
    fn objects(&self, _query: &ProfileQuery) -> Result<Vec<ObjectFile>, StoreError> {
        todo()
    }
    fn time_bounds(&self) -> Result<Option<(i64, i64)>, StoreError> {
        todo()
    }
}
