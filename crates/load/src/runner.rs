//! Starts a load test on worker threads (each its own single-threaded tokio
//! event loop with its share of the connections, as wrk does), lets the caller
//! watch progress while it runs, and collects the result.
//!
//! All connections are opened before the clock starts, so the first arrivals do
//! not pay for connection setup.

use crate::config::{LoadConfig, Model};
use crate::error::LoadError;
use crate::recorder::{new_histogram, Recorder};
use crate::result::LoadResult;
use crate::slot::Slot;
use crate::worker::{open_initial, run_connection, Shared};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Longest wait for the initial connections before starting anyway.
const CONNECT_WAIT: Duration = Duration::from_secs(10);

/// A live view of a running test.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Time since the start.
    pub elapsed: Duration,
    /// Responses so far.
    pub responses: u64,
    /// Failed requests so far.
    pub errors: u64,
    /// Rate the schedule asks for now (open model).
    pub target_rps: Option<f64>,
    /// Corrected p50 so far, µs.
    pub p50_us: u64,
    /// Corrected p99 so far, µs.
    pub p99_us: u64,
    /// Planned length of the run, when known.
    pub planned: Option<Duration>,
}

/// A test in progress.
pub struct Running {
    // Kept so that workers still waiting for the start never see a closed channel.
    _start_sender: watch::Sender<Option<tokio::time::Instant>>,
    shared: Arc<Shared>,
    recorders: Vec<Arc<Mutex<Recorder>>>,
    threads: Vec<JoinHandle<Instant>>,
    start: Instant,
}

fn lock(recorder: &Mutex<Recorder>) -> std::sync::MutexGuard<'_, Recorder> {
    recorder
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts `config` and returns once every connection is open (or tried) and the clock runs.
pub fn start(config: LoadConfig) -> Result<Running, LoadError> {
    config.validate()?;
    let threads = config.threads.min(config.connections);
    let connections = config.connections;
    let slowest = config.slowest;
    let shared = Arc::new(Shared::new(config)?);
    let connected = Arc::new(AtomicUsize::new(0));
    let (start_sender, start_receiver) = watch::channel(None::<tokio::time::Instant>);
    let mut recorders = Vec::with_capacity(threads);
    let mut handles = Vec::with_capacity(threads);
    for thread in 0..threads {
        let recorder = Arc::new(Mutex::new(Recorder::new(slowest)));
        recorders.push(recorder.clone());
        // Connections thread, thread + threads, … belong to this thread.
        let mine: Vec<usize> = (thread..connections).step_by(threads).collect();
        let (shared, connected, start_receiver) =
            (shared.clone(), connected.clone(), start_receiver.clone());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(LoadError::Runtime)?;
        let handle = std::thread::Builder::new()
            .name(format!("whyslow-load-{thread}"))
            .spawn(move || {
                runtime.block_on(async move {
                    let mut tasks = tokio::task::JoinSet::new();
                    for index in mine {
                        let addresses = &shared.config.target.addresses;
                        let address = addresses[index % addresses.len()];
                        let (shared, recorder, connected, mut start_receiver) = (
                            shared.clone(),
                            recorder.clone(),
                            connected.clone(),
                            start_receiver.clone(),
                        );
                        tasks.spawn(async move {
                            let connection = open_initial(&shared, address).await;
                            connected.fetch_add(1, Ordering::SeqCst);
                            let Ok(start) =
                                start_receiver.wait_for(Option::is_some).await.map(|s| *s)
                            else {
                                return;
                            };
                            let Some(start) = start else { return };
                            // HTTP/2: further streams share this connection (and the
                            // one that replaces it), each carrying one request at a
                            // time, like a connection does.
                            let mut slots = Slot::group(connection, shared.config.streams);
                            let first = slots.remove(0);
                            let mut streams = tokio::task::JoinSet::new();
                            for slot in slots {
                                streams.spawn(run_connection(
                                    shared.clone(),
                                    recorder.clone(),
                                    address,
                                    slot,
                                    start,
                                ));
                            }
                            run_connection(shared, recorder, address, first, start).await;
                            while streams.join_next().await.is_some() {}
                        });
                    }
                    while tasks.join_next().await.is_some() {}
                });
                Instant::now()
            })
            .map_err(LoadError::Runtime)?;
        handles.push(handle);
    }
    let waiting = Instant::now();
    while connected.load(Ordering::SeqCst) < connections && waiting.elapsed() < CONNECT_WAIT {
        std::thread::sleep(Duration::from_millis(1));
    }
    let start = Instant::now();
    let _ = start_sender.send(Some(tokio::time::Instant::from_std(start)));
    Ok(Running {
        _start_sender: start_sender,
        shared,
        recorders,
        threads: handles,
        start,
    })
}

impl Running {
    /// Asks every connection to stop after its current request.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }

    /// Whether every worker thread has finished.
    pub fn is_finished(&self) -> bool {
        self.threads.iter().all(JoinHandle::is_finished)
    }

    /// Numbers so far (merges the threads' histograms; call a few times a second at most).
    pub fn progress(&self) -> Progress {
        let mut corrected = new_histogram();
        let (mut responses, mut errors) = (0, 0);
        for recorder in &self.recorders {
            let recorder = lock(recorder);
            let _ = corrected.add(&recorder.corrected);
            responses += recorder.responses();
            errors += recorder.errors.total();
        }
        let elapsed = self.start.elapsed();
        let (target_rps, planned) = match &self.shared.config.model {
            Model::Open(schedule) => (Some(schedule.rate_at(elapsed)), Some(schedule.duration())),
            Model::Closed => (None, self.shared.config.duration),
        };
        Progress {
            elapsed,
            responses,
            errors,
            target_rps,
            p50_us: corrected.value_at_quantile(0.5),
            p99_us: corrected.value_at_quantile(0.99),
            planned,
        }
    }

    /// Waits for the end and returns the merged result.
    pub fn wait(self) -> LoadResult {
        let mut finished = self.start;
        for handle in self.threads {
            if let Ok(at) = handle.join() {
                finished = finished.max(at);
            }
        }
        let mut merged = Recorder::new(self.shared.config.slowest);
        for recorder in self.recorders {
            let recorder = match Arc::try_unwrap(recorder) {
                Ok(mutex) => mutex.into_inner().unwrap_or_else(|p| p.into_inner()),
                Err(shared) => lock(&shared).clone(),
            };
            merged.merge(recorder);
        }
        let attempted = self.shared.attempted.load(Ordering::Relaxed);
        let planned = match &self.shared.config.model {
            Model::Open(schedule) => Some(
                self.shared
                    .config
                    .max_requests
                    .map_or(schedule.total_arrivals(), |max| {
                        max.min(schedule.total_arrivals())
                    }),
            ),
            Model::Closed => self.shared.config.max_requests,
        };
        let stopped_early = self.shared.stop.load(Ordering::Relaxed);
        let not_sent = match (&self.shared.config.model, planned) {
            (Model::Open(_), Some(planned)) if !stopped_early => planned.saturating_sub(attempted),
            _ => 0,
        };
        let config = Arc::try_unwrap(self.shared)
            .map(|shared| shared.config)
            .unwrap_or_else(|shared| shared.config.clone());
        // The run ends with its last response; thread shutdown is not part of it.
        let elapsed = if merged.last_done_us > 0 {
            Duration::from_micros(merged.last_done_us)
        } else {
            finished.duration_since(self.start)
        };
        LoadResult::new(config, merged, elapsed, attempted, not_sent, stopped_early)
    }
}
