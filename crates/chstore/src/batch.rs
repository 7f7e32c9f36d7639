//! The batching writer every ClickHouse store shares: writes wait in memory
//! (bounded by the store's budget; past it they are refused with
//! `Overloaded`, which senders see as 429 / RESOURCE_EXHAUSTED) until
//! [`BATCH_ROWS`] are queued or the oldest has waited the store's flush
//! interval ([`FLUSH_EVERY`] unless the store says otherwise), then go in
//! as one RowBinary insert per table, about one a second as ClickHouse asks.
//!
//! A write is acknowledged once every insert of its batch succeeded. A
//! failed insert is retried for [`RETRY_FOR`] (the tables are
//! `ReplacingMergeTree` and reads drop duplicates, so a retry after a partial
//! success is harmless), then the batch's writers get
//! `StoreError::Unavailable` (503) and send again later; meanwhile new
//! writes queue until the budget refuses them.

use crate::client::{Client, ClientHandle};
use crate::schema::columns_of;
use crate::ClickHouseError;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use store::{StoreError, WriteAck};
use tokio::sync::{oneshot, Notify};

/// Rows that make a batch go out before [`FLUSH_EVERY`].
pub const BATCH_ROWS: usize = 20_000;
/// Longest a write waits for its batch.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// How long closing waits for the last batch.
const CLOSE_GRACE: Duration = Duration::from_secs(15);
/// How long a batch's insert is retried before its writes are answered
/// with an error (senders see 503 and send again later).
pub const RETRY_FOR: Duration = Duration::from_secs(10);

/// The rows of one write or of a batch of writes, for several tables.
pub trait Rows: Default + Send + 'static {
    /// Rows of the main table (what [`BATCH_ROWS`] counts).
    fn rows(&self) -> usize;
    /// Bytes held (what the budget counts).
    fn bytes(&self) -> u64;
    /// Appends another write's rows.
    fn append(&mut self, other: Self);
    /// `(table, RowBinary rows)` to insert, in order.
    fn into_inserts(self) -> Vec<(&'static str, Vec<u8>)>;
}

/// A batch being filled.
struct Pending<R> {
    rows: R,
    acks: Vec<oneshot::Sender<Result<(), StoreError>>>,
    bytes: u64,
    since: Option<Instant>,
}

impl<R: Default> Default for Pending<R> {
    fn default() -> Self {
        Self {
            rows: R::default(),
            acks: Vec::new(),
            bytes: 0,
            since: None,
        }
    }
}

/// Called after each batch with whether its inserts succeeded.
pub type OnInserted = Box<dyn Fn(bool) + Send + Sync>;

/// What the writer and its flusher share.
struct Shared<R> {
    pending: Mutex<Pending<R>>,
    wake: Notify,
    closed: AtomicBool,
    /// Bytes queued or being inserted.
    queued: AtomicU64,
    budget: u64,
    flush_after: Duration,
    on_inserted: Option<OnInserted>,
}

impl<R> Shared<R> {
    fn pending(&self) -> std::sync::MutexGuard<'_, Pending<R>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A batching writer of rows of type `R`.
pub struct Batcher<R: Rows> {
    shared: Arc<Shared<R>>,
    finished: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
}

impl<R: Rows> Batcher<R> {
    /// A writer over `client` holding at most `budget_bytes` not yet
    /// inserted; `on_inserted` hears how each batch went.
    pub fn new(client: &Client, budget_bytes: u64, on_inserted: Option<OnInserted>) -> Self {
        Self::with_flush_after(client, budget_bytes, FLUSH_EVERY, on_inserted)
    }

    /// [`Self::new`] whose batches go out once their oldest write has
    /// waited `flush_after` (or [`BATCH_ROWS`] are queued).
    pub fn with_flush_after(
        client: &Client,
        budget_bytes: u64,
        flush_after: Duration,
        on_inserted: Option<OnInserted>,
    ) -> Self {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending::default()),
            wake: Notify::new(),
            closed: AtomicBool::new(false),
            queued: AtomicU64::new(0),
            budget: budget_bytes.max(1 << 20),
            flush_after,
            on_inserted,
        });
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let flusher = flush_loop(client.handle(), Arc::clone(&shared));
        client.spawn(async move {
            flusher.await;
            let _ = done_tx.send(());
        });
        Self {
            shared,
            finished: Mutex::new(Some(done_rx)),
        }
    }

    /// Queues one write's rows; the receiver resolves once they are in
    /// ClickHouse. `Err(Overloaded)` when the budget is used up (nothing
    /// was taken).
    pub fn push(&self, rows: R) -> Result<WriteAck, StoreError> {
        if self.shared.closed.load(Ordering::SeqCst) {
            return Err(StoreError::Closed);
        }
        let bytes = rows.bytes();
        let used = self.shared.queued.load(Ordering::SeqCst);
        if used + bytes > self.shared.budget && used > 0 {
            return Err(StoreError::Overloaded {
                used_bytes: used,
                budget_bytes: self.shared.budget,
                retry_after_ms: 1000,
            });
        }
        self.shared.queued.fetch_add(bytes, Ordering::SeqCst);
        let (tx, rx) = oneshot::channel();
        let full = {
            let mut pending = self.shared.pending();
            pending.rows.append(rows);
            pending.acks.push(tx);
            pending.bytes += bytes;
            pending.since.get_or_insert_with(Instant::now);
            pending.rows.rows() >= BATCH_ROWS
        };
        if full {
            self.shared.wake.notify_one();
        }
        Ok(rx)
    }

    /// Bytes queued or being inserted.
    pub fn queued_bytes(&self) -> u64 {
        self.shared.queued.load(Ordering::SeqCst)
    }
}

impl<R: Rows> Drop for Batcher<R> {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
        let finished = self
            .finished
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(finished) = finished {
            let _ = finished.recv_timeout(CLOSE_GRACE);
        }
    }
}

/// Inserts batches until closed; see the module doc.
async fn flush_loop<R: Rows>(client: ClientHandle, shared: Arc<Shared<R>>) {
    let mut failing = false;
    loop {
        let closed = shared.closed.load(Ordering::SeqCst);
        let due = {
            let pending = shared.pending();
            pending.rows.rows() >= BATCH_ROWS
                || closed
                || pending
                    .since
                    .is_some_and(|t| t.elapsed() >= shared.flush_after)
        };
        if due {
            let batch = std::mem::take(&mut *shared.pending());
            if !batch.acks.is_empty() {
                insert_batch(&client, &shared, batch, &mut failing).await;
            }
        }
        if closed && shared.pending().acks.is_empty() {
            return;
        }
        tokio::select! {
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep(shared.flush_after / 4) => {}
        }
    }
}

/// Inserts one batch table by table, retrying failures; acks its writes.
async fn insert_batch<R: Rows>(
    client: &ClientHandle,
    shared: &Shared<R>,
    batch: Pending<R>,
    failing: &mut bool,
) {
    let Pending {
        rows, acks, bytes, ..
    } = batch;
    let mut tables = rows.into_inserts();
    tables.retain(|(_, body)| !body.is_empty());
    // A retry sends the same bytes again, from the first table not yet in.
    let mut backoff = Duration::from_millis(200);
    let give_up_at = Instant::now() + RETRY_FOR;
    let result = loop {
        let mut failure: Option<ClickHouseError> = None;
        while let Some((table, body)) = tables.first() {
            match client.insert(table, &columns_of(table), body.clone()).await {
                Ok(()) => {
                    tables.remove(0);
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let Some(error) = failure else { break Ok(()) };
        if !*failing {
            eprintln!(
                "whyslow: ClickHouse insert failed; retrying each batch for {} s, then its senders get 503: {error}",
                RETRY_FOR.as_secs()
            );
            *failing = true;
        }
        if Instant::now() >= give_up_at {
            break Err(error);
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    };
    if result.is_ok() && *failing {
        eprintln!("whyslow: ClickHouse inserts succeed again");
        *failing = false;
    }
    if let Some(on_inserted) = &shared.on_inserted {
        on_inserted(result.is_ok());
    }
    shared.queued.fetch_sub(bytes, Ordering::SeqCst);
    for ack in acks {
        let _ = ack.send(match &result {
            Ok(()) => Ok(()),
            Err(e) => Err(StoreError::Unavailable(e.to_string())),
        });
    }
}
