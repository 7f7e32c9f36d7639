//! Turns the [`Event`] stream of a recording into a symbolized [`Profile`].
//!
//! STUB: the real implementation (process tracking, framehop unwinding,
//! off-CPU pairing, blazesym symbolization) replaces this file. The public
//! signatures below are the contract `record.rs` relies on.

use crate::event::Event;
use crate::options::SamplingEvent;
use model::Profile;

/// How the assembler should interpret the events it gets.
#[derive(Debug, Clone)]
pub struct AssemblerConfig {
    /// Which on-CPU event produced `SampleKind::OnCpu` samples.
    pub sampling_event: SamplingEvent,
    /// Sampling frequency in Hz (to convert cycle samples to estimated time).
    pub frequency_hz: u32,
    /// Whether switch-out samples / switch-in records are expected.
    pub off_cpu: bool,
}

/// Counters the assembler keeps while building.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssemblerStats {
    /// Samples whose user stack could not be unwound past the first frame.
    pub truncated_stacks: u64,
}

/// Builds a profile from events.
#[derive(Debug)]
pub struct Assembler {
    config: AssemblerConfig,
}

impl Assembler {
    /// A new assembler.
    pub fn new(config: AssemblerConfig) -> Self {
        Self { config }
    }

    /// Loads mappings and names of a process that existed before recording
    /// started (from `/proc/PID/maps` and `/proc/PID/task/*/comm`).
    pub fn seed_process(&mut self, pid: u32) {
        let _ = pid;
    }

    /// Feeds one event. Call in ring-buffer order per CPU; events of different
    /// CPUs may interleave by time.
    pub fn handle(&mut self, event: Event) {
        let _ = (&self.config, event);
    }

    /// Finishes: symbolizes everything and returns the profile.
    /// `start_time_ns` is wall-clock (Unix epoch) and `duration_ns` the recording length.
    pub fn finish(self, start_time_ns: i64, duration_ns: i64) -> (Profile, AssemblerStats) {
        let mut p = Profile::default();
        p.start_time_ns = start_time_ns;
        p.duration_ns = duration_ns;
        (p, AssemblerStats::default())
    }
}
