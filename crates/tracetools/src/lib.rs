//! Ready-made tools for `whyslow trace TOOL`, each a hand-built BPF
//! program on tracepoints (no kprobes on the kernels we run on) with the
//! options and output layout of its libbpf-tools namesake.
//!
//! Steps of every tool: parse its options into a plain struct (`parse`),
//! mount tracefs and read the record offsets it needs, build its programs
//! with [`asm::Asm`] against maps it creates, attach them (`start`), then
//! read maps or the ring buffer and print like libbpf-tools (`main`).
//!
//! ```no_run
//! let code = tracetools::run("runqlat", &["1".to_string(), "5".to_string()])?;
//! # Ok::<(), tracetools::Error>(())
//! ```

pub mod args;
pub mod asm;
pub mod biolatency;
pub mod error;
pub mod execsnoop;
pub mod hist;
pub mod offcputime;
pub mod opensnoop;
pub mod probe;
pub mod runqlat;
pub mod runtime;
pub mod syscalls;
pub mod syscount;
pub mod tcplife;

pub use error::{Error, Result};

use std::io::Write;

/// The tools: name and one-line description.
pub const TOOLS: &[(&str, &str)] = &[
    (
        "runqlat",
        "Summarize run queue (scheduler) latency as a histogram",
    ),
    ("syscount", "Summarize syscall counts and latencies"),
    ("execsnoop", "Trace exec syscalls"),
    ("opensnoop", "Trace open family syscalls"),
    (
        "biolatency",
        "Summarize block device I/O latency as a histogram",
    ),
    ("offcputime", "Summarize off-CPU time by stack trace"),
    (
        "tcplife",
        "Trace the lifespan of TCP sessions and summarize",
    ),
];

/// Runs `tool` with its own arguments, printing to stdout; the exit code.
pub fn run(tool: &str, args: &[String]) -> Result<i32> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let code = run_to(tool, args, &mut out)?;
    out.flush()?;
    Ok(code)
}

/// [`run`] printing to `out`.
pub fn run_to(tool: &str, args: &[String], out: &mut dyn Write) -> Result<i32> {
    match tool {
        "runqlat" => runqlat::main(args, out),
        "syscount" => syscount::main(args, out),
        "execsnoop" => execsnoop::main(args, out),
        "opensnoop" => opensnoop::main(args, out),
        "biolatency" => biolatency::main(args, out),
        "offcputime" => offcputime::main(args, out),
        "tcplife" => tcplife::main(args, out),
        _ => Err(Error::UnknownTool(
            tool.to_string(),
            TOOLS.iter().map(|t| t.0).collect::<Vec<_>>().join(", "),
        )),
    }
}
