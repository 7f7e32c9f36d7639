//! The flusher thread: writes each frozen head as a Parquet block, publishes
//! it to queries in the same step that drops the frozen head, then deletes
//! the WAL segments the block covers. Compaction and retention run on their
//! own thread (`maintenance::run_loop`) so a long merge never delays a flush.

use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use super::block::Block;
use super::writer::FlushJob;
use super::{wal, Shared};
use crate::StoreError;

/// Runs until the writer hangs up.
pub fn run(shared: &Shared, jobs: &mpsc::Receiver<FlushJob>) {
    loop {
        match jobs.recv_timeout(Duration::from_millis(500)) {
            Ok(job) => {
                let result = flush(shared, &job);
                let FlushJob { head, waiters, .. } = job;
                // The last reference to a flushed head: free it before trimming.
                let flushed = head.is_some() && result.is_ok();
                drop(head);
                for w in waiters {
                    let _ = w.send(match &result {
                        Ok(()) => Ok(()),
                        Err(e) => Err(StoreError::Io {
                            context: "flushing the head to a block".into(),
                            source: std::io::Error::other(e.to_string()),
                        }),
                    });
                }
                if flushed {
                    release_freed_memory();
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Writes one frozen head, retrying a few times: until it succeeds, its
/// spans stay queryable in memory and its WAL segments stay on disk.
fn flush(shared: &Shared, job: &FlushJob) -> Result<(), StoreError> {
    let Some(head) = &job.head else {
        return Ok(());
    };
    let mut attempt = 0;
    let block = loop {
        match Block::write_refs(&shared.blocks_dir, &head.spans(), job.wal_upto, Vec::new()) {
            Ok(block) => break block,
            Err(e) if attempt >= 5 => {
                // Keep the frozen head so queries still see it; unfreeze by
                // merging it back is not possible without re-indexing, so the
                // head stays frozen and the WAL keeps the data for restart.
                return Err(e);
            }
            Err(_) => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(200 << attempt));
            }
        }
    };
    {
        let mut layers = shared.write_layers();
        layers.blocks.push(Arc::new(block));
        layers.frozen = None;
    }
    shared.head_bytes.fetch_sub(head.bytes(), Ordering::Relaxed);
    wal::remove_segments_upto(&shared.wal_dir, job.wal_upto)
}

/// Returns memory freed by dropping a flushed head to the OS. glibc keeps
/// freed chunks in per-thread arenas, so without this RSS stays near its
/// high-water mark long after the head is gone.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_freed_memory() {
    // SAFETY: malloc_trim only walks the allocator's own free lists; it has
    // no preconditions and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_freed_memory() {}
