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
