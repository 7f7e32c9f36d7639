//! The per-connection loop: claim the next arrival from the shared counter,
//! wait for its intended send time (open model) or go at once (closed model),
//! send, and record the latency both from the intended and from the actual send.
//!
//! A connection that is still busy when its next arrival is due sends it late,
//! and the wait counts in the corrected latency: this is what makes the numbers
//! coordinated-omission-correct (as wrk2 does). Tokio's timer fires at the first
//! whole-millisecond tick after a deadline and the event loop's epoll wait rounds
//! up to milliseconds too, so a sleep ends 0–2 ms late. A connection therefore
//! sleeps until 2 ms before the intended time and sends when it wakes: requests go
//! out up to 2 ms early rather than late (measured: otherwise a 2000 rps run
//! against nginx reports a corrected p50 of 650 µs for an 87 µs server). An early
//! request's corrected latency counts from its actual send, so corrected latency
//! is never below uncorrected and never includes the generator's own timer slack.
//!
//! A request written on a reused connection that ends before any byte of the
//! response (the server closed it while it was idle: EOF, reset, broken pipe, or
//! an HTTP/2 GOAWAY) is sent once more on a new connection: the stale keep-alive
//! rule of hyper's `retry_canceled_requests` and Go's transport, applied here to
//! every method, since a load test should not count its own reuse of a connection
//! the server had let go as the server's error. It counts as retried, and its
//! latency still runs from the intended send time, so the reconnect shows there.
//! On a new connection, or once the response has begun, a close is a reset.

use crate::client::{Connection, SendError};
use crate::config::{LoadConfig, Model};
use crate::error::LoadError;
use crate::http1::EncodedRequest;
use crate::recorder::{ErrorKind, Outcome, Recorder};
use crate::slot::Slot;
use crate::tls::TlsClient;
use crate::traceparent::new_traceparent;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::{sleep, sleep_until, timeout, Instant};

/// How early a connection wakes for an arrival: the most a tokio sleep overshoots.
const EARLY_WAKE: Duration = Duration::from_millis(2);
/// Lateness of an idle connection's wake-up beyond which the generator itself was behind.
const LATE_WAKE: Duration = Duration::from_millis(1);
/// Pause after a failed connect in the closed model, so a down server is not hammered.
const CONNECT_BACKOFF: Duration = Duration::from_millis(10);

/// State every connection of every thread shares.
pub struct Shared {
    /// The test.
    pub config: LoadConfig,
    /// Index of the next arrival to claim.
    pub next_arrival: AtomicU64,
    /// Requests attempted (sent or failed to connect).
    pub attempted: AtomicU64,
    /// Set to end the run early (Ctrl-C).
    pub stop: AtomicBool,
    /// TLS client for https:// targets.
    pub tls: Option<TlsClient>,
    /// Each request template serialized once for HTTP/1.1.
    pub encoded: Vec<EncodedRequest>,
    cumulative_weights: Vec<u32>,
}

enum Claim {
    Stop,
    Send { intended: Option<Instant> },
}

impl Shared {
    /// Wraps the test's configuration (and builds its TLS client, which can fail).
    pub fn new(config: LoadConfig) -> Result<Self, LoadError> {
        let tls = if config.target.tls {
            Some(TlsClient::new(
                &config.tls,
                &config.target.host,
                config.http2,
            )?)
        } else {
            None
        };
        let mut total = 0u32;
        let cumulative_weights = config
            .requests
            .iter()
            .map(|r| {
                total = total.saturating_add(r.weight);
                total
            })
            .collect();
        let encoded = config
            .requests
            .iter()
            .map(|template| EncodedRequest::new(template, &config.target))
            .collect();
        Ok(Shared {
            encoded,
            config,
            next_arrival: AtomicU64::new(0),
            attempted: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            tls,
            cumulative_weights,
        })
    }

    /// The instant after which no new request is sent.
    pub fn hard_end(&self, start: Instant) -> Option<Instant> {
        match &self.config.model {
            // Backlogged arrivals may still go out until the schedule's end plus one timeout.
            Model::Open(schedule) => Some(start + schedule.duration() + self.config.timeout),
            Model::Closed => self.config.duration.map(|d| start + d),
        }
    }

    fn claim(&self, start: Instant, hard_end: Option<Instant>) -> Claim {
        if self.stop.load(Ordering::Relaxed) || hard_end.is_some_and(|end| Instant::now() >= end) {
            return Claim::Stop;
        }
        let index = self.next_arrival.fetch_add(1, Ordering::Relaxed);
        if self.config.max_requests.is_some_and(|max| index >= max) {
            return Claim::Stop;
        }
        match &self.config.model {
            Model::Open(schedule) => match schedule.intended_send_time(index) {
                Some(offset) => Claim::Send {
                    intended: Some(start + offset),
                },
                None => Claim::Stop,
            },
            Model::Closed => Claim::Send { intended: None },
        }
    }

    fn pick_request(&self) -> usize {
        match self.cumulative_weights.last() {
            Some(&total) if self.cumulative_weights.len() > 1 => {
                let roll = fastrand::u32(0..total.max(1));
                self.cumulative_weights.partition_point(|&c| c <= roll)
            }
            _ => 0,
        }
    }

    fn traced(&self) -> bool {
        match self.config.traceparent_fraction {
            None => false,
            Some(fraction) => fraction >= 1.0 || fastrand::f64() < fraction,
        }
    }
}

/// Opens the connection a worker starts with (failures are retried per request).
pub async fn open_initial(shared: &Shared, address: SocketAddr) -> Option<Connection> {
    timeout(
        shared.config.timeout,
        Connection::open(address, shared.config.http2, shared.tls.as_ref()),
    )
    .await
    .ok()
    .and_then(Result::ok)
}

fn millis_since(start: Instant, at: Instant) -> u64 {
    at.saturating_duration_since(start).as_millis() as u64
}

fn micros_since(start: Instant, at: Instant) -> u64 {
    at.saturating_duration_since(start).as_micros() as u64
}

fn lock(recorder: &Mutex<Recorder>) -> std::sync::MutexGuard<'_, Recorder> {
    recorder
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs one connection (or HTTP/2 stream) until the schedule, the count or the
/// time is used up.
pub async fn run_connection(
    shared: Arc<Shared>,
    recorder: Arc<Mutex<Recorder>>,
    address: SocketAddr,
    mut slot: Slot,
    start: Instant,
) {
    let hard_end = shared.hard_end(start);
    let config = &shared.config;
    let rank_untraced = config.traceparent_fraction.is_none();
    loop {
        let intended = match shared.claim(start, hard_end) {
            Claim::Stop => break,
            Claim::Send { intended } => intended,
        };
        let mut slept = false;
        if let Some(intended) = intended {
            if intended > Instant::now() + EARLY_WAKE {
                sleep_until(intended - EARLY_WAKE).await;
                slept = true;
            }
        }
        let index = shared.pick_request().min(config.requests.len() - 1);
        let (template, encoded) = (&config.requests[index], &shared.encoded[index]);
        let trace = shared.traced().then(new_traceparent);
        let traceparent = trace.as_ref().map(|(value, _)| value.as_str());
        let sent = Instant::now();
        let origin = intended.map_or(sent, |i| i.min(sent));
        if let Some(intended) = intended.filter(|_| slept) {
            // This connection was idle and waiting: any lateness is the generator's own.
            let late = sent.saturating_duration_since(intended);
            if late > LATE_WAKE {
                lock(&recorder).record_late_wakeup(late.as_micros() as u64);
            }
        }
        shared.attempted.fetch_add(1, Ordering::Relaxed);
        let open = || Connection::open(address, config.http2, shared.tls.as_ref());
        let result = timeout(config.timeout, async {
            let (mut current, reused) = match slot.take_ready().await {
                Some(connection) => (connection, true),
                None => {
                    let replacement = slot.replace(open).await?;
                    if replacement.reconnected {
                        lock(&recorder).reconnects += 1;
                    }
                    (replacement.connection, replacement.adopted)
                }
            };
            let completed = match current
                .send(template, encoded, &config.target, traceparent)
                .await
            {
                Err(SendError::Closed) if reused => {
                    // The server closed the idle connection: once more on a new one.
                    let replacement = slot.replace(open).await?;
                    {
                        let mut recorder = lock(&recorder);
                        recorder.retried += 1;
                        recorder.reconnects += u64::from(replacement.reconnected);
                    }
                    current = replacement.connection;
                    current
                        .send(template, encoded, &config.target, traceparent)
                        .await
                }
                other => other,
            };
            if completed.is_ok() {
                slot.keep(current);
            }
            completed.map_err(SendError::kind)
        })
        .await
        .unwrap_or(Err(ErrorKind::Timeout));
        let done = Instant::now();
        match result {
            Ok(completed) => {
                let outcome = Outcome {
                    corrected_us: done.duration_since(origin).as_micros() as u64,
                    uncorrected_us: done.duration_since(sent).as_micros() as u64,
                    sent_at_ms: millis_since(start, sent),
                    done_at_us: micros_since(start, done),
                };
                lock(&recorder).record_response(
                    outcome,
                    completed.status,
                    completed.body_bytes,
                    trace.as_ref().map(|(_, id)| id.as_str()),
                    rank_untraced,
                );
            }
            Err(kind) => {
                lock(&recorder).record_error(kind, micros_since(start, done));
                if matches!(kind, ErrorKind::Connect | ErrorKind::Tls) && intended.is_none() {
                    sleep(CONNECT_BACKOFF).await;
                }
            }
        }
    }
}
