//! One `--max-disk` for every store in a data directory.
//!
//! Spans and metrics live side by side under one `--data-dir`, and a user
//! who says `--max-disk 50GB` means the directory, not 50 GB each. Every
//! store joins the same [`DiskQuota`] and, on each retention pass, reports
//! its bytes and the age of its oldest deletable block. While the sum is over
//! the limit, the store holding the *oldest* block (by its newest data, the
//! same order age retention uses) deletes it; the others wait for their next
//! pass. So the oldest data goes first whichever signal it belongs to, and
//! each store only ever deletes its own blocks.
//!
//! A store alone (tests, examples) gets a quota of its own:
//! [`DiskQuota::new`] with the limit, or [`DiskQuota::unlimited`].

use std::sync::{Arc, Mutex, PoisonError};

/// A disk limit shared by the stores of one data directory.
#[derive(Debug, Default)]
pub struct DiskQuota {
    limit_bytes: u64,
    members: Mutex<Vec<Usage>>,
}

#[derive(Debug, Clone, Copy)]
struct Usage {
    name: &'static str,
    bytes: u64,
    /// Newest data (Unix ms) of the member's oldest deletable block.
    oldest_ms: Option<i64>,
}

impl DiskQuota {
    /// A quota of `limit_bytes` (0 = no limit).
    pub fn new(limit_bytes: u64) -> Arc<Self> {
        Arc::new(Self {
            limit_bytes,
            members: Mutex::new(Vec::new()),
        })
    }

    /// No limit: stores keep everything retention by age keeps.
    pub fn unlimited() -> Arc<Self> {
        Self::new(0)
    }

    /// The limit in bytes (0 = none).
    pub fn limit_bytes(&self) -> u64 {
        self.limit_bytes
    }

    /// Bytes the members last reported, together.
    pub fn used_bytes(&self) -> u64 {
        self.lock().iter().map(|u| u.bytes).sum()
    }

    /// Bytes each member last reported, by name.
    pub fn usage(&self) -> Vec<(&'static str, u64)> {
        self.lock().iter().map(|u| (u.name, u.bytes)).collect()
    }

    /// Adds a store (`name` as in `/metrics`, e.g. "spans", "metrics").
    pub fn join(self: &Arc<Self>, name: &'static str) -> QuotaMember {
        let mut members = self.lock();
        members.push(Usage {
            name,
            bytes: 0,
            oldest_ms: None,
        });
        QuotaMember {
            quota: Arc::clone(self),
            index: members.len() - 1,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Usage>> {
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One store's place in a [`DiskQuota`].
#[derive(Debug)]
pub struct QuotaMember {
    quota: Arc<DiskQuota>,
    index: usize,
}

impl QuotaMember {
    /// Whether any limit applies.
    pub fn limited(&self) -> bool {
        self.quota.limit_bytes > 0
    }

    /// Publishes this store's bytes on disk and the newest data time (Unix
    /// ms) of its oldest block that retention could delete (`None`: none).
    pub fn report(&self, bytes: u64, oldest_deletable_ms: Option<i64>) {
        if let Some(me) = self.quota.lock().get_mut(self.index) {
            me.bytes = bytes;
            me.oldest_ms = oldest_deletable_ms;
        }
    }

    /// After a [`report`](Self::report): whether this store should delete its
    /// oldest block now — the members together are over the limit and no
    /// other member holds an older deletable block (ties go to the store
    /// asking, so two stores never wait on each other).
    pub fn should_evict(&self) -> bool {
        let limit = self.quota.limit_bytes;
        if limit == 0 {
            return false;
        }
        let members = self.quota.lock();
        let Some(me) = members.get(self.index) else {
            return false;
        };
        let Some(mine) = me.oldest_ms else {
            return false;
        };
        let total: u64 = members.iter().map(|u| u.bytes).sum();
        total > limit
            && members
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != self.index)
                .all(|(_, other)| other.oldest_ms.is_none_or(|theirs| mine <= theirs))
    }

    /// The shared quota.
    pub fn quota(&self) -> &Arc<DiskQuota> {
        &self.quota
    }
}

/// Bytes of the files directly in `dir` (0 when it cannot be read).
pub fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(std::fs::Metadata::is_file)
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_block_goes_first_whichever_store_holds_it() {
        let quota = DiskQuota::new(100);
        let spans = quota.join("spans");
        let metrics = quota.join("metrics");
        spans.report(60, Some(2_000));
        metrics.report(60, Some(1_000));
        assert!(!spans.should_evict(), "metrics holds the older block");
        assert!(metrics.should_evict());
        metrics.report(30, Some(3_000));
        assert!(!metrics.should_evict(), "90 bytes are under the limit");
        assert!(!spans.should_evict());
        spans.report(80, Some(2_000));
        assert!(spans.should_evict(), "now the spans' block is the oldest");
        assert_eq!(quota.used_bytes(), 110);
        assert_eq!(quota.usage(), vec![("spans", 80), ("metrics", 30)]);
    }

    #[test]
    fn a_store_with_nothing_to_delete_never_blocks_the_other() {
        let quota = DiskQuota::new(10);
        let spans = quota.join("spans");
        let metrics = quota.join("metrics");
        spans.report(50, None);
        metrics.report(50, Some(5));
        assert!(!spans.should_evict());
        assert!(metrics.should_evict());
    }

    #[test]
    fn no_limit_never_evicts() {
        let quota = DiskQuota::unlimited();
        let alone = quota.join("spans");
        alone.report(u64::MAX / 2, Some(0));
        assert!(!alone.limited());
        assert!(!alone.should_evict());
    }
}
