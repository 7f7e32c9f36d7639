//! One measurement: start the command held before exec (counters enable on
//! its exec, as `perf stat CMD` does) or attach to PIDs / every CPU, wait for
//! the end (command exit, all PIDs gone, `--duration`, Ctrl-C) while handing
//! out interval deltas, then read the counters and what is real (schedstat of
//! the zombie, rusage from `wait4`, steal and PSI over the run).

use super::counter::{self, Counter, Reading, Scope};
use super::process::{self, Watched};
use super::procfs;
use crate::config::Target;
use crate::error::StatError;
use crate::event::EventSel;
use crate::real::{RealStats, SchedScope};
use profiler::linux::child;
use profiler::ProfilerError;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Longest we sleep before looking at the stop flag again.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// When to print and when to stop.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timing {
    /// `-I`: hand out deltas this often.
    pub interval: Option<Duration>,
    /// Stop after this long.
    pub duration: Option<Duration>,
}

/// Counts of one interval.
#[derive(Debug, Clone)]
pub struct Tick {
    /// Per event: the delta, `None` when not supported.
    pub deltas: Vec<Option<Reading>>,
    /// Nanoseconds since the start.
    pub elapsed_ns: u64,
    /// Nanoseconds this interval covers.
    pub span_ns: u64,
}

/// The result of one measurement.
#[derive(Debug)]
pub struct Measured {
    /// Per event: its total reading, `None` when not supported.
    pub readings: Vec<Option<Reading>>,
    /// Why the first unsupported hardware event failed.
    pub hardware_error: Option<io::Error>,
    /// The command's exit code (0 without a command).
    pub exit_code: i32,
    /// Wall time, rusage, schedstat, host deltas.
    pub real: RealStats,
}

fn from_profiler(e: ProfilerError) -> StatError {
    match e {
        ProfilerError::CommandNotFound { command } => StatError::CommandNotFound { command },
        ProfilerError::CommandFailed { command, source } => {
            StatError::CommandFailed { command, source }
        }
        other => StatError::Io {
            context: "cannot start the command".to_string(),
            source: io::Error::other(other.to_string()),
        },
    }
}

/// Measures `events` on `target`; the last `grouped_tail` events are opened
/// as one group (the top-down events).
pub fn measure(
    target: &Target,
    events: &[EventSel],
    grouped_tail: usize,
    timing: Timing,
    stop: &AtomicBool,
    on_tick: &mut dyn FnMut(&Tick) -> Result<(), StatError>,
) -> Result<Measured, StatError> {
    let held = match target.command() {
        Some(argv) => Some(child::spawn_held(argv).map_err(from_profiler)?),
        None => None,
    };
    let opened = open(target, events, grouped_tail, held.as_ref().map(|h| h.pid()));
    let (counters, watched, sched_pid) = match opened {
        Ok(ok) => ok,
        Err(e) => {
            if let Some(held) = held {
                held.abandon();
            }
            return Err(e);
        }
    };
    let hardware_error = events.iter().zip(&counters).find_map(|(e, c)| match c {
        Counter::NotSupported(err) if e.is_hardware() => {
            Some(io::Error::new(err.kind(), err.to_string()))
        }
        _ => None,
    });
    let sched_before = sched_pid.and_then(procfs::schedstat_of_tasks);
    // The held child's time so far (fork to here) is not the command's.
    let child_before = held
        .as_ref()
        .and_then(|h| procfs::schedstat(h.pid()))
        .unwrap_or_default();
    let host_before = procfs::host_sample();
    if !matches!(target, Target::Command(_)) {
        counters.iter().for_each(Counter::enable);
    }
    let t0 = Instant::now();
    let child_pid = match held {
        Some(held) => Some(held.release().map_err(from_profiler)?.pid()),
        None => None,
    };
    let watched = match child_pid {
        Some(pid) => vec![Watched::new(pid).map_err(|source| StatError::Io {
            context: "cannot watch the command".to_string(),
            source,
        })?],
        None => watched,
    };
    let mut ticker = Ticker::new(&counters, t0, timing.interval);
    wait(&watched, child_pid, t0, timing, stop, &mut ticker, on_tick)?;
    if let Some(pid) = child_pid {
        process::wait_exited_nowait(pid);
    }
    let wall_ns = t0.elapsed().as_nanos() as u64;
    let readings: Vec<Option<Reading>> = counters.iter().map(Counter::read).collect();
    ticker.tick(on_tick)?;
    let sched = match (child_pid, sched_pid, sched_before) {
        (Some(pid), _, _) => {
            procfs::schedstat(pid).map(|s| (s.since(&child_before), SchedScope::MainThread))
        }
        (None, Some(pid), Some((before, _))) => procfs::schedstat_of_tasks(pid)
            .map(|(after, n)| (after.since(&before), SchedScope::Threads(n))),
        _ => None,
    };
    let host = procfs::host_sample().since(&host_before);
    let (exit_code, rusage) = match child_pid {
        Some(pid) => {
            let (code, usage) = process::reap(pid);
            (code, usage)
        }
        None => (0, None),
    };
    Ok(Measured {
        readings,
        hardware_error,
        exit_code,
        real: RealStats {
            wall_ns,
            rusage,
            sched,
            host,
        },
    })
}

type Opened = (Vec<Counter>, Vec<Watched>, Option<i32>);

/// Opens every event on the target's tasks or CPUs; watches `-p` PIDs.
fn open(
    target: &Target,
    events: &[EventSel],
    grouped_tail: usize,
    child: Option<i32>,
) -> Result<Opened, StatError> {
    let (scope, watched, sched_pid) = match (target, child) {
        (Target::Command(_), Some(pid)) => (
            Scope::Tasks {
                tids: vec![pid],
                enable_on_exec: true,
            },
            Vec::new(),
            None,
        ),
        (Target::Pids(pids), _) => {
            let mut tids = Vec::new();
            let mut watched = Vec::new();
            for &pid in pids {
                let no_such = || StatError::NoSuchProcess { pid };
                let pid_i32 = i32::try_from(pid).map_err(|_| no_such())?;
                let found = procfs::tasks_of(pid_i32);
                if found.is_empty() {
                    return Err(no_such());
                }
                tids.extend(found);
                watched.push(Watched::new(pid_i32).map_err(|_| no_such())?);
            }
            let first = pids.first().and_then(|&p| i32::try_from(p).ok());
            let scope = Scope::Tasks {
                tids,
                enable_on_exec: false,
            };
            (scope, watched, first)
        }
        _ => (Scope::Cpus(online_cpus()), Vec::new(), None),
    };
    let split = events.len().saturating_sub(grouped_tail);
    let mut counters = events[..split]
        .iter()
        .map(|e| Counter::open(e, &scope))
        .collect::<Result<Vec<_>, _>>()?;
    if split < events.len() {
        counters.extend(counter::open_group(&events[split..], &scope));
    }
    Ok((counters, watched, sched_pid))
}

/// CPUs that are online (`/sys/devices/system/cpu/online`).
fn online_cpus() -> Vec<u32> {
    profiler::linux::sys::online_cpus()
}

/// Waits for the end of the measurement, ticking intervals on the way.
fn wait(
    watched: &[Watched],
    child: Option<i32>,
    t0: Instant,
    timing: Timing,
    stop: &AtomicBool,
    ticker: &mut Ticker,
    on_tick: &mut dyn FnMut(&Tick) -> Result<(), StatError>,
) -> Result<(), StatError> {
    let deadline = timing.duration.map(|d| t0 + d);
    let mut terminated = false;
    loop {
        let now = Instant::now();
        if ticker.due(now) {
            ticker.tick(on_tick)?;
            continue;
        }
        if deadline.is_some_and(|d| now >= d) {
            match child {
                Some(pid) if !terminated => {
                    process::terminate(pid);
                    terminated = true;
                }
                Some(_) => {}
                None => return Ok(()),
            }
        }
        // Ctrl-C reaches a command too; its exit ends the count.
        if child.is_none() && stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut timeout = STOP_CHECK;
        for until in [ticker.next, deadline.filter(|_| !terminated)]
            .into_iter()
            .flatten()
        {
            timeout = timeout.min(until.saturating_duration_since(now));
        }
        if watched.is_empty() {
            process::sleep_interruptible(timeout);
            continue;
        }
        let exited = process::wait_any(watched, timeout);
        let done = if child.is_some() {
            exited.first().copied().unwrap_or(true)
        } else {
            exited.iter().all(|&e| e)
        };
        if done {
            return Ok(());
        }
    }
}

/// Interval bookkeeping: the counters, the previous readings, the next due time.
struct Ticker<'a> {
    counters: &'a [Counter],
    interval: Option<Duration>,
    next: Option<Instant>,
    t0: Instant,
    last: Instant,
    previous: Vec<Option<Reading>>,
}

impl<'a> Ticker<'a> {
    fn new(counters: &'a [Counter], t0: Instant, interval: Option<Duration>) -> Self {
        let zero = counters
            .iter()
            .map(|c| match c {
                Counter::Open(_) => Some(Reading::default()),
                Counter::NotSupported(_) => None,
            })
            .collect();
        Ticker {
            counters,
            interval,
            next: interval.map(|i| t0 + i),
            t0,
            last: t0,
            previous: zero,
        }
    }

    fn due(&self, now: Instant) -> bool {
        self.next.is_some_and(|n| now >= n)
    }

    /// Reads the counters and hands out the deltas (interval mode only).
    fn tick(
        &mut self,
        on_tick: &mut dyn FnMut(&Tick) -> Result<(), StatError>,
    ) -> Result<(), StatError> {
        let Some(interval) = self.interval else {
            return Ok(());
        };
        let now = Instant::now();
        let readings: Vec<Option<Reading>> = self.counters.iter().map(Counter::read).collect();
        let deltas = readings
            .iter()
            .zip(&self.previous)
            .map(|(r, p)| match (r, p) {
                (Some(r), Some(p)) => Some(r.since(p)),
                _ => None,
            })
            .collect();
        let tick = Tick {
            deltas,
            elapsed_ns: now.duration_since(self.t0).as_nanos() as u64,
            span_ns: now.duration_since(self.last).as_nanos() as u64,
        };
        self.previous = readings;
        self.last = now;
        self.next = self.next.map(|n| n + interval);
        on_tick(&tick)
    }
}
