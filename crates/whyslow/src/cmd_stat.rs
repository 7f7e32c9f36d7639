//! `whyslow stat`: counters for a command, running processes or the whole
//! system, printed in perf stat's layouts (text, `-x` CSV, `-j` JSON) to
//! standard error like perf, or to `-o FILE`.
//!
//! Exit code: the command's own (128 + signal when it was killed), 127 when
//! it does not exist, 1 on other errors, 0 for `-p`/`-a` without a command.

use crate::cli::StatArgs;
use anyhow::{bail, Context, Result};
use stat::{OutputFormat, StatConfig, StatError, Target};
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Duration;

/// Exit code for a command that cannot be found (what shells use).
const COMMAND_NOT_FOUND: u8 = 127;

/// Runs `whyslow stat`.
pub fn run(args: StatArgs) -> Result<ExitCode> {
    let config = config_from(&args)?;
    let stop = crate::interrupt::stop_flag()?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::stderr().lock()),
    };
    match stat::run(&config, &stop, &mut out) {
        Ok(outcome) => {
            out.flush().context("cannot write the output")?;
            Ok(ExitCode::from(outcome.exit_code.clamp(0, 255) as u8))
        }
        Err(error @ StatError::CommandNotFound { .. }) => {
            eprintln!("whyslow: error: {error}");
            Ok(ExitCode::from(COMMAND_NOT_FOUND))
        }
        Err(error) => Err(error).context("whyslow stat failed"),
    }
}

/// Turns the flags into the library's configuration.
fn config_from(args: &StatArgs) -> Result<StatConfig> {
    let target = if !args.pids.is_empty() {
        if !args.command.is_empty() {
            bail!("-p counts running processes: drop the command, or drop -p to count the command");
        }
        Target::Pids(args.pids.clone())
    } else if args.all_cpus {
        Target::System {
            command: args.command.clone(),
        }
    } else if args.command.is_empty() {
        bail!("nothing to count: give a command (whyslow stat -- CMD), -p PID or -a");
    } else {
        Target::Command(args.command.clone())
    };
    let events = if args.events.is_empty() {
        None
    } else {
        Some(stat::parse_event_list(&args.events.join(","))?)
    };
    let format = match (&args.field_separator, args.json) {
        (Some(separator), _) => OutputFormat::Csv {
            separator: separator.clone(),
        },
        (None, true) => OutputFormat::Json,
        (None, false) => OutputFormat::Text,
    };
    let config = StatConfig {
        target,
        events,
        repeat: args.repeat,
        interval: args.interval_ms.map(Duration::from_millis),
        duration: args.duration,
        format,
    };
    config.validate()?;
    Ok(config)
}
