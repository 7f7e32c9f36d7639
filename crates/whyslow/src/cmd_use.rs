//! `whyslow use`: the USE method (utilisation, saturation, errors) for every
//! resource of this host in one command. Samples for `--duration`, reading
//! the run queue every 250 ms in between, and prints the table of
//! `host::usecheck` (or its JSON), then the top processes.
//!
//! Exit code: 0 when nothing is saturated, 3 when something is, 1 on errors.

use crate::cli::UseArgs;
use anyhow::{Context, Result};
use host::usecheck::{self, table, UseSample};
use host::{Host, Paths};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// How often the run queue is sampled during the interval.
const RUN_QUEUE_EVERY: Duration = Duration::from_millis(250);

pub const AFTER_HELP: &str = "Examples:\n  whyslow use\n  whyslow use --duration 10s\n  whyslow use --json | jq '.rows[] | select(.resource == \"cpu\")'\n\nExit code: 0 all ok (or warnings), 3 when a resource is saturated, 1 on errors.\nThresholds: see the README section \"whyslow use\".";

pub fn run(args: UseArgs) -> Result<ExitCode> {
    let paths = Paths::default();
    let mut host = Host::new(paths.clone());
    if std::io::stderr().is_terminal() {
        let secs = args.duration.as_secs_f64();
        if secs < 1.0 {
            eprintln!("sampling {:.0} ms…", secs * 1000.0);
        } else {
            eprintln!("sampling {secs:.0} s…");
        }
    }
    let before = UseSample::take(&mut host, &paths);
    let until = before.at + args.duration;
    let mut run_queue = Vec::new();
    loop {
        let now = Instant::now();
        if now >= until {
            break;
        }
        std::thread::sleep(RUN_QUEUE_EVERY.min(until - now));
        if let Some(r) = usecheck::run_queue(&paths) {
            run_queue.push(r);
        }
    }
    let after = UseSample::take(&mut host, &paths);
    let report = usecheck::evaluate(&before, &after, &run_queue);
    let mut stdout = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut stdout, &report).context("writing the JSON report")?;
        writeln!(stdout).context("writing to stdout")?;
    } else {
        let colour = std::io::stdout().is_terminal();
        stdout
            .write_all(table::render(&report, colour).as_bytes())
            .context("writing to stdout")?;
    }
    stdout.flush().context("writing to stdout")?;
    Ok(if report.saturated() {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}
