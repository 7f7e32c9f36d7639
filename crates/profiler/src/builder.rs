//! Turns the [`Event`] stream of a recording into a symbolized [`Profile`].
//!
//! While events arrive the [`Assembler`] follows processes (`analysis::process`),
//! unwinds each sample's user stack against the mappings of that moment
//! (`analysis::unwind`), pairs switch-outs with switch-ins (`analysis::offcpu`)
//! and sums values per stack (`analysis::stacks`). Only [`Assembler::finish`]
//! names frames (`analysis::resolve`), once per distinct address.

use crate::analysis::elf::{ElfCache, ElfImage};
use crate::analysis::mappings::MappingKind;
use crate::analysis::offcpu::OffCpuTracker;
use crate::analysis::proc_maps::read_process;
use crate::analysis::process::ProcessTable;
use crate::analysis::resolve::{resolve, ResolveSources, SymbolCache};
use crate::analysis::stacks::{FrameId, RawFrame, SampleKey, StackTable, Values};
use crate::analysis::tailcall::recover_tail_calls;
use crate::analysis::unwind::{choose_user_stack, ProcessUnwinder, UnwindSources};
use crate::analysis::vdso::load_own_vdso;
use crate::event::{Event, RawSample, SampleKind};
use crate::options::SamplingEvent;
use model::{FrameKind, Profile, ProfileBuilder, Sample, SampleLabels, ValueType};
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

#[cfg(test)]
mod tests;

/// Nanoseconds per second.
const NS_PER_SECOND: u64 = 1_000_000_000;

/// How the assembler should interpret the events it gets.
#[derive(Debug, Clone)]
pub struct AssemblerConfig {
    /// Which on-CPU event produced `SampleKind::OnCpu` samples.
    pub sampling_event: SamplingEvent,
    /// Sampling frequency in Hz (to convert cycle samples to estimated time).
    pub frequency_hz: u32,
    /// Whether switch-out samples / switch-in records are expected.
    pub off_cpu: bool,
    /// Name functions from ELF symbol tables only (no DWARF lines or
    /// inlined frames): the continuous profiler's choice, for its memory.
    pub names_only: bool,
    /// Keep each on-CPU sample's time, and the start of each off-CPU
    /// interval of at least [`MIN_TIMED_OFF_CPU_NS`], instead of summing
    /// them over time: the continuous profiler's choice, so a span's
    /// process, thread and time find their samples. At most
    /// [`MAX_TIMED_PER_CUT`] timed entries a cut; past that samples are
    /// summed with time 0 (a bound on memory and push size).
    pub sample_times: bool,
}

/// Off-CPU intervals shorter than this are summed without a time.
pub const MIN_TIMED_OFF_CPU_NS: u64 = 1_000_000;
/// Timed entries kept per cut (19 Hz on 64 CPUs for 10 s is 12 160).
pub const MAX_TIMED_PER_CUT: usize = 50_000;

/// Counters the assembler keeps while building.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssemblerStats {
    /// Samples whose user stack could not be unwound past the first frame.
    pub truncated_stacks: u64,
    /// On-CPU samples handled.
    pub on_cpu_samples: u64,
    /// Blocking (not preempted) switch-outs handled.
    pub blocking_switch_outs: u64,
    /// Off-CPU intervals closed (and counted in the `off_cpu` column).
    pub off_cpu_intervals: u64,
    /// Off-CPU intervals still open at the end (dropped).
    pub open_off_cpu_intervals: u64,
    /// Records the kernel reported lost.
    pub lost: u64,
}

/// Builds a profile from events.
pub struct Assembler {
    config: AssemblerConfig,
    processes: ProcessTable,
    elf_cache: ElfCache,
    /// Symbolization results kept from one cut to the next.
    symbols: SymbolCache,
    /// Our vDSO, loaded at the first user stack (`None` inside until then).
    vdso: Option<Option<Arc<ElfImage>>>,
    unwinders: FxHashMap<u32, ProcessUnwinder>,
    stacks: StackTable,
    off_cpu: OffCpuTracker<SampleKey>,
    /// Pids whose `/proc` entry was read (or that need none).
    seeded: FxHashSet<u32>,
    /// Processes that exited since the last cut.
    exited: Vec<u32>,
    /// Reused per sample: frame ids of the stack being built.
    frame_ids: Vec<u32>,
    /// Reused per sample: the unwound user addresses.
    user_addresses: Vec<u64>,
    /// Unix ns minus CLOCK_MONOTONIC ns, for the times of timed samples.
    wall_offset_ns: i64,
    stats: AssemblerStats,
}

impl std::fmt::Debug for Assembler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assembler")
            .field("config", &self.config)
            .field("stats", &self.stats)
            .field("frames", &self.stacks.frames().len())
            .field("mappings", &self.processes.registry.len())
            .finish_non_exhaustive()
    }
}

impl Assembler {
    /// A new assembler.
    pub fn new(config: AssemblerConfig) -> Self {
        Self {
            symbols: SymbolCache::new(config.names_only),
            config,
            processes: ProcessTable::default(),
            elf_cache: ElfCache::default(),
            vdso: None,
            unwinders: FxHashMap::default(),
            stacks: StackTable::default(),
            off_cpu: OffCpuTracker::default(),
            seeded: FxHashSet::default(),
            exited: Vec::new(),
            frame_ids: Vec::with_capacity(128),
            user_addresses: Vec::with_capacity(128),
            wall_offset_ns: 0,
            stats: AssemblerStats::default(),
        }
    }

    /// Loads mappings and names of a process that existed before recording
    /// started (from `/proc/PID/maps` and `/proc/PID/task/*/comm`). A process
    /// that does not exist is silently skipped.
    pub fn seed_process(&mut self, pid: u32) {
        self.seeded.insert(pid);
        let Some(snapshot) = read_process(pid) else {
            return;
        };
        self.processes.get_or_create(pid);
        if let Some(name) = &snapshot.name {
            self.processes.comm(pid, pid, name, false);
        }
        for (tid, name) in &snapshot.threads {
            self.processes.comm(pid, *tid, name, false);
        }
        for mapping in &snapshot.mappings {
            self.processes.add_mapping(mapping);
        }
    }

    /// Makes sure `pid` is known, reading `/proc` once for a process first
    /// seen mid-recording without a FORK (e.g. one that predates recording).
    fn ensure_process(&mut self, pid: u32) {
        if self.processes.contains(pid) {
            return;
        }
        if !self.seeded.contains(&pid) {
            self.seed_process(pid);
        }
        self.processes.get_or_create(pid);
    }

    /// Feeds one event. Call in ring-buffer order per CPU; events of different
    /// CPUs may interleave by time.
    pub fn handle(&mut self, event: Event) {
        match event {
            Event::Sample(sample) => self.sample(&sample),
            Event::Mmap(mmap) => {
                self.ensure_process(mmap.pid);
                self.processes.add_mapping(&mmap);
            }
            Event::Comm {
                pid,
                tid,
                name,
                exec,
                ..
            } => {
                if exec {
                    // The exec replaces the address space: nothing to read.
                    self.seeded.insert(pid);
                } else {
                    self.ensure_process(pid);
                }
                self.processes.comm(pid, tid, &name, exec);
            }
            Event::Fork {
                pid,
                ppid,
                tid,
                ptid,
                ..
            } => {
                self.ensure_process(ppid);
                self.seeded.insert(pid);
                self.processes.fork(pid, ppid, tid, ptid);
            }
            Event::Exit { pid, tid, .. } => {
                // Kept: samples of exited processes still resolve at the end
                // (or at the next cut, which then forgets them).
                if pid == tid {
                    self.exited.push(pid);
                }
            }
            Event::SwitchIn { tid, time_ns, .. } => {
                if self.config.off_cpu {
                    if let Some((key, ns)) = self.off_cpu.switch_in(tid, time_ns) {
                        self.add_off_cpu(key, ns);
                    }
                }
            }
            Event::Lost { count } => self.stats.lost += count,
        }
    }

    fn add_off_cpu(&mut self, mut key: SampleKey, off_cpu_ns: u64) {
        self.stats.off_cpu_intervals += 1;
        if off_cpu_ns < MIN_TIMED_OFF_CPU_NS || self.stacks.len() >= MAX_TIMED_PER_CUT {
            key.time_ns = 0;
        }
        let ns = i64::try_from(off_cpu_ns).unwrap_or(i64::MAX);
        self.stacks.add(key, [0, 0, ns]);
    }

    /// Estimated on-CPU nanoseconds of one sample.
    fn cpu_ns(&self, sample: &RawSample) -> i64 {
        let nominal = NS_PER_SECOND / u64::from(self.config.frequency_hz.max(1));
        let ns = match self.config.sampling_event {
            SamplingEvent::CpuClock if sample.period > 0 => sample.period,
            SamplingEvent::CpuClock | SamplingEvent::Cycles => nominal,
        };
        i64::try_from(ns).unwrap_or(i64::MAX)
    }

    fn sample(&mut self, sample: &RawSample) {
        if let SampleKind::SwitchOut { prev_state } = sample.kind {
            // Preempted threads are still runnable: that is not off-CPU time.
            if !self.config.off_cpu || prev_state == 0 {
                return;
            }
        }
        self.ensure_process(sample.pid);
        let mut key = self.stack_key(sample);
        match sample.kind {
            SampleKind::OnCpu => {
                if self.stacks.len() >= MAX_TIMED_PER_CUT {
                    key.time_ns = 0;
                }
                self.stats.on_cpu_samples += 1;
                if self.config.off_cpu {
                    if let Some((open, ns)) = self.off_cpu.on_cpu(sample.tid, sample.time_ns) {
                        self.add_off_cpu(open, ns);
                    }
                }
                let values: Values = [1, self.cpu_ns(sample), 0];
                self.stacks.add(key, values);
            }
            SampleKind::SwitchOut { .. } => {
                self.stats.blocking_switch_outs += 1;
                if let Some((closed, ns)) = self.off_cpu.switch_out(sample.tid, sample.time_ns, key)
                {
                    self.add_off_cpu(closed, ns);
                }
            }
        }
    }

    /// Unwinds the sample's user stack and interns its whole stack.
    fn stack_key(&mut self, sample: &RawSample) -> SampleKey {
        let pid = sample.pid;
        self.user_addresses.clear();
        let mut unwound_to_root = false;
        if let Some(regs) = sample.user_regs.filter(|r| r.ip != 0) {
            let vdso = self.vdso.get_or_insert_with(load_own_vdso);
            if let Some(process) = self.processes.get(pid) {
                let unwinder = self.unwinders.entry(pid).or_default();
                unwinder.sync(
                    pid,
                    process,
                    &mut UnwindSources {
                        registry: &self.processes.registry,
                        elf_cache: &mut self.elf_cache,
                        vdso: vdso.as_ref(),
                    },
                );
                unwound_to_root =
                    unwinder.unwind(regs, &sample.user_stack, &mut self.user_addresses);
            }
        }
        let user = choose_user_stack(&self.user_addresses, unwound_to_root, &sample.user_ips);
        if user.len() == 1 {
            self.stats.truncated_stacks += 1;
        }

        self.frame_ids.clear();
        for (i, &address) in sample.kernel_ips.iter().enumerate() {
            let is_return = i > 0;
            let id = self.stacks.frame(RawFrame::Kernel { address, is_return });
            self.frame_ids.push(id);
        }
        let process = self.processes.get(pid);
        for (i, &address) in user.iter().enumerate() {
            let is_return = i > 0;
            // A call at the very end of a mapping returns just past it.
            let lookup = address.wrapping_sub(u64::from(is_return));
            let frame = match process.and_then(|p| p.mapping_at(lookup)) {
                Some(mapping) => {
                    let anonymous = self
                        .processes
                        .registry
                        .get(mapping)
                        .is_some_and(|m| m.kind == MappingKind::Anonymous);
                    RawFrame::User {
                        mapping,
                        address,
                        is_return,
                        pid: if anonymous { pid } else { 0 },
                    }
                }
                None => RawFrame::Unmapped { address, pid },
            };
            let id = self.stacks.frame(frame);
            self.frame_ids.push(id);
        }
        let stack = self.stacks.stack(&self.frame_ids);
        SampleKey {
            pid,
            tid: sample.tid,
            thread_name: self.processes.thread_name(pid, sample.tid),
            process_name: self.processes.process_name(pid),
            stack,
            time_ns: if self.config.sample_times {
                sample.time_ns
            } else {
                0
            },
        }
    }

    /// Finishes: symbolizes everything and returns the profile.
    /// `start_time_ns` is wall-clock (Unix epoch) and `duration_ns` the recording length.
    pub fn finish(mut self, start_time_ns: i64, duration_ns: i64) -> (Profile, AssemblerStats) {
        let profile = self.assemble(start_time_ns, duration_ns, true);
        self.stats.open_off_cpu_intervals = self.off_cpu.open_count() as u64;
        (profile, self.stats)
    }

    /// Sets Unix time minus CLOCK_MONOTONIC time (both ns), which turns the
    /// kernel's sample times into the Unix times a timed sample carries.
    pub fn set_wall_offset(&mut self, wall_minus_monotonic_ns: i64) {
        self.wall_offset_ns = wall_minus_monotonic_ns;
    }

    /// Continuous profiling: symbolizes and returns what was sampled since
    /// the last cut (without per-process root frames: the caller splits by
    /// pid), then starts counting afresh. Processes, their mappings, parsed
    /// ELF files and unwinders are kept for the next cut; processes that
    /// exited are forgotten.
    pub fn cut(&mut self, start_time_ns: i64, duration_ns: i64) -> Profile {
        let profile = self.assemble(start_time_ns, duration_ns, false);
        self.stacks = StackTable::default();
        self.release_pages();
        for pid in std::mem::take(&mut self.exited) {
            self.processes.forget(pid);
            self.unwinders.remove(&pid);
            self.seeded.remove(&pid);
        }
        profile
    }

    /// Drops the resident pages of the binaries unwound through so far (they
    /// stay in the page cache): a continuous profiler calls this every
    /// second or so, so unwinding a compiler's megabytes of `.eh_frame`
    /// does not pile up in its resident memory between cuts.
    pub fn release_pages(&self) {
        self.elf_cache.release_pages();
    }

    fn assemble(&mut self, start_time_ns: i64, duration_ns: i64, process_roots: bool) -> Profile {
        let mut sample_types = vec![
            ValueType::new("samples", "count"),
            ValueType::new("cpu", "nanoseconds"),
        ];
        if self.config.off_cpu {
            sample_types.push(ValueType::new("off_cpu", "nanoseconds"));
        }
        let columns = sample_types.len();
        let mut builder = ProfileBuilder::new(sample_types);

        let mut stacks: Vec<Vec<FrameId>> = self
            .stacks
            .stacks()
            .into_iter()
            .map(<[FrameId]>::to_vec)
            .collect();
        recover_tail_calls(
            &mut stacks,
            &mut self.stacks,
            &self.processes.registry,
            &mut self.elf_cache,
        );
        let vdso = self.vdso.clone().flatten();
        let resolved = resolve(
            self.stacks.frames(),
            &mut ResolveSources {
                registry: &self.processes.registry,
                elf_cache: &mut self.elf_cache,
                vdso: vdso.as_ref(),
                cache: &mut self.symbols,
            },
            &mut builder,
        );
        let totals = self.stacks.totals();
        let pids: FxHashSet<u32> = totals.iter().map(|(k, _)| k.pid).collect();
        let with_process_root = process_roots && pids.len() > 1;
        let mut roots = FxHashMap::default();
        for (key, values) in totals {
            if values.iter().all(|&v| v == 0) {
                continue;
            }
            let mut locations: Vec<usize> = stacks
                .get(key.stack as usize)
                .map(|s| {
                    s.iter()
                        .filter_map(|&f| resolved.locations.get(f as usize).copied())
                        .collect()
                })
                .unwrap_or_default();
            if locations.is_empty() {
                locations.push(builder.named_location("[unknown]", "", 0, FrameKind::Synthetic));
            }
            if with_process_root {
                let name = process_label(self.processes.names.get(key.process_name), key.pid);
                let root = *roots.entry(name).or_insert_with_key(|name| {
                    builder.named_location(name, "", 0, FrameKind::Synthetic)
                });
                locations.push(root);
            }
            builder.add_sample(Sample {
                locations,
                values: values[..columns].to_vec(),
                labels: SampleLabels {
                    pid: key.pid,
                    tid: key.tid,
                    thread_name: self.processes.names.get(key.thread_name).to_string(),
                    time_ns: if key.time_ns == 0 {
                        0
                    } else {
                        i64::try_from(key.time_ns)
                            .unwrap_or(i64::MAX)
                            .saturating_add(self.wall_offset_ns)
                    },
                },
            });
        }

        let mut profile = builder.finish();
        profile.start_time_ns = start_time_ns;
        profile.duration_ns = duration_ns;
        profile.period_type = Some(ValueType::new("cpu", "nanoseconds"));
        let period_ns = NS_PER_SECOND / u64::from(self.config.frequency_hz.max(1));
        profile.period = i64::try_from(period_ns).unwrap_or(i64::MAX);
        profile.comments.push(format!(
            "event: {} at {} Hz",
            match self.config.sampling_event {
                SamplingEvent::CpuClock => "cpu-clock",
                SamplingEvent::Cycles => "cycles",
            },
            self.config.frequency_hz
        ));
        profile.comments.extend(resolved.notes);
        profile
    }
}

/// The root frame name of a process: its name, or its pid when it has none.
fn process_label(name: &str, pid: u32) -> String {
    match (name, pid) {
        ("", 0) => "swapper".to_string(),
        ("", pid) => format!("[pid {pid}]"),
        (name, _) => name.to_string(),
    }
}
