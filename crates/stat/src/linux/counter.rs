//! One counting event opened with `perf_event_open` on every task or CPU of
//! the target, read as the sum of its descriptors (count, time enabled, time
//! running). An event the kernel has no PMU for becomes `NotSupported` with
//! the OS error kept as the reason; a missing permission is an error that says
//! what to change.

use super::tracefs;
use crate::error::StatError;
use crate::event::{EventKind, EventSel};
use perf_event_open_sys::bindings as b;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Where to count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// These tasks and (inherit) their future children and threads.
    Tasks {
        /// Task ids.
        tids: Vec<i32>,
        /// Start counting when the (held) task execs.
        enable_on_exec: bool,
    },
    /// Every task on these CPUs.
    Cpus(Vec<u32>),
}

/// Sum of an event's descriptors at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reading {
    /// Raw count.
    pub value: u64,
    /// Nanoseconds enabled.
    pub enabled_ns: u64,
    /// Nanoseconds running.
    pub running_ns: u64,
}

impl Reading {
    /// `self - earlier` (for intervals).
    pub fn since(&self, earlier: &Reading) -> Reading {
        Reading {
            value: self.value.saturating_sub(earlier.value),
            enabled_ns: self.enabled_ns.saturating_sub(earlier.enabled_ns),
            running_ns: self.running_ns.saturating_sub(earlier.running_ns),
        }
    }
}

/// An opened event, or why it could not be.
#[derive(Debug)]
pub enum Counter {
    /// Counting on these descriptors.
    Open(Vec<OwnedFd>),
    /// Not supported here, with the OS error.
    NotSupported(io::Error),
}

impl Counter {
    /// Opens `event` on every task/CPU of `scope` (disabled unless enabled on exec).
    pub fn open(event: &EventSel, scope: &Scope) -> Result<Counter, StatError> {
        let mut attr = attr_for(event)?;
        let targets: Vec<(i32, i32)> = match scope {
            Scope::Tasks {
                tids,
                enable_on_exec,
            } => {
                attr.set_inherit(1);
                attr.set_enable_on_exec(u64::from(*enable_on_exec));
                tids.iter().map(|&t| (t, -1)).collect()
            }
            Scope::Cpus(cpus) => cpus.iter().map(|&c| (-1, c as i32)).collect(),
        };
        let mut fds = Vec::with_capacity(targets.len());
        for (pid, cpu) in targets {
            match perf_event_open(&mut attr, pid, cpu, -1) {
                Ok(fd) => fds.push(fd),
                Err(e) if is_not_supported(&e) => return Ok(Counter::NotSupported(e)),
                // A thread of a -p target that exited meanwhile.
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) && pid > 0 && !fds.is_empty() => {}
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {
                    return Err(StatError::NoSuchProcess { pid: pid as u32 })
                }
                Err(e) if is_permission(&e) => {
                    return Err(StatError::PermissionDenied {
                        message: permission_message(&event.name, &e),
                    })
                }
                Err(source) => {
                    return Err(StatError::PerfEventOpen {
                        event: event.name.clone(),
                        source,
                    })
                }
            }
        }
        Ok(Counter::Open(fds))
    }

    /// Starts counting now.
    pub fn enable(&self) {
        if let Counter::Open(fds) = self {
            for fd in fds {
                // SAFETY: plain ioctl on a perf event descriptor we own.
                unsafe { perf_event_open_sys::ioctls::ENABLE(fd.as_raw_fd(), 0) };
            }
        }
    }

    /// The summed reading, `None` when not supported.
    pub fn read(&self) -> Option<Reading> {
        let Counter::Open(fds) = self else {
            return None;
        };
        let mut total = Reading::default();
        for fd in fds {
            let mut buf = [0u64; 3];
            // SAFETY: reads at most 24 bytes into a 24-byte buffer we own.
            let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), 24) };
            if n == 24 {
                total.value += buf[0];
                total.enabled_ns += buf[1];
                total.running_ns += buf[2];
            }
        }
        Some(total)
    }
}

/// Opens `events` as one group per task/CPU, the first leading (what the
/// top-down events need: Ice Lake's `topdown-*` must follow SLOTS). Any
/// failure leaves the whole group `NotSupported`: top-down is then reported
/// as unavailable rather than computed from a partial set.
pub fn open_group(events: &[EventSel], scope: &Scope) -> Vec<Counter> {
    match try_open_group(events, scope) {
        Ok(counters) => counters,
        Err(e) => events
            .iter()
            .map(|_| Counter::NotSupported(io::Error::new(e.kind(), e.to_string())))
            .collect(),
    }
}

fn try_open_group(events: &[EventSel], scope: &Scope) -> io::Result<Vec<Counter>> {
    let mut attrs = events
        .iter()
        .map(|e| attr_for(e).map_err(|e| io::Error::other(e.to_string())))
        .collect::<io::Result<Vec<_>>>()?;
    let targets: Vec<(i32, i32)> = match scope {
        Scope::Tasks {
            tids,
            enable_on_exec,
        } => {
            for (i, attr) in attrs.iter_mut().enumerate() {
                attr.set_inherit(1);
                // Members follow their leader: only it starts disabled.
                attr.set_enable_on_exec(u64::from(*enable_on_exec && i == 0));
            }
            tids.iter().map(|&t| (t, -1)).collect()
        }
        Scope::Cpus(cpus) => cpus.iter().map(|&c| (-1, c as i32)).collect(),
    };
    for attr in attrs.iter_mut().skip(1) {
        attr.set_disabled(0);
    }
    let mut fds: Vec<Vec<OwnedFd>> = events.iter().map(|_| Vec::new()).collect();
    for (pid, cpu) in targets {
        let mut leader = -1;
        for (i, attr) in attrs.iter_mut().enumerate() {
            let fd = perf_event_open(attr, pid, cpu, leader)?;
            if i == 0 {
                leader = fd.as_raw_fd();
            }
            fds[i].push(fd);
        }
    }
    Ok(fds.into_iter().map(Counter::Open).collect())
}

fn attr_for(event: &EventSel) -> Result<b::perf_event_attr, StatError> {
    // SAFETY: perf_event_attr is plain old data; all-zero is its documented default.
    let mut attr: b::perf_event_attr = unsafe { std::mem::zeroed() };
    attr.size = std::mem::size_of::<b::perf_event_attr>() as u32;
    match &event.kind {
        EventKind::Counter { type_, config } => {
            attr.type_ = *type_;
            attr.config = *config;
        }
        EventKind::Tracepoint { category, name } => {
            attr.type_ = b::PERF_TYPE_TRACEPOINT;
            attr.config = tracefs::tracepoint_id(category, name)?;
        }
    }
    attr.read_format =
        u64::from(b::PERF_FORMAT_TOTAL_TIME_ENABLED | b::PERF_FORMAT_TOTAL_TIME_RUNNING);
    attr.set_disabled(1);
    attr.set_exclude_hv(1);
    attr.set_exclude_user(u64::from(event.exclude_user));
    attr.set_exclude_kernel(u64::from(event.exclude_kernel));
    Ok(attr)
}

fn perf_event_open(
    attr: &mut b::perf_event_attr,
    pid: i32,
    cpu: i32,
    group_fd: i32,
) -> io::Result<OwnedFd> {
    // SAFETY: `attr` is a fully initialized perf_event_attr; the kernel only
    // reads it (and may write `size` back on E2BIG).
    let fd = unsafe {
        perf_event_open_sys::perf_event_open(
            attr,
            pid,
            cpu,
            group_fd,
            b::PERF_FLAG_FD_CLOEXEC as libc::c_ulong,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the syscall returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Errors perf reports as `<not supported>`: no such PMU or event here.
fn is_not_supported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOENT | libc::ENODEV | libc::EOPNOTSUPP | libc::ENXIO)
    )
}

fn is_permission(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM))
}

/// What to change when perf_event_open is refused, like `whyslow record` says it.
pub fn permission_message(what: &str, err: &io::Error) -> String {
    let level = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .map_or("unknown".to_string(), |l| l.trim().to_string());
    format!(
        "permission denied opening {what} ({err}).\n\
         kernel.perf_event_paranoid is {level}: unprivileged users may count only their own \
         processes at ≤ 2 (user space only with `EVENT:u`), need ≤ 1 for kernel time, ≤ 0 for \
         system-wide (-a) and ≤ -1 for tracepoints.\n\
         Fix one of: run as root; `sudo sysctl kernel.perf_event_paranoid=-1`; or grant the \
         capabilities: `sudo setcap cap_perfmon,cap_sys_ptrace=ep $(command -v whyslow)`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse_event;

    #[test]
    fn counts_task_clock_of_this_process() {
        let event = parse_event("task-clock").unwrap();
        // SAFETY: gettid has no preconditions.
        let me = unsafe { libc::gettid() };
        let scope = Scope::Tasks {
            tids: vec![me],
            enable_on_exec: false,
        };
        let counter = match Counter::open(&event, &scope) {
            Ok(c) => c,
            // Unprivileged CI without perf access: nothing to check here.
            Err(StatError::PermissionDenied { .. }) => return,
            Err(e) => panic!("{e}"),
        };
        counter.enable();
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        assert!(x > 0);
        let r = counter.read().unwrap();
        assert!(r.value > 0 && r.running_ns > 0, "{r:?}");
        let later = counter.read().unwrap();
        assert!(later.since(&r).value <= later.value);
    }

    #[test]
    fn opens_a_group_led_by_the_first_event() {
        // The top-down path cannot run without a PMU; a software group takes it here.
        let events = crate::event::parse_event_list("task-clock,page-faults").unwrap();
        // SAFETY: gettid has no preconditions.
        let me = unsafe { libc::gettid() };
        let scope = Scope::Tasks {
            tids: vec![me],
            enable_on_exec: false,
        };
        let counters = open_group(&events, &scope);
        assert_eq!(counters.len(), 2);
        if let Counter::NotSupported(e) = &counters[0] {
            assert!(is_permission(e), "{e}");
            return;
        }
        counters[0].enable();
        let pages: Vec<Vec<u8>> = (0..64).map(|_| vec![1u8; 4096]).collect();
        assert_eq!(pages.len(), 64);
        let clock = counters[0].read().unwrap();
        let faults = counters[1].read().unwrap();
        assert!(
            clock.value > 0 && faults.running_ns > 0,
            "{clock:?} {faults:?}"
        );
        let bad = crate::event::parse_event_list("task-clock,nosuchcat:nosuchevent").unwrap();
        assert!(open_group(&bad, &scope)
            .iter()
            .all(|c| matches!(c, Counter::NotSupported(_))));
    }

    #[test]
    fn unknown_tracepoint_is_an_error() {
        let event = parse_event("nosuchcat:nosuchevent").unwrap();
        let scope = Scope::Tasks {
            tids: vec![std::process::id() as i32],
            enable_on_exec: false,
        };
        assert!(matches!(
            Counter::open(&event, &scope),
            Err(StatError::UnknownTracepoint { .. })
        ));
    }
}
