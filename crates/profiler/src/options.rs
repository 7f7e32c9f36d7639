//! What to record and what recording returns.

use std::time::Duration;

/// Who to profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Start this command (program and arguments) and profile it and its
    /// children until it exits.
    Command(Vec<String>),
    /// Attach to running processes (all their threads).
    Pids(Vec<u32>),
    /// Every process on every CPU.
    AllCpus,
}

/// Which on-CPU sampling event was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamplingEvent {
    /// PERF_COUNT_HW_CPU_CYCLES (a PMU exists).
    Cycles,
    /// PERF_COUNT_SW_CPU_CLOCK (no PMU, e.g. most VMs): period in nanoseconds.
    CpuClock,
}

/// Options of one recording.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// Who to profile.
    pub target: Target,
    /// Samples per second per CPU (perf's `-F`), default 99.
    pub frequency_hz: u32,
    /// Stop after this long (in addition to the command exiting / Ctrl-C).
    pub duration: Option<Duration>,
    /// Also record off-CPU (blocked) time from `sched:sched_switch`.
    pub off_cpu: bool,
    /// Bytes of user stack copied per sample for DWARF unwinding (perf's default is 8192).
    pub user_stack_bytes: u32,
    /// Force the software cpu-clock event even when a PMU exists.
    pub force_cpu_clock: bool,
    /// Ring buffer size per CPU in pages (power of two).
    pub ring_pages: usize,
}

impl Default for RecordOptions {
    fn default() -> Self {
        Self {
            target: Target::AllCpus,
            frequency_hz: 99,
            duration: None,
            off_cpu: false,
            user_stack_bytes: 32 * 1024,
            force_cpu_clock: false,
            ring_pages: 256,
        }
    }
}

/// A live snapshot for the progress line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Samples received so far.
    pub samples: u64,
    /// Records the kernel dropped so far.
    pub lost: u64,
    /// Time since recording started.
    pub elapsed: Duration,
}

/// Counters of one recording, printed after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordStats {
    /// On-CPU samples received.
    pub samples: u64,
    /// Switch-out samples received (off-CPU).
    pub switch_samples: u64,
    /// Records dropped by the kernel.
    pub lost: u64,
    /// Wall-clock length of the recording.
    pub duration: Duration,
    /// Exit code of the profiled command, when there was one.
    pub exit_code: Option<i32>,
    /// Samples whose user stack could not be unwound past the first frame.
    pub truncated_stacks: u64,
}

/// The result of a recording.
#[derive(Debug, Clone)]
pub struct Recording {
    /// The symbolized profile.
    pub profile: model::Profile,
    /// Which sampling event was used.
    pub event: Option<SamplingEvent>,
    /// Counters.
    pub stats: RecordStats,
}
