//! Opens the perf events of a recording (one ring buffer per CPU; every other
//! event of that CPU is redirected into it) and drains them.
//!
//! Event choice and privilege fallbacks are decided on the first open:
//! cycles → cpu-clock when there is no PMU; kernel stacks → user-only when
//! `perf_event_paranoid` forbids kernel profiling; MMAP2 build ids → without
//! on kernels older than 5.12.

use super::attr::{self, AttrSettings, OnCpuEvent};
use super::records::{Decoder, Role};
use super::ring::{page_size, RingBuffer};
use super::sys;
use super::tracefs::SchedSwitch;
use crate::error::ProfilerError;
use crate::event::Event;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

/// What to attach to.
#[derive(Debug, Clone)]
pub struct SessionPlan {
    /// Task ids to attach to (`[-1]` = every task on each CPU).
    pub tasks: Vec<i32>,
    /// CPUs to open on.
    pub cpus: Vec<u32>,
    /// Follow children.
    pub inherit: bool,
    /// Enable when the (held) task execs instead of right away.
    pub enable_on_exec: bool,
    /// Samples per second.
    pub frequency_hz: u32,
    /// Never try the hardware cycles event.
    pub force_cpu_clock: bool,
    /// User stack bytes per sample.
    pub user_stack_bytes: u32,
    /// Minimum ring buffer data pages per CPU.
    pub min_ring_pages: usize,
    /// The sched_switch tracepoint, when recording off-CPU time.
    pub sched_switch: Option<SchedSwitch>,
}

/// Opened events.
#[derive(Debug)]
pub struct Session {
    rings: Vec<RingBuffer>,
    redirected: Vec<OwnedFd>,
    decoder: Decoder,
    /// The on-CPU event in use.
    pub event: OnCpuEvent,
    /// Kernel frames were left out (unprivileged fallback).
    pub exclude_kernel: bool,
}

/// Ring buffer data pages for a plan: about half a second of samples at the
/// requested rate, within [min, 4096] pages and a power of two.
fn ring_pages(plan: &SessionPlan) -> usize {
    let bytes_per_sample = plan.user_stack_bytes as usize + 1024;
    let want = plan.frequency_hz as usize * bytes_per_sample / 2 / page_size();
    want.clamp(plan.min_ring_pages.max(8), 4096)
        .next_power_of_two()
}

fn permission_message(what: &str, err: &io::Error) -> String {
    let level = sys::paranoid_level().map_or("unknown".to_string(), |l| l.to_string());
    format!(
        "permission denied opening {what} ({err}).\n\
         kernel.perf_event_paranoid is {level}: unprivileged users may profile only their own \
         processes in user space at ≤ 2, need ≤ 1 for kernel stacks, ≤ 0 for whole-system (-a) \
         and ≤ -1 for --off-cpu (tracepoints).\n\
         Fix one of: run as root; `sudo sysctl kernel.perf_event_paranoid=-1`; or grant the \
         capabilities: `sudo setcap cap_perfmon,cap_sys_ptrace,cap_syslog=ep $(command -v whyslow)`"
    )
}

fn is_permission(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::EACCES) | Some(libc::EPERM))
}

impl Session {
    /// Opens every event of the plan (disabled unless `enable_on_exec`).
    pub fn open(plan: &SessionPlan) -> Result<Self, ProfilerError> {
        let pages = ring_pages(plan);
        let mut settings = AttrSettings {
            inherit: plan.inherit,
            enable_on_exec: plan.enable_on_exec,
            exclude_kernel: false,
            user_stack_bytes: plan.user_stack_bytes,
            build_id: true,
            context_switch: plan.sched_switch.is_some(),
            wakeup_bytes: (pages * page_size() / 4) as u32,
        };
        let mut event = if plan.force_cpu_clock {
            OnCpuEvent::CpuClock
        } else {
            OnCpuEvent::Cycles
        };
        let first_task = plan.tasks.first().copied().unwrap_or(-1);
        let first_cpu = plan.cpus.first().copied().unwrap_or(0) as i32;

        // Probe the first event to settle event type and privilege fallbacks.
        let probe = loop {
            let mut a = attr::on_cpu(event, plan.frequency_hz, &settings);
            match sys::perf_event_open(&mut a, first_task, first_cpu) {
                Ok(fd) => break fd,
                Err(e) => match e.raw_os_error() {
                    Some(libc::ENOENT | libc::ENODEV | libc::EOPNOTSUPP)
                        if event == OnCpuEvent::Cycles =>
                    {
                        event = OnCpuEvent::CpuClock;
                    }
                    Some(libc::EINVAL) if settings.build_id => settings.build_id = false,
                    Some(libc::EINVAL) if event == OnCpuEvent::Cycles => {
                        event = OnCpuEvent::CpuClock;
                    }
                    Some(libc::ESRCH) => {
                        return Err(ProfilerError::NoSuchProcess {
                            pid: first_task.max(0) as u32,
                        })
                    }
                    _ if is_permission(&e) && !settings.exclude_kernel => {
                        settings.exclude_kernel = true;
                    }
                    _ if is_permission(&e) => {
                        return Err(ProfilerError::PermissionDenied {
                            message: permission_message("the sampling event", &e),
                        })
                    }
                    _ => {
                        return Err(ProfilerError::PerfEventOpen {
                            what: format!("{event:?} sampling"),
                            source: e,
                        })
                    }
                },
            }
        };

        let mut decoder = Decoder::new(plan.sched_switch.map(|s| s.prev_state));
        let mut rings: Vec<RingBuffer> = Vec::new();
        let mut redirected = Vec::new();
        let mut probe = Some(probe);
        for &cpu in &plan.cpus {
            let mut owner: Option<usize> = None;
            for &task in &plan.tasks {
                let fd = match probe.take() {
                    Some(fd) => fd,
                    None => {
                        let mut a = attr::on_cpu(event, plan.frequency_hz, &settings);
                        match sys::perf_event_open(&mut a, task, cpu as i32) {
                            Ok(fd) => fd,
                            // The thread exited meanwhile.
                            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => continue,
                            Err(e) if is_permission(&e) => {
                                return Err(ProfilerError::PermissionDenied {
                                    message: permission_message("the sampling event", &e),
                                })
                            }
                            Err(e) => {
                                return Err(ProfilerError::PerfEventOpen {
                                    what: format!("{event:?} sampling on CPU {cpu}"),
                                    source: e,
                                })
                            }
                        }
                    }
                };
                decoder.add_event(
                    sys::event_id(&fd).map_err(io_err("PERF_EVENT_IOC_ID"))?,
                    Role::OnCpu,
                );
                let owner_index = match owner {
                    Some(i) => {
                        sys::set_output(&fd, rings[i].fd())
                            .map_err(io_err("PERF_EVENT_IOC_SET_OUTPUT"))?;
                        redirected.push(fd);
                        i
                    }
                    None => {
                        rings.push(map_ring(fd, pages)?);
                        owner = Some(rings.len() - 1);
                        rings.len() - 1
                    }
                };
                if let Some(switch) = plan.sched_switch {
                    let mut a = attr::sched_switch(switch.id, &settings);
                    let fd = match sys::perf_event_open(&mut a, task, cpu as i32) {
                        Ok(fd) => fd,
                        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => continue,
                        Err(e) if is_permission(&e) => {
                            return Err(ProfilerError::PermissionDenied {
                                message: permission_message(
                                    "the sched:sched_switch tracepoint for --off-cpu",
                                    &e,
                                ),
                            })
                        }
                        Err(e) => {
                            return Err(ProfilerError::PerfEventOpen {
                                what: "the sched:sched_switch tracepoint".into(),
                                source: e,
                            })
                        }
                    };
                    decoder.add_event(
                        sys::event_id(&fd).map_err(io_err("PERF_EVENT_IOC_ID"))?,
                        Role::Switch,
                    );
                    sys::set_output(&fd, rings[owner_index].fd())
                        .map_err(io_err("PERF_EVENT_IOC_SET_OUTPUT"))?;
                    redirected.push(fd);
                }
            }
        }
        if rings.is_empty() {
            return Err(ProfilerError::NoSuchProcess {
                pid: first_task.max(0) as u32,
            });
        }
        Ok(Self {
            rings,
            redirected,
            decoder,
            event,
            exclude_kernel: settings.exclude_kernel,
        })
    }

    fn all_fds(&self) -> impl Iterator<Item = &OwnedFd> {
        self.rings
            .iter()
            .map(|r| r.fd())
            .chain(self.redirected.iter())
    }

    /// Starts sampling now (targets that do not enable on exec).
    pub fn enable(&self) -> Result<(), ProfilerError> {
        for fd in self.all_fds() {
            sys::enable(fd).map_err(io_err("PERF_EVENT_IOC_ENABLE"))?;
        }
        Ok(())
    }

    /// Stops sampling (what is buffered can still be drained).
    pub fn disable(&self) {
        for fd in self.all_fds() {
            sys::disable(fd);
        }
    }

    /// Waits up to `timeout_ms` for a ring buffer to pass its watermark.
    pub fn wait(&self, timeout_ms: i32) {
        let mut fds: Vec<libc::pollfd> = self
            .rings
            .iter()
            .map(|r| libc::pollfd {
                fd: r.fd().as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: polling a valid array of pollfd for its length.
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    }

    /// Drains every ring buffer, appending decoded events sorted by time.
    pub fn drain(&mut self, out: &mut Vec<Event>) {
        let start = out.len();
        let decoder = &mut self.decoder;
        for ring in &mut self.rings {
            ring.drain(|record| {
                if let Some(e) = decoder.decode(record) {
                    out.push(e);
                }
            });
        }
        out[start..].sort_by_key(super::records::time_of);
    }

    /// Records the decoder could not parse.
    pub fn malformed(&self) -> u64 {
        self.decoder.malformed
    }
}

fn map_ring(fd: OwnedFd, pages: usize) -> Result<RingBuffer, ProfilerError> {
    // Unprivileged users are limited by perf_event_mlock_kb: halve until it fits.
    let (mut fd, mut pages) = (fd, pages);
    loop {
        match RingBuffer::map(fd, pages) {
            Ok(r) => return Ok(r),
            Err((back, e)) if is_permission(&e) && pages > 8 => {
                fd = back;
                pages /= 2;
            }
            Err((_, e)) if is_permission(&e) => {
                return Err(ProfilerError::PermissionDenied {
                    message: format!(
                        "cannot map the perf ring buffer ({e}): raise kernel.perf_event_mlock_kb \
                         (`sudo sysctl kernel.perf_event_mlock_kb=4096`) or run as root"
                    ),
                })
            }
            Err((_, e)) => {
                return Err(ProfilerError::Io {
                    context: "cannot map the perf ring buffer".into(),
                    source: e,
                })
            }
        }
    }
}

fn io_err(context: &'static str) -> impl Fn(io::Error) -> ProfilerError {
    move |source| ProfilerError::Io {
        context: context.to_string(),
        source,
    }
}
