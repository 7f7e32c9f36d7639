//! `record()`: runs a collection session and feeds its events to the assembler.
//!
//! STUB: replaced by the collection work.

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
    let _ = (options, stop, progress);
    Err(ProfilerError::Unsupported)
}
