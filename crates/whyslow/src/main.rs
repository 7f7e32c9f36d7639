//! The `whyslow` binary: parses the command line and hands each command to its
//! `cmd_*` module. It wires library crates together and holds no logic of its own
//! beyond turning their results into files, tables and exit codes.

mod cli;
mod cmd_demo;
mod cmd_diff;
mod cmd_record;
mod cmd_report;
mod cmd_serve;
mod output;

use clap::Parser;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Record(args) => cmd_record::run(args),
        cli::Command::Report(args) => cmd_report::run(args),
        cli::Command::Diff(args) => cmd_diff::run(args),
        cli::Command::Demo(args) => cmd_demo::run(args),
        cli::Command::Serve(args) => cmd_serve::run(args),
        cli::Command::DemoWorkload { args } => {
            workload::main(&args).map_err(|e| anyhow::anyhow!("demo workload failed: {e}"))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("whyslow: error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
