//! `record()`: the entry point of a recording, dispatched to the platform's
//! collector (Linux only).

use crate::error::ProfilerError;
use crate::options::{Progress, RecordOptions, Recording};
use std::sync::atomic::AtomicBool;

/// Records a profile. Returns when the target command exits, the duration
/// elapses, or `stop` becomes true (Ctrl-C); what was sampled is always returned.
pub fn record(
    options: &RecordOptions,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
) -> Result<Recording, ProfilerError> {
    #[cfg(target_os = "linux")]
    {
        crate::linux::run::record(options, stop, progress)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (options, stop, progress);
        Err(ProfilerError::Unsupported)
    }
}

/// Profiles every CPU until `stop` becomes true, handing `sink` what was
/// sampled every `every` (and once more when stopping): one profile per
/// interval, symbolized, with `pid`/`tid`/`thread_name` sample labels and no
/// per-process root frames, for a continuous profiler (`whyslow agent`) to
/// split by process and ship. `options.target` is ignored (always every
/// CPU) and so is `options.duration`.
pub fn record_continuous(
    options: &RecordOptions,
    stop: &AtomicBool,
    every: std::time::Duration,
    sink: &mut dyn FnMut(model::Profile, &crate::RecordStats),
) -> Result<crate::RecordStats, ProfilerError> {
    #[cfg(target_os = "linux")]
    {
        crate::linux::run::continuous(options, stop, every, sink)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (options, stop, every, sink);
        Err(ProfilerError::Unsupported)
    }
}
