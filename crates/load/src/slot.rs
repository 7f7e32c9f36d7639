//! The connection of one `-c` slot, and its replacement when the server closes
//! it (`Connection: close`, an HTTP/1.0 response, an idle timeout, an HTTP/2
//! GOAWAY): the next request opens a new one, which counts as a reconnect, not an
//! error. The HTTP/2 stream tasks of a slot (`--streams`) share its connection and
//! the replacement, so a slot keeps one connection open however many streams it
//! has. Sending, and the decision to retry a request, are in `worker.rs`.

use crate::client::Connection;
use crate::recorder::ErrorKind;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::Mutex;

/// What the tasks of one slot share.
struct Current {
    /// A handle on the slot's HTTP/2 connection; `None` for HTTP/1.1, whose slot
    /// has a single task, and before the first connection.
    http2: Option<Connection>,
    /// How many connections the slot has opened (the initial one included).
    generation: u64,
}

/// One task's view of its slot: the connection it sends on and which of the
/// slot's connections that is.
pub struct Slot {
    own: Option<Connection>,
    generation: u64,
    current: Arc<Mutex<Current>>,
}

/// The connection [`Slot::replace`] found for the next request.
pub struct Replacement {
    /// Where to send.
    pub connection: Connection,
    /// Opened earlier by another stream task of the slot, not for this request.
    pub adopted: bool,
    /// Newly opened in place of an earlier connection of the slot.
    pub reconnected: bool,
}

impl Slot {
    /// The slots of the `streams` tasks of one `-c` connection (1 for HTTP/1.1),
    /// starting with `initial`, opened before the clock started (`None` if that failed).
    pub fn group(initial: Option<Connection>, streams: usize) -> Vec<Slot> {
        let generation = u64::from(initial.is_some());
        let current = Arc::new(Mutex::new(Current {
            http2: initial.as_ref().and_then(Connection::share),
            generation,
        }));
        let mut slots: Vec<Slot> = (1..streams.max(1))
            .map(|_| Slot {
                own: initial.as_ref().and_then(Connection::share),
                generation,
                current: current.clone(),
            })
            .collect();
        slots.insert(
            0,
            Slot {
                own: initial,
                generation,
                current,
            },
        );
        slots
    }

    /// This task's connection, when it is open and can take a request now.
    pub async fn take_ready(&mut self) -> Option<Connection> {
        let mut connection = self.own.take()?;
        connection.ready().await.then_some(connection)
    }

    /// Keeps `connection` for the next request.
    pub fn keep(&mut self, connection: Connection) {
        self.own = Some(connection);
    }

    /// A connection in place of this task's, which closed or failed (or never
    /// opened): the slot's HTTP/2 connection if another stream task already
    /// replaced it and it is open, else a new one from `open`. The other tasks of
    /// the slot wait while it opens, then use it too.
    pub async fn replace<F, Opening>(&mut self, open: F) -> Result<Replacement, ErrorKind>
    where
        F: FnOnce() -> Opening,
        Opening: Future<Output = Result<Connection, ErrorKind>>,
    {
        self.own = None;
        let mut current = self.current.lock().await;
        if current.generation != self.generation {
            if let Some(mut newer) = current.http2.as_ref().and_then(Connection::share) {
                if newer.ready().await {
                    self.generation = current.generation;
                    return Ok(Replacement {
                        connection: newer,
                        adopted: true,
                        reconnected: false,
                    });
                }
            }
        }
        let connection = open().await?;
        let reconnected = current.generation > 0;
        current.generation += 1;
        current.http2 = connection.share();
        self.generation = current.generation;
        Ok(Replacement {
            connection,
            adopted: false,
            reconnected,
        })
    }
}
