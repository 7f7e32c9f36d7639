//! Ctrl-C (SIGINT) and SIGTERM for long commands: the first sets a stop flag
//! the command polls so it can finish and still write its results; a second
//! while stopping exits at once with 130.

use anyhow::{Context, Result};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Installs the handlers; returns the flag they set.
pub fn stop_flag() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second Ctrl-C while stopping exits at once (the flag is already set).
        signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop))
            .context("cannot install the Ctrl-C handler")?;
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("cannot install the Ctrl-C handler")?;
    }
    Ok(stop)
}
