//! Top-down level 1 (TMA L1): which vendor's events to count and how they
//! become the four fractions. Table-driven; tested on canned counter
//! values per vendor, since no CI machine here has a hardware PMU.

/// The CPUs whose top-down level 1 whyslow knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    /// Intel before Ice Lake: 4 slots per cycle, per-core counts.
    IntelPreIcelake {
        /// Whether SMT is on (slots are per core: half the thread cycles).
        smt: bool,
    },
    /// Intel Ice Lake and later: the SLOTS fixed counter and PERF_METRICS.
    IntelIcelake,
    /// AMD Zen 3, 4 or 5 (6 or 8 dispatch slots per cycle).
    AmdZen {
        /// 3, 4 or 5.
        generation: u8,
    },
}

/// One event to count: perf type and config as `perf_event_open` takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSpec {
    /// The name perf's event tables use.
    pub name: &'static str,
    /// `perf_event_attr.type` (PERF_TYPE_RAW = 4 for raw vendor events).
    pub perf_type: u32,
    /// `perf_event_attr.config`.
    pub config: u64,
}

/// The four level-1 fractions (each 0..=1, summing to about 1).
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
    /// AMD only: slots lost to the other SMT thread.
    pub smt_contention: Option<f64>,
}

/// The vendor of this machine's CPU from `/proc/cpuinfo`, when whyslow
/// knows its top-down events. (Stub until implemented.)
pub fn detect() -> Option<Vendor> {
    None
}

/// The events to count for `vendor`, in the order [`level1`] takes their counts.
pub fn events(_vendor: Vendor) -> Vec<EventSpec> {
    Vec::new()
}

/// Level 1 from the counts of [`events`] (same order); `None` when a count
/// is missing or there were no cycles. (Stub until implemented.)
pub fn level1(_vendor: Vendor, _counts: &[u64]) -> Option<Level1> {
    None
}
