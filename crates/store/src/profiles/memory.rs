//! A [`ProfileStore`] in memory only: the embedded engine's [`Head`]
//! without a log. For tests and for servers started without a profile
//! directory; writes are acknowledged at once.

use super::head::Head;
use super::{MergedStacks, ProfileQuery, ProfileStore, ProfileWrite, TotalSeries};
use crate::series::Matcher;
use crate::{StoreError, WriteAck};
use model::metrics::Labels;
use std::sync::{PoisonError, RwLock, RwLockReadGuard};

/// Profiles in memory.
#[derive(Default)]
pub struct MemoryProfileStore {
    head: RwLock<Head>,
}

impl MemoryProfileStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> RwLockReadGuard<'_, Head> {
        self.head.read().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ProfileStore for MemoryProfileStore {
    fn write(&self, profiles: Vec<ProfileWrite>) -> Result<WriteAck, StoreError> {
        let mut head = self.head.write().unwrap_or_else(PoisonError::into_inner);
        let record = head.intern(&profiles);
        head.apply(record)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let _ = tx.send(Ok(()));
        Ok(rx)
    }

    fn profile_types(&self, start_ns: i64, end_ns: i64) -> Result<Vec<String>, StoreError> {
        Ok(self.read().profile_types(start_ns, end_ns))
    }

    fn series(
        &self,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<Labels>, StoreError> {
        Ok(self.read().series(matchers, start_ns, end_ns))
    }

    fn merge(&self, query: &ProfileQuery) -> Result<MergedStacks, StoreError> {
        Ok(self.read().merge(query))
    }

    fn totals(
        &self,
        query: &ProfileQuery,
        step_ns: i64,
        group_by: &[String],
    ) -> Result<Vec<TotalSeries>, StoreError> {
        Ok(self.read().totals(query, step_ns, group_by))
    }

    fn time_bounds(&self) -> Result<Option<(i64, i64)>, StoreError> {
        Ok(self.read().time_bounds())
    }
}
