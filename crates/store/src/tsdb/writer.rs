//! The WAL writer thread of the metrics and profile stores: group commit. It takes every
//! payload queued since the last commit, frames them with the span store's
//! WAL framing, appends, calls `fdatasync` once and only then resolves their
//! acks. Payloads are queued under the head's write lock, so the log's
//! order is the order samples entered the head. It also rotates segments
//! (by size, and when maintenance asks before a checkpoint).

use crate::embedded::wal::{self, WalWriter};
use crate::StoreError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Condvar, Mutex, MutexGuard, PoisonError};
use tokio::sync::oneshot;

/// One append's WAL payload waiting for the next group commit.
pub struct Pending {
    /// Encoded entries ([`super::record`]).
    pub payload: Vec<u8>,
    /// Resolved once durable.
    pub ack: oneshot::Sender<Result<(), StoreError>>,
}

/// Work for the writer.
#[derive(Default)]
pub struct Queue {
    /// Waiting payloads.
    pub items: Vec<Pending>,
    /// Callers waiting for a rotation: they get the closed segment's number.
    pub rotations: Vec<mpsc::Sender<Result<u64, StoreError>>>,
    /// No more payloads are accepted; the writer drains and exits.
    pub closed: bool,
}

/// The queue and its wake-up signal.
#[derive(Default)]
pub struct WalQueue {
    queue: Mutex<Queue>,
    ready: Condvar,
    /// Payload bytes queued and not yet durable.
    pub queued_bytes: AtomicU64,
}

impl WalQueue {
    /// Locks the queue (a poisoned lock is still usable: the data is plain).
    pub fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a payload; its ack resolves after the commit that includes it.
    pub fn push(&self, payload: Vec<u8>, ack: oneshot::Sender<Result<(), StoreError>>) {
        {
            let mut q = self.lock();
            if q.closed {
                let _ = ack.send(Err(StoreError::Closed));
                return;
            }
            self.queued_bytes
                .fetch_add(payload.len() as u64, Ordering::Relaxed);
            q.items.push(Pending { payload, ack });
        }
        self.ready.notify_all();
    }

    /// Closes the current segment after everything queued so far is
    /// committed; returns the closed segment's number.
    pub fn rotate(&self) -> Result<u64, StoreError> {
        let (tx, rx) = mpsc::channel();
        {
            let mut q = self.lock();
            if q.closed {
                return Err(StoreError::Closed);
            }
            q.rotations.push(tx);
        }
        self.ready.notify_all();
        rx.recv().map_err(|_| StoreError::Closed)?
    }

    /// Stops taking payloads; the writer commits what is queued and exits.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }
}

/// Runs until the queue is closed and drained.
pub fn run(queue: &WalQueue, mut wal: WalWriter, segment_bytes: u64, log: &'static str) {
    let mut buf = Vec::new();
    let mut segment_used = 0u64;
    loop {
        let (items, rotations, closed) = {
            let mut q = queue.lock();
            while q.items.is_empty() && q.rotations.is_empty() && !q.closed {
                q = queue.ready.wait(q).unwrap_or_else(PoisonError::into_inner);
            }
            (
                std::mem::take(&mut q.items),
                std::mem::take(&mut q.rotations),
                q.closed,
            )
        };
        if !items.is_empty() {
            segment_used += commit(queue, &mut wal, items, &mut buf, log);
        }
        if !rotations.is_empty() || segment_used >= segment_bytes {
            let closed_seq = wal.rotate();
            segment_used = 0;
            for r in rotations {
                let _ = r.send(match &closed_seq {
                    Ok(seq) => Ok(*seq),
                    Err(e) => Err(StoreError::Io {
                        context: format!("rotating the {log} WAL"),
                        source: std::io::Error::other(e.to_string()),
                    }),
                });
            }
        }
        if closed && queue.lock().items.is_empty() {
            return;
        }
    }
}

/// Appends, syncs once, acks; returns the bytes written.
fn commit(
    queue: &WalQueue,
    wal: &mut WalWriter,
    items: Vec<Pending>,
    buf: &mut Vec<u8>,
    log: &str,
) -> u64 {
    buf.clear();
    let mut queued = 0u64;
    for p in &items {
        wal::frame(&p.payload, buf);
        queued += p.payload.len() as u64;
    }
    let result = wal.append(buf).and_then(|()| wal.sync());
    queue.queued_bytes.fetch_sub(queued, Ordering::Relaxed);
    match result {
        Ok(()) => {
            for p in items {
                let _ = p.ack.send(Ok(()));
            }
        }
        Err(err) => {
            let message = err.to_string();
            for p in items {
                let _ = p.ack.send(Err(StoreError::Io {
                    context: format!("writing the {log} WAL"),
                    source: std::io::Error::other(message.clone()),
                }));
            }
            // A failed append may have left a partial record: later records
            // go to a fresh segment so replay can frame them.
            let _ = wal.rotate();
        }
    }
    buf.len() as u64
}
