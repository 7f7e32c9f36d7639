//! The `perf_event_attr`s we open: the on-CPU sampling event (cycles or
//! cpu-clock, which also carries the side-band MMAP2/COMM/TASK/SWITCH records)
//! and the `sched:sched_switch` tracepoint for off-CPU stacks.

use perf_event_open_sys::bindings as b;

/// x86_64 register numbers (arch/x86/include/uapi/asm/perf_regs.h).
const REG_BP: u64 = 6;
/// Stack pointer.
const REG_SP: u64 = 7;
/// Instruction pointer.
const REG_IP: u64 = 8;
/// The user registers we ask for, in the order the kernel writes them (by bit).
pub const USER_REGS_MASK: u64 = (1 << REG_BP) | (1 << REG_SP) | (1 << REG_IP);

/// Sample fields of the on-CPU event. PERF_SAMPLE_IDENTIFIER first so a
/// record can be attributed to its event before the rest is parsed.
pub const ON_CPU_SAMPLE_TYPE: u64 = (b::PERF_SAMPLE_IDENTIFIER
    | b::PERF_SAMPLE_IP
    | b::PERF_SAMPLE_TID
    | b::PERF_SAMPLE_TIME
    | b::PERF_SAMPLE_CPU
    | b::PERF_SAMPLE_PERIOD
    | b::PERF_SAMPLE_CALLCHAIN
    | b::PERF_SAMPLE_REGS_USER
    | b::PERF_SAMPLE_STACK_USER) as u64;

/// Sample fields of the sched_switch tracepoint (adds the raw tracepoint data).
pub const SWITCH_SAMPLE_TYPE: u64 = ON_CPU_SAMPLE_TYPE | b::PERF_SAMPLE_RAW as u64;

/// Which hardware/software event samples on-CPU time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnCpuEvent {
    /// PERF_COUNT_HW_CPU_CYCLES.
    Cycles,
    /// PERF_COUNT_SW_CPU_CLOCK.
    CpuClock,
}

/// Settings shared by every event of a session.
#[derive(Debug, Clone, Copy)]
pub struct AttrSettings {
    /// Follow children (command and `-p` targets).
    pub inherit: bool,
    /// Start disabled and enable at the target's exec (command target).
    pub enable_on_exec: bool,
    /// Leave out kernel samples and kernel callchains (unprivileged fallback).
    pub exclude_kernel: bool,
    /// Bytes of user stack to copy per sample.
    pub user_stack_bytes: u32,
    /// Ask for build ids in MMAP2 records (kernel ≥ 5.12).
    pub build_id: bool,
    /// Emit PERF_RECORD_SWITCH records (off-CPU end markers).
    pub context_switch: bool,
    /// Ring buffer bytes after which poll() wakes us.
    pub wakeup_bytes: u32,
}

fn base(settings: &AttrSettings, sample_type: u64) -> b::perf_event_attr {
    // SAFETY: perf_event_attr is plain old data; all-zero is its documented default.
    let mut attr: b::perf_event_attr = unsafe { std::mem::zeroed() };
    attr.size = std::mem::size_of::<b::perf_event_attr>() as u32;
    attr.sample_type = sample_type;
    attr.sample_regs_user = USER_REGS_MASK;
    attr.sample_stack_user = settings.user_stack_bytes & !7;
    attr.set_disabled(1);
    attr.set_inherit(u64::from(settings.inherit));
    attr.set_enable_on_exec(u64::from(settings.enable_on_exec));
    attr.set_exclude_kernel(u64::from(settings.exclude_kernel));
    attr.set_exclude_callchain_kernel(u64::from(settings.exclude_kernel));
    attr.set_exclude_hv(1);
    attr.set_sample_id_all(1);
    attr.set_use_clockid(1);
    attr.clockid = libc::CLOCK_MONOTONIC;
    attr
}

/// The on-CPU sampling event at `frequency_hz`, carrying the side-band records.
pub fn on_cpu(event: OnCpuEvent, frequency_hz: u32, settings: &AttrSettings) -> b::perf_event_attr {
    let mut attr = base(settings, ON_CPU_SAMPLE_TYPE);
    match event {
        OnCpuEvent::Cycles => {
            attr.type_ = b::PERF_TYPE_HARDWARE;
            attr.config = u64::from(b::PERF_COUNT_HW_CPU_CYCLES);
        }
        OnCpuEvent::CpuClock => {
            attr.type_ = b::PERF_TYPE_SOFTWARE;
            attr.config = u64::from(b::PERF_COUNT_SW_CPU_CLOCK);
        }
    }
    attr.set_freq(1);
    attr.__bindgen_anon_1.sample_freq = u64::from(frequency_hz);
    attr.set_mmap(1);
    attr.set_mmap2(1);
    attr.set_comm(1);
    attr.set_comm_exec(1);
    attr.set_task(1);
    attr.set_build_id(u64::from(settings.build_id));
    attr.set_context_switch(u64::from(settings.context_switch));
    attr.set_watermark(1);
    attr.__bindgen_anon_2.wakeup_watermark = settings.wakeup_bytes;
    attr
}

/// The `sched:sched_switch` tracepoint (id from tracefs), one sample per switch.
pub fn sched_switch(tracepoint_id: u64, settings: &AttrSettings) -> b::perf_event_attr {
    let mut attr = base(settings, SWITCH_SAMPLE_TYPE);
    attr.type_ = b::PERF_TYPE_TRACEPOINT;
    attr.config = tracepoint_id;
    attr.__bindgen_anon_1.sample_period = 1;
    attr
}
