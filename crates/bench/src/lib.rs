//! Statistical command benchmarking, the engine of `whyslow bench` (peers:
//! hyperfine, criterion).
//!
//! A benchmark is a list of shell commands ([`command`], with parameter scans
//! expanded by [`params`]) timed many times each ([`run`], which spawns them
//! through [`exec`] and reads the child's `wait4` rusage). The times become a
//! [`result::BenchmarkResult`]: summary statistics ([`stats`]), bootstrap
//! confidence intervals ([`bootstrap`]), outliers by modified z-score
//! ([`outliers`]), pairwise comparisons with Welch's t-test ([`compare`]) and a
//! regression gate against a saved run ([`baseline`]). Views are files:
//! terminal text ([`summary`]), JSON/CSV/Markdown/AsciiDoc/Org ([`export`]) and a
//! self-contained HTML page ([`report_html`]). Progress bars and profiling are
//! the binary's job.

pub mod baseline;
pub mod bootstrap;
pub mod command;
pub mod compare;
pub mod error;
pub mod exec;
pub mod export;
pub mod outliers;
pub mod params;
pub mod report_html;
pub mod result;
pub mod run;
pub mod stats;
pub mod summary;
pub mod units;

pub use command::{CommandSpec, Shell};
pub use error::BenchError;
pub use result::{BenchmarkResult, Report};
