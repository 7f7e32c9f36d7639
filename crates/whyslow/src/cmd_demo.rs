//! `whyslow demo`: the first thing a new user runs. Records the built-in
//! workload (this binary re-executed as `__demo-workload`) on- and off-CPU
//! exactly as `whyslow record --off-cpu` would, so the output is a real profile.

use crate::cli::{Cli, Command, DemoArgs};
use anyhow::{Context, Result};
use clap::Parser;

/// Runs `whyslow demo`.
pub fn run(args: DemoArgs) -> Result<()> {
    let exe = std::env::current_exe().context("cannot find the whyslow executable")?;
    let argv = [
        "whyslow".to_string(),
        "record".into(),
        "--off-cpu".into(),
        "-o".into(),
        args.output.display().to_string(),
        "--title".into(),
        "whyslow demo: 70 % hot_a, 30 % hot_b, then blocked in sleep and read".into(),
        "--".into(),
        exe.display().to_string(),
        "__demo-workload".into(),
        args.cpu_seconds.to_string(),
        args.blocked_seconds.to_string(),
    ];
    let Command::Record(record) = Cli::try_parse_from(argv)?.command else {
        unreachable!("the argv above is a record command")
    };
    crate::cmd_record::run(record)?;
    eprintln!(
        "whyslow: open {} in a browser: click a frame to zoom, type hot_a in the search box, \
         switch the view to cpu or off-cpu",
        args.output.display()
    );
    Ok(())
}
