//! Raw events handed from collection (`linux/`) to analysis (`builder`).
//!
//! These mirror the perf records we ask the kernel for, already decoded from the
//! ring buffer but not yet unwound or symbolized. They are plain data so the
//! analysis side can be tested with synthetic events, without a kernel.

/// Why a sample was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SampleKind {
    /// A periodic on-CPU sample (cycles or cpu-clock); `period` is in event units.
    #[default]
    OnCpu,
    /// A `sched:sched_switch` tracepoint hit: the task `tid` is being switched out.
    /// `prev_state` is the tracepoint's `prev_state` field (0 = still runnable, i.e. preempted).
    SwitchOut {
        /// The tracepoint's `prev_state` (0 = preempted while runnable).
        prev_state: i64,
    },
}

/// x86_64 user registers needed for unwinding (from PERF_SAMPLE_REGS_USER).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserRegs {
    /// Instruction pointer.
    pub ip: u64,
    /// Stack pointer.
    pub sp: u64,
    /// Frame pointer (rbp).
    pub bp: u64,
}

/// One sample as the kernel delivered it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawSample {
    /// On-CPU sample or switch-out.
    pub kind: SampleKind,
    /// Process id.
    pub pid: u32,
    /// Thread id.
    pub tid: u32,
    /// Kernel timestamp (CLOCK_MONOTONIC), nanoseconds.
    pub time_ns: u64,
    /// CPU the sample was taken on.
    pub cpu: u32,
    /// Sample period in event units (cycles, or nanoseconds for cpu-clock).
    pub period: u64,
    /// Kernel frames from PERF_SAMPLE_CALLCHAIN, leaf first, context markers removed.
    pub kernel_ips: Vec<u64>,
    /// User frames from PERF_SAMPLE_CALLCHAIN (frame-pointer walk by the kernel),
    /// leaf first, context markers removed; may be truncated without frame pointers.
    pub user_ips: Vec<u64>,
    /// User registers at the sample, `None` when the sample hit kernel threads.
    pub user_regs: Option<UserRegs>,
    /// Copy of the user stack starting at `user_regs.sp` (PERF_SAMPLE_STACK_USER).
    pub user_stack: Vec<u8>,
}

/// A file (or anonymous region) mapped into a process (PERF_RECORD_MMAP2, or
/// synthesized from `/proc/PID/maps` for processes that existed before recording).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MmapEvent {
    /// Process id.
    pub pid: u32,
    /// Thread id.
    pub tid: u32,
    /// First mapped address.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
    /// File offset of `start`.
    pub file_offset: u64,
    /// Path (`//anon`, `[vdso]`, `/usr/lib/...`).
    pub path: String,
    /// Whether the mapping is executable (PROT_EXEC).
    pub executable: bool,
    /// GNU build id when the kernel reported it (PERF_RECORD_MISC_MMAP_BUILD_ID).
    pub build_id: Option<Vec<u8>>,
    /// Kernel timestamp, nanoseconds (0 for synthesized mappings).
    pub time_ns: u64,
}

/// Everything collection reports, in ring-buffer order per CPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A sample (on-CPU or switch-out).
    Sample(RawSample),
    /// A new mapping.
    Mmap(MmapEvent),
    /// A thread got a name (`exec == true` when it came from execve, which also
    /// replaces the process's address space).
    Comm {
        /// Process id.
        pid: u32,
        /// Thread id.
        tid: u32,
        /// The new name.
        name: String,
        /// Set when the name comes from an exec.
        exec: bool,
        /// Kernel timestamp, nanoseconds.
        time_ns: u64,
    },
    /// A process or thread was created.
    Fork {
        /// New process id.
        pid: u32,
        /// Parent process id.
        ppid: u32,
        /// New thread id.
        tid: u32,
        /// Parent thread id.
        ptid: u32,
        /// Kernel timestamp, nanoseconds.
        time_ns: u64,
    },
    /// A process or thread exited.
    Exit {
        /// Process id.
        pid: u32,
        /// Thread id.
        tid: u32,
        /// Kernel timestamp, nanoseconds.
        time_ns: u64,
    },
    /// A thread was switched back in (PERF_RECORD_SWITCH without the OUT flag):
    /// ends the off-CPU interval opened by its last `SwitchOut` sample.
    SwitchIn {
        /// Process id.
        pid: u32,
        /// Thread id.
        tid: u32,
        /// Kernel timestamp, nanoseconds.
        time_ns: u64,
    },
    /// The kernel dropped records because the ring buffer was full.
    Lost {
        /// How many records were dropped.
        count: u64,
    },
}
