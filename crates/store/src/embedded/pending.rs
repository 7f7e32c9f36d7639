//! The queue between `write` callers and the WAL writer thread: encoded
//! batches waiting for the next group commit, and the byte accounting that
//! decides backpressure.

use model::Span;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use tokio::sync::oneshot;

use crate::StoreError;

/// One accepted batch waiting to be made durable.
pub struct Pending {
    /// The encoded batch (WAL payload).
    pub payload: Vec<u8>,
    /// The spans, inserted into the head once durable.
    pub spans: Vec<Span>,
    /// Bytes this batch counts against the memory budget while queued.
    pub queued_bytes: u64,
    /// Resolved once durable.
    pub ack: oneshot::Sender<Result<(), StoreError>>,
}

/// Batches since the last group commit.
#[derive(Default)]
pub struct Queue {
    /// Waiting batches.
    pub items: Vec<Pending>,
    /// No more batches are accepted; the writer drains and exits.
    pub closed: bool,
    /// Callers of `EmbeddedStore::flush` waiting for the head to be in a block.
    pub flush_requests: Vec<FlushWaiter>,
}

/// Told when a requested flush finished.
pub type FlushWaiter = std::sync::mpsc::Sender<Result<(), StoreError>>;

/// The queue and its wake-up signal.
#[derive(Default)]
pub struct PendingQueue {
    /// Waiting batches.
    pub queue: Mutex<Queue>,
    /// Signalled on every push and on close.
    pub ready: Condvar,
}

impl PendingQueue {
    /// Locks the queue; a poisoned lock is still usable (the data is plain).
    pub fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `add` on the queue unless it is closed, then wakes the writer.
    pub fn add(&self, add: impl FnOnce(&mut Queue)) -> Result<(), StoreError> {
        {
            let mut queue = self.lock();
            if queue.closed {
                return Err(StoreError::Closed);
            }
            add(&mut queue);
        }
        self.ready.notify_all();
        Ok(())
    }
}
