//! Top-down (TMA) level 1 for `whyslow stat`: which CPU this is, which raw
//! counters to open on it, and the retiring / bad speculation / frontend
//! bound / backend bound fractions computed from their counts.
//!
//! Pure functions over text and numbers, no syscalls beyond reading
//! `/proc/cpuinfo`: the caller opens [`events`] with `perf_event_open`, reads
//! them and hands the counts, in the same order, to [`level1`]. Whether a
//! hardware PMU exists at all (most VMs, this build machine included, have
//! none) is the caller's question; [`detect`] only names the CPU.
//!
//! The formulas are those of the public tables, per vendor:
//! - Intel before Ice Lake: pmu-tools `simple_ratios.py` and
//!   `skl_client_ratios.py` (andikleen/pmu-tools), 4 slots per cycle.
//! - Intel Ice Lake and later: the PERF_METRICS fractions, normalised by
//!   their sum as pmu-tools `icx_server_ratios.py` (`PERF_METRICS_SUM`) and
//!   perf's `td_metric_ratio` (`tools/perf/util/stat-shadow.c`, perf 5.10 to
//!   6.4) do; events from `tools/perf/Documentation/topdown.txt`.
//! - AMD Zen 4 and Zen 5: the `PipelineL1` metric group of Linux perf
//!   (`tools/perf/pmu-events/arch/x86/amdzen4/pipeline.json`, `amdzen5/`),
//!   6 and 8 dispatch slots per cycle.
//!
//! Zen 3 is recognised but has no level 1: its public event tables
//! (`amdzen3/*.json`) have neither `de_no_dispatch_per_slot` (0x1a0) nor
//! `de_src_op_disp` and no `PipelineL1` group, so [`events`] is empty for it.

mod cpuinfo;

use std::fmt;

/// A CPU family with a known top-down level 1, as [`detect`] names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    /// Intel Sandy Bridge to Cascade Lake: 4 slots per cycle, counted with
    /// generic counters.
    IntelPreIcelake {
        /// Whether SMT is on: slots and recovery cycles are then counted for
        /// the whole core (AnyThread) and halved, as pmu-tools does.
        smt: bool,
    },
    /// Intel Ice Lake and later big cores: the SLOTS fixed counter and
    /// PERF_METRICS.
    IntelIcelake,
    /// AMD Zen 3, 4 or 5. Zen 4 has 6 dispatch slots per cycle, Zen 5 has 8;
    /// Zen 3 has no level-1 events (see the module docs).
    AmdZen {
        /// 3, 4 or 5.
        generation: u8,
    },
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Vendor::IntelPreIcelake { smt: true } => f.write_str("Intel before Ice Lake, SMT on"),
            Vendor::IntelPreIcelake { smt: false } => f.write_str("Intel before Ice Lake"),
            Vendor::IntelIcelake => f.write_str("Intel Ice Lake or later"),
            Vendor::AmdZen { generation } => write!(f, "AMD Zen {generation}"),
        }
    }
}

/// One event to count: perf type and config as `perf_event_open` takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSpec {
    /// The name perf's event tables use.
    pub name: &'static str,
    /// `perf_event_attr.type`: [`PERF_TYPE_RAW`] for every event here.
    pub perf_type: u32,
    /// `perf_event_attr.config`.
    pub config: u64,
}

/// The level-1 fractions of the pipeline slots, each clamped to 0..=1 and
/// summing to about 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level1 {
    /// Slots that retired an operation.
    pub retiring: f64,
    /// Slots lost to mispredictions and machine clears.
    pub bad_speculation: f64,
    /// Slots the front end did not fill.
    pub frontend_bound: f64,
    /// Slots the back end could not accept.
    pub backend_bound: f64,
    /// AMD only: slots lost to the other SMT thread (`None` on Intel, whose
    /// level 1 has no such category).
    pub smt_contention: Option<f64>,
}

impl Level1 {
    /// The fractions with their labels, for printing: retiring, bad
    /// speculation, frontend bound, backend bound, then SMT contention when
    /// it was measured.
    pub fn rows(&self) -> Vec<(&'static str, f64)> {
        let mut rows = vec![
            ("retiring", self.retiring),
            ("bad speculation", self.bad_speculation),
            ("frontend bound", self.frontend_bound),
            ("backend bound", self.backend_bound),
        ];
        if let Some(smt) = self.smt_contention {
            rows.push(("smt contention", smt));
        }
        rows
    }
}

/// `perf_event_attr.type` of the core PMU (`PERF_TYPE_RAW`). On hybrid Intel
/// parts the big-core PMU `cpu_core` registers under this type
/// (`arch/x86/events/core.c`, `init_hw_perf_events`), so the events count on
/// P-cores only, the only cores with PERF_METRICS.
pub const PERF_TYPE_RAW: u32 = 4;

/// Names the CPU from `/proc/cpuinfo`; `None` when it cannot be read or the
/// CPU has no level 1 known here (see [`detect_from`]).
pub fn detect() -> Option<Vendor> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    detect_from(&text)
}

/// Intel family 6 models with the pre-Ice Lake 4-wide events, from Linux
/// perf's `tools/perf/pmu-events/arch/x86/mapfile.csv` and pmu-tools'
/// `toplev.py` `known_cpus`.
const INTEL_PRE_ICELAKE: &[u32] = &[
    0x2A, // Sandy Bridge
    0x2D, // Sandy Bridge-EP (Jaketown)
    0x3A, // Ivy Bridge
    0x3E, // Ivy Bridge-EP (Ivytown)
    0x3C, 0x45, 0x46, // Haswell
    0x3F, // Haswell-X
    0x3D, 0x47, // Broadwell
    0x4F, 0x56, // Broadwell-X, Broadwell-DE
    0x4E, 0x5E, // Skylake
    0x8E, 0x9E, // Kaby Lake, Coffee Lake
    0xA5, 0xA6, // Comet Lake
    0x55, // Skylake-X, Cascade Lake, Cooper Lake
];

/// Intel family 6 models with the SLOTS counter and PERF_METRICS, from the
/// same two lists (names as in Linux `arch/x86/include/asm/intel-family.h`).
/// Atom-only parts (Gracemont 0xBE, Sierra Forest 0xAF, ...) use other
/// events and are left out.
const INTEL_ICELAKE_PLUS: &[u32] = &[
    0x7D, 0x7E, 0x9D, // Ice Lake client, Ice Lake NNPI
    0x6A, 0x6C, // Ice Lake-X, Ice Lake-D
    0x8C, 0x8D, // Tiger Lake
    0xA7, // Rocket Lake
    0x8F, // Sapphire Rapids
    0xCF, // Emerald Rapids
    0xAD, 0xAE, // Granite Rapids
    0x97, 0x9A, // Alder Lake (hybrid: P-cores only)
    0xB7, 0xBA, 0xBF, // Raptor Lake (hybrid)
    0xAA, 0xAC, // Meteor Lake (hybrid)
    0xC5, 0xC6, // Arrow Lake (hybrid)
    0xBD, // Lunar Lake (hybrid)
];

/// The Zen generation of an AMD family/model, from Linux
/// `arch/x86/kernel/cpu/amd.c` (`bsp_init_amd`) and perf's mapfile.csv
/// (`AuthenticAMD-25-([245][[:xdigit:]]|[[:xdigit:]])` = amdzen3). Zen 6
/// (family 0x1a models 0x50-0x5f, 0x80-0xaf, 0xc0-0xcf) is unknown here.
fn zen_generation(family: u32, model: u32) -> Option<u8> {
    match (family, model) {
        (0x19, 0x00..=0x0f | 0x20..=0x5f) => Some(3),
        (0x19, 0x10..=0x1f | 0x60..=0xaf) => Some(4),
        (0x1a, 0x00..=0x2f | 0x40..=0x4f | 0x60..=0x7f) => Some(5),
        _ => None,
    }
}

/// [`detect`] on given cpuinfo text. `None` for other vendors and for models
/// not in the lists above.
pub fn detect_from(cpuinfo: &str) -> Option<Vendor> {
    let id = cpuinfo::parse(cpuinfo)?;
    match (id.vendor_id.as_str(), id.family) {
        ("GenuineIntel", 6) if INTEL_PRE_ICELAKE.contains(&id.model) => {
            Some(Vendor::IntelPreIcelake { smt: id.smt })
        }
        ("GenuineIntel", 6) if INTEL_ICELAKE_PLUS.contains(&id.model) => Some(Vendor::IntelIcelake),
        ("AuthenticAMD", family) => {
            zen_generation(family, id.model).map(|generation| Vendor::AmdZen { generation })
        }
        _ => None,
    }
}

/// Raw config of an Intel core event (sysfs `cpu/format`: event 0-7, umask
/// 8-15, any 21, cmask 24-31).
const fn intel(event: u64, umask: u64, any: bool, cmask: u64) -> u64 {
    event | (umask << 8) | ((any as u64) << 21) | (cmask << 24)
}

/// Raw config of an AMD core event (sysfs `cpu/format`: event 0-7 and 32-35,
/// umask 8-15), e.g. event 0x1a0 umask 0x01 -> 0xa0 | 0x01 << 8 | 1 << 32.
const fn amd(event: u64, umask: u64) -> u64 {
    (event & 0xff) | (umask << 8) | (((event >> 8) & 0xf) << 32)
}

const fn raw(name: &'static str, config: u64) -> EventSpec {
    EventSpec {
        name,
        perf_type: PERF_TYPE_RAW,
        config,
    }
}

/// Pipeline width of Intel cores before Ice Lake (pmu-tools
/// `Pipeline_Width`).
const INTEL_PRE_ICELAKE_WIDTH: f64 = 4.0;

// Pre-Ice Lake counts, in this order; encodings from the Intel SDM as the
// kernel's topdown-* aliases (arch/x86/events/intel/core.c) and pmu-tools use.
const PRE_ICL: [EventSpec; 5] = [
    raw("cpu_clk_unhalted.thread", intel(0x3c, 0x00, false, 0)),
    raw("uops_issued.any", intel(0x0e, 0x01, false, 0)),
    raw("uops_retired.retire_slots", intel(0xc2, 0x02, false, 0)),
    raw("idq_uops_not_delivered.core", intel(0x9c, 0x01, false, 0)),
    raw("int_misc.recovery_cycles", intel(0x0d, 0x03, false, 1)),
];
// The same with SMT: core-wide (AnyThread) cycles and recovery cycles.
const PRE_ICL_SMT: [EventSpec; 5] = [
    raw("cpu_clk_unhalted.thread_any", intel(0x3c, 0x00, true, 0)),
    PRE_ICL[1],
    PRE_ICL[2],
    PRE_ICL[3],
    raw("int_misc.recovery_cycles_any", intel(0x0d, 0x03, true, 1)),
];
// Ice Lake+: fixed counter 3 and the four level-1 metric pseudo events
// (tools/perf/Documentation/topdown.txt).
const ICL: [EventSpec; 5] = [
    raw("slots", 0x0400),
    raw("topdown-retiring", 0x8000),
    raw("topdown-bad-spec", 0x8100),
    raw("topdown-fe-bound", 0x8200),
    raw("topdown-be-bound", 0x8300),
];
// Zen 4 / Zen 5 (perf json amdzen4/amdzen5: core/decode/pipeline.json).
const ZEN: [EventSpec; 6] = [
    raw("ls_not_halted_cyc", amd(0x76, 0x00)),
    raw("ex_ret_ops", amd(0xc1, 0x00)),
    raw("de_src_op_disp.all", amd(0xaa, 0x07)),
    raw(
        "de_no_dispatch_per_slot.no_ops_from_frontend",
        amd(0x1a0, 0x01),
    ),
    raw("de_no_dispatch_per_slot.backend_stalls", amd(0x1a0, 0x1e)),
    raw("de_no_dispatch_per_slot.smt_contention", amd(0x1a0, 0x60)),
];

/// The counters to open for `vendor`, in the order [`level1`] wants their
/// counts. Empty when the vendor has no level 1 (Zen 3): report top-down as
/// unavailable then.
///
/// Open them as one group (the first event leading) so all count over the
/// same time. For [`Vendor::IntelIcelake`] the group is required by the
/// kernel: SLOTS (0x0400) must lead, the four `topdown-*` events must be its
/// members and be opened with `PERF_FORMAT_GROUP`, and they cannot sample.
/// The kernel reports each metric as slots × its 8-bit fraction and resets
/// PERF_METRICS on every read, so read at least every few seconds (perf
/// suggests `-I 1000`) to keep precision on long runs.
///
/// For `IntelPreIcelake { smt: true }` the AnyThread bit (config bit 21) needs
/// `perf_event_paranoid` <= 0 or CAP_PERFMON (the kernel answers EACCES).
pub fn events(vendor: Vendor) -> Vec<EventSpec> {
    match vendor {
        Vendor::IntelPreIcelake { smt: false } => PRE_ICL.to_vec(),
        Vendor::IntelPreIcelake { smt: true } => PRE_ICL_SMT.to_vec(),
        Vendor::IntelIcelake => ICL.to_vec(),
        Vendor::AmdZen { generation } if zen_width(generation).is_some() => ZEN.to_vec(),
        Vendor::AmdZen { .. } => Vec::new(),
    }
}

/// Dispatch slots per cycle of a Zen generation with a level 1 (perf json
/// `total_dispatch_slots`).
fn zen_width(generation: u8) -> Option<f64> {
    match generation {
        4 => Some(6.0),
        5 => Some(8.0),
        _ => None,
    }
}

/// The level-1 fractions from `counts`, given in [`events`] order. `None`
/// when a count is missing, when the cycles or slots are zero, or when the
/// vendor has no level 1.
pub fn level1(vendor: Vendor, counts: &[u64]) -> Option<Level1> {
    match vendor {
        Vendor::IntelPreIcelake { smt } => pre_icelake(smt, counts.first_chunk()?),
        Vendor::IntelIcelake => icelake(counts.first_chunk()?),
        Vendor::AmdZen { generation } => zen(zen_width(generation)?, counts.first_chunk()?),
    }
}

/// pmu-tools, W = 4: SLOTS = W × CORE_CLKS (CLKS, or THREAD_ANY / 2 with
/// SMT); Frontend = IDQ_UOPS_NOT_DELIVERED.CORE / SLOTS; BadSpec =
/// (UOPS_ISSUED.ANY − RETIRE_SLOTS + W × Recovery_Cycles) / SLOTS, with
/// Recovery_Cycles = RECOVERY_CYCLES(_ANY / 2 with SMT); Retiring =
/// RETIRE_SLOTS / SLOTS; Backend = 1 − the other three (before clamping).
fn pre_icelake(smt: bool, counts: &[u64; 5]) -> Option<Level1> {
    let [clks, issued, retired, not_delivered, recovery] = counts.map(|c| c as f64);
    let threads = if smt { 2.0 } else { 1.0 };
    let slots = INTEL_PRE_ICELAKE_WIDTH * clks / threads;
    if slots <= 0.0 {
        return None;
    }
    let recovery_cycles = recovery / threads;
    let frontend = not_delivered / slots;
    let bad_speculation = (issued - retired + INTEL_PRE_ICELAKE_WIDTH * recovery_cycles) / slots;
    let retiring = retired / slots;
    let backend = 1.0 - (frontend + bad_speculation + retiring);
    Some(Level1 {
        retiring: clamp(retiring),
        bad_speculation: clamp(bad_speculation),
        frontend_bound: clamp(frontend),
        backend_bound: clamp(backend),
        smt_contention: None,
    })
}

/// Each `topdown-*` count (the kernel reports slots × the 8-bit fraction)
/// over the sum of the four, as pmu-tools `PERF_METRICS_SUM` and perf's
/// `td_metric_ratio` do, so the rounding of PERF_METRICS does not leave the
/// sum short of 1. SLOTS only has to be non-zero.
///
/// Not applied: the refinement of pmu-tools `icl_client_ratios.py` (Frontend
/// −= INT_MISC.UOP_DROPPING / SLOTS, Backend += 5 × INT_MISC.CLEARS_COUNT /
/// SLOTS, BadSpec = 1 − the rest). It needs two more generic counters outside
/// the SLOTS group, with per-model event codes; perf's `td_metric_ratio`
/// goes without it too.
fn icelake(counts: &[u64; 5]) -> Option<Level1> {
    let [slots, retiring, bad_spec, fe_bound, be_bound] = counts.map(|c| c as f64);
    let sum = retiring + bad_spec + fe_bound + be_bound;
    if slots <= 0.0 || sum <= 0.0 {
        return None;
    }
    Some(Level1 {
        retiring: clamp(retiring / sum),
        bad_speculation: clamp(bad_spec / sum),
        frontend_bound: clamp(fe_bound / sum),
        backend_bound: clamp(be_bound / sum),
        smt_contention: None,
    })
}

/// perf json `PipelineL1`: slots = width × ls_not_halted_cyc; frontend =
/// no_ops_from_frontend / slots; bad speculation = (de_src_op_disp.all −
/// ex_ret_ops) / slots; backend = backend_stalls / slots; SMT contention =
/// smt_contention / slots; retiring = ex_ret_ops / slots. Measured
/// separately, they need not sum to exactly 1.
fn zen(width: f64, counts: &[u64; 6]) -> Option<Level1> {
    let [cycles, retired_ops, dispatched_ops, frontend, backend, smt] = counts.map(|c| c as f64);
    let slots = width * cycles;
    if slots <= 0.0 {
        return None;
    }
    Some(Level1 {
        retiring: clamp(retired_ops / slots),
        bad_speculation: clamp((dispatched_ops - retired_ops) / slots),
        frontend_bound: clamp(frontend / slots),
        backend_bound: clamp(backend / slots),
        smt_contention: Some(clamp(smt / slots)),
    })
}

/// Counts read at slightly different times (or multiplexed) can push a
/// fraction a little outside 0..=1; report the nearest possible value.
fn clamp(fraction: f64) -> f64 {
    fraction.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests;
