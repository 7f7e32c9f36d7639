//! Service level objectives as Prometheus rules: a small SLO file (one entry
//! per objective, the SLI from the RED metrics `serve` derives from spans or
//! any PromQL ratio) becomes recording rules for the error ratio over each
//! window, error-budget series, and multi-window multi-burn-rate alerts as
//! the Google SRE Workbook ("Alerting on SLOs") sets them: page at 14.4×
//! over 1 h and 5 m or 6× over 6 h and 30 m, ticket at 3× over 1 d and 2 h or
//! 1× over 3 d and 6 h (for a 30 d window; other windows keep the budget
//! shares, so the factors scale).
//!
//! The output is an ordinary Prometheus rule file ([`rule_file`]): `serve`
//! evaluates it like any `--rules` file, and users of Prometheus can load it
//! unchanged (`whyslow slo rules FILE > slo-rules.yml`), as with Sloth or
//! Pyrra. Written here because those are Go programs, not libraries.

mod generate;
mod spec;

pub use generate::{rule_file, BurnWindow, BURN_WINDOWS, SLI_WINDOWS};
pub use spec::{load, parse, Sli, Slo};

/// A refused SLO file: where and why.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {why}")]
pub struct SloError {
    /// The file (or source name) refused.
    pub path: String,
    /// What is wrong, with line and column where known.
    pub why: String,
}
