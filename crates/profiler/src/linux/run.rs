//! The recording loop: set up the target, open the session, drain ring
//! buffers into the assembler until the target exits, the duration elapses
//! or the user stops us, then finish the profile.

use super::child::{self, Child};
use super::session::{Session, SessionPlan};
use super::{attr::OnCpuEvent, procfs, sys, tracefs};
use crate::builder::{Assembler, AssemblerConfig};
use crate::error::ProfilerError;
use crate::event::{Event, SampleKind};
use crate::options::{Progress, RecordOptions, RecordStats, Recording, SamplingEvent, Target};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often the progress callback runs.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);
/// Poll timeout: bounds how late we notice Ctrl-C or the target's exit.
const POLL_MS: i32 = 50;
/// How often continuous profiling drops the resident pages of the binaries
/// it unwinds through (see [`Assembler::release_pages`]).
const RELEASE_PAGES_EVERY: Duration = Duration::from_secs(1);

/// Records according to `options` (see [`crate::record`]).
pub fn record(
    options: &RecordOptions,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
) -> Result<Recording, ProfilerError> {
    raise_fd_limit();
    let mut plan = plan_for(options)?;

    let mut watched: Vec<u32> = Vec::new();
    let mut held = None;
    match &options.target {
        Target::Command(argv) => {
            let h = child::spawn_held(argv)?;
            plan.tasks = vec![h.pid()];
            plan.inherit = true;
            plan.enable_on_exec = true;
            held = Some(h);
        }
        Target::Pids(pids) => {
            if pids.is_empty() {
                return Err(ProfilerError::NoSuchProcess { pid: 0 });
            }
            let mut tasks = Vec::new();
            for &pid in pids {
                if !procfs::is_alive(pid) {
                    return Err(ProfilerError::NoSuchProcess { pid });
                }
                tasks.extend(procfs::threads(pid).into_iter().map(|t| t as i32));
            }
            plan.tasks = tasks;
            plan.inherit = true;
            watched = pids.clone();
        }
        Target::AllCpus => {}
    }

    let session = match Session::open(&plan) {
        Ok(s) => s,
        Err(e) => {
            if let Some(h) = held {
                h.abandon();
            }
            return Err(e);
        }
    };
    let (sampling_event, mut assembler) = assembler_for(&session, &plan, options, false);
    match &options.target {
        Target::Pids(pids) => pids.iter().for_each(|&p| assembler.seed_process(p)),
        Target::AllCpus => procfs::all_pids()
            .into_iter()
            .for_each(|p| assembler.seed_process(p)),
        Target::Command(_) => {}
    }

    let wall_start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    let started = Instant::now();
    let mut child: Option<Child> = None;
    if let Some(h) = held {
        child = Some(h.release()?);
    } else {
        session.enable()?;
    }

    let mut loop_state = Loop {
        session,
        stats: RecordStats::default(),
        events: Vec::new(),
    };
    let mut last_progress = Instant::now();
    loop {
        loop_state.session.wait(POLL_MS);
        loop_state.pump(&mut assembler);
        let elapsed = started.elapsed();
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            progress(Progress {
                samples: loop_state.stats.samples,
                lost: loop_state.stats.lost,
                elapsed,
            });
        }
        if let Some(c) = child.as_mut() {
            if let Some(code) = c.try_wait() {
                loop_state.stats.exit_code = Some(code);
                break;
            }
        }
        if !watched.is_empty() && !watched.iter().any(|&p| procfs::is_alive(p)) {
            break;
        }
        if stop.load(Ordering::Relaxed) || options.duration.is_some_and(|d| elapsed >= d) {
            break;
        }
    }
    let duration = started.elapsed();
    loop_state.session.disable();
    loop_state.pump(&mut assembler);
    if let Some(c) = child.as_mut() {
        if loop_state.stats.exit_code.is_none() {
            // Stopped early (Ctrl-C or --duration): end the command like perf does.
            loop_state.stats.exit_code = c.terminate(Duration::from_secs(2));
        }
    }
    let exclude_kernel = loop_state.session.exclude_kernel;
    let mut stats = loop_state.stats;
    stats.duration = duration;

    let (mut profile, assembled) = assembler.finish(wall_start, duration.as_nanos() as i64);
    stats.truncated_stacks = assembled.truncated_stacks;
    if exclude_kernel {
        profile.comments.push(
            "note: kernel frames left out: kernel.perf_event_paranoid forbids kernel profiling \
             (`sudo sysctl kernel.perf_event_paranoid=1` or run as root to see them)"
                .to_string(),
        );
    }
    if stats.lost > 0 {
        profile.comments.push(format!(
            "note: the kernel dropped {} records (ring buffer full); try a lower -F or --stack-size",
            stats.lost
        ));
    }
    Ok(Recording {
        profile,
        event: Some(sampling_event),
        stats,
    })
}

/// The session plan for every CPU, with `sched_switch` when off-CPU is asked.
fn plan_for(options: &RecordOptions) -> Result<SessionPlan, ProfilerError> {
    let sched_switch = if options.off_cpu {
        Some(tracefs::find_sched_switch().map_err(|message| {
            if sys::is_root() {
                ProfilerError::Unavailable { message }
            } else {
                ProfilerError::PermissionDenied {
                    message: format!(
                        "{message}\n--off-cpu reads the sched:sched_switch tracepoint, which needs \
                         root, CAP_PERFMON, or `sudo sysctl kernel.perf_event_paranoid=-1` plus read \
                         access to /sys/kernel/tracing"
                    ),
                }
            }
        })?)
    } else {
        None
    };
    Ok(SessionPlan {
        tasks: vec![-1],
        cpus: sys::online_cpus(),
        inherit: false,
        enable_on_exec: false,
        frequency_hz: options.frequency_hz.max(1),
        force_cpu_clock: options.force_cpu_clock,
        user_stack_bytes: options.user_stack_bytes.clamp(8, 65528) & !7,
        min_ring_pages: options.ring_pages,
        sched_switch,
    })
}

/// The sampling event the session got and an assembler for its events.
fn assembler_for(
    session: &Session,
    plan: &SessionPlan,
    options: &RecordOptions,
    continuous: bool,
) -> (SamplingEvent, Assembler) {
    let sampling_event = match session.event {
        OnCpuEvent::Cycles => SamplingEvent::Cycles,
        OnCpuEvent::CpuClock => SamplingEvent::CpuClock,
    };
    let assembler = Assembler::new(AssemblerConfig {
        sampling_event,
        frequency_hz: plan.frequency_hz,
        off_cpu: options.off_cpu,
        names_only: continuous,
        sample_times: continuous,
    });
    (sampling_event, assembler)
}

/// Per-recording state of the drain loop.
struct Loop {
    session: Session,
    stats: RecordStats,
    events: Vec<Event>,
}

impl Loop {
    /// Drains the ring buffers and hands the events to the assembler.
    fn pump(&mut self, assembler: &mut Assembler) {
        self.events.clear();
        self.session.drain(&mut self.events);
        for event in self.events.drain(..) {
            match &event {
                Event::Sample(s) => match s.kind {
                    SampleKind::OnCpu => self.stats.samples += 1,
                    SampleKind::SwitchOut { .. } => self.stats.switch_samples += 1,
                },
                Event::Lost { count } => self.stats.lost += count,
                _ => {}
            }
            assembler.handle(event);
        }
    }
}

/// Per-thread, per-CPU events need many descriptors: raise the soft limit.
fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write one rlimit struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// Continuous whole-host profiling (see [`crate::record_continuous`]).
pub fn continuous(
    options: &RecordOptions,
    stop: &AtomicBool,
    every: Duration,
    sink: &mut dyn FnMut(model::Profile, &RecordStats),
) -> Result<RecordStats, ProfilerError> {
    raise_fd_limit();
    let plan = plan_for(options)?;
    let session = Session::open(&plan)?;
    let (_, mut assembler) = assembler_for(&session, &plan, options, true);
    procfs::all_pids()
        .into_iter()
        .for_each(|p| assembler.seed_process(p));
    session.enable()?;
    let mut loop_state = Loop {
        session,
        stats: RecordStats::default(),
        events: Vec::new(),
    };
    let started = Instant::now();
    let mut cut_at = Instant::now();
    let mut cut_wall = wall_now_ns();
    let mut released_at = Instant::now();
    loop {
        loop_state.session.wait(POLL_MS);
        loop_state.pump(&mut assembler);
        if released_at.elapsed() >= RELEASE_PAGES_EVERY {
            assembler.release_pages();
            released_at = Instant::now();
        }
        let stopping = stop.load(Ordering::Relaxed);
        if cut_at.elapsed() >= every || stopping {
            if stopping {
                loop_state.session.disable();
                loop_state.pump(&mut assembler);
            }
            let now_wall = wall_now_ns();
            let monotonic = i64::try_from(sys::monotonic_ns()).unwrap_or(i64::MAX);
            assembler.set_wall_offset(now_wall.saturating_sub(monotonic));
            let profile = assembler.cut(cut_wall, now_wall - cut_wall);
            loop_state.stats.duration = started.elapsed();
            sink(profile, &loop_state.stats);
            cut_at = Instant::now();
            cut_wall = now_wall;
        }
        if stopping {
            break;
        }
    }
    Ok(loop_state.stats)
}

fn wall_now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}
