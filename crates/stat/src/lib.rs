//! `whyslow stat`: perf stat's counters and layouts, honest where the
//! hardware has nothing to count.
//!
//! Steps of [`run`]: choose the events (perf's default set, or `-e`; plus the
//! top-down level-1 events of [`topdown`] where a hardware PMU exists), open
//! them with `perf_event_open` on the command (held before exec, counting from
//! its exec, inherited by its children), on `-p` processes or on every CPU
//! (`linux/`), wait for the end while printing `-I` intervals, then print
//! perf's block in its text, CSV or JSON layout (`print/`). Without a PMU the
//! hardware rows stay `<not supported>` with one line saying why, followed by
//! what is real: rusage, a wall-time breakdown from schedstat, steal and PSI.
//!
//! Not here: clap flags (the binary turns them into a [`StatConfig`]), and
//! the top-down formulas ([`topdown`]).

pub mod config;
pub mod error;
pub mod event;
#[cfg(target_os = "linux")]
pub mod linux;
pub mod metric;
pub mod print;
pub mod real;
pub mod row;
#[cfg(target_os = "linux")]
mod run;
pub mod stats;
pub mod topdown;
#[cfg(target_os = "linux")]
mod topdown_plan;

pub use config::{OutputFormat, StatConfig, Target};
pub use error::StatError;
pub use event::{parse_event_list, EventSel};
#[cfg(target_os = "linux")]
pub use run::{run, StatOutcome};
