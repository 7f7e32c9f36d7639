//! Running a program: the steps after the front end.
//!
//! 1. open tracefs (mounting it when missing) and check the program
//!    against the real tracepoint formats;
//! 2. create the maps, one STACK_TRACE map per stack frame limit the
//!    program uses, and the ring buffer;
//! 3. expand attach points, generate and load one program per target
//!    (a verifier rejection points at the probe, with the log's tail);
//! 4. print `Attaching N probes...`, attach, run BEGIN, start `-c CMD`;
//! 5. handle ring-buffer records (printf, print, clear, exit) until
//!    Ctrl-C, `exit()`, or the command / `-p` process ends;
//! 6. detach, run END, print every map as bpftrace does (stacks, `func`
//!    and `probe` named by `runtime/resolve.rs`).
//!
//! Not here: the language (front end), instructions (`codegen`), output
//! layout (`format`), flags (the `whyslow` binary).

mod maps;
mod prepare;
mod resolve;
mod targets;
mod user;

use crate::codegen::PrintfSite;
use crate::diag::{Diagnostic, Diagnostics};
use crate::format::{attaching_line, format_exit};
use bpf::attach::{self, Attachment, UprobeTarget};
use bpf::ringbuf::RingBuf;
use prepare::Prepared;
use resolve::Resolver;
use std::io::Write;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use targets::Target;

/// Ring buffer bytes (a power of two, a multiple of the page size).
const RINGBUF_BYTES: u32 = 1 << 20;

/// How a run is set up.
#[derive(Clone, Debug, Default)]
pub struct RunConfig {
    /// `-c CMD`: started once probes are attached; the run ends when it exits.
    pub command: Option<Vec<String>>,
    /// `-p PID`: uprobes only in this process; the run ends when it exits.
    pub pid: Option<i32>,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Errors about the program text (render with [`Diagnostics::render`]),
    /// then `detail` (e.g. the verifier log's tail).
    #[error("{diagnostics}{detail}")]
    Compile {
        diagnostics: Diagnostics,
        detail: String,
    },
    /// The kernel refused something (permissions are explained).
    #[error(transparent)]
    Kernel(#[from] bpf::Error),
    /// `-c CMD` could not be started.
    #[error("cannot run `{command}`: {source}")]
    Command {
        command: String,
        #[source]
        source: std::io::Error,
    },
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Output(std::io::Error),
}

impl RunError {
    fn compile(diagnostic: Diagnostic) -> RunError {
        RunError::Compile {
            diagnostics: Diagnostics(vec![diagnostic]),
            detail: String::new(),
        }
    }
}

/// What happened, for the caller's messages.
#[derive(Debug, Default)]
pub struct RunReport {
    /// tracefs was not mounted and this run mounted it (at this path).
    pub mounted_tracefs: Option<std::path::PathBuf>,
    /// Time from start to the `Attaching` line.
    pub to_attaching: Duration,
}

/// Compiles `source` and loads every program it makes (maps created, each
/// program through the kernel's verifier) without attaching or running
/// anything; returns how many programs were loaded. What a test uses to
/// check that every construct makes verifiable code.
pub fn load_only(source: &str) -> Result<usize, RunError> {
    Ok(prepare::prepare(source, &mut |_| {})?.loaded.len())
}

/// Compiles, loads, attaches and runs `source` until it ends; writes what
/// bpftrace would print to `out`. `notes` receives one-line notices for
/// standard error (e.g. tracefs mounted).
pub fn run(
    source: &str,
    config: &RunConfig,
    stop: &AtomicBool,
    out: &mut dyn Write,
    notes: &mut dyn FnMut(&str),
) -> Result<RunReport, RunError> {
    let started = std::time::Instant::now();
    let Prepared {
        begin,
        end,
        live,
        stack_maps,
        ring_map,
        printfs,
        loaded,
        probe_count,
        probe_names,
        mounted_tracefs,
    } = prepare::prepare(source, notes)?;
    let mut report = RunReport {
        mounted_tracefs,
        ..RunReport::default()
    };
    let mut ring = RingBuf::new(&ring_map)?;

    out.write_all(attaching_line(probe_count).as_bytes())
        .and_then(|()| out.flush())
        .map_err(RunError::Output)?;
    report.to_attaching = started.elapsed();
    let mut attachments: Vec<Attachment> = Vec::with_capacity(loaded.len());
    for (prog, target) in &loaded {
        attachments.push(match target {
            Target::Tracepoint { id, .. } => attach::tracepoint(prog, *id)?,
            Target::Uprobe {
                path,
                file_offset,
                ret,
                ..
            } => attach::uprobe(
                prog,
                &UprobeTarget {
                    path: path.clone(),
                    file_offset: *file_offset,
                    retprobe: *ret,
                    pid: config.pid,
                },
            )?,
            Target::Profile { frequency_hz, .. } => attach::profile(prog, *frequency_hz)?,
            Target::Interval { period_ns, .. } => attach::interval(prog, *period_ns, 0)?,
        });
    }

    let mut resolver = Resolver::new(&stack_maps, &probe_names);
    let mut exit = user::run(&begin, &live, out)?;
    let mut child = match (&config.command, exit) {
        (Some(command), false) => Some(spawn(command)?),
        _ => None,
    };
    while !exit && !stop.load(Ordering::Relaxed) {
        // A command or -p process is checked for exit between polls.
        let wait_ms = if child.is_some() || config.pid.is_some() {
            20
        } else {
            100
        };
        ring.poll(Duration::from_millis(wait_ms))?;
        exit = drain(&mut ring, &printfs, &live, &mut resolver, out)?;
        if let Some(c) = child.as_mut() {
            if c.try_wait().map(|s| s.is_some()).unwrap_or(true) {
                break;
            }
        }
        if let Some(pid) = config.pid {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                break;
            }
        }
    }
    drop(attachments);
    drain(&mut ring, &printfs, &live, &mut resolver, out)?;
    if let Some(mut c) = child {
        // A command still running (Ctrl-C, exit()) is left to finish on its own, as bpftrace does.
        let _ = c.try_wait();
    }
    user::run(&end, &live, out)?;
    let snapshots = live
        .iter()
        .map(|m| maps::snapshot(m, &mut resolver))
        .collect::<bpf::Result<Vec<_>>>()?;
    out.write_all(format_exit(&snapshots).as_bytes())
        .and_then(|()| out.flush())
        .map_err(RunError::Output)?;
    Ok(report)
}

/// The index of probe name `name`, added when new.
fn probe_id(names: &mut Vec<String>, name: &str) -> u32 {
    let at = match names.iter().position(|n| n == name) {
        Some(at) => at,
        None => {
            names.push(name.to_string());
            names.len() - 1
        }
    };
    u32::try_from(at).unwrap_or(u32::MAX)
}

fn drain(
    ring: &mut RingBuf,
    printfs: &[PrintfSite],
    live: &[maps::LiveMap],
    resolver: &mut Resolver<'_>,
    out: &mut dyn Write,
) -> Result<bool, RunError> {
    let mut exit = false;
    let mut failure = None;
    ring.consume(|record| {
        if exit || failure.is_some() {
            return;
        }
        match user::handle_record(record, printfs, live, resolver, out) {
            Ok(e) => exit = e,
            Err(e) => failure = Some(e),
        }
    })?;
    out.flush().map_err(RunError::Output)?;
    match failure {
        Some(e) => Err(e),
        None => Ok(exit),
    }
}

fn spawn(command: &[String]) -> Result<Child, RunError> {
    let (program, args) = command.split_first().ok_or_else(|| RunError::Command {
        command: String::new(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty command"),
    })?;
    Command::new(program)
        .args(args)
        .spawn()
        .map_err(|source| RunError::Command {
            command: command.join(" "),
            source,
        })
}
