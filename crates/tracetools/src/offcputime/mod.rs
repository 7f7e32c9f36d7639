//! `offcputime`: time threads spend off CPU (blocked, sleeping, preempted)
//! summed per kernel + user stack, like libbpf-tools' and BCC's offcputime,
//! from the classic `sched:sched_switch` tracepoint only (see [`program`]).
//! Stacks are named in user space at the end ([`symbolize`]) and printed
//! as stack blocks or folded lines ([`render`]).
//!
//! ```no_run
//! use tracetools::offcputime::{Offcputime, Options};
//! let mut tracer = Offcputime::start(&Options::default())?;
//! std::thread::sleep(std::time::Duration::from_secs(1));
//! tracer.stop();
//! for e in tracer.collect()? {
//!     println!("{} ({}): {} us", e.comm, e.pid, e.total_us);
//! }
//! # Ok::<(), tracetools::Error>(())
//! ```

pub mod entry;
pub mod options;
pub mod program;
pub mod render;
pub mod symbolize;

pub use entry::{Entry, Frame, Stack};
pub use options::{parse, Options, USAGE};

use crate::error::{Error, Result};
use crate::probe::{self, Probes};
use crate::runtime;
use bpf::map::{Map, MapSpec, MapType};
use std::io::Write;
use std::time::Duration;

/// Threads blocked at once, and distinct (thread, stacks) totals, kept.
const MAX_ENTRIES: u32 = 10240;

/// The attached tracer.
#[derive(Debug)]
pub struct Offcputime {
    options: Options,
    stacks: Map,
    counts: Map,
    probes: Option<Probes>,
}

impl Offcputime {
    /// Creates the maps, loads the program and attaches it.
    pub fn start(options: &Options) -> Result<Offcputime> {
        let max_stack = bpf::map::stack_trace_value_size() / 8;
        if options.perf_max_stack_depth > max_stack {
            return Err(Error::Usage {
                tool: "offcputime",
                message: format!(
                    "perf max stack depth {} is above kernel.perf_event_max_stack ({max_stack})",
                    options.perf_max_stack_depth
                ),
                usage: USAGE,
            });
        }
        let mut probes = Probes::new()?;
        let flags_offset = if options.user_threads_only || options.kernel_threads_only {
            Some(
                bpf::btf::Btf::kernel()?
                    .member("task_struct", "flags")?
                    .offset,
            )
        } else {
            None
        };
        let stacks = Map::create(MapSpec::new(
            MapType::StackTrace,
            "offcpu_stacks",
            4,
            options.perf_max_stack_depth * 8,
            options.stack_storage_size,
        ))?;
        let start = probe::map(
            MapType::Hash,
            "offcpu_start",
            4,
            program::START_LEN,
            MAX_ENTRIES,
        )?;
        let counts = probe::map(
            MapType::Hash,
            "offcpu_counts",
            program::KEY_LEN,
            program::VALUE_LEN,
            MAX_ENTRIES,
        )?;
        let fields = program::SwitchFields {
            prev_pid: probes.field("sched", "sched_switch", "prev_pid")?,
            prev_state: probes.field("sched", "sched_switch", "prev_state")?,
            next_pid: probes.field("sched", "sched_switch", "next_pid")?,
        };
        let maps = program::Maps {
            stacks: &stacks,
            start: &start,
            counts: &counts,
        };
        let insns = program::switch_prog(options, &fields, maps, flags_offset);
        probes.attach("sched", "sched_switch", &insns)?;
        Ok(Offcputime {
            options: options.clone(),
            stacks,
            counts,
            probes: Some(probes),
        })
    }

    /// Detaches the program; what it gathered stays readable.
    pub fn stop(&mut self) {
        self.probes = None;
    }

    /// The entries so far, symbolized, smallest total first.
    pub fn collect(&self) -> Result<Vec<Entry>> {
        let mut entries = entry::read(
            &self.counts,
            &self.stacks,
            self.options.perf_max_stack_depth,
        )?;
        symbolize::fill(&mut entries);
        Ok(entries)
    }

    /// `entries` in the layout the options ask for.
    pub fn render(&self, entries: &[Entry]) -> String {
        render::render(&self.options, entries)
    }
}

/// `offcputime ARGS`, printing to `out`.
pub fn main(args: &[String], out: &mut dyn Write) -> Result<i32> {
    let Some(options) = crate::args::options_or_help(parse(args)?, options::HELP, out)? else {
        return Ok(0);
    };
    let mut tracer = Offcputime::start(&options)?;
    runtime::catch_ctrl_c();
    if !options.folded {
        writeln!(out, "{}", render::header(&options))?;
        out.flush()?;
    }
    runtime::sleep(Duration::from_secs(options.duration.unwrap_or(99_999_999)));
    tracer.stop();
    let entries = tracer.collect()?;
    if !options.folded {
        writeln!(out)?;
    }
    write!(out, "{}", tracer.render(&entries))?;
    out.flush()?;
    if let Some(warning) = render::missed_warning(&options, &entries) {
        eprintln!("{warning}");
    }
    Ok(0)
}
