//! The embedded profile store: a write-ahead log (the span store's framing,
//! the metrics store's group-commit writer thread) in `DIR/wal/` and the
//! [`Head`] in memory. A write is interned and applied under the head's
//! write lock, its record queued to the log in the same critical section,
//! and acknowledged after the commit's `fdatasync`; opening the store
//! replays every segment, so an acknowledged profile survives `kill -9`.
//!
//! [`EmbeddedProfileStore::in_memory`] is the same store without a log.
//!
//! Not yet here (the later steps): cutting the head into on-disk
//! blocks, compaction and retention. Until then the log is the only copy
//! and memory grows with what was ingested since the directory was created.

use super::head::Head;
use super::record;
use super::{MergedStacks, ProfileQuery, ProfileStore, ProfileWrite, TotalSeries};
use crate::embedded::wal::{self, WalWriter};
use crate::series::Matcher;
use crate::tsdb::writer::{self, WalQueue};
use crate::{StoreError, WriteAck};
use model::metrics::Labels;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;

/// Where and how the profile store keeps its data.
#[derive(Debug, Clone)]
pub struct ProfileStoreConfig {
    /// The store's directory (`DATA_DIR/profiles`).
    pub dir: PathBuf,
    /// Segment size after which the log starts a new file.
    pub wal_segment_bytes: u64,
    /// Log bytes queued and not yet durable above which writes are refused
    /// with [`StoreError::Overloaded`].
    pub max_queued_bytes: u64,
}

impl ProfileStoreConfig {
    /// Defaults for `dir`: 64 MiB segments, 64 MiB queued at most.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            wal_segment_bytes: 64 << 20,
            max_queued_bytes: 64 << 20,
        }
    }
}

/// What opening found in the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileRecovery {
    /// Records replayed.
    pub records: u64,
    /// Records skipped for a bad checksum.
    pub skipped: u64,
    /// Bytes of torn tail cut off.
    pub truncated_bytes: u64,
}

struct Shared {
    head: RwLock<Head>,
    wal: WalQueue,
    /// `None` in memory only ([`EmbeddedProfileStore::in_memory`]).
    config: Option<ProfileStoreConfig>,
}

/// The default [`ProfileStore`].
pub struct EmbeddedProfileStore {
    shared: Arc<Shared>,
    writer: Mutex<Option<JoinHandle<()>>>,
    recovery: ProfileRecovery,
}

fn io_err(context: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

impl EmbeddedProfileStore {
    /// Opens (or creates) the store: replays the log, starts the writer.
    pub fn open(config: ProfileStoreConfig) -> Result<Self, StoreError> {
        let wal_dir = config.dir.join("wal");
        std::fs::create_dir_all(&wal_dir)
            .map_err(io_err(format!("creating {}", wal_dir.display())))?;
        let mut head = Head::default();
        let mut recovery = ProfileRecovery::default();
        let segments = wal::list_segments(&wal_dir)?;
        for &seq in &segments {
            let path = wal::segment_path(&wal_dir, seq);
            let replay = wal::replay_segment(&path)?;
            recovery.skipped += replay.skipped as u64;
            recovery.truncated_bytes += replay.truncated_bytes;
            for payload in replay.records {
                let record = record::decode(&payload).map_err(|e| StoreError::Corrupt {
                    what: path.display().to_string(),
                    detail: format!("undecodable profile record: {e}"),
                })?;
                head.apply(record)?;
                recovery.records += 1;
            }
        }
        let next_seq = segments.last().copied().unwrap_or(0) + 1;
        let wal = WalWriter::create(&wal_dir, next_seq)?;
        let segment_bytes = config.wal_segment_bytes;
        let shared = Arc::new(Shared {
            head: RwLock::new(head),
            wal: WalQueue::default(),
            config: Some(config),
        });
        let writer = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("profiles-wal".into())
                .spawn(move || writer::run(&shared.wal, wal, segment_bytes, "profile"))
                .map_err(io_err("starting the profile WAL writer thread".into()))?
        };
        Ok(Self {
            shared,
            writer: Mutex::new(Some(writer)),
            recovery,
        })
    }

    /// A store in memory only, without a log: writes are acknowledged at
    /// once and gone with the process. For tests and servers without a
    /// profile directory.
    pub fn in_memory() -> Self {
        Self {
            shared: Arc::new(Shared {
                head: RwLock::new(Head::default()),
                wal: WalQueue::default(),
                config: None,
            }),
            writer: Mutex::new(None),
            recovery: ProfileRecovery::default(),
        }
    }

    /// What opening found in the log.
    pub fn recovery(&self) -> &ProfileRecovery {
        &self.recovery
    }

    /// `(series, samples, distinct stacks)` stored.
    pub fn stats(&self) -> (usize, u64, usize) {
        let head = self.read();
        (head.series_count(), head.sample_count(), head.node_count())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Head> {
        self.shared
            .head
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write_head(&self) -> std::sync::RwLockWriteGuard<'_, Head> {
        self.shared
            .head
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Stops the writer after it commits what is queued.
    pub fn close(&self) {
        self.shared.wal.close();
        let handle = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}

impl Drop for EmbeddedProfileStore {
    fn drop(&mut self) {
        self.close();
    }
}

impl ProfileStore for EmbeddedProfileStore {
    fn write(&self, profiles: Vec<ProfileWrite>) -> Result<WriteAck, StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let Some(config) = &self.shared.config else {
            let mut head = self.write_head();
            let record = head.intern(&profiles);
            head.apply(record)?;
            let _ = tx.send(Ok(()));
            return Ok(rx);
        };
        let queued = self.shared.wal.queued_bytes.load(Ordering::Relaxed);
        if queued > config.max_queued_bytes {
            return Err(StoreError::Overloaded {
                used_bytes: queued,
                budget_bytes: config.max_queued_bytes,
                retry_after_ms: 1000,
            });
        }
        let mut head = self.write_head();
        let record = head.intern(&profiles);
        let payload = record::encode(&record);
        head.apply(record)?;
        self.shared.wal.push(payload, tx);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::{StackSample, PROFILE_TYPE_LABEL};

    fn write(value: i64) -> ProfileWrite {
        ProfileWrite {
            labels: Labels::from_pairs([
                ("__name__", "process_cpu"),
                (
                    PROFILE_TYPE_LABEL,
                    "process_cpu:cpu:nanoseconds:cpu:nanoseconds",
                ),
                ("service_name", "app"),
            ]),
            time_ns: 1_000 + value,
            duration_ns: 10,
            samples: vec![StackSample {
                frames: vec!["main".into(), format!("f{}", value % 3)],
                value,
                span_id: None,
                trace_id: Some(value as u128),
            }],
        }
    }

    #[tokio::test]
    async fn acknowledged_profiles_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let query = ProfileQuery {
            profile_type: "process_cpu:cpu:nanoseconds:cpu:nanoseconds".into(),
            start_ns: 0,
            end_ns: i64::MAX,
            ..ProfileQuery::default()
        };
        {
            let store = EmbeddedProfileStore::open(ProfileStoreConfig::new(dir.path())).unwrap();
            for v in 1..=10 {
                store.write(vec![write(v)]).unwrap().await.unwrap().unwrap();
            }
            assert_eq!(store.merge(&query).unwrap().total(), 55);
        }
        let store = EmbeddedProfileStore::open(ProfileStoreConfig::new(dir.path())).unwrap();
        assert_eq!(store.recovery().records, 10);
        let merged = store.merge(&query).unwrap();
        assert_eq!(merged.total(), 55);
        assert_eq!(merged.names.len(), 4);
        let mut q = query.clone();
        q.trace_ids = vec![4];
        assert_eq!(store.merge(&q).unwrap().total(), 4);
        // New writes after a replay continue the ids.
        store
            .write(vec![write(11)])
            .unwrap()
            .await
            .unwrap()
            .unwrap();
        assert_eq!(store.merge(&query).unwrap().total(), 66);
        assert_eq!(store.stats().0, 1);
    }
}
