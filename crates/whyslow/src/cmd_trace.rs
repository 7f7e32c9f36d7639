//! `whyslow trace`: a bpftrace-style program (text, `-e`, or a file) run by
//! the `tracer` crate, or `-l` to list probes. Errors about the program are
//! printed in bpftrace's layout (`stdin:1:14-20: ERROR: …`) and exit 1.

use crate::cli::TraceArgs;
use anyhow::{Context, Result};
use std::io::Write;
use std::process::ExitCode;
use tracer::runtime::{RunConfig, RunError};

/// Runs `whyslow trace`.
pub fn run(args: TraceArgs) -> Result<ExitCode> {
    if let Some(list) = &args.list {
        let pattern = if list.is_empty() {
            args.program.clone().unwrap_or_default()
        } else {
            list.clone()
        };
        return list_probes(&pattern);
    }
    let (file, source) = program_source(&args)?;
    let config = RunConfig {
        command: args
            .command
            .as_deref()
            .map(|c| c.split_whitespace().map(str::to_string).collect()),
        pid: args.pid,
    };
    let stop = crate::interrupt::stop_flag()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut notes = |note: &str| eprintln!("whyslow: {note}");
    match tracer::runtime::run(&source, &config, &stop, &mut out, &mut notes) {
        Ok(report) => {
            if std::env::var_os("WHYSLOW_TRACE_TIMING").is_some() {
                eprintln!("whyslow: attaching after {:?}", report.to_attaching);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(RunError::Compile {
            diagnostics,
            detail,
        }) => {
            let _ = out.flush();
            eprint!("{}{detail}", diagnostics.render(&file, &source));
            Ok(ExitCode::FAILURE)
        }
        Err(error) => {
            let _ = out.flush();
            eprintln!("ERROR: {error}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The program text and the name errors call it by (`stdin` for text, as
/// bpftrace does; the path for a file).
/// `whyslow trace TOOL ARGS…` with TOOL a ready-made tool
/// ([`tracetools::TOOLS`]): runs it with its own options (libbpf-tools'
/// ones, which clap would not know) and returns its exit code; `None` for
/// any other command line.
pub fn run_named_tool() -> Option<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, tool) = (args.first()?, args.get(1)?);
    if command != "trace" || !tracetools::TOOLS.iter().any(|(name, _)| name == tool) {
        return None;
    }
    Some(match tracetools::run(tool, &args[2..]) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(error) => {
            eprintln!("whyslow: error: {error}");
            ExitCode::FAILURE
        }
    })
}

fn program_source(args: &TraceArgs) -> Result<(String, String)> {
    if let Some(text) = &args.expression {
        return Ok(("stdin".into(), text.clone()));
    }
    let Some(program) = &args.program else {
        anyhow::bail!("no program given: whyslow trace 'PROGRAM' (or -e PROGRAM, a file, or -l)");
    };
    let path = std::path::Path::new(program);
    if !program.contains('{') && path.is_file() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the program file {}", path.display()))?;
        return Ok((program.clone(), text));
    }
    Ok(("stdin".into(), program.clone()))
}

/// `-l [PATTERN]`: `tracepoint:cat:name` lines, or with `uprobe:/path[:func]`
/// the functions of that binary, like bpftrace -l.
fn list_probes(pattern: &str) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let uprobe = pattern
        .strip_prefix("uprobe:")
        .or_else(|| pattern.strip_prefix("u:"));
    if let Some(rest) = uprobe {
        let (target, func) = rest.split_once(':').unwrap_or((rest, "*"));
        let path = tracer::bpf::elf::resolve_target(target)?;
        for f in tracer::bpf::elf::functions(&path)? {
            if tracer::bpf::tracefs::glob_match(if func.is_empty() { "*" } else { func }, &f.name) {
                writeln!(out, "uprobe:{}:{}", path.display(), f.name)?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let tracefs = tracer::bpf::tracefs::Tracefs::open()?;
    if tracefs.mounted_now() {
        eprintln!(
            "whyslow: tracefs was not mounted; mounted it at {}",
            tracefs.root().display()
        );
    }
    let pattern = match pattern.strip_prefix("t:") {
        Some(rest) => format!("tracepoint:{rest}"),
        None => pattern.to_string(),
    };
    let pattern = if pattern.is_empty() {
        "*".to_string()
    } else {
        pattern
    };
    for tp in tracefs.tracepoints("*:*")? {
        let name = format!("tracepoint:{}:{}", tp.category, tp.name);
        if tracer::bpf::tracefs::glob_match(&pattern, &name) {
            writeln!(out, "{name}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
