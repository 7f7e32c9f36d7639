//! `whyslow slo rules FILE`: prints the Prometheus rule file an SLO file
//! generates (error ratios per window, error budget, multi-window
//! multi-burn-rate alerts), for `serve --rules` or for a Prometheus.

use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Arguments of `whyslow slo`.
#[derive(Debug, Args)]
pub struct SloArgs {
    #[command(subcommand)]
    pub command: SloCommand,
}

/// What to do with an SLO file.
#[derive(Debug, Subcommand)]
pub enum SloCommand {
    /// Print the rule file (recording rules and burn-rate alerts) for an SLO file.
    Rules {
        /// The SLO file (YAML: `slos:` with name, service or sli, objective, window).
        file: PathBuf,
    },
}

/// Examples shown under `whyslow slo --help`.
pub const AFTER_HELP: &str = "Examples:\n  whyslow slo rules slo.yml > slo-rules.yml\n  promtool check rules slo-rules.yml\n\nAn SLO file:\n  slos:\n    - name: checkout-availability\n      service: checkout          # SLI from the RED metrics of its spans\n      objective: 99.9            # percent; window: 30d by default\n    - name: checkout-latency\n      service: checkout\n      latency: 400ms             # good = faster (a span-duration bucket bound)\n      objective: 99\n    - name: api\n      objective: 99.5\n      sli:\n        errors: sum(rate(http_requests_total{code=~\"5..\"}[{{.window}}]))\n        total: sum(rate(http_requests_total[{{.window}}]))";

/// Runs `whyslow slo`.
pub fn run(args: SloArgs) -> Result<()> {
    match args.command {
        SloCommand::Rules { file } => {
            let slos = slo::load(&file, &ingest::spanmetrics::histogram::DURATION_BUCKETS_MS)?;
            print!("{}", slo::rule_file(&slos, &file.display().to_string()));
            Ok(())
        }
    }
}
