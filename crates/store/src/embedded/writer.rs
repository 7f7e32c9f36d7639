//! The WAL writer thread: group commit. It takes every batch queued since the
//! last commit, appends them to the current segment, calls `fdatasync` once,
//! inserts the spans into the head and only then resolves their acks. Between
//! commits it freezes the head for the flusher when it is big or old enough,
//! rotating the WAL so the frozen head covers whole segments.

use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, PoisonError};
use std::time::Duration;

use super::head::Head;
use super::pending::{FlushWaiter, Pending};
use super::wal::{self, WalWriter};
use super::Shared;
use crate::StoreError;

/// A frozen head for the flusher to write as a block.
pub struct FlushJob {
    /// The spans to write (`None`: nothing to write, only answer waiters).
    pub head: Option<Arc<Head>>,
    /// Highest WAL segment whose records are all in `head`.
    pub wal_upto: u64,
    /// Callers waiting for this flush.
    pub waiters: Vec<FlushWaiter>,
}

/// Longest sleep between checks for an age-based flush.
const IDLE_WAIT: Duration = Duration::from_millis(250);

/// Runs until the queue is closed and drained.
pub fn run(
    shared: &Shared,
    mut wal: WalWriter,
    flush_tx: mpsc::Sender<FlushJob>,
    mut flushed_upto: u64,
) {
    let mut waiters: Vec<FlushWaiter> = Vec::new();
    let mut frame_buf = Vec::new();
    loop {
        let (batch, closed) = {
            let mut queue = shared.pending.lock();
            if queue.items.is_empty() && !queue.closed && queue.flush_requests.is_empty() {
                let wait = if waiters.is_empty() {
                    IDLE_WAIT
                } else {
                    Duration::from_millis(20)
                };
                queue = shared
                    .pending
                    .ready
                    .wait_timeout(queue, wait)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            waiters.append(&mut queue.flush_requests);
            (std::mem::take(&mut queue.items), queue.closed)
        };
        if !batch.is_empty() {
            commit(shared, &mut wal, batch, &mut frame_buf);
        }
        if closed {
            for w in waiters.drain(..) {
                let _ = w.send(Err(StoreError::Closed));
            }
            let queue = shared.pending.lock();
            if queue.items.is_empty() {
                return;
            }
            continue;
        }
        maybe_freeze(shared, &mut wal, &flush_tx, &mut waiters, &mut flushed_upto);
    }
}

/// Appends, syncs once, publishes to the head, acks.
fn commit(shared: &Shared, wal: &mut WalWriter, batch: Vec<Pending>, buf: &mut Vec<u8>) {
    buf.clear();
    for p in &batch {
        wal::frame(&p.payload, buf);
    }
    let queued: u64 = batch.iter().map(|p| p.queued_bytes).sum();
    let durable = wal.append(buf).and_then(|()| wal.sync());
    match durable {
        Ok(()) => {
            let mut acks = Vec::with_capacity(batch.len());
            let added = {
                let mut layers = shared.write_layers();
                let mut added = 0;
                for p in batch {
                    added += layers.head.insert(p.spans);
                    acks.push(p.ack);
                }
                added
            };
            shared.head_bytes.fetch_add(added, Ordering::Relaxed);
            shared.queued_bytes.fetch_sub(queued, Ordering::Relaxed);
            for ack in acks {
                let _ = ack.send(Ok(()));
            }
        }
        Err(err) => {
            shared.queued_bytes.fetch_sub(queued, Ordering::Relaxed);
            let message = err.to_string();
            for p in batch {
                let _ = p.ack.send(Err(StoreError::Io {
                    context: "writing the WAL".into(),
                    source: std::io::Error::other(message.clone()),
                }));
            }
            // A failed append may have left a partial record: later records
            // go to a fresh segment so replay can frame them.
            let _ = wal.rotate();
        }
    }
}

/// Hands the head to the flusher when it is due and no flush is running.
fn maybe_freeze(
    shared: &Shared,
    wal: &mut WalWriter,
    flush_tx: &mpsc::Sender<FlushJob>,
    waiters: &mut Vec<FlushWaiter>,
    flushed_upto: &mut u64,
) {
    let config = &shared.config;
    let (busy, due, empty) = {
        let layers = shared.read_layers();
        let head = &layers.head;
        let due = head.bytes() >= config.head_flush_bytes
            || head
                .first_insert()
                .is_some_and(|t| t.elapsed() >= config.flush_interval);
        (layers.frozen.is_some(), due, head.is_empty())
    };
    if busy || (!due && waiters.is_empty()) {
        return;
    }
    if empty {
        let _ = flush_tx.send(FlushJob {
            head: None,
            wal_upto: *flushed_upto,
            waiters: std::mem::take(waiters),
        });
        return;
    }
    let wal_upto = match wal.rotate() {
        Ok(closed) => closed,
        Err(_) => return, // retried on the next pass
    };
    let frozen = {
        let mut layers = shared.write_layers();
        let head = Arc::new(std::mem::take(&mut layers.head));
        layers.frozen = Some(Arc::clone(&head));
        head
    };
    *flushed_upto = wal_upto;
    let _ = flush_tx.send(FlushJob {
        head: Some(frozen),
        wal_upto,
        waiters: std::mem::take(waiters),
    });
}
