//! What is real without a hardware PMU, as plain data: the command's rusage,
//! a wall-time breakdown from schedstat (on-CPU / run-queue wait / the rest,
//! blocked or sleeping), and how busy the host was over the run (steal time,
//! PSI stall totals). Gathered by `linux/`, printed by `print/real.rs`.

/// `wait4`'s rusage of the command and the children it waited for.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rusage {
    /// User CPU seconds.
    pub user_s: f64,
    /// System CPU seconds.
    pub sys_s: f64,
    /// Voluntary context switches (blocked, slept).
    pub voluntary_switches: u64,
    /// Involuntary context switches (preempted).
    pub involuntary_switches: u64,
    /// Minor page faults.
    pub minor_faults: u64,
    /// Major page faults (needed I/O).
    pub major_faults: u64,
    /// Peak resident set size, KiB.
    pub max_rss_kib: u64,
}

/// `/proc/PID/schedstat` totals (or their delta over the run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedStat {
    /// Nanoseconds on a CPU.
    pub on_cpu_ns: u64,
    /// Nanoseconds runnable but waiting in a run queue.
    pub run_queue_ns: u64,
    /// Times scheduled in.
    pub timeslices: u64,
}

impl SchedStat {
    /// `self - earlier`, saturating (a thread that exited takes its time with it).
    pub fn since(&self, earlier: &SchedStat) -> SchedStat {
        SchedStat {
            on_cpu_ns: self.on_cpu_ns.saturating_sub(earlier.on_cpu_ns),
            run_queue_ns: self.run_queue_ns.saturating_sub(earlier.run_queue_ns),
            timeslices: self.timeslices.saturating_sub(earlier.timeslices),
        }
    }
}

/// Whose schedstat the breakdown covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedScope {
    /// The command's main thread, read while it was a zombie.
    MainThread,
    /// Every thread of the attached process, summed (this many).
    Threads(usize),
}

/// Host-wide counters at one moment: /proc/stat CPU ticks and PSI totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostSample {
    /// Steal ticks and all ticks (user … steal) from the `cpu` line.
    pub steal_ticks: Option<(u64, u64)>,
    /// PSI `some total=` in µs for cpu, io, memory.
    pub psi_some_us: [Option<u64>; 3],
}

/// How the host changed over the run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HostDelta {
    /// Steal in % of all CPU ticks.
    pub steal_pct: Option<f64>,
    /// PSI `some` stall µs for cpu, io, memory.
    pub psi_some_us: [Option<u64>; 3],
}

impl HostSample {
    /// The change from `earlier` to `self`.
    pub fn since(&self, earlier: &HostSample) -> HostDelta {
        let steal_pct = match (self.steal_ticks, earlier.steal_ticks) {
            (Some((s1, t1)), Some((s0, t0))) if t1 > t0 => {
                Some(100.0 * s1.saturating_sub(s0) as f64 / (t1 - t0) as f64)
            }
            (Some(_), Some(_)) => Some(0.0),
            _ => None,
        };
        let mut psi = [None; 3];
        for (i, slot) in psi.iter_mut().enumerate() {
            if let (Some(a), Some(b)) = (self.psi_some_us[i], earlier.psi_some_us[i]) {
                *slot = Some(a.saturating_sub(b));
            }
        }
        HostDelta {
            steal_pct,
            psi_some_us: psi,
        }
    }
}

/// Everything real about one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RealStats {
    /// Wall nanoseconds of the run.
    pub wall_ns: u64,
    /// The command's rusage (command targets only).
    pub rusage: Option<Rusage>,
    /// Scheduler time and whose it is.
    pub sched: Option<(SchedStat, SchedScope)>,
    /// Host steal and pressure over the run.
    pub host: HostDelta,
}
